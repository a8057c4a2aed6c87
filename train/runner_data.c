/* runner_data.c - the dataset of a run: the HDF5 file of data.path (relative
 * paths: the working directory first, then the config file's folder), a
 * synthetic shop generated in memory (data.source synth), or a dataset the
 * caller already holds (tests, sweeps).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner_internal.h"

upf_status run_load_data(upf_run *run, const char *hint_abs_path, upf_err *err)
{
    (void)hint_abs_path;
    double t0 = run_now();
    if (run->opts->dataset) {
        run->ds = run->opts->dataset;
        if (!(run->data_desc = upf_strdup("<in memory>"))) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        run->t_load = run_now() - t0;
        return UPF_OK;
    }
    return upf_err_set(err, UPF_ERR_ARG, "data: loading datasets is not in this build yet");
}
