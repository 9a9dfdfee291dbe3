/* test-camera.c — TlCamera on real GStreamer sources
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <string.h>

#include "tl-camera.h"
#include "tl-camera-monitor.h"

/* A safety net so that a broken pipeline fails the test instead of
 * hanging it; nothing here depends on how fast frames come. */
#define WAIT_LIMIT_US (60 * G_USEC_PER_SEC)

typedef struct
{
  guint    n_signals;
  TlImage *last;
} FrameCounter;

static void
on_frame (TlCamera *camera,
          TlImage  *frame,
          gpointer  user_data)
{
  FrameCounter *counter = user_data;

  counter->n_signals++;
  g_clear_pointer (&counter->last, tl_image_unref);
  counter->last = tl_image_ref (frame);
}

static void
wait_for_state (TlCamera      *camera,
                TlCameraState  state)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;

  while (tl_camera_get_state (camera) != state)
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_get_monotonic_time () > deadline)
        g_error ("camera never reached state %d (is %d)", state, tl_camera_get_state (camera));
      g_usleep (1000);
    }
}

static void
wait_for_frames (TlCamera     *camera,
                 FrameCounter *counter,
                 guint         n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_LIMIT_US;

  while (counter->n_signals < n)
    {
      g_main_context_iteration (NULL, TRUE);
      g_assert_cmpint (tl_camera_get_state (camera), !=, TL_CAMERA_STATE_ERROR);
      if (g_get_monotonic_time () > deadline)
        g_error ("only %u of %u frames arrived", counter->n_signals, n);
    }
}

static TlCamera *
start_camera (const char   *source,
              FrameCounter *counter)
{
  TlCamera *camera = tl_camera_new ();
  g_autoptr (GError) error = NULL;

  g_signal_connect (camera, "frame", G_CALLBACK (on_frame), counter);
  tl_camera_set_source (camera, source);
  tl_camera_start (camera, &error);
  g_assert_no_error (error);
  return camera;
}

static void
finish_camera (TlCamera     *camera,
               FrameCounter *counter)
{
  tl_camera_stop (camera);
  g_assert_cmpint (tl_camera_get_state (camera), ==, TL_CAMERA_STATE_STOPPED);
  g_assert_finalize_object (camera);
  g_clear_pointer (&counter->last, tl_image_unref);
}

static char *
face_source (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "orl-s1-1.png", NULL);

  return g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! imagefreeze", path);
}

static void
test_videotestsrc (void)
{
  FrameCounter counter = { 0 };
  TlCamera *camera = start_camera ("videotestsrc pattern=red", &counter);
  g_autoptr (TlImage) latest = NULL;
  gint64 started = g_get_monotonic_time ();
  const guint8 *px;

  g_assert_cmpint (tl_camera_get_state (camera), ==, TL_CAMERA_STATE_STARTING);
  wait_for_frames (camera, &counter, 3);
  g_assert_cmpint (tl_camera_get_state (camera), ==, TL_CAMERA_STATE_PLAYING);
  g_assert_null (tl_camera_get_error (camera));
  g_assert_cmpstr (tl_camera_get_device_name (camera), ==, "videotestsrc");

  /* videotestsrc's default size, converted to packed RGB */
  g_assert_cmpint (counter.last->width, ==, 320);
  g_assert_cmpint (counter.last->height, ==, 240);
  g_assert_cmpint (counter.last->channels, ==, 3);
  g_assert_cmpint (counter.last->stride, >=, 320 * 3);
  px = counter.last->data + 120 * counter.last->stride + 160 * 3;
  g_assert_cmpint (px[0], >=, 250);
  g_assert_cmpint (px[1], <=, 5);
  g_assert_cmpint (px[2], <=, 5);

  /* Capture times are on the g_get_monotonic_time() clock: not in the
   * future and not before the pipeline was built. */
  latest = tl_camera_get_latest_frame (camera);
  g_assert_nonnull (latest);
  g_assert_cmpint (latest->timestamp_us, <=, g_get_monotonic_time ());
  g_assert_cmpint (latest->timestamp_us, >, started - G_USEC_PER_SEC);
  g_assert_cmpint (counter.last->timestamp_us, <=, latest->timestamp_us);

  finish_camera (camera, &counter);
}

