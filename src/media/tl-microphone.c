/* tl-microphone.c — GStreamer audio capture as 16 kHz mono S16
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-microphone.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <math.h>

#define LEVEL_INTERVAL_US 50000
#define WATCHDOG_MS       3000

struct _TlMicrophone
{
  GObject            parent_instance;

  char              *source;
  GstElement        *pipeline;
  guint              bus_watch;
  GMainContext      *context;
  TlMicrophoneState  state;
  char              *error_message;

  TlMicrophoneSampleFunc func;
  gpointer           func_data;
  GDestroyNotify     func_destroy;

  /* written by the streaming thread */
  guint64            n_samples;     /* atomic via the lock below */
  GMutex             lock;
  double             pending_level;
  gint64             last_level_us;
  gboolean           level_queued;

  double             level;         /* main context */
  GSource           *watchdog;
  guint64            watchdog_samples;
};

G_DEFINE_FINAL_TYPE (TlMicrophone, tl_microphone, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SOURCE,
  PROP_STATE,
  PROP_LEVEL,
  PROP_ERROR_MESSAGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

GType
tl_microphone_state_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    { TL_MICROPHONE_STATE_STOPPED, "TL_MICROPHONE_STATE_STOPPED", "stopped" },
    { TL_MICROPHONE_STATE_LISTENING, "TL_MICROPHONE_STATE_LISTENING", "listening" },
    { TL_MICROPHONE_STATE_ENDED, "TL_MICROPHONE_STATE_ENDED", "ended" },
    { TL_MICROPHONE_STATE_ERROR, "TL_MICROPHONE_STATE_ERROR", "error" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("TlMicrophoneState", values));
  return type;
}

static void
set_state (TlMicrophone      *self,
           TlMicrophoneState  state,
           const char        *message)
{
  if (message != NULL || state != TL_MICROPHONE_STATE_ERROR)
    {
      g_free (self->error_message);
      self->error_message = g_strdup (message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR_MESSAGE]);
    }
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static gboolean
publish_level (gpointer data)
{
  TlMicrophone *self = data;

  g_mutex_lock (&self->lock);
  self->level = self->pending_level;
  self->level_queued = FALSE;
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LEVEL]);
  return G_SOURCE_REMOVE;
}

static GstFlowReturn
on_new_sample (GstAppSink *sink,
               gpointer    data)
{
  TlMicrophone *self = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer;
  GstMapInfo map;
  const GstSegment *segment;
  GstClockTime pts, running;
  gint64 monotonic_us, stream_us, now;
  gsize n;
  double sum = 0;

  if (sample == NULL)
    return GST_FLOW_EOS;
  buffer = gst_sample_get_buffer (sample);
  if (buffer == NULL || !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  n = map.size / sizeof (gint16);

  /* Capture time on the monotonic clock: the pipeline runs on the system
   * clock (CLOCK_MONOTONIC), so base time + running time is it. */
  segment = gst_sample_get_segment (sample);
  pts = GST_BUFFER_PTS (buffer);
  running = (segment && GST_CLOCK_TIME_IS_VALID (pts))
              ? gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts)
              : GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID (running))
    monotonic_us = (gint64) ((gst_element_get_base_time (self->pipeline) + running) / GST_USECOND);
  else
    monotonic_us = g_get_monotonic_time ();

  for (gsize i = 0; i < n; i++)
    {
      double x = ((const gint16 *) map.data)[i] / 32768.0;
      sum += x * x;
    }

  g_mutex_lock (&self->lock);
  stream_us = (gint64) (self->n_samples * G_USEC_PER_SEC / TL_MICROPHONE_RATE);
  self->n_samples += n;
  now = g_get_monotonic_time ();
  if (n > 0)
    {
      double db = 10 * log10 (sum / n + 1e-12);
      self->pending_level = CLAMP ((db + 60.0) / 60.0, 0.0, 1.0);
    }
  if (!self->level_queued && now - self->last_level_us >= LEVEL_INTERVAL_US)
    {
      GSource *idle = g_idle_source_new ();

      self->level_queued = TRUE;
      self->last_level_us = now;
      g_source_set_callback (idle, publish_level, g_object_ref (self), g_object_unref);
      g_source_attach (idle, self->context);
      g_source_unref (idle);
    }
  g_mutex_unlock (&self->lock);

  if (self->func != NULL && n > 0)
    self->func ((const gint16 *) map.data, n, stream_us, monotonic_us, self->func_data);
  gst_buffer_unmap (buffer, &map);
  return GST_FLOW_OK;
}

static char *
describe_error (GstMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *debug = NULL;

  gst_message_parse_error (message, &error, &debug);
  g_debug ("microphone: %s (%s)", error->message, debug ? debug : "");
  return g_strdup (error->message);
}

