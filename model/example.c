/* example.c - a complete scorer against the installed libupfserve: the top 10
 * items for a user. Build: cc example.c $(pkg-config --cflags --libs upfserve) */
#include <stdio.h>
#include <string.h>
#include <upfserve/upfserve.h>

int main(int argc, char **argv)
{
    upf_model *m = NULL;
    upf_scratch *s = NULL; /* one per thread: scoring never allocates */
    upf_err err;
    upf_hit hits[10];
    size_t n = 0;
    upf_user_query q = upf_user_query_default(); /* user -1: rank by popularity */
    upf_filter f = { NULL, 0, 0 };               /* e.g. { bought, n_bought, UPF_ITEM_IN_STOCK } */
    if (argc != 3) return fprintf(stderr, "usage: %s MODEL.upf USER_ID\n", argv[0]), 2;
    int bad = upf_model_open(argv[1], 0, &m, &err) || upf_scratch_create(m, &s, &err);
    if (!bad) {
        q.user = upf_serve_user_index(m, argv[2], strlen(argv[2]));
        bad = upf_serve_topk(m, &q, &f, 10, s, hits, &n, &err) != UPF_OK;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *id = upf_serve_item_id(m, hits[i].item, &len);
        printf("%zu\t%.*s\t%.4f\n", i + 1, (int)len, id, (double)hits[i].score);
    }
    if (bad) fprintf(stderr, "libupfserve %s: %s\n", upf_version_string(), err.msg);
    upf_scratch_free(s);
    upf_model_close(m);
    return bad;
}
