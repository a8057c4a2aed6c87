/* test_h5_io.c - the HDF5 dataset file: round trips of every part of the
 * schema (full fixture, empty dataset, several chunkings and compressions,
 * more rows than one read block), byte-identical rewrites, every refusal
 * (not HDF5, not ours, newer version, wrong class / rank / length, missing
 * datasets, unknown enum members, external and virtual storage, invalid
 * content, truncation), atomic writes under a simulated full disk and an
 * interrupt, allocation failures, and the block iterator.
 * Fixtures are written by the builder into a scratch directory. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../datasets/dataset.h"
#include "../datasets/h5_io.h"
#include "ds_fixture.h"
#include "testutil.h"

static char *tmpdir;
static char path[4300];

static void setup(void)
{
    tmpdir = upf_test_tmpdir();
    snprintf(path, sizeof path, "%s/ds.h5", tmpdir);
    H5dont_atexit(); /* as the library does; see upf_h5_quiet */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void teardown(void)
{
    upf_test_rmdir(tmpdir);
    tmpdir = NULL;
}

static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static void write_full(const char *p)
{
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(fix_build_full(&ds, &err), UPF_OK);
    ck_assert_msg(upf_dataset_write(ds, p, &err) == UPF_OK, "%s", err.msg);
    upf_dataset_free(ds);
}

/* Expects upf_dataset_read(path) to fail with st and a message containing want. */
static void expect_refusal(upf_status st, const char *want)
{
    upf_dataset *ds = (upf_dataset *)&ds;
    upf_err err;
    upf_err_clear(&err);
    upf_status got = upf_dataset_read(path, &ds, &err);
    ck_assert_msg(got == st, "status %d (%s), expected %d", got, err.msg, st);
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(err.msg, want), "message \"%s\" lacks \"%s\"", err.msg, want);
}

/* ---- round trips ---- */

START_TEST(test_roundtrip_full)
{
    upf_dataset *ds = NULL, *back = NULL;
    upf_err err;
    ck_assert_int_eq(fix_build_full(&ds, &err), UPF_OK);
    ck_assert_msg(upf_dataset_write(ds, path, &err) == UPF_OK, "%s", err.msg);
    ck_assert_msg(upf_dataset_read(path, &back, &err) == UPF_OK, "%s", err.msg);
    const char *diff = fix_diff(ds, back);
    ck_assert_msg(diff == NULL, "round trip differs in %s", diff);
    ck_assert_int_eq(dir_entries(tmpdir), 1); /* no temporary left behind */
    upf_dataset_free(ds);
    upf_dataset_free(back);
}
END_TEST

/* Chunkings and compressions: none, light, heavy, tiny chunks (many chunks
 * per column, partial last chunk). */
START_TEST(test_roundtrip_options)
{
    static const upf_h5_write_opts opts[] = {
        { 0, 0, 1 }, { 1, 1, 3 }, { 9, -1, 7 }, { 0, 4, 1u << 20 }, { 1, 0, 2 },
    };
    upf_dataset *ds = NULL, *back = NULL;
    upf_err err;
    ck_assert_int_eq(fix_build_plain(37, 11, 1000, &ds, &err), UPF_OK);
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        ck_assert_msg(upf_dataset_write_opts(ds, path, &opts[k], &err) == UPF_OK, "%s", err.msg);
        ck_assert_msg(upf_dataset_read(path, &back, &err) == UPF_OK, "%s", err.msg);
        const char *diff = fix_diff(ds, back);
        ck_assert_msg(diff == NULL, "options %zu: round trip differs in %s", k, diff);
        upf_dataset_free(back);
    }
    upf_h5_write_opts bad = { 0, 0, 0 };
    ck_assert_int_eq(upf_dataset_write_opts(ds, path, &bad, &err), UPF_ERR_ARG);
    bad.chunk_rows = 1, bad.deflate = 10;
    ck_assert_int_eq(upf_dataset_write_opts(ds, path, &bad, &err), UPF_ERR_ARG);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_roundtrip_empty)
{
    upf_dataset *ds = NULL, *back = NULL;
    upf_err err;
    upf_builder *b = NULL;
    ck_assert_int_eq(upf_builder_create(&b, &err), UPF_OK);
    ck_assert_int_eq(upf_builder_finish(b, &ds, &err), UPF_OK);
    ck_assert_msg(upf_dataset_write(ds, path, &err) == UPF_OK, "%s", err.msg);
    ck_assert_msg(upf_dataset_read(path, &back, &err) == UPF_OK, "%s", err.msg);
    const char *diff = fix_diff(ds, back);
    ck_assert_msg(diff == NULL, "round trip differs in %s", diff);
    ck_assert_ptr_null(back->ev_query);
    ck_assert_ptr_null(back->user_signup);
    ck_assert_uint_eq(back->n_campaigns, 0);
    ck_assert_ptr_null(back->source);
    upf_dataset_free(ds);
    upf_dataset_free(back);
    /* users and items but no events */
    ck_assert_int_eq(fix_build_plain(3, 2, 0, &ds, &err), UPF_OK);
    ck_assert_msg(upf_dataset_write(ds, path, &err) == UPF_OK, "%s", err.msg);
    ck_assert_msg(upf_dataset_read(path, &back, &err) == UPF_OK, "%s", err.msg);
    ck_assert_ptr_null(fix_diff(ds, back));
    ck_assert_int_eq(back->user_ptr[3], 0);
    upf_dataset_free(ds);
    upf_dataset_free(back);
}
END_TEST

