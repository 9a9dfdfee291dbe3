/* tl-keyword-spotter.c — keyword spotting on its own thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-keyword-spotter.h"
#include "tl-kws-engine.h"

#include <glib/gi18n.h>
#include <string.h>

#define N_ANCHORS 512

typedef enum { CHUNK_AUDIO, CHUNK_FINISH, CHUNK_QUIT } ChunkKind;

typedef struct
{
  ChunkKind  kind;
  gint64     monotonic_us;
  gsize      n;
  gint16     samples[];
} Chunk;

typedef struct
{
  gint64 stream_sample;
  gint64 monotonic_us;
} Anchor;

struct _TlKeywordSpotter
{
  GObject       parent_instance;

  TlKwsEngine  *engine;      /* worker thread, under lock */
  GMutex        lock;
  GThread      *thread;
  GAsyncQueue  *queue;
  GMainContext *context;
  char        **phrases;

  /* worker only */
  Anchor        anchors[N_ANCHORS];
  guint         n_anchors;
  gint64        stream_samples;
};

G_DEFINE_FINAL_TYPE (TlKeywordSpotter, tl_keyword_spotter, G_TYPE_OBJECT)
G_DEFINE_BOXED_TYPE (TlKeywordEvent, tl_keyword_event, tl_keyword_event_copy, tl_keyword_event_free)

enum {
  SIGNAL_DETECTED,
  SIGNAL_FINISHED,
  SIGNAL_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

TlKeywordEvent *
tl_keyword_event_copy (const TlKeywordEvent *event)
{
  TlKeywordEvent *copy = g_memdup2 (event, sizeof *event);
  copy->phrase = g_strdup (event->phrase);
  return copy;
}

void
tl_keyword_event_free (TlKeywordEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->phrase);
  g_free (event);
}

typedef struct
{
  TlKeywordSpotter *self;
  guint             signal;
  TlKeywordEvent   *event;
  char             *message;
} Emission;

static void
emission_free (gpointer data)
{
  Emission *e = data;
  g_object_unref (e->self);
  tl_keyword_event_free (e->event);
  g_free (e->message);
  g_free (e);
}

static gboolean
emit_on_main (gpointer data)
{
  Emission *e = data;

  if (e->signal == SIGNAL_DETECTED)
    g_signal_emit (e->self, signals[SIGNAL_DETECTED], 0, e->event);
  else if (e->signal == SIGNAL_FAILED)
    g_signal_emit (e->self, signals[SIGNAL_FAILED], 0, e->message);
  else
    g_signal_emit (e->self, signals[e->signal], 0);
  return G_SOURCE_REMOVE;
}

static void
emit (TlKeywordSpotter *self,
      guint             signal,
      TlKeywordEvent   *event,
      const char       *message)
{
  Emission *e = g_new0 (Emission, 1);
  GSource *source;

  e->self = g_object_ref (self);
  e->signal = signal;
  e->event = event;
  e->message = g_strdup (message);
  /* Always through a source dispatched by the context's own thread: with
   * g_main_context_invoke () the worker, finding the default context
   * idle, would emit on its own thread, and its unref could dispose the
   * spotter there (joining itself). */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, emit_on_main, e, emission_free);
  g_source_attach (source, self->context);
  g_source_unref (source);
}

/* Stream time → monotonic time through the capture time of the chunk the
 * instant fell in. */
static gint64
to_monotonic (TlKeywordSpotter *self,
              gint64            stream_us)
{
  gint64 sample = stream_us * TL_KWS_SAMPLE_RATE / G_USEC_PER_SEC;
  const Anchor *best = NULL;

  for (guint i = 0; i < MIN (self->n_anchors, N_ANCHORS); i++)
    {
      const Anchor *a = &self->anchors[i];
      if (a->monotonic_us == 0)
        continue;
      if (best == NULL ||
          (a->stream_sample <= sample &&
           (best->stream_sample > sample || a->stream_sample > best->stream_sample)) ||
          (best->stream_sample > sample && a->stream_sample < best->stream_sample))
        best = a;
    }
  if (best == NULL)
    return 0;
  return best->monotonic_us + (sample - best->stream_sample) * G_USEC_PER_SEC / TL_KWS_SAMPLE_RATE;
}

