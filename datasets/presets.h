/* presets.h - importers for the public data sets in ../shared/data, each
 * mapping its publisher's files onto the dataset schema (see
 * datasets/IMPORT.md for what goes where and the counts each must give).
 *
 * A preset takes INPUT paths as the user typed them: the data set's folder,
 * or its files (recognised by name). Entry points: upf_preset_find,
 * upf_preset_list; the input helpers are shared by the presets.
 */
#ifndef UPF_PRESETS_H
#define UPF_PRESETS_H

#include <stddef.h>

#include "import.h"

typedef upf_status (*upf_preset_fn)(upf_import *im, const char *const *inputs, size_t n_inputs, upf_err *err);

typedef struct upf_preset {
    const char *name;     /* as given to --preset */
    const char *summary;  /* one line: what it imports */
    const char *inputs;   /* what INPUT may be */
    upf_preset_fn run;
} upf_preset;

/* The preset called name, or NULL. */
const upf_preset *upf_preset_find(const char *name);
/* All presets (static table). */
const upf_preset *upf_preset_list(size_t *n);
/* "movielens100k, movielens-latest, ..." for messages; static buffer. */
const char *upf_preset_names(void);

/* ---- input helpers ---- */

typedef struct upf_input_files {
    char **path;   /* (n) owned */
    size_t n;
} upf_input_files;

/* Expands inputs: a folder gives its regular files (not recursive, sorted by
 * name, hidden files skipped), a file gives itself. Missing paths are errors. */
upf_status upf_inputs_expand(const char *const *inputs, size_t n, upf_input_files *out, upf_err *err);
void upf_input_files_free(upf_input_files *f);
/* The last path component. */
const char *upf_path_base(const char *path);
/* 1 when any input is a folder. */
int upf_inputs_have_dir(const char *const *inputs, size_t n);

/* Picks the files of a preset by name: names[i] (e.g. "u.data") is matched
 * against each file's base name; found[i] gets the path (borrowed from files)
 * or NULL. A file given explicitly (not from a folder) that matches no name is
 * an error listing the expected names; required[i] marks names that must be
 * present. */
upf_status upf_inputs_pick(const upf_input_files *files, int strict, const char *preset, const char *const *names,
                           const int *required, size_t n_names, const char **found, upf_err *err);

/* The presets (one file each: preset_<name>.c). */
upf_status upf_preset_movielens100k(upf_import *im, const char *const *inputs, size_t n, upf_err *err);
upf_status upf_preset_movielens_latest(upf_import *im, const char *const *inputs, size_t n, upf_err *err);
upf_status upf_preset_online_retail(upf_import *im, const char *const *inputs, size_t n, upf_err *err);
upf_status upf_preset_cdnow(upf_import *im, const char *const *inputs, size_t n, upf_err *err);
upf_status upf_preset_hillstrom(upf_import *im, const char *const *inputs, size_t n, upf_err *err);
upf_status upf_preset_open_bandit(upf_import *im, const char *const *inputs, size_t n, upf_err *err);
upf_status upf_preset_otto(upf_import *im, const char *const *inputs, size_t n, upf_err *err);

#endif