static void
teardown (TlMicrophone *self)
{
  if (self->watchdog)
    {
      g_source_destroy (self->watchdog);
      g_clear_pointer (&self->watchdog, g_source_unref);
    }
  if (self->bus_watch)
    {
      g_source_remove (self->bus_watch);
      self->bus_watch = 0;
    }
  if (self->pipeline)
    {
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      g_clear_object (&self->pipeline);
    }
}

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    data)
{
  TlMicrophone *self = data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      {
        g_autofree char *text = describe_error (message);
        g_autofree char *full = g_strdup_printf (_("The microphone stopped: %s"), text);

        self->bus_watch = 0;
        teardown (self);
        set_state (self, TL_MICROPHONE_STATE_ERROR, full);
        return G_SOURCE_REMOVE;
      }
    case GST_MESSAGE_EOS:
      self->bus_watch = 0;
      teardown (self);
      if (tl_microphone_get_n_samples (self) == 0)
        set_state (self, TL_MICROPHONE_STATE_ERROR,
                   _("The audio source ended without delivering any sound"));
      else
        set_state (self, TL_MICROPHONE_STATE_ENDED, NULL);
      return G_SOURCE_REMOVE;
    default:
      return G_SOURCE_CONTINUE;
    }
}

/* A device that stops delivering (unplugged, suspended, a source that never
 * starts) posts no error: notice the silence of the pipeline itself. */
static gboolean
check_flow (gpointer data)
{
  TlMicrophone *self = data;
  guint64 n = tl_microphone_get_n_samples (self);

  if (n > self->watchdog_samples)
    {
      self->watchdog_samples = n;
      return G_SOURCE_CONTINUE;
    }
  g_clear_pointer (&self->watchdog, g_source_unref);
  teardown (self);
  set_state (self, TL_MICROPHONE_STATE_ERROR,
             _("The microphone stopped delivering sound (was it unplugged?)"));
  return G_SOURCE_REMOVE;
}

static gboolean
start_one (TlMicrophone  *self,
           const char    *source,
           GError       **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *description = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstClock) clock = NULL;
  GstStateChangeReturn ret;
  GstAppSinkCallbacks callbacks = { 0 };

  callbacks.new_sample = on_new_sample;

  description = g_strdup_printf ("%s ! queue ! audioconvert ! audioresample ! "
                                 "audio/x-raw,format=S16LE,rate=%d,channels=1,layout=interleaved ! "
                                 "appsink name=tlsink sync=false max-buffers=200",
                                 source, TL_MICROPHONE_RATE);
  self->pipeline = gst_parse_launch (description, &local);
  if (self->pipeline == NULL || local != NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot use the audio source “%s”: %s"),
                                              source, local ? local->message : _("unknown error"));
      g_clear_object (&self->pipeline);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, msg);
      return FALSE;
    }
  gst_object_ref_sink (self->pipeline);

  /* Keyword times must line up with camera frames: both run on the
   * monotonic system clock, whatever clock an audio device offers. */
  clock = gst_system_clock_obtain ();
  gst_pipeline_use_clock (GST_PIPELINE (self->pipeline), clock);

  sink = gst_bin_get_by_name (GST_BIN (self->pipeline), "tlsink");
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, self, NULL);

  g_mutex_lock (&self->lock);
  self->n_samples = 0;
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&self->context, g_main_context_unref);
  self->context = g_main_context_ref_thread_default ();

  ret = gst_element_set_state (self->pipeline, GST_STATE_PLAYING);
  if (ret != GST_STATE_CHANGE_FAILURE)
    ret = gst_element_get_state (self->pipeline, NULL, NULL, 10 * GST_SECOND);
  if (ret == GST_STATE_CHANGE_FAILURE)
    {
      g_autoptr (GstMessage) message = NULL;
      g_autofree char *text = NULL;
      g_autofree char *msg = NULL;

      bus = gst_element_get_bus (self->pipeline);
      message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
      text = message ? describe_error (message) : g_strdup (_("it refused to start"));
      msg = g_strdup_printf (_("Cannot open the audio source “%s”: %s"), source, text);
      teardown (self);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, msg);
      return FALSE;
    }

  bus = gst_element_get_bus (self->pipeline);
  {
    GSource *watch = gst_bus_create_watch (bus);
    g_source_set_callback (watch, G_SOURCE_FUNC (on_bus_message), self, NULL);
    self->bus_watch = g_source_attach (watch, self->context);
    g_source_unref (watch);
  }
  self->watchdog_samples = 0;
  self->watchdog = g_timeout_source_new (WATCHDOG_MS);
  g_source_set_callback (self->watchdog, check_flow, self, NULL);
  g_source_attach (self->watchdog, self->context);
  set_state (self, TL_MICROPHONE_STATE_LISTENING, NULL);
  return TRUE;
}

/* The desktop's microphone: PipeWire, then PulseAudio, then ALSA.  Not
 * autoaudiosrc: with no device at all it falls back to a fake source that
 * "listens" to silence forever instead of failing. */
static const char * const automatic_sources[] = {
  "pipewiresrc", "pulsesrc", "alsasrc", NULL
};

