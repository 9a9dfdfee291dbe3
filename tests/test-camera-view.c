/* test-camera-view.c — TlCameraView draws frames and overlays where they belong
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "tl-camera-view.h"
#include "tl-test-gui.h"

typedef struct
{
  GtkWindow    *window;
  TlCameraView *view;
} Fixture;

static gboolean
view_has_size (gpointer data)
{
  Fixture *f = data;

  return gtk_widget_get_mapped (GTK_WIDGET (f->view)) &&
         gtk_widget_get_width (GTK_WIDGET (f->view)) > 0;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->window = GTK_WINDOW (gtk_window_new ());
  f->view = TL_CAMERA_VIEW (tl_camera_view_new ());
  gtk_window_set_default_size (f->window, 400, 300);
  gtk_window_set_child (f->window, GTK_WIDGET (f->view));
  gtk_window_present (f->window);
  tl_test_wait (view_has_size, f, "the view to be shown");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  gtk_window_destroy (f->window);
}

/* Left half red, right half blue: which side is which shows mirroring. */
static TlImage *
two_colour_image (int width,
                  int height)
{
  TlImage *image = tl_image_new (width, height, 3);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = image->data + y * image->stride + x * 3;

        p[0] = x < width / 2 ? 255 : 0;
        p[1] = 0;
        p[2] = x < width / 2 ? 0 : 255;
      }
  return image;
}

/* The mapping the view promises, computed here independently. */
static void
expected_position (Fixture *f,
                   TlImage *image,
                   gboolean mirrored,
                   float    fx,
                   float    fy,
                   int     *wx,
                   int     *wy)
{
  float w = gtk_widget_get_width (GTK_WIDGET (f->view));
  float h = gtk_widget_get_height (GTK_WIDGET (f->view));
  float scale = MIN (w / image->width, h / image->height);
  float ox = (w - image->width * scale) / 2;
  float oy = (h - image->height * scale) / 2;

  if (mirrored)
    fx = image->width - fx;
  *wx = (int) (ox + fx * scale);
  *wy = (int) (oy + fy * scale);
}

static void
assert_mapping (Fixture *f,
                TlImage *image,
                float    fx,
                float    fy)
{
  float wx, wy;
  int ex, ey;

  g_assert_true (tl_camera_view_frame_to_widget (f->view, fx, fy, &wx, &wy));
  expected_position (f, image, tl_camera_view_get_mirrored (f->view), fx, fy, &ex, &ey);
  g_assert_cmpint ((int) wx, ==, ex);
  g_assert_cmpint ((int) wy, ==, ey);
}

static void
test_draws_frame (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr (TlImage) image = two_colour_image (40, 30);
  g_autoptr (TlTestPixels) pixels = NULL;
  int x, y;
  float wx, wy;

  g_assert_false (tl_camera_view_frame_to_widget (f->view, 0, 0, &wx, &wy));
  tl_camera_view_set_image (f->view, image);
  g_assert_true (tl_camera_view_get_image (f->view) == image);
  pixels = tl_test_render (GTK_WIDGET (f->view));

  expected_position (f, image, FALSE, 10, 15, &x, &y);
  g_assert_true (tl_test_pixel_near (pixels, x, y, 255, 0, 0, 2));
  expected_position (f, image, FALSE, 30, 15, &x, &y);
  g_assert_true (tl_test_pixel_near (pixels, x, y, 0, 0, 255, 2));
  assert_mapping (f, image, 10, 15);
  assert_mapping (f, image, 39, 29);
}

static void
test_mirrored (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr (TlImage) image = two_colour_image (40, 30);
  g_autoptr (TlTestPixels) pixels = NULL;
  int x, y;

  tl_camera_view_set_image (f->view, image);
  tl_camera_view_set_mirrored (f->view, TRUE);
  g_assert_true (tl_camera_view_get_mirrored (f->view));
  pixels = tl_test_render (GTK_WIDGET (f->view));

  /* Frame pixel (10, 15) is red and now lands on the right. */
  expected_position (f, image, TRUE, 10, 15, &x, &y);
  g_assert_cmpint (x, >, gtk_widget_get_width (GTK_WIDGET (f->view)) / 2);
  g_assert_true (tl_test_pixel_near (pixels, x, y, 255, 0, 0, 2));
  expected_position (f, image, TRUE, 30, 15, &x, &y);
  g_assert_true (tl_test_pixel_near (pixels, x, y, 0, 0, 255, 2));
  assert_mapping (f, image, 10, 15);
}

static void
test_letterbox (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (TlImage) image = two_colour_image (60, 120);  /* taller than the view */
  g_autoptr (TlTestPixels) pixels = NULL;
  int x, y;

  tl_camera_view_set_image (f->view, image);
  pixels = tl_test_render (GTK_WIDGET (f->view));

  expected_position (f, image, FALSE, 0, 60, &x, &y);
  g_assert_cmpint (x, >, 2);
  /* Left of the picture is the dark letterbox, not the picture. */
  g_assert_true (tl_test_pixel_near (pixels, x - 2, y, 0x1e, 0x1e, 0x1e, 2));
  g_assert_true (tl_test_pixel_near (pixels, x + 2, y, 255, 0, 0, 2));
}

