/* test-faces-tracker.c — live-frame analysis on the worker thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-face-pipeline.h"
#include "tl-face-tracker.h"
#include "tl-image-io.h"

#include <string.h>

typedef struct
{
  GMainLoop         *loop;
  guint              n_results;
  TlFaceFrameResult  last;
  gint64             stop_at;   /* quit when this timestamp arrives */
} Fixture;

static void
on_faces (TlFaceTracker     *tracker,
          TlFaceFrameResult *result,
          Fixture           *f)
{
  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  f->n_results++;
  f->last = *result;
  if (result->timestamp_us == f->stop_at)
    g_main_loop_quit (f->loop);
}

static TlImage *
load_fixture (const char *file)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "faces", file, NULL);
  g_autoptr (GError) error = NULL;
  TlImage *image = tl_image_load (path, &error);

  g_assert_no_error (error);
  return image;
}

static gboolean
timeout_cb (gpointer data)
{
  g_error ("no result from the face tracker within a minute");
  return G_SOURCE_REMOVE;
}

static void
test_tracker_newest_wins (void)
{
  g_autofree char *models = g_build_filename (g_getenv ("TL_SOURCE_ROOT"), "models", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TlFaceTracker) tracker = tl_face_tracker_new (models, &error);
  g_autoptr (TlFacePipeline) direct = tl_face_pipeline_new (models, &error);
  g_autoptr (TlImage) photo = load_fixture ("lfw-Benedita_da_Silva_0001.png");
  g_autoptr (GArray) expected = NULL;
  Fixture f = { 0 };
  guint timeout;
  const int n_frames = 6;

  g_assert_no_error (error);
  f.loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect (tracker, "faces", G_CALLBACK (on_faces), &f);

  /* A burst of frames (copies with their own timestamps), faster than the
   * worker can analyse them: only the newest may be waiting. */
  for (int i = 1; i <= n_frames; i++)
    {
      g_autoptr (TlImage) frame = tl_image_new (photo->width, photo->height, photo->channels);
      memcpy (frame->data, photo->data, (gsize) photo->stride * photo->height);
      frame->timestamp_us = i;
      tl_face_tracker_push_frame (tracker, frame);
    }
  f.stop_at = n_frames;
  timeout = g_timeout_add_seconds (60, timeout_cb, NULL);
  g_main_loop_run (f.loop);
  g_source_remove (timeout);

  g_test_message ("%u results, %u analysed, %u dropped, last analysis %.1f ms",
                  f.n_results, tl_face_tracker_get_n_analysed (tracker),
                  tl_face_tracker_get_n_dropped (tracker), f.last.analysis_ms);
  g_assert_cmpint (f.last.timestamp_us, ==, n_frames);
  g_assert_cmpuint (tl_face_tracker_get_n_analysed (tracker) + tl_face_tracker_get_n_dropped (tracker),
                    ==, n_frames);
  g_assert_cmpuint (tl_face_tracker_get_n_dropped (tracker), >, 0);
  g_assert_cmpuint (f.n_results, <=, tl_face_tracker_get_n_analysed (tracker));

  /* The worker's answer is the pipeline's answer. */
  expected = tl_face_detector_detect (tl_face_pipeline_get_detector (direct), photo);
  g_assert_cmpuint (f.last.n_faces, ==, MIN (expected->len, TL_FACE_TRACKER_MAX_FACES));
  g_assert_cmpuint (f.last.n_faces, >=, 1);
  g_assert_cmpfloat (tl_face_box_iou (&f.last.boxes[0], &g_array_index (expected, TlFaceBox, 0)), >, 0.999);
  g_assert_cmpint (f.last.frame_width, ==, photo->width);

  g_main_loop_unref (f.loop);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/vision/tracker/newest-wins", test_tracker_newest_wins);
  return g_test_run ();
}
