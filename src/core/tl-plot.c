/* tl-plot.c — a small cairo line chart
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "tl-plot.h"

#define MIN_SIDE 64
#define MAX_SIDE 8192
#define MAX_TICKS 24

typedef struct
{
  char   *label;
  double *x;
  double *y;
  gsize   n;
} Curve;

typedef struct
{
  gboolean fixed;
  gboolean log;
  double   min;
  double   max;
} Axis;

struct _TlPlot
{
  GObject       parent_instance;

  char         *title;
  char         *x_label;
  char         *y_label;
  Axis          x;
  Axis          y;
  TlPlotLegend  legend;
  GPtrArray    *curves;
};

G_DEFINE_FINAL_TYPE (TlPlot, tl_plot, G_TYPE_OBJECT)

/* Distinguishable on white and for the common colour-vision deficiencies. */
static const double palette[][3] = {
  { 0.00, 0.45, 0.70 },
  { 0.84, 0.37, 0.00 },
  { 0.00, 0.62, 0.45 },
  { 0.80, 0.47, 0.65 },
  { 0.34, 0.71, 0.91 },
  { 0.90, 0.62, 0.00 },
  { 0.20, 0.20, 0.20 },
  { 0.60, 0.60, 0.10 },
};

static void
curve_free (gpointer data)
{
  Curve *c = data;

  g_free (c->label);
  g_free (c->x);
  g_free (c->y);
  g_free (c);
}

static void
tl_plot_finalize (GObject *object)
{
  TlPlot *self = TL_PLOT (object);

  g_free (self->title);
  g_free (self->x_label);
  g_free (self->y_label);
  g_ptr_array_unref (self->curves);
  G_OBJECT_CLASS (tl_plot_parent_class)->finalize (object);
}

static void
tl_plot_class_init (TlPlotClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tl_plot_finalize;
}

static void
tl_plot_init (TlPlot *self)
{
  self->curves = g_ptr_array_new_with_free_func (curve_free);
  self->legend = TL_PLOT_LEGEND_TOP_RIGHT;
}

TlPlot *
tl_plot_new (const char *title,
             const char *x_label,
             const char *y_label)
{
  TlPlot *self = g_object_new (TL_TYPE_PLOT, NULL);

  self->title = g_strdup (title);
  self->x_label = g_strdup (x_label);
  self->y_label = g_strdup (y_label);
  return self;
}

void
tl_plot_set_log_x (TlPlot   *self,
                   gboolean  log_x)
{
  g_return_if_fail (TL_IS_PLOT (self));
  self->x.log = !!log_x;
}

void
tl_plot_set_log_y (TlPlot   *self,
                   gboolean  log_y)
{
  g_return_if_fail (TL_IS_PLOT (self));
  self->y.log = !!log_y;
}

static void
axis_set_range (Axis   *axis,
                double  min,
                double  max)
{
  axis->fixed = TRUE;
  axis->min = min;
  axis->max = max;
}

void
tl_plot_set_x_range (TlPlot *self,
                     double  min,
                     double  max)
{
  g_return_if_fail (TL_IS_PLOT (self));
  g_return_if_fail (isfinite (min) && isfinite (max) && min < max);
  g_return_if_fail (!self->x.log || min > 0.0);
  axis_set_range (&self->x, min, max);
}

void
tl_plot_set_y_range (TlPlot *self,
                     double  min,
                     double  max)
{
  g_return_if_fail (TL_IS_PLOT (self));
  g_return_if_fail (isfinite (min) && isfinite (max) && min < max);
  g_return_if_fail (!self->y.log || min > 0.0);
  axis_set_range (&self->y, min, max);
}

void
tl_plot_set_legend (TlPlot       *self,
                    TlPlotLegend  position)
{
  g_return_if_fail (TL_IS_PLOT (self));
  self->legend = position;
}

void
tl_plot_add_curve (TlPlot       *self,
                   const char   *label,
                   const double *x,
                   const double *y,
                   gsize         n)
{
  Curve *c;

  g_return_if_fail (TL_IS_PLOT (self));
  g_return_if_fail (n == 0 || (x != NULL && y != NULL));

  c = g_new0 (Curve, 1);
  c->label = g_strdup (label != NULL ? label : "");
  c->x = g_memdup2 (x, n * sizeof (double));
  c->y = g_memdup2 (y, n * sizeof (double));
  c->n = n;
  g_ptr_array_add (self->curves, c);
}

