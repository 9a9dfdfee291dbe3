/* tl-test-gui.h — helpers for tests that read back what a widget shows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

/* A safety net against hangs; no assertion depends on timing. */
#define TL_TEST_WAIT_LIMIT_US (60 * G_USEC_PER_SEC)

typedef struct
{
  int     width;
  int     height;
  gsize   stride;
  guint8 *data;      /* GDK_MEMORY_DEFAULT: B, G, R, A premultiplied */
} TlTestPixels;

static inline void
tl_test_pixels_free (TlTestPixels *pixels)
{
  g_free (pixels->data);
  g_free (pixels);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlTestPixels, tl_test_pixels_free)

/* Renders @widget as its parent draws it on screen, with its window's
 * own renderer. */
static inline void
tl_test_painted (GdkFrameClock *clock,
                 gpointer       data)
{
  *(gboolean *) data = TRUE;
}

/* Lets the window lay out and paint whatever changed. */
static inline void
tl_test_wait_paint (GtkWidget *widget)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  gboolean painted = FALSE;
  gint64 deadline = g_get_monotonic_time () + TL_TEST_WAIT_LIMIT_US;
  gulong id;

  g_assert_nonnull (clock);
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (tl_test_painted), &painted);
  gtk_widget_queue_draw (widget);
  while (!painted)
    {
      g_main_context_iteration (NULL, TRUE);
      if (g_get_monotonic_time () > deadline)
        g_error ("the window never painted");
    }
  g_signal_handler_disconnect (clock, id);
}

static inline TlTestPixels *
tl_test_render (GtkWidget *widget)
{
  GtkWidget *parent = gtk_widget_get_parent (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  TlTestPixels *pixels = g_new0 (TlTestPixels, 1);
  graphene_rect_t bounds;

  g_assert_nonnull (parent);
  g_assert_true (gtk_widget_get_mapped (widget));
  tl_test_wait_paint (widget);
  g_assert_true (gtk_widget_compute_bounds (widget, parent, &bounds));
  gtk_widget_snapshot_child (parent, widget, snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node, &bounds);
  pixels->width = gdk_texture_get_width (texture);
  pixels->height = gdk_texture_get_height (texture);
  g_assert_cmpint (pixels->width, ==, gtk_widget_get_width (widget));
  g_assert_cmpint (pixels->height, ==, gtk_widget_get_height (widget));
  pixels->stride = (gsize) pixels->width * 4;
  pixels->data = g_malloc (pixels->stride * pixels->height);
  gdk_texture_download (texture, pixels->data, pixels->stride);
  return pixels;
}

/* The colour at (x, y) as R, G, B. */
static inline void
tl_test_pixel (const TlTestPixels *pixels,
               int                 x,
               int                 y,
               guint8              rgb[3])
{
  const guint8 *p;

  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (x, <, pixels->width);
  g_assert_cmpint (y, <, pixels->height);
  p = pixels->data + (gsize) y * pixels->stride + (gsize) x * 4;
  rgb[0] = p[2];
  rgb[1] = p[1];
  rgb[2] = p[0];
}

static inline gboolean
tl_test_pixel_near (const TlTestPixels *pixels,
                    int                 x,
                    int                 y,
                    int                 r,
                    int                 g,
                    int                 b,
                    int                 tolerance)
{
  guint8 rgb[3];

  tl_test_pixel (pixels, x, y, rgb);
  if (ABS (rgb[0] - r) <= tolerance && ABS (rgb[1] - g) <= tolerance &&
      ABS (rgb[2] - b) <= tolerance)
    return TRUE;
  g_test_message ("pixel (%d, %d) is %d,%d,%d; expected %d,%d,%d ± %d",
                  x, y, rgb[0], rgb[1], rgb[2], r, g, b, tolerance);
  return FALSE;
}

typedef gboolean (*TlTestCondition) (gpointer data);

/* Runs the main loop until @condition holds. */
static inline void
tl_test_wait (TlTestCondition  condition,
              gpointer         data,
              const char      *what)
{
  gint64 deadline = g_get_monotonic_time () + TL_TEST_WAIT_LIMIT_US;

  while (!condition (data))
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
      if (g_get_monotonic_time () > deadline)
        g_error ("gave up waiting for %s", what);
    }
}
