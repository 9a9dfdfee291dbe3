/* test-microphone.c — the microphone delivers 16 kHz mono through
 * GStreamer, on the monotonic clock, and fails with a GError, never a crash
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "tl-microphone.h"
#include "tl-wav.h"

typedef struct
{
  GMutex   lock;
  guint64  n;
  gint64   first_stream_us;
  gint64   last_stream_us;
  gint64   last_monotonic_us;
  gboolean monotonic_ok;
  gboolean stream_ok;
  double   sum_sq;
} Received;

static void
on_samples (const gint16 *samples,
            gsize         n,
            gint64        stream_us,
            gint64        monotonic_us,
            gpointer      data)
{
  Received *r = data;

  g_mutex_lock (&r->lock);
  /* Stream time is the count of samples delivered before this buffer. */
  if (stream_us != (gint64) (r->n * G_USEC_PER_SEC / TL_MICROPHONE_RATE))
    r->stream_ok = FALSE;
  if (r->n > 0 && monotonic_us < r->last_monotonic_us)
    r->monotonic_ok = FALSE;
  r->last_monotonic_us = monotonic_us;
  r->last_stream_us = stream_us;
  r->n += n;
  for (gsize i = 0; i < n; i++)
    r->sum_sq += (double) samples[i] * samples[i];
  g_mutex_unlock (&r->lock);
}

static void
on_state (TlMicrophone *mic,
          GParamSpec   *pspec,
          GMainLoop    *loop)
{
  TlMicrophoneState s = tl_microphone_get_state (mic);
  if (s == TL_MICROPHONE_STATE_ENDED || s == TL_MICROPHONE_STATE_ERROR)
    g_main_loop_quit (loop);
}

static void
on_level (TlMicrophone *mic,
          GParamSpec   *pspec,
          double       *max_level)
{
  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  *max_level = MAX (*max_level, tl_microphone_get_level (mic));
}

static char *
file_source (const char *path)
{
  return g_strdup_printf ("filesrc location=\"%s\" ! decodebin", path);
}

/* A 22.05 kHz stereo WAV comes out as 16 kHz mono with the same duration
 * and the same loudness as the 16 kHz mono original. */
static void
test_resample (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "kws-unlock-22k-stereo.wav", NULL);
  g_autofree char *ref_path = g_test_build_filename (G_TEST_DIST, "data", "kws-unlock.wav", NULL);
  g_autofree char *source = file_source (path);
  g_autoptr (GError) error = NULL;
  g_autoptr (TlWav) ref = tl_wav_load_16k_mono (ref_path, &error);
  g_autoptr (TlMicrophone) mic = tl_microphone_new (source);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Received r = { .monotonic_ok = TRUE, .stream_ok = TRUE };
  double max_level = 0, ref_sq = 0, rms, ref_rms;
  gint64 before = g_get_monotonic_time ();

  g_assert_no_error (error);
  g_mutex_init (&r.lock);
  tl_microphone_set_sample_func (mic, on_samples, &r, NULL);
  g_signal_connect (mic, "notify::state", G_CALLBACK (on_state), loop);
  g_signal_connect (mic, "notify::level", G_CALLBACK (on_level), &max_level);
  g_assert_true (tl_microphone_start (mic, &error));
  g_assert_no_error (error);
  g_assert_cmpint (tl_microphone_get_state (mic), ==, TL_MICROPHONE_STATE_LISTENING);
  g_main_loop_run (loop);

  g_assert_cmpint (tl_microphone_get_state (mic), ==, TL_MICROPHONE_STATE_ENDED);
  g_assert_null (tl_microphone_get_error_message (mic));
  g_test_message ("delivered %" G_GUINT64_FORMAT " samples, reference %zu", r.n, ref->n_frames);
  /* within 10 ms */
  g_assert_cmpint (ABS ((gint64) r.n - (gint64) ref->n_frames), <=, 160);
  g_assert_cmpuint (tl_microphone_get_n_samples (mic), ==, r.n);
  g_assert_true (r.stream_ok);
  g_assert_true (r.monotonic_ok);
  /* Stamped on g_get_monotonic_time()'s clock, not some other epoch. */
  g_assert_cmpint (r.last_monotonic_us, >=, before - G_USEC_PER_SEC);
  g_assert_cmpint (r.last_monotonic_us, <=, g_get_monotonic_time () + 10 * G_USEC_PER_SEC);

  for (gsize i = 0; i < ref->n_frames; i++)
    ref_sq += (double) ref->samples[i] * ref->samples[i];
  rms = sqrt (r.sum_sq / r.n);
  ref_rms = sqrt (ref_sq / ref->n_frames);
  g_test_message ("RMS %.1f, reference %.1f; max level %.2f", rms, ref_rms, max_level);
  g_assert_cmpfloat (fabs (rms - ref_rms) / ref_rms, <, 0.1);
  g_mutex_clear (&r.lock);
}