static void
deliver (TlKeywordSpotter *self,
         GPtrArray        *decided)
{
  for (guint i = 0; i < decided->len; i++)
    {
      TlKwsCandidate *c = decided->pdata[i];
      TlKeywordEvent *ev;

      if (!c->accepted)
        continue;
      ev = g_new0 (TlKeywordEvent, 1);
      ev->phrase = g_strdup (c->phrase);
      ev->start_us = c->start_us;
      ev->end_us = c->end_us;
      ev->start_monotonic_us = to_monotonic (self, c->start_us);
      ev->end_monotonic_us = to_monotonic (self, c->end_us);
      ev->decided_monotonic_us = g_get_monotonic_time ();
      ev->score = c->score;
      emit (self, SIGNAL_DETECTED, ev, NULL);
    }
  g_ptr_array_set_size (decided, 0);
}

static gpointer
worker (gpointer data)
{
  TlKeywordSpotter *self = data;
  g_autoptr (GPtrArray) decided = g_ptr_array_new_with_free_func ((GDestroyNotify) tl_kws_candidate_free);
  gboolean failed = FALSE;

  for (;;)
    {
      g_autofree Chunk *chunk = g_async_queue_pop (self->queue);
      g_autoptr (GError) error = NULL;
      gboolean ok = TRUE;

      if (chunk->kind == CHUNK_QUIT)
        break;
      g_mutex_lock (&self->lock);
      if (failed)
        ;
      else if (chunk->kind == CHUNK_AUDIO)
        {
          Anchor *a = &self->anchors[self->n_anchors++ % N_ANCHORS];
          a->stream_sample = self->stream_samples;
          a->monotonic_us = chunk->monotonic_us;
          self->stream_samples += chunk->n;
          ok = tl_kws_engine_process (self->engine, chunk->samples, chunk->n, decided, &error);
        }
      else
        {
          ok = tl_kws_engine_finish (self->engine, decided, &error) &&
               tl_kws_engine_reset (self->engine, &error);
          self->stream_samples = 0;
          self->n_anchors = 0;
          memset (self->anchors, 0, sizeof self->anchors);
        }
      g_mutex_unlock (&self->lock);
      deliver (self, decided);
      if (!ok && !failed)
        {
          failed = TRUE;
          emit (self, SIGNAL_FAILED, NULL, error->message);
        }
      if (chunk->kind == CHUNK_FINISH)
        emit (self, SIGNAL_FINISHED, NULL, NULL);
    }
  return NULL;
}

void
tl_keyword_spotter_push (TlKeywordSpotter *self,
                         const gint16     *samples,
                         gsize             n_samples,
                         gint64            monotonic_us)
{
  Chunk *chunk;

  g_return_if_fail (TL_IS_KEYWORD_SPOTTER (self));
  g_return_if_fail (samples != NULL || n_samples == 0);

  if (n_samples == 0)
    return;
  chunk = g_malloc (sizeof (Chunk) + n_samples * sizeof (gint16));
  chunk->kind = CHUNK_AUDIO;
  chunk->monotonic_us = monotonic_us;
  chunk->n = n_samples;
  memcpy (chunk->samples, samples, n_samples * sizeof (gint16));
  g_async_queue_push (self->queue, chunk);
}

static void
push_control (TlKeywordSpotter *self,
              ChunkKind         kind)
{
  Chunk *chunk = g_malloc0 (sizeof (Chunk));
  chunk->kind = kind;
  g_async_queue_push (self->queue, chunk);
}

void
tl_keyword_spotter_finish (TlKeywordSpotter *self)
{
  g_return_if_fail (TL_IS_KEYWORD_SPOTTER (self));
  push_control (self, CHUNK_FINISH);
}