static void
test_size_from_caps (void)
{
  FrameCounter counter = { 0 };
  TlCamera *camera = start_camera ("videotestsrc ! video/x-raw,format=YUY2,width=640,height=360",
                                   &counter);

  wait_for_frames (camera, &counter, 1);
  g_assert_cmpint (counter.last->width, ==, 640);
  g_assert_cmpint (counter.last->height, ==, 360);
  g_assert_cmpint (counter.last->channels, ==, 3);
  finish_camera (camera, &counter);
}

static void
test_still_image (void)
{
  FrameCounter counter = { 0 };
  g_autofree char *source = face_source ();
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "orl-s1-1.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, &error);
  TlCamera *camera;
  int max_diff = 0;
  const guint8 *ref;
  int ref_stride, ref_channels;

  g_assert_no_error (error);
  camera = start_camera (source, &counter);
  wait_for_frames (camera, &counter, 2);

  g_assert_cmpint (counter.last->width, ==, 92);
  g_assert_cmpint (counter.last->height, ==, 112);
  g_assert_cmpint (counter.last->channels, ==, 3);
  g_assert_cmpstr (tl_camera_get_device_name (camera), ==, "orl-s1-1.png");

  ref = gdk_pixbuf_read_pixels (pixbuf);
  ref_stride = gdk_pixbuf_get_rowstride (pixbuf);
  ref_channels = gdk_pixbuf_get_n_channels (pixbuf);
  for (int y = 0; y < 112; y++)
    for (int x = 0; x < 92; x++)
      for (int c = 0; c < 3; c++)
        {
          int a = counter.last->data[y * counter.last->stride + x * 3 + c];
          int b = ref[y * ref_stride + x * ref_channels + c];
          max_diff = MAX (max_diff, ABS (a - b));
        }
  g_test_message ("still image: max difference to the PNG %d", max_diff);
  g_assert_cmpint (max_diff, <=, 2);

  finish_camera (camera, &counter);
}

static void
assert_bad_source (const char *source,
                   const char *mentions)
{
  TlCamera *camera = tl_camera_new ();
  g_autoptr (GError) error = NULL;

  tl_camera_set_source (camera, source);
  g_assert_false (tl_camera_start (camera, &error));
  g_assert_error (error, TL_CAMERA_ERROR, TL_CAMERA_ERROR_BAD_SOURCE);
  g_test_message ("%s → %s", source, error->message);
  g_assert_nonnull (strstr (error->message, mentions));
  g_assert_cmpint (tl_camera_get_state (camera), ==, TL_CAMERA_STATE_ERROR);
  g_assert_error ((GError *) tl_camera_get_error (camera), TL_CAMERA_ERROR,
                  TL_CAMERA_ERROR_BAD_SOURCE);
  g_assert_null (tl_camera_get_latest_frame (camera));
  g_assert_finalize_object (camera);
}

static void
test_bad_description (void)
{
  assert_bad_source ("nosuchelement", "nosuchelement");
  assert_bad_source ("videotestsrc pattern=", "videotestsrc");
  assert_bad_source ("audiotestsrc", "audiotestsrc");
  assert_bad_source ("videotestsrc ! fakesink", "fakesink");
  assert_bad_source ("filesrc location=/nonexistent/face.png ! decodebin ! imagefreeze",
                     "/nonexistent/face.png");
}

