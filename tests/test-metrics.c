/* test-metrics.c — ROC, EER, TAR@FAR, best accuracy and k-fold accuracy
 * against small cases worked out by hand
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>

#include "tl-metrics.h"

#define EPS 1e-12

/* Sorted by score: .9G .8G .7I .6G .5I .3G .2I .1I, so the ROC (far, tar) is
 * (0,0) (0,.25) (0,.5) (.25,.5) (.25,.75) (.5,.75) (.5,1) (.75,1) (1,1). */
static const TlScore similarity[] = {
  { 0.9, TRUE }, { 0.3, TRUE }, { 0.7, FALSE }, { 0.1, FALSE },
  { 0.6, TRUE }, { 0.2, FALSE }, { 0.8, TRUE }, { 0.5, FALSE },
};
static const double expect_far[] = { 0, 0, 0, .25, .25, .5, .5, .75, 1 };
static const double expect_tar[] = { 0, .25, .5, .5, .75, .75, 1, 1, 1 };
static const double expect_thr[] = { INFINITY, .9, .8, .7, .6, .5, .3, .2, .1 };

static void
test_roc_points (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TlRoc) roc = tl_roc_new (similarity, G_N_ELEMENTS (similarity),
                                      TL_SCORE_HIGHER_IS_GENUINE, &error);
  gsize i;

  g_assert_no_error (error);
  g_assert_cmpuint (roc->n_genuine, ==, 4);
  g_assert_cmpuint (roc->n_impostor, ==, 4);
  g_assert_cmpuint (roc->n_points, ==, 9);
  for (i = 0; i < roc->n_points; i++)
    {
      g_assert_cmpfloat_with_epsilon (roc->points[i].far, expect_far[i], EPS);
      g_assert_cmpfloat_with_epsilon (roc->points[i].tar, expect_tar[i], EPS);
      g_assert_cmpfloat_with_epsilon (roc->points[i].frr, 1 - expect_tar[i], EPS);
      if (isinf (expect_thr[i]))
        g_assert_true (isinf (roc->points[i].threshold) && roc->points[i].threshold > 0);
      else
        g_assert_cmpfloat_with_epsilon (roc->points[i].threshold, expect_thr[i], EPS);
    }
}

static void
test_roc_figures (void)
{
  g_autoptr (TlRoc) roc = tl_roc_new (similarity, G_N_ELEMENTS (similarity),
                                      TL_SCORE_HIGHER_IS_GENUINE, NULL);
  double thr = 0;

  /* FAR − FRR reaches exactly 0 at (far .25, tar .75), threshold .6. */
  g_assert_cmpfloat_with_epsilon (tl_roc_eer (roc, &thr), 0.25, EPS);
  g_assert_cmpfloat_with_epsilon (thr, 0.6, EPS);

  g_assert_cmpfloat_with_epsilon (tl_roc_tar_at_far (roc, 0.0, &thr), 0.5, EPS);
  g_assert_cmpfloat_with_epsilon (thr, 0.8, EPS);
  g_assert_cmpfloat_with_epsilon (tl_roc_tar_at_far (roc, 0.25, &thr), 0.75, EPS);
  g_assert_cmpfloat_with_epsilon (thr, 0.6, EPS);
  g_assert_cmpfloat_with_epsilon (tl_roc_tar_at_far (roc, 0.3, NULL), 0.75, EPS);
  g_assert_cmpfloat_with_epsilon (tl_roc_tar_at_far (roc, 0.5, &thr), 1.0, EPS);
  g_assert_cmpfloat_with_epsilon (thr, 0.3, EPS);

  g_assert_cmpfloat_with_epsilon (tl_roc_far_at_tar (roc, 1.0, &thr), 0.5, EPS);
  g_assert_cmpfloat_with_epsilon (thr, 0.3, EPS);
  g_assert_cmpfloat_with_epsilon (tl_roc_far_at_tar (roc, 0.6, NULL), 0.25, EPS);

  /* Correct decisions per point: 4 5 6 5 6 5 6 5 4 of 8; the first best is
   * (far 0, tar .5) at .8, the next score down is .7. */
  g_assert_cmpfloat_with_epsilon (tl_roc_best_accuracy (roc, &thr), 0.75, EPS);
  g_assert_cmpfloat_with_epsilon (thr, 0.75, EPS);
}