/* More rows than one read block (1M): exercises the block loop's edges. */
START_TEST(test_roundtrip_multiblock)
{
    upf_dataset *ds = NULL, *back = NULL;
    upf_err err;
    ck_assert_int_eq(fix_build_plain(1000, 500, ((int64_t)1 << 20) + 4099, &ds, &err), UPF_OK);
    upf_h5_write_opts o = upf_h5_write_opts_default();
    o.chunk_rows = 100000; /* blocks of 1,000,000 rows: 2 blocks, the last partial */
    ck_assert_msg(upf_dataset_write_opts(ds, path, &o, &err) == UPF_OK, "%s", err.msg);
    ck_assert_msg(upf_dataset_read(path, &back, &err) == UPF_OK, "%s", err.msg);
    const char *diff = fix_diff(ds, back);
    ck_assert_msg(diff == NULL, "round trip differs in %s", diff);
    upf_dataset_free(ds);
    upf_dataset_free(back);
}
END_TEST

static long file_bytes(const char *p, unsigned char **data)
{
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)n);
    ck_assert_uint_eq(fread(*data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return n;
}

/* The same dataset gives the same bytes (no timestamps in the file). */
START_TEST(test_write_deterministic)
{
    char p2[4400];
    snprintf(p2, sizeof p2, "%s/again.h5", tmpdir);
    write_full(path);
    sleep(1);
    write_full(p2);
    unsigned char *a, *b;
    long na = file_bytes(path, &a), nb = file_bytes(p2, &b);
    ck_assert_int_eq(na, nb);
    ck_assert_msg(memcmp(a, b, (size_t)na) == 0, "two writes of one dataset differ");
    free(a);
    free(b);
}
END_TEST

/* Overwriting keeps the old file until the new one is complete. */
START_TEST(test_write_replaces)
{
    upf_dataset *ds = NULL, *back = NULL;
    upf_err err;
    write_full(path);
    ck_assert_int_eq(fix_build_plain(5, 5, 20, &ds, &err), UPF_OK);
    ck_assert_int_eq(upf_dataset_write(ds, path, &err), UPF_OK);
    ck_assert_int_eq(upf_dataset_read(path, &back, &err), UPF_OK);
    ck_assert_ptr_null(fix_diff(ds, back));
    ck_assert_int_eq(dir_entries(tmpdir), 1);
    upf_dataset_free(ds);
    upf_dataset_free(back);
}
END_TEST

/* ---- refusals ---- */

START_TEST(test_refuse_missing_file)
{
    snprintf(path, sizeof path, "%s/nope.h5", tmpdir);
    expect_refusal(UPF_ERR_IO, "nope.h5: cannot open: No such file or directory");
    snprintf(path, sizeof path, "%s", tmpdir);
    expect_refusal(UPF_ERR_IO, "not a regular file");
}
END_TEST

START_TEST(test_refuse_not_hdf5)
{
    FILE *f = fopen(path, "w");
    fputs("user,item,time\n1,2,3\n", f);
    fclose(f);
    expect_refusal(UPF_ERR_FORMAT, "ds.h5: not an HDF5 file");
    f = fopen(path, "w"); /* empty */
    fclose(f);
    expect_refusal(UPF_ERR_FORMAT, "not an HDF5 file");
}
END_TEST

static hid_t new_h5(void)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    return f;
}

