/* cli_export.c - `upfunnel export RUN_DIR|MODEL.upf -o OUT.upf [--dtype ...]`:
 * re-encodes a model's float tensors as float32, float16 or int8 (I8S, one
 * scale per row) where its kind allows it (kinds.c: item_bias, uplift weights
 * and co-occurrence similarities stay float32), keeps every metadata entry,
 * and adds export.dtype and the source file's CRC-32 and size. The output is
 * written atomically and re-opened (fully validated) before success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../train/cli.h"
#include "../train/commands.h"
#include "crc32.h"
#include "internal.h"
#include "upfserve.h"

static const char export_help[] =
    "usage: upfunnel export RUN_DIR|MODEL.upf -o OUT.upf [--dtype f32|f16|int8]\n"
    "\n"
    "Writes a serving copy of a model. The runner saves every run's model as\n"
    "RUN_DIR/model.upf in float32; export re-encodes its float tensors to the\n"
    "requested dtype:\n"
    "  f32   4 bytes per value, scores bit for bit as in training\n"
    "  f16   IEEE half precision (round to nearest even), 2 bytes per value\n"
    "  int8  8-bit integers with one float32 scale per row (I8S): 1 byte per\n"
    "        value + 4 per row; a ranker item costs dim + 8 bytes with its bias\n"
    "Only tensors the model kind allows in that dtype are re-encoded (factor\n"
    "matrices); biases, similarities and uplift weights stay float32. All\n"
    "metadata is kept, and export.dtype, export.source_crc32 and\n"
    "export.source_size are added (replacing those of an earlier export).\n"
    "The source is validated completely first; the output is written to a\n"
    "temporary name, renamed into place and validated again.\n"
    "\n"
    "options:\n"
    "  -o, --out FILE   the output file (required)\n"
    "  --dtype TYPE     f32, f16 or int8 (default: f32)\n"
    "  -h, --help       this text\n"
    "\n"
    "examples:\n"
    "  upfunnel export runs/ml100k -o ml100k_int8.upf --dtype int8\n"
    "  upfunnel export model.upf -o model_f16.upf --dtype f16\n"
    "\n"
    "exit status: 0 written; 1 the source is invalid or writing failed;\n"
    "2 usage error.\n";

/* CRC-32 and size of a whole file. */
static upf_status file_crc(const char *path, uint32_t *crc, uint64_t *size, upf_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return upf_err_sys(err, UPF_ERR_IO, "%s: cannot open", path);
    unsigned char buf[1 << 16];
    size_t n;
    *crc = 0;
    *size = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        *crc = upf_crc32(*crc, buf, n);
        *size += n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) return upf_err_sys(err, UPF_ERR_IO, "%s: read failed", path);
    return UPF_OK;
}

static int is_export_key(const char *k, size_t n)
{
    return n > 7 && memcmp(k, "export.", 7) == 0;
}

typedef struct conv {
    float *buf;            /* decoded tensor (owned) */
} conv;