void
tl_plot_add_roc (TlPlot      *self,
                 const char  *label,
                 const TlRoc *roc,
                 gboolean     det)
{
  g_autofree double *x = NULL;
  g_autofree double *y = NULL;
  gsize i;

  g_return_if_fail (TL_IS_PLOT (self));
  g_return_if_fail (roc != NULL);

  x = g_new (double, roc->n_points);
  y = g_new (double, roc->n_points);
  for (i = 0; i < roc->n_points; i++)
    {
      x[i] = roc->points[i].far;
      y[i] = det ? roc->points[i].frr : roc->points[i].tar;
    }
  tl_plot_add_curve (self, label, x, y, roc->n_points);
}

guint
tl_plot_get_n_curves (TlPlot *self)
{
  g_return_val_if_fail (TL_IS_PLOT (self), 0);
  return self->curves->len;
}

static gboolean
usable (const Axis *axis,
        double      v)
{
  return isfinite (v) && (!axis->log || v > 0.0);
}

/* Linear ticks at 1, 2 or 5 × 10^k, about six of them. */
static double
nice_step (double span)
{
  double raw = span / 6.0;
  double mag = pow (10.0, floor (log10 (raw)));
  double norm = raw / mag;

  if (norm < 1.5)
    return mag;
  if (norm < 3.0)
    return 2.0 * mag;
  if (norm < 7.0)
    return 5.0 * mag;
  return 10.0 * mag;
}

static void
fit_axis (Axis          *axis,
          GPtrArray     *curves,
          gboolean       is_x)
{
  double lo = INFINITY, hi = -INFINITY;
  guint c;

  if (axis->fixed && (!axis->log || axis->min > 0.0))
    return;
  for (c = 0; c < curves->len; c++)
    {
      const Curve *cv = g_ptr_array_index (curves, c);
      gsize i;

      for (i = 0; i < cv->n; i++)
        {
          double v = is_x ? cv->x[i] : cv->y[i];

          if (usable (axis, v))
            {
              lo = MIN (lo, v);
              hi = MAX (hi, v);
            }
        }
    }
  if (axis->log)
    {
      if (lo > hi)
        {
          lo = 1.0;
          hi = 10.0;
        }
      lo = pow (10.0, floor (log10 (lo)));
      hi = pow (10.0, ceil (log10 (hi)));
      if (hi <= lo)
        hi = lo * 10.0;
    }
  else
    {
      double step;

      if (lo > hi)
        {
          lo = 0.0;
          hi = 1.0;
        }
      if (hi - lo < 1e-12 * MAX (1.0, fabs (hi)))
        {
          lo -= 1.0;
          hi += 1.0;
        }
      step = nice_step (hi - lo);
      lo = floor (lo / step + 1e-9) * step;
      hi = ceil (hi / step - 1e-9) * step;
    }
  axis->min = lo;
  axis->max = hi;
}

/* Position of v along the axis, 0 at min and 1 at max. */
static double
axis_fraction (const Axis *axis,
               double      v)
{
  if (axis->log)
    return (log10 (v) - log10 (axis->min)) / (log10 (axis->max) - log10 (axis->min));
  return (v - axis->min) / (axis->max - axis->min);
}

/* Fills `ticks` with tick values inside the axis range; returns how many. */
static int
axis_ticks (const Axis *axis,
            double     *ticks)
{
  int n = 0;

  if (axis->log)
    {
      int e0 = (int) ceil (log10 (axis->min) - 1e-9);
      int e1 = (int) floor (log10 (axis->max) + 1e-9);
      int every = MAX (1, (e1 - e0 + MAX_TICKS - 1) / MAX_TICKS);
      int e;

      for (e = e0; e <= e1 && n < MAX_TICKS; e += every)
        ticks[n++] = pow (10.0, e);
    }
  else
    {
      double step = nice_step (axis->max - axis->min);
      double t = ceil (axis->min / step - 1e-9) * step;

      for (; t <= axis->max + 1e-9 * step && n < MAX_TICKS; t += step)
        ticks[n++] = fabs (t) < 1e-12 * step ? 0.0 : t;
    }
  return n;
}

static void
format_tick (const Axis *axis,
             double      v,
             char       *buf,
             gsize       size)
{
  if (axis->log && (v < 1e-3 || v >= 1e4))
    g_snprintf (buf, size, "1e%d", (int) lround (log10 (v)));
  else
    g_snprintf (buf, size, "%g", v);
}

