/* test_csv.c - the streaming delimited-text reader: quoting, line ends, BOM,
 * embedded newlines, empty fields, whitespace runs, multi-byte separators,
 * malformed rows (message with file:line:column, then recovery), and a
 * random round trip through tiny buffers that forces every refill path. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../datasets/csv.h"
#include "../model/rng.h"
#include "testutil.h"

/* Parses text and renders rows as "f1|f2\n" with fields as "[text]@line:col". */
static char *render(const char *text, size_t n, upf_csv_opts o, int show_pos)
{
    upf_csv *r = NULL;
    upf_err err;
    upf_err_clear(&err);
    ck_assert_msg(upf_csv_open_mem("t.csv", text, n, &o, &r, &err) == UPF_OK, "%s", err.msg);
    size_t cap = 8192, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    int rc;
    while ((rc = upf_csv_next(r, &err)) != 0) {
        if (rc < 0) {
            len += (size_t)snprintf(out + len, cap - len, "ERR{%s}\n", err.msg);
            continue;
        }
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        for (size_t i = 0; i < nf; i++) {
            ck_assert(f[i].p[f[i].len] == '\0');
            if (show_pos)
                len += (size_t)snprintf(out + len, cap - len, "%s[%s]@%lld:%lld", i ? "|" : "", f[i].p,
                                        (long long)f[i].line, (long long)f[i].col);
            else
                len += (size_t)snprintf(out + len, cap - len, "%s[%s]", i ? "|" : "", f[i].p);
        }
        len += (size_t)snprintf(out + len, cap - len, "\n");
        ck_assert(len < cap);
    }
    upf_csv_close(r);
    return out;
}

static upf_csv_opts opts(const char *delim, int header)
{
    upf_csv_opts o = upf_csv_opts_default();
    upf_err err;
    ck_assert(upf_csv_set_delim(&o, delim, &err) == UPF_OK);
    o.header = header;
    return o;
}

#define CHECK_RENDER(text, o, pos, want)                                   \
    do {                                                                   \
        char *got_ = render((text), sizeof(text) - 1, (o), (pos));        \
        ck_assert_msg(strcmp(got_, (want)) == 0, "got:\n%s\nwant:\n%s", got_, (want)); \
        free(got_);                                                        \
    } while (0)

START_TEST(test_quoting)
{
    CHECK_RENDER("a,\"b,c\",d\n\"say \"\"hi\"\"\",\"\",x\n", opts(",", 0), 0,
                 "[a]|[b,c]|[d]\n[say \"hi\"]|[]|[x]\n");
    /* a quote inside an unquoted field is an ordinary byte */
    CHECK_RENDER("ab\"c,d\n", opts(",", 0), 0, "[ab\"c]|[d]\n");
    /* embedded newline: the next row's line number counts it */
    CHECK_RENDER("1,\"two\nlines\",3\n4,5,6\n", opts(",", 0), 1,
                 "[1]@1:1|[two\nlines]@1:3|[3]@2:8\n[4]@3:1|[5]@3:3|[6]@3:5\n");
    /* embedded CRLF kept as is inside quotes */
    CHECK_RENDER("\"a\r\nb\",c\r\n", opts(",", 0), 0, "[a\r\nb]|[c]\n");
}
END_TEST

START_TEST(test_line_ends_bom_blank)
{
    CHECK_RENDER("\xEF\xBB\xBFid,x\r\n1,2\r\n\r\n3,4", opts(",", 0), 1,
                 "[id]@1:1|[x]@1:4\n[1]@2:1|[2]@2:3\n[3]@4:1|[4]@4:3\n");
    CHECK_RENDER("a,b\rc,d\r", opts(",", 0), 1, "[a]@1:1|[b]@1:3\n[c]@2:1|[d]@2:3\n");
    CHECK_RENDER("\n\n\nx\n\n", opts(",", 0), 1, "[x]@4:1\n");
    CHECK_RENDER("", opts(",", 0), 0, "");
}
END_TEST

START_TEST(test_empty_fields)
{
    CHECK_RENDER("a,,c\n,b,\n,,\n", opts(",", 0), 0, "[a]|[]|[c]\n[]|[b]|[]\n[]|[]|[]\n");
}
END_TEST

START_TEST(test_whitespace_runs)
{
    /* CDNOW's shape: a leading space, runs of spaces, CRLF */
    CHECK_RENDER(" 00001 19970101  1   11.77\r\n 00002 19970112  1   12.00\r\n  \r\n", opts("whitespace", 0), 1,
                 "[00001]@1:2|[19970101]@1:8|[1]@1:18|[11.77]@1:22\n"
                 "[00002]@2:2|[19970112]@2:8|[1]@2:18|[12.00]@2:22\n");
    CHECK_RENDER("a\t b \t\tc   \n", opts("ws", 0), 0, "[a]|[b]|[c]\n");
}
END_TEST

