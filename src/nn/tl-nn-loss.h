/* tl-nn-loss.h — metric-learning losses for twin encoders, with gradients
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Conventions (llm.c style, as in tl-nn-layers.h): outputs first, plain
 * float * and int; backward ACCUMULATES (+=) into demb, scaled by dloss
 * (the gradient of the final objective with respect to this loss, 1 when
 * the loss is the objective).  Nothing allocates: losses that look at all
 * pairs of a batch take `scratch`, tl_loss_scratch_size (b) bytes.  Sums and
 * distances are computed in double; forward returns the loss as a double.
 * Backward repeats forward's selection of pairs and triplets (it is a pure
 * function of the embeddings), so the pair forward/backward needs no state.
 *
 * Shape legend: emb [b][d], b embeddings of d floats; labels [b], any int
 * identifying the person; d(i, j) is the Euclidean distance.
 *
 * The distance has no gradient where it is zero (two identical
 * embeddings): every direction is as steep.  There the losses use 0 for
 * ∂d/∂emb (a member of its generalised gradient, the unit ball); the loss
 * value itself is exact.  Without that, a collapsed pair would give NaN.
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a loss call looked at: the pairs or triplets averaged over, and how
 * many of them had a non-zero loss. */
typedef struct
{
  int n_terms;
  int n_active;
} TlLossStats;

/* Euclidean distance of two d-float embeddings, summed in double. */
double tl_embedding_distance (const float *x, const float *y, int d);

/* Bytes of scratch the batch losses need for a batch of b embeddings. */
size_t tl_loss_scratch_size (int b);

/* ---- pairs ----------------------------------------------------------------
 * Every unordered pair of a batch: fills pair_a, pair_b, same (each of
 * b·(b−1)/2 entries) with i < j and same = labels[i] == labels[j]; returns
 * the count. */
int tl_loss_all_pairs (int *pair_a, int *pair_b, int *same, const int *labels,
                       int b);

/* ---- contrastive ----------------------------------------------------------
 *   L = mean over pairs of  Y·D² + (1 − Y)·max(margin − D, 0)²
 * with D = d(emb[pair_a[p]], emb[pair_b[p]]) and Y = same[p] != 0.
 * losses [n_pairs] (nullable) receives each pair's term. */
double tl_contrastive_loss_forward  (float *losses, TlLossStats *stats,
                                     const float *emb, const int *pair_a,
                                     const int *pair_b, const int *same,
                                     int n_pairs, int d, float margin);
void   tl_contrastive_loss_backward (float *demb, const float *emb,
                                     const int *pair_a, const int *pair_b,
                                     const int *same, int n_pairs, int d,
                                     float margin, float dloss);

/* ---- triplet --------------------------------------------------------------
 *   L(a, p, n) = max(d(a, p) − d(a, n) + margin, 0)
 * over triplets mined from a labelled batch (a ≠ p same label, n another):
 *  - ALL:       every triplet; the mean is over the ACTIVE ones (non-zero
 *               loss), so easy triplets do not dilute the signal as
 *               training goes on (0 when none is active);
 *  - HARD:      per anchor the farthest positive and the nearest negative;
 *               the mean is over anchors that have both;
 *  - SEMI_HARD: per (anchor, positive) the nearest negative that is still
 *               farther than the positive (d(a,p) < d(a,n)); when every
 *               negative is nearer, the farthest negative (the mildest
 *               violation, so a bad start is not driven into collapse);
 *               the mean is over all (anchor, positive) pairs.
 * Ties are broken by the lower index.  A loss exactly 0 (on the margin)
 * is inactive and has zero gradient. */
typedef enum
{
  TL_TRIPLET_ALL,
  TL_TRIPLET_HARD,
  TL_TRIPLET_SEMI_HARD,
} TlTripletMining;

double tl_triplet_loss_forward  (TlLossStats *stats, const float *emb,
                                 const int *labels, int b, int d,
                                 float margin, TlTripletMining mining,
                                 void *scratch);
void   tl_triplet_loss_backward (float *demb, const float *emb,
                                 const int *labels, int b, int d,
                                 float margin, TlTripletMining mining,
                                 float dloss, void *scratch);

/* ---- pair-wise hinge (the loss dlib's face encoder was trained with) -----
 * Over all unordered pairs of a labelled batch, with t the distance
 * threshold and m the margin:
 *   same person:      max(0, d − (t − m))
 *   different people: max(0, (t + m) − d)
 * Negative pairs far outnumber positive ones, so only the K hardest
 * negative pairs (smallest d; K = min(#positive, #negative) pairs, ties by
 * the lower pair index) take part, and the sum is divided by the number of
 * positive pairs P:
 *   L = (Σ_positive hinge + Σ_K hardest negatives hinge) / P
 * dlib balances the same way but keeps every negative at or below the K-th
 * smallest distance, so ties can add more than K; here exactly K take part.
 * A batch without positive pairs gives 0 (stats->n_terms = 0): sample
 * batches with at least two images of some person.  dlib's defaults are
 * t = 0.6, m = 0.04 on unit-length 128-D embeddings. */
double tl_pair_hinge_loss_forward  (TlLossStats *stats, const float *emb,
                                    const int *labels, int b, int d,
                                    float threshold, float margin,
                                    void *scratch);
void   tl_pair_hinge_loss_backward (float *demb, const float *emb,
                                    const int *labels, int b, int d,
                                    float threshold, float margin,
                                    float dloss, void *scratch);

/* ---- softmax cross-entropy (classification) ------------------------------
 * logits [b][k], labels [b] in 0..k−1, class_weight [k] (nullable: all 1):
 *   p = softmax(logits[i]),  L = Σ_i w[y_i]·(−log p[i][y_i]) / Σ_i w[y_i]
 * so that weights balance rare classes without changing the loss's scale.
 * probs [b][k] (nullable) receives the softmax.  Backward ACCUMULATES
 *   dlogits[i][j] += dloss · w[y_i] · (p[i][j] − [j = y_i]) / Σ w[y_i]. */
double tl_softmax_xent_forward  (float *probs, const float *logits,
                                 const int *labels, const float *class_weight,
                                 int b, int k);
void   tl_softmax_xent_backward (float *dlogits, const float *logits,
                                 const int *labels, const float *class_weight,
                                 int b, int k, float dloss);

#ifdef __cplusplus
}
#endif
