/* test-voice-features.c — log-mel features against a direct DFT, the
 * verifier's window, the verifier model's load errors, its widths, its
 * ensembles and its warped views
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "tl-kws-engine.h"
#include "tl-kws-features.h"
#include "tl-kws-verifier.h"
#include "tl-model.h"

/* A vowel-like test signal: a few harmonics of 140 Hz plus noise. */
static void
make_signal (gint16 *out,
             gsize   n,
             guint32 seed)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < n; i++)
    {
      double t = i / 16000.0, x = 0;
      for (int h = 1; h <= 12; h++)
        x += sin (2 * G_PI * 140 * h * t + h) / h;
      x = 0.2 * x + 0.01 * g_rand_double_range (rng, -1, 1);
      out[i] = (gint16) CLAMP (x * 32767, -32768, 32767);
    }
}

static void
test_mel_reference (void)
{
  g_autoptr (TlKwsMel) mel = tl_kws_mel_new ();
  gint16 pcm[TL_KWS_MEL_WIN * 4];
  float in[TL_KWS_MEL_WIN], fast[TL_KWS_MEL_BANDS], ref[TL_KWS_MEL_BANDS];
  double max_diff = 0, lo = INFINITY, hi = -INFINITY;

  make_signal (pcm, G_N_ELEMENTS (pcm), 7);
  for (int f = 0; f < 4; f++)
    {
      for (int i = 0; i < TL_KWS_MEL_WIN; i++)
        in[i] = pcm[f * TL_KWS_MEL_WIN + i] / 32768.0f * (f == 3 ? 1e-3f : 1.0f);
      tl_kws_mel_frame (mel, fast, in);
      tl_kws_mel_frame_reference (ref, in);
      for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
        {
          max_diff = MAX (max_diff, fabs (fast[b] - ref[b]));
          lo = MIN (lo, ref[b]);
          hi = MAX (hi, ref[b]);
        }
    }
  g_test_message ("log-mel, FFT against direct DFT: max |difference| = %.3g "
                  "(log energies from %.1f to %.1f)", max_diff, lo, hi);
  g_assert_cmpfloat (hi - lo, >, 5.0);
  g_assert_cmpfloat (max_diff, <, 1e-3);

  /* Silence is the floor in every band. */
  memset (in, 0, sizeof in);
  tl_kws_mel_frame (mel, fast, in);
  for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
    g_assert_cmpfloat_with_epsilon (fast[b], log (TL_KWS_MEL_FLOOR), 1e-4);
}

/* A pure tone lights the band whose centre is nearest to it. */
static void
test_mel_tone (void)
{
  g_autoptr (TlKwsMel) mel = tl_kws_mel_new ();
  float in[TL_KWS_MEL_WIN], out[TL_KWS_MEL_BANDS];
  double m0 = 2595 * log10 (1 + TL_KWS_MEL_FMIN / 700), m1 = 2595 * log10 (1 + TL_KWS_MEL_FMAX / 700);
  double m = 2595 * log10 (1 + 1000.0 / 700);
  /* Band b's centre is m0 + (b + 1)·step on the mel scale. */
  int expect = (int) round ((m - m0) / ((m1 - m0) / (TL_KWS_MEL_BANDS + 1)) - 1);
  int best = 0;

  for (int i = 0; i < TL_KWS_MEL_WIN; i++)
    in[i] = 0.5f * sin (2 * G_PI * 1000.0 * i / 16000.0);
  tl_kws_mel_frame (mel, out, in);
  for (int b = 1; b < TL_KWS_MEL_BANDS; b++)
    if (out[b] > out[best])
      best = b;
  g_test_message ("1 kHz tone: loudest band %d, nearest centre %d", best, expect);
  g_assert_cmpint (best, ==, expect);
}

/* The window: frame f of n ends at end − (n − 1 − f)·hop; each band's
 * mean over the window is removed; samples outside the buffer are
 * silence. */