static void put_str_attr(hid_t obj, const char *name, const char *val)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(H5Awrite(a, t, &val), 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

static void put_int_attr(hid_t obj, const char *name, int v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(H5Awrite(a, H5T_NATIVE_INT, &v), 0);
    H5Aclose(a);
    H5Sclose(sp);
}

START_TEST(test_refuse_not_ours)
{
    hid_t f = new_h5();
    H5Fclose(f);
    expect_refusal(UPF_ERR_FORMAT, "not an upfunnel dataset (an HDF5 file without the root attribute format");
    f = new_h5();
    put_str_attr(f, "format", "pandas-table");
    H5Fclose(f);
    expect_refusal(UPF_ERR_FORMAT, "not an upfunnel dataset (root attribute format is \"pandas-table\"");
    f = new_h5();
    put_int_attr(f, "format", 1);
    H5Fclose(f);
    expect_refusal(UPF_ERR_FORMAT, "attribute format: expected one string, got an integer attribute");
    f = new_h5();
    put_str_attr(f, "format", UPF_DATASET_FORMAT);
    H5Fclose(f);
    expect_refusal(UPF_ERR_FORMAT, "no attribute version");
}
END_TEST

START_TEST(test_refuse_newer_version)
{
    write_full(path);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(H5Adelete(f, "version"), 0);
    put_int_attr(f, "version", 2);
    H5Fclose(f);
    expect_refusal(UPF_ERR_VERSION, "dataset schema version 2 was written by a newer upfunnel (this build reads version 1)");
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Adelete(f, "version");
    put_int_attr(f, "version", 0);
    H5Fclose(f);
    expect_refusal(UPF_ERR_FORMAT, "dataset schema version 0 (expected 1..1)");
}
END_TEST

/* Replaces dataset name of the fixture file with one of type t, rank and dims. */
static void replace_dset(const char *name, hid_t t, int rank, const hsize_t *dims, hid_t dcpl)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    ck_assert_int_ge(H5Ldelete(f, name, H5P_DEFAULT), 0);
    if (t >= 0) {
        hid_t sp = H5Screate_simple(rank, dims, NULL);
        hid_t d = H5Dcreate2(f, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        ck_assert_int_ge(d, 0);
        H5Dclose(d);
        H5Sclose(sp);
    }
    H5Fclose(f);
}

START_TEST(test_refuse_wrong_class)
{
    write_full(path);
    hsize_t dims[1] = { 10 };
    replace_dset("/events/time", H5T_IEEE_F64LE, 1, dims, H5P_DEFAULT);
    expect_refusal(UPF_ERR_FORMAT, "ds.h5: /events/time: expected an integer dataset, got a float dataset");
    write_full(path);
    replace_dset("/events/value", H5T_STD_I32LE, 1, dims, H5P_DEFAULT);
    expect_refusal(UPF_ERR_FORMAT, "/events/value: expected a float dataset, got an integer dataset");
    write_full(path);
    hsize_t four[1] = { 4 };
    replace_dset("/users/id", H5T_STD_I64LE, 1, four, H5P_DEFAULT);
    expect_refusal(UPF_ERR_FORMAT, "/users/id: expected a string dataset, got an integer dataset");
    write_full(path);
    hid_t s = H5Tcopy(H5T_C_S1);
    H5Tset_size(s, 4);
    replace_dset("/events/type", s, 1, dims, H5P_DEFAULT);
    H5Tclose(s);
    expect_refusal(UPF_ERR_FORMAT, "/events/type: expected an enum (or integer) dataset, got a string dataset");
}
END_TEST

START_TEST(test_refuse_wrong_rank_length)
{
    write_full(path);
    hsize_t dims2[2] = { 10, 2 };
    replace_dset("/events/item", H5T_STD_I32LE, 2, dims2, H5P_DEFAULT);
    expect_refusal(UPF_ERR_FORMAT, "/events/item: expected 1 dimension, got 2");
    write_full(path);
    hsize_t nine[1] = { 9 };
    replace_dset("/events/item", H5T_STD_I32LE, 1, nine, H5P_DEFAULT);
    expect_refusal(UPF_ERR_FORMAT, "/events/item: expected 10 rows (as /events/user), got 9");
    write_full(path);
    hsize_t four[1] = { 4 };
    replace_dset("/events/user_ptr", H5T_STD_I64LE, 1, four, H5P_DEFAULT);
    expect_refusal(UPF_ERR_FORMAT, "/events/user_ptr: expected 5 rows (one more than the users), got 4");
    write_full(path);
    hsize_t two[1] = { 2 };
    replace_dset("/campaigns/hillstrom/outcome_spend", H5T_IEEE_F32LE, 1, two, H5P_DEFAULT);
    expect_refusal(UPF_ERR_FORMAT, "/campaigns/hillstrom/outcome_spend: expected 3 rows (as /campaigns/hillstrom/user), got 2");
    write_full(path);
    replace_dset("/users/attr_value", H5T_IEEE_F32LE, 1, two, H5P_DEFAULT);
    expect_refusal(UPF_ERR_FORMAT, "/users/attr_value: expected 3 rows (as attr_index), got 2");
}
END_TEST

START_TEST(test_refuse_missing_parts)
{
    write_full(path);
    replace_dset("/events/time", -1, 0, NULL, H5P_DEFAULT);
    expect_refusal(UPF_ERR_FORMAT, "/events/time: missing (required by schema version 1)");
    write_full(path);
    replace_dset("/items/attr_names", -1, 0, NULL, H5P_DEFAULT);
    expect_refusal(UPF_ERR_FORMAT, "/items/attr_*: expected all of attr_ptr, _index, _value and _names, or none");
    write_full(path);
    replace_dset("/messages/arm", -1, 0, NULL, H5P_DEFAULT);
    expect_refusal(UPF_ERR_FORMAT, "/messages/arm: missing");
}
END_TEST

START_TEST(test_refuse_unknown_enum)
{
    write_full(path);
    hid_t t = H5Tenum_create(H5T_STD_U8LE);
    uint8_t v = 1;
    H5Tenum_insert(t, "view", &v);
    v = 8;
    H5Tenum_insert(t, "wishlist", &v);
    hsize_t dims[1] = { 10 };
    replace_dset("/events/type", t, 1, dims, H5P_DEFAULT);
    H5Tclose(t);
    expect_refusal(UPF_ERR_FORMAT, "/events/type: enum member \"wishlist\" = 8 is not one this build knows");
    /* a renumbered member is refused too */
    write_full(path);
    t = H5Tenum_create(H5T_STD_U8LE);
    v = 2;
    H5Tenum_insert(t, "view", &v);
    replace_dset("/events/type", t, 1, dims, H5P_DEFAULT);
    H5Tclose(t);
    expect_refusal(UPF_ERR_FORMAT, "enum member \"view\" = 2");
}
END_TEST

START_TEST(test_refuse_external_virtual)
{
    write_full(path);
    char ext[4400];
    snprintf(ext, sizeof ext, "%s/raw.bin", tmpdir);
    FILE *f = fopen(ext, "wb");
    char zeros[80] = { 0 };
    fwrite(zeros, 1, sizeof zeros, f);
    fclose(f);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    ck_assert_int_ge(H5Pset_external(dcpl, ext, 0, 80), 0);
    hsize_t dims[1] = { 10 };
    replace_dset("/events/time", H5T_STD_I64LE, 1, dims, dcpl);
    H5Pclose(dcpl);
    expect_refusal(UPF_ERR_FORMAT, "/events/time: external storage is refused");

    /* a virtual dataset mapping another file's dataset */
    char src[4400];
    snprintf(src, sizeof src, "%s/src.h5", tmpdir);
    hid_t sf = H5Fcreate(src, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t sd = H5Dcreate2(sf, "t", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(sd);
    H5Fclose(sf);
    write_full(path);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    ck_assert_int_ge(H5Pset_virtual(dcpl, sp, src, "/t", sp), 0);
    replace_dset("/events/time", H5T_STD_I64LE, 1, dims, dcpl);
    H5Pclose(dcpl);
    H5Sclose(sp);
    expect_refusal(UPF_ERR_FORMAT, "/events/time: virtual storage is refused");
}
END_TEST

/* A well-formed file whose content breaks a rule is refused by validation. */
START_TEST(test_refuse_invalid_content)
{
    write_full(path);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "/events/time", H5P_DEFAULT);
    int64_t t[10];
    H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, t);
    t[2] = 0; /* before row 1's 200, same user */
    ck_assert_int_ge(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, t), 0);
    H5Dclose(d);
    H5Fclose(f);
    expect_refusal(UPF_ERR_DATA, "ds.h5: /events/time: row 2 (user 0): 0 is before the previous event's 200");

    /* attr_ptr's last entry must match attr_index's length */
    write_full(path);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    d = H5Dopen2(f, "/users/attr_ptr", H5P_DEFAULT);
    int64_t p[5];
    H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, p);
    p[4] = 1000;
    H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, p);
    H5Dclose(d);
    H5Fclose(f);
    expect_refusal(UPF_ERR_FORMAT, "/users/attr_ptr: last entry 1000 (expected 3, the length of attr_index)");

    /* a user_ptr pointing past the events */
    write_full(path);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    d = H5Dopen2(f, "/events/user_ptr", H5P_DEFAULT);
    H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, p);
    p[1] = 1000000;
    H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, p);
    H5Dclose(d);
    H5Fclose(f);
    expect_refusal(UPF_ERR_DATA, "/events/user_ptr: row 1: 1000000");
}
END_TEST