static void
show_text_at (cairo_t    *cr,
              const char *text,
              double      x,
              double      y,
              double      align_x,
              double      align_y)
{
  cairo_text_extents_t ext;

  cairo_text_extents (cr, text, &ext);
  cairo_move_to (cr,
                 x - ext.x_bearing - align_x * ext.width,
                 y - ext.y_bearing - align_y * ext.height);
  cairo_show_text (cr, text);
}

static void
draw_curves (TlPlot  *self,
             cairo_t *cr,
             double   px,
             double   py,
             double   pw,
             double   ph)
{
  guint c;

  cairo_save (cr);
  cairo_rectangle (cr, px, py, pw, ph);
  cairo_clip (cr);
  cairo_set_line_width (cr, 2.0);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (c = 0; c < self->curves->len; c++)
    {
      const Curve *cv = g_ptr_array_index (self->curves, c);
      const double *rgb = palette[c % G_N_ELEMENTS (palette)];
      gboolean pen_down = FALSE;
      gsize i;

      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      for (i = 0; i < cv->n; i++)
        {
          double sx, sy;

          if (!usable (&self->x, cv->x[i]) || !usable (&self->y, cv->y[i]))
            {
              pen_down = FALSE;
              continue;
            }
          sx = px + axis_fraction (&self->x, cv->x[i]) * pw;
          sy = py + (1.0 - axis_fraction (&self->y, cv->y[i])) * ph;
          if (pen_down)
            cairo_line_to (cr, sx, sy);
          else
            cairo_move_to (cr, sx, sy);
          pen_down = TRUE;
        }
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}

static void
draw_legend (TlPlot  *self,
             cairo_t *cr,
             double   px,
             double   py,
             double   pw,
             double   ph,
             double   font)
{
  double line_h = font * 1.4, swatch = font * 2.0, pad = font * 0.6;
  double text_w = 0.0, box_w, box_h, bx, by;
  guint c, n_labelled = 0;

  for (c = 0; c < self->curves->len; c++)
    {
      const Curve *cv = g_ptr_array_index (self->curves, c);
      cairo_text_extents_t ext;

      if (cv->label[0] == '\0')
        continue;
      cairo_text_extents (cr, cv->label, &ext);
      text_w = MAX (text_w, ext.x_advance);
      n_labelled++;
    }
  if (n_labelled == 0)
    return;

  box_w = pad * 3 + swatch + text_w;
  box_h = pad * 2 + line_h * n_labelled;
  bx = (self->legend == TL_PLOT_LEGEND_TOP_LEFT ||
        self->legend == TL_PLOT_LEGEND_BOTTOM_LEFT) ? px + pad : px + pw - pad - box_w;
  by = (self->legend == TL_PLOT_LEGEND_TOP_LEFT ||
        self->legend == TL_PLOT_LEGEND_TOP_RIGHT) ? py + pad : py + ph - pad - box_h;

  cairo_rectangle (cr, bx, by, box_w, box_h);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.9);
  cairo_fill_preserve (cr);
  cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
  cairo_set_line_width (cr, 1.0);
  cairo_stroke (cr);

  n_labelled = 0;
  for (c = 0; c < self->curves->len; c++)
    {
      const Curve *cv = g_ptr_array_index (self->curves, c);
      const double *rgb = palette[c % G_N_ELEMENTS (palette)];
      double ly = by + pad + line_h * (n_labelled + 0.5);

      if (cv->label[0] == '\0')
        continue;
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_set_line_width (cr, 2.0);
      cairo_move_to (cr, bx + pad, ly);
      cairo_line_to (cr, bx + pad + swatch, ly);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0, 0, 0);
      show_text_at (cr, cv->label, bx + pad * 2 + swatch, ly, 0.0, 0.5);
      n_labelled++;
    }
}

