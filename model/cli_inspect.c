/* cli_inspect.c - `upfunnel inspect MODEL.upf`: the header, the sections with
 * offsets, sizes and CRCs, the metadata (long values abbreviated) and per-tensor
 * statistics, as text or JSON. The file is opened with full validation, so a
 * truncated, bit-flipped or hostile file is refused with the reader's message
 * (path, section, byte offset) and exit status 1.
 * Not here: validation itself (modelfile.c) or scoring (cli_score.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../train/cli.h"
#include "../train/commands.h"
#include "internal.h"
#include "json.h"
#include "upfserve.h"

static const char inspect_help[] =
    "usage: upfunnel inspect MODEL.upf [--json] [--no-data-crc] [--full]\n"
    "\n"
    "Shows a .upf model file: its header (format version, model kind, sizes),\n"
    "its sections (type, name, offset, size, item count, CRC-32), its metadata\n"
    "(resolved config, seed, data range, metrics at export, ids...) and its\n"
    "tensors (dtype, shape, bytes, min, max, mean, standard deviation of the\n"
    "decoded values).\n"
    "\n"
    "The file is validated completely before anything is shown: every length\n"
    "and offset, every CRC-32, the metadata encoding, and the tensors and keys\n"
    "its model kind requires. A truncated, bit-flipped or hostile file is\n"
    "refused with a message naming the section and the byte offset of the first\n"
    "problem.\n"
    "\n"
    "options:\n"
    "  --json          print one JSON document instead of text\n"
    "  --no-data-crc   skip the CRC of the tensor data (faster on very large\n"
    "                  files; everything else is still checked). Default: checked\n"
    "  --full          print long metadata values whole (default: strings over\n"
    "                  160 bytes and arrays over 8 elements are abbreviated)\n"
    "  -h, --help      this text\n"
    "\n"
    "examples:\n"
    "  upfunnel inspect runs/ml100k/model.upf\n"
    "  upfunnel inspect model_int8.upf --json | python3 -m json.tool\n"
    "\n"
    "exit status: 0 the file is valid and was shown; 1 the file could not be\n"
    "read or is invalid; 2 usage error.\n";

#define STR_ABBREV 160
#define ARR_ABBREV 8

typedef struct stats {
    double min, max, mean, m2;
    uint64_t n, nonfinite;
} stats;

/* Welford's running mean and variance over the decoded values. */
static void tensor_stats(const upf_tensor_view *v, stats *s)
{
    memset(s, 0, sizeof *s);
    s->min = INFINITY;
    s->max = -INFINITY;
    double buf[1024];
    for (uint64_t k = 0; k < v->n_elems; k += 1024) {
        size_t n = v->n_elems - k < 1024 ? (size_t)(v->n_elems - k) : 1024;
        upf_tensor_read_f64(v, k, n, buf);
        for (size_t i = 0; i < n; i++) {
            double x = buf[i];
            if (!isfinite(x)) {
                s->nonfinite++;
                continue;
            }
            s->n++;
            if (x < s->min) s->min = x;
            if (x > s->max) s->max = x;
            double d = x - s->mean;
            s->mean += d / (double)s->n;
            s->m2 += d * (x - s->mean);
        }
    }
}

static double stats_std(const stats *s) { return s->n ? sqrt(s->m2 / (double)s->n) : (double)NAN; }

static const char *vtype_name(uint32_t t)
{
    static const char *const names[] = { "none", "u64", "i64", "f64", "str", "bool", "f64[]", "str[]" };
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* A NUL-terminated copy of at most max bytes of s (owned by the caller). */
static char *cstr(const char *s, size_t n, size_t max)
{
    size_t k = n < max ? n : max;
    /* do not cut a UTF-8 sequence in half */
    while (k < n && k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    char *c = malloc(k + 1);
    if (!c) return NULL;
    memcpy(c, s, k);
    c[k] = '\0';
    return c;
}

/* Prints a string for text output: escapes control bytes, quotes. */
static void text_str(const char *s, size_t n, size_t max)
{
    size_t k = n < max ? n : max;
    putchar('"');
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '"' || c == '\\') printf("\\%c", c);
        else putchar(c);
    }
    putchar('"');
    if (k < n) printf("... (%zu bytes)", n);
}

