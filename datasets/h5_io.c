/* h5_io.c - HDF5 helpers shared by the reader, the writer and the event
 * stream: quiet error handling that keeps the innermost HDF5 message, the
 * schema's types, file and dataset checks (format, version, class, rank,
 * length, storage), and block-wise reads of columns and strings.
 * Entry points are declared in h5_internal.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "h5_internal.h"

#if defined(__SANITIZE_ADDRESS__)
/* San builds only: HDF5 1.10 leaks some of its own allocations on its error
 * paths (a close that fails on a full disk, some corrupt files). Suppress
 * leaks allocated inside libhdf5 so LeakSanitizer keeps checking ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libhdf5_serial.so\n"; }
#endif

void upf_h5_quiet(void)
{
    /* No library shutdown at exit: HDF5 1.10 crashes in its exit handler when
     * it closes a file whose earlier close failed (a full disk). Effective
     * only before the library initializes, harmless after. */
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* ---- errors ---- */

typedef struct walk_data {
    char msg[200];
    int found;
} walk_data;

static herr_t walk_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    walk_data *w = data;
    (void)n;
    if (w->found) return 0;
    char minor[96] = "";
    if (e->min_num > 0) H5Eget_msg(e->min_num, NULL, minor, sizeof minor);
    if (e->desc && e->desc[0] && minor[0]) snprintf(w->msg, sizeof w->msg, "%s: %s", minor, e->desc);
    else if (e->desc && e->desc[0]) snprintf(w->msg, sizeof w->msg, "%s", e->desc);
    else if (minor[0]) snprintf(w->msg, sizeof w->msg, "%s", minor);
    else return 0;
    w->found = 1;
    return 0;
}

upf_status upf_h5_fail(upf_err *err, upf_status st, const char *path, const char *obj, const char *fmt, ...)
{
    walk_data w = { "", 0 };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_innermost, &w);
    H5Eclear2(H5E_DEFAULT);
    if (!err) return st;
    char what[UPF_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (obj && w.found) upf_err_set(err, st, "%s: %s: %s (%s)", path, obj, what, w.msg);
    else if (obj) upf_err_set(err, st, "%s: %s: %s", path, obj, what);
    else if (w.found) upf_err_set(err, st, "%s: %s (%s)", path, what, w.msg);
    else upf_err_set(err, st, "%s: %s", path, what);
    return st;
}

/* ---- types ---- */

static hid_t make_enum(int file, const char *(*name_of)(int), int count)
{
    hid_t t = H5Tenum_create(file ? H5T_STD_U8LE : H5T_NATIVE_UINT8);
    if (t < 0) return -1;
    for (int v = 1; v < count; v++) {
        uint8_t x = (uint8_t)v;
        if (H5Tenum_insert(t, name_of(v), &x) < 0) {
            H5Tclose(t);
            return -1;
        }
    }
    return t;
}

hid_t upf_h5_event_type_enum(int file) { return make_enum(file, upf_event_type_name, UPF_EV_TYPE_COUNT); }
hid_t upf_h5_item_kind_enum(int file) { return make_enum(file, upf_item_event_kind_name, UPF_IE_KIND_COUNT); }

hid_t upf_h5_str_fixed(size_t size)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, size ? size : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

hid_t upf_h5_str_vlen(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "an integer";
    case H5T_FLOAT: return "a float";
    case H5T_STRING: return "a string";
    case H5T_ENUM: return "an enum";
    case H5T_COMPOUND: return "a compound";
    case H5T_BITFIELD: return "a bitfield";
    case H5T_OPAQUE: return "an opaque";
    case H5T_REFERENCE: return "a reference";
    case H5T_VLEN: return "a variable-length sequence";
    case H5T_ARRAY: return "an array";
    case H5T_TIME: return "a time";
    default: return "an unknown-class";
    }
}

static const char *want_name(upf_h5_class c)
{
    switch (c) {
    case UPF_H5_INT: return "an integer";
    case UPF_H5_FLOAT: return "a float";
    case UPF_H5_CODE: return "an enum (or integer)";
    default: return "a string";
    }
}

