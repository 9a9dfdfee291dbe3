/* test-ctl-camera.c — twinlockctl cameras / snapshot / latency, run as a person would
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "tl-camera-monitor.h"

typedef struct
{
  char *out;
  char *err;
  int   status;
} Run;

static void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static void
run_ctl (Run        *run,
         const char *first,
         ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (args, (char *) g_getenv ("TWINLOCKCTL"));
  g_assert_nonnull (args->pdata[0]);
  va_start (ap, first);
  for (arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &run->out, &run->err, &run->status, &error);
  g_assert_no_error (error);
  g_test_message ("stdout: %s", run->out);
  g_test_message ("stderr: %s", run->err);
}

static char *
temp_png (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("twinlock-ctl-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, "frame.png", NULL);
}

static void
remove_png (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_snapshot_videotestsrc (void)
{
  g_auto (Run) run = { 0 };
  g_autofree char *png = temp_png ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = NULL;
  const guint8 *p;

  run_ctl (&run, "snapshot", "--camera", "videotestsrc pattern=blue", "--skip", "2", png, NULL);
  g_assert_true (g_spawn_check_wait_status (run.status, NULL));
  g_assert_nonnull (strstr (run.out, "320×240"));

  pixbuf = gdk_pixbuf_new_from_file (png, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 320);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 240);
  p = gdk_pixbuf_read_pixels (pixbuf) + 120 * gdk_pixbuf_get_rowstride (pixbuf)
      + 160 * gdk_pixbuf_get_n_channels (pixbuf);
  g_assert_cmpint (p[0], <=, 5);
  g_assert_cmpint (p[1], <=, 5);
  g_assert_cmpint (p[2], >=, 250);
  remove_png (png);
}

static void
test_snapshot_still_face (void)
{
  g_auto (Run) run = { 0 };
  g_autofree char *png = temp_png ();
  g_autofree char *face = g_test_build_filename (G_TEST_DIST, "data", "orl-s1-1.png", NULL);
  g_autofree char *source = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! imagefreeze",
                                             face);
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) got = NULL;
  g_autoptr (GdkPixbuf) want = NULL;
  int max_diff = 0;

  run_ctl (&run, "snapshot", "--camera", source, png, NULL);
  g_assert_true (g_spawn_check_wait_status (run.status, NULL));

  got = gdk_pixbuf_new_from_file (png, &error);
  g_assert_no_error (error);
  want = gdk_pixbuf_new_from_file (face, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (got), ==, 92);
  g_assert_cmpint (gdk_pixbuf_get_height (got), ==, 112);
  for (int y = 0; y < 112; y++)
    for (int x = 0; x < 92; x++)
      for (int c = 0; c < 3; c++)
        {
          int a = gdk_pixbuf_read_pixels (got)[y * gdk_pixbuf_get_rowstride (got)
                                               + x * gdk_pixbuf_get_n_channels (got) + c];
          int b = gdk_pixbuf_read_pixels (want)[y * gdk_pixbuf_get_rowstride (want)
                                                + x * gdk_pixbuf_get_n_channels (want) + c];
          max_diff = MAX (max_diff, ABS (a - b));
        }
  g_test_message ("snapshot vs the face PNG: max difference %d", max_diff);
  g_assert_cmpint (max_diff, <=, 2);
  remove_png (png);
}

static void
test_snapshot_errors (void)
{
  g_auto (Run) bad = { 0 };
  g_auto (Run) ended = { 0 };
  g_auto (Run) usage = { 0 };
  g_autofree char *png = temp_png ();

  run_ctl (&bad, "snapshot", "--camera", "nosuchelement", png, NULL);
  g_assert_false (g_spawn_check_wait_status (bad.status, NULL));
  g_assert_nonnull (strstr (bad.err, "nosuchelement"));
  g_assert_false (g_file_test (png, G_FILE_TEST_EXISTS));

  /* A source that ends before it gives a picture. */
  run_ctl (&ended, "snapshot", "--camera", "videotestsrc num-buffers=0", png, NULL);
  g_assert_false (g_spawn_check_wait_status (ended.status, NULL));
  g_assert_nonnull (strstr (ended.err, "ended"));
  g_assert_false (g_file_test (png, G_FILE_TEST_EXISTS));

  run_ctl (&usage, "snapshot", "--camera", "videotestsrc", NULL);
  g_assert_false (g_spawn_check_wait_status (usage.status, NULL));
  g_assert_nonnull (strstr (usage.err, "output file"));
  remove_png (png);
}

static void
test_cameras (void)
{
  g_auto (Run) run = { 0 };
  g_autoptr (TlCameraMonitor) monitor = tl_camera_monitor_new ();
  guint n = g_list_model_get_n_items (G_LIST_MODEL (monitor));

  run_ctl (&run, "cameras", NULL);
  g_assert_true (g_spawn_check_wait_status (run.status, NULL));
  if (n == 0)
    g_assert_cmpstr (run.out, ==, "No cameras found.\n");
  else
    for (guint i = 0; i < n; i++)
      {
        g_autoptr (TlCameraDevice) device = g_list_model_get_item (G_LIST_MODEL (monitor), i);

        g_assert_nonnull (strstr (run.out, tl_camera_device_get_name (device)));
        g_assert_nonnull (strstr (run.out, "source:"));
      }
}

static void
test_latency (void)
{
  g_auto (Run) run = { 0 };
  g_auto (Run) short_run = { 0 };
  g_autoptr (GRegex) line = g_regex_new ("^40 frames: capture to main loop ([0-9.]+) ms mean, "
                                         "([0-9.]+) ms max; ([0-9.]+) frames/s arrived\n$",
                                         0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  g_autofree char *mean = NULL;
  g_autofree char *max = NULL;

  run_ctl (&run, "latency", "--camera", "videotestsrc is-live=true", "--frames", "40", NULL);
  g_assert_true (g_spawn_check_wait_status (run.status, NULL));
  g_assert_true (g_regex_match (line, run.out, 0, &match));
  mean = g_match_info_fetch (match, 1);
  max = g_match_info_fetch (match, 2);
  g_assert_cmpfloat (g_ascii_strtod (mean, NULL), <=, g_ascii_strtod (max, NULL));

  /* A source that runs out first is reported, not measured. */
  run_ctl (&short_run, "latency", "--camera", "videotestsrc num-buffers=20", NULL);
  g_assert_false (g_spawn_check_wait_status (short_run.status, NULL));
  g_assert_nonnull (strstr (short_run.err, "ended"));
}

int
main (int argc, char *argv[])
{
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/ctl/snapshot/videotestsrc", test_snapshot_videotestsrc);
  g_test_add_func ("/twinlock/ctl/snapshot/still-face", test_snapshot_still_face);
  g_test_add_func ("/twinlock/ctl/snapshot/errors", test_snapshot_errors);
  g_test_add_func ("/twinlock/ctl/cameras", test_cameras);
  g_test_add_func ("/twinlock/ctl/latency", test_latency);
  return g_test_run ();
}