static void
test_roc_eer_interpolated (void)
{
  /* .9G .8G .5I .3G .2I: (far, frr) goes (0, 1/3) → (.5, 1/3); FAR − FRR
   * goes −1/3 → 1/6 and crosses at 2/3 of the way: EER = 1/3. */
  static const TlScore s[] = {
    { 0.9, TRUE }, { 0.8, TRUE }, { 0.5, FALSE }, { 0.3, TRUE }, { 0.2, FALSE },
  };
  g_autoptr (TlRoc) roc = tl_roc_new (s, G_N_ELEMENTS (s), TL_SCORE_HIGHER_IS_GENUINE, NULL);
  double thr = 0;

  g_assert_cmpfloat_with_epsilon (tl_roc_eer (roc, &thr), 1.0 / 3.0, EPS);
  g_assert_cmpfloat_with_epsilon (thr, 0.5, EPS);
}

static void
test_roc_distance (void)
{
  /* The same trials as distances 1 − similarity: the same curve, the
   * thresholds mirrored, accept when distance <= threshold. */
  TlScore d[G_N_ELEMENTS (similarity)];
  g_autoptr (TlRoc) roc = NULL;
  double thr = 0;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (similarity); i++)
    d[i] = (TlScore) { 1.0 - similarity[i].score, similarity[i].genuine };
  roc = tl_roc_new (d, G_N_ELEMENTS (d), TL_SCORE_LOWER_IS_GENUINE, NULL);
  g_assert_cmpuint (roc->n_points, ==, 9);
  g_assert_true (isinf (roc->points[0].threshold) && roc->points[0].threshold < 0);
  for (i = 1; i < roc->n_points; i++)
    {
      g_assert_cmpfloat_with_epsilon (roc->points[i].far, expect_far[i], EPS);
      g_assert_cmpfloat_with_epsilon (roc->points[i].tar, expect_tar[i], EPS);
      g_assert_cmpfloat_with_epsilon (roc->points[i].threshold, 1 - expect_thr[i], EPS);
    }
  g_assert_cmpfloat_with_epsilon (tl_roc_eer (roc, &thr), 0.25, EPS);
  g_assert_cmpfloat_with_epsilon (thr, 0.4, EPS);
  g_assert_cmpfloat_with_epsilon (tl_roc_best_accuracy (roc, &thr), 0.75, EPS);
  g_assert_cmpfloat_with_epsilon (thr, 0.25, EPS);
  g_assert_true (tl_score_accepts (TL_SCORE_LOWER_IS_GENUINE, 0.25, 0.25));
  g_assert_false (tl_score_accepts (TL_SCORE_LOWER_IS_GENUINE, 0.26, 0.25));
  g_assert_true (tl_score_accepts (TL_SCORE_HIGHER_IS_GENUINE, 0.25, 0.25));
  g_assert_false (tl_score_accepts (TL_SCORE_HIGHER_IS_GENUINE, 0.24, 0.25));
}

static void
test_roc_ties (void)
{
  /* A genuine and an impostor trial with the same score move together. */
  static const TlScore s[] = {
    { 0.5, TRUE }, { 0.5, FALSE }, { 0.9, TRUE }, { 0.1, FALSE },
  };
  g_autoptr (TlRoc) roc = tl_roc_new (s, G_N_ELEMENTS (s), TL_SCORE_HIGHER_IS_GENUINE, NULL);

  g_assert_cmpuint (roc->n_points, ==, 4);
  g_assert_cmpfloat_with_epsilon (roc->points[1].far, 0.0, EPS);
  g_assert_cmpfloat_with_epsilon (roc->points[1].tar, 0.5, EPS);
  g_assert_cmpfloat_with_epsilon (roc->points[2].far, 0.5, EPS);
  g_assert_cmpfloat_with_epsilon (roc->points[2].tar, 1.0, EPS);
  g_assert_cmpfloat_with_epsilon (roc->points[2].threshold, 0.5, EPS);
}

