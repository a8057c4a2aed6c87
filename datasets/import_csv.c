/* import_csv.c - CSV plumbing shared by the importers: opening a file
 * (refusing one without even a header), reading the next data row under the
 * bad-row policy (with Ctrl-C polling and progress), resolving a mapped
 * column, and the "empty file" / "no data rows" messages.
 * The generic mapping is in import_events.c and import_attrs.c. */
#include "import.h"

#include <string.h>

upf_status upf_import_column(const upf_csv *r, const char *spec, size_t *idx, size_t *maxcol, upf_err *err)
{
    upf_status st = upf_csv_column(r, spec, idx, err);
    if (!st && *idx + 1 > *maxcol) *maxcol = *idx + 1;
    return st;
}

upf_status upf_import_open_csv(const char *path, const upf_csv_opts *o, upf_csv **r, upf_err *err)
{
    upf_status st = upf_csv_open(path, o, r, err);
    if (st) return st;
    if (o->header && upf_csv_header_count(*r) == 0) {
        upf_csv_close(*r);
        *r = NULL;
        return upf_err_set(err, UPF_ERR_DATA, "%s: empty file (expected a header line and data rows)", path);
    }
    return UPF_OK;
}

int upf_import_next_row(upf_import *im, upf_csv *r, upf_status *st, upf_err *err)
{
    for (;;) {
        int rc = upf_csv_next(r, err);
        if (rc == 1) {
            im->st.rows++;
            if ((im->st.rows & 0xFFFF) == 0) {
                if ((*st = upf_import_poll(im, err))) return -1;
                if ((im->st.rows & 0xFFFFF) == 0 && im->o.progress) im->o.progress(im->st.rows, im->o.progress_user);
            }
            return 1;
        }
        if (rc == 0) return 0;
        if (rc == -2) {
            *st = err->status ? err->status : UPF_ERR_IO;
            return -1;
        }
        im->st.rows++;
        if ((*st = upf_import_bad_row(im, "malformed CSV row", err))) return -1;
    }
}

upf_status upf_import_no_rows(const upf_csv *r, upf_err *err)
{
    if (upf_csv_bytes(r) <= 3) /* nothing, or only a byte order mark */
        return upf_err_set(err, UPF_ERR_DATA, "%s: empty file", upf_csv_path(r));
    return upf_err_set(err, UPF_ERR_DATA, "%s: no data rows%s", upf_csv_path(r),
                       upf_csv_header_count(r) ? " after the header" : "");
}