/* Truncation at many lengths: always an error, never a crash or a hang. */
START_TEST(test_refuse_truncated)
{
    write_full(path);
    unsigned char *data;
    long n = file_bytes(path, &data);
    for (long len = 0; len < n; len += len < 4096 ? 97 : 1009) {
        FILE *f = fopen(path, "wb");
        fwrite(data, 1, (size_t)len, f);
        fclose(f);
        upf_dataset *ds = NULL;
        upf_err err;
        upf_status st = upf_dataset_read(path, &ds, &err);
        ck_assert_msg(st != UPF_OK, "a file truncated to %ld of %ld bytes was accepted", len, n);
        ck_assert_ptr_null(ds);
        ck_assert_msg(strstr(err.msg, "ds.h5"), "message without the path: %s", err.msg);
    }
    /* The HDF5 stack's innermost message rides along in parentheses. */
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, 3000, f);
    fclose(f);
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_ne(upf_dataset_read(path, &ds, &err), UPF_OK);
    ck_assert_msg(strchr(err.msg, '('), "no HDF5 detail in \"%s\"", err.msg);
    free(data);
}
END_TEST

/* Flipped bytes anywhere: an error or a valid dataset, never a crash. */
START_TEST(test_corrupt_bytes_no_crash)
{
    write_full(path);
    unsigned char *data;
    long n = file_bytes(path, &data);
    int refused = 0;
    for (long at = 0; at < n; at += 61) {
        unsigned char *copy = malloc((size_t)n);
        memcpy(copy, data, (size_t)n);
        copy[at] ^= 0x5A;
        FILE *f = fopen(path, "wb");
        fwrite(copy, 1, (size_t)n, f);
        fclose(f);
        free(copy);
        upf_dataset *ds = NULL;
        upf_err err;
        upf_status st = upf_dataset_read(path, &ds, &err);
        if (st == UPF_OK) {
            ck_assert_int_eq(upf_dataset_validate(ds, &err), UPF_OK);
            upf_dataset_free(ds);
        } else {
            ck_assert_ptr_null(ds);
            refused++;
        }
    }
    ck_assert_int_gt(refused, 0);
    free(data);
}
END_TEST