static void
test_mel_window (void)
{
  g_autoptr (TlKwsMel) mel = tl_kws_mel_new ();
  enum { N = 8000, FRAMES = 20 };
  g_autofree gint16 *pcm = g_new (gint16, N);
  g_autofree float *win = g_new (float, FRAMES * TL_KWS_MEL_BANDS);
  float in[TL_KWS_MEL_WIN], raw[FRAMES][TL_KWS_MEL_BANDS];
  gint64 end = 6000;
  double max_diff = 0;

  make_signal (pcm, N, 11);
  for (int f = 0; f < FRAMES; f++)
    {
      gint64 s0 = end - TL_KWS_MEL_WIN - (gint64) (FRAMES - 1 - f) * TL_KWS_MEL_HOP;
      for (int i = 0; i < TL_KWS_MEL_WIN; i++)
        in[i] = pcm[s0 + i] / 32768.0f;
      tl_kws_mel_frame (mel, raw[f], in);
    }
  tl_kws_mel_window (mel, win, pcm, N, end, FRAMES);
  for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
    {
      double mean = 0;
      for (int f = 0; f < FRAMES; f++)
        mean += raw[f][b] / FRAMES;
      for (int f = 0; f < FRAMES; f++)
        max_diff = MAX (max_diff, fabs (win[f * TL_KWS_MEL_BANDS + b] - (raw[f][b] - mean)));
    }
  g_test_message ("window against frame by frame: max |difference| = %.3g", max_diff);
  g_assert_cmpfloat (max_diff, <, 1e-4);

  /* Entirely before the stream: all silence, so all zero after the mean. */
  tl_kws_mel_window (mel, win, pcm, N, 0, FRAMES);
  for (int i = 0; i < FRAMES * TL_KWS_MEL_BANDS; i++)
    g_assert_cmpfloat (fabs (win[i]), <, 1e-5);
}

/* The window's naive reference, which cuts its frames, fills silence
 * and centres the bands by code of its own (and a direct DFT per frame),
 * agrees with the fast window: windows inside the stream, starting
 * before it and ending past it. */
static void
test_mel_window_reference (void)
{
  g_autoptr (TlKwsMel) mel = tl_kws_mel_new ();
  enum { N = 8000, FRAMES = 20 };
  g_autofree gint16 *pcm = g_new (gint16, N);
  g_autofree float *win = g_new (float, FRAMES * TL_KWS_MEL_BANDS);
  g_autofree float *ref = g_new (float, FRAMES * TL_KWS_MEL_BANDS);
  /* the second starts before the stream, the third ends past it */
  const gint64 ends[] = { 6000, 2000, N + 700 };

  make_signal (pcm, N, 5);
  for (guint e = 0; e < G_N_ELEMENTS (ends); e++)
    {
      double max_diff = 0;

      tl_kws_mel_window (mel, win, pcm, N, ends[e], FRAMES);
      tl_kws_mel_window_reference (ref, pcm, N, ends[e], FRAMES);
      for (int i = 0; i < FRAMES * TL_KWS_MEL_BANDS; i++)
        max_diff = MAX (max_diff, fabs (win[i] - ref[i]));
      g_test_message ("window ending at %" G_GINT64_FORMAT ": max |fast - reference| = %.3g",
                      ends[e], max_diff);
      g_assert_cmpfloat (max_diff, <, 1e-3);
    }
}

static void
expect_load_error (const char *path,
                   const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TlKwsVerifier) v = tl_kws_verifier_load (path, &error);

  g_assert_null (v);
  g_assert_nonnull (error);
  g_test_message ("%s: %s", what, error->message);
  /* The message names the file and says how to get a good one. */
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "kws train"));
}

/* A candidate's windows computed together are the windows computed one by
 * one, bit for bit, also where the union reaches before the stream. */
static void
test_mel_windows (void)
{
  g_autoptr (TlKwsMel) mel = tl_kws_mel_new ();
  enum { N = 24000 };
  g_autofree gint16 *pcm = g_new (gint16, N);
  g_autofree float *together = g_new (float, 4 * TL_KWS_VERIFIER_INPUT);
  g_autofree float *alone = g_new (float, TL_KWS_VERIFIER_INPUT);
  const int engine[] = TL_KWS_VERIFY_OFFSETS, others[] = { 5, -7, 0, 1 };
  const struct { const int *offsets; guint n; } sets[] = {
    { engine, G_N_ELEMENTS (engine) }, { others, G_N_ELEMENTS (others) }, { others + 2, 1 },
  };
  /* windows inside the stream, starting before it, ending after it */
  const gint64 ends[] = { 20000, 17000, 1200, 23900 };
  guint n_compared = 0;

  make_signal (pcm, N, 5);
  for (guint e = 0; e < G_N_ELEMENTS (ends); e++)
    for (guint k = 0; k < G_N_ELEMENTS (sets); k++)
      {
        tl_kws_mel_windows (mel, together, pcm, N, ends[e], sets[k].offsets, sets[k].n,
                            TL_KWS_VERIFIER_FRAMES);
        for (guint i = 0; i < sets[k].n; i++)
          {
            tl_kws_mel_window (mel, alone, pcm, N, ends[e] + sets[k].offsets[i] * TL_KWS_MEL_HOP,
                               TL_KWS_VERIFIER_FRAMES);
            g_assert_cmpmem (together + (gsize) i * TL_KWS_VERIFIER_INPUT,
                             sizeof (float) * TL_KWS_VERIFIER_INPUT,
                             alone, sizeof (float) * TL_KWS_VERIFIER_INPUT);
            n_compared++;
          }
      }
  g_test_message ("%u windows computed together equal the same windows alone, bit for bit",
                  n_compared);
}