START_TEST(test_other_delimiters)
{
    CHECK_RENDER("1::Toy Story (1995)::Animation|Children's\na:b::c:\n", opts("::", 0), 0,
                 "[1]|[Toy Story (1995)]|[Animation|Children's]\n[a:b]|[c:]\n");
    CHECK_RENDER("\"a::b\"::c\n\"x\":y\nz::w\n", opts("::", 0), 0,
                 "[a::b]|[c]\nERR{t.csv:2:4: expected the delimiter \"::\" or a line end after the closing quote}\n"
                 "[z]|[w]\n");
    upf_csv_opts o = opts("|", 0);
    o.quote = 0; /* u.item: a title may start with a quote */
    CHECK_RENDER("1|\"Quote\" title|x\n", o, 0, "[1]|[\"Quote\" title]|[x]\n");
    CHECK_RENDER("196\t242\t3\t881250949\n", opts("tab", 0), 0, "[196]|[242]|[3]|[881250949]\n");
}
END_TEST

START_TEST(test_header_columns)
{
    upf_csv_opts o = opts(",", 1);
    const char text[] = "userId,movieId,Rating\n1,2,3\n";
    upf_csv *r = NULL;
    upf_err err;
    ck_assert(upf_csv_open_mem("r.csv", text, sizeof text - 1, &o, &r, &err) == UPF_OK);
    ck_assert_uint_eq(upf_csv_header_count(r), 3);
    size_t idx = 9;
    ck_assert(upf_csv_column(r, "movieId", &idx, &err) == UPF_OK && idx == 1);
    ck_assert(upf_csv_column(r, "rating", &idx, &err) == UPF_OK && idx == 2); /* case-insensitive */
    ck_assert(upf_csv_column(r, "1", &idx, &err) == UPF_OK && idx == 0);
    ck_assert(upf_csv_column(r, "time", &idx, &err) == UPF_ERR_ARG);
    ck_assert_msg(strstr(err.msg, "r.csv:1: no column \"time\"") && strstr(err.msg, "userId, movieId, Rating"), "%s",
                  err.msg);
    ck_assert(upf_csv_column(r, "4", &idx, &err) == UPF_ERR_ARG);
    ck_assert_msg(strstr(err.msg, "from 1 to 3"), "%s", err.msg);
    ck_assert_int_eq(upf_csv_next(r, &err), 1);
    ck_assert_int_eq(upf_csv_line(r), 2);
    ck_assert_int_eq(upf_csv_next(r, &err), 0);
    upf_csv_close(r);

    /* an empty file has no header */
    ck_assert(upf_csv_open_mem("e.csv", "", 0, &o, &r, &err) == UPF_OK);
    ck_assert_uint_eq(upf_csv_header_count(r), 0);
    ck_assert_int_eq(upf_csv_next(r, &err), 0);
    upf_csv_close(r);
}
END_TEST

START_TEST(test_malformed_rows)
{
    /* garbage after a closing quote: error with line:column, then the next line reads */
    CHECK_RENDER("a,b\n\"x\"y,2\nc,d\n", opts(",", 0), 0,
                 "[a]|[b]\nERR{t.csv:2:4: expected a delimiter or a line end after the closing quote, got 'y'}\n[c]|[d]\n");
    /* an unclosed quote runs to the end of the file */
    CHECK_RENDER("a,b\nc,\"open\nmore\n", opts(",", 0), 0,
                 "[a]|[b]\nERR{t.csv:2:3: quoted field is not closed before the end of the file}\n");
    /* a NUL byte: probably a binary file */
    CHECK_RENDER("a,b\nc\0d,e\nf,g\n", opts(",", 0), 0,
                 "[a]|[b]\nERR{t.csv:2:2: NUL byte in the text (is this a binary or compressed file?)}\n[f]|[g]\n");
}
END_TEST

START_TEST(test_file_and_errors)
{
    char *dir = upf_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/x.csv", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("\xEF\xBB\xBFk,v\n", f);
    for (int i = 0; i < 20000; i++) fprintf(f, "%d,\"val %d, with comma\"\n", i, i);
    fclose(f);
    upf_csv_opts o = opts(",", 1);
    o.buf_size = 100; /* forces many refills and one growth */
    upf_csv *r = NULL;
    upf_err err;
    ck_assert_msg(upf_csv_open(path, &o, &r, &err) == UPF_OK, "%s", err.msg);
    ck_assert_str_eq(upf_csv_header_name(r, 0), "k");
    int i = 0, rc;
    while ((rc = upf_csv_next(r, &err)) == 1) {
        size_t nf;
        const upf_csv_field *fl = upf_csv_row(r, &nf);
        char want[64];
        snprintf(want, sizeof want, "val %d, with comma", i);
        ck_assert_uint_eq(nf, 2);
        ck_assert_int_eq(atoi(fl[0].p), i);
        ck_assert_str_eq(fl[1].p, want);
        ck_assert_int_eq(fl[0].line, i + 2);
        i++;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(i, 20000);
    ck_assert(upf_csv_bytes(r) > 0);
    upf_csv_close(r);

    snprintf(path, sizeof path, "%s/missing.csv", dir);
    ck_assert(upf_csv_open(path, &o, &r, &err) == UPF_ERR_IO);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(err.msg, "missing.csv: cannot open: No such file"), "%s", err.msg);
    upf_test_rmdir(dir);
}
END_TEST

