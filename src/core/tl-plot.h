/* tl-plot.h — line charts (ROC, DET, training curves) to PNG with cairo, and CSV
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <cairo.h>
#include <glib-object.h>

#include "tl-metrics.h"

G_BEGIN_DECLS

#define TL_TYPE_PLOT (tl_plot_get_type ())

G_DECLARE_FINAL_TYPE (TlPlot, tl_plot, TL, PLOT, GObject)

typedef enum
{
  TL_PLOT_LEGEND_TOP_RIGHT,
  TL_PLOT_LEGEND_BOTTOM_RIGHT,
  TL_PLOT_LEGEND_TOP_LEFT,
  TL_PLOT_LEGEND_BOTTOM_LEFT,
} TlPlotLegend;

/* Any of the strings may be NULL (nothing drawn). */
TlPlot   *tl_plot_new                (const char   *title,
                                      const char   *x_label,
                                      const char   *y_label);

/* A log axis drops points <= 0 (a curve is broken there, not joined). */
void      tl_plot_set_log_x          (TlPlot       *self,
                                      gboolean      log_x);
void      tl_plot_set_log_y          (TlPlot       *self,
                                      gboolean      log_y);

/* Fixed axis ranges; without them the range is fitted to the data and
 * widened to whole ticks (whole decades on a log axis).  min < max, and
 * both > 0 on a log axis, or the call is ignored with a critical. */
void      tl_plot_set_x_range        (TlPlot       *self,
                                      double        min,
                                      double        max);
void      tl_plot_set_y_range        (TlPlot       *self,
                                      double        min,
                                      double        max);
void      tl_plot_set_legend         (TlPlot       *self,
                                      TlPlotLegend  position);

/* Copies `n` points.  Non-finite points break the line. Colours follow a
 * fixed palette in the order curves are added. */
void      tl_plot_add_curve          (TlPlot       *self,
                                      const char   *label,
                                      const double *x,
                                      const double *y,
                                      gsize         n);

/* ROC as a curve: x = FAR, y = TAR; with `det` TRUE a DET curve instead:
 * x = FAR, y = FRR (use log axes for both). */
void      tl_plot_add_roc            (TlPlot       *self,
                                      const char   *label,
                                      const TlRoc  *roc,
                                      gboolean      det);

guint     tl_plot_get_n_curves       (TlPlot       *self);

/* Draws the whole chart into a width × height area of `cr` (user units),
 * e.g. a GtkDrawingArea's draw function. */
void      tl_plot_draw               (TlPlot       *self,
                                      cairo_t      *cr,
                                      int           width,
                                      int           height);

/* Renders to a PNG of exactly width × height pixels (each 64…8192). */
gboolean  tl_plot_write_png          (TlPlot       *self,
                                      const char   *path,
                                      int           width,
                                      int           height,
                                      GError      **error);

/* Writes every curve as `curve,x,y` rows under a header line. */
gboolean  tl_plot_write_csv          (TlPlot       *self,
                                      const char   *path,
                                      GError      **error);

G_END_DECLS
