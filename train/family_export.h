/* family_export.h - helpers the families share to fill model writers (not a
 * public header). */
#ifndef UPF_FAMILY_EXPORT_H
#define UPF_FAMILY_EXPORT_H

#include "../model/modelfile.h"
#include "family.h"

/* Adds items.ids (STR_ARRAY, the dataset's original item ids) to w. */
upf_status upf_export_item_ids(upf_run *run, upf_mw *w, upf_err *err);

#endif