static int class_ok(upf_h5_class want, H5T_class_t got)
{
    switch (want) {
    case UPF_H5_INT: return got == H5T_INTEGER;
    case UPF_H5_FLOAT: return got == H5T_FLOAT;
    case UPF_H5_CODE: return got == H5T_ENUM || got == H5T_INTEGER;
    default: return got == H5T_STRING;
    }
}

/* ---- attributes ---- */

upf_status upf_h5_read_str_attr(hid_t obj, const char *attr, const char *path, const char *obj_name, char **out,
                                upf_err *err)
{
    upf_status st = UPF_OK;
    hid_t a = -1, t = -1, mt = -1, sp = -1;
    char *buf = NULL;
    *out = NULL;
    htri_t ex = H5Aexists(obj, attr);
    if (ex < 0) return upf_h5_fail(err, UPF_ERR_FORMAT, path, obj_name, "cannot check attribute %s", attr);
    if (!ex) return UPF_OK;
    if ((a = H5Aopen(obj, attr, H5P_DEFAULT)) < 0 || (t = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, obj_name, "cannot open attribute %s", attr);
        goto done;
    }
    if (H5Tget_class(t) != H5T_STRING || H5Sget_simple_extent_npoints(sp) != 1) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, obj_name, "attribute %s: expected one string, got %s attribute of %lld values",
                         attr, class_name(H5Tget_class(t)), (long long)H5Sget_simple_extent_npoints(sp));
        goto done;
    }
    if (H5Tis_variable_str(t) > 0) {
        char *p = NULL;
        if ((mt = upf_h5_str_vlen()) < 0 || H5Tset_cset(mt, H5Tget_cset(t)) < 0 || H5Aread(a, mt, &p) < 0) {
            st = upf_h5_fail(err, UPF_ERR_FORMAT, path, obj_name, "cannot read attribute %s", attr);
            goto done;
        }
        buf = upf_strdup(p ? p : "");
        H5free_memory(p);
        if (!buf) st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
    } else {
        size_t sz = H5Tget_size(t);
        if (sz == 0 || sz > (1u << 20) || !(buf = upf_calloc(sz + 1, 1))) {
            st = upf_err_set(err, sz ? UPF_ERR_NOMEM : UPF_ERR_FORMAT, "%s: attribute %s: cannot hold %zu bytes", path, attr, sz);
            goto done;
        }
        if ((mt = H5Tcopy(t)) < 0 || H5Aread(a, mt, buf) < 0) {
            st = upf_h5_fail(err, UPF_ERR_FORMAT, path, obj_name, "cannot read attribute %s", attr);
            goto done;
        }
    }
    if (!st) *out = buf, buf = NULL;
done:
    upf_free(buf);
    if (mt >= 0) H5Tclose(mt);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return st;
}

static upf_status read_version(hid_t file, const char *path, int64_t *version, upf_err *err)
{
    upf_status st = UPF_OK;
    hid_t a = -1, t = -1, sp = -1;
    htri_t ex = H5Aexists(file, "version");
    if (ex <= 0)
        return upf_h5_fail(err, UPF_ERR_FORMAT, path, NULL,
                           "not an upfunnel dataset: the root has format = \"%s\" but no attribute version", UPF_DATASET_FORMAT);
    if ((a = H5Aopen(file, "version", H5P_DEFAULT)) < 0 || (t = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, NULL, "cannot open the root attribute version");
        goto done;
    }
    if (H5Tget_class(t) != H5T_INTEGER || H5Sget_simple_extent_npoints(sp) != 1) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, NULL, "root attribute version: expected one integer, got %s attribute",
                         class_name(H5Tget_class(t)));
        goto done;
    }
    long long v = 0;
    if (H5Aread(a, H5T_NATIVE_LLONG, &v) < 0) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, NULL, "cannot read the root attribute version");
        goto done;
    }
    *version = v;
done:
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return st;
}

