/* tl-metrics.c — ROC and the figures derived from it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything works internally on g = score (HIGHER_IS_GENUINE) or
 * g = −score (LOWER_IS_GENUINE), so "accept" is always g >= threshold.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>

#include "tl-metrics.h"

/* FAR targets such as 1e-3 are compared against count ratios; a ratio equal
 * to the target must qualify despite rounding. */
#define RATE_EPS 1e-12

typedef struct
{
  double   g;
  gboolean genuine;
} Trial;

static double
sign_of (TlScoreOrder order)
{
  return order == TL_SCORE_LOWER_IS_GENUINE ? -1.0 : 1.0;
}

gboolean
tl_score_accepts (TlScoreOrder order,
                  double       score,
                  double       threshold)
{
  if (order == TL_SCORE_LOWER_IS_GENUINE)
    return score <= threshold;
  return score >= threshold;
}

static int
compare_trials_descending (const void *a,
                           const void *b)
{
  const Trial *ta = a;
  const Trial *tb = b;

  if (ta->g > tb->g)
    return -1;
  if (ta->g < tb->g)
    return 1;
  return 0;
}

TlRoc *
tl_roc_new (const TlScore *scores,
            gsize          n_scores,
            TlScoreOrder   order,
            GError       **error)
{
  g_autofree Trial *trials = NULL;
  g_autoptr (TlRoc) roc = NULL;
  double s = sign_of (order);
  gsize n_gen = 0, n_imp = 0, acc_gen = 0, acc_imp = 0;
  gsize i = 0;

  g_return_val_if_fail (scores != NULL || n_scores == 0, NULL);

  trials = g_new (Trial, MAX (n_scores, 1));
  for (i = 0; i < n_scores; i++)
    {
      if (!isfinite (scores[i].score))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("Trial %zu has a score that is not a finite number"), i);
          return NULL;
        }
      trials[i].g = s * scores[i].score;
      trials[i].genuine = scores[i].genuine;
      if (scores[i].genuine)
        n_gen++;
      else
        n_imp++;
    }
  if (n_gen == 0 || n_imp == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("A ROC needs both genuine and impostor trials (got %zu genuine, %zu impostor)"),
                   n_gen, n_imp);
      return NULL;
    }
  qsort (trials, n_scores, sizeof (Trial), compare_trials_descending);

  roc = g_new0 (TlRoc, 1);
  roc->order = order;
  roc->n_genuine = n_gen;
  roc->n_impostor = n_imp;
  roc->points = g_new (TlRocPoint, n_scores + 1);
  roc->points[0] = (TlRocPoint) { s * INFINITY, 0.0, 0.0, 1.0 };
  roc->n_points = 1;

  /* One point after each group of equal scores: ties are accepted or
   * rejected together, whatever the threshold. */
  i = 0;
  while (i < n_scores)
    {
      double g = trials[i].g;
      TlRocPoint *p = &roc->points[roc->n_points++];

      while (i < n_scores && trials[i].g == g)
        {
          if (trials[i].genuine)
            acc_gen++;
          else
            acc_imp++;
          i++;
        }
      p->threshold = s * g;
      p->far = (double) acc_imp / n_imp;
      p->tar = (double) acc_gen / n_gen;
      p->frr = 1.0 - p->tar;
    }
  return g_steal_pointer (&roc);
}

void
tl_roc_free (TlRoc *roc)
{
  if (roc == NULL)
    return;
  g_free (roc->points);
  g_free (roc);
}

double
tl_roc_eer (const TlRoc *roc,
            double      *threshold)
{
  gsize i;

  g_return_val_if_fail (roc != NULL && roc->n_points >= 2, NAN);

  /* d = FAR − FRR rises from −1 (accept nothing) to +1 (accept all). */
  for (i = 1; i < roc->n_points; i++)
    {
      const TlRocPoint *a = &roc->points[i - 1];
      const TlRocPoint *b = &roc->points[i];
      double da = a->far - a->frr;
      double db = b->far - b->frr;
      double t;

      if (db < 0.0)
        continue;
      t = -da / (db - da);
      if (threshold != NULL)
        *threshold = fabs (da) <= fabs (db) ? a->threshold : b->threshold;
      return a->far + t * (b->far - a->far);
    }
  g_return_val_if_reached (NAN);
}

double
tl_roc_tar_at_far (const TlRoc *roc,
                   double       far,
                   double      *threshold)
{
  gsize i, best = 0;

  g_return_val_if_fail (roc != NULL && roc->n_points >= 1, NAN);

  /* far is non-decreasing along the points and tar too: the last point
   * within the FAR budget has the highest TAR. */
  for (i = 0; i < roc->n_points; i++)
    if (roc->points[i].far <= far + RATE_EPS)
      best = i;
  if (threshold != NULL)
    *threshold = roc->points[best].threshold;
  return roc->points[best].tar;
}

double
tl_roc_far_at_tar (const TlRoc *roc,
                   double       tar,
                   double      *threshold)
{
  gsize i;

  g_return_val_if_fail (roc != NULL && roc->n_points >= 1, NAN);

  for (i = 0; i < roc->n_points; i++)
    if (roc->points[i].tar >= tar - RATE_EPS)
      break;
  if (i == roc->n_points)
    i = roc->n_points - 1;
  if (threshold != NULL)
    *threshold = roc->points[i].threshold;
  return roc->points[i].far;
}

