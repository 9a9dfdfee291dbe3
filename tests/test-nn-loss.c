/* test-nn-loss.c — losses against hand-computed values (margin edges, D = 0)
 * and their gradients against central finite differences
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <math.h>

#include "tl-nn-loss.h"

#define EPS 1e-9

/* ---- hand-computed values ------------------------------------------------ */

static void
test_contrastive_values (void)
{
  /* e0 (0,0), e1 (3,4), e2 (0,0), e3 (1,0), e4 (1,2); margin 2.
   *  (0,1) same D=5  → 25          (0,1) diff D=5 → 0 (beyond the margin)
   *  (0,3) diff D=1  → (2−1)² = 1  (0,2) diff D=0 → 2² = 4, gradient 0
   *  (0,2) same D=0  → 0           (3,4) diff D=2 → 0 (exactly the margin)
   * mean 30 / 6 = 5. */
  static const float emb[] = { 0, 0, 3, 4, 0, 0, 1, 0, 1, 2 };
  static const int pa[] = { 0, 0, 0, 0, 0, 3 };
  static const int pb[] = { 1, 1, 3, 2, 2, 4 };
  static const int same[] = { 1, 0, 0, 0, 1, 0 };
  static const float expect_terms[] = { 25, 0, 1, 4, 0, 0 };
  /* e0: 2(e0 − e1) = (−6,−8) from (0,1); −2(2 − 1)(e0 − e3)/1 = (2,0) from
   * (0,3); all over 6. */
  static const float expect_grad[] = { -4.0f / 6, -8.0f / 6, 1, 8.0f / 6, 0, 0,
                                       -2.0f / 6, 0, 0, 0 };
  float terms[6], demb[10] = { 0 };
  TlLossStats stats;
  double loss;
  int i;

  loss = tl_contrastive_loss_forward (terms, &stats, emb, pa, pb, same, 6, 2, 2.0f);
  g_assert_cmpfloat_with_epsilon (loss, 5.0, EPS);
  g_assert_cmpint (stats.n_terms, ==, 6);
  g_assert_cmpint (stats.n_active, ==, 3);
  for (i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (terms[i], expect_terms[i], 1e-6);
  tl_contrastive_loss_backward (demb, emb, pa, pb, same, 6, 2, 2.0f, 1.0f);
  for (i = 0; i < 10; i++)
    g_assert_cmpfloat_with_epsilon (demb[i], expect_grad[i], 1e-6);

  /* Backward accumulates, scaled by dloss. */
  tl_contrastive_loss_backward (demb, emb, pa, pb, same, 6, 2, 2.0f, 0.5f);
  for (i = 0; i < 10; i++)
    g_assert_cmpfloat_with_epsilon (demb[i], 1.5f * expect_grad[i], 1e-6);
}

/* 1-D embeddings: A = {0, 1}, B = {3, 1.5}.  Distances: d01 1, d02 3,
 * d03 1.5, d12 2, d13 0.5, d23 1.5; margin 1. */
static const float tri_emb[] = { 0.0f, 1.0f, 3.0f, 1.5f };
static const int tri_labels[] = { 7, 7, 9, 9 };

static void
test_triplet_values (void)
{
  g_autofree void *scratch = g_malloc (tl_loss_scratch_size (4));
  TlLossStats stats;
  double loss;

  /* ALL: (a,p,n) = (0,1,2) −1→0, (0,1,3) .5, (1,0,2) 0 (exactly on the
   * margin), (1,0,3) 1.5, (2,3,0) −.5→0, (2,3,1) .5, (3,2,0) 1, (3,2,1) 2:
   * 5.5 over the 5 active triplets of 8. */
  loss = tl_triplet_loss_forward (&stats, tri_emb, tri_labels, 4, 1, 1.0f,
                                  TL_TRIPLET_ALL, scratch);
  g_assert_cmpfloat_with_epsilon (loss, 1.1, EPS);
  g_assert_cmpint (stats.n_terms, ==, 8);
  g_assert_cmpint (stats.n_active, ==, 5);

  /* HARD: anchor 0 → (1, 3) .5; 1 → (0, 3) 1.5; 2 → (3, 1) .5; 3 → (2, 1) 2. */
  loss = tl_triplet_loss_forward (&stats, tri_emb, tri_labels, 4, 1, 1.0f,
                                  TL_TRIPLET_HARD, scratch);
  g_assert_cmpfloat_with_epsilon (loss, 4.5 / 4, EPS);
  g_assert_cmpint (stats.n_terms, ==, 4);
  g_assert_cmpint (stats.n_active, ==, 4);

  /* SEMI_HARD: (0,1) → n 3 (1.5 > 1) .5; (1,0) → n 2 (2 > 1) 0, on the
   * margin; (2,3) → n 1 (2 > 1.5) .5; (3,2): no negative beyond 1.5 (d30 is
   * equal, not beyond), so the farthest, 0: 1.5 − 1.5 + 1 = 1. */
  loss = tl_triplet_loss_forward (&stats, tri_emb, tri_labels, 4, 1, 1.0f,
                                  TL_TRIPLET_SEMI_HARD, scratch);
  g_assert_cmpfloat_with_epsilon (loss, 2.0 / 4, EPS);
  g_assert_cmpint (stats.n_terms, ==, 4);
  g_assert_cmpint (stats.n_active, ==, 3);
}

static void
test_triplet_gradient_values (void)
{
  g_autofree void *scratch = g_malloc (tl_loss_scratch_size (4));
  float demb[4] = { 0 };

  tl_triplet_loss_backward (demb, tri_emb, tri_labels, 4, 1, 1.0f, TL_TRIPLET_HARD,
                            1.0f, scratch);
  /* Term (a,p,n) adds s(a−p) to a, −s(a−p) to p, −s(a−n) to a, +s(a−n) to n,
   * s(x) = sign(x)/4:
   *  (0,1,3): e0 −¼+¼ = 0,  e1 +¼,      e3 −¼
   *  (1,0,3): e1 +¼+¼,      e0 −¼,      e3 +(−¼)… sign(1 − 1.5) = −1 → e3 −¼
   *  (2,3,1): e2 +¼−¼ = 0,  e3 −¼,      e1 +¼
   *  (3,2,1): e3 −¼−¼,      e2 +¼,      e1 +¼
   * totals: e0 −¼, e1 +5/4, e2 +¼, e3 −5/4. */
  g_assert_cmpfloat_with_epsilon (demb[0], -0.25f, 1e-6);
  g_assert_cmpfloat_with_epsilon (demb[1], 1.25f, 1e-6);
  g_assert_cmpfloat_with_epsilon (demb[2], 0.25f, 1e-6);
  g_assert_cmpfloat_with_epsilon (demb[3], -1.25f, 1e-6);
}

static void
test_pair_hinge_values (void)
{
  g_autofree void *scratch = g_malloc (tl_loss_scratch_size (4));
  float demb[4] = { 0 };
  TlLossStats stats;
  double loss;

  /* t 1, m .25: same pairs hinge at .75, different at 1.25.
   * Positive: (0,1) d 1 → .25; (2,3) d 1.5 → .75.  P = 2.
   * Negatives sorted: (1,3) .5, (0,3) 1.5, (1,2) 2, (0,2) 3; K = 2:
   * (1,3) → .75, (0,3) → 0.  (1.75) / 2. */
  loss = tl_pair_hinge_loss_forward (&stats, tri_emb, tri_labels, 4, 1, 1.0f, 0.25f, scratch);
  g_assert_cmpfloat_with_epsilon (loss, 0.875, EPS);
  g_assert_cmpint (stats.n_terms, ==, 4);
  g_assert_cmpint (stats.n_active, ==, 3);

  /* ½ per unit of distance: (0,1) pulls e0 up, e1 down; (2,3) pulls e2
   * down, e3 up; (1,3) pushes e1 down (away from 1.5), e3 up.  As
   * gradients: e0 −½, e1 +½ + ½ = 1, e2 +½, e3 −½ − ½ = −1. */
  tl_pair_hinge_loss_backward (demb, tri_emb, tri_labels, 4, 1, 1.0f, 0.25f, 1.0f, scratch);
  g_assert_cmpfloat_with_epsilon (demb[0], -0.5f, 1e-6);
  g_assert_cmpfloat_with_epsilon (demb[1], 1.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (demb[2], 0.5f, 1e-6);
  g_assert_cmpfloat_with_epsilon (demb[3], -1.0f, 1e-6);

  /* On the edges exactly: d01 = .75 and a negative at 1.25: no loss. */
  {
    static const float edge[] = { 0.0f, 0.75f, 2.0f, 3.25f };
    static const int lab[] = { 1, 1, 2, 2 };

    loss = tl_pair_hinge_loss_forward (&stats, edge, lab, 4, 1, 1.0f, 0.25f, scratch);
    /* Positives: (0,1) .75 → 0, (2,3) 1.25 → .5.  Negatives: (1,2) 1.25 → 0,
     * (0,2) 2 → 0.  .5 / 2. */
    g_assert_cmpfloat_with_epsilon (loss, 0.25, EPS);
    g_assert_cmpint (stats.n_active, ==, 1);
  }
}

static void
test_pair_hinge_balance (void)
{
  g_autofree void *scratch = g_malloc (tl_loss_scratch_size (6));
  /* One positive pair (0,1) and 14 negatives; only the single hardest
   * negative counts: K = min(1, 14).  Four negatives tie at d .5, (0,2),
   * (0,3), (1,2), (1,3) (and (2,3) is 1 apart): the lowest pair index, (0,2), wins. */
  static const float emb[] = { 0.0f, 0.0f, 0.5f, -0.5f, 5.0f, 9.0f };
  static const int lab[] = { 0, 0, 1, 2, 3, 4 };
  float demb[6] = { 0 };
  TlLossStats stats;
  double loss;

  loss = tl_pair_hinge_loss_forward (&stats, emb, lab, 6, 1, 1.0f, 0.25f, scratch);
  /* Positive (0,1) d 0 → 0.  Negative (0,2) d .5 → .75. */
  g_assert_cmpfloat_with_epsilon (loss, 0.75, EPS);
  g_assert_cmpint (stats.n_terms, ==, 2);
  g_assert_cmpint (stats.n_active, ==, 1);
  tl_pair_hinge_loss_backward (demb, emb, lab, 6, 1, 1.0f, 0.25f, 1.0f, scratch);
  g_assert_cmpfloat_with_epsilon (demb[0], 1.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (demb[2], -1.0f, 1e-6);
  g_assert_cmpfloat (demb[1], ==, 0.0f);
  g_assert_cmpfloat (demb[3], ==, 0.0f);

  /* No positive pair at all: nothing to balance against. */
  loss = tl_pair_hinge_loss_forward (&stats, emb + 1, lab + 1, 5, 1, 1.0f, 0.25f, scratch);
  g_assert_cmpfloat (loss, ==, 0.0);
  g_assert_cmpint (stats.n_terms, ==, 0);
}

static void
test_zero_distance (void)
{
  /* Collapsed embeddings: every distance 0.  The losses are exact and the
   * gradients finite (zero where the direction is undefined). */
  static const float emb[] = { 0.5f, -0.5f, 0.5f, -0.5f, 0.5f, -0.5f, 0.5f, -0.5f };
  static const int lab[] = { 0, 0, 1, 1 };
  g_autofree void *scratch = g_malloc (tl_loss_scratch_size (4));
  int pa[6], pb[6], same[6], n, i;
  float demb[8] = { 0 };
  TlTripletMining m;
  double loss;

  n = tl_loss_all_pairs (pa, pb, same, lab, 4);
  g_assert_cmpint (n, ==, 6);
  g_assert_cmpint (same[0], ==, 1);
  g_assert_cmpint (same[1], ==, 0);
  /* 4 negative pairs at D = 0, margin 1.5: each 2.25, over 6 pairs. */
  loss = tl_contrastive_loss_forward (NULL, NULL, emb, pa, pb, same, n, 2, 1.5f);
  g_assert_cmpfloat_with_epsilon (loss, 4 * 2.25 / 6, EPS);
  tl_contrastive_loss_backward (demb, emb, pa, pb, same, n, 2, 1.5f, 1.0f);
  for (m = TL_TRIPLET_ALL; m <= TL_TRIPLET_SEMI_HARD; m++)
    {
      loss = tl_triplet_loss_forward (NULL, emb, lab, 4, 2, 0.3f, m, scratch);
      g_assert_cmpfloat_with_epsilon (loss, 0.3, 1e-7);
      tl_triplet_loss_backward (demb, emb, lab, 4, 2, 0.3f, m, 1.0f, scratch);
    }
  loss = tl_pair_hinge_loss_forward (NULL, emb, lab, 4, 2, 0.6f, 0.04f, scratch);
  g_assert_cmpfloat_with_epsilon (loss, 2 * 0.64 / 2, 1e-7);
  tl_pair_hinge_loss_backward (demb, emb, lab, 4, 2, 0.6f, 0.04f, 1.0f, scratch);
  for (i = 0; i < 8; i++)
    g_assert_cmpfloat (demb[i], ==, 0.0f);
}

/* ---- gradients against finite differences -------------------------------- */

#define B 10
#define D 6

typedef enum
{
  LOSS_CONTRASTIVE,
  LOSS_TRIPLET_ALL,
  LOSS_TRIPLET_HARD,
  LOSS_TRIPLET_SEMI_HARD,
  LOSS_PAIR_HINGE,
} WhichLoss;

static const int fd_labels[B] = { 0, 0, 0, 1, 1, 2, 2, 2, 3, 3 };

static double
eval_loss (WhichLoss    which,
           const float *emb,
           float       *demb,
           float        dloss,
           void        *scratch)
{
  int pa[B * B], pb[B * B], same[B * B];
  int n = tl_loss_all_pairs (pa, pb, same, fd_labels, B);

  switch (which)
    {
    case LOSS_CONTRASTIVE:
      if (demb != NULL)
        tl_contrastive_loss_backward (demb, emb, pa, pb, same, n, D, 1.6f, dloss);
      return tl_contrastive_loss_forward (NULL, NULL, emb, pa, pb, same, n, D, 1.6f);
    case LOSS_TRIPLET_ALL:
    case LOSS_TRIPLET_HARD:
    case LOSS_TRIPLET_SEMI_HARD:
      {
        TlTripletMining m = which == LOSS_TRIPLET_ALL ? TL_TRIPLET_ALL :
                            which == LOSS_TRIPLET_HARD ? TL_TRIPLET_HARD :
                            TL_TRIPLET_SEMI_HARD;
        if (demb != NULL)
          tl_triplet_loss_backward (demb, emb, fd_labels, B, D, 0.5f, m, dloss, scratch);
        return tl_triplet_loss_forward (NULL, emb, fd_labels, B, D, 0.5f, m, scratch);
      }
    case LOSS_PAIR_HINGE:
    default:
      if (demb != NULL)
        tl_pair_hinge_loss_backward (demb, emb, fd_labels, B, D, 1.2f, 0.1f, dloss, scratch);
      return tl_pair_hinge_loss_forward (NULL, emb, fd_labels, B, D, 1.2f, 0.1f, scratch);
    }
}

static void
test_finite_differences (gconstpointer data)
{
  WhichLoss which = GPOINTER_TO_INT (data);
  g_autoptr (GRand) rng = g_rand_new_with_seed (1234 + which);
  g_autofree void *scratch = g_malloc (tl_loss_scratch_size (B));
  /* Inputs are multiples of 2^-10 in [−1, 1] and h = 2^-12, so x ± h is
   * exact in float and the difference quotient sees exactly 2h; the losses
   * sum in double, so the quotient is good to far better than float. */
  const float h = 1.0f / 4096;
  const float dloss = 0.7f;
  float emb[B * D], demb[B * D] = { 0 };
  double max_diff = 0.0, max_grad = 0.0;
  int i;

  for (i = 0; i < B * D; i++)
    emb[i] = (float) g_rand_int_range (rng, -1024, 1025) / 1024.0f;
  eval_loss (which, emb, demb, dloss, scratch);
  for (i = 0; i < B * D; i++)
    {
      float x = emb[i];
      double lp, lm, fd;

      emb[i] = x + h;
      lp = eval_loss (which, emb, NULL, 0, scratch);
      emb[i] = x - h;
      lm = eval_loss (which, emb, NULL, 0, scratch);
      emb[i] = x;
      fd = dloss * (lp - lm) / (2.0 * h);
      max_diff = MAX (max_diff, fabs (fd - demb[i]));
      max_grad = MAX (max_grad, fabs (fd));
    }
  g_test_message ("max |analytic - finite difference| = %.3g (largest gradient %.3g)",
                  max_diff, max_grad);
  g_assert_cmpfloat (max_grad, >, 1e-3);
  g_assert_cmpfloat (max_diff, <, 1e-6);
}

/* ---- softmax cross-entropy ------------------------------------------------ */

static void
test_xent_values (void)
{
  /* Row 0: logits (0, ln 3), label 1 → p = (1/4, 3/4), −log p = ln 4/3.
   * Row 1: logits (2, 2), label 0 → p = (1/2, 1/2), −log p = ln 2.
   * Weights (1, 3): L = (3·ln 4/3 + 1·ln 2) / 4. */
  const float logits[] = { 0.0f, logf (3.0f), 2.0f, 2.0f };
  const int labels[] = { 1, 0 };
  const float weight[] = { 1.0f, 3.0f };
  float probs[4], dlogits[4] = { 0 };
  double loss;

  loss = tl_softmax_xent_forward (probs, logits, labels, NULL, 2, 2);
  g_assert_cmpfloat_with_epsilon (loss, (log (4.0 / 3.0) + log (2.0)) / 2, 1e-6);
  g_assert_cmpfloat_with_epsilon (probs[0], 0.25, 1e-6);
  g_assert_cmpfloat_with_epsilon (probs[1], 0.75, 1e-6);
  loss = tl_softmax_xent_forward (NULL, logits, labels, weight, 2, 2);
  g_assert_cmpfloat_with_epsilon (loss, (3 * log (4.0 / 3.0) + log (2.0)) / 4, 1e-6);
  /* Row 0's gradient: 3/4 · (p − onehot) = 3/4 · (1/4, −1/4). */
  tl_softmax_xent_backward (dlogits, logits, labels, weight, 2, 2, 1.0f);
  g_assert_cmpfloat_with_epsilon (dlogits[0], 3.0 / 16, 1e-6);
  g_assert_cmpfloat_with_epsilon (dlogits[1], -3.0 / 16, 1e-6);
  g_assert_cmpfloat_with_epsilon (dlogits[2], -1.0 / 8, 1e-6);
  g_assert_cmpfloat_with_epsilon (dlogits[3], 1.0 / 8, 1e-6);

  /* Large logits do not overflow. */
  {
    const float big[] = { 1000.0f, 0.0f, -1000.0f };
    const int l0[] = { 1 };
    loss = tl_softmax_xent_forward (probs, big, l0, NULL, 1, 3);
    g_assert_cmpfloat_with_epsilon (loss, 1000.0, 1e-3);
    g_assert_true (isfinite (probs[2]));
  }
}

static void
test_xent_finite_differences (void)
{
  enum { XB = 6, XK = 3 };
  g_autoptr (GRand) rng = g_rand_new_with_seed (4321);
  const int labels[XB] = { 0, 1, 2, 0, 0, 2 };
  const float weight[XK] = { 0.5f, 2.0f, 1.25f };
  const float h = 1.0f / 4096;
  const float dloss = 0.7f;
  float logits[XB * XK], dlogits[XB * XK] = { 0 };
  double max_diff = 0.0, max_grad = 0.0;

  for (int i = 0; i < XB * XK; i++)
    logits[i] = (float) g_rand_int_range (rng, -3072, 3073) / 1024.0f;
  tl_softmax_xent_backward (dlogits, logits, labels, weight, XB, XK, dloss);
  for (int i = 0; i < XB * XK; i++)
    {
      float x = logits[i];
      double lp, lm, fd;

      logits[i] = x + h;
      lp = tl_softmax_xent_forward (NULL, logits, labels, weight, XB, XK);
      logits[i] = x - h;
      lm = tl_softmax_xent_forward (NULL, logits, labels, weight, XB, XK);
      logits[i] = x;
      fd = dloss * (lp - lm) / (2.0 * h);
      max_diff = MAX (max_diff, fabs (fd - dlogits[i]));
      max_grad = MAX (max_grad, fabs (fd));
    }
  g_test_message ("max |analytic - finite difference| = %.3g (largest gradient %.3g)",
                  max_diff, max_grad);
  g_assert_cmpfloat (max_grad, >, 1e-3);
  g_assert_cmpfloat (max_diff, <, 1e-6);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/nn/loss/contrastive/values", test_contrastive_values);
  g_test_add_func ("/twinlock/nn/loss/triplet/values", test_triplet_values);
  g_test_add_func ("/twinlock/nn/loss/triplet/gradient-values", test_triplet_gradient_values);
  g_test_add_func ("/twinlock/nn/loss/pair-hinge/values", test_pair_hinge_values);
  g_test_add_func ("/twinlock/nn/loss/pair-hinge/balance", test_pair_hinge_balance);
  g_test_add_func ("/twinlock/nn/loss/zero-distance", test_zero_distance);
  g_test_add_func ("/twinlock/nn/loss/softmax-xent/values", test_xent_values);
  g_test_add_func ("/twinlock/nn/loss/softmax-xent/backward", test_xent_finite_differences);
  g_test_add_data_func ("/twinlock/nn/loss/contrastive/backward",
                        GINT_TO_POINTER (LOSS_CONTRASTIVE), test_finite_differences);
  g_test_add_data_func ("/twinlock/nn/loss/triplet/all/backward",
                        GINT_TO_POINTER (LOSS_TRIPLET_ALL), test_finite_differences);
  g_test_add_data_func ("/twinlock/nn/loss/triplet/hard/backward",
                        GINT_TO_POINTER (LOSS_TRIPLET_HARD), test_finite_differences);
  g_test_add_data_func ("/twinlock/nn/loss/triplet/semi-hard/backward",
                        GINT_TO_POINTER (LOSS_TRIPLET_SEMI_HARD), test_finite_differences);
  g_test_add_data_func ("/twinlock/nn/loss/pair-hinge/backward",
                        GINT_TO_POINTER (LOSS_PAIR_HINGE), test_finite_differences);
  return g_test_run ();
}
