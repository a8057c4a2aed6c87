/* svg_chart.c - line and grouped-bar charts as SVG text (see svg_chart.h).
 * Layout: a fixed margin for the title, the axis labels and the legend; the
 * plot area maps data to pixels linearly with y growing upwards.
 */
#include "svg_chart.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *dash_attr(int dashed)
{
    return dashed == 1 ? " stroke-dasharray=\"6 4\"" : dashed == 2 ? " stroke-dasharray=\"2 3\"" : "";
}

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"};
#define N_PALETTE (sizeof palette / sizeof palette[0])

typedef struct buf {
    char *p;
    size_t n, cap;
    int failed;
} buf;

static void bprintf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(buf *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->failed = 1;
            return;
        }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 8192;
        while (cap < b->n + (size_t)k + 1) cap *= 2;
        char *q = upf_realloc(b->p, cap);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

static void bescape(buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': bprintf(b, "&amp;"); break;
        case '<': bprintf(b, "&lt;"); break;
        case '>': bprintf(b, "&gt;"); break;
        case '"': bprintf(b, "&quot;"); break;
        default: bprintf(b, "%c", *s);
        }
    }
}

/* A step of 1, 2 or 5 x 10^k giving about `want` ticks over [lo, hi]. */
static double nice_step(double lo, double hi, int want)
{
    double span = hi - lo;
    if (!(span > 0.0)) return 1.0;
    double raw = span / want, mag = pow(10.0, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1.0 : r < 3.5 ? 2.0 : r < 7.5 ? 5.0 : 10.0) * mag;
}

static void fmt_tick(char *s, size_t n, double v, double step)
{
    if (fabs(v) < step * 1e-9) v = 0.0;
    int dec = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6) dec = 6;
    if (fabs(v) >= 1e6 || (fabs(v) > 0 && fabs(v) < 1e-4)) snprintf(s, n, "%.2g", v);
    else snprintf(s, n, "%.*f", dec, v);
}

typedef struct frame {
    int W, H, left, right, top, bottom;
    double x0, x1, y0, y1;   /* data range */
    double xs, ys;           /* data steps between ticks */
} frame;

static double px(const frame *f, double x) { return f->left + (x - f->x0) / (f->x1 - f->x0) * (f->W - f->left - f->right); }
static double py(const frame *f, double y) { return f->H - f->bottom - (y - f->y0) / (f->y1 - f->y0) * (f->H - f->top - f->bottom); }

/* Expands a range to whole ticks; a flat range gets some room. */
static void expand(double *lo, double *hi, double *step)
{
    if (!(*hi > *lo)) {
        double c = *lo, pad = fabs(c) > 0 ? fabs(c) * 0.5 : 1.0;
        *lo = c - pad;
        *hi = c + pad;
    }
    *step = nice_step(*lo, *hi, 6);
    *lo = floor(*lo / *step + 1e-9) * *step;
    *hi = ceil(*hi / *step - 1e-9) * *step;
}

static void header(buf *b, const frame *f, const upf_svg_frame *uf)
{
    bprintf(b,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
            "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
            f->W, f->H, f->W, f->H, f->W, f->H);
    if (uf->title) {
        bprintf(b, "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">", f->W / 2);
        bescape(b, uf->title);
        bprintf(b, "</text>\n");
    }
}

static void axes(buf *b, const frame *f, const upf_svg_frame *uf, int x_ticks)
{
    char t[64];
    double L = f->left, R = f->W - f->right, T = f->top, B = f->H - f->bottom;
    /* y grid and ticks */
    for (double v = f->y0; v <= f->y1 + f->ys * 1e-6; v += f->ys) {
        double y = py(f, v);
        bprintf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n", L, y, R, y);
        fmt_tick(t, sizeof t, v, f->ys);
        bprintf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 6, y + 4, t);
        bprintf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", L - 4, y, L, y);
    }
    if (x_ticks)
        for (double v = f->x0; v <= f->x1 + f->xs * 1e-6; v += f->xs) {
            double x = px(f, v);
            bprintf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#f0f0f0\"/>\n", x, T, x, B);
            fmt_tick(t, sizeof t, v, f->xs);
            bprintf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x, B + 16, t);
            bprintf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", x, B, x, B + 4);
        }
    if (f->y0 < 0.0 && f->y1 > 0.0)
        bprintf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n", L, py(f, 0.0), R,
                py(f, 0.0));
    bprintf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n", L, T,
            R - L, B - T);
    if (uf->xlabel) {
        bprintf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">", (L + R) / 2, B + 38);
        bescape(b, uf->xlabel);
        bprintf(b, "</text>\n");
    }
    if (uf->ylabel) {
        bprintf(b,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" "
                "transform=\"rotate(-90 %.1f %.1f)\">",
                18.0, (T + B) / 2, 18.0, (T + B) / 2);
        bescape(b, uf->ylabel);
        bprintf(b, "</text>\n");
    }
}

