/* tl-face-tracker.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-face-pipeline.h"
#include "tl-face-tracker.h"

struct _TlFaceTracker
{
  GObject          parent_instance;

  TlFacePipeline  *pipeline;     /* used by the worker only */
  GMainContext    *context;      /* where "faces" is emitted */
  GThread         *worker;

  GMutex           lock;
  GCond            cond;
  TlImage         *pending;      /* newest frame not yet analysed */
  gboolean         stopping;
  guint            n_analysed;
  guint            n_dropped;
};

enum { SIGNAL_FACES, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TlFaceTracker, tl_face_tracker, G_TYPE_OBJECT)

typedef struct
{
  GWeakRef          tracker;
  TlFaceFrameResult result;
} Delivery;

static gboolean
deliver (gpointer data)
{
  Delivery *d = data;
  g_autoptr (TlFaceTracker) self = g_weak_ref_get (&d->tracker);

  if (self != NULL)
    g_signal_emit (self, signals[SIGNAL_FACES], 0, &d->result);
  g_weak_ref_clear (&d->tracker);
  g_free (d);
  return G_SOURCE_REMOVE;
}

static void
analyse (TlFaceTracker     *self,
         TlImage           *frame,
         TlFaceFrameResult *r)
{
  TlFaceDetector *det = tl_face_pipeline_get_detector (self->pipeline);
  TlFaceLandmarker *lm = tl_face_pipeline_get_landmarker (self->pipeline);
  g_autoptr (GArray) faces = tl_face_detector_detect (det, frame);

  r->timestamp_us = frame->timestamp_us;
  r->frame_width = frame->width;
  r->frame_height = frame->height;
  r->n_faces = 0;
  for (guint i = 0; i < faces->len && r->n_faces < TL_FACE_TRACKER_MAX_FACES; i++)
    {
      const TlFaceBox *box = &g_array_index (faces, TlFaceBox, i);
      if (tl_face_landmarker_run (lm, frame, box, &r->landmarks[r->n_faces]))
        r->boxes[r->n_faces++] = *box;
    }
}

static gpointer
worker_main (gpointer data)
{
  TlFaceTracker *self = data;

  for (;;)
    {
      g_autoptr (TlImage) frame = NULL;
      Delivery *d;
      GSource *source;
      gint64 t0;

      g_mutex_lock (&self->lock);
      while (self->pending == NULL && !self->stopping)
        g_cond_wait (&self->cond, &self->lock);
      if (self->stopping)
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      frame = g_steal_pointer (&self->pending);
      g_mutex_unlock (&self->lock);

      d = g_new0 (Delivery, 1);
      g_weak_ref_init (&d->tracker, self);
      t0 = g_get_monotonic_time ();
      analyse (self, frame, &d->result);
      d->result.analysis_ms = (g_get_monotonic_time () - t0) / 1000.0;

      g_mutex_lock (&self->lock);
      self->n_analysed++;
      g_mutex_unlock (&self->lock);
      /* a source the context's own thread dispatches: g_main_context_invoke ()
       * would run deliver () here when the default context is idle, and its
       * unref could dispose the tracker on this thread, which then joins
       * itself */
      source = g_idle_source_new ();
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, deliver, d, NULL);
      g_source_attach (source, self->context);
      g_source_unref (source);
    }
  return NULL;
}

static void
tl_face_tracker_dispose (GObject *object)
{
  TlFaceTracker *self = TL_FACE_TRACKER (object);

  if (self->worker != NULL)
    {
      g_mutex_lock (&self->lock);
      self->stopping = TRUE;
      g_cond_signal (&self->cond);
      g_mutex_unlock (&self->lock);
      g_thread_join (g_steal_pointer (&self->worker));
    }
  g_clear_pointer (&self->pending, tl_image_unref);
  g_clear_pointer (&self->pipeline, tl_face_pipeline_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (tl_face_tracker_parent_class)->dispose (object);
}

static void
tl_face_tracker_finalize (GObject *object)
{
  TlFaceTracker *self = TL_FACE_TRACKER (object);

  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (tl_face_tracker_parent_class)->finalize (object);
}

static void
tl_face_tracker_class_init (TlFaceTrackerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tl_face_tracker_dispose;
  object_class->finalize = tl_face_tracker_finalize;

  /**
   * TlFaceTracker::faces:
   * @result: (type gpointer): the TlFaceFrameResult of the newest analysed
   *   frame, valid during the emission
   */
  signals[SIGNAL_FACES] = g_signal_new ("faces", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
tl_face_tracker_init (TlFaceTracker *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
}

TlFaceTracker *
tl_face_tracker_new (const char  *model_dir,
                     GError     **error)
{
  g_autoptr (TlFaceTracker) self = g_object_new (TL_TYPE_FACE_TRACKER, NULL);

  self->pipeline = tl_face_pipeline_new (model_dir, error);
  if (self->pipeline == NULL)
    return NULL;
  self->context = g_main_context_ref_thread_default ();
  self->worker = g_thread_new ("tl-face-tracker", worker_main, self);
  return g_steal_pointer (&self);
}

void
tl_face_tracker_push_frame (TlFaceTracker *self,
                            TlImage       *frame)
{
  g_return_if_fail (TL_IS_FACE_TRACKER (self));
  g_return_if_fail (frame != NULL);

  g_mutex_lock (&self->lock);
  if (self->pending != NULL)
    {
      tl_image_unref (self->pending);
      self->n_dropped++;
    }
  self->pending = tl_image_ref (frame);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
}

guint
tl_face_tracker_get_n_analysed (TlFaceTracker *self)
{
  guint n;

  g_return_val_if_fail (TL_IS_FACE_TRACKER (self), 0);
  g_mutex_lock (&self->lock);
  n = self->n_analysed;
  g_mutex_unlock (&self->lock);
  return n;
}

guint
tl_face_tracker_get_n_dropped (TlFaceTracker *self)
{
  guint n;

  g_return_val_if_fail (TL_IS_FACE_TRACKER (self), 0);
  g_mutex_lock (&self->lock);
  n = self->n_dropped;
  g_mutex_unlock (&self->lock);
  return n;
}
