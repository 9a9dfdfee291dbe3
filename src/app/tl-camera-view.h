/* tl-camera-view.h — draws camera frames, with face overlays in frame coordinates
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "tl-image.h"

G_BEGIN_DECLS

#define TL_FACE_OVERLAY_MAX_POINTS 68

typedef enum
{
  TL_FACE_OVERLAY_NEUTRAL,   /* a face was found */
  TL_FACE_OVERLAY_MATCH,     /* a face that matched an enrolled person */
  TL_FACE_OVERLAY_MISMATCH,  /* a face that did not match */
} TlFaceOverlayKind;

/* One face to draw over the frame.  Every coordinate is in pixels of the
 * frame shown (TlImage), origin top left, whatever the widget's size or
 * mirroring: the view maps them. */
typedef struct
{
  float             x, y, width, height;                      /* the box */
  guint             n_points;                                 /* 0…68 landmarks */
  float             points[TL_FACE_OVERLAY_MAX_POINTS][2];    /* x, y each */
  TlFaceOverlayKind kind;
} TlFaceOverlay;

#define TL_TYPE_CAMERA_VIEW (tl_camera_view_get_type ())

G_DECLARE_FINAL_TYPE (TlCameraView, tl_camera_view, TL, CAMERA_VIEW, GtkWidget)

GtkWidget *tl_camera_view_new              (void);

/* Shows @image (1, 3 or 4 channels; 4 = RGBA), or nothing for NULL.  The
 * view keeps a reference, never a copy of RGB/RGBA pixels. */
void       tl_camera_view_set_image        (TlCameraView        *self,
                                            TlImage             *image);
TlImage   *tl_camera_view_get_image        (TlCameraView        *self);

/* Shows the picture left-right swapped, as a mirror does; overlays follow. */
void       tl_camera_view_set_mirrored     (TlCameraView        *self,
                                            gboolean             mirrored);
gboolean   tl_camera_view_get_mirrored     (TlCameraView        *self);

/* Replaces the faces drawn over the picture (copied; NULL/0 clears). */
void       tl_camera_view_set_faces        (TlCameraView        *self,
                                            const TlFaceOverlay *faces,
                                            guint                n_faces);
guint      tl_camera_view_get_n_faces      (TlCameraView        *self);

/* Where frame pixel (@frame_x, @frame_y) lands in widget coordinates at
 * the current size and mirroring; FALSE when no frame is shown. */
gboolean   tl_camera_view_frame_to_widget  (TlCameraView        *self,
                                            float                frame_x,
                                            float                frame_y,
                                            float               *widget_x,
                                            float               *widget_y);

G_END_DECLS
