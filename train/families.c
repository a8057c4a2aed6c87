/* families.c - the registry of model families (`model.family` values), one
 * line each. A family is a params struct with its key table, a check and a
 * run function (family.h). */
#include <stddef.h>

#include "family.h"

extern const upf_family upf_family_popularity;
extern const upf_family upf_family_popularity_decay;
extern const upf_family upf_family_cooccur;
extern const upf_family upf_family_aft;
extern const upf_family upf_family_bgnbd;
extern const upf_family upf_family_uplift;
extern const upf_family upf_family_ranker;
extern const upf_family upf_family_triggers;
extern const upf_family upf_family_logged_policy;

const upf_family *const upf_families[] = {
    &upf_family_popularity,
    &upf_family_popularity_decay,
    &upf_family_cooccur,
    &upf_family_aft,
    &upf_family_bgnbd,
    &upf_family_uplift,
    &upf_family_ranker,
    &upf_family_triggers,
    &upf_family_logged_policy,
    NULL,
};