static void show_meta_text(const upf_model *m, const upf_meta_raw *r, int full, int width)
{
    char key[300];
    snprintf(key, sizeof key, "%.*s", (int)r->key_len, r->key);
    printf("  %-*s %-6s ", width, key, vtype_name(r->vtype));
    size_t smax = full ? SIZE_MAX : STR_ABBREV, amax = full ? SIZE_MAX : ARR_ABBREV, n;
    const uint8_t *v = r->val;
    switch (r->vtype) {
    case UPF_META_U64: printf("%llu", (unsigned long long)upf_rd_u64le(v)); break;
    case UPF_META_I64: printf("%lld", (long long)upf_rd_u64le(v)); break;
    case UPF_META_F64: {
        double d;
        upf_model_meta_f64(m, key, &d);
        printf("%.17g", d);
        break;
    }
    case UPF_META_BOOL: fputs(v[0] ? "true" : "false", stdout); break;
    case UPF_META_STR: text_str((const char *)v, r->val_len, smax); break;
    case UPF_META_F64_ARRAY: {
        const double *a;
        upf_model_meta_f64_array(m, key, &a, &n);
        putchar('[');
        for (size_t i = 0; i < n && i < amax; i++) printf(i ? ", %.17g" : "%.17g", a[i]);
        printf(n > amax ? ", ... (%zu values)]" : "]", n);
        break;
    }
    case UPF_META_STR_ARRAY: {
        upf_model_meta_count(m, key, NULL, &n);
        putchar('[');
        for (size_t i = 0; i < n && i < amax; i++) {
            const char *s;
            size_t len;
            upf_model_meta_str_at(m, key, i, &s, &len);
            if (i) fputs(", ", stdout);
            text_str(s, len, smax);
        }
        printf(n > amax ? ", ... (%zu strings)]" : "]", n);
        break;
    }
    default: printf("(%zu bytes, unknown type %u: skipped)", r->val_len, r->vtype);
    }
    if (r->flags & UPF_META_FLAG_CRITICAL) fputs("  [critical]", stdout);
    putchar('\n');
}

static void show_meta_json(upf_json_writer *w, const upf_model *m, const upf_meta_raw *r, int full)
{
    char key[300];
    snprintf(key, sizeof key, "%.*s", (int)r->key_len, r->key);
    size_t smax = full ? SIZE_MAX : STR_ABBREV, amax = full ? SIZE_MAX : ARR_ABBREV, n;
    const uint8_t *v = r->val;
    upf_jw_object(w, key);
    upf_jw_str(w, "type", vtype_name(r->vtype));
    if (r->flags & UPF_META_FLAG_CRITICAL) upf_jw_bool(w, "critical", 1);
    switch (r->vtype) {
    case UPF_META_U64: upf_jw_num(w, "value", (double)upf_rd_u64le(v)); break;
    case UPF_META_I64: upf_jw_int(w, "value", (int64_t)upf_rd_u64le(v)); break;
    case UPF_META_F64: {
        double d;
        upf_model_meta_f64(m, key, &d);
        upf_jw_num(w, "value", d);
        break;
    }
    case UPF_META_BOOL: upf_jw_bool(w, "value", v[0]); break;
    case UPF_META_STR: {
        char *c = cstr((const char *)v, r->val_len, smax);
        upf_jw_str(w, "value", c);
        free(c);
        if (r->val_len > smax) {
            upf_jw_int(w, "bytes", (int64_t)r->val_len);
            upf_jw_bool(w, "abbreviated", 1);
        }
        break;
    }
    case UPF_META_F64_ARRAY: {
        const double *a;
        upf_model_meta_f64_array(m, key, &a, &n);
        upf_jw_array(w, "value");
        for (size_t i = 0; i < n && i < amax; i++) upf_jw_num(w, NULL, a[i]);
        upf_jw_end(w);
        upf_jw_int(w, "count", (int64_t)n);
        if (n > amax) upf_jw_bool(w, "abbreviated", 1);
        break;
    }
    case UPF_META_STR_ARRAY: {
        upf_model_meta_count(m, key, NULL, &n);
        upf_jw_array(w, "value");
        for (size_t i = 0; i < n && i < amax; i++) {
            const char *s;
            size_t len;
            upf_model_meta_str_at(m, key, i, &s, &len);
            char *c = cstr(s, len, smax);
            upf_jw_str(w, NULL, c);
            free(c);
        }
        upf_jw_end(w);
        upf_jw_int(w, "count", (int64_t)n);
        if (n > amax) upf_jw_bool(w, "abbreviated", 1);
        break;
    }
    default: upf_jw_int(w, "bytes", (int64_t)r->val_len); upf_jw_bool(w, "skipped", 1);
    }
    upf_jw_end(w);
}

static void shape_text(const upf_tensor_view *v, char *b, size_t n)
{
    int off = snprintf(b, n, "(");
    for (uint32_t d = 0; d < v->ndim; d++)
        off += snprintf(b + off, n - (size_t)off, d ? ", %llu" : "%llu", (unsigned long long)v->dims[d]);
    snprintf(b + off, n - (size_t)off, ")");
}

