/* presets.c - the preset table and the input helpers the presets share
 * (folder expansion, picking files by name). The presets themselves live in
 * preset_<name>.c. */
#define _DEFAULT_SOURCE /* DT_DIR in struct dirent is not needed; stat is used */
#include "presets.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const upf_preset presets[] = {
    { "movielens100k", "MovieLens 100K: u.data ratings, u.item genres and dates, u.user demographics",
      "the ml-100k folder, or u.data [u.item] [u.user] [u.genre]", upf_preset_movielens100k },
    { "movielens-latest", "MovieLens latest(-small): ratings.csv, movies.csv genres and years, tags.csv",
      "the ml-latest-small folder, or ratings.csv [movies.csv] [tags.csv]", upf_preset_movielens_latest },
    { "online-retail", "UCI Online Retail: purchases, returns, price history, description tokens, countries",
      "one CSV, or the folder of daily CSVs (read in name order)", upf_preset_online_retail },
    { "cdnow", "CDNOW master or 1/10 sample: one purchase event per row (value = dollars)",
      "CDNOW_master.txt or CDNOW_sample.txt (the layout is detected)", upf_preset_cdnow },
    { "hillstrom", "Hillstrom MineThatData e-mail campaign: arms, visit/conversion/spend, covariates",
      "the challenge CSV", upf_preset_hillstrom },
    { "open-bandit", "Open Bandit Dataset (small): logged impressions, positions, clicks, propensities",
      "a campaign folder such as random/men, or its CSV (item_context.csv beside it is read too)",
      upf_preset_open_bandit },
    { "otto", "OTTO sessions (JSON lines): clicks, carts, orders of sessions",
      "one or more .jsonl files, or their folder", upf_preset_otto },
};

#define N_PRESETS (sizeof presets / sizeof presets[0])

const upf_preset *upf_preset_find(const char *name)
{
    for (size_t i = 0; i < N_PRESETS; i++)
        if (strcmp(presets[i].name, name) == 0) return &presets[i];
    /* forgiving spellings: movielens-100k, ml100k, online_retail */
    char norm[64];
    size_t k = 0;
    for (const char *s = name; *s && k + 1 < sizeof norm; s++)
        if (*s != '-' && *s != '_') norm[k++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
    norm[k] = '\0';
    if (!strcmp(norm, "ml100k")) return &presets[0];
    if (!strcmp(norm, "mllatest") || !strcmp(norm, "mllatestsmall") || !strcmp(norm, "movielenslatestsmall"))
        return &presets[1];
    for (size_t i = 0; i < N_PRESETS; i++) {
        char pn[64];
        size_t j = 0;
        for (const char *s = presets[i].name; *s && j + 1 < sizeof pn; s++)
            if (*s != '-' && *s != '_') pn[j++] = *s;
        pn[j] = '\0';
        if (!strcmp(pn, norm)) return &presets[i];
    }
    return NULL;
}

const upf_preset *upf_preset_list(size_t *n)
{
    *n = N_PRESETS;
    return presets;
}

const char *upf_preset_names(void)
{
    static char buf[256];
    size_t off = 0;
    for (size_t i = 0; i < N_PRESETS && off < sizeof buf; i++) {
        int k = snprintf(buf + off, sizeof buf - off, "%s%s", i ? ", " : "", presets[i].name);
        if (k < 0) break;
        off += (size_t)k;
    }
    return buf;
}

/* ---- inputs ---- */

const char *upf_path_base(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    const char *s = path + n;
    while (s > path && s[-1] != '/') s--;
    return s;
}

void upf_input_files_free(upf_input_files *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) upf_free(f->path[i]);
    upf_free(f->path);
    f->path = NULL;
    f->n = 0;
}