static void
test_grey_frame (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr (TlImage) grey = tl_image_new (20, 20, 1);
  g_autoptr (TlTestPixels) pixels = NULL;
  int x, y;

  for (int row = 0; row < 20; row++)
    memset (grey->data + row * grey->stride, 77, 20);
  tl_camera_view_set_image (f->view, grey);
  pixels = tl_test_render (GTK_WIDGET (f->view));
  expected_position (f, grey, FALSE, 10, 10, &x, &y);
  g_assert_true (tl_test_pixel_near (pixels, x, y, 77, 77, 77, 1));
}

static void
test_clear (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr (TlImage) image = two_colour_image (40, 30);
  g_autoptr (TlTestPixels) pixels = NULL;
  int x, y;

  tl_camera_view_set_image (f->view, image);
  expected_position (f, image, FALSE, 10, 15, &x, &y);
  tl_camera_view_set_image (f->view, NULL);
  g_assert_null (tl_camera_view_get_image (f->view));
  pixels = tl_test_render (GTK_WIDGET (f->view));
  g_assert_true (tl_test_pixel_near (pixels, x, y, 0x1e, 0x1e, 0x1e, 2));
}

static void
assert_overlay (Fixture  *f,
                gboolean  mirrored)
{
  g_autoptr (TlImage) image = two_colour_image (40, 30);
  g_autoptr (TlTestPixels) pixels = NULL;
  TlFaceOverlay face = { 0 };
  int x0, x1, y0, y1, px, py, cx, cy;

  face.x = 8;
  face.y = 6;
  face.width = 20;
  face.height = 16;
  face.n_points = 2;
  face.points[0][0] = 14;
  face.points[0][1] = 12;
  face.points[1][0] = 26;
  face.points[1][1] = 12;
  face.kind = TL_FACE_OVERLAY_MATCH;

  tl_camera_view_set_image (f->view, image);
  tl_camera_view_set_mirrored (f->view, mirrored);
  tl_camera_view_set_faces (f->view, &face, 1);
  g_assert_cmpuint (tl_camera_view_get_n_faces (f->view), ==, 1);
  pixels = tl_test_render (GTK_WIDGET (f->view));

  expected_position (f, image, mirrored, face.x, face.y, &x0, &y0);
  expected_position (f, image, mirrored, face.x + face.width, face.y + face.height, &x1, &y1);
  if (x1 < x0)
    {
      int t = x0;
      x0 = x1;
      x1 = t;
    }

  /* The box's left and right edges, half-way down, in GNOME green. */
  g_assert_true (tl_test_pixel_near (pixels, x0 + 1, (y0 + y1) / 2, 46, 194, 126, 3));
  g_assert_true (tl_test_pixel_near (pixels, x1 - 2, (y0 + y1) / 2, 46, 194, 126, 3));
  /* A landmark, and the picture just beside it (frame x 14 is red). */
  expected_position (f, image, mirrored, face.points[0][0], face.points[0][1], &px, &py);
  g_assert_true (tl_test_pixel_near (pixels, px, py, 46, 194, 126, 3));
  g_assert_true (tl_test_pixel_near (pixels, px, py + 6, 255, 0, 0, 2));
  /* Inside the box away from edges and points: the picture. */
  expected_position (f, image, mirrored, 12, 18, &cx, &cy);
  g_assert_true (tl_test_pixel_near (pixels, cx, cy, 255, 0, 0, 2));

  tl_camera_view_set_faces (f->view, NULL, 0);
  g_assert_cmpuint (tl_camera_view_get_n_faces (f->view), ==, 0);
  g_clear_pointer (&pixels, tl_test_pixels_free);
  pixels = tl_test_render (GTK_WIDGET (f->view));
  g_assert_true (tl_test_pixel_near (pixels, px, py, 255, 0, 0, 2));
}

static void
test_overlay (Fixture       *f,
              gconstpointer  data)
{
  assert_overlay (f, FALSE);
}

static void
test_overlay_mirrored (Fixture       *f,
                       gconstpointer  data)
{
  assert_overlay (f, TRUE);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      g_test_skip ("needs a display (run under xvfb-run, as ./build-aux/test does)");
      return g_test_run ();
    }

#define ADD(path, func) \
  g_test_add ("/twinlock/app/camera-view/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("draws-frame", test_draws_frame);
  ADD ("mirrored", test_mirrored);
  ADD ("letterbox", test_letterbox);
  ADD ("grey-frame", test_grey_frame);
  ADD ("clear", test_clear);
  ADD ("overlay", test_overlay);
  ADD ("overlay-mirrored", test_overlay_mirrored);
#undef ADD
  return g_test_run ();
}