upf_status upf_h5_open_dataset_file(const char *path, hid_t *file, upf_err *err)
{
    upf_status st = UPF_OK;
    hid_t fapl = -1, f = -1;
    char *format = NULL;
    struct stat sb;
    *file = -1;
    upf_h5_quiet();
    if (stat(path, &sb) != 0) return upf_err_sys(err, UPF_ERR_IO, "%s: cannot open", path);
    if (!S_ISREG(sb.st_mode)) return upf_err_set(err, UPF_ERR_IO, "%s: not a regular file", path);
    FILE *probe = fopen(path, "rb");
    if (!probe) return upf_err_sys(err, UPF_ERR_IO, "%s: cannot open", path);
    fclose(probe);
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0)
        return upf_h5_fail(err, UPF_ERR_FORMAT, path, NULL, "not an HDF5 file (expected an upfunnel dataset, HDF5 schema version %d)",
                           UPF_DATASET_VERSION);
    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        st = upf_h5_fail(err, UPF_ERR_IO, path, NULL, "cannot set up HDF5 file access");
        goto done;
    }
    if ((f = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0) {
        st = upf_h5_fail(err, UPF_ERR_IO, path, NULL, "cannot open as HDF5");
        goto done;
    }
    if ((st = upf_h5_read_str_attr(f, "format", path, NULL, &format, err))) goto done;
    if (!format) {
        st = upf_err_set(err, UPF_ERR_FORMAT, "%s: not an upfunnel dataset (an HDF5 file without the root attribute format = \"%s\")",
                         path, UPF_DATASET_FORMAT);
        goto done;
    }
    if (strcmp(format, UPF_DATASET_FORMAT) != 0) {
        st = upf_err_set(err, UPF_ERR_FORMAT, "%s: not an upfunnel dataset (root attribute format is \"%.100s\", expected \"%s\")",
                         path, format, UPF_DATASET_FORMAT);
        goto done;
    }
    int64_t version = 0;
    if ((st = read_version(f, path, &version, err))) goto done;
    if (version > UPF_DATASET_VERSION) {
        st = upf_err_set(err, UPF_ERR_VERSION,
                         "%s: dataset schema version %" PRId64 " was written by a newer upfunnel (this build reads version %d)",
                         path, version, UPF_DATASET_VERSION);
        goto done;
    }
    if (version < 1) {
        st = upf_err_set(err, UPF_ERR_FORMAT, "%s: dataset schema version %" PRId64 " (expected 1..%d)", path, version,
                         UPF_DATASET_VERSION);
        goto done;
    }
    *file = f;
    f = -1;
done:
    upf_free(format);
    if (f >= 0) H5Fclose(f);
    if (fapl >= 0) H5Pclose(fapl);
    return st;
}

/* ---- datasets ---- */

int upf_h5_exists(hid_t file, const char *abs_path)
{
    char buf[1024];
    size_t n = strlen(abs_path);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, abs_path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        htri_t ex = H5Lexists(file, buf, H5P_DEFAULT);
        buf[i] = c;
        if (ex <= 0) return ex < 0 ? -1 : 0;
    }
    return 1;
}