static int push_path(upf_input_files *f, size_t *cap, char *p)
{
    if (!p) return -1;
    if (f->n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        char **np = upf_realloc(f->path, ncap * sizeof *np);
        if (!np) {
            upf_free(p);
            return -1;
        }
        f->path = np;
        *cap = ncap;
    }
    f->path[f->n++] = p;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int upf_inputs_have_dir(const char *const *inputs, size_t n)
{
    struct stat sb;
    for (size_t i = 0; i < n; i++)
        if (stat(inputs[i], &sb) == 0 && S_ISDIR(sb.st_mode)) return 1;
    return 0;
}

upf_status upf_inputs_expand(const char *const *inputs, size_t n, upf_input_files *out, upf_err *err)
{
    upf_status st = UPF_OK;
    size_t cap = 0;
    DIR *d = NULL;
    memset(out, 0, sizeof *out);
    if (n == 0) return upf_err_set(err, UPF_ERR_ARG, "no input files");
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (stat(inputs[i], &sb) != 0) {
            st = upf_err_sys(err, UPF_ERR_IO, "%s: cannot open", inputs[i]);
            goto fail;
        }
        if (!S_ISDIR(sb.st_mode)) {
            if (push_path(out, &cap, upf_strdup(inputs[i]))) goto nomem;
            continue;
        }
        if (!(d = opendir(inputs[i]))) {
            st = upf_err_sys(err, UPF_ERR_IO, "%s: cannot open the folder", inputs[i]);
            goto fail;
        }
        size_t first = out->n;
        struct dirent *e;
        const char *dir = inputs[i];
        size_t dl = strlen(dir);
        while (dl > 1 && dir[dl - 1] == '/') dl--;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            size_t len = dl + 1 + strlen(e->d_name) + 1;
            char *p = upf_malloc(len);
            if (!p) goto nomem;
            snprintf(p, len, "%.*s/%s", (int)dl, dir, e->d_name);
            struct stat fsb;
            if (stat(p, &fsb) != 0 || !S_ISREG(fsb.st_mode)) {
                upf_free(p);
                continue;
            }
            if (push_path(out, &cap, p)) goto nomem;
        }
        closedir(d);
        d = NULL;
        qsort(out->path + first, out->n - first, sizeof *out->path, cmp_str);
        if (out->n == first) {
            st = upf_err_set(err, UPF_ERR_DATA, "%s: the folder has no files", inputs[i]);
            goto fail;
        }
    }
    return UPF_OK;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory listing the inputs");
fail:
    if (d) closedir(d);
    upf_input_files_free(out);
    return st;
}

upf_status upf_inputs_pick(const upf_input_files *files, int strict, const char *preset, const char *const *names,
                           const int *required, size_t n_names, const char **found, upf_err *err)
{
    char list[256];
    size_t off = 0;
    for (size_t j = 0; j < n_names && off < sizeof list; j++) {
        int k = snprintf(list + off, sizeof list - off, "%s%s", j ? ", " : "", names[j]);
        if (k < 0) break;
        off += (size_t)k;
    }
    for (size_t j = 0; j < n_names; j++) found[j] = NULL;
    for (size_t i = 0; i < files->n; i++) {
        const char *base = upf_path_base(files->path[i]);
        size_t j = 0;
        while (j < n_names && strcmp(base, names[j]) != 0) j++;
        if (j == n_names) {
            if (strict)
                return upf_err_set(err, UPF_ERR_ARG, "--preset %s: %s is not one of its files (expected %s)", preset,
                                   files->path[i], list);
            continue;
        }
        if (found[j])
            return upf_err_set(err, UPF_ERR_ARG, "--preset %s: %s given twice (%s and %s)", preset, names[j], found[j],
                               files->path[i]);
        found[j] = files->path[i];
    }
    for (size_t j = 0; j < n_names; j++)
        if (required[j] && !found[j])
            return upf_err_set(err, UPF_ERR_ARG, "--preset %s: no %s among the inputs (expected %s)", preset, names[j],
                               list);
    return UPF_OK;
}
