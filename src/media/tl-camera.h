/* tl-camera.h — the camera: a GStreamer pipeline that keeps only its newest frame
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tl-image.h"

G_BEGIN_DECLS

#define TL_CAMERA_ERROR (tl_camera_error_quark ())

typedef enum
{
  TL_CAMERA_ERROR_NO_CAMERA,          /* automatic source, nothing plugged in */
  TL_CAMERA_ERROR_BAD_SOURCE,         /* the source description does not parse or link */
  TL_CAMERA_ERROR_BUSY,               /* another program holds the device */
  TL_CAMERA_ERROR_PERMISSION_DENIED,  /* the camera portal or the device refused */
  TL_CAMERA_ERROR_ENDED,              /* the stream ended (unplugged, file ran out) */
  TL_CAMERA_ERROR_STALLED,            /* no picture arrived for too long */
  TL_CAMERA_ERROR_FAILED,             /* any other streaming error */
} TlCameraError;

typedef enum
{
  TL_CAMERA_STATE_STOPPED,
  TL_CAMERA_STATE_STARTING,  /* started, no frame yet */
  TL_CAMERA_STATE_PLAYING,   /* frames are arriving */
  TL_CAMERA_STATE_ERROR,     /* stopped by an error, see tl_camera_get_error() */
} TlCameraState;

#define TL_TYPE_CAMERA_STATE (tl_camera_state_get_type ())
#define TL_TYPE_CAMERA (tl_camera_get_type ())

G_DECLARE_FINAL_TYPE (TlCamera, tl_camera, TL, CAMERA, GObject)

GQuark         tl_camera_error_quark      (void);
GType          tl_camera_state_get_type   (void);

TlCamera      *tl_camera_new              (void);

/* NULL or "" picks the camera automatically; anything else is a GStreamer
 * source description such as "videotestsrc" or
 * "filesrc location=face.png ! decodebin ! imagefreeze".  Takes effect at
 * the next tl_camera_start(). */
void           tl_camera_set_source       (TlCamera    *self,
                                           const char  *source);
const char    *tl_camera_get_source       (TlCamera    *self);

/* Builds and starts the pipeline.  Errors found at once (bad description,
 * no camera, busy device) are returned here and also put the camera in
 * TL_CAMERA_STATE_ERROR; later ones (stream ends or fails) only change the
 * state.  Restarts when already running. */
gboolean       tl_camera_start            (TlCamera    *self,
                                           GError     **error);
void           tl_camera_stop             (TlCamera    *self);

TlCameraState  tl_camera_get_state        (TlCamera    *self);
const GError  *tl_camera_get_error        (TlCamera    *self);

/* A person-readable name of what is being shown ("Integrated Camera",
 * "videotestsrc"); NULL when stopped. */
const char    *tl_camera_get_device_name  (TlCamera    *self);

/* The newest frame (RGB, 3 channels), a new reference, or NULL before the
 * first one.  Safe to call from any thread. */
TlImage       *tl_camera_get_latest_frame (TlCamera    *self);

/* Frames delivered so far since the last start. Any thread. */
guint64        tl_camera_get_n_frames     (TlCamera    *self);

G_END_DECLS