static void
expect_start_error (const char *source,
                    const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TlMicrophone) mic = tl_microphone_new (source);

  g_assert_false (tl_microphone_start (mic, &error));
  g_assert_nonnull (error);
  g_test_message ("%s: %s", what, error->message);
  g_assert_cmpint (tl_microphone_get_state (mic), ==, TL_MICROPHONE_STATE_ERROR);
  g_assert_cmpstr (tl_microphone_get_error_message (mic), ==, error->message);
  /* Stopping a failed microphone is harmless. */
  tl_microphone_stop (mic);
}

static void
test_errors (void)
{
  g_autofree char *dir = g_dir_make_tmp ("tl-mic-XXXXXX", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.wav", NULL);
  g_autofree char *empty_src = file_source (empty);
  g_autofree char *garbage = g_build_filename (dir, "garbage.wav", NULL);
  g_autofree char *garbage_src = file_source (garbage);
  g_autofree char *missing_src = file_source ("/nonexistent/unlock.wav");

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_true (g_file_set_contents (garbage, "this is not audio at all, just some text", -1, NULL));

  expect_start_error ("no-such-element-anywhere", "bad description");
  expect_start_error ("filesrc location=x.wav !", "broken description");
  expect_start_error (missing_src, "missing file");
  expect_start_error (empty_src, "empty file");
  expect_start_error (garbage_src, "not audio");
  /* A capture device that is not there. */
  expect_start_error ("pulsesrc server=/nonexistent/pulse/native", "no device");
  /* A source that cannot produce audio the pipeline can use. */
  expect_start_error ("videotestsrc num-buffers=3", "wrong format");

  g_unlink (empty);
  g_unlink (garbage);
  g_rmdir (dir);
}

/* A source that ends without a single sample is an error, not a silent
 * success. */
static void
test_no_audio (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TlMicrophone) mic = tl_microphone_new ("audiotestsrc num-buffers=0");
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  g_signal_connect (mic, "notify::state", G_CALLBACK (on_state), loop);
  if (!tl_microphone_start (mic, &error))
    {
      /* Refusing at start is as good. */
      g_test_message ("refused at start: %s", error->message);
      g_assert_cmpint (tl_microphone_get_state (mic), ==, TL_MICROPHONE_STATE_ERROR);
      return;
    }
  g_main_loop_run (loop);
  g_assert_cmpint (tl_microphone_get_state (mic), ==, TL_MICROPHONE_STATE_ERROR);
  g_test_message ("%s", tl_microphone_get_error_message (mic));
  g_assert_nonnull (tl_microphone_get_error_message (mic));
}

/* The level follows the sound: a 1 kHz tone at half scale reads high,
 * published on the main context while the (live) source runs. */
static void
test_level (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TlMicrophone) mic =
    tl_microphone_new ("audiotestsrc is-live=true wave=sine freq=1000 volume=0.5 "
                       "samplesperbuffer=800 num-buffers=20");
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  double max_level = 0;

  g_signal_connect (mic, "notify::state", G_CALLBACK (on_state), loop);
  g_signal_connect (mic, "notify::level", G_CALLBACK (on_level), &max_level);
  g_assert_true (tl_microphone_start (mic, &error));
  g_assert_no_error (error);
  g_main_loop_run (loop);
  g_assert_cmpint (tl_microphone_get_state (mic), ==, TL_MICROPHONE_STATE_ENDED);
  /* −9 dBFS RMS on a 60 dB scale: 0.85 */
  g_test_message ("max level %.3f", max_level);
  g_assert_cmpfloat (max_level, >, 0.8);
  g_assert_cmpfloat (max_level, <, 0.9);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/media/microphone/resample", test_resample);
  g_test_add_func ("/twinlock/media/microphone/errors", test_errors);
  g_test_add_func ("/twinlock/media/microphone/no-audio", test_no_audio);
  g_test_add_func ("/twinlock/media/microphone/level", test_level);
  return g_test_run ();
}