static void
test_verifier_load_errors (void)
{
  g_autofree char *good = g_build_filename (TL_SOURCE_MODELDIR, TL_KWS_VERIFIER_FILE, NULL);
  g_autofree char *face = g_build_filename (TL_SOURCE_MODELDIR, "face-landmarks68.tlnn", NULL);
  g_autofree char *dir = g_dir_make_tmp ("tl-kws-verifier-XXXXXX", NULL);
  g_autofree char *garbage = g_build_filename (dir, "garbage.tlnn", NULL);
  g_autofree char *cut = g_build_filename (dir, "cut.tlnn", NULL);
  g_autofree char *flipped = g_build_filename (dir, "flipped.tlnn", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  g_file_get_contents (good, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, 1024);
  g_file_set_contents (garbage, "this is not a model", -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (cut, contents, len / 2, &error);
  g_assert_no_error (error);
  contents[len - 100] ^= 0x40;
  g_file_set_contents (flipped, contents, len, &error);
  g_assert_no_error (error);

  expect_load_error ("/nonexistent/kws-verifier.tlnn", "missing");
  expect_load_error (garbage, "garbage");
  expect_load_error (cut, "truncated");
  expect_load_error (flipped, "one bit flipped");
  expect_load_error (face, "another network");

  g_unlink (garbage);
  g_unlink (cut);
  g_unlink (flipped);
  g_rmdir (dir);
}

/* The committed model loads and gives probabilities. */
static void
test_verifier_classify (void)
{
  g_autofree char *path = tl_kws_verifier_default_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (TlKwsVerifier) v = tl_kws_verifier_load (path, &error);
  g_autoptr (TlKwsMel) mel = tl_kws_mel_new ();
  g_autofree gint16 *pcm = g_new (gint16, 24000);
  g_autofree float *win = g_new (float, TL_KWS_VERIFIER_INPUT);
  double p[TL_KWS_N_CLASSES], sum = 0;

  g_assert_no_error (error);
  make_signal (pcm, 24000, 3);
  tl_kws_mel_window (mel, win, pcm, 24000, 20000, TL_KWS_VERIFIER_FRAMES);
  tl_kws_verifier_classify (v, win, p);
  g_test_message ("a buzz: p(other) %.3f p(unlock) %.3f p(lock) %.3f",
                  p[TL_KWS_CLASS_OTHER], p[TL_KWS_CLASS_UNLOCK], p[TL_KWS_CLASS_LOCK]);
  for (int k = 0; k < TL_KWS_N_CLASSES; k++)
    {
      g_assert_cmpfloat (p[k], >=, 0);
      sum += p[k];
    }
  g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-9);
  g_assert_cmpint (tl_kws_class_from_phrase ("unlock"), ==, TL_KWS_CLASS_UNLOCK);
  g_assert_cmpint (tl_kws_class_from_phrase ("lock"), ==, TL_KWS_CLASS_LOCK);
  g_assert_cmpint (tl_kws_class_from_phrase ("open"), ==, TL_KWS_CLASS_OTHER);
}

/* An ensemble's probabilities against its members': the softmax of the
 * members' mean logits equals the softmax of their mean log-probabilities
 * (each member's log-softmax differs from its logits by a constant). */
static void
test_verifier_ensemble (void)
{
  g_autofree char *path = tl_kws_verifier_default_path ();
  g_auto (GStrv) defaults = tl_kws_verifier_default_paths ();
  g_autofree char *dir = g_dir_make_tmp ("tl-kws-ensemble-XXXXXX", NULL);
  g_autofree char *other = g_build_filename (dir, "other.tlnn", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TlNet) net = tl_kws_verifier_net_new (&error);
  g_autoptr (TlKwsVerifier) a = NULL, b = NULL, ab = NULL, aa = NULL;
  g_autoptr (TlKwsMel) mel = tl_kws_mel_new ();
  g_autofree gint16 *pcm = g_new (gint16, 24000);
  g_autofree float *win = g_new (float, TL_KWS_VERIFIER_INPUT);
  g_autoptr (GRand) rng = g_rand_new_with_seed (5);
  const char *pair[] = { path, other, NULL };
  const char *same[] = { path, path, NULL };
  const char *none[] = { NULL };
  const char *bad[] = { path, "/nonexistent/kws-verifier-2.tlnn", NULL };
  double max_diff = 0, max_same = 0, max_change = 0, max_member = 0;
  float *params;
  size_t n;

  g_assert_nonnull (defaults[0]);
  g_assert_cmpstr (defaults[0], ==, path);
  /* A second member: the default one with its weights perturbed. */
  g_assert_no_error (error);
  g_assert_true (tl_model_load_params (net, path, &error));
  g_assert_no_error (error);
  params = tl_net_params (net, &n);
  for (size_t i = 0; i < n; i++)
    params[i] *= 1 + 0.3 * g_rand_double_range (rng, -1, 1);
  g_assert_true (tl_model_save (net, other, &error));
  g_assert_no_error (error);

  a = tl_kws_verifier_load (path, &error);
  g_assert_no_error (error);
  b = tl_kws_verifier_load (other, &error);
  g_assert_no_error (error);
  ab = tl_kws_verifier_load_ensemble (pair, &error);
  g_assert_no_error (error);
  aa = tl_kws_verifier_load_ensemble (same, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tl_kws_verifier_n_members (a), ==, 1);
  g_assert_cmpuint (tl_kws_verifier_n_members (ab), ==, 2);

  for (guint32 seed = 1; seed <= 8; seed++)
    {
      double pa[TL_KWS_N_CLASSES], pb[TL_KWS_N_CLASSES], pab[TL_KWS_N_CLASSES];
      double paa[TL_KWS_N_CLASSES], ref[TL_KWS_N_CLASSES];
      double pm0[TL_KWS_N_CLASSES], pm1[TL_KWS_N_CLASSES];
      float mean_log[TL_KWS_N_CLASSES];

      make_signal (pcm, 24000, seed);
      tl_kws_mel_window (mel, win, pcm, 24000, 12000 + 1000 * seed, TL_KWS_VERIFIER_FRAMES);
      tl_kws_verifier_classify (a, win, pa);
      tl_kws_verifier_classify (b, win, pb);
      tl_kws_verifier_classify (ab, win, pab);
      tl_kws_verifier_classify (aa, win, paa);
      tl_kws_verifier_classify_member (ab, 0, win, pm0);
      tl_kws_verifier_classify_member (ab, 1, win, pm1);
      for (int k = 0; k < TL_KWS_N_CLASSES; k++)
        mean_log[k] = (float) ((log (pa[k]) + log (pb[k])) / 2);
      tl_kws_softmax (ref, mean_log, TL_KWS_N_CLASSES);
      for (int k = 0; k < TL_KWS_N_CLASSES; k++)
        {
          max_diff = MAX (max_diff, fabs (pab[k] - ref[k]));
          max_same = MAX (max_same, fabs (paa[k] - pa[k]));
          max_change = MAX (max_change, fabs (pab[k] - pa[k]));
          max_member = MAX (max_member, MAX (fabs (pm0[k] - pa[k]), fabs (pm1[k] - pb[k])));
        }
    }
  g_test_message ("ensemble against the softmax of its members' mean log-probabilities: "
                  "max |difference| = %.3g; the same model twice against once: %.3g; "
                  "the pair against its first member: %.3g; each member of the pair "
                  "alone against its own verifier: %.3g", max_diff, max_same, max_change, max_member);
  g_assert_cmpfloat (max_diff, <, 1e-5);
  g_assert_cmpfloat (max_same, <, 1e-6);
  g_assert_cmpfloat (max_member, <, 1e-9);
  /* the second member changes something */
  g_assert_cmpfloat (max_change, >, 1e-4);

  g_assert_null (tl_kws_verifier_load_ensemble (none, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (tl_kws_verifier_load_ensemble (bad, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "kws-verifier-2.tlnn"));

  g_unlink (other);
  g_rmdir (dir);
}

/* A network of @width with random weights and running statistics, saved
 * to @path, prepared for inference unfolded: the reference. */
static TlNet *
random_net (int         width,
            guint64     seed,
            const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rng = g_rand_new_with_seed ((guint32) seed);
  TlNet *net = tl_kws_verifier_net_new_width (width, &error);
  TlNnError err = { 0 };

  g_assert_no_error (error);
  tl_net_init_params (net, seed);
  for (int i = 0; i < tl_net_n_tensors (net); i++)
    {
      TlNnTensor *t = tl_net_tensor (net, i);
      gboolean var = g_str_has_suffix (t->name, ".var");

      /* running statistics (and biases) away from their initial values,
       * so that folding them has something to do */
      if (var || g_str_has_suffix (t->name, ".mean") || g_str_has_suffix (t->name, ".bias") ||
          g_str_has_suffix (t->name, ".beta"))
        for (size_t j = 0; j < t->count; j++)
          t->data[j] = var ? g_rand_double_range (rng, 0.5, 2) : g_rand_double_range (rng, -0.3, 0.3);
    }
  g_assert_true (tl_model_save (net, path, &error));
  g_assert_no_error (error);
  g_assert_true (tl_net_prepare (net, 1, false, &err));
  return net;
}

/* A model file brings its width: a wide net saved and loaded gives the
 * logits of the net it was saved from; an ensemble of members of
 * different widths gives the softmax of their mean logits. */
static void
test_verifier_widths (void)
{
  g_autofree char *path = tl_kws_verifier_default_path ();
  g_auto (GStrv) defaults = tl_kws_verifier_default_paths ();
  g_autofree char *dir = g_dir_make_tmp ("tl-kws-widths-XXXXXX", NULL);
  g_autofree char *wide_path = g_build_filename (dir, "wide.tlnn", NULL);
  g_autofree char *narrow_path = g_build_filename (dir, "narrow.tlnn", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TlNet) wide = random_net (32, 7, wide_path);
  g_autoptr (TlNet) narrow = random_net (8, 8, narrow_path);
  g_autoptr (TlNet) standard = tl_kws_verifier_net_new (&error);
  g_autoptr (TlKwsVerifier) w = NULL, mixed = NULL;
  g_autoptr (TlKwsMel) mel = tl_kws_mel_new ();
  g_autofree gint16 *pcm = g_new (gint16, 24000);
  g_autofree float *win = g_new (float, TL_KWS_VERIFIER_INPUT);
  const char *members[] = { path, wide_path, narrow_path, NULL };
  double max_alone = 0, max_mixed = 0, spread = 0;
  TlNnError err = { 0 };

  /* the committed members are of the default width */
  for (guint i = 0; defaults[i] != NULL; i++)
    {
      g_assert_cmpint (tl_kws_verifier_file_width (defaults[i], &error), ==, TL_KWS_VERIFIER_WIDTH);
      g_assert_no_error (error);
    }
  g_assert_cmpint (tl_kws_verifier_file_width (wide_path, &error), ==, 32);
  g_assert_cmpint (tl_kws_verifier_file_width (narrow_path, &error), ==, 8);
  g_assert_no_error (error);
  g_assert_cmpuint (tl_net_n_params (wide), >, 10 * tl_net_n_params (narrow));

  g_assert_true (tl_model_load_params (standard, path, &error));
  g_assert_no_error (error);
  g_assert_true (tl_net_prepare (standard, 1, false, &err));
  w = tl_kws_verifier_load (wide_path, &error);
  g_assert_no_error (error);
  mixed = tl_kws_verifier_load_ensemble (members, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tl_kws_verifier_n_members (mixed), ==, 3);

  for (guint32 seed = 1; seed <= 6; seed++)
    {
      double pw[TL_KWS_N_CLASSES], pm[TL_KWS_N_CLASSES], ref_w[TL_KWS_N_CLASSES];
      double ref_m[TL_KWS_N_CLASSES];
      float mean[TL_KWS_N_CLASSES] = { 0 };
      TlNet *refs[] = { standard, wide, narrow };

      make_signal (pcm, 24000, seed);
      tl_kws_mel_window (mel, win, pcm, 24000, 12000 + 1000 * seed, TL_KWS_VERIFIER_FRAMES);
      tl_kws_verifier_classify (w, win, pw);
      tl_kws_verifier_classify (mixed, win, pm);
      tl_kws_softmax (ref_w, tl_net_forward (wide, win, 1, false), TL_KWS_N_CLASSES);
      for (int r = 0; r < 3; r++)
        {
          const float *logits = tl_net_forward (refs[r], win, 1, false);
          for (int k = 0; k < TL_KWS_N_CLASSES; k++)
            mean[k] += logits[k] / 3;
        }
      tl_kws_softmax (ref_m, mean, TL_KWS_N_CLASSES);
      for (int k = 0; k < TL_KWS_N_CLASSES; k++)
        {
          max_alone = MAX (max_alone, fabs (pw[k] - ref_w[k]));
          max_mixed = MAX (max_mixed, fabs (pm[k] - ref_m[k]));
          spread = MAX (spread, fabs (pm[k] - pw[k]));
        }
    }
  g_test_message ("width 32 loaded against the net it was saved from: max |Δp| = %.3g; "
                  "ensemble of widths 16, 32 and 8 against the softmax of the three nets' "
                  "mean logits: %.3g (the ensemble against the wide net alone: %.3g)",
                  max_alone, max_mixed, spread);
  g_assert_cmpfloat (max_alone, <, 1e-5);
  g_assert_cmpfloat (max_mixed, <, 1e-5);
  g_assert_cmpfloat (spread, >, 1e-3);

  g_unlink (wide_path);
  g_unlink (narrow_path);
  g_rmdir (dir);
}

/* Model files whose shapes match no width the verifier supports. */
static void
expect_shape_error (TlNet      *net,
                    const char *path,
                    const char *what)
{
  g_autoptr (GError) error = NULL;
  TlNnError err = { 0 };

  g_assert_true (tl_net_build (net, &err));
  g_assert_true (tl_model_save (net, path, &error));
  g_assert_no_error (error);
  expect_load_error (path, what);
}

static void
test_verifier_bad_widths (void)
{
  g_autofree char *dir = g_dir_make_tmp ("tl-kws-widths-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "bad.tlnn", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TlNet) net = NULL;
  int x;

  g_assert_null (tl_kws_verifier_net_new_width (TL_KWS_VERIFIER_MIN_WIDTH - 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (tl_kws_verifier_net_new_width (TL_KWS_VERIFIER_MAX_WIDTH + 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* windows ending before the word's end or too late to wait for */
  g_assert_null (tl_kws_verifier_net_new_full (TL_KWS_VERIFIER_WIDTH, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (tl_kws_verifier_net_new_full (TL_KWS_VERIFIER_WIDTH,
                                               TL_KWS_VERIFIER_MAX_AFTER + 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a file whose input names no window this code writes: refused for
   * its input, which the message names */
  for (guint i = 0; i < 6; i++)
    {
      const char *names[] = { "mel-after-31", "mel-after-", "spectrogram", "mel-after-05",
                              "mel-after-+5", "mel-after-8 " };
      g_autofree char *said = g_strdup_printf ("its input is “%s”", names[i]);
      g_autoptr (TlKwsVerifier) v = NULL;

      net = tl_net_new_named (TL_KWS_VERIFIER_FRAMES, TL_KWS_MEL_BANDS, 1, names[i]);
      x = tl_net_conv2d (net, 0, "conv1", TL_KWS_VERIFIER_WIDTH, 3, 3, 2, TL_PAD_SAME, 1, true);
      tl_net_dense (net, x, "logits", TL_KWS_N_CLASSES, true);
      expect_shape_error (net, path, names[i]);
      v = tl_kws_verifier_load (path, &error);
      g_assert_null (v);
      g_assert_nonnull (strstr (error->message, said));
      g_clear_error (&error);
      g_clear_pointer (&net, tl_net_free);
    }

  /* conv1 narrower than any supported width */
  net = tl_net_new (TL_KWS_VERIFIER_FRAMES, TL_KWS_MEL_BANDS, 1);
  x = tl_net_conv2d (net, 0, "conv1", TL_KWS_VERIFIER_MIN_WIDTH - 1, 3, 3, 2, TL_PAD_SAME, 1, true);
  tl_net_dense (net, x, "logits", TL_KWS_N_CLASSES, true);
  expect_shape_error (net, path, "conv1 too narrow");
  g_assert_cmpint (tl_kws_verifier_file_width (path, &error), ==, 0);
  g_assert_error (error, TL_MODEL_ERROR, TL_MODEL_ERROR_SHAPE);
  g_clear_error (&error);
  g_clear_pointer (&net, tl_net_free);

  /* conv1 5×5 */
  net = tl_net_new (TL_KWS_VERIFIER_FRAMES, TL_KWS_MEL_BANDS, 1);
  x = tl_net_conv2d (net, 0, "conv1", 24, 5, 5, 2, TL_PAD_SAME, 1, true);
  tl_net_dense (net, x, "logits", TL_KWS_N_CLASSES, true);
  expect_shape_error (net, path, "conv1 5×5");
  g_clear_pointer (&net, tl_net_free);

  /* conv1 of width 24, but conv2 not twice as wide */
  net = tl_net_new (TL_KWS_VERIFIER_FRAMES, TL_KWS_MEL_BANDS, 1);
  x = tl_net_conv2d (net, 0, "conv1", 24, 3, 3, 2, TL_PAD_SAME, 1, true);
  x = tl_net_batchnorm (net, x, "bn1", 1e-5f, 0.1f);
  x = tl_net_maxpool (net, x, 2, 2, TL_PAD_VALID);
  x = tl_net_conv2d (net, x, "conv2", 32, 3, 3, 1, TL_PAD_SAME, 1, true);
  tl_net_dense (net, x, "logits", TL_KWS_N_CLASSES, true);
  expect_shape_error (net, path, "conv2 of another width");
  /* its width is read, but the rest does not match it */
  g_assert_cmpint (tl_kws_verifier_file_width (path, &error), ==, 24);
  g_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);
}

/* tl_kws_mel_resample () in double, from its definition: frame f reads
 * the input at @shift + @anchor + (f − @anchor) · @stretch, band b at
 * b · @warp, both clamped and linearly interpolated, then each band minus
 * its mean. */
static void
resample_reference (float       *out,
                    int          n_out,
                    const float *in,
                    int          n_in,
                    double       anchor,
                    double       shift,
                    double       stretch,
                    double       warp)
{
  g_autofree double *x = g_new (double, (gsize) n_out * TL_KWS_MEL_BANDS);

  for (int f = 0; f < n_out; f++)
    for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
      {
        double t = CLAMP (shift + anchor + (f - anchor) * stretch, 0, n_in - 1);
        double u = CLAMP (b * warp, 0, TL_KWS_MEL_BANDS - 1);
        int t0 = MIN ((int) floor (t), n_in - 2), u0 = MIN ((int) floor (u), TL_KWS_MEL_BANDS - 2);
        double v = 0;

        /* bilinear: the time interpolation of both neighbouring bands */
        for (int dt = 0; dt < 2; dt++)
          for (int du = 0; du < 2; du++)
            v += (dt ? t - t0 : 1 - (t - t0)) * (du ? u - u0 : 1 - (u - u0)) *
                 in[(gsize) (t0 + dt) * TL_KWS_MEL_BANDS + u0 + du];
        x[(gsize) f * TL_KWS_MEL_BANDS + b] = v;
      }
  for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
    {
      double mean = 0;

      for (int f = 0; f < n_out; f++)
        mean += x[(gsize) f * TL_KWS_MEL_BANDS + b] / n_out;
      for (int f = 0; f < n_out; f++)
        out[(gsize) f * TL_KWS_MEL_BANDS + b] = x[(gsize) f * TL_KWS_MEL_BANDS + b] - mean;
    }
}

/* The verifier's warped views: the resampling against its definition
 * (and a copy when nothing is warped), and the views' probabilities
 * against the members' own on the warped windows: the softmax of the mean
 * log-probability over members and views. */
static void
test_verifier_views (void)
{
  g_auto (GStrv) paths = tl_kws_verifier_default_paths ();
  g_autoptr (GError) error = NULL;
  g_autoptr (TlKwsVerifier) v = tl_kws_verifier_load_ensemble ((const char * const *) paths, &error);
  g_autoptr (TlKwsMel) mel = tl_kws_mel_new ();
  g_autofree gint16 *pcm = g_new (gint16, 24000);
  const int n_long = TL_KWS_VERIFIER_FRAMES + 6;
  g_autofree float *longer = g_new (float, (gsize) n_long * TL_KWS_MEL_BANDS);
  g_autofree float *win = g_new (float, TL_KWS_VERIFIER_INPUT);
  g_autofree float *fast = g_new (float, TL_KWS_VERIFIER_INPUT);
  g_autofree float *ref = g_new (float, TL_KWS_VERIFIER_INPUT);
  const float warps[] = { 0.94f, 1.06f };
  const struct { float shift, stretch, warp; } draws[] = {
    { 2, 1, 1 }, { 0.4f, 1.13f, 0.92f }, { 5.7f, 0.86f, 1.09f }, { 0, 1, 1.06f }, { 0, 1, 0.8f },
  };
  const float anchor = TL_KWS_VERIFIER_FRAMES - 1 - TL_KWS_VERIFIER_AFTER;
  double max_resample = 0, max_copy = 0, max_plain = 0, max_views = 0, max_member = 0, moved = 0;
  guint n = tl_kws_verifier_n_members (v);

  g_assert_no_error (error);
  g_assert_cmpuint (n, >=, 2);
  for (guint32 seed = 1; seed <= 4; seed++)
    {
      double p[TL_KWS_N_CLASSES], pv[TL_KWS_N_CLASSES], pm[TL_KWS_N_CLASSES];
      double want[TL_KWS_N_CLASSES], want_m[TL_KWS_N_CLASSES];
      float mean_log[TL_KWS_N_CLASSES] = { 0 }, mean_log_m[TL_KWS_N_CLASSES] = { 0 };

      make_signal (pcm, 24000, seed);
      tl_kws_mel_window (mel, longer, pcm, 24000, 14000 + 1500 * seed, n_long);
      for (guint d = 0; d < G_N_ELEMENTS (draws); d++)
        {
          tl_kws_mel_resample (fast, TL_KWS_VERIFIER_FRAMES, longer, n_long, anchor,
                               draws[d].shift, draws[d].stretch, draws[d].warp);
          resample_reference (ref, TL_KWS_VERIFIER_FRAMES, longer, n_long, anchor,
                              draws[d].shift, draws[d].stretch, draws[d].warp);
          for (int i = 0; i < TL_KWS_VERIFIER_INPUT; i++)
            max_resample = MAX (max_resample, fabs (fast[i] - ref[i]));
        }
      /* a whole shift, no stretch, no warp: frames 2 … 101, centred */
      tl_kws_mel_resample (fast, TL_KWS_VERIFIER_FRAMES, longer, n_long, anchor, 2, 1, 1);
      memcpy (ref, longer + 2 * TL_KWS_MEL_BANDS, sizeof (float) * TL_KWS_VERIFIER_INPUT);
      tl_kws_mel_centre (ref, TL_KWS_VERIFIER_FRAMES);
      for (int i = 0; i < TL_KWS_VERIFIER_INPUT; i++)
        max_copy = MAX (max_copy, fabs (fast[i] - ref[i]));

      memcpy (win, longer + 3 * TL_KWS_MEL_BANDS, sizeof (float) * TL_KWS_VERIFIER_INPUT);
      tl_kws_mel_centre (win, TL_KWS_VERIFIER_FRAMES);
      tl_kws_verifier_classify (v, win, p);
      tl_kws_verifier_classify_views (v, -1, win, NULL, 0, pv);
      for (int k = 0; k < TL_KWS_N_CLASSES; k++)
        max_plain = MAX (max_plain, fabs (p[k] - pv[k]));

      tl_kws_verifier_classify_views (v, -1, win, warps, G_N_ELEMENTS (warps), pv);
      tl_kws_verifier_classify_views (v, 1, win, warps, G_N_ELEMENTS (warps), pm);
      for (guint view = 0; view <= G_N_ELEMENTS (warps); view++)
        {
          if (view == 0)
            memcpy (ref, win, sizeof (float) * TL_KWS_VERIFIER_INPUT);
          else
            resample_reference (ref, TL_KWS_VERIFIER_FRAMES, win, TL_KWS_VERIFIER_FRAMES, 0, 0, 1,
                                warps[view - 1]);
          for (guint m = 0; m < n; m++)
            {
              double q[TL_KWS_N_CLASSES];

              tl_kws_verifier_classify_member (v, m, ref, q);
              for (int k = 0; k < TL_KWS_N_CLASSES; k++)
                {
                  mean_log[k] += log (q[k]) / (n * (G_N_ELEMENTS (warps) + 1));
                  if (m == 1)
                    mean_log_m[k] += log (q[k]) / (G_N_ELEMENTS (warps) + 1);
                }
            }
        }
      tl_kws_softmax (want, mean_log, TL_KWS_N_CLASSES);
      tl_kws_softmax (want_m, mean_log_m, TL_KWS_N_CLASSES);
      for (int k = 0; k < TL_KWS_N_CLASSES; k++)
        {
          max_views = MAX (max_views, fabs (pv[k] - want[k]));
          max_member = MAX (max_member, fabs (pm[k] - want_m[k]));
          moved = MAX (moved, fabs (pv[k] - p[k]));
        }
    }
  g_test_message ("resampling against its definition in double: max |Δ| = %.3g; a whole shift "
                  "against a copy: %.3g; no views against the plain ensemble: %.3g; two warped "
                  "views against the members on the reference's windows: %.3g (member 1 alone: "
                  "%.3g); the views move p by up to %.3g",
                  max_resample, max_copy, max_plain, max_views, max_member, moved);
  /* float against double: positions and values rounded to float (7e-5 seen) */
  g_assert_cmpfloat (max_resample, <, 2e-4);
  g_assert_cmpfloat (max_copy, <, 1e-6);
  g_assert_cmpfloat (max_plain, ==, 0);
  g_assert_cmpfloat (max_views, <, 1e-4);
  g_assert_cmpfloat (max_member, <, 1e-4);
  g_assert_cmpfloat (moved, >, 1e-4);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/voice/features/mel-reference", test_mel_reference);
  g_test_add_func ("/twinlock/voice/features/mel-tone", test_mel_tone);
  g_test_add_func ("/twinlock/voice/features/window", test_mel_window);
  g_test_add_func ("/twinlock/voice/features/windows", test_mel_windows);
  g_test_add_func ("/twinlock/voice/features/window-reference", test_mel_window_reference);
  g_test_add_func ("/twinlock/voice/verifier/load-errors", test_verifier_load_errors);
  g_test_add_func ("/twinlock/voice/verifier/classify", test_verifier_classify);
  g_test_add_func ("/twinlock/voice/verifier/ensemble", test_verifier_ensemble);
  g_test_add_func ("/twinlock/voice/verifier/widths", test_verifier_widths);
  g_test_add_func ("/twinlock/voice/verifier/bad-widths", test_verifier_bad_widths);
  g_test_add_func ("/twinlock/voice/verifier/views", test_verifier_views);
  return g_test_run ();
}
