/* test-window.c — the real window, fed by real sources, read back from the screen
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

#include "tl-about.h"
#include "tl-application.h"
#include "tl-camera-monitor.h"
#include "tl-nn.h"
#include "tl-preferences-window.h"
#include "tl-test-gui.h"
#include "tl-window.h"

#define WIN_CHILD(f, name) \
  GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET ((f)->window), TL_TYPE_WINDOW, name))
#define PREFS_CHILD(prefs, name) \
  GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (prefs), TL_TYPE_PREFERENCES_WINDOW, name))

typedef struct
{
  TlApplication *app;
  TlSettings    *settings;
  TlWindow      *window;
  const char    *page;
  TlCameraState  state;
} Fixture;

/* One application for the whole run, as GtkApplication allows. */
static TlApplication *the_app;

static gboolean
page_is (gpointer data)
{
  Fixture *f = data;

  return g_strcmp0 (tl_window_get_page (f->window), f->page) == 0;
}

static void
wait_for_page (Fixture    *f,
               const char *page)
{
  f->page = page;
  tl_test_wait (page_is, f, page);
}

static gboolean
has_frame_of_width (gpointer data)
{
  Fixture *f = data;
  TlImage *image = tl_camera_view_get_image (tl_window_get_camera_view (f->window));

  return image != NULL && image->width == GPOINTER_TO_INT (g_object_get_data (G_OBJECT (f->window), "width")) &&
         gtk_widget_get_mapped (GTK_WIDGET (tl_window_get_camera_view (f->window)));
}

static void
wait_for_frame_of_width (Fixture *f,
                         int      width)
{
  g_object_set_data (G_OBJECT (f->window), "width", GINT_TO_POINTER (width));
  tl_test_wait (has_frame_of_width, f, "a frame of the new source");
}

static char *
face_path (void)
{
  return g_test_build_filename (G_TEST_DIST, "data", "orl-s1-1.png", NULL);
}

static char *
face_source (void)
{
  g_autofree char *path = face_path ();

  return g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! imagefreeze", path);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->app = the_app;
  tl_application_set_camera_override (f->app, NULL);
  f->settings = tl_application_get_settings (f->app);
  tl_settings_set_camera_source (f->settings, data);
  tl_settings_set_mirror_preview (f->settings, FALSE);
  f->window = tl_window_new (f->app);
  gtk_window_present (GTK_WINDOW (f->window));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  TlCamera *camera = tl_window_get_camera (f->window);

  g_object_add_weak_pointer (G_OBJECT (camera), (gpointer *) &camera);
  g_object_add_weak_pointer (G_OBJECT (f->window), (gpointer *) &f->window);
  gtk_window_destroy (GTK_WINDOW (f->window));
  /* Drain what the window's destruction scheduled. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  /* The window and its camera (pipeline stopped) are gone. */
  g_assert_null (f->window);
  g_assert_null (camera);
}

/* The colour at the centre of what the camera view shows. */
static void
centre_pixel (Fixture *f,
              guint8   rgb[3])
{
  GtkWidget *view = GTK_WIDGET (tl_window_get_camera_view (f->window));
  g_autoptr (TlTestPixels) pixels = tl_test_render (view);

  tl_test_pixel (pixels, pixels->width / 2, pixels->height / 2, rgb);
}