upf_status upf_h5_open_column(hid_t file, const char *path, const char *name, upf_h5_class cls, int64_t want_n,
                              const char *want_what, size_t cache_bytes, hid_t *dset, size_t *n, upf_err *err)
{
    upf_status st = UPF_OK;
    hid_t d = -1, dcpl = -1, t = -1, sp = -1, dapl = -1;
    *dset = -1;
    *n = 0;
    int ex = upf_h5_exists(file, name);
    if (ex < 0) return upf_h5_fail(err, UPF_ERR_FORMAT, path, name, "cannot look up");
    if (!ex) return upf_err_set(err, UPF_ERR_FORMAT, "%s: %s: missing (required by schema version %d)", path, name, UPF_DATASET_VERSION);
    if ((dapl = H5Pcreate(H5P_DATASET_ACCESS)) < 0 ||
        H5Pset_chunk_cache(dapl, H5D_CHUNK_CACHE_NSLOTS_DEFAULT, cache_bytes, H5D_CHUNK_CACHE_W0_DEFAULT) < 0) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, name, "cannot set up dataset access");
        goto done;
    }
    if ((d = H5Dopen2(file, name, dapl)) < 0) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, name, "cannot open as a dataset");
        goto done;
    }
    if ((dcpl = H5Dget_create_plist(d)) < 0 || (t = H5Dget_type(d)) < 0 || (sp = H5Dget_space(d)) < 0) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, name, "cannot read the dataset's header");
        goto done;
    }
    H5D_layout_t layout = H5Pget_layout(dcpl);
    if (layout == H5D_VIRTUAL) {
        st = upf_err_set(err, UPF_ERR_FORMAT, "%s: %s: virtual storage is refused (its data would come from other files)", path, name);
        goto done;
    }
    if (H5Pget_external_count(dcpl) != 0) {
        st = upf_err_set(err, UPF_ERR_FORMAT, "%s: %s: external storage is refused (its data lives in other files)", path, name);
        goto done;
    }
    H5T_class_t c = H5Tget_class(t);
    if (!class_ok(cls, c)) {
        st = upf_err_set(err, UPF_ERR_FORMAT, "%s: %s: expected %s dataset, got %s dataset", path, name, want_name(cls), class_name(c));
        goto done;
    }
    if (c == H5T_STRING && H5Tget_size(t) == 0) {
        st = upf_err_set(err, UPF_ERR_FORMAT, "%s: %s: string type of size 0", path, name);
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(sp);
    if (H5Sget_simple_extent_type(sp) != H5S_SIMPLE || rank != 1) {
        st = upf_err_set(err, UPF_ERR_FORMAT, "%s: %s: expected 1 dimension, got %d", path, name,
                         H5Sget_simple_extent_type(sp) == H5S_SIMPLE ? rank : 0);
        goto done;
    }
    hsize_t dim = 0;
    H5Sget_simple_extent_dims(sp, &dim, NULL);
    if (dim > (hsize_t)INT64_MAX || (want_n >= 0 && dim != (hsize_t)want_n)) {
        st = upf_err_set(err, UPF_ERR_FORMAT, "%s: %s: expected %" PRId64 " rows (%s), got %llu", path, name, want_n,
                         want_what ? want_what : "", (unsigned long long)dim);
        goto done;
    }
    *n = (size_t)dim;
    *dset = d;
    d = -1;
done:
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (dapl >= 0) H5Pclose(dapl);
    if (d >= 0) H5Dclose(d);
    return st;
}

size_t upf_h5_block_rows(hid_t dset, size_t target)
{
    size_t rows = target ? target : UPF_H5_BLOCK_ROWS;
    hid_t dcpl = H5Dget_create_plist(dset);
    if (dcpl < 0) return rows;
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hsize_t c = 0;
        if (H5Pget_chunk(dcpl, 1, &c) == 1 && c > 0) {
            size_t cs = (size_t)c;
            rows = rows < cs ? cs : rows / cs * cs;
        }
    }
    H5Pclose(dcpl);
    return rows;
}

upf_status upf_h5_read_rows(hid_t dset, hid_t memtype, size_t row0, size_t n, void *dst, const char *path,
                            const char *name, upf_err *err)
{
    upf_status st = UPF_OK;
    hid_t fs = -1, ms = -1;
    if (n == 0) return UPF_OK;
    hsize_t start = row0, count = n;
    if ((fs = H5Dget_space(dset)) < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
        (ms = H5Screate_simple(1, &count, NULL)) < 0 || H5Dread(dset, memtype, ms, fs, H5P_DEFAULT, dst) < 0)
        st = upf_h5_fail(err, UPF_ERR_CORRUPT, path, name, "cannot read rows %zu..%zu", row0, row0 + n - 1);
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return st;
}

upf_status upf_h5_read_column(hid_t dset, hid_t memtype, size_t n, size_t elem, void *dst, const char *path,
                              const char *name, upf_err *err)
{
    size_t block = upf_h5_block_rows(dset, UPF_H5_BLOCK_ROWS);
    for (size_t r = 0; r < n; r += block) {
        if (upf_interrupted()) return upf_err_set(err, UPF_ERR_INTERRUPTED, "%s: %s: interrupted", path, name);
        size_t m = n - r < block ? n - r : block;
        upf_status st = upf_h5_read_rows(dset, memtype, r, m, (char *)dst + r * elem, path, name, err);
        if (st) return st;
    }
    return UPF_OK;
}

