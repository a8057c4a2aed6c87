/* config_grid.c - sweeps: every key written as a list where its schema row
 * wants one value (or as a list of lists for a list-typed key) is an axis;
 * the grid is the cartesian product, first axis slowest, each point a set of
 * "key=value" overrides (flow YAML) that pin it. The keys' types come from
 * the common table and every family's, so model.family itself may be an axis.
 */
#include <stdio.h>
#include <string.h>

#include "config_internal.h"
#include "family.h"

/* ---- the sweep grid ---- */

/* The type of path in the common table or any family's (UPF_CFG_NONE if unknown). */
static upf_cfg_type any_type(const upf_family *const *fams, const char *path)
{
    const upf_cfg_key *k = cfg_find_key(upf_config_keys, path);
    for (size_t f = 0; !k && fams[f]; f++) k = cfg_find_key(fams[f]->keys, path);
    return k ? k->type : UPF_CFG_NONE;
}

typedef struct axis {
    char *path;
    const cfg_node *values; /* a SEQ */
} axis;

static upf_status find_axes(const upf_family *const *fams, const cfg_node *map, const char *prefix, axis *axes,
                            size_t *n_axes, upf_err *err)
{
    for (size_t i = 0; i < map->n; i++) {
        const cfg_node *key = map->keys[i], *val = map->items[i];
        char full[512];
        snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", key->text);
        upf_cfg_type t = any_type(fams, full);
        int is_axis = 0;
        if (t == UPF_CFG_NONE) {
            if (val->kind == CFG_MAP) {
                upf_status st = find_axes(fams, val, full, axes, n_axes, err);
                if (st) return st;
            }
            continue;
        }
        if (val->kind != CFG_SEQ) continue;
        if (cfg_type_is_scalar(t)) is_axis = 1;
        else if (cfg_type_is_list(t) && val->n > 0) {
            is_axis = 1;
            for (size_t j = 0; j < val->n; j++)
                if (val->items[j]->kind != CFG_SEQ) is_axis = 0;
        }
        if (!is_axis) continue;
        if (val->n == 0) return cfg_error_node(err, val, full, "expected a non-empty list of values to sweep, got []");
        for (size_t j = 0; j < val->n; j++)
            if (val->items[j]->kind == CFG_MAP ||
                (cfg_type_is_scalar(t) && val->items[j]->kind != CFG_SCALAR))
                return cfg_error_node(err, val->items[j], full, "expected a scalar value to sweep over, got %s",
                                      val->items[j]->kind == CFG_MAP ? "a mapping" : "a list");
        if (*n_axes >= 32) return cfg_error_node(err, val, full, "expected at most 32 swept keys");
        if (!(axes[*n_axes].path = upf_strdup(full))) return upf_err_set(err, UPF_ERR_NOMEM, "sweep: out of memory");
        axes[*n_axes].values = val;
        (*n_axes)++;
    }
    return UPF_OK;
}

void upf_cfg_grid_free(upf_cfg_grid *g)
{
    if (!g) return;
    for (size_t a = 0; a < g->n_axes; a++) upf_free(g->axis_paths ? g->axis_paths[a] : NULL);
    upf_free(g->axis_paths);
    for (size_t p = 0; p < g->n_points; p++) {
        if (g->point_sets && g->point_sets[p]) {
            for (size_t a = 0; a < g->n_axes; a++) upf_free(g->point_sets[p][a]);
            upf_free(g->point_sets[p]);
        }
        if (g->point_labels) upf_free(g->point_labels[p]);
    }
    upf_free(g->point_sets);
    upf_free(g->point_labels);
    memset(g, 0, sizeof *g);
}

upf_status upf_config_grid(const char *path, const char *const *overrides, size_t n_overrides, upf_cfg_grid *g,
                           upf_err *err)
{
    memset(g, 0, sizeof *g);
    cfg_src *srcs = NULL;
    cfg_node *root = NULL;
    axis axes[32];
    size_t n_axes = 0;
    upf_cfg_load_opts o = { path, NULL, NULL, overrides, n_overrides, NULL };
    upf_status st = cfg_load_tree(&o, upf_families, &srcs, &root, err);
    if (!st) st = find_axes(upf_families, root, "", axes, &n_axes, err);
    if (st) goto done;
    size_t n_points = 1;
    for (size_t a = 0; a < n_axes; a++) {
        if (n_points > UPF_CFG_GRID_MAX / axes[a].values->n) {
            st = cfg_error_node(err, axes[a].values, axes[a].path, "expected at most %d grid points in all",
                                UPF_CFG_GRID_MAX);
            goto done;
        }
        n_points *= axes[a].values->n;
    }
    g->n_axes = n_axes;
    g->n_points = n_points;
    if (!(g->axis_paths = upf_calloc(n_axes + 1, sizeof *g->axis_paths)) ||
        !(g->point_sets = upf_calloc(n_points, sizeof *g->point_sets)) ||
        !(g->point_labels = upf_calloc(n_points, sizeof *g->point_labels)))
        goto nomem;
    for (size_t a = 0; a < n_axes; a++) {
        g->axis_paths[a] = axes[a].path;
        axes[a].path = NULL;
    }
    for (size_t p = 0; p < n_points; p++) {
        if (!(g->point_sets[p] = upf_calloc(n_axes + 1, sizeof(char *)))) goto nomem;
        cfg_buf label = { NULL, 0, 0, 0 };
        cfg_buf_puts(&label, "");
        size_t rem = p;
        /* the first axis varies slowest: decompose p from the last axis */
        size_t idx[32];
        for (size_t a = n_axes; a-- > 0;) {
            idx[a] = rem % axes[a].values->n;
            rem /= axes[a].values->n;
        }
        for (size_t a = 0; a < n_axes; a++) {
            const cfg_node *v = axes[a].values->items[idx[a]];
            cfg_buf ov = { NULL, 0, 0, 0 };
            cfg_buf_printf(&ov, "%s=", g->axis_paths[a]);
            cfg_emit_node_flow(&ov, v);
            const char *seg = strrchr(g->axis_paths[a], '.');
            seg = seg ? seg + 1 : g->axis_paths[a];
            cfg_buf_printf(&label, "%s%s=", a ? " " : "", seg);
            cfg_emit_node_flow(&label, v);
            if (ov.failed) {
                upf_free(ov.p);
                upf_free(label.p);
                goto nomem;
            }
            g->point_sets[p][a] = ov.p;
        }
        if (label.failed) {
            upf_free(label.p);
            goto nomem;
        }
        g->point_labels[p] = label.p;
    }
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "sweep: out of memory");
done:
    for (size_t a = 0; a < n_axes; a++) upf_free(axes[a].path);
    if (st) upf_cfg_grid_free(g);
    cfg_node_free(root);
    cfg_src_free_all(srcs);
    return st;
}