static void
test_picture_follows_source (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *face = face_source ();
  g_autofree char *path = face_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, &error);
  g_autoptr (TlTestPixels) pixels = NULL;
  TlCameraView *view = tl_window_get_camera_view (f->window);
  guint8 red[3], grey[3], blue[3];
  int max_diff = 0, n_distinct = 0, last = -1;

  g_assert_no_error (error);

  wait_for_page (f, "camera");
  wait_for_frame_of_width (f, 320);
  centre_pixel (f, red);
  g_test_message ("videotestsrc pattern=red: centre %d,%d,%d", red[0], red[1], red[2]);
  g_assert_cmpint (red[0], >=, 250);
  g_assert_cmpint (red[1], <=, 5);
  g_assert_cmpint (red[2], <=, 5);

  /* Switch to the still face: the picture on screen becomes the face. */
  tl_settings_set_camera_source (f->settings, face);
  wait_for_page (f, "camera");
  wait_for_frame_of_width (f, 92);
  pixels = tl_test_render (GTK_WIDGET (view));
  tl_test_pixel (pixels, pixels->width / 2, pixels->height / 2, grey);
  g_test_message ("face image: centre %d,%d,%d", grey[0], grey[1], grey[2]);
  g_assert_cmpint (ABS (grey[0] - grey[1]), <=, 2);
  g_assert_cmpint (ABS (grey[1] - grey[2]), <=, 2);
  g_assert_false (grey[0] >= 250 && grey[1] <= 5);

  /* Along the middle row, what is on screen is the face image, scaled. */
  for (int fx = 4; fx < 88; fx += 4)
    {
      const guint8 *ref = gdk_pixbuf_read_pixels (pixbuf);
      float wx, wy;
      guint8 rgb[3];
      int expected;

      g_assert_true (tl_camera_view_frame_to_widget (view, fx + 0.5f, 56.5f, &wx, &wy));
      tl_test_pixel (pixels, (int) wx, (int) wy, rgb);
      expected = ref[56 * gdk_pixbuf_get_rowstride (pixbuf) + fx * gdk_pixbuf_get_n_channels (pixbuf)];
      max_diff = MAX (max_diff, ABS (rgb[0] - expected));
      if (ABS (rgb[0] - last) > 8)
        n_distinct++;
      last = rgb[0];
    }
  g_test_message ("face row on screen vs PNG: max difference %d, %d changes", max_diff, n_distinct);
  g_assert_cmpint (max_diff, <=, 12);
  g_assert_cmpint (n_distinct, >=, 5);

  /* --camera wins over the setting while it is given. */
  tl_application_set_camera_override (f->app, "videotestsrc pattern=blue");
  wait_for_frame_of_width (f, 320);
  centre_pixel (f, blue);
  g_assert_cmpint (blue[2], >=, 250);
  g_assert_cmpint (blue[0], <=, 5);
  g_assert_cmpstr (tl_camera_get_source (tl_window_get_camera (f->window)), ==,
                   "videotestsrc pattern=blue");
}

static gboolean
no_faces (gpointer data)
{
  Fixture *f = data;

  return tl_camera_view_get_n_faces (tl_window_get_camera_view (f->window)) == 0;
}

static gboolean
has_faces (gpointer data)
{
  Fixture *f = data;

  return tl_camera_view_get_n_faces (tl_window_get_camera_view (f->window)) > 0;
}

static void
test_face_overlay (Fixture       *f,
                   gconstpointer  data)
{
  /* A still photo as the camera: the analysis thread finds the face and the
   * view draws its box and landmarks. */
  wait_for_page (f, "camera");
  wait_for_frame_of_width (f, 250);
  tl_test_wait (has_faces, f, "a face box on the camera view");
  g_assert_cmpuint (tl_camera_view_get_n_faces (tl_window_get_camera_view (f->window)), ==, 1);

  /* Switching to a picture without a face clears the overlay. */
  tl_settings_set_camera_source (f->settings, "videotestsrc pattern=blue");
  wait_for_frame_of_width (f, 320);
  f->page = NULL;
  tl_test_wait (no_faces, f, "the face box to go");
}

static void
assert_error_page (Fixture    *f,
                   const char *title)
{
  GtkWidget *page = WIN_CHILD (f, "error_page");

  wait_for_page (f, "error");
  g_test_message ("error page: %s — %s", adw_status_page_get_title (ADW_STATUS_PAGE (page)),
                  adw_status_page_get_description (ADW_STATUS_PAGE (page)));
  g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (page)), ==, title);
  g_assert_true (gtk_widget_get_mapped (page));
  /* No stale picture is left behind the error. */
  g_assert_null (tl_camera_view_get_image (tl_window_get_camera_view (f->window)));
  g_assert_true (gtk_widget_get_mapped (WIN_CHILD (f, "retry_button")));
}

