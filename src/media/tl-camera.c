/* tl-camera.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <libportal/portal.h>
#include <string.h>

#include "tl-camera.h"
#include "tl-camera-monitor.h"

/* The pipeline is  SOURCE ! videoconvert ! videoscale ! RGB ! appsink.
 * The appsink keeps one buffer and drops older ones, so a slow consumer
 * only ever sees the newest frame; the streaming thread copies it into a
 * TlImage and, when no emission is pending yet, schedules one "frame"
 * emission on the camera's main context. */

/* How long a camera may take to send its first picture, and how long a
 * running one may pause, before the stream counts as stalled. */
#define FIRST_FRAME_TIMEOUT_US (20 * G_USEC_PER_SEC)
#define FRAME_GAP_TIMEOUT_US   (5 * G_USEC_PER_SEC)

/* Larger frames are scaled down: nothing Twinlock shows or analyses gains
 * from more, and converting 4K to RGB at 30 fps would eat a core. */
#define OUTPUT_CAPS "video/x-raw,format=RGB,pixel-aspect-ratio=1/1," \
                    "width=[16,1920],height=[16,1080]"

struct _TlCamera
{
  GObject        parent_instance;

  char          *source;
  char          *device_name;
  GstElement    *pipeline;
  GstElement    *sink;
  guint          bus_watch;
  guint          watchdog;
  gint64         started_us;
  TlCameraState  state;
  GError        *error;
  GMainContext  *context;

  XdpPortal     *portal;
  GCancellable  *cancellable;
  int            pipewire_fd;

  GMutex         lock;         /* guards the fields below */
  TlImage       *latest;
  GSource       *pending;      /* the scheduled "frame" emission */
  guint64        n_frames;
  gint64         last_frame_us;
};

G_DEFINE_FINAL_TYPE (TlCamera, tl_camera, G_TYPE_OBJECT)
G_DEFINE_QUARK (tl-camera-error-quark, tl_camera_error)

enum {
  PROP_0,
  PROP_SOURCE,
  PROP_STATE,
  PROP_DEVICE_NAME,
  N_PROPS
};