static void legend(buf *b, const frame *f, const char *const *labels, const char *const *colors, const int *dashed,
                   const int *boxes, size_t n)
{
    double x = f->left + 10, y = f->top + 14;
    for (size_t i = 0; i < n; i++, y += 18) {
        if (boxes[i])
            bprintf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"10\" fill=\"%s\" fill-opacity=\"0.7\"/>\n", x,
                    y - 9, colors[i]);
        else
            bprintf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", x,
                    y - 4, x + 18, y - 4, colors[i], dash_attr(dashed[i]));
        bprintf(b, "<text x=\"%.1f\" y=\"%.1f\">", x + 24, y);
        bescape(b, labels[i]);
        bprintf(b, "</text>\n");
    }
}

static upf_status finish(buf *b, char **out, size_t *len, upf_err *err)
{
    bprintf(b, "</svg>\n");
    if (b->failed) {
        upf_free(b->p);
        return upf_err_set(err, UPF_ERR_NOMEM, "svg: out of memory");
    }
    *out = b->p;
    if (len) *len = b->n;
    return UPF_OK;
}

static void frame_init(frame *f, const upf_svg_frame *uf)
{
    f->W = uf->width > 0 ? uf->width : 720;
    f->H = uf->height > 0 ? uf->height : 480;
    f->left = 78;
    f->right = 24;
    f->top = 40;
    f->bottom = 56;
}

upf_status upf_svg_line_chart(const upf_svg_frame *uf, const upf_svg_series *s, size_t n_series, char **out,
                              size_t *len, upf_err *err)
{
    *out = NULL;
    if (len) *len = 0;
    if (!uf || !s || n_series == 0 || n_series > 64) return upf_err_set(err, UPF_ERR_ARG, "svg: 1..64 series expected");
    frame f;
    frame_init(&f, uf);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t k = 0; k < n_series; k++) {
        if (s[k].n == 0 || !s[k].x || !s[k].y) return upf_err_set(err, UPF_ERR_ARG, "svg: series %zu has no points", k);
        for (size_t i = 0; i < s[k].n; i++) {
            double xv = s[k].x[i], yv = s[k].y[i];
            if (!isfinite(xv) || !isfinite(yv)) continue;
            x0 = fmin(x0, xv);
            x1 = fmax(x1, xv);
            y0 = fmin(y0, yv);
            y1 = fmax(y1, yv);
            if (s[k].lo && isfinite(s[k].lo[i])) y0 = fmin(y0, s[k].lo[i]);
            if (s[k].hi && isfinite(s[k].hi[i])) y1 = fmax(y1, s[k].hi[i]);
        }
    }
    if (!isfinite(x0)) x0 = x1 = y0 = y1 = 0.0;
    expand(&x0, &x1, &f.xs);
    expand(&y0, &y1, &f.ys);
    f.x0 = x0;
    f.x1 = x1;
    f.y0 = y0;
    f.y1 = y1;
    buf b = {NULL, 0, 0, 0};
    header(&b, &f, uf);
    axes(&b, &f, uf, 1);
    const char *colors[64], *labels[64];
    int dashed[64], boxes[64];
    for (size_t k = 0; k < n_series; k++) {
        colors[k] = s[k].color ? s[k].color : palette[k % N_PALETTE];
        labels[k] = s[k].label ? s[k].label : "";
        dashed[k] = s[k].dashed;
        boxes[k] = 0;
        if (s[k].lo && s[k].hi) { /* band: upper edge forward, lower edge back */
            bprintf(&b, "<path fill=\"%s\" fill-opacity=\"0.15\" stroke=\"none\" d=\"", colors[k]);
            int first = 1;
            for (size_t i = 0; i < s[k].n; i++)
                if (isfinite(s[k].x[i]) && isfinite(s[k].hi[i]) && isfinite(s[k].lo[i])) {
                    bprintf(&b, "%s%.1f %.1f ", first ? "M" : "L", px(&f, s[k].x[i]), py(&f, s[k].hi[i]));
                    first = 0;
                }
            for (size_t i = s[k].n; i-- > 0;)
                if (isfinite(s[k].x[i]) && isfinite(s[k].hi[i]) && isfinite(s[k].lo[i]))
                    bprintf(&b, "L%.1f %.1f ", px(&f, s[k].x[i]), py(&f, s[k].lo[i]));
            bprintf(&b, "Z\"/>\n");
        }
        bprintf(&b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"", colors[k], dash_attr(dashed[k]));
        int pen_up = 1;
        for (size_t i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i])) {
                pen_up = 1;
                continue;
            }
            bprintf(&b, "%s%.1f %.1f ", pen_up ? "M" : "L", px(&f, s[k].x[i]), py(&f, s[k].y[i]));
            pen_up = 0;
        }
        bprintf(&b, "\"/>\n");
    }
    legend(&b, &f, labels, colors, dashed, boxes, n_series);
    return finish(&b, out, len, err);
}