static const char *flags_text(uint32_t f) { return f & UPF_SECT_FLAG_REQUIRED ? "required" : "-"; }

static void print_text(const char *path, const upf_model *m, int full)
{
    upf_file_info fi;
    upf_model_file_info(m, &fi);
    printf("file        %s\n", path);
    printf("size        %llu bytes (%s)\n", (unsigned long long)fi.file_size, fi.mapped ? "mapped" : "read");
    printf("format      UPF %u.%u, little-endian, alignment %u\n", fi.ver_major, fi.ver_minor, fi.alignment);
    printf("kind        %s (%u)\n", upf_kind_name(fi.kind), fi.kind);
    printf("header      %u bytes, crc32 %08x, incompat flags 0x%x\n", fi.header_size, fi.header_crc, fi.incompat_flags);
    printf("data crc    %s\n", fi.data_crc_checked ? "checked" : "not checked (--no-data-crc)");
    printf("\nsections    %u at offset %llu (entries of %u bytes), table crc32 %08x\n", fi.sect_count,
           (unsigned long long)fi.sect_offset, fi.sect_entry_size, fi.sect_table_crc);
    printf("  %-3s %-18s %-16s %12s %12s %8s  %-8s  %s\n", "#", "type", "name", "offset", "size", "count", "crc32",
           "flags");
    for (size_t i = 0; i < upf_model_n_sections(m); i++) {
        upf_section_info s;
        upf_model_section_at(m, i, &s);
        char type[32];
        snprintf(type, sizeof type, "%s (%u)", upf_section_type_name(s.type), s.type);
        printf("  %-3zu %-18s %-16s %12llu %12llu %8u  %08x  %s\n", i, type, s.name, (unsigned long long)s.offset,
               (unsigned long long)s.size, s.count, s.crc32, flags_text(s.flags));
    }
    printf("\nmetadata    %zu entries\n", upf_model_n_meta(m));
    int width = 20; /* the key column fits the longest key, up to 48 */
    for (size_t i = 0; i < upf_model_n_meta(m); i++) {
        upf_meta_raw r;
        upf_model_meta_raw_at(m, i, &r);
        if ((int)r.key_len > width) width = r.key_len < 48 ? (int)r.key_len : 48;
    }
    for (size_t i = 0; i < upf_model_n_meta(m); i++) {
        upf_meta_raw r;
        upf_model_meta_raw_at(m, i, &r);
        show_meta_text(m, &r, full, width);
    }
    printf("\ntensors     %zu\n", upf_model_n_tensors(m));
    printf("  %-20s %-5s %-16s %12s %12s %12s %12s %12s\n", "name", "dtype", "shape", "bytes", "min", "max", "mean",
           "std");
    for (size_t i = 0; i < upf_model_n_tensors(m); i++) {
        upf_tensor_view v;
        upf_model_tensor_at(m, i, &v);
        stats s;
        tensor_stats(&v, &s);
        char shape[128];
        shape_text(&v, shape, sizeof shape);
        uint64_t bytes = v.n_elems * upf_dtype_size(v.dtype);
        printf("  %-20s %-5s %-16s %12llu %12.6g %12.6g %12.6g %12.6g", v.name, upf_dtype_name(v.dtype), shape,
               (unsigned long long)bytes, s.n ? s.min : (double)NAN, s.n ? s.max : (double)NAN, s.n ? s.mean : (double)NAN, stats_std(&s));
        if (v.dtype == UPF_DTYPE_I8S) printf("  (q_block %u)", v.q_block);
        if (s.nonfinite) printf("  (%llu non-finite)", (unsigned long long)s.nonfinite);
        putchar('\n');
    }
}

