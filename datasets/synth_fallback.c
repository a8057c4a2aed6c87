/* synth_fallback.c - TEMPORARY weak stand-ins for the dataset layer (branch
 * `datasets`: upf_dataset_free, _validate, _write, upf_event_type_name), so
 * this branch builds and its tests run before that branch is merged. The real
 * (strong) definitions win at link time; this file goes away at the merge.
 */
#include "dataset.h"

upf_status upf_dataset_write(const upf_dataset *ds, const char *path, upf_err *err);

static void strings_free(upf_strings *s)
{
    upf_free(s->off);
    upf_free(s->data);
}

static void attrs_free(upf_attrs *a)
{
    upf_free(a->ptr);
    upf_free(a->index);
    upf_free(a->value);
    strings_free(&a->names);
}

__attribute__((weak)) void upf_dataset_free(upf_dataset *d)
{
    if (!d) return;
    strings_free(&d->user_ids);
    upf_free(d->user_signup);
    upf_free(d->user_birthday);
    attrs_free(&d->user_attrs);
    strings_free(&d->item_ids);
    upf_free(d->item_price);
    upf_free(d->item_added);
    upf_free(d->item_in_stock);
    attrs_free(&d->item_attrs);
    upf_free(d->ev_user);
    upf_free(d->ev_item);
    upf_free(d->ev_time);
    upf_free(d->ev_type);
    upf_free(d->ev_value);
    upf_free(d->ev_query);
    upf_free(d->user_ptr);
    strings_free(&d->queries);
    upf_free(d->item_events.item);
    upf_free(d->item_events.time);
    upf_free(d->item_events.kind);
    upf_free(d->item_events.value);
    for (size_t c = 0; c < d->n_campaigns; c++) {
        upf_campaign *p = &d->campaigns[c];
        upf_free(p->name);
        upf_free(p->user);
        upf_free(p->arm);
        upf_free(p->propensity);
        upf_free(p->time);
        strings_free(&p->arm_names);
        for (size_t k = 0; k < p->n_outcomes; k++) {
            if (p->outcome_names) upf_free(p->outcome_names[k]);
            if (p->outcome) upf_free(p->outcome[k]);
        }
        upf_free(p->outcome_names);
        upf_free(p->outcome);
    }
    upf_free(d->campaigns);
    upf_free(d->messages.user);
    upf_free(d->messages.time);
    upf_free(d->messages.trigger);
    upf_free(d->messages.item);
    upf_free(d->messages.arm);
    strings_free(&d->messages.trigger_names);
    upf_impressions *im = &d->impressions;
    upf_free(im->user);
    upf_free(im->time);
    upf_free(im->item);
    upf_free(im->position);
    upf_free(im->reward);
    upf_free(im->propensity);
    attrs_free(&im->context);
    upf_free(im->policy);
    upf_free(d->source);
    upf_free(d->created);
    upf_free(d);
}

__attribute__((weak)) upf_status upf_dataset_validate(const upf_dataset *d, upf_err *err)
{
    if (!d->user_ptr || d->user_ptr[0] != 0 || d->user_ptr[d->n_users] != d->n_events)
        return upf_err_set(err, UPF_ERR_DATA, "user_ptr: expected 0 .. n_events");
    for (size_t u = 0; u < d->n_users; u++)
        for (int64_t e = d->user_ptr[u]; e < d->user_ptr[u + 1]; e++) {
            if (d->ev_user[e] != (int32_t)u) return upf_err_set(err, UPF_ERR_DATA, "event %lld: user out of place", (long long)e);
            if (e > d->user_ptr[u] && d->ev_time[e] < d->ev_time[e - 1])
                return upf_err_set(err, UPF_ERR_DATA, "event %lld: not sorted by time", (long long)e);
            if (d->ev_item[e] < -1 || d->ev_item[e] >= (int64_t)d->n_items)
                return upf_err_set(err, UPF_ERR_DATA, "event %lld: item out of range", (long long)e);
        }
    return UPF_OK;
}

__attribute__((weak)) upf_status upf_dataset_write(const upf_dataset *ds, const char *path, upf_err *err)
{
    (void)ds;
    return upf_err_set(err, UPF_ERR_IO, "%s: the HDF5 dataset writer is not part of this build yet (branch datasets)",
                       path);
}

__attribute__((weak)) const char *upf_event_type_name(int type)
{
    static const char *const names[UPF_EV_TYPE_COUNT] = { "none",   "view",   "cart",   "purchase",
                                                          "search", "rating", "return", "tag" };
    return type > 0 && type < UPF_EV_TYPE_COUNT ? names[type] : "none";
}
