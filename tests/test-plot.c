/* test-plot.c — charts come out as PNGs cairo reads back, data changes pixels,
 * CSV holds the curves, bad arguments give errors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "tl-plot.h"

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("tl-plot-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_remove (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* Renders `plot` to a PNG in the fixture's folder, reads it back and returns
 * its pixels (stride × height bytes). */
static guint8 *
render (Fixture    *f,
        TlPlot     *plot,
        const char *name,
        int         width,
        int         height,
        gsize      *size)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr (GError) error = NULL;
  cairo_surface_t *back;
  guint8 *pixels;

  g_assert_true (tl_plot_write_png (plot, path, width, height, &error));
  g_assert_no_error (error);
  back = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (back), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (back), ==, width);
  g_assert_cmpint (cairo_image_surface_get_height (back), ==, height);
  cairo_surface_flush (back);
  *size = (gsize) cairo_image_surface_get_stride (back) * height;
  pixels = g_memdup2 (cairo_image_surface_get_data (back), *size);
  cairo_surface_destroy (back);
  return pixels;
}

/* Pixels that are clearly coloured (not grey, white or black). */
static gsize
count_coloured (const guint8 *pixels,
                gsize         size)
{
  gsize i, n = 0;

  for (i = 0; i + 3 < size; i += 4)
    {
      int b = pixels[i], g = pixels[i + 1], r = pixels[i + 2];
      int hi = MAX (r, MAX (g, b)), lo = MIN (r, MIN (g, b));

      if (hi - lo > 60)
        n++;
    }
  return n;
}

static TlPlot *
roc_like_plot (double bend)
{
  TlPlot *plot = tl_plot_new ("ROC", "false accept rate", "true accept rate");
  double x[50], y[50];
  int i;

  for (i = 0; i < 50; i++)
    {
      x[i] = i == 0 ? 0.0 : pow (10.0, -4.0 + 4.0 * i / 49.0);
      y[i] = pow (x[i], bend);
    }
  tl_plot_set_log_x (plot, TRUE);
  tl_plot_set_y_range (plot, 0.0, 1.0);
  tl_plot_set_legend (plot, TL_PLOT_LEGEND_BOTTOM_RIGHT);
  tl_plot_add_curve (plot, "encoder A", x, y, 50);
  return plot;
}

static void
test_png (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr (TlPlot) a = roc_like_plot (0.1);
  g_autoptr (TlPlot) a2 = roc_like_plot (0.1);
  g_autoptr (TlPlot) b = roc_like_plot (0.3);
  g_autofree guint8 *pa = NULL, *pa2 = NULL, *pb = NULL;
  gsize na, na2, nb, diff = 0, i;

  pa = render (f, a, "a.png", 640, 480, &na);
  pa2 = render (f, a2, "a2.png", 640, 480, &na2);
  pb = render (f, b, "b.png", 640, 480, &nb);
  g_assert_cmpuint (na, ==, nb);
  g_assert_cmpmem (pa, na, pa2, na2);
  for (i = 0; i < na; i++)
    diff += pa[i] != pb[i];
  g_test_message ("%zu bytes differ between the two curves", diff);
  g_assert_cmpuint (diff, >, 500);
  /* The curve is drawn in colour: a 2-pixel line across the plot. */
  g_assert_cmpuint (count_coloured (pa, na), >, 400);
}

static void
test_several_curves (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr (TlPlot) one = tl_plot_new ("loss", "epoch", NULL);
  g_autoptr (TlPlot) three = tl_plot_new ("loss", "epoch", NULL);
  double x[20], y[3][20];
  g_autofree guint8 *p1 = NULL, *p3 = NULL;
  gsize n1, n3;
  int c, i;

  for (i = 0; i < 20; i++)
    {
      x[i] = i;
      for (c = 0; c < 3; c++)
        y[c][i] = (c + 1) * exp (-0.2 * i) + 0.1 * c;
    }
  tl_plot_add_curve (one, "contrastive", x, y[0], 20);
  for (c = 0; c < 3; c++)
    tl_plot_add_curve (three, c == 0 ? "contrastive" : c == 1 ? "triplet" : "hinge",
                       x, y[c], 20);
  g_assert_cmpuint (tl_plot_get_n_curves (three), ==, 3);
  p1 = render (f, one, "one.png", 320, 240, &n1);
  p3 = render (f, three, "three.png", 320, 240, &n3);
  g_assert_cmpuint (count_coloured (p3, n3), >, count_coloured (p1, n1));
}