static void
test_bad_source (Fixture       *f,
                 gconstpointer  data)
{
  GtkWidget *page = WIN_CHILD (f, "error_page");

  assert_error_page (f, "The Camera Source Does Not Work");
  g_assert_nonnull (strstr (adw_status_page_get_description (ADW_STATUS_PAGE (page)),
                            "nosuchelement"));

  /* Fixing the source in the settings brings the picture back. */
  tl_settings_set_camera_source (f->settings, "videotestsrc");
  wait_for_page (f, "camera");
}

static void
test_stream_ends (Fixture       *f,
                  gconstpointer  data)
{
  wait_for_page (f, "camera");
  assert_error_page (f, "The Camera Stopped");

  /* Retry starts it again (and it runs out again). */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.retry", NULL));
  g_assert_cmpstr (tl_window_get_page (f->window), !=, "error");
  wait_for_page (f, "camera");
  assert_error_page (f, "The Camera Stopped");
}

static void
test_stream_errors (Fixture       *f,
                    gconstpointer  data)
{
  wait_for_page (f, "camera");
  assert_error_page (f, "The Camera Failed");
}

static void
test_no_camera (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (TlCameraMonitor) monitor = tl_camera_monitor_new ();
  GtkWidget *page = WIN_CHILD (f, "error_page");

  if (g_list_model_get_n_items (G_LIST_MODEL (monitor)) > 0)
    {
      g_test_skip ("a camera is plugged in; this checks the page shown without one");
      return;
    }
  assert_error_page (f, "No Camera Found");
  g_assert_nonnull (strstr (adw_status_page_get_description (ADW_STATUS_PAGE (page)),
                            "Preferences"));
  g_assert_true (gtk_widget_get_mapped (WIN_CHILD (f, "choose_button")));
}

static void
test_preferences (Fixture       *f,
                  gconstpointer  data)
{
  TlPreferencesWindow *prefs = tl_preferences_window_new (f->app);
  AdwComboRow *row = ADW_COMBO_ROW (PREFS_CHILD (prefs, "source_row"));
  AdwEntryRow *custom = ADW_ENTRY_ROW (PREFS_CHILD (prefs, "custom_row"));
  GListModel *model = adw_combo_row_get_model (row);
  guint n = g_list_model_get_n_items (model);
  g_autoptr (TlCameraMonitor) monitor = tl_camera_monitor_new ();

  gtk_window_present (GTK_WINDOW (prefs));

  /* Automatic, every camera plugged in, then any other source. */
  g_assert_cmpuint (n, ==, 2 + g_list_model_get_n_items (G_LIST_MODEL (monitor)));
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (model), 0), ==, "Automatic");
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (model), n - 1), ==,
                   "Other GStreamer Source");

  /* The fixture's source is no device: "other", with the entry showing it. */
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, n - 1);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (custom)));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (custom)), ==, "videotestsrc");

  gtk_editable_set_text (GTK_EDITABLE (custom), "videotestsrc pattern=green");
  g_signal_emit_by_name (custom, "apply");
  g_assert_cmpstr (tl_settings_get_camera_source (f->settings), ==, "videotestsrc pattern=green");
  wait_for_page (f, "camera");

  adw_combo_row_set_selected (row, 0);
  g_assert_cmpstr (tl_settings_get_camera_source (f->settings), ==, "");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (custom)));

  /* The setting changed elsewhere moves the row. */
  tl_settings_set_camera_source (f->settings, "videotestsrc pattern=ball");
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, n - 1);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (custom)), ==, "videotestsrc pattern=ball");

  /* A --camera given at start is named, and choosing here replaces it. */
  g_assert_false (gtk_widget_get_visible (PREFS_CHILD (prefs, "override_hint")));
  tl_application_set_camera_override (f->app, "videotestsrc pattern=snow");
  g_assert_true (gtk_widget_get_visible (PREFS_CHILD (prefs, "override_hint")));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (PREFS_CHILD (prefs, "override_hint"))),
                            "pattern=snow"));
  adw_combo_row_set_selected (row, 0);
  g_assert_null (tl_application_get_camera_override (f->app));
  g_assert_false (gtk_widget_get_visible (PREFS_CHILD (prefs, "override_hint")));

  /* Mirroring follows the switch. */
  gtk_switch_set_active (GTK_SWITCH (PREFS_CHILD (prefs, "mirror_switch")), TRUE);
  g_assert_true (tl_settings_get_mirror_preview (f->settings));
  g_assert_true (tl_camera_view_get_mirrored (tl_window_get_camera_view (f->window)));

  gtk_window_destroy (GTK_WINDOW (prefs));
}