gboolean
tl_keyword_spotter_set_threshold (TlKeywordSpotter *self,
                                  const char       *phrase,
                                  double            threshold)
{
  gboolean ok;

  g_return_val_if_fail (TL_IS_KEYWORD_SPOTTER (self), FALSE);
  g_return_val_if_fail (phrase != NULL, FALSE);
  g_mutex_lock (&self->lock);
  ok = tl_kws_engine_set_threshold (self->engine, phrase, threshold);
  g_mutex_unlock (&self->lock);
  return ok;
}

double
tl_keyword_spotter_get_threshold (TlKeywordSpotter *self,
                                  const char       *phrase)
{
  double t;

  g_return_val_if_fail (TL_IS_KEYWORD_SPOTTER (self), 0.0);
  g_mutex_lock (&self->lock);
  t = tl_kws_engine_get_threshold (self->engine, phrase);
  g_mutex_unlock (&self->lock);
  return t;
}

void
tl_keyword_spotter_apply_thresholds (TlKeywordSpotter *self,
                                     GVariant         *thresholds)
{
  GVariantIter iter;
  const char *phrase;
  double value;

  g_return_if_fail (TL_IS_KEYWORD_SPOTTER (self));
  g_return_if_fail (thresholds != NULL &&
                    g_variant_is_of_type (thresholds, G_VARIANT_TYPE ("a{sd}")));
  g_variant_iter_init (&iter, thresholds);
  while (g_variant_iter_next (&iter, "{&sd}", &phrase, &value))
    if (!tl_keyword_spotter_set_threshold (self, phrase, value))
      g_debug ("kws: no phrase “%s” to set a threshold for", phrase);
}

const char * const *
tl_keyword_spotter_get_phrases (TlKeywordSpotter *self)
{
  g_return_val_if_fail (TL_IS_KEYWORD_SPOTTER (self), NULL);
  return (const char * const *) self->phrases;
}

static void
tl_keyword_spotter_dispose (GObject *object)
{
  TlKeywordSpotter *self = TL_KEYWORD_SPOTTER (object);

  if (self->thread)
    {
      push_control (self, CHUNK_QUIT);
      g_thread_join (self->thread);
      self->thread = NULL;
    }
  G_OBJECT_CLASS (tl_keyword_spotter_parent_class)->dispose (object);
}

static void
tl_keyword_spotter_finalize (GObject *object)
{
  TlKeywordSpotter *self = TL_KEYWORD_SPOTTER (object);

  g_clear_pointer (&self->engine, tl_kws_engine_free);
  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_strfreev (self->phrases);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (tl_keyword_spotter_parent_class)->finalize (object);
}

static void
tl_keyword_spotter_class_init (TlKeywordSpotterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tl_keyword_spotter_dispose;
  object_class->finalize = tl_keyword_spotter_finalize;

  signals[SIGNAL_DETECTED] =
    g_signal_new ("detected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  TL_TYPE_KEYWORD_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
tl_keyword_spotter_init (TlKeywordSpotter *self)
{
  g_mutex_init (&self->lock);
  self->queue = g_async_queue_new_full (g_free);
}

TlKeywordSpotter *
tl_keyword_spotter_new (const char * const  *phrases,
                        GError             **error)
{
  g_autoptr (TlKeywordSpotter) self = g_object_new (TL_TYPE_KEYWORD_SPOTTER, NULL);
  static const char * const defaults[] = { "unlock", "lock", NULL };

  if (phrases == NULL)
    phrases = defaults;
  self->engine = tl_kws_engine_new (NULL, phrases, error);
  if (self->engine == NULL)
    return NULL;
  self->phrases = g_strdupv ((char **) phrases);
  self->context = g_main_context_ref_thread_default ();
  self->thread = g_thread_try_new ("tl-kws", worker, self, error);
  if (self->thread == NULL)
    return NULL;
  return g_steal_pointer (&self);
}