enum {
  SIGNAL_FRAME,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

GType
tl_camera_state_get_type (void)
{
  static gsize type_id = 0;
  static const GEnumValue values[] = {
    { TL_CAMERA_STATE_STOPPED, "TL_CAMERA_STATE_STOPPED", "stopped" },
    { TL_CAMERA_STATE_STARTING, "TL_CAMERA_STATE_STARTING", "starting" },
    { TL_CAMERA_STATE_PLAYING, "TL_CAMERA_STATE_PLAYING", "playing" },
    { TL_CAMERA_STATE_ERROR, "TL_CAMERA_STATE_ERROR", "error" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static (g_intern_static_string ("TlCameraState"), values));
  return type_id;
}

/* g_set_str() arrives with GLib 2.76. */
static gboolean
replace_str (char       **ptr,
             const char  *value)
{
  if (g_strcmp0 (*ptr, value) == 0)
    return FALSE;
  g_free (*ptr);
  *ptr = g_strdup (value);
  return TRUE;
}

static void
set_state (TlCamera      *self,
           TlCameraState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_device_name (TlCamera   *self,
                 const char *name)
{
  if (replace_str (&self->device_name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE_NAME]);
}

/* Our sources live on self->context, which need not be the global default
 * that g_source_remove() looks in. */
static void
remove_source (TlCamera *self,
               guint    *id)
{
  if (*id != 0)
    g_source_destroy (g_main_context_find_source_by_id (self->context, *id));
  *id = 0;
}

static void
teardown (TlCamera *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  remove_source (self, &self->bus_watch);
  remove_source (self, &self->watchdog);

  /* Setting NULL joins the streaming threads, so no new frame can be
   * scheduled once this returns. */
  if (self->pipeline != NULL)
    gst_element_set_state (self->pipeline, GST_STATE_NULL);
  g_clear_object (&self->sink);
  g_clear_object (&self->pipeline);

  if (self->pipewire_fd >= 0)
    {
      g_close (self->pipewire_fd, NULL);
      self->pipewire_fd = -1;
    }

  g_mutex_lock (&self->lock);
  if (self->pending != NULL)
    {
      g_source_destroy (self->pending);
      g_clear_pointer (&self->pending, g_source_unref);
    }
  g_mutex_unlock (&self->lock);
}

/* Stops everything and records why, for tl_camera_get_error(). */
static void
fail (TlCamera *self,
      GError   *error)
{
  teardown (self);
  g_clear_error (&self->error);
  self->error = error;
  g_debug ("Camera error: %s", error->message);
  set_state (self, TL_CAMERA_STATE_ERROR);
}

static GError *
error_from_gst (const GError *gst_error,
                const char   *debug)
{
  TlCameraError code = TL_CAMERA_ERROR_FAILED;
  const char *detail;

  if (debug != NULL)
    g_debug ("GStreamer: %s (%s)", gst_error->message, debug);

  /* GStreamer's debug text ends, after the element's path, in the line
   * that names the actual problem ("No such file …"). */
  detail = debug != NULL ? strrchr (debug, '\n') : NULL;

  if (gst_error->domain == GST_RESOURCE_ERROR)
    switch (gst_error->code)
      {
      case GST_RESOURCE_ERROR_BUSY:
        return g_error_new (TL_CAMERA_ERROR, TL_CAMERA_ERROR_BUSY,
                            _("The camera is in use by another program: %s"),
                            gst_error->message);
      case GST_RESOURCE_ERROR_NOT_AUTHORIZED:
      case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
        code = TL_CAMERA_ERROR_PERMISSION_DENIED;
        break;
      case GST_RESOURCE_ERROR_NOT_FOUND:
      case GST_RESOURCE_ERROR_OPEN_READ:
        if (detail != NULL && detail[1] != '\0')
          return g_error_new (TL_CAMERA_ERROR, TL_CAMERA_ERROR_BAD_SOURCE,
                              _("The camera source could not be opened: %s (%s)"),
                              gst_error->message, detail + 1);
        return g_error_new (TL_CAMERA_ERROR, TL_CAMERA_ERROR_BAD_SOURCE,
                            _("The camera source could not be opened: %s"),
                            gst_error->message);
      case GST_RESOURCE_ERROR_READ:
        return g_error_new (TL_CAMERA_ERROR, TL_CAMERA_ERROR_ENDED,
                            _("The camera stopped working; was it unplugged? (%s)"),
                            gst_error->message);
      default:
        break;
      }
  else if (gst_error->domain == GST_STREAM_ERROR ||
           gst_error->domain == GST_CORE_ERROR)
    switch (gst_error->code)
      {
      case GST_STREAM_ERROR_FORMAT:
      case GST_STREAM_ERROR_WRONG_TYPE:
      case GST_STREAM_ERROR_CODEC_NOT_FOUND:
      case GST_STREAM_ERROR_DECODE:
      case GST_STREAM_ERROR_TYPE_NOT_FOUND:
        if (gst_error->domain == GST_STREAM_ERROR)
          return g_error_new (TL_CAMERA_ERROR, TL_CAMERA_ERROR_BAD_SOURCE,
                              _("The camera source does not give pictures Twinlock can read: %s"),
                              gst_error->message);
        break;
      default:
        break;
      }

  return g_error_new (TL_CAMERA_ERROR, code, _("The camera failed: %s"), gst_error->message);
}

static GError *
error_from_message (GstMessage *message)
{
  g_autoptr (GError) gst_error = NULL;
  g_autofree char *debug = NULL;
  GError *error;

  gst_message_parse_error (message, &gst_error, &debug);
  error = error_from_gst (gst_error, debug);

  /* Caps negotiation failures surface as a generic "internal data stream
   * error" whose detail only the debug string names. */
  if (gst_error->domain == GST_STREAM_ERROR && gst_error->code == GST_STREAM_ERROR_FAILED &&
      debug != NULL && strstr (debug, "not-negotiated") != NULL)
    {
      g_clear_error (&error);
      error = g_error_new (TL_CAMERA_ERROR, TL_CAMERA_ERROR_BAD_SOURCE,
                           _("The camera source does not give pictures Twinlock can read "
                             "(the formats do not match)."));
    }
  return error;
}

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  TlCamera *self = user_data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      self->bus_watch = 0;
      fail (self, error_from_message (message));
      return G_SOURCE_REMOVE;

    case GST_MESSAGE_EOS:
      self->bus_watch = 0;
      fail (self, g_error_new (TL_CAMERA_ERROR, TL_CAMERA_ERROR_ENDED,
                               _("The camera stream ended; was the camera unplugged?")));
      return G_SOURCE_REMOVE;

    default:
      return G_SOURCE_CONTINUE;
    }
}

static gboolean
emit_frame (gpointer user_data)
{
  TlCamera *self = user_data;
  g_autoptr (TlImage) frame = NULL;

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->pending, g_source_unref);
  if (self->latest != NULL)
    frame = tl_image_ref (self->latest);
  g_mutex_unlock (&self->lock);