/* ---- writing: failures leave nothing behind ---- */

START_TEST(test_write_refuses_invalid)
{
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(fix_build_full(&ds, &err), UPF_OK);
    ds->ev_time[1] = 0;
    ck_assert_int_eq(upf_dataset_write(ds, path, &err), UPF_ERR_DATA);
    ck_assert_msg(strstr(err.msg, "refusing to write an invalid dataset"), "%s", err.msg);
    ck_assert_int_eq(dir_entries(tmpdir), 0);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_write_bad_directory)
{
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(fix_build_full(&ds, &err), UPF_OK);
    snprintf(path, sizeof path, "%s/no/such/dir/x.h5", tmpdir);
    ck_assert_int_eq(upf_dataset_write(ds, path, &err), UPF_ERR_IO);
    ck_assert_msg(strstr(err.msg, "x.h5: cannot create the temporary file"), "%s", err.msg);
    upf_dataset_free(ds);
}
END_TEST

/* A full disk, simulated with RLIMIT_FSIZE (writes fail with EFBIG once the
 * file would pass the limit): the write fails with a message, nothing is
 * left under the final name, no temporary stays, an older file survives. */
START_TEST(test_write_disk_full)
{
    upf_dataset *ds = NULL, *back = NULL;
    upf_err err;
    write_full(path); /* an existing file that must survive */
    ck_assert_int_eq(fix_build_plain(2000, 300, 300000, &ds, &err), UPF_OK);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 256 * 1024;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    upf_status st = upf_dataset_write(ds, path, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    ck_assert_int_eq(st, UPF_ERR_IO);
    ck_assert_msg(strstr(err.msg, "ds.h5"), "%s", err.msg);
    ck_assert_int_eq(dir_entries(tmpdir), 1);
    ck_assert_int_eq(upf_dataset_read(path, &back, &err), UPF_OK); /* the old file, intact */
    ck_assert_uint_eq(back->n_users, 4);
    upf_dataset_free(back);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_interrupt)
{
    upf_dataset *ds = NULL, *back = NULL;
    upf_err err;
    ck_assert_int_eq(fix_build_full(&ds, &err), UPF_OK);
    upf_set_interrupted(1);
    upf_status st = upf_dataset_write(ds, path, &err);
    upf_set_interrupted(0);
    ck_assert_int_eq(st, UPF_ERR_INTERRUPTED);
    ck_assert_int_eq(dir_entries(tmpdir), 0);
    ck_assert_int_eq(upf_dataset_write(ds, path, &err), UPF_OK);
    upf_set_interrupted(1);
    st = upf_dataset_read(path, &back, &err);
    upf_set_interrupted(0);
    ck_assert_int_eq(st, UPF_ERR_INTERRUPTED);
    ck_assert_ptr_null(back);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_read_alloc_failures)
{
    write_full(path);
    long n;
    for (n = 1; n < 10000; n++) {
        upf_dataset *ds = NULL;
        upf_err err = { 0 };
        upf_alloc_fail_after(n);
        upf_status st = upf_dataset_read(path, &ds, &err);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            upf_dataset_free(ds);
            break;
        }
        ck_assert_msg(st == UPF_ERR_NOMEM, "allocation %ld: status %d (%s)", n, st, err.msg);
        ck_assert_ptr_null(ds);
    }
    ck_assert_int_gt(n, 50);
    ck_assert_int_lt(n, 10000);
}
END_TEST