static void
test_roc_bad_input (void)
{
  static const TlScore only_genuine[] = { { 0.1, TRUE }, { 0.2, TRUE } };
  TlScore with_nan[] = { { 0.1, TRUE }, { NAN, FALSE } };
  g_autoptr (GError) error = NULL;
  TlRoc *roc;

  roc = tl_roc_new (only_genuine, 2, TL_SCORE_HIGHER_IS_GENUINE, &error);
  g_assert_null (roc);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  roc = tl_roc_new (with_nan, 2, TL_SCORE_HIGHER_IS_GENUINE, &error);
  g_assert_null (roc);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  roc = tl_roc_new (NULL, 0, TL_SCORE_HIGHER_IS_GENUINE, &error);
  g_assert_null (roc);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* Fold 0: G .9, G .8, I .3, I .65; fold 1: G .7, G .4, I .5, I .2.
 * Testing fold 0, fold 1 picks .6 (between .7 and .5): .65 slips through,
 * 3/4.  Testing fold 1, fold 0 picks .725 (between .8 and .65): both
 * genuine trials are rejected, 2/4.  Mean .625, population std .125. */
static const TlScore kfold_scores[] = {
  { 0.9, TRUE }, { 0.8, TRUE }, { 0.3, FALSE }, { 0.65, FALSE },
  { 0.7, TRUE }, { 0.4, TRUE }, { 0.5, FALSE }, { 0.2, FALSE },
};

static void
test_kfold (void)
{
  static const guint folds[] = { 0, 0, 0, 0, 1, 1, 1, 1 };
  g_autoptr (GError) error = NULL;
  double mean = 0, std = 0, acc[2], thr[2];

  g_assert_true (tl_kfold_accuracy (kfold_scores, 8, folds, 2, TL_SCORE_HIGHER_IS_GENUINE,
                                    &mean, &std, acc, thr, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (acc[0], 0.75, EPS);
  g_assert_cmpfloat_with_epsilon (acc[1], 0.5, EPS);
  g_assert_cmpfloat_with_epsilon (thr[0], 0.6, EPS);
  g_assert_cmpfloat_with_epsilon (thr[1], 0.725, EPS);
  g_assert_cmpfloat_with_epsilon (mean, 0.625, EPS);
  g_assert_cmpfloat_with_epsilon (std, 0.125, EPS);

  /* Contiguous blocks give the same split here. */
  mean = std = 0;
  g_assert_true (tl_kfold_accuracy (kfold_scores, 8, NULL, 2, TL_SCORE_HIGHER_IS_GENUINE,
                                    &mean, &std, NULL, NULL, &error));
  g_assert_cmpfloat_with_epsilon (mean, 0.625, EPS);
  g_assert_cmpfloat_with_epsilon (std, 0.125, EPS);
}

static void
test_kfold_bad_input (void)
{
  static const guint out_of_range[] = { 0, 0, 0, 0, 1, 1, 1, 2 };
  /* Fold 1 holds every impostor trial: fold 1's threshold cannot be chosen. */
  static const guint lopsided[] = { 0, 0, 1, 1, 1, 1, 1, 1 };
  g_autoptr (GError) error = NULL;
  double mean;

  g_assert_false (tl_kfold_accuracy (kfold_scores, 8, NULL, 1, TL_SCORE_HIGHER_IS_GENUINE,
                                     &mean, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (tl_kfold_accuracy (kfold_scores, 8, out_of_range, 2,
                                     TL_SCORE_HIGHER_IS_GENUINE, &mean, NULL, NULL, NULL,
                                     &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (tl_kfold_accuracy (kfold_scores, 8, lopsided, 2,
                                     TL_SCORE_HIGHER_IS_GENUINE, &mean, NULL, NULL, NULL,
                                     &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (tl_kfold_accuracy (kfold_scores, 3, NULL, 4,
                                     TL_SCORE_HIGHER_IS_GENUINE, &mean, NULL, NULL, NULL,
                                     &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_roc_csv (void)
{
  g_autoptr (TlRoc) roc = tl_roc_new (similarity, G_N_ELEMENTS (similarity),
                                      TL_SCORE_HIGHER_IS_GENUINE, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("tl-metrics-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "roc.csv", NULL);
  g_autofree char *bad = g_build_filename (dir, "missing", "roc.csv", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  g_assert_no_error (error);
  g_assert_true (tl_roc_write_csv (roc, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 1 + 9 + 1);
  g_assert_cmpstr (lines[0], ==, "threshold,far,tar,frr");
  g_assert_cmpstr (lines[1], ==, "inf,0,0,1");
  g_assert_cmpstr (lines[5], ==, "0.6,0.25,0.75,0.25");
  g_assert_cmpstr (lines[10], ==, "");

  g_assert_false (tl_roc_write_csv (roc, bad, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_remove (path);
  g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/core/metrics/roc/points", test_roc_points);
  g_test_add_func ("/twinlock/core/metrics/roc/figures", test_roc_figures);
  g_test_add_func ("/twinlock/core/metrics/roc/eer-interpolated", test_roc_eer_interpolated);
  g_test_add_func ("/twinlock/core/metrics/roc/distance", test_roc_distance);
  g_test_add_func ("/twinlock/core/metrics/roc/ties", test_roc_ties);
  g_test_add_func ("/twinlock/core/metrics/roc/bad-input", test_roc_bad_input);
  g_test_add_func ("/twinlock/core/metrics/roc/csv", test_roc_csv);
  g_test_add_func ("/twinlock/core/metrics/kfold", test_kfold);
  g_test_add_func ("/twinlock/core/metrics/kfold/bad-input", test_kfold_bad_input);
  return g_test_run ();
}
