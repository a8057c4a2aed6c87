/* ranker_train.h - training loops of the ranker: per-sample pairwise SGD
 * (BPR, WARP; one thread deterministic, or Hogwild on N threads) and the
 * mini-batch softmax over the full catalogue or sampled + in-batch candidates
 * (scores and gradients by sgemm). Early stopping on a validation metric the
 * caller computes (a hook), divergence detection (UPF_ERR_NUMERIC naming the
 * epoch and step; the model is restored to its last good state), interruption.
 * Not here: data loading, evaluation, files (the family and the runner own them).
 */
#ifndef UPF_RANKER_TRAIN_H
#define UPF_RANKER_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/interactions.h"
#include "optim.h"
#include "ranker_model.h"

typedef enum upf_ranker_loss {
    UPF_RANKER_BPR = 0,     /* per sample: softplus(-(s_ui - s_uj)) per negative */
    UPF_RANKER_WARP = 1,    /* per sample: rank-weighted hinge, draws capped at n_negatives */
    UPF_RANKER_SOFTMAX = 2, /* mini-batch: multinomial softmax over candidates */
    UPF_RANKER_LOSS_COUNT
} upf_ranker_loss;

typedef enum upf_neg_dist {
    UPF_NEG_UNIFORM = 0,
    UPF_NEG_POPULARITY = 1, /* proportional to (train count)^pop_alpha */
    UPF_NEG_DIST_COUNT
} upf_neg_dist;

typedef struct upf_ranker_train_params {
    upf_ranker_loss loss;
    uint32_t epochs;          /* maximum epochs, >= 1 */
    uint32_t patience;        /* validations without improvement before stopping; 0: never stop early */
    uint32_t eval_every;      /* epochs between validations, >= 1 */
    uint32_t batch_users;     /* softmax: users per mini-batch */
    uint32_t n_negatives;     /* BPR: negatives per positive; WARP: cap on draws;
                                 softmax: sampled candidates per batch, 0 = the full catalogue */
    upf_neg_dist neg_dist;    /* how negatives are drawn */
    double pop_alpha;         /* popularity exponent (0.75 as in word2vec) */
    int check_negatives;      /* 1: redraw negatives that are the user's positives */
    double tau;               /* softmax temperature, > 0 */
    double user_attr_dropout; /* softmax: drop each user attribute with this probability, in [0, 1) */
    double pop_debias;        /* softmax: train on s + pop_debias * log(popularity share) (logit adjustment,
                                 Menon et al. 2021), so the model's own scores lean towards less popular
                                 items; 0: off, >= 0 */
    double user_id_dropout;   /* softmax: drop the user id part with this probability per step (scaled
                                 by 1/(1-p) when kept), in [0, 1) */
    double ema;               /* softmax: decay of an exponential moving average of the parameters
                                 (Polyak & Juditsky 1992), updated every step and used for validation
                                 and as the result; 0: off. In [0, 1) */
    double init_std;          /* embedding init N(0, init_std^2) */
    upf_opt_params opt;       /* optimizer, schedule, L2 */
    uint64_t seed;
    uint32_t threads;         /* per-sample losses: worker threads (Hogwild when > 1) */
} upf_ranker_train_params;

upf_ranker_train_params upf_ranker_train_params_default(void);
const char *upf_ranker_loss_name(upf_ranker_loss l);

/* Callbacks into the caller (any may be NULL). */
typedef struct upf_ranker_hooks {
    /* The validation metric (higher is better) of the model as it stands. */
    upf_status (*validate)(void *ctx, const upf_ranker_model *m, double *value, upf_err *err);
    /* After each epoch: valid is NaN when no validation ran this epoch; is_best
     * says the model is the best so far (checkpoint it). */
    upf_status (*epoch_end)(void *ctx, const upf_ranker_model *m, uint32_t epoch, double loss, double valid,
                            int is_best, upf_err *err);
    void *ctx;
} upf_ranker_hooks;

typedef struct upf_ranker_train_result {
    uint32_t epochs_run;  /* epochs completed */
    uint32_t best_epoch;  /* 1-based epoch of the best validation (the model returned), 0: none */
    double best_valid;    /* NaN without validation */
    double final_loss;    /* mean loss of the last epoch */
    uint64_t updates;     /* pairwise updates (per-sample losses) or user rows (softmax) */
    double seconds;       /* wall time of the training loops */
} upf_ranker_train_result;

/* Trains m on train (users x items, sorted rows). pos_weight (nnz of train) or
 * NULL weights each positive (event-type weights). With a validate hook and
 * patience > 0, stops early and leaves the best model in m. Negatives and
 * softmax candidates are the items with training positives only; the id part
 * of every other item is set to zero, so cold items score by attributes. Single-threaded
 * runs are bit-for-bit reproducible for a seed; threads > 1 (per-sample losses)
 * is Hogwild: lock-free and NOT deterministic. */
upf_status upf_ranker_train(upf_ranker_model *m, const upf_csr *train, const float *pos_weight,
                            const upf_ranker_train_params *p, const upf_ranker_hooks *h,
                            upf_ranker_train_result *res, upf_err *err);

/* One pass of pairwise SGD on one thread over the positives of users[0..n_users)
 * in that order (negatives drawn from r), exposed for the benchmark and the
 * tests: fast = 1 selects the prefetching kernel (id-only model, SGD, BPR, one
 * negative; otherwise the reference runs) in its best build for this CPU
 * (AVX2 when present), fast = 2 the same kernel's portable build, fast = 0
 * the plain reference loop. step0 / total_steps feed the learning-rate
 * schedule. Returns the summed loss. On the same inputs all of them produce
 * the same parameters bit for bit. */
typedef struct upf_pair_ctx upf_pair_ctx;
upf_status upf_pair_ctx_create(const upf_ranker_model *m, const upf_csr *train, const float *pos_weight,
                               const upf_ranker_train_params *p, upf_pair_ctx **out, upf_err *err);
void upf_pair_ctx_free(upf_pair_ctx *c);
double upf_pair_epoch(upf_pair_ctx *c, upf_ranker_model *m, upf_rng *r, const int32_t *users, size_t n_users,
                      uint64_t step0, uint64_t total_steps, int fast);

/* User-history features: row u has 1/sqrt(n_u) at each of u's train items
 * (n_cols = n_items), so a user's vector gains the normalized sum of history
 * embeddings (Koren 2008 "SVD++"; Kabbur et al. 2013 "FISM"). */
upf_status upf_ranker_history_features(const upf_csr *train, upf_csr *out, upf_err *err);
/* Column-stacks a and b (same rows) into out. Either may be NULL or have no
 * columns; with neither, out is left zeroed (ptr NULL) and UPF_OK returned. */
upf_status upf_csr_hstack(const upf_csr *a, const upf_csr *b, upf_csr *out, upf_err *err);

#endif
