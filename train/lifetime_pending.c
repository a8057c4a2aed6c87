/* lifetime_pending.c - TEMPORARY weak stand-ins for datasets-branch functions
 * the lifetime code calls, so this branch links until `datasets` is merged;
 * the real (strong) definitions replace them at link time. Delete this file
 * after the merge. */
#include "../datasets/dataset.h"

__attribute__((weak)) const char *upf_event_type_name(int type)
{
    static const char *const names[UPF_EV_TYPE_COUNT] = {"none", "view", "cart", "purchase",
                                                         "search", "rating", "return", "tag"};
    return type > 0 && type < UPF_EV_TYPE_COUNT ? names[type] : "none";
}