upf_status upf_h5_check_codes(hid_t dset, const char *(*name_of)(int), int count, const char *path, const char *name,
                              upf_err *err)
{
    upf_status st = UPF_OK;
    hid_t t = H5Dget_type(dset), super = -1;
    if (t < 0) return upf_h5_fail(err, UPF_ERR_FORMAT, path, name, "cannot read the type");
    if (H5Tget_class(t) != H5T_ENUM) goto done;
    int nm = H5Tget_nmembers(t);
    if ((super = H5Tget_super(t)) < 0 || nm < 0 || H5Tget_size(super) > 8) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, name, "unreadable enum type");
        goto done;
    }
    for (int i = 0; i < nm && !st; i++) {
        unsigned char buf[16] = { 0 };
        char *mname = H5Tget_member_name(t, (unsigned)i);
        if (!mname || H5Tget_member_value(t, (unsigned)i, buf) < 0 ||
            H5Tconvert(super, H5T_NATIVE_LLONG, 1, buf, NULL, H5P_DEFAULT) < 0) {
            st = upf_h5_fail(err, UPF_ERR_FORMAT, path, name, "unreadable enum member %d", i);
        } else {
            long long v;
            memcpy(&v, buf, sizeof v);
            if (v < 1 || v >= count || strcmp(name_of((int)v), mname) != 0)
                st = upf_err_set(err, UPF_ERR_FORMAT,
                                 "%s: %s: enum member \"%.60s\" = %lld is not one this build knows (a newer upfunnel wrote the file?)",
                                 path, name, mname, v);
        }
        if (mname) H5free_memory(mname);
    }
done:
    if (super >= 0) H5Tclose(super);
    H5Tclose(t);
    return st;
}

/* ---- strings ---- */

static upf_status read_fixed_strings(hid_t d, hid_t ftype, size_t n, upf_strbuf *sb, const char *path, const char *name,
                                     upf_err *err)
{
    upf_status st = UPF_OK;
    size_t size = H5Tget_size(ftype);
    int space_pad = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
    size_t target = (4u << 20) / size;
    size_t block = upf_h5_block_rows(d, target ? target : 1);
    if (block > n) block = n;
    char *buf = NULL;
    hid_t mt = H5Tcopy(ftype);
    size_t bytes;
    if (mt < 0) return upf_h5_fail(err, UPF_ERR_FORMAT, path, name, "cannot copy the string type");
    if (upf_mul_size(block, size, &bytes) || !(buf = upf_malloc(bytes))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "%s: %s: out of memory for a block of %zu strings of %zu bytes", path, name, block, size);
        goto done;
    }
    for (size_t r = 0; r < n && !st; r += block) {
        size_t m = n - r < block ? n - r : block;
        if (upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "%s: %s: interrupted", path, name);
            break;
        }
        if ((st = upf_h5_read_rows(d, mt, r, m, buf, path, name, err))) break;
        for (size_t k = 0; k < m; k++) {
            const char *s = buf + k * size;
            const char *z = memchr(s, '\0', size);
            size_t len = z ? (size_t)(z - s) : size;
            if (space_pad)
                while (len > 0 && s[len - 1] == ' ') len--;
            if (upf_strbuf_append(sb, s, len)) {
                st = upf_err_set(err, UPF_ERR_NOMEM, "%s: %s: out of memory at string %zu", path, name, r + k);
                break;
            }
        }
    }
done:
    upf_free(buf);
    H5Tclose(mt);
    return st;
}

static upf_status read_vlen_strings(hid_t d, hid_t ftype, size_t n, upf_strbuf *sb, const char *path, const char *name,
                                    upf_err *err)
{
    upf_status st = UPF_OK;
    size_t block = n < 65536 ? n : 65536;
    char **buf = NULL;
    hid_t mt = upf_h5_str_vlen(), fs = -1, ms = -1;
    if (mt < 0 || H5Tset_cset(mt, H5Tget_cset(ftype)) < 0) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, name, "cannot make a string type");
        goto done;
    }
    if (!(buf = upf_calloc(block, sizeof *buf))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "%s: %s: out of memory", path, name);
        goto done;
    }
    if ((fs = H5Dget_space(d)) < 0) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, name, "cannot read the dataspace");
        goto done;
    }
    for (size_t r = 0; r < n && !st; r += block) {
        hsize_t start = r, count = n - r < block ? n - r : block;
        if ((ms = H5Screate_simple(1, &count, NULL)) < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
            H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf) < 0) {
            st = upf_h5_fail(err, UPF_ERR_CORRUPT, path, name, "cannot read strings %zu..%llu", r, (unsigned long long)(r + count - 1));
            if (ms >= 0) H5Sclose(ms), ms = -1;
            break;
        }
        for (size_t k = 0; k < count && !st; k++) {
            const char *s = buf[k] ? buf[k] : "";
            if (upf_strbuf_append(sb, s, strlen(s)))
                st = upf_err_set(err, UPF_ERR_NOMEM, "%s: %s: out of memory at string %zu", path, name, r + k);
        }
        H5Dvlen_reclaim(mt, ms, H5P_DEFAULT, buf);
        H5Sclose(ms);
        ms = -1;
    }