static void
assert_fails_mid_stream (const char   *source,
                         TlCameraError code)
{
  FrameCounter counter = { 0 };
  TlCamera *camera = start_camera (source, &counter);
  guint64 n_frames;

  wait_for_state (camera, TL_CAMERA_STATE_ERROR);
  g_assert_cmpuint (tl_camera_get_n_frames (camera), >, 0);
  g_assert_error ((GError *) tl_camera_get_error (camera), TL_CAMERA_ERROR, (int) code);
  g_test_message ("%s → %s", source, tl_camera_get_error (camera)->message);

  /* Nothing more arrives once the error is reported. */
  n_frames = tl_camera_get_n_frames (camera);
  for (int i = 0; i < 20; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  g_assert_cmpuint (tl_camera_get_n_frames (camera), ==, n_frames);

  /* A retry starts the stream again. */
  g_assert_true (tl_camera_start (camera, NULL));
  g_assert_cmpint (tl_camera_get_state (camera), ==, TL_CAMERA_STATE_STARTING);
  g_assert_null (tl_camera_get_error (camera));
  wait_for_state (camera, TL_CAMERA_STATE_ERROR);

  finish_camera (camera, &counter);
}

static void
test_stream_ends (void)
{
  assert_fails_mid_stream ("videotestsrc num-buffers=5", TL_CAMERA_ERROR_ENDED);
}

static void
test_stream_errors (void)
{
  assert_fails_mid_stream ("videotestsrc ! identity error-after=5", TL_CAMERA_ERROR_FAILED);
}

/* Frames that arrive while the main loop is busy replace each other: one
 * emission follows, carrying the newest of them. */
static void
test_newest_frame_wins (void)
{
  FrameCounter counter = { 0 };
  TlCamera *camera = start_camera ("videotestsrc is-live=true ! video/x-raw,framerate=50/1",
                                   &counter);
  guint64 before;
  g_autoptr (TlImage) newest = NULL;

  wait_for_frames (camera, &counter, 2);
  counter.n_signals = 0;
  before = tl_camera_get_n_frames (camera);
  while (tl_camera_get_n_frames (camera) < before + 10)
    g_usleep (10000);

  newest = tl_camera_get_latest_frame (camera);
  g_assert_true (g_main_context_iteration (NULL, FALSE));
  g_assert_cmpuint (counter.n_signals, ==, 1);
  g_assert_cmpint (counter.last->timestamp_us, >=, newest->timestamp_us);

  finish_camera (camera, &counter);
}

typedef struct
{
  TlCamera      *camera;
  volatile gint  stop;
  guint          n_reads;
  gboolean       monotonic;
} Reader;

static gpointer
reader_thread (gpointer user_data)
{
  Reader *reader = user_data;
  gint64 last = 0;

  while (!g_atomic_int_get (&reader->stop))
    {
      g_autoptr (TlImage) frame = tl_camera_get_latest_frame (reader->camera);

      if (frame != NULL)
        {
          if (frame->timestamp_us < last)
            reader->monotonic = FALSE;
          last = frame->timestamp_us;
          reader->n_reads++;
          g_assert_cmpint (frame->width, ==, 320);
        }
      g_usleep (2000);
    }
  return NULL;
}

static void
test_latest_frame_from_thread (void)
{
  FrameCounter counter = { 0 };
  TlCamera *camera = start_camera ("videotestsrc pattern=ball", &counter);
  Reader reader = { camera, 0, 0, TRUE };
  GThread *thread = g_thread_new ("reader", reader_thread, &reader);

  wait_for_frames (camera, &counter, 20);
  g_atomic_int_set (&reader.stop, 1);
  g_thread_join (thread);
  g_test_message ("worker read %u frames", reader.n_reads);
  g_assert_cmpuint (reader.n_reads, >, 0);
  g_assert_true (reader.monotonic);
  finish_camera (camera, &counter);
}

static void
test_automatic (void)
{
  g_autoptr (TlCameraMonitor) monitor = tl_camera_monitor_new ();
  g_autoptr (TlCamera) camera = tl_camera_new ();
  g_autoptr (GError) error = NULL;

  if (g_list_model_get_n_items (G_LIST_MODEL (monitor)) > 0)
    {
      g_test_skip ("a camera is plugged in; this checks the case of none");
      return;
    }
  g_assert_false (tl_camera_start (camera, &error));
  g_assert_error (error, TL_CAMERA_ERROR, TL_CAMERA_ERROR_NO_CAMERA);
  g_assert_nonnull (strstr (error->message, "Preferences"));
  g_assert_cmpint (tl_camera_get_state (camera), ==, TL_CAMERA_STATE_ERROR);
}

int
main (int argc, char *argv[])
{
  g_setenv ("LC_ALL", "C", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/media/camera/videotestsrc", test_videotestsrc);
  g_test_add_func ("/twinlock/media/camera/size-from-caps", test_size_from_caps);
  g_test_add_func ("/twinlock/media/camera/still-image", test_still_image);
  g_test_add_func ("/twinlock/media/camera/bad-description", test_bad_description);
  g_test_add_func ("/twinlock/media/camera/stream-ends", test_stream_ends);
  g_test_add_func ("/twinlock/media/camera/stream-errors", test_stream_errors);
  g_test_add_func ("/twinlock/media/camera/newest-frame-wins", test_newest_frame_wins);
  g_test_add_func ("/twinlock/media/camera/latest-frame-from-thread", test_latest_frame_from_thread);
  g_test_add_func ("/twinlock/media/camera/automatic", test_automatic);
  return g_test_run ();
}
