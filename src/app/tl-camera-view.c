/* tl-camera-view.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tl-camera-view.h"

/* The picture is scaled to fit the widget whole (letterboxed), so that
 * every overlay drawn in frame coordinates is visible. */

#define BOX_WIDTH    3.f
#define BOX_RADIUS   6.f
#define POINT_RADIUS 2.5f

struct _TlCameraView
{
  GtkWidget   parent_instance;

  TlImage    *image;
  GdkTexture *texture;
  gboolean    mirrored;
  GArray     *faces;     /* TlFaceOverlay */
};

G_DEFINE_FINAL_TYPE (TlCameraView, tl_camera_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_MIRRORED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  float scale;
  float x, y;         /* top left of the picture in the widget */
  float width, height;
} Layout;

static gboolean
compute_layout (TlCameraView *self,
                Layout       *layout)
{
  float w = gtk_widget_get_width (GTK_WIDGET (self));
  float h = gtk_widget_get_height (GTK_WIDGET (self));

  if (self->image == NULL || w <= 0 || h <= 0)
    return FALSE;
  layout->scale = MIN (w / self->image->width, h / self->image->height);
  layout->width = self->image->width * layout->scale;
  layout->height = self->image->height * layout->scale;
  layout->x = (w - layout->width) / 2.f;
  layout->y = (h - layout->height) / 2.f;
  return TRUE;
}

static void
map_point (TlCameraView *self,
           const Layout *layout,
           float         fx,
           float         fy,
           float        *wx,
           float        *wy)
{
  if (self->mirrored)
    fx = self->image->width - fx;
  *wx = layout->x + fx * layout->scale;
  *wy = layout->y + fy * layout->scale;
}

static void
overlay_color (TlFaceOverlayKind  kind,
               GdkRGBA           *color)
{
  switch (kind)
    {
    case TL_FACE_OVERLAY_MATCH:
      *color = (GdkRGBA) { 0.180f, 0.761f, 0.494f, 1.f };   /* GNOME green 4 */
      break;
    case TL_FACE_OVERLAY_MISMATCH:
      *color = (GdkRGBA) { 0.878f, 0.106f, 0.141f, 1.f };   /* GNOME red 3 */
      break;
    case TL_FACE_OVERLAY_NEUTRAL:
    default:
      *color = (GdkRGBA) { 0.208f, 0.518f, 0.894f, 1.f };   /* GNOME blue 3 */
      break;
    }
}

static void
snapshot_face (TlCameraView        *self,
               GtkSnapshot         *snapshot,
               const Layout        *layout,
               const TlFaceOverlay *face)
{
  GdkRGBA color;
  GdkRGBA colors[4];
  float widths[4] = { BOX_WIDTH, BOX_WIDTH, BOX_WIDTH, BOX_WIDTH };
  float x0, y0, x1, y1;
  GskRoundedRect box;

  overlay_color (face->kind, &color);
  for (guint i = 0; i < 4; i++)
    colors[i] = color;

  map_point (self, layout, face->x, face->y, &x0, &y0);
  map_point (self, layout, face->x + face->width, face->y + face->height, &x1, &y1);
  gsk_rounded_rect_init_from_rect (&box,
                                   &GRAPHENE_RECT_INIT (MIN (x0, x1), MIN (y0, y1),
                                                        ABS (x1 - x0), ABS (y1 - y0)),
                                   BOX_RADIUS);
  gtk_snapshot_append_border (snapshot, &box, widths, colors);

  for (guint i = 0; i < MIN (face->n_points, TL_FACE_OVERLAY_MAX_POINTS); i++)
    {
      GskRoundedRect dot;
      float px, py;

      map_point (self, layout, face->points[i][0], face->points[i][1], &px, &py);
      gsk_rounded_rect_init_from_rect (&dot,
                                       &GRAPHENE_RECT_INIT (px - POINT_RADIUS, py - POINT_RADIUS,
                                                            2 * POINT_RADIUS, 2 * POINT_RADIUS),
                                       POINT_RADIUS);
      gtk_snapshot_push_rounded_clip (snapshot, &dot);
      gtk_snapshot_append_color (snapshot, &color, &dot.bounds);
      gtk_snapshot_pop (snapshot);
    }
}

static void
tl_camera_view_snapshot (GtkWidget   *widget,
                         GtkSnapshot *snapshot)
{
  TlCameraView *self = TL_CAMERA_VIEW (widget);
  /* Letterbox bars stay dark in light and dark style alike, as around any
   * photo or video. */
  const GdkRGBA background = { 0x1e / 255.f, 0x1e / 255.f, 0x1e / 255.f, 1.f };
  Layout layout;

  gtk_snapshot_append_color (snapshot, &background,
                             &GRAPHENE_RECT_INIT (0, 0, gtk_widget_get_width (widget),
                                                  gtk_widget_get_height (widget)));
  if (self->texture == NULL || !compute_layout (self, &layout))
    return;

  gtk_snapshot_save (snapshot);
  if (self->mirrored)
    {
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (layout.x + layout.width, layout.y));
      gtk_snapshot_scale (snapshot, -1.f, 1.f);
    }
  else
    gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (layout.x, layout.y));
  gtk_snapshot_append_texture (snapshot, self->texture,
                               &GRAPHENE_RECT_INIT (0, 0, layout.width, layout.height));
  gtk_snapshot_restore (snapshot);

  for (guint i = 0; i < self->faces->len; i++)
    snapshot_face (self, snapshot, &layout, &g_array_index (self->faces, TlFaceOverlay, i));
}