static upf_status export_model(const char *src, const char *out, upf_dtype dtype, const char *dtype_name,
                               upf_err *err)
{
    upf_status st;
    upf_model *m = NULL, *check = NULL;
    upf_mw *w = NULL;
    float **decoded = NULL;
    size_t nt = 0;
    uint32_t crc;
    uint64_t size;
    if ((st = upf_model_open(src, UPF_OPEN_ANY_KIND, &m, err))) goto done;
    if ((st = file_crc(src, &crc, &size, err))) goto done;
    uint32_t kind = upf_model_kind(m);
    if ((st = upf_mw_create(&w, kind, err))) goto done;
    for (size_t i = 0; i < upf_model_n_meta(m); i++) {
        upf_meta_raw r;
        upf_model_meta_raw_at(m, i, &r);
        if (is_export_key(r.key, r.key_len)) continue;
        char key[300];
        snprintf(key, sizeof key, "%.*s", (int)r.key_len, r.key);
        upf_mw_meta_raw(w, key, r.vtype, r.flags, r.val, r.val_len);
    }
    upf_mw_meta_str(w, UPF_M_EXPORT_DTYPE, dtype_name);
    upf_mw_meta_u64(w, UPF_M_EXPORT_SOURCE_CRC, crc);
    upf_mw_meta_u64(w, UPF_M_EXPORT_SOURCE_SIZE, size);
    nt = upf_model_n_tensors(m);
    if (!(decoded = calloc(nt + 1, sizeof *decoded))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "export: out of memory");
        goto done;
    }
    for (size_t i = 0; i < nt; i++) {
        upf_tensor_view v;
        upf_model_tensor_at(m, i, &v);
        int is_float = v.dtype == UPF_DTYPE_F32 || v.dtype == UPF_DTYPE_F16 || v.dtype == UPF_DTYPE_I8S;
        if (is_float && v.dtype != (uint32_t)dtype && upf_kind_tensor_allows(kind, v.name, dtype)) {
            size_t n = (size_t)v.n_elems;
            if (!(decoded[i] = malloc((n ? n : 1) * sizeof(float)))) {
                st = upf_err_set(err, UPF_ERR_NOMEM, "export: out of memory for tensor '%s'", v.name);
                goto done;
            }
            upf_tensor_read_f32(&v, 0, n, decoded[i]);
            upf_mw_tensor_f32(w, v.name, decoded[i], v.ndim, v.dims, dtype);
            upf_log(UPF_LOG_INFO, "export: %s %s -> %s", v.name, upf_dtype_name(v.dtype), upf_dtype_name(dtype));
        } else {
            upf_mw_tensor_raw(w, v.name, (upf_dtype)v.dtype, v.ndim, v.dims, v.data, v.scales, v.q_block);
        }
    }
    if ((st = upf_mw_write(w, out, err))) goto done;
    if ((st = upf_model_open(out, UPF_OPEN_ANY_KIND, &check, err))) {
        upf_err_prefix(err, "export: the written file does not validate");
        goto done;
    }
    upf_file_info fi;
    upf_model_file_info(check, &fi);
    upf_serve_shape sh;
    upf_serve_shape_get(check, &sh);
    printf("wrote %s: %s model, %s, %llu bytes (source %llu bytes, crc32 %08x)", out, upf_kind_name(kind), dtype_name,
           (unsigned long long)fi.file_size, (unsigned long long)size, crc);
    if (kind == UPF_KIND_RANKER && sh.n_items > 0)
        printf(", %.1f bytes per item (dim %zu)", (double)fi.file_size / sh.n_items, sh.dim);
    putchar('\n');
done:
    if (decoded)
        for (size_t i = 0; i < nt; i++) free(decoded[i]);
    free(decoded);
    upf_mw_free(w);
    upf_model_close(check);
    upf_model_close(m);
    return st;
}

int upf_cmd_export(int argc, char **argv)
{
    const char *src = NULL, *out = NULL, *dt = "f32", *val;
    if (upf_arg_wants_help(argc, argv)) {
        fputs(export_help, stdout);
        return UPF_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = upf_arg_value(argc, argv, &i, "export", "-o", &val)) || (r = upf_arg_value(argc, argv, &i, "export", "--out", &val))) {
            if (r < 0) return UPF_EXIT_USAGE;
            out = val;
        } else if ((r = upf_arg_value(argc, argv, &i, "export", "--dtype", &val))) {
            if (r < 0) return UPF_EXIT_USAGE;
            dt = val;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return upf_cli_usage_error("export", "unknown option '%s'", argv[i]);
        } else if (src) {
            return upf_cli_usage_error("export", "one source at a time (got '%s' and '%s')", src, argv[i]);
        } else {
            src = argv[i];
        }
    }
    if (!src) return upf_cli_usage_error("export", "no RUN_DIR or MODEL.upf given");
    if (!out) return upf_cli_usage_error("export", "no output file given (-o OUT.upf)");
    int mk = upf_cli_make_parent(out);
    if (mk) return mk;
    upf_dtype dtype;
    if (strcmp(dt, "f32") == 0 || strcmp(dt, "float32") == 0) dtype = UPF_DTYPE_F32, dt = "f32";
    else if (strcmp(dt, "f16") == 0 || strcmp(dt, "float16") == 0) dtype = UPF_DTYPE_F16, dt = "f16";
    else if (strcmp(dt, "int8") == 0 || strcmp(dt, "i8") == 0) dtype = UPF_DTYPE_I8S, dt = "int8";
    else return upf_cli_usage_error("export", "--dtype: expected f32, f16 or int8, got '%s'", dt);
    char *path = NULL;
    struct stat sb;
    if (stat(src, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        size_t n = strlen(src) + 16;
        path = malloc(n);
        if (!path) {
            upf_cli_error("export: out of memory");
            return UPF_EXIT_FAIL;
        }
        snprintf(path, n, "%s/model.upf", src);
        if (stat(path, &sb) != 0) {
            upf_cli_error("%s: the run directory has no model.upf (was the run trained to the end?)", src);
            free(path);
            return UPF_EXIT_FAIL;
        }
    }
    upf_err err;
    upf_err_clear(&err);
    upf_status st = export_model(path ? path : src, out, dtype, dt, &err);
    free(path);
    return st ? upf_cli_fail(&err) : UPF_EXIT_OK;
}