static void
test_degenerate_data (Fixture       *f,
                      gconstpointer  data)
{
  /* No curve, a constant curve, only non-positive points on a log axis,
   * NaNs: all still draw an empty or flat chart. */
  g_autoptr (TlPlot) empty = tl_plot_new (NULL, NULL, NULL);
  g_autoptr (TlPlot) odd = tl_plot_new ("odd", "x", "y");
  double x[] = { 0.0, -1.0, NAN, 2.0, 3.0 };
  double y[] = { 5.0, 5.0, 5.0, 5.0, INFINITY };
  g_autofree guint8 *p = NULL, *q = NULL;
  gsize n;

  p = render (f, empty, "empty.png", 64, 64, &n);
  tl_plot_set_log_x (odd, TRUE);
  tl_plot_add_curve (odd, "flat", x, y, G_N_ELEMENTS (x));
  tl_plot_add_curve (odd, "none", x, y, 0);
  q = render (f, odd, "odd.png", 200, 100, &n);
}

static void
test_bad_arguments (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr (TlPlot) plot = roc_like_plot (0.2);
  g_autofree char *path = g_build_filename (f->dir, "x.png", NULL);
  g_autofree char *nowhere = g_build_filename (f->dir, "no", "such", "x.png", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (tl_plot_write_png (plot, path, 10, 480, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (tl_plot_write_png (plot, path, 640, 100000, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (tl_plot_write_png (plot, nowhere, 640, 480, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (tl_plot_write_csv (plot, nowhere, &error));
  g_assert_nonnull (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_csv (Fixture       *f,
          gconstpointer  data)
{
  static const TlScore s[] = {
    { 0.9, TRUE }, { 0.8, TRUE }, { 0.5, FALSE }, { 0.3, TRUE }, { 0.2, FALSE },
  };
  g_autoptr (TlRoc) roc = tl_roc_new (s, G_N_ELEMENTS (s), TL_SCORE_HIGHER_IS_GENUINE, NULL);
  g_autoptr (TlPlot) plot = tl_plot_new ("DET", "FAR", "FRR");
  g_autofree char *path = g_build_filename (f->dir, "det.csv", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  double x[] = { 1.5 }, y[] = { -2.0 };

  tl_plot_add_roc (plot, "keyword, \"unlock\"", roc, TRUE);
  tl_plot_add_curve (plot, "p", x, y, 1);
  g_assert_true (tl_plot_write_csv (plot, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==,
                   "curve,x,y\n"
                   "\"keyword, \"\"unlock\"\"\",0,1\n"
                   "\"keyword, \"\"unlock\"\"\",0,0.6666666667\n"
                   "\"keyword, \"\"unlock\"\"\",0,0.3333333333\n"
                   "\"keyword, \"\"unlock\"\"\",0.5,0.3333333333\n"
                   "\"keyword, \"\"unlock\"\"\",0.5,0\n"
                   "\"keyword, \"\"unlock\"\"\",1,0\n"
                   "p,1.5,-2\n");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/twinlock/core/plot/png", Fixture, NULL,
              fixture_set_up, test_png, fixture_tear_down);
  g_test_add ("/twinlock/core/plot/several-curves", Fixture, NULL,
              fixture_set_up, test_several_curves, fixture_tear_down);
  g_test_add ("/twinlock/core/plot/degenerate", Fixture, NULL,
              fixture_set_up, test_degenerate_data, fixture_tear_down);
  g_test_add ("/twinlock/core/plot/bad-arguments", Fixture, NULL,
              fixture_set_up, test_bad_arguments, fixture_tear_down);
  g_test_add ("/twinlock/core/plot/csv", Fixture, NULL,
              fixture_set_up, test_csv, fixture_tear_down);
  return g_test_run ();
}
