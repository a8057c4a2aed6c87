/* trigger_kinds.c - names of the lifecycle trigger kinds (trigger_kinds.h). */
#include <string.h>

#include "trigger_kinds.h"

static const char *const names[UPF_TRIG_COUNT] = {
    "cart_abandon", "browse_abandon", "search_abandon", "follow_up",    "birthday", "anniversary",
    "price_drop",   "back_in_stock",  "new_arrivals",   "buy_again",    "win_back",
};

const char *upf_trigger_name(int kind)
{
    return kind >= 0 && kind < UPF_TRIG_COUNT ? names[kind] : "none";
}

int upf_trigger_from_name(const char *name)
{
    for (int k = 0; name && k < UPF_TRIG_COUNT; k++)
        if (strcmp(names[k], name) == 0) return k;
    return -1;
}