/* Random RFC 4180 documents: write fields (some needing quotes), parse with a
 * tiny buffer, and compare with what was written. */
START_TEST(test_random_roundtrip)
{
    upf_rng rng;
    upf_rng_seed(&rng, 7, 1);
    static const char alphabet[] = "ab,\"\n\r x;|0123456789abcdefghijklmnopqrstuvwxyz";
    for (int doc = 0; doc < 200; doc++) {
        size_t nrows = 1 + upf_rng_below(&rng, 30), ncols = 1 + upf_rng_below(&rng, 6);
        char *text = malloc(65536), *fields = malloc(nrows * ncols * 64);
        size_t tl = 0;
        int crlf = (int)upf_rng_below(&rng, 2);
        for (size_t i = 0; i < nrows; i++) {
            for (size_t j = 0; j < ncols; j++) {
                char *fv = fields + (i * ncols + j) * 64;
                size_t len = upf_rng_below(&rng, 40), k = 0;
                int quote = 0;
                for (; k < len; k++) {
                    fv[k] = alphabet[upf_rng_below(&rng, sizeof alphabet - 1)];
                    if (strchr(",\"\n\r", fv[k])) quote = 1;
                }
                fv[k] = '\0';
                if (ncols == 1 && len == 0) quote = 1; /* an empty single field would be a blank line */
                if (j) text[tl++] = ',';
                if (quote || upf_rng_below(&rng, 8) == 0) {
                    text[tl++] = '"';
                    for (size_t c = 0; c < len; c++) {
                        if (fv[c] == '"') text[tl++] = '"';
                        text[tl++] = fv[c];
                    }
                    text[tl++] = '"';
                } else {
                    memcpy(text + tl, fv, len);
                    tl += len;
                }
            }
            if (crlf) text[tl++] = '\r';
            text[tl++] = '\n';
        }
        upf_csv_opts o = opts(",", 0);
        o.buf_size = 64 + upf_rng_below(&rng, 64);
        upf_csv *r = NULL;
        upf_err err;
        char path[] = "/tmp/upf-csv-rt-XXXXXX";
        int fd = mkstemp(path);
        ck_assert(fd >= 0);
        ck_assert(write(fd, text, tl) == (ssize_t)tl);
        close(fd);
        ck_assert(upf_csv_open(path, &o, &r, &err) == UPF_OK);
        for (size_t i = 0; i < nrows; i++) {
            int rc = upf_csv_next(r, &err);
            ck_assert_msg(rc == 1, "doc %d row %zu: rc %d %s", doc, i, rc, err.msg);
            size_t nf;
            const upf_csv_field *fl = upf_csv_row(r, &nf);
            ck_assert_uint_eq(nf, ncols);
            for (size_t j = 0; j < ncols; j++)
                ck_assert_msg(strcmp(fl[j].p, fields + (i * ncols + j) * 64) == 0, "doc %d row %zu col %zu", doc, i, j);
        }
        ck_assert_int_eq(upf_csv_next(r, &err), 0);
        upf_csv_close(r);
        unlink(path);
        free(text);
        free(fields);
    }
}
END_TEST

START_TEST(test_encodings)
{
    char out[64];
    size_t n = upf_latin1_to_utf8("Mis\xe9rables \xa3", 13, out);
    ck_assert_str_eq(out, "Mis\xc3\xa9rables \xc2\xa3");
    ck_assert_uint_eq(n, 15);
    n = upf_latin1_to_utf8("", 0, out);
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_set_delim)
{
    upf_csv_opts o = upf_csv_opts_default();
    upf_err err;
    ck_assert(upf_csv_set_delim(&o, "tab", &err) == UPF_OK && o.delim[0] == '\t');
    ck_assert(upf_csv_set_delim(&o, "::", &err) == UPF_OK && o.delim_kind == UPF_CSV_DELIM_STRING);
    ck_assert(upf_csv_set_delim(&o, "whitespace", &err) == UPF_OK && o.delim_kind == UPF_CSV_DELIM_WHITESPACE);
    o = upf_csv_opts_default();
    ck_assert(upf_csv_set_delim(&o, "", &err) == UPF_ERR_ARG);
    ck_assert(upf_csv_set_delim(&o, "\"", &err) == UPF_ERR_ARG);
    ck_assert(upf_csv_set_delim(&o, "12345678", &err) == UPF_ERR_ARG);
}
END_TEST

Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_quoting);
    tcase_add_test(tc, test_line_ends_bom_blank);
    tcase_add_test(tc, test_empty_fields);
    tcase_add_test(tc, test_whitespace_runs);
    tcase_add_test(tc, test_other_delimiters);
    tcase_add_test(tc, test_header_columns);
    tcase_add_test(tc, test_malformed_rows);
    tcase_add_test(tc, test_file_and_errors);
    tcase_add_test(tc, test_random_roundtrip);
    tcase_add_test(tc, test_encodings);
    tcase_add_test(tc, test_set_delim);
    suite_add_tcase(s, tc);
    return s;
}