gboolean
tl_microphone_start (TlMicrophone  *self,
                     GError       **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GString) reasons = NULL;

  g_return_val_if_fail (TL_IS_MICROPHONE (self), FALSE);

  if (self->pipeline != NULL)
    return TRUE;
  if (!gst_init_check (NULL, NULL, &local))
    {
      set_state (self, TL_MICROPHONE_STATE_ERROR, local->message);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (self->source != NULL)
    {
      if (start_one (self, self->source, &local))
        return TRUE;
      set_state (self, TL_MICROPHONE_STATE_ERROR, local->message);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }

  reasons = g_string_new (NULL);
  for (guint i = 0; automatic_sources[i] != NULL; i++)
    {
      g_clear_error (&local);
      if (start_one (self, automatic_sources[i], &local))
        return TRUE;
      g_debug ("microphone: %s", local->message);
      g_string_append_printf (reasons, "%s%s", reasons->len ? "; " : "", local->message);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               _("No microphone found (%s)"), reasons->str);
  set_state (self, TL_MICROPHONE_STATE_ERROR, (*error)->message);
  return FALSE;
}

void
tl_microphone_stop (TlMicrophone *self)
{
  g_return_if_fail (TL_IS_MICROPHONE (self));

  if (self->pipeline == NULL)
    return;
  teardown (self);
  set_state (self, TL_MICROPHONE_STATE_STOPPED, NULL);
}

void
tl_microphone_set_sample_func (TlMicrophone           *self,
                               TlMicrophoneSampleFunc  func,
                               gpointer                user_data,
                               GDestroyNotify          destroy)
{
  g_return_if_fail (TL_IS_MICROPHONE (self));
  g_return_if_fail (self->pipeline == NULL);

  if (self->func_destroy)
    self->func_destroy (self->func_data);
  self->func = func;
  self->func_data = user_data;
  self->func_destroy = destroy;
}

TlMicrophoneState
tl_microphone_get_state (TlMicrophone *self)
{
  g_return_val_if_fail (TL_IS_MICROPHONE (self), TL_MICROPHONE_STATE_ERROR);
  return self->state;
}

const char *
tl_microphone_get_error_message (TlMicrophone *self)
{
  g_return_val_if_fail (TL_IS_MICROPHONE (self), NULL);
  return self->error_message;
}

double
tl_microphone_get_level (TlMicrophone *self)
{
  g_return_val_if_fail (TL_IS_MICROPHONE (self), 0.0);
  return self->level;
}

const char *
tl_microphone_get_source (TlMicrophone *self)
{
  g_return_val_if_fail (TL_IS_MICROPHONE (self), NULL);
  return self->source;
}

guint64
tl_microphone_get_n_samples (TlMicrophone *self)
{
  guint64 n;

  g_return_val_if_fail (TL_IS_MICROPHONE (self), 0);
  g_mutex_lock (&self->lock);
  n = self->n_samples;
  g_mutex_unlock (&self->lock);
  return n;
}

static void
tl_microphone_dispose (GObject *object)
{
  TlMicrophone *self = TL_MICROPHONE (object);

  teardown (self);
  if (self->func_destroy)
    self->func_destroy (self->func_data);
  self->func = NULL;
  self->func_destroy = NULL;
  G_OBJECT_CLASS (tl_microphone_parent_class)->dispose (object);
}

static void
tl_microphone_finalize (GObject *object)
{
  TlMicrophone *self = TL_MICROPHONE (object);

  g_free (self->source);
  g_free (self->error_message);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (tl_microphone_parent_class)->finalize (object);
}

static void
tl_microphone_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  TlMicrophone *self = TL_MICROPHONE (object);

  switch (prop_id)
    {
    case PROP_SOURCE:
      g_value_set_string (value, self->source);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_LEVEL:
      g_value_set_double (value, self->level);
      break;
    case PROP_ERROR_MESSAGE:
      g_value_set_string (value, self->error_message);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tl_microphone_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  TlMicrophone *self = TL_MICROPHONE (object);

  switch (prop_id)
    {
    case PROP_SOURCE:
      g_free (self->source);
      self->source = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tl_microphone_class_init (TlMicrophoneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tl_microphone_dispose;
  object_class->finalize = tl_microphone_finalize;
  object_class->get_property = tl_microphone_get_property;
  object_class->set_property = tl_microphone_set_property;

  properties[PROP_SOURCE] =
    g_param_spec_string ("source", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, TL_TYPE_MICROPHONE_STATE,
                       TL_MICROPHONE_STATE_STOPPED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LEVEL] =
    g_param_spec_double ("level", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR_MESSAGE] =
    g_param_spec_string ("error-message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tl_microphone_init (TlMicrophone *self)
{
  g_mutex_init (&self->lock);
  self->state = TL_MICROPHONE_STATE_STOPPED;
}

TlMicrophone *
tl_microphone_new (const char *source)
{
  return g_object_new (TL_TYPE_MICROPHONE, "source", source, NULL);
}
