/* pending_stubs.c - TEMPORARY weak stand-ins for functions other branches
 * implement (datasets, serving), so this branch links while they land. The
 * real (strong) definitions replace these at link time; this file is deleted
 * once datasets and serving are merged. Each stand-in fails cleanly. */
#include <string.h>

#include "../datasets/dataset.h"
#include "../datasets/interactions.h"
#include "../model/modelfile.h"

#define WEAK __attribute__((weak))
#define PENDING(err, what) upf_err_set(err, UPF_ERR_ARG, "%s is not in this build yet", what)

WEAK void upf_csr_free(upf_csr *m)
{
    if (!m) return;
    upf_free(m->ptr);
    upf_free(m->idx);
    upf_free(m->val);
    upf_free(m->time);
    memset(m, 0, sizeof *m);
}
WEAK upf_status upf_csr_transpose(const upf_csr *m, upf_csr *out, upf_err *err)
{
    (void)m;
    memset(out, 0, sizeof *out);
    return PENDING(err, "upf_csr_transpose");
}
WEAK upf_status upf_interactions_build(const upf_dataset *ds, const upf_interaction_params *p, upf_csr *out,
                                       upf_err *err)
{
    (void)ds;
    (void)p;
    memset(out, 0, sizeof *out);
    return PENDING(err, "upf_interactions_build");
}
WEAK upf_status upf_split_csr(const upf_csr *all, const upf_split_params *p, upf_csr *train, upf_csr *test,
                              upf_err *err)
{
    (void)all;
    (void)p;
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    return PENDING(err, "upf_split_csr");
}
WEAK const char *upf_split_kind_name(upf_split_kind k)
{
    (void)k;
    return "?";
}
WEAK void upf_dataset_free(upf_dataset *ds) { (void)ds; }

WEAK upf_status upf_mw_create(upf_mw **out, uint32_t kind, upf_err *err)
{
    (void)kind;
    *out = NULL;
    return PENDING(err, "the model writer");
}
WEAK void upf_mw_free(upf_mw *w) { (void)w; }
WEAK upf_status upf_mw_meta_u64(upf_mw *w, const char *key, uint64_t v) { (void)w, (void)key, (void)v; return UPF_ERR_ARG; }
WEAK upf_status upf_mw_meta_i64(upf_mw *w, const char *key, int64_t v) { (void)w, (void)key, (void)v; return UPF_ERR_ARG; }
WEAK upf_status upf_mw_meta_f64(upf_mw *w, const char *key, double v) { (void)w, (void)key, (void)v; return UPF_ERR_ARG; }
WEAK upf_status upf_mw_meta_str(upf_mw *w, const char *key, const char *v) { (void)w, (void)key, (void)v; return UPF_ERR_ARG; }
WEAK upf_status upf_mw_meta_str_array(upf_mw *w, const char *key, const char *const *v, size_t n)
{
    (void)w, (void)key, (void)v, (void)n;
    return UPF_ERR_ARG;
}
WEAK upf_status upf_mw_tensor_f32(upf_mw *w, const char *name, const float *data, uint32_t ndim, const uint64_t *dims,
                                  upf_dtype store)
{
    (void)w, (void)name, (void)data, (void)ndim, (void)dims, (void)store;
    return UPF_ERR_ARG;
}
WEAK upf_status upf_mw_tensor_i32(upf_mw *w, const char *name, const int32_t *data, uint32_t ndim, const uint64_t *dims)
{
    (void)w, (void)name, (void)data, (void)ndim, (void)dims;
    return UPF_ERR_ARG;
}
WEAK upf_status upf_mw_tensor_i64(upf_mw *w, const char *name, const int64_t *data, uint32_t ndim, const uint64_t *dims)
{
    (void)w, (void)name, (void)data, (void)ndim, (void)dims;
    return UPF_ERR_ARG;
}
WEAK upf_status upf_mw_write(upf_mw *w, const char *path, upf_err *err)
{
    (void)w, (void)path;
    return PENDING(err, "the model writer");
}
WEAK upf_status upf_model_open(const char *path, unsigned flags, upf_model **out, upf_err *err)
{
    (void)path, (void)flags;
    *out = NULL;
    return PENDING(err, "the model reader");
}
WEAK void upf_model_close(upf_model *m) { (void)m; }
WEAK upf_status upf_model_meta_f64(const upf_model *m, const char *key, double *v)
{
    (void)m, (void)key;
    *v = 0;
    return UPF_ERR_ARG;
}