static void
test_mirror_action (Fixture       *f,
                    gconstpointer  data)
{
  TlCameraView *view = tl_window_get_camera_view (f->window);

  g_assert_false (tl_camera_view_get_mirrored (view));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.mirror", NULL));
  g_assert_true (tl_settings_get_mirror_preview (f->settings));
  g_assert_true (tl_camera_view_get_mirrored (view));
}

static void
test_about (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *versions = tl_about_get_component_versions ();
  g_autofree char *gtk = g_strdup_printf ("GTK %u.%u.%u\n", gtk_get_major_version (),
                                          gtk_get_minor_version (), gtk_get_micro_version ());
  GtkWidget *about;

  g_assert_nonnull (strstr (versions, gtk));
  g_assert_nonnull (strstr (versions, "GStreamer 1."));
  g_assert_nonnull (strstr (versions, "Twinlock " PACKAGE_VERSION));
  g_assert_nonnull (strstr (versions, tl_nn_kernels_name ()));

  about = tl_about_show (GTK_WINDOW (f->window));
  g_assert_true (ADW_IS_ABOUT_WINDOW (about));
  g_assert_cmpstr (adw_about_window_get_debug_info (ADW_ABOUT_WINDOW (about)), ==, versions);
  g_assert_nonnull (strstr (adw_about_window_get_comments (ADW_ABOUT_WINDOW (about)), "GStreamer"));
  gtk_window_destroy (GTK_WINDOW (about));
}

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;
  int status;

  g_setenv ("LC_ALL", "C", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      g_test_skip ("needs a display (run under xvfb-run, as ./build-aux/test does)");
      return g_test_run ();
    }

  the_app = tl_application_new ();
  /* Parallel test processes must not find each other on the bus. */
  g_application_set_flags (G_APPLICATION (the_app), G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (the_app), NULL, &error))
    g_error ("%s", error->message);

#define ADD(path, source, func) \
  g_test_add ("/twinlock/app/window/" path, Fixture, source, fixture_setup, func, fixture_teardown)
  ADD ("picture-follows-source", "videotestsrc pattern=red", test_picture_follows_source);
  ADD ("bad-source", "nosuchelement", test_bad_source);
  ADD ("stream-ends", "videotestsrc num-buffers=40", test_stream_ends);
  ADD ("stream-errors", "videotestsrc ! identity error-after=40", test_stream_errors);
  ADD ("no-camera", "", test_no_camera);
  ADD ("preferences", "videotestsrc", test_preferences);
  ADD ("mirror-action", "videotestsrc", test_mirror_action);
  ADD ("about", "videotestsrc", test_about);
  {
    g_autofree char *photo = g_test_build_filename (G_TEST_DIST, "data", "faces",
                                                    "lfw-Abel_Pacheco_0001.png", NULL);
    g_autofree char *source = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! imagefreeze",
                                               photo);
    ADD ("face-overlay", g_steal_pointer (&source), test_face_overlay);
  }
#undef ADD
  status = g_test_run ();
  g_object_unref (the_app);
  return status;
}
