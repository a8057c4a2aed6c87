/* svg_chart.h - small, dependency-free SVG charts for run directories: line
 * charts with optional confidence bands (Qini and uplift curves with the
 * random line and a bootstrap band) and grouped bar charts with error
 * whiskers (uplift by decile with standard errors).
 *
 * Hand-written SVG 1.1: axes with "nice" ticks (1, 2, 5 x 10^k) and labels,
 * light grid lines, a zero line when the range crosses 0, a legend, a
 * title. Text is XML-escaped. Non-finite points are skipped (a line breaks
 * there; a bar is left out). Not here: log axes, dates, interactivity.
 * Entry points: upf_svg_line_chart, upf_svg_bar_chart.
 */
#ifndef UPF_SVG_CHART_H
#define UPF_SVG_CHART_H

#include <stddef.h>

#include "../model/base.h"

typedef struct upf_svg_series {
    const char *label;        /* legend text (borrowed) */
    const double *x, *y;      /* (n) points, x ascending */
    size_t n;
    const double *lo, *hi;    /* (n) band around the line, or NULL */
    int dashed;               /* 0 solid, 1 dashed (e.g. random), 2 dotted */
    const char *color;        /* CSS color, or NULL for the palette */
} upf_svg_series;

typedef struct upf_svg_frame {
    const char *title;        /* borrowed */
    const char *xlabel, *ylabel;
    int width, height;        /* pixels; 0: 720 x 480 */
} upf_svg_frame;

/* An SVG document in *out (owned, upf_free; NUL-terminated, *len bytes).
 * UPF_ERR_ARG with no series or a series without points; UPF_ERR_NOMEM. */
upf_status upf_svg_line_chart(const upf_svg_frame *f, const upf_svg_series *s, size_t n_series, char **out,
                              size_t *len, upf_err *err);

/* Grouped bars: n_cats categories on the x axis (labels cats), n_groups bars
 * each (labels groups); value, err_lo, err_hi are (n_groups, n_cats)
 * row-major; the whiskers go from err_lo to err_hi (NULL: none). */
upf_status upf_svg_bar_chart(const upf_svg_frame *f, const char *const *cats, size_t n_cats,
                             const char *const *groups, size_t n_groups, const double *value, const double *err_lo,
                             const double *err_hi, char **out, size_t *len, upf_err *err);

#endif
