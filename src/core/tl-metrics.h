/* tl-metrics.h — verification metrics from scored trials: ROC, EER, TAR@FAR,
 * best-accuracy threshold, LFW-style k-fold accuracy
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One trial: a score and whether the trial is genuine (same person / the
 * keyword really spoken) or an impostor trial. */
typedef struct
{
  double   score;
  gboolean genuine;
} TlScore;

/* Which way scores point.  A face distance is LOWER_IS_GENUINE (accept when
 * score <= threshold); a similarity or a keyword score is HIGHER_IS_GENUINE
 * (accept when score >= threshold). */
typedef enum
{
  TL_SCORE_HIGHER_IS_GENUINE,
  TL_SCORE_LOWER_IS_GENUINE,
} TlScoreOrder;

/* One operating point.  `threshold` is inclusive: with HIGHER_IS_GENUINE a
 * trial is accepted when score >= threshold, with LOWER_IS_GENUINE when
 * score <= threshold.
 *   far = impostor trials accepted / impostor trials
 *   tar = genuine trials accepted / genuine trials
 *   frr = 1 − tar */
typedef struct
{
  double threshold;
  double far;
  double tar;
  double frr;
} TlRocPoint;

/* The ROC at every distinct score, from the strictest point (accept
 * nothing: threshold ±INFINITY, far = tar = 0) to the most lenient (accept
 * everything: far = tar = 1); far and tar never decrease along `points`. */
typedef struct
{
  TlScoreOrder order;
  gsize        n_genuine;
  gsize        n_impostor;
  gsize        n_points;
  TlRocPoint  *points;
} TlRoc;

/* Builds the ROC.  Fails (G_IO_ERROR_INVALID_ARGUMENT) when there is no
 * genuine or no impostor trial, or a score is NaN or infinite. */
TlRoc   *tl_roc_new              (const TlScore *scores,
                                  gsize          n_scores,
                                  TlScoreOrder   order,
                                  GError       **error);
void     tl_roc_free             (TlRoc         *roc);

/* Equal error rate: where FAR = FRR, linearly interpolated between the two
 * ROC points that straddle it.  `threshold` (nullable) receives the
 * threshold of the ROC point nearest the crossing (smallest |FAR − FRR|;
 * the stricter one on a tie). */
double   tl_roc_eer              (const TlRoc   *roc,
                                  double        *threshold);

/* The highest TAR among the points with FAR <= `far` (no interpolation:
 * an operating point that exists).  `threshold` (nullable) gets its
 * threshold; the strict point (accept nothing) always qualifies. */
double   tl_roc_tar_at_far       (const TlRoc   *roc,
                                  double         far,
                                  double        *threshold);

/* The FAR of the point with the smallest FAR among those reaching TAR >= `tar`.
 * Handy for DET curves and "FAR at 95 % TAR" figures. */
double   tl_roc_far_at_tar       (const TlRoc   *roc,
                                  double         tar,
                                  double        *threshold);

/* Best accuracy (correct decisions / all trials) over all thresholds; the
 * strictest best point wins a tie.  `threshold` (nullable) is set halfway
 * between that point's score and the next more lenient distinct score, so
 * it separates the same trials while not sitting on a training sample. */
double   tl_roc_best_accuracy    (const TlRoc   *roc,
                                  double        *threshold);

/* Writes `threshold,far,tar,frr` rows (with a header line) to `path`. */
gboolean tl_roc_write_csv        (const TlRoc   *roc,
                                  const char    *path,
                                  GError       **error);

/* LFW-style k-fold accuracy: for each fold, the best-accuracy threshold is
 * chosen on the other k − 1 folds and the accuracy measured on the fold
 * itself.  `folds[i]` in [0, k) names trial i's fold; with `folds` NULL the
 * trials are split into k contiguous blocks of (nearly) equal size, which is
 * what an LFW pairs file in its own order needs.  `mean` and `std` are the
 * mean and the population standard deviation of the k accuracies;
 * `fold_accuracy` and `fold_threshold` (each nullable, k entries) receive the
 * per-fold figures.  Fails when k < 2, a fold is empty, or the training
 * folds of some fold lack genuine or impostor trials. */
gboolean tl_kfold_accuracy       (const TlScore *scores,
                                  gsize          n_scores,
                                  const guint   *folds,
                                  guint          k,
                                  TlScoreOrder   order,
                                  double        *mean,
                                  double        *std,
                                  double        *fold_accuracy,
                                  double        *fold_threshold,
                                  GError       **error);

/* Whether a trial with `score` is accepted at `threshold`. */
gboolean tl_score_accepts        (TlScoreOrder   order,
                                  double         score,
                                  double         threshold);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlRoc, tl_roc_free)

G_END_DECLS