upf_status upf_svg_bar_chart(const upf_svg_frame *uf, const char *const *cats, size_t n_cats,
                             const char *const *groups, size_t n_groups, const double *value, const double *err_lo,
                             const double *err_hi, char **out, size_t *len, upf_err *err)
{
    *out = NULL;
    if (len) *len = 0;
    if (!uf || !value || n_cats == 0 || n_groups == 0 || n_groups > 64)
        return upf_err_set(err, UPF_ERR_ARG, "svg: bars need categories and 1..64 groups");
    frame f;
    frame_init(&f, uf);
    double y0 = 0.0, y1 = 0.0;
    for (size_t g = 0; g < n_groups; g++)
        for (size_t c = 0; c < n_cats; c++) {
            size_t i = g * n_cats + c;
            double v[3] = {value[i], err_lo ? err_lo[i] : (double)NAN, err_hi ? err_hi[i] : (double)NAN};
            for (int q = 0; q < 3; q++)
                if (isfinite(v[q])) {
                    y0 = fmin(y0, v[q]);
                    y1 = fmax(y1, v[q]);
                }
        }
    expand(&y0, &y1, &f.ys);
    f.x0 = 0.0;
    f.x1 = (double)n_cats;
    f.xs = 1.0;
    f.y0 = y0;
    f.y1 = y1;
    buf b = {NULL, 0, 0, 0};
    header(&b, &f, uf);
    axes(&b, &f, uf, 0);
    double slot = (px(&f, 1.0) - px(&f, 0.0)), bw = slot * 0.8 / (double)n_groups;
    const char *colors[64], *labels[64];
    int dashed[64], boxes[64];
    for (size_t g = 0; g < n_groups; g++) {
        colors[g] = palette[g % N_PALETTE];
        labels[g] = groups && groups[g] ? groups[g] : "";
        dashed[g] = 0;
        boxes[g] = 1;
        for (size_t c = 0; c < n_cats; c++) {
            size_t i = g * n_cats + c;
            double xl = px(&f, (double)c) + slot * 0.1 + bw * (double)g;
            if (isfinite(value[i])) {
                double ya = py(&f, fmax(value[i], 0.0)), yb = py(&f, fmin(value[i], 0.0));
                bprintf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.7\"/>\n",
                        xl, ya, bw * 0.92, fmax(yb - ya, 0.5), colors[g]);
            }
            if (err_lo && err_hi && isfinite(err_lo[i]) && isfinite(err_hi[i])) {
                double xm = xl + bw * 0.46;
                bprintf(&b,
                        "<path stroke=\"black\" fill=\"none\" d=\"M%.1f %.1f L%.1f %.1f M%.1f %.1f L%.1f %.1f M%.1f %.1f "
                        "L%.1f %.1f\"/>\n",
                        xm, py(&f, err_lo[i]), xm, py(&f, err_hi[i]), xm - 3, py(&f, err_lo[i]), xm + 3, py(&f, err_lo[i]),
                        xm - 3, py(&f, err_hi[i]), xm + 3, py(&f, err_hi[i]));
            }
        }
    }
    for (size_t c = 0; c < n_cats; c++) {
        bprintf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", px(&f, (double)c + 0.5), (double)f.H - f.bottom + 16);
        bescape(&b, cats && cats[c] ? cats[c] : "");
        bprintf(&b, "</text>\n");
    }
    legend(&b, &f, labels, colors, dashed, boxes, n_groups);
    return finish(&b, out, len, err);
}