  if (frame == NULL ||
      (self->state != TL_CAMERA_STATE_STARTING && self->state != TL_CAMERA_STATE_PLAYING))
    return G_SOURCE_REMOVE;

  set_state (self, TL_CAMERA_STATE_PLAYING);
  g_signal_emit (self, signals[SIGNAL_FRAME], 0, frame);
  return G_SOURCE_REMOVE;
}

/* Capture time on the g_get_monotonic_time() clock: the pipeline runs on
 * the monotonic system clock, so clock time = base time + running time. */
static gint64
frame_timestamp (TlCamera   *self,
                 GstSample  *sample,
                 GstBuffer  *buffer,
                 gint64      now_us)
{
  const GstSegment *segment = gst_sample_get_segment (sample);
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  guint64 running;
  gint64 ts;

  if (segment == NULL || !GST_CLOCK_TIME_IS_VALID (pts))
    return now_us;
  running = gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID (running))
    return now_us;
  ts = (gint64) ((gst_element_get_base_time (self->pipeline) + running) / GST_USECOND);
  /* A source with odd timestamps must not put frames in the future or
   * far in the past: fall back to the arrival time. */
  if (ts > now_us || ts < now_us - 2 * G_USEC_PER_SEC)
    return now_us;
  return ts;
}

static GstFlowReturn
on_new_sample (GstAppSink *sink,
               gpointer    user_data)
{
  TlCamera *self = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer;
  GstVideoInfo info;
  GstVideoFrame vframe;
  TlImage *image;
  gint64 now_us = g_get_monotonic_time ();

  if (sample == NULL)
    return GST_FLOW_EOS;
  buffer = gst_sample_get_buffer (sample);
  if (buffer == NULL ||
      !gst_video_info_from_caps (&info, gst_sample_get_caps (sample)) ||
      GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_RGB ||
      !gst_video_frame_map (&vframe, &info, buffer, GST_MAP_READ))
    return GST_FLOW_OK;

  image = tl_image_new (GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info), 3);
  if (image != NULL)
    {
      const guint8 *src = GST_VIDEO_FRAME_PLANE_DATA (&vframe, 0);
      int src_stride = GST_VIDEO_FRAME_PLANE_STRIDE (&vframe, 0);

      for (int y = 0; y < image->height; y++)
        memcpy (image->data + (gsize) y * image->stride,
                src + (gsize) y * src_stride,
                (gsize) image->width * 3);
      image->timestamp_us = frame_timestamp (self, sample, buffer, now_us);
    }
  gst_video_frame_unmap (&vframe);
  if (image == NULL)
    return GST_FLOW_OK;

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->latest, tl_image_unref);
  self->latest = image;
  self->n_frames++;
  self->last_frame_us = now_us;
  if (self->pending == NULL)
    {
      self->pending = g_idle_source_new ();
      g_source_set_priority (self->pending, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->pending, emit_frame, g_object_ref (self), g_object_unref);
      g_source_set_static_name (self->pending, "[twinlock] camera frame");
      g_source_attach (self->pending, self->context);
    }
  g_mutex_unlock (&self->lock);

  return GST_FLOW_OK;
}

