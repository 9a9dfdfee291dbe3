/* test-icons.c — the app icons load, draw something, and follow the icon rules
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <string.h>

static char *
icon_path (const char *kind,
           const char *file)
{
  const char *root = g_getenv ("TL_SOURCE_ROOT");

  g_assert_nonnull (root);
  return g_build_filename (root, "data", "icons", "hicolor", kind, "apps", file, NULL);
}

/* Renders the SVG at @size and returns the share of pixels it covers. */
static double
coverage (const char *path,
          int         size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file_at_size (path, size, size, &error);
  const guint8 *px;
  int covered = 0;

  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, size);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, size);
  g_assert_true (gdk_pixbuf_get_has_alpha (pixbuf));
  px = gdk_pixbuf_read_pixels (pixbuf);
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      if (px[y * gdk_pixbuf_get_rowstride (pixbuf) + x * 4 + 3] > 128)
        covered++;
  return (double) covered / (size * size);
}

static void
test_app_icon (void)
{
  g_autofree char *path = icon_path ("scalable", "io.github.twinlock.Twinlock.svg");
  double at128 = coverage (path, 128);
  double at32 = coverage (path, 32);

  g_test_message ("app icon covers %.0f%% at 128 px, %.0f%% at 32 px", at128 * 100, at32 * 100);
  /* a shape with transparent surroundings, as app icons are */
  g_assert_cmpfloat (at128, >, 0.35);
  g_assert_cmpfloat (at128, <, 0.9);
  g_assert_cmpfloat (ABS (at128 - at32), <, 0.1);
}

static void
test_symbolic_icon (void)
{
  g_autofree char *path = icon_path ("symbolic", "io.github.twinlock.Twinlock-symbolic.svg");
  g_autofree char *svg = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GRegex) colours = g_regex_new ("#[0-9a-fA-F]{6}", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  double at16;

  g_assert_true (g_file_get_contents (path, &svg, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (svg, "viewBox=\"0 0 16 16\""));
  /* one flat colour, which GTK recolours; no gradients */
  g_assert_null (strstr (svg, "Gradient"));
  g_regex_match (colours, svg, 0, &match);
  while (g_match_info_matches (match))
    {
      g_autofree char *colour = g_match_info_fetch (match, 0);

      g_assert_cmpstr (colour, ==, "#2e3436");
      g_match_info_next (match, NULL);
    }

  at16 = coverage (path, 16);
  g_test_message ("symbolic icon covers %.0f%% at 16 px", at16 * 100);
  g_assert_cmpfloat (at16, >, 0.3);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/data/icons/app", test_app_icon);
  g_test_add_func ("/twinlock/data/icons/symbolic", test_symbolic_icon);
  return g_test_run ();
}