void
tl_plot_draw (TlPlot  *self,
              cairo_t *cr,
              int      width,
              int      height)
{
  double ticks[MAX_TICKS];
  double font = CLAMP (MIN (width, height) / 40.0, 8.0, 16.0);
  double left = font * 5.5, right = font * 1.5;
  double top = self->title != NULL ? font * 3.0 : font * 1.5;
  double bottom = font * (self->x_label != NULL ? 4.2 : 2.5);
  double px = left, py = top;
  double pw = MAX (1.0, width - left - right), ph = MAX (1.0, height - top - bottom);
  int i, n;

  g_return_if_fail (TL_IS_PLOT (self));
  g_return_if_fail (cr != NULL);

  fit_axis (&self->x, self->curves, TRUE);
  fit_axis (&self->y, self->curves, FALSE);

  cairo_save (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, font);
  cairo_set_line_width (cr, 1.0);

  /* Grid and tick labels. */
  n = axis_ticks (&self->x, ticks);
  for (i = 0; i < n; i++)
    {
      double sx = px + axis_fraction (&self->x, ticks[i]) * pw;
      char buf[32];

      cairo_set_source_rgb (cr, 0.88, 0.88, 0.88);
      cairo_move_to (cr, round (sx) + 0.5, py);
      cairo_line_to (cr, round (sx) + 0.5, py + ph);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0, 0, 0);
      format_tick (&self->x, ticks[i], buf, sizeof buf);
      show_text_at (cr, buf, sx, py + ph + font * 0.5, 0.5, 0.0);
    }
  n = axis_ticks (&self->y, ticks);
  for (i = 0; i < n; i++)
    {
      double sy = py + (1.0 - axis_fraction (&self->y, ticks[i])) * ph;
      char buf[32];

      cairo_set_source_rgb (cr, 0.88, 0.88, 0.88);
      cairo_move_to (cr, px, round (sy) + 0.5);
      cairo_line_to (cr, px + pw, round (sy) + 0.5);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0, 0, 0);
      format_tick (&self->y, ticks[i], buf, sizeof buf);
      show_text_at (cr, buf, px - font * 0.5, sy, 1.0, 0.5);
    }

  draw_curves (self, cr, px, py, pw, ph);

  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, round (px) + 0.5, round (py) + 0.5, round (pw), round (ph));
  cairo_stroke (cr);

  draw_legend (self, cr, px, py, pw, ph, font);

  cairo_set_source_rgb (cr, 0, 0, 0);
  if (self->x_label != NULL)
    show_text_at (cr, self->x_label, px + pw / 2, height - font * 0.6, 0.5, 1.0);
  if (self->y_label != NULL)
    {
      cairo_save (cr);
      cairo_translate (cr, font * 0.6, py + ph / 2);
      cairo_rotate (cr, -G_PI / 2);
      show_text_at (cr, self->y_label, 0, 0, 0.5, 0.0);
      cairo_restore (cr);
    }
  if (self->title != NULL)
    {
      cairo_set_font_size (cr, font * 1.2);
      show_text_at (cr, self->title, px + pw / 2, font * 0.8, 0.5, 0.0);
    }
  cairo_restore (cr);

  /* A later fit sees later curves: drop the fitted range. */
  if (!self->x.fixed)
    self->x.min = self->x.max = 0.0;
  if (!self->y.fixed)
    self->y.min = self->y.max = 0.0;
}

gboolean
tl_plot_write_png (TlPlot      *self,
                   const char  *path,
                   int          width,
                   int          height,
                   GError     **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;

  g_return_val_if_fail (TL_IS_PLOT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (width < MIN_SIDE || width > MAX_SIDE || height < MIN_SIDE || height > MAX_SIDE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("A chart must be between %d and %d pixels on each side (asked for %d×%d)"),
                   MIN_SIDE, MAX_SIDE, width, height);
      return FALSE;
    }

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cr = cairo_create (surface);
  tl_plot_draw (self, cr, width, height);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Cannot write the chart to “%s”: %s"),
                   path, cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

static void
append_csv_field (GString    *out,
                  const char *field)
{
  if (strpbrk (field, ",\"\n\r") == NULL)
    {
      g_string_append (out, field);
      return;
    }
  g_string_append_c (out, '"');
  for (; *field != '\0'; field++)
    {
      if (*field == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *field);
    }
  g_string_append_c (out, '"');
}

gboolean
tl_plot_write_csv (TlPlot      *self,
                   const char  *path,
                   GError     **error)
{
  g_autoptr (GString) out = g_string_new ("curve,x,y\n");
  guint c;

  g_return_val_if_fail (TL_IS_PLOT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  for (c = 0; c < self->curves->len; c++)
    {
      const Curve *cv = g_ptr_array_index (self->curves, c);
      gsize i;

      for (i = 0; i < cv->n; i++)
        {
          char bx[G_ASCII_DTOSTR_BUF_SIZE], by[G_ASCII_DTOSTR_BUF_SIZE];

          append_csv_field (out, cv->label);
          g_string_append_printf (out, ",%s,%s\n",
                                  g_ascii_formatd (bx, sizeof bx, "%.10g", cv->x[i]),
                                  g_ascii_formatd (by, sizeof by, "%.10g", cv->y[i]));
        }
    }
  if (!g_file_set_contents (path, out->str, out->len, error))
    {
      g_prefix_error (error, _("Cannot write the chart data: "));
      return FALSE;
    }
  return TRUE;
}