double
tl_roc_best_accuracy (const TlRoc *roc,
                      double      *threshold)
{
  double n = (double) (roc->n_genuine + roc->n_impostor);
  double best_acc = -1.0;
  gsize i, best = 0;

  g_return_val_if_fail (roc != NULL && roc->n_points >= 1, NAN);

  for (i = 0; i < roc->n_points; i++)
    {
      const TlRocPoint *p = &roc->points[i];
      /* Back to counts: tar and far are exact ratios of them. */
      double correct = round (p->tar * roc->n_genuine) +
                       round ((1.0 - p->far) * roc->n_impostor);
      double acc = correct / n;

      if (acc > best_acc + RATE_EPS)
        {
          best_acc = acc;
          best = i;
        }
    }
  if (threshold != NULL)
    {
      if (best == 0 || best + 1 == roc->n_points)
        *threshold = roc->points[best].threshold;
      else
        *threshold = 0.5 * (roc->points[best].threshold + roc->points[best + 1].threshold);
    }
  return best_acc;
}

gboolean
tl_roc_write_csv (const TlRoc *roc,
                  const char  *path,
                  GError     **error)
{
  g_autoptr (GString) out = g_string_new ("threshold,far,tar,frr\n");
  gsize i;

  g_return_val_if_fail (roc != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  for (i = 0; i < roc->n_points; i++)
    {
      const TlRocPoint *p = &roc->points[i];
      char buf[4][G_ASCII_DTOSTR_BUF_SIZE];

      g_string_append_printf (out, "%s,%s,%s,%s\n",
                              g_ascii_formatd (buf[0], sizeof buf[0], "%.10g", p->threshold),
                              g_ascii_formatd (buf[1], sizeof buf[1], "%.10g", p->far),
                              g_ascii_formatd (buf[2], sizeof buf[2], "%.10g", p->tar),
                              g_ascii_formatd (buf[3], sizeof buf[3], "%.10g", p->frr));
    }
  if (!g_file_set_contents (path, out->str, out->len, error))
    {
      g_prefix_error (error, _("Cannot write the ROC table: "));
      return FALSE;
    }
  return TRUE;
}

gboolean
tl_kfold_accuracy (const TlScore *scores,
                   gsize          n_scores,
                   const guint   *folds,
                   guint          k,
                   TlScoreOrder   order,
                   double        *mean,
                   double        *std,
                   double        *fold_accuracy,
                   double        *fold_threshold,
                   GError       **error)
{
  g_autofree guint *fold_of = NULL;
  g_autofree TlScore *train = NULL;
  g_autofree double *acc = NULL;
  double sum = 0.0, sum_sq = 0.0, m;
  gsize i;
  guint f;

  g_return_val_if_fail (scores != NULL || n_scores == 0, FALSE);

  if (k < 2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Cross-validation needs at least 2 folds (got %u)"), k);
      return FALSE;
    }
  if (n_scores < k)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%zu trials cannot fill %u folds"), n_scores, k);
      return FALSE;
    }

  fold_of = g_new (guint, n_scores);
  for (i = 0; i < n_scores; i++)
    {
      fold_of[i] = folds != NULL ? folds[i] : (guint) (i * k / n_scores);
      if (fold_of[i] >= k)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("Trial %zu is in fold %u, but there are only %u folds"),
                       i, fold_of[i], k);
          return FALSE;
        }
    }

  train = g_new (TlScore, n_scores);
  acc = g_new (double, k);
  for (f = 0; f < k; f++)
    {
      g_autoptr (TlRoc) roc = NULL;
      g_autoptr (GError) local_error = NULL;
      gsize n_train = 0, n_test = 0, n_correct = 0;
      double thr;

      for (i = 0; i < n_scores; i++)
        if (fold_of[i] != f)
          train[n_train++] = scores[i];
      n_test = n_scores - n_train;
      if (n_test == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("Fold %u has no trials"), f + 1);
          return FALSE;
        }
      roc = tl_roc_new (train, n_train, order, &local_error);
      if (roc == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("Cannot choose a threshold without fold %u: %s"),
                       f + 1, local_error->message);
          return FALSE;
        }
      tl_roc_best_accuracy (roc, &thr);
      for (i = 0; i < n_scores; i++)
        if (fold_of[i] == f &&
            tl_score_accepts (order, scores[i].score, thr) == !!scores[i].genuine)
          n_correct++;
      acc[f] = (double) n_correct / n_test;
      if (fold_accuracy != NULL)
        fold_accuracy[f] = acc[f];
      if (fold_threshold != NULL)
        fold_threshold[f] = thr;
      sum += acc[f];
    }
  m = sum / k;
  for (f = 0; f < k; f++)
    sum_sq += (acc[f] - m) * (acc[f] - m);
  if (mean != NULL)
    *mean = m;
  if (std != NULL)
    *std = sqrt (sum_sq / k);
  return TRUE;
}