done:
    upf_free(buf);
    if (fs >= 0) H5Sclose(fs);
    if (mt >= 0) H5Tclose(mt);
    return st;
}

upf_status upf_h5_read_strings(hid_t file, const char *path, const char *name, int64_t want_n, const char *want_what,
                               upf_strings *out, upf_err *err)
{
    upf_status st;
    hid_t d = -1, t = -1;
    size_t n = 0;
    upf_strbuf sb = { 0 };
    memset(out, 0, sizeof *out);
    if ((st = upf_h5_open_column(file, path, name, UPF_H5_STRING, want_n, want_what, 0, &d, &n, err))) return st;
    if ((t = H5Dget_type(d)) < 0) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, name, "cannot read the type");
        goto done;
    }
    /* Room for the offsets and a guess at the bytes; appends grow past it. */
    size_t guess = H5Tis_variable_str(t) > 0 ? 16 : H5Tget_size(t);
    if (guess > 16) guess = 16;
    if (upf_strbuf_reserve(&sb, n, n * (guess + 1) / 2 + 1)) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "%s: %s: out of memory for %zu strings", path, name, n);
        goto done;
    }
    if (H5Tis_variable_str(t) > 0) st = read_vlen_strings(d, t, n, &sb, path, name, err);
    else st = read_fixed_strings(d, t, n, &sb, path, name, err);
    if (!st && upf_strbuf_take(&sb, out)) st = upf_err_set(err, UPF_ERR_NOMEM, "%s: %s: out of memory", path, name);
done:
    upf_strbuf_free(&sb);
    if (t >= 0) H5Tclose(t);
    H5Dclose(d);
    return st;
}

/* ---- groups ---- */

typedef struct name_list {
    char **names;
    size_t n, cap;
    int nomem;
} name_list;

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    name_list *l = data;
    (void)g;
    (void)info;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **p = upf_realloc(l->names, cap * sizeof *p);
        if (!p) return l->nomem = 1, -1;
        l->names = p;
        l->cap = cap;
    }
    if (!(l->names[l->n] = upf_strdup(name))) return l->nomem = 1, -1;
    l->n++;
    return 0;
}

upf_status upf_h5_list_group(hid_t file, const char *group, const char *path, char ***names, size_t *n, upf_err *err)
{
    upf_status st = UPF_OK;
    name_list l = { NULL, 0, 0, 0 };
    hid_t g = -1, gcpl = -1;
    *names = NULL;
    *n = 0;
    if ((g = H5Gopen2(file, group, H5P_DEFAULT)) < 0) return upf_h5_fail(err, UPF_ERR_FORMAT, path, group, "cannot open as a group");
    unsigned flags = 0;
    if ((gcpl = H5Gget_create_plist(g)) >= 0) H5Pget_link_creation_order(gcpl, &flags);
    H5_index_t idx = (flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    if (H5Literate(g, idx, H5_ITER_INC, NULL, collect_name, &l) < 0) {
        st = l.nomem ? upf_err_set(err, UPF_ERR_NOMEM, "%s: %s: out of memory listing the group", path, group)
                     : upf_h5_fail(err, UPF_ERR_FORMAT, path, group, "cannot list the group");
        for (size_t i = 0; i < l.n; i++) upf_free(l.names[i]);
        upf_free(l.names);
    } else {
        *names = l.names;
        *n = l.n;
    }
    if (gcpl >= 0) H5Pclose(gcpl);
    H5Gclose(g);
    return st;
}
