/* tl-face-tracker.h — face analysis of live frames on a worker thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Frames are pushed from any thread (e.g. a camera's streaming thread);
 * one worker thread analyses them (detector + landmarks).  Only the newest
 * frame waits: pushing while the worker is busy replaces the waiting
 * frame, so a slow analysis never builds a queue or a growing latency.
 * Results are delivered by the "faces" signal in the main context that
 * was the thread-default one when the tracker was created.
 */
#pragma once

#include <glib-object.h>

#include "tl-face-types.h"
#include "tl-image.h"

G_BEGIN_DECLS

#define TL_FACE_TRACKER_MAX_FACES 8

/* What the worker found in one frame. */
typedef struct
{
  gint64          timestamp_us;     /* the frame's */
  int             frame_width;
  int             frame_height;
  guint           n_faces;
  TlFaceBox       boxes[TL_FACE_TRACKER_MAX_FACES];
  TlFaceLandmarks landmarks[TL_FACE_TRACKER_MAX_FACES];
  double          analysis_ms;      /* time the worker spent on the frame */
} TlFaceFrameResult;

#define TL_TYPE_FACE_TRACKER (tl_face_tracker_get_type ())

G_DECLARE_FINAL_TYPE (TlFaceTracker, tl_face_tracker, TL, FACE_TRACKER, GObject)

/* Loads the networks from `model_dir` (NULL: tl_face_model_dir ()). */
TlFaceTracker *tl_face_tracker_new         (const char    *model_dir,
                                            GError       **error);

/* Thread-safe; takes a reference to the frame. */
void           tl_face_tracker_push_frame  (TlFaceTracker *self,
                                            TlImage       *frame);

/* Frames analysed and frames dropped (replaced before the worker got to
 * them) so far. */
guint          tl_face_tracker_get_n_analysed (TlFaceTracker *self);
guint          tl_face_tracker_get_n_dropped  (TlFaceTracker *self);

G_END_DECLS