START_TEST(test_write_alloc_failures)
{
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(fix_build_full(&ds, &err), UPF_OK);
    long n;
    for (n = 1; n < 10000; n++) {
        upf_alloc_fail_after(n);
        upf_status st = upf_dataset_write(ds, path, &err);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) break;
        ck_assert_msg(st == UPF_ERR_NOMEM, "allocation %ld: status %d (%s)", n, st, err.msg);
        ck_assert_int_eq(dir_entries(tmpdir), 0);
    }
    ck_assert_int_gt(n, 1);
    ck_assert_int_lt(n, 10000);
    upf_dataset_free(ds);
}
END_TEST

/* ---- the block iterator ---- */

START_TEST(test_events_iterator)
{
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(fix_build_full(&ds, &err), UPF_OK);
    upf_h5_write_opts o = upf_h5_write_opts_default();
    o.chunk_rows = 3;
    ck_assert_int_eq(upf_dataset_write_opts(ds, path, &o, &err), UPF_OK);
    for (size_t block = 1; block <= 11; block += 2) {
        upf_h5_events *it = NULL;
        ck_assert_msg(upf_h5_events_open(path, block, &it, &err) == UPF_OK, "%s", err.msg);
        int64_t n;
        size_t nu, ni;
        upf_h5_events_sizes(it, &n, &nu, &ni);
        ck_assert_int_eq(n, 10);
        ck_assert_uint_eq(nu, 4);
        ck_assert_uint_eq(ni, 4);
        int64_t row = 0;
        upf_event_block blk;
        for (;;) {
            ck_assert_int_eq(upf_h5_events_next(it, &blk, &err), UPF_OK);
            if (blk.n == 0) break;
            ck_assert_int_eq(blk.row0, row);
            ck_assert_int_le(blk.n, (int64_t)block);
            ck_assert_ptr_nonnull(blk.query);
            for (int64_t k = 0; k < blk.n; k++, row++) {
                ck_assert_int_eq(blk.user[k], ds->ev_user[row]);
                ck_assert_int_eq(blk.item[k], ds->ev_item[row]);
                ck_assert_int_eq(blk.time[k], ds->ev_time[row]);
                ck_assert_int_eq(blk.type[k], ds->ev_type[row]);
                ck_assert(blk.value[k] == ds->ev_value[row]);
                ck_assert_int_eq(blk.query[k], ds->ev_query[row]);
            }
        }
        ck_assert_int_eq(row, 10);
        ck_assert_int_eq(upf_h5_events_next(it, &blk, &err), UPF_OK); /* stays at the end */
        ck_assert_int_eq(blk.n, 0);
        upf_h5_events_close(it);
    }
    upf_h5_events_close(NULL);
    upf_dataset_free(ds);
}
END_TEST