static gboolean
watchdog (gpointer user_data)
{
  TlCamera *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 last;

  g_mutex_lock (&self->lock);
  last = self->last_frame_us;
  g_mutex_unlock (&self->lock);

  if (last == 0 && self->state == TL_CAMERA_STATE_STARTING &&
      now - self->started_us > FIRST_FRAME_TIMEOUT_US)
    {
      self->watchdog = 0;
      fail (self, g_error_new (TL_CAMERA_ERROR, TL_CAMERA_ERROR_STALLED,
                               _("The camera did not send any picture.")));
      return G_SOURCE_REMOVE;
    }
  if (last != 0 && now - last > FRAME_GAP_TIMEOUT_US)
    {
      self->watchdog = 0;
      fail (self, g_error_new (TL_CAMERA_ERROR, TL_CAMERA_ERROR_STALLED,
                               _("The camera stopped sending pictures.")));
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static GstElement *
make_element (const char  *factory,
              GError     **error)
{
  GstElement *element = gst_element_factory_make (factory, NULL);

  if (element == NULL)
    g_set_error (error, TL_CAMERA_ERROR, TL_CAMERA_ERROR_FAILED,
                 _("The GStreamer element “%s” is missing; install the GStreamer base plugins."),
                 factory);
  return element;
}

/* Gives the parsed bin one output, the final videoconvert's; a bin that
 * contains no source element would never produce anything. */
static gboolean
add_output_pad (GstBin *bin)
{
  g_autoptr (GstElement) output = gst_bin_get_by_name (bin, "tl-camera-output");
  g_autoptr (GstPad) pad = NULL;
  GstIterator *sources;
  GValue item = G_VALUE_INIT;
  gboolean has_source;

  sources = gst_bin_iterate_sources (bin);
  has_source = gst_iterator_next (sources, &item) == GST_ITERATOR_OK;
  g_value_unset (&item);
  gst_iterator_free (sources);
  if (!has_source || output == NULL)
    return FALSE;

  pad = gst_element_get_static_pad (output, "src");
  return gst_element_add_pad (GST_ELEMENT (bin), gst_ghost_pad_new ("src", pad));
}

static gboolean
build_pipeline (TlCamera    *self,
                const char  *description,
                GError     **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstClock) clock = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autofree char *full = NULL;
  GstElement *source, *scale, *filter, *sink;
  g_autoptr (GstCaps) caps = NULL;
  GstAppSinkCallbacks callbacks = { .new_sample = on_new_sample };
  g_autoptr (GSource) timer = NULL;
  g_autoptr (GSource) bus_source = NULL;
  GstStateChangeReturn ret;

  /* The description ends in videoconvert so that sources whose output
   * pads appear late (decodebin) still give the bin one output, and a
   * source that cannot produce video fails to link right here. */
  full = g_strdup_printf ("%s ! videoconvert name=tl-camera-output", description);
  source = gst_parse_bin_from_description_full (full, FALSE, NULL,
                                                GST_PARSE_FLAG_FATAL_ERRORS, &local_error);
  if (source == NULL)
    {
      g_set_error (error, TL_CAMERA_ERROR, TL_CAMERA_ERROR_BAD_SOURCE,
                   _("“%s” is not a GStreamer source Twinlock can use: %s"),
                   description, local_error->message);
      return FALSE;
    }
  gst_object_ref_sink (source);
  if (!add_output_pad (GST_BIN (source)))
    {
      g_set_error (error, TL_CAMERA_ERROR, TL_CAMERA_ERROR_BAD_SOURCE,
                   _("“%s” is not a GStreamer source Twinlock can use: it has no "
                     "source element such as v4l2src or videotestsrc."), description);
      gst_object_unref (source);
      return FALSE;
    }

  pipeline = gst_object_ref_sink (gst_pipeline_new ("twinlock-camera"));
  gst_bin_add (GST_BIN (pipeline), source);
  gst_object_unref (source);

  scale = make_element ("videoscale", error);
  filter = scale ? make_element ("capsfilter", error) : NULL;
  sink = filter ? make_element ("appsink", error) : NULL;
  if (sink == NULL)
    {
      g_clear_object (&scale);
      g_clear_object (&filter);
      return FALSE;
    }

  caps = gst_caps_from_string (OUTPUT_CAPS);
  g_object_set (filter, "caps", caps, NULL);
  g_object_set (sink,
                "max-buffers", 1,
                "drop", TRUE,
                "sync", TRUE,       /* paces files and test sources to their frame rate */
                "enable-last-sample", FALSE,
                NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, self, NULL);

  gst_bin_add_many (GST_BIN (pipeline), scale, filter, sink, NULL);
  if (!gst_element_link_many (source, scale, filter, sink, NULL))
    {
      g_set_error (error, TL_CAMERA_ERROR, TL_CAMERA_ERROR_BAD_SOURCE,
                   _("“%s” is not a GStreamer source Twinlock can use: it does not "
                     "produce video."), description);
      return FALSE;
    }

  /* Frame times must be on the g_get_monotonic_time() clock, whatever
   * clock a source (PipeWire) would offer. */
  clock = gst_system_clock_obtain ();
  g_object_set (clock, "clock-type", GST_CLOCK_TYPE_MONOTONIC, NULL);
  gst_pipeline_use_clock (GST_PIPELINE (pipeline), clock);

  self->pipeline = g_steal_pointer (&pipeline);
  self->sink = g_object_ref (sink);

  bus = gst_element_get_bus (self->pipeline);
  bus_source = gst_bus_create_watch (bus);
  g_source_set_callback (bus_source, (GSourceFunc) (void (*) (void)) on_bus_message, self, NULL);
  self->bus_watch = g_source_attach (bus_source, self->context);

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->latest, tl_image_unref);
  self->n_frames = 0;
  self->last_frame_us = 0;
  g_mutex_unlock (&self->lock);
  self->started_us = g_get_monotonic_time ();
  set_state (self, TL_CAMERA_STATE_STARTING);

  /* A live source (a camera) paces itself and says so by not prerolling;
   * waiting on the clock as well would only hold every frame back by the
   * pipeline latency. */
  ret = gst_element_set_state (self->pipeline, GST_STATE_PAUSED);
  if (ret == GST_STATE_CHANGE_NO_PREROLL)
    g_object_set (self->sink, "sync", FALSE, NULL);
  if (ret != GST_STATE_CHANGE_FAILURE)
    ret = gst_element_set_state (self->pipeline, GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_FAILURE)
    {
      g_autoptr (GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

      if (message != NULL)
        g_propagate_error (error, error_from_message (message));
      else
        g_set_error (error, TL_CAMERA_ERROR, TL_CAMERA_ERROR_FAILED,
                     _("The camera source “%s” could not be started."), description);
      return FALSE;
    }

  timer = g_timeout_source_new_seconds (1);
  g_source_set_callback (timer, watchdog, self, NULL);
  g_source_set_static_name (timer, "[twinlock] camera watchdog");
  self->watchdog = g_source_attach (timer, self->context);
  return TRUE;
}

static void
on_camera_access (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  TlCamera *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *description = NULL;

  if (!xdp_portal_access_camera_finish (XDP_PORTAL (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (self, g_error_new (TL_CAMERA_ERROR, TL_CAMERA_ERROR_PERMISSION_DENIED,
                                 _("Twinlock may not use the camera: %s. Allow it in "
                                   "Settings → Apps → Twinlock."), error->message));
      g_object_unref (self);
      return;
    }

  self->pipewire_fd = xdp_portal_open_pipewire_remote_for_camera (self->portal);
  if (self->pipewire_fd < 0)
    {
      fail (self, g_error_new (TL_CAMERA_ERROR, TL_CAMERA_ERROR_NO_CAMERA,
                               _("The camera portal gave no access to a camera.")));
      g_object_unref (self);
      return;
    }

  /* pipewiresrc duplicates the descriptor; we close ours in teardown(). */
  description = g_strdup_printf ("pipewiresrc fd=%d", self->pipewire_fd);
  set_device_name (self, _("Camera"));
  if (!build_pipeline (self, description, &error))
    fail (self, g_steal_pointer (&error));
  g_object_unref (self);
}

static gboolean
start_portal (TlCamera  *self,
              GError   **error)
{
  if (self->portal == NULL)
    self->portal = xdp_portal_new ();
  if (!xdp_portal_is_camera_present (self->portal))
    {
      g_set_error (error, TL_CAMERA_ERROR, TL_CAMERA_ERROR_NO_CAMERA,
                   _("No camera was found. Plug one in, or choose a source in Preferences."));
      return FALSE;
    }
  self->cancellable = g_cancellable_new ();
  self->started_us = g_get_monotonic_time ();
  set_state (self, TL_CAMERA_STATE_STARTING);
  xdp_portal_access_camera (self->portal, NULL, XDP_CAMERA_FLAG_NONE, self->cancellable,
                            on_camera_access, g_object_ref (self));
  return TRUE;
}

static gboolean
start_first_device (TlCamera  *self,
                    GError   **error)
{
  g_autoptr (TlCameraMonitor) monitor = tl_camera_monitor_new ();
  g_autoptr (TlCameraDevice) device = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (monitor)); i++)
    {
      g_clear_object (&device);
      device = g_list_model_get_item (G_LIST_MODEL (monitor), i);
      if (tl_camera_device_get_source (device) != NULL)
        break;
      g_clear_object (&device);
    }

  if (device == NULL)
    {
      g_set_error (error, TL_CAMERA_ERROR, TL_CAMERA_ERROR_NO_CAMERA,
                   _("No camera was found. Plug one in, or choose a source in Preferences."));
      return FALSE;
    }
  set_device_name (self, tl_camera_device_get_name (device));
  return build_pipeline (self, tl_camera_device_get_source (device), error);
}

/* A short name for an explicit description: the file of a filesrc, else
 * the first element ("videotestsrc"). */
static char *
short_source_name (const char *description)
{
  g_auto (GStrv) words = g_strsplit_set (description, " \t!", -1);
  const char *location;

  if (g_strcmp0 (words[0], "filesrc") == 0 &&
      (location = strstr (description, "location=")) != NULL)
    {
      g_autofree char *value = g_strndup (location + strlen ("location="),
                                          strcspn (location + strlen ("location="), " \t!"));
      g_autofree char *unquoted = g_shell_unquote (value, NULL);

      return g_path_get_basename (unquoted != NULL ? unquoted : value);
    }
  return g_strdup (words[0] != NULL && words[0][0] != '\0' ? words[0] : description);
}

gboolean
tl_camera_start (TlCamera  *self,
                 GError   **error)
{
  g_autoptr (GError) local_error = NULL;
  gboolean ok;

  g_return_val_if_fail (TL_IS_CAMERA (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  teardown (self);
  g_clear_error (&self->error);

  if (self->source != NULL && self->source[0] != '\0')
    {
      g_autofree char *name = short_source_name (self->source);

      set_device_name (self, name);
      ok = build_pipeline (self, self->source, &local_error);
    }
  else if (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    ok = start_portal (self, &local_error);
  else
    ok = start_first_device (self, &local_error);

  if (!ok)
    {
      fail (self, g_error_copy (local_error));
      g_propagate_error (error, g_steal_pointer (&local_error));
    }
  return ok;
}

void
tl_camera_stop (TlCamera *self)
{
  g_return_if_fail (TL_IS_CAMERA (self));

  teardown (self);
  g_clear_error (&self->error);
  set_device_name (self, NULL);
  set_state (self, TL_CAMERA_STATE_STOPPED);
}

static void
tl_camera_dispose (GObject *object)
{
  TlCamera *self = TL_CAMERA (object);

  teardown (self);
  g_clear_object (&self->portal);
  G_OBJECT_CLASS (tl_camera_parent_class)->dispose (object);
}

static void
tl_camera_finalize (GObject *object)
{
  TlCamera *self = TL_CAMERA (object);

  g_clear_pointer (&self->latest, tl_image_unref);
  g_clear_error (&self->error);
  g_free (self->source);
  g_free (self->device_name);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (tl_camera_parent_class)->finalize (object);
}

static void
tl_camera_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  TlCamera *self = TL_CAMERA (object);

  switch (prop_id)
    {
    case PROP_SOURCE:
      g_value_set_string (value, self->source);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_DEVICE_NAME:
      g_value_set_string (value, self->device_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tl_camera_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  TlCamera *self = TL_CAMERA (object);

  switch (prop_id)
    {
    case PROP_SOURCE:
      tl_camera_set_source (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tl_camera_class_init (TlCameraClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tl_camera_dispose;
  object_class->finalize = tl_camera_finalize;
  object_class->get_property = tl_camera_get_property;
  object_class->set_property = tl_camera_set_property;

  properties[PROP_SOURCE] =
    g_param_spec_string ("source", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, TL_TYPE_CAMERA_STATE, TL_CAMERA_STATE_STOPPED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DEVICE_NAME] =
    g_param_spec_string ("device-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TlCamera::frame:
   * @frame: (type gpointer): the newest TlImage, RGB; take a reference to keep it
   *
   * Emitted on the main context the camera was created in, at most once per
   * main loop iteration: frames that arrive meanwhile replace each other.
   */
  signals[SIGNAL_FRAME] =
    g_signal_new ("frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
}

static void
tl_camera_init (TlCamera *self)
{
  g_mutex_init (&self->lock);
  self->context = g_main_context_ref_thread_default ();
  self->pipewire_fd = -1;
}

TlCamera *
tl_camera_new (void)
{
  return g_object_new (TL_TYPE_CAMERA, NULL);
}

void
tl_camera_set_source (TlCamera   *self,
                      const char *source)
{
  g_return_if_fail (TL_IS_CAMERA (self));

  if (source != NULL && source[0] == '\0')
    source = NULL;
  if (replace_str (&self->source, source))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOURCE]);
}

const char *
tl_camera_get_source (TlCamera *self)
{
  g_return_val_if_fail (TL_IS_CAMERA (self), NULL);
  return self->source;
}

TlCameraState
tl_camera_get_state (TlCamera *self)
{
  g_return_val_if_fail (TL_IS_CAMERA (self), TL_CAMERA_STATE_STOPPED);
  return self->state;
}

const GError *
tl_camera_get_error (TlCamera *self)
{
  g_return_val_if_fail (TL_IS_CAMERA (self), NULL);
  return self->error;
}

const char *
tl_camera_get_device_name (TlCamera *self)
{
  g_return_val_if_fail (TL_IS_CAMERA (self), NULL);
  return self->device_name;
}

TlImage *
tl_camera_get_latest_frame (TlCamera *self)
{
  TlImage *frame = NULL;

  g_return_val_if_fail (TL_IS_CAMERA (self), NULL);

  g_mutex_lock (&self->lock);
  if (self->latest != NULL)
    frame = tl_image_ref (self->latest);
  g_mutex_unlock (&self->lock);
  return frame;
}

guint64
tl_camera_get_n_frames (TlCamera *self)
{
  guint64 n;

  g_return_val_if_fail (TL_IS_CAMERA (self), 0);

  g_mutex_lock (&self->lock);
  n = self->n_frames;
  g_mutex_unlock (&self->lock);
  return n;
}