static void
tl_camera_view_measure (GtkWidget      *widget,
                        GtkOrientation  orientation,
                        int             for_size,
                        int            *minimum,
                        int            *natural,
                        int            *minimum_baseline,
                        int            *natural_baseline)
{
  TlCameraView *self = TL_CAMERA_VIEW (widget);

  *minimum = 64;
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *natural = self->image != NULL ? self->image->width : 320;
  else
    *natural = self->image != NULL ? self->image->height : 240;
  *natural = MAX (*natural, *minimum);
}

static GtkSizeRequestMode
tl_camera_view_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_CONSTANT_SIZE;
}

static void
tl_camera_view_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  TlCameraView *self = TL_CAMERA_VIEW (object);

  switch (prop_id)
    {
    case PROP_MIRRORED:
      g_value_set_boolean (value, self->mirrored);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tl_camera_view_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  TlCameraView *self = TL_CAMERA_VIEW (object);

  switch (prop_id)
    {
    case PROP_MIRRORED:
      tl_camera_view_set_mirrored (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tl_camera_view_finalize (GObject *object)
{
  TlCameraView *self = TL_CAMERA_VIEW (object);

  g_clear_pointer (&self->image, tl_image_unref);
  g_clear_object (&self->texture);
  g_array_unref (self->faces);
  G_OBJECT_CLASS (tl_camera_view_parent_class)->finalize (object);
}

static void
tl_camera_view_class_init (TlCameraViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = tl_camera_view_get_property;
  object_class->set_property = tl_camera_view_set_property;
  object_class->finalize = tl_camera_view_finalize;

  widget_class->snapshot = tl_camera_view_snapshot;
  widget_class->measure = tl_camera_view_measure;
  widget_class->get_request_mode = tl_camera_view_get_request_mode;

  properties[PROP_MIRRORED] =
    g_param_spec_boolean ("mirrored", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "camera-view");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
tl_camera_view_init (TlCameraView *self)
{
  self->faces = g_array_new (FALSE, FALSE, sizeof (TlFaceOverlay));
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Camera picture"),
                                  -1);
}

GtkWidget *
tl_camera_view_new (void)
{
  return g_object_new (TL_TYPE_CAMERA_VIEW, NULL);
}

static TlImage *
grey_to_rgb (const TlImage *grey)
{
  TlImage *rgb = tl_image_new (grey->width, grey->height, 3);

  for (int y = 0; y < grey->height; y++)
    {
      const guint8 *src = grey->data + (gsize) y * grey->stride;
      guint8 *dst = rgb->data + (gsize) y * rgb->stride;

      for (int x = 0; x < grey->width; x++)
        dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = src[x];
    }
  rgb->timestamp_us = grey->timestamp_us;
  return rgb;
}

void
tl_camera_view_set_image (TlCameraView *self,
                          TlImage      *image)
{
  g_autoptr (GBytes) bytes = NULL;
  gboolean resize;

  g_return_if_fail (TL_IS_CAMERA_VIEW (self));
  g_return_if_fail (image == NULL || image->channels == 1 || image->channels == 3 ||
                    image->channels == 4);

  resize = image == NULL || self->image == NULL ||
           image->width != self->image->width || image->height != self->image->height;

  g_clear_pointer (&self->image, tl_image_unref);
  g_clear_object (&self->texture);

  if (image != NULL)
    {
      self->image = image->channels == 1 ? grey_to_rgb (image) : tl_image_ref (image);
      /* The texture reads the TlImage's pixels in place and keeps it alive. */
      bytes = g_bytes_new_with_free_func (self->image->data,
                                          (gsize) self->image->stride * self->image->height,
                                          (GDestroyNotify) tl_image_unref,
                                          tl_image_ref (self->image));
      self->texture = gdk_memory_texture_new (self->image->width, self->image->height,
                                              self->image->channels == 4
                                              ? GDK_MEMORY_R8G8B8A8 : GDK_MEMORY_R8G8B8,
                                              bytes, self->image->stride);
    }

  if (resize)
    gtk_widget_queue_resize (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

TlImage *
tl_camera_view_get_image (TlCameraView *self)
{
  g_return_val_if_fail (TL_IS_CAMERA_VIEW (self), NULL);
  return self->image;
}

void
tl_camera_view_set_mirrored (TlCameraView *self,
                             gboolean      mirrored)
{
  g_return_if_fail (TL_IS_CAMERA_VIEW (self));

  mirrored = !!mirrored;
  if (self->mirrored == mirrored)
    return;
  self->mirrored = mirrored;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIRRORED]);
}

gboolean
tl_camera_view_get_mirrored (TlCameraView *self)
{
  g_return_val_if_fail (TL_IS_CAMERA_VIEW (self), FALSE);
  return self->mirrored;
}

void
tl_camera_view_set_faces (TlCameraView        *self,
                          const TlFaceOverlay *faces,
                          guint                n_faces)
{
  g_return_if_fail (TL_IS_CAMERA_VIEW (self));
  g_return_if_fail (faces != NULL || n_faces == 0);

  g_array_set_size (self->faces, 0);
  if (n_faces > 0)
    g_array_append_vals (self->faces, faces, n_faces);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
tl_camera_view_get_n_faces (TlCameraView *self)
{
  g_return_val_if_fail (TL_IS_CAMERA_VIEW (self), 0);
  return self->faces->len;
}

gboolean
tl_camera_view_frame_to_widget (TlCameraView *self,
                                float         frame_x,
                                float         frame_y,
                                float        *widget_x,
                                float        *widget_y)
{
  Layout layout;

  g_return_val_if_fail (TL_IS_CAMERA_VIEW (self), FALSE);
  g_return_val_if_fail (widget_x != NULL && widget_y != NULL, FALSE);

  if (!compute_layout (self, &layout))
    return FALSE;
  map_point (self, &layout, frame_x, frame_y, widget_x, widget_y);
  return TRUE;
}
