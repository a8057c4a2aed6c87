/* ranker_model.h - the hybrid factorization model of the ranker family:
 *   user_vec(u) = [user_id[u]] + sum_a x_ua * user_attr[a]
 *   item_vec(i) = [item_id[i]] + sum_a x_ia * item_attr[a]
 *   bias(i)     = [item_bias[i]] + sum_a x_ia * attr_bias[a]
 *   score(u, i) = bias(i) + dot(user_vec(u), item_vec(i))
 * Either id part can be switched off (a pure attribute model ranks cold items
 * and cold users). All parameters live in one 64-byte-aligned block with named
 * views (STYLE.md section 5); gradients and optimizer state use the same layout.
 * Not here: losses (ranker_loss.h), training loops (ranker_train.h).
 * Per-item scores use the canonical arithmetic of model/score.h, so the
 * runtime's float scores equal the trainer's bit for bit.
 * Legend: D dim, U users, I items, A attributes.
 */
#ifndef UPF_RANKER_MODEL_H
#define UPF_RANKER_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../datasets/interactions.h"
#include "../model/base.h"
#include "../model/rng.h"
#include "../model/score.h"

/* Sizes and switches; fixes the block layout. */
typedef struct upf_ranker_shape {
    size_t n_users;      /* U >= 1 */
    size_t n_items;      /* I >= 1 */
    size_t n_user_attrs; /* columns of the user feature matrix, 0 = none */
    size_t n_item_attrs; /* columns of the item feature matrix, 0 = none */
    size_t dim;          /* D >= 1 */
    int use_user_id;     /* 1: user_id rows exist and count */
    int use_item_id;     /* 1: item_id rows exist and count */
} upf_ranker_shape;

/* Named views into one block (params, gradients or optimizer state). A view
 * whose part is switched off or empty is NULL. Every view starts 64-byte aligned. */
typedef struct upf_ranker_view {
    float *user_id;   /* (U, D) */
    float *item_id;   /* (I, D) */
    float *user_attr; /* (A_user, D) */
    float *item_attr; /* (A_item, D) */
    float *item_bias; /* (I) */
    float *attr_bias; /* (A_item) */
} upf_ranker_view;

/* Floats the block holds (views padded to 16 floats); 0 on overflow. */
size_t upf_ranker_block_len(const upf_ranker_shape *s);
/* Points v into base (which must hold upf_ranker_block_len floats, 64-byte aligned). */
void upf_ranker_views(const upf_ranker_shape *s, float *base, upf_ranker_view *v);

/* The model: shape, one parameter block and its views, plus the features it
 * composes vectors from (borrowed CSR matrices, rows = users / items, columns =
 * attributes; NULL when the shape has no attributes of that side). */
typedef struct upf_ranker_model {
    upf_ranker_shape shape;
    size_t n_params;         /* floats in block */
    float *block;            /* (n_params) owned, 64-byte aligned */
    upf_ranker_view p;       /* views into block */
    const upf_csr *user_feat; /* (U, A_user) borrowed, or NULL */
    const upf_csr *item_feat; /* (I, A_item) borrowed, or NULL */
} upf_ranker_model;

/* Allocates the block; user_feat / item_feat must match the shape's counts.
 * Parameters start zero; call upf_ranker_model_init to randomize. */
upf_status upf_ranker_model_create(const upf_ranker_shape *s, const upf_csr *user_feat,
                                   const upf_csr *item_feat, upf_ranker_model **out, upf_err *err);
void upf_ranker_model_free(upf_ranker_model *m); /* accepts NULL */

/* Seeded init: embeddings N(0, init_std^2), biases 0. Deterministic in seed. */
void upf_ranker_model_init(upf_ranker_model *m, double init_std, uint64_t seed);

/* Composes user u's vector into out (D floats). */
void upf_ranker_user_vec(const upf_ranker_model *m, size_t u, float *out);
/* Composes item i's vector into out (D floats) and returns its bias. */
float upf_ranker_item_vec(const upf_ranker_model *m, size_t i, float *out);
/* All user vectors (U, D) / item vectors (I, D) and biases (I), for scoring and export. */
void upf_ranker_user_matrix(const upf_ranker_model *m, float *out);
void upf_ranker_item_matrix(const upf_ranker_model *m, float *vecs, float *bias);

/* The canonical dot product of the ranker: 16 lanes (lane l sums the
 * products at k = l, l+16, l+32, ... in order), then the lanes pairwise in a
 * fixed tree, then the tail in order. A fixed order, so it is reproducible
 * bit for bit; 16 independent sums, so compilers vectorize it without
 * -ffast-math. The runtime's per-item scores use the same arithmetic. */
#if defined(__GNUC__)
/* 4 floats as one GCC/Clang vector (native SSE/NEON width; element-wise IEEE
 * arithmetic, so lane results equal the scalar loop's). Unaligned access goes
 * through memcpy. */
typedef float upf_v4 __attribute__((vector_size(16)));
#define UPF_HAVE_V4 1
#endif

/* The canonical dot product (model/score.h, shared with the serving runtime):
 * eight lanes, lane j summing a[d]*b[d] for d = j mod 8, then
 * t_j = l_j + l_{j+4} and (t_0 + t_2) + (t_1 + t_3). The reference is
 * upf_score_dot_f32 itself; this fast form keeps lanes 0-3 and 4-7 in two
 * 4-float vectors (same operations per lane, so the same bits). */
static inline float upf_ranker_dot(const float *a, const float *b, size_t d)
{
#ifdef UPF_HAVE_V4
    if (d % 8 == 0) {
        upf_v4 lo = { 0 }, hi = { 0 }, x, y;
        for (size_t k = 0; k < d; k += 8) {
            memcpy(&x, a + k, 16), memcpy(&y, b + k, 16), lo += x * y;
            memcpy(&x, a + k + 4, 16), memcpy(&y, b + k + 4, 16), hi += x * y;
        }
        lo += hi;
        float t[4];
        memcpy(t, &lo, sizeof t);
        return (t[0] + t[2]) + (t[1] + t[3]);
    }
#endif
    return upf_score_dot_f32(a, b, d);
}

/* ---- back-propagation of vector gradients to the block's parts ---- */

/* Adds scale * g (D floats) to the gradient rows behind user u's vector (in
 * the gradient block viewed by gv). Returns nothing; thread-unsafe on gv. */
void upf_ranker_user_backward(const upf_ranker_model *m, const upf_ranker_view *gv, size_t u,
                              const float *g, float scale);
/* Same for item i's vector, plus gb to its bias parts. */
void upf_ranker_item_backward(const upf_ranker_model *m, const upf_ranker_view *gv, size_t i,
                              const float *g, float gb, float scale);


/* 1 when every parameter is finite; otherwise 0 and *where names the first bad view. */
int upf_ranker_model_finite(const upf_ranker_model *m, const char **where);

#endif
