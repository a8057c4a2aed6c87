/* numparse.h - number parsing for the CSV importers: integers and decimals
 * from (pointer, length) slices, without a NUL terminator or locale.
 *
 * Two versions of each parser (STYLE.md section 0): a plain reference built on
 * strtoll/strtod, and a hand-written fast path that handles the common shapes
 * exactly (integers; decimals with at most 19 significant digits and a small
 * exponent, via Clinger's exact fast path) and falls back to strtod for the
 * rest. Both accept exactly the same texts and give bit-identical results;
 * tests/test_numparse.c compares them on random inputs.
 *
 * Accepted syntax: optional ASCII blanks around the number, an optional sign,
 * then digits with an optional '.' and fraction, and an optional exponent
 * (e/E, optional sign, digits). No hex, no "inf"/"nan", no thousands
 * separators. Entry points: upf_num_parse_i64, upf_num_parse_f64 (+ _ref).
 */
#ifndef UPF_NUMPARSE_H
#define UPF_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Results of the parsers. */
typedef enum upf_num_result {
    UPF_NUM_OK = 0,
    UPF_NUM_SYNTAX = 1,   /* not a number of the accepted syntax (empty too) */
    UPF_NUM_RANGE = 2     /* a number, but outside the target type's range */
} upf_num_result;

/* Parses s[0..n) as a base-10 int64. On failure *out = 0. */
upf_num_result upf_num_parse_i64(const char *s, size_t n, int64_t *out);
upf_num_result upf_num_parse_i64_ref(const char *s, size_t n, int64_t *out);

/* Parses s[0..n) as a double, correctly rounded (round-half-even, as strtod in
 * the C locale). Results that overflow to +-inf are UPF_NUM_RANGE; underflow
 * to zero or a subnormal is accepted. On failure *out = 0. */
upf_num_result upf_num_parse_f64(const char *s, size_t n, double *out);
upf_num_result upf_num_parse_f64_ref(const char *s, size_t n, double *out);

/* 1 when s[0..n) is the canonical decimal text of a non-negative int64 below
 * 2^62 ("0", "17", never "007" or "+1"); stores the value. Lets id interning
 * take a dense-integer fast path without changing which texts are equal. */
int upf_num_canonical_u62(const char *s, size_t n, uint64_t *out);

#endif
