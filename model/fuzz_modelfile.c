/* fuzz_modelfile.c - libFuzzer target for the .upf reader and the runtime
 * behind it (`make fuzz FUZZ_SECONDS=60`, clang with ASan and UBSan).
 *
 * The first input byte picks a mode: odd -> the rest is opened as is; even ->
 * the CRCs of the rest are recomputed first, so mutations also reach the
 * checks behind the checksums (metadata, tensors, kind rules, scoring). A file
 * that opens is then exercised: every tensor decoded, every metadata entry
 * read, and the kind's scoring functions called.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "internal.h"
#include "upfserve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reseal(uint8_t *b, size_t n)
{
    if (n < 64) return;
    uint64_t so = upf_rd_u64le(b + 40);
    uint32_t cnt = upf_rd_u32le(b + 48), esz = upf_rd_u32le(b + 52);
    if (esz >= 64 && esz <= 4096 && cnt <= 4096 && so <= n && (uint64_t)cnt * esz <= n - so) {
        for (uint32_t i = 0; i < cnt; i++) {
            uint8_t *e = b + so + (uint64_t)i * esz;
            uint64_t off = upf_rd_u64le(e + 8), sz = upf_rd_u64le(e + 16);
            if (off <= n && sz <= n - off) upf_wr_u32le(e + 24, upf_crc32(0, b + off, (size_t)sz));
        }
        upf_wr_u32le(b + 56, upf_crc32(0, b + so, (size_t)cnt * esz));
    }
    upf_wr_u32le(b + 60, upf_crc32(0, b, 60));
}

static void exercise(const upf_model *m)
{
    double buf[256];
    for (size_t i = 0; i < upf_model_n_tensors(m); i++) {
        upf_tensor_view v;
        upf_model_tensor_at(m, i, &v);
        for (uint64_t k = 0; k < v.n_elems && k < 4096; k += 256)
            upf_tensor_read_f64(&v, k, v.n_elems - k < 256 ? (size_t)(v.n_elems - k) : 256, buf);
    }
    for (size_t i = 0; i < upf_model_n_meta(m); i++) {
        upf_meta_raw r;
        upf_model_meta_raw_at(m, i, &r);
        char key[300];
        memcpy(key, r.key, r.key_len);
        key[r.key_len] = '\0';
        upf_meta_type t;
        size_t n;
        upf_model_meta_count(m, key, &t, &n);
        const char *s;
        size_t len;
        for (size_t k = 0; t == UPF_META_STR_ARRAY && k < n && k < 64; k++) upf_model_meta_str_at(m, key, k, &s, &len);
    }
    upf_serve_shape sh;
    upf_serve_shape_get(m, &sh);
    upf_err err;
    upf_scratch *s = NULL;
    if ((upf_model_kind(m) == UPF_KIND_RANKER || upf_model_kind(m) == UPF_KIND_COOCCUR) &&
        upf_scratch_create(m, &s, &err) == UPF_OK) {
        upf_hit hits[5];
        size_t nh;
        int32_t recent[2] = { 0, sh.n_items - 1 }, ex = 1;
        upf_user_query q = upf_user_query_default();
        upf_filter f = { &ex, 1, sh.has_item_flags ? UPF_ITEM_IN_STOCK : 0 };
        q.recent = recent;
        q.n_recent = sh.n_items > 0 ? 2 : 0;
        if (upf_model_kind(m) == UPF_KIND_RANKER && sh.n_users > 0) q.user = sh.n_users - 1;
        upf_serve_topk(m, &q, &f, 5, s, hits, &nh, &err);
        float sc[2];
        upf_serve_score_items(m, &q, recent, q.n_recent, s, sc, &err);
        upf_scratch_free(s);
    }
    if (sh.n_features <= 8) {
        double x[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, p[16], u[16], qs[2], probs[2] = { 0.1, 0.9 };
        upf_aft_query aq = { x, sh.n_features, 0, 3, probs, 2 };
        upf_aft_result ar;
        upf_serve_aft(m, &aq, &ar, qs, &err);
        if (sh.n_arms <= 16) upf_serve_uplift(m, x, sh.n_features, p, u, &err);
    }
    upf_bgnbd_result br;
    upf_serve_bgnbd(m, 3, 10, 20, 30, 12.5, &br, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t n = size - 1;
    uint8_t *b = malloc(n ? n : 1);
    if (!b) return 0;
    memcpy(b, data + 1, n);
    if (!(data[0] & 1)) reseal(b, n);
    upf_model *m = NULL;
    upf_err err;
    if (upf_model_open_buffer(b, n, UPF_OPEN_ANY_KIND, &m, &err) == UPF_OK) {
        exercise(m);
        upf_model_close(m);
    } else if (m != NULL || err.msg[0] == '\0') {
        abort(); /* the contract: NULL model and a message on failure */
    }
    free(b);
    return 0;
}
