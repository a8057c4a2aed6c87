/* modeltest.h - helpers shared by the model-file and serving suites: reading
 * fixtures, patching .upf bytes and re-sealing their CRCs (to reach checks
 * behind the checksums), and small model builders. Static inline only. */
#ifndef UPF_MODELTEST_H
#define UPF_MODELTEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/crc32.h"
#include "../model/internal.h"
#include "../model/upfserve.h"

/* An assertion for hot loops: Check's ck_assert reports every *passing*
 * check to the parent process, which costs a write per call. This one only
 * speaks on failure. */
#define UPF_CHECK(cond, ...)                 \
    do {                                     \
        if (!(cond)) ck_abort_msg(__VA_ARGS__); \
    } while (0)
#define UPF_REQUIRE(cond) UPF_CHECK(cond, "Assertion '%s' failed", #cond)

static inline const char *upf_test_golden_dir(void)
{
    const char *d = getenv("UPF_GOLDEN_DIR");
    return d && *d ? d : "tests/golden";
}

/* Whole file into a malloc'd buffer; NULL when absent. */
static inline unsigned char *upf_test_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    if (b && len > 0 && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) *n = (size_t)len;
    return b;
}

static inline unsigned char *upf_test_golden(const char *name, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", upf_test_golden_dir(), name);
    unsigned char *b = upf_test_slurp(path, n);
    ck_assert_msg(b != NULL, "cannot read %s", path);
    return b;
}

/* A 64-byte-aligned copy (so open_buffer borrows rather than copies). */
static inline unsigned char *upf_test_aligned_copy(const void *p, size_t n)
{
    void *b = NULL;
    ck_assert_int_eq(posix_memalign(&b, 64, n ? n : 1), 0);
    if (n) memcpy(b, p, n);
    return b;
}

/* Recomputes section CRCs (for sections inside the buffer), the table CRC and
 * the header CRC, whatever the other fields say. Tolerates garbage. */
static inline void upf_test_reseal(unsigned char *b, size_t n)
{
    if (n < 64) return;
    uint64_t so = upf_rd_u64le(b + 40);
    uint32_t cnt = upf_rd_u32le(b + 48), esz = upf_rd_u32le(b + 52);
    if (esz >= 64 && esz <= 4096 && cnt <= 4096 && so <= n && (uint64_t)cnt * esz <= n - so) {
        for (uint32_t i = 0; i < cnt; i++) {
            unsigned char *e = b + so + (uint64_t)i * esz;
            uint64_t off = upf_rd_u64le(e + 8), size = upf_rd_u64le(e + 16);
            if (off <= n && size <= n - off) upf_wr_u32le(e + 24, upf_crc32(0, b + off, (size_t)size));
        }
        upf_wr_u32le(b + 56, upf_crc32(0, b + so, (size_t)cnt * esz));
    }
    upf_wr_u32le(b + 60, upf_crc32(0, b, 60));
}

/* Absolute offset of the section table entry for `type` (first match), or 0. */
static inline size_t upf_test_sect_entry(const unsigned char *b, uint32_t type)
{
    uint64_t so = upf_rd_u64le(b + 40);
    uint32_t cnt = upf_rd_u32le(b + 48), esz = upf_rd_u32le(b + 52);
    for (uint32_t i = 0; i < cnt; i++)
        if (upf_rd_u32le(b + so + (uint64_t)i * esz) == type) return (size_t)(so + (uint64_t)i * esz);
    return 0;
}

static inline size_t upf_test_sect_offset(const unsigned char *b, uint32_t type)
{
    return (size_t)upf_rd_u64le(b + upf_test_sect_entry(b, type) + 8);
}

/* Offset of the META entry for key (its 8-byte entry header), or 0. */
static inline size_t upf_test_meta_entry(const unsigned char *b, const char *key)
{
    size_t e = upf_test_sect_entry(b, 1), off = (size_t)upf_rd_u64le(b + e + 8),
           size = (size_t)upf_rd_u64le(b + e + 16), p = 0;
    while (p + 8 <= size) {
        size_t kl = upf_rd_u16le(b + off + p), vl = upf_rd_u32le(b + off + p + 4);
        if (kl == strlen(key) && memcmp(b + off + p + 8, key, kl) == 0) return off + p;
        p += 8 + UPF_ALIGN_UP(kl, 8) + UPF_ALIGN_UP(vl, 8);
    }
    return 0;
}

/* Offset of the TENSOR_INDEX record of tensor `name`, or 0. */
static inline size_t upf_test_tensor_rec(const unsigned char *b, const char *name)
{
    size_t ie = upf_test_sect_entry(b, 2), se = upf_test_sect_entry(b, 4);
    size_t io = (size_t)upf_rd_u64le(b + ie + 8), so = (size_t)upf_rd_u64le(b + se + 8);
    uint32_t cnt = upf_rd_u32le(b + ie + 28);
    for (uint32_t i = 0; i < cnt; i++) {
        size_t r = io + 64 * (size_t)i;
        if (strcmp((const char *)b + so + upf_rd_u32le(b + r + 56), name) == 0) return r;
    }
    return 0;
}

/* Absolute offset of a tensor's first data byte. */
static inline size_t upf_test_tensor_data(const unsigned char *b, const char *name)
{
    return upf_test_sect_offset(b, 3) + (size_t)upf_rd_u64le(b + upf_test_tensor_rec(b, name));
}

/* Writes w into a malloc'd (64-aligned) buffer; fails the test on error. */
static inline unsigned char *upf_test_write(upf_mw *w, size_t *n)
{
    void *buf = NULL;
    upf_err err;
    upf_status st = upf_mw_write_buffer(w, &buf, n, &err);
    ck_assert_msg(st == UPF_OK, "write: %s", err.msg);
    return buf;
}

static inline upf_model *upf_test_open(const void *b, size_t n, unsigned flags)
{
    upf_model *m = NULL;
    upf_err err;
    upf_status st = upf_model_open_buffer(b, n, flags, &m, &err);
    ck_assert_msg(st == UPF_OK, "open: %s", err.msg);
    return m;
}

/* Opens and expects failure with `want` (0: any error); returns the message. */
static inline const char *upf_test_refuse(const void *b, size_t n, unsigned flags, upf_status want, upf_err *err)
{
    upf_model *m = (upf_model *)(uintptr_t)1;
    upf_status st = upf_model_open_buffer(b, n, flags, &m, err);
    UPF_CHECK(st != UPF_OK, "a hostile file was accepted");
    UPF_REQUIRE(m == NULL);
    if (want) UPF_CHECK(st == want, "status %s, want %s: %s", upf_status_str(st), upf_status_str(want), err->msg);
    UPF_CHECK(err->msg[0] != '\0', "no message");
    return err->msg;
}

#endif