/* Order is checked across block boundaries. */
START_TEST(test_events_iterator_unsorted)
{
    write_full(path);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "/events/time", H5P_DEFAULT);
    int64_t t[10];
    H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, t);
    t[6] = 50; /* bob: 100, 300, then 50 */
    H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, t);
    H5Dclose(d);
    H5Fclose(f);
    upf_h5_events *it = NULL;
    upf_err err;
    ck_assert_int_eq(upf_h5_events_open(path, 6, &it, &err), UPF_OK);
    upf_event_block blk;
    ck_assert_int_eq(upf_h5_events_next(it, &blk, &err), UPF_OK);
    ck_assert_int_eq(upf_h5_events_next(it, &blk, &err), UPF_ERR_DATA);
    ck_assert_msg(strstr(err.msg, "/events/time: row 6: 50 is before the previous event's 300"), "%s", err.msg);
    upf_h5_events_close(it);
    snprintf(path, sizeof path, "%s/none.h5", tmpdir);
    ck_assert_int_eq(upf_h5_events_open(path, 0, &it, &err), UPF_ERR_IO);
    ck_assert_ptr_null(it);
}
END_TEST

Suite *h5_io_suite(void)
{
    Suite *s = suite_create("h5_io");
    TCase *tc = tcase_create("roundtrip");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_roundtrip_full);
    tcase_add_test(tc, test_roundtrip_options);
    tcase_add_test(tc, test_roundtrip_empty);
    tcase_add_test(tc, test_roundtrip_multiblock);
    tcase_add_test(tc, test_write_deterministic);
    tcase_add_test(tc, test_write_replaces);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    tc = tcase_create("refusals");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_refuse_missing_file);
    tcase_add_test(tc, test_refuse_not_hdf5);
    tcase_add_test(tc, test_refuse_not_ours);
    tcase_add_test(tc, test_refuse_newer_version);
    tcase_add_test(tc, test_refuse_wrong_class);
    tcase_add_test(tc, test_refuse_wrong_rank_length);
    tcase_add_test(tc, test_refuse_missing_parts);
    tcase_add_test(tc, test_refuse_unknown_enum);
    tcase_add_test(tc, test_refuse_external_virtual);
    tcase_add_test(tc, test_refuse_invalid_content);
    tcase_add_test(tc, test_refuse_truncated);
    tcase_add_test(tc, test_corrupt_bytes_no_crash);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    tc = tcase_create("failures");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_write_refuses_invalid);
    tcase_add_test(tc, test_write_bad_directory);
    tcase_add_test(tc, test_write_disk_full);
    tcase_add_test(tc, test_interrupt);
    tcase_add_test(tc, test_read_alloc_failures);
    tcase_add_test(tc, test_write_alloc_failures);
    tcase_add_test(tc, test_events_iterator);
    tcase_add_test(tc, test_events_iterator_unsorted);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}