static void print_json(const char *path, const upf_model *m, int full)
{
    upf_file_info fi;
    upf_model_file_info(m, &fi);
    upf_json_writer w;
    upf_jw_init(&w, stdout, 1);
    upf_jw_object(&w, NULL);
    upf_jw_str(&w, "file", path);
    upf_jw_int(&w, "size", (int64_t)fi.file_size);
    upf_jw_object(&w, "header");
    upf_jw_int(&w, "version_major", fi.ver_major);
    upf_jw_int(&w, "version_minor", fi.ver_minor);
    upf_jw_str(&w, "kind", upf_kind_name(fi.kind));
    upf_jw_int(&w, "kind_id", fi.kind);
    upf_jw_int(&w, "incompat_flags", fi.incompat_flags);
    upf_jw_int(&w, "header_size", fi.header_size);
    upf_jw_int(&w, "alignment", fi.alignment);
    upf_jw_int(&w, "section_table_offset", (int64_t)fi.sect_offset);
    upf_jw_int(&w, "section_count", fi.sect_count);
    upf_jw_int(&w, "section_entry_size", fi.sect_entry_size);
    char hex[16];
    snprintf(hex, sizeof hex, "%08x", fi.sect_table_crc);
    upf_jw_str(&w, "section_table_crc32", hex);
    snprintf(hex, sizeof hex, "%08x", fi.header_crc);
    upf_jw_str(&w, "header_crc32", hex);
    upf_jw_end(&w);
    upf_jw_bool(&w, "data_crc_checked", fi.data_crc_checked);
    upf_jw_array(&w, "sections");
    for (size_t i = 0; i < upf_model_n_sections(m); i++) {
        upf_section_info s;
        upf_model_section_at(m, i, &s);
        upf_jw_object(&w, NULL);
        upf_jw_int(&w, "type", s.type);
        upf_jw_str(&w, "type_name", upf_section_type_name(s.type));
        upf_jw_str(&w, "name", s.name);
        upf_jw_int(&w, "offset", (int64_t)s.offset);
        upf_jw_int(&w, "size", (int64_t)s.size);
        upf_jw_int(&w, "count", s.count);
        snprintf(hex, sizeof hex, "%08x", s.crc32);
        upf_jw_str(&w, "crc32", hex);
        upf_jw_bool(&w, "required", (s.flags & UPF_SECT_FLAG_REQUIRED) != 0);
        upf_jw_end(&w);
    }
    upf_jw_end(&w);
    upf_jw_object(&w, "metadata");
    for (size_t i = 0; i < upf_model_n_meta(m); i++) {
        upf_meta_raw r;
        upf_model_meta_raw_at(m, i, &r);
        show_meta_json(&w, m, &r, full);
    }
    upf_jw_end(&w);
    upf_jw_array(&w, "tensors");
    for (size_t i = 0; i < upf_model_n_tensors(m); i++) {
        upf_tensor_view v;
        upf_model_tensor_at(m, i, &v);
        stats s;
        tensor_stats(&v, &s);
        upf_jw_object(&w, NULL);
        upf_jw_str(&w, "name", v.name);
        upf_jw_str(&w, "dtype", upf_dtype_name(v.dtype));
        upf_jw_array(&w, "shape");
        for (uint32_t d = 0; d < v.ndim; d++) upf_jw_int(&w, NULL, (int64_t)v.dims[d]);
        upf_jw_end(&w);
        upf_jw_int(&w, "bytes", (int64_t)(v.n_elems * upf_dtype_size(v.dtype)));
        if (v.dtype == UPF_DTYPE_I8S) upf_jw_int(&w, "q_block", v.q_block);
        upf_jw_num(&w, "min", s.n ? s.min : (double)NAN);
        upf_jw_num(&w, "max", s.n ? s.max : (double)NAN);
        upf_jw_num(&w, "mean", s.n ? s.mean : (double)NAN);
        upf_jw_num(&w, "std", stats_std(&s));
        if (s.nonfinite) upf_jw_int(&w, "nonfinite", (int64_t)s.nonfinite);
        upf_jw_end(&w);
    }
    upf_jw_end(&w);
    upf_jw_end(&w);
    upf_jw_finish(&w);
}

int upf_cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0, full = 0;
    unsigned flags = UPF_OPEN_ANY_KIND;
    if (upf_arg_wants_help(argc, argv)) {
        fputs(inspect_help, stdout);
        return UPF_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (upf_arg_is(argv, i, "--json")) json = 1;
        else if (upf_arg_is(argv, i, "--full")) full = 1;
        else if (upf_arg_is(argv, i, "--no-data-crc")) flags |= UPF_OPEN_SKIP_DATA_CRC;
        else if (argv[i][0] == '-' && argv[i][1]) return upf_cli_usage_error("inspect", "unknown option '%s'", argv[i]);
        else if (path) return upf_cli_usage_error("inspect", "one model file at a time (got '%s' and '%s')", path, argv[i]);
        else path = argv[i];
    }
    if (!path) return upf_cli_usage_error("inspect", "no model file given");
    upf_model *m = NULL;
    upf_err err;
    upf_err_clear(&err);
    upf_status st = upf_model_open(path, flags, &m, &err);
    if (st) return upf_cli_fail(&err);
    if (json) print_json(path, m, full);
    else print_text(path, m, full);
    upf_model_close(m);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        upf_cli_error("inspect: writing to standard output failed");
        return UPF_EXIT_FAIL;
    }
    return UPF_EXIT_OK;
}
