#!/usr/bin/env python3
"""Writes the committed .upf fixtures in tests/golden/ with an implementation of
the format that shares no code with model/: Python stdlib only (struct, zlib).
tests/test_modelfile.c builds the same models with the C writer and requires
identical bytes (v1_ranker_tiny.upf, v1_aft_tiny.upf), and opens every
fixture and checks its values. Fixtures of released format versions are kept
forever: regenerate only to add new ones (`make golden`), never to change old
ones.

Usage: python3 tests/golden/make_upf_golden.py OUTDIR
"""
import math
import struct
import sys
import zlib

ALIGN = 64
MAGIC = b"\x89UPF\r\n\x1a\n"
KIND = {"ranker": 1, "lifetime_aft": 2, "lifetime_bgnbd": 3, "uplift": 4, "cooccur": 5}
DT_F32, DT_F16, DT_I8S, DT_I32, DT_I64, DT_U8 = 1, 2, 3, 4, 5, 6
U64, I64, F64, STR, BOOL, F64_ARRAY, STR_ARRAY = 1, 2, 3, 4, 5, 6, 7


def pad(n, a):
    return (n + a - 1) // a * a


def f32(x):
    """Round a Python float to the nearest float32 (ties to even)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def roundf(v):
    """C roundf: half away from zero (v is a float32 value, exact in double)."""
    return math.copysign(math.floor(abs(v) + 0.5), v)


def quant_i8s_row(xs):
    """One row as one block: scale = max|x| / 127 in float32, q = roundf(x / scale)."""
    xs = [f32(x) for x in xs]
    amax = max(abs(x) for x in xs) if xs else 0.0
    s = f32(amax / 127.0)  # float32 division: double then rounding is exact here
    q = []
    for x in xs:
        v = 0.0 if s == 0.0 else roundf(f32(x / s))
        q.append(int(max(-127.0, min(127.0, v))))
    return q, s


def meta_value(vtype, v):
    if vtype == U64:
        return struct.pack("<Q", v)
    if vtype == I64:
        return struct.pack("<q", v)
    if vtype == F64:
        return struct.pack("<d", v)
    if vtype == STR:
        return v.encode("utf-8")
    if vtype == BOOL:
        return bytes([1 if v else 0])
    if vtype == F64_ARRAY:
        return b"".join(struct.pack("<d", x) for x in v)
    if vtype == STR_ARRAY:
        return struct.pack("<Q", len(v)) + b"".join(s.encode("utf-8") + b"\0" for s in v)
    raise ValueError(vtype)


def encode_meta(meta):
    out = bytearray()
    for key in sorted(meta, key=lambda k: k.encode()):
        vtype, v = meta[key][:2]
        flags = meta[key][2] if len(meta[key]) > 2 else 0
        k = key.encode()
        val = meta_value(vtype, v)
        out += struct.pack("<HBBI", len(k), vtype, flags, len(val))
        out += k + b"\0" * (pad(len(k), 8) - len(k))
        out += val + b"\0" * (pad(len(val), 8) - len(val))
    return bytes(out)


def encode_tensor(dtype, dims, values):
    """Returns (data bytes, scale bytes or None, q_block)."""
    if dtype == DT_F32:
        return b"".join(struct.pack("<f", v) for v in values), None, 0
    if dtype == DT_F16:
        return b"".join(struct.pack("<e", v) for v in values), None, 0
    if dtype == DT_I32:
        return b"".join(struct.pack("<i", v) for v in values), None, 0
    if dtype == DT_I64:
        return b"".join(struct.pack("<q", v) for v in values), None, 0
    if dtype == DT_U8:
        return bytes(values), None, 0
    if dtype == DT_I8S:
        inner = dims[-1]
        data, scales = bytearray(), bytearray()
        for r in range(len(values) // inner):
            q, s = quant_i8s_row(values[r * inner:(r + 1) * inner])
            data += struct.pack("<%db" % inner, *q)
            scales += struct.pack("<f", s)
        return bytes(data), bytes(scales), inner
    raise ValueError(dtype)


def write_upf(path, kind, meta, tensors):
    """tensors: list of (name, dtype, dims, flat values), in file order."""
    strings = bytearray()
    index = bytearray()
    data = bytearray()
    for name, dtype, dims, values in tensors:
        name_off = len(strings)
        strings += name.encode() + b"\0"
        blob, scales, qb = encode_tensor(dtype, dims, values)
        data += b"\0" * (pad(len(data), ALIGN) - len(data))
        d_off = len(data)
        data += blob
        s_off = 0
        if scales is not None:
            data += b"\0" * (pad(len(data), ALIGN) - len(data))
            s_off = len(data)
            data += scales
        d = list(dims) + [0] * (4 - len(dims))
        index += struct.pack("<QQQ4QIBBH", d_off, len(blob), s_off, *d, name_off, dtype, len(dims), qb)
    meta_b = encode_meta(meta)
    meta_off = 64 + 4 * 64
    index_off = pad(meta_off + len(meta_b), ALIGN)
    strings_off = pad(index_off + len(index), ALIGN)
    data_off = pad(strings_off + len(strings), ALIGN)
    file_size = data_off + len(data)

    def entry(stype, off, payload, count, name):
        return struct.pack("<IIQQII16s16s", stype, 1, off, len(payload), zlib.crc32(payload), count,
                           name.encode(), b"")

    table = (entry(1, meta_off, meta_b, len(meta), "meta") + entry(2, index_off, index, len(tensors), "tensor_index")
             + entry(4, strings_off, strings, len(tensors), "strings")
             + entry(3, data_off, data, len(tensors), "tensor_data"))
    head = MAGIC + struct.pack("<IHHIIIIQQII", 0x01020304, 1, 0, KIND[kind], 0, 64, ALIGN, file_size, 64, 4, 64)
    head += struct.pack("<I", zlib.crc32(table))
    head += struct.pack("<I", zlib.crc32(head))
    out = bytearray(head + table)
    for off, blob in ((meta_off, meta_b), (index_off, index), (strings_off, strings), (data_off, data)):
        out += b"\0" * (off - len(out))
        out += blob
    assert len(out) == file_size
    with open(path, "wb") as f:
        f.write(out)


# ---- the fixtures (tests/test_modelfile.c mirrors these exactly) ----

def ranker_tiny():
    meta = {
        "ranker.dim": (U64, 4),
        "items.ids": (STR_ARRAY, ["a", "b", "\u00e9t\u00e9"]),
        "users.ids": (STR_ARRAY, ["u0", "u1"]),
        "model.family": (STR, "ranker"),
        "train.seed": (U64, 42),
        "data.time_min": (I64, -5),
        "eval.ndcg_at_10": (F64, 0.25),
        "test.flag": (BOOL, True),
        "test.array": (F64_ARRAY, [1.5, -2.0, 1e300]),
        "test.empty": (STR_ARRAY, []),
    }
    tensors = [
        ("item_bias", DT_F32, (3,), [0.5, -1.25, 0.0]),
        ("item_factors", DT_I8S, (3, 4), [1.0, -0.5, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 2.0, -1.0, 0.3]),
        ("user_factors", DT_F16, (2, 4), [0.5, 1.0, -2.0, 0.1, 1.0, 0.0, 0.0, -1.0]),
        ("item_flags", DT_U8, (3,), [1, 0, 1]),
        ("test_i32", DT_I32, (2,), [-7, 2147483647]),
        ("test_i64", DT_I64, (1, 2), [-9007199254740993, 3]),
    ]
    return "ranker", meta, tensors


def aft_tiny():
    meta = {
        "aft.distribution": (STR, "weibull"),
        "aft.beta": (F64_ARRAY, [0.5, -0.25, 3.0]),
        "aft.log_sigma": (F64, -0.5),
        "aft.horizon_days": (F64, 30.0),
        "aft.target": (STR, "user"),
        "features.names": (STR_ARRAY, ["recency", "frequency"]),
        "features.center": (F64_ARRAY, [10.0, 2.0]),
        "features.scale": (F64_ARRAY, [5.0, 1.5]),
        "model.family": (STR, "aft"),
    }
    return "lifetime_aft", meta, []


def bgnbd_tiny():
    meta = {
        "bgnbd.r": (F64, 0.243), "bgnbd.alpha": (F64, 4.414), "bgnbd.a": (F64, 0.793), "bgnbd.b": (F64, 2.426),
        "gamma_gamma.p": (F64, 6.25), "gamma_gamma.q": (F64, 3.74), "gamma_gamma.gamma": (F64, 15.44),
        "model.family": (STR, "bgnbd"),
    }
    return "lifetime_bgnbd", meta, []


def uplift_tiny():
    meta = {
        "uplift.method": (STR, "two_model"),
        "uplift.arms": (STR_ARRAY, ["control", "email"]),
        "uplift.outcome": (STR, "visit"),
        "features.names": (STR_ARRAY, ["spend"]),
        "features.center": (F64_ARRAY, [100.0]),
        "features.scale": (F64_ARRAY, [50.0]),
    }
    tensors = [("uplift_weights", DT_F32, (2, 2), [0.5, -2.0, 0.75, -1.5])]
    return "uplift", meta, tensors


def cooccur_tiny():
    meta = {"items.ids": (STR_ARRAY, ["p", "q", "r", "s"])}
    tensors = [
        ("neighbor_ptr", DT_I64, (5,), [0, 2, 3, 3, 5]),
        ("neighbor_idx", DT_I32, (5,), [1, 2, 0, 0, 2]),
        ("neighbor_sim", DT_F32, (5,), [0.5, 0.25, 0.5, 1.0, 0.125]),
    ]
    return "cooccur", meta, tensors


if __name__ == "__main__":
    outdir = sys.argv[1] if len(sys.argv) > 1 else "tests/golden"
    for name, fn in (("v1_ranker_tiny", ranker_tiny), ("v1_aft_tiny", aft_tiny), ("v1_bgnbd_tiny", bgnbd_tiny),
                     ("v1_uplift_tiny", uplift_tiny), ("v1_cooccur_tiny", cooccur_tiny)):
        kind, meta, tensors = fn()
        write_upf("%s/%s.upf" % (outdir, name), kind, meta, tensors)
        print("wrote %s/%s.upf" % (outdir, name))
