/* trigger_io.h - writes a planned day: JSON lines (one message per line, with
 * original ids and the reason) and HDF5 (the dataset schema's /messages group
 * plus /plan with every shown item, score and source), each atomically
 * (temporary name, fsync, rename). Not here: planning. Entry point:
 * upf_trig_plan_write.
 */
#ifndef UPF_TRIGGER_IO_H
#define UPF_TRIGGER_IO_H

#include "../datasets/dataset.h"
#include "trigger_plan.h"

/* Writes msgs[0..n) to jsonl_path and h5_path (either may be NULL).
 * ds gives the original user and item ids. */
upf_status upf_trig_plan_write(const upf_dataset *ds, const upf_trig_msg *msgs, size_t n, const char *jsonl_path,
                               const char *h5_path, upf_err *err);

#endif
