/* tl-camera-monitor.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gst/gst.h>

#include "tl-camera-monitor.h"

struct _TlCameraDevice
{
  GObject    parent_instance;
  GstDevice *device;
  char      *name;
  char      *source;
  char      *formats;
};

G_DEFINE_FINAL_TYPE (TlCameraDevice, tl_camera_device, G_TYPE_OBJECT)

static void
tl_camera_device_finalize (GObject *object)
{
  TlCameraDevice *self = TL_CAMERA_DEVICE (object);

  g_clear_object (&self->device);
  g_free (self->name);
  g_free (self->source);
  g_free (self->formats);
  G_OBJECT_CLASS (tl_camera_device_parent_class)->finalize (object);
}

static void
tl_camera_device_class_init (TlCameraDeviceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tl_camera_device_finalize;
}

static void
tl_camera_device_init (TlCameraDevice *self)
{
}

/* The description that reopens the device: by its stable node for
 * PipeWire, by its path for V4L2, else by the element's "device". */
static char *
describe_source (GstDevice *device)
{
  g_autoptr (GstStructure) props = gst_device_get_properties (device);
  g_autoptr (GstElement) element = NULL;
  const char *value;
  g_autofree char *device_prop = NULL;
  GstElementFactory *factory;

  if (props != NULL)
    {
      const char *api = gst_structure_get_string (props, "device.api");

      if (g_strcmp0 (api, "v4l2") == 0 &&
          (value = gst_structure_get_string (props, "device.path")) != NULL)
        return g_strdup_printf ("v4l2src device=\"%s\"", value);
      if ((value = gst_structure_get_string (props, "object.serial")) != NULL)
        return g_strdup_printf ("pipewiresrc target-object=%s", value);
      if (gst_structure_has_field (props, "object.serial"))
        {
          g_autofree char *s = g_strdup_value_contents (gst_structure_get_value (props, "object.serial"));
          return g_strdup_printf ("pipewiresrc target-object=%s", s);
        }
    }

  element = gst_device_create_element (device, NULL);
  if (element == NULL)
    return NULL;
  gst_object_ref_sink (element);
  factory = gst_element_get_factory (element);
  if (factory == NULL)
    return NULL;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element), "device") != NULL)
    g_object_get (element, "device", &device_prop, NULL);
  if (device_prop != NULL)
    return g_strdup_printf ("%s device=\"%s\"", GST_OBJECT_NAME (factory), device_prop);
  return g_strdup (GST_OBJECT_NAME (factory));
}

static void
append_structure (GString            *out,
                  const GstStructure *s)
{
  const char *format = gst_structure_get_string (s, "format");
  int width = 0, height = 0, num = 0, den = 1;

  if (format == NULL)
    format = gst_structure_has_name (s, "image/jpeg") ? "MJPG" : gst_structure_get_name (s);

  if (gst_structure_get_int (s, "width", &width) &&
      gst_structure_get_int (s, "height", &height))
    g_string_append_printf (out, "%s %d×%d", format, width, height);
  else
    {
      g_autofree char *all = gst_structure_to_string (s);
      g_string_append (out, all);
      return;
    }

  if (gst_structure_get_fraction (s, "framerate", &num, &den) && den > 0)
    g_string_append_printf (out, " %.4g fps", (double) num / den);
  else if (gst_structure_has_field (s, "framerate"))
    {
      g_autofree char *rates = g_strdup_value_contents (gst_structure_get_value (s, "framerate"));
      g_string_append_printf (out, " %s fps", rates);
    }
}

static TlCameraDevice *
tl_camera_device_new (GstDevice *device)
{
  TlCameraDevice *self = g_object_new (TL_TYPE_CAMERA_DEVICE, NULL);
  g_autoptr (GstCaps) caps = gst_device_get_caps (device);
  GString *formats = g_string_new (NULL);

  self->device = g_object_ref (device);
  self->name = gst_device_get_display_name (device);
  self->source = describe_source (device);
  if (caps != NULL)
    for (guint i = 0; i < gst_caps_get_size (caps); i++)
      {
        if (formats->len > 0)
          g_string_append_c (formats, '\n');
        append_structure (formats, gst_caps_get_structure (caps, i));
      }
  self->formats = g_string_free (formats, FALSE);
  return self;
}

const char *
tl_camera_device_get_name (TlCameraDevice *self)
{
  g_return_val_if_fail (TL_IS_CAMERA_DEVICE (self), NULL);
  return self->name;
}

const char *
tl_camera_device_get_source (TlCameraDevice *self)
{
  g_return_val_if_fail (TL_IS_CAMERA_DEVICE (self), NULL);
  return self->source;
}

const char *
tl_camera_device_get_formats (TlCameraDevice *self)
{
  g_return_val_if_fail (TL_IS_CAMERA_DEVICE (self), NULL);
  return self->formats;
}

struct _TlCameraMonitor
{
  GObject           parent_instance;
  GstDeviceMonitor *monitor;
  GPtrArray        *devices;
  guint             bus_watch;
};

static void tl_camera_monitor_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TlCameraMonitor, tl_camera_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      tl_camera_monitor_list_model_init))

static GType
tl_camera_monitor_get_item_type (GListModel *model)
{
  return TL_TYPE_CAMERA_DEVICE;
}

static guint
tl_camera_monitor_get_n_items (GListModel *model)
{
  return TL_CAMERA_MONITOR (model)->devices->len;
}

static gpointer
tl_camera_monitor_get_item (GListModel *model,
                            guint       position)
{
  TlCameraMonitor *self = TL_CAMERA_MONITOR (model);

  if (position >= self->devices->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->devices, position));
}

static void
tl_camera_monitor_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = tl_camera_monitor_get_item_type;
  iface->get_n_items = tl_camera_monitor_get_n_items;
  iface->get_item = tl_camera_monitor_get_item;
}

static gboolean
is_camera (GstDevice *device)
{
  return gst_device_has_classes (device, "Video/Source");
}

static void
add_device (TlCameraMonitor *self,
            GstDevice       *device)
{
  if (!is_camera (device))
    return;
  for (guint i = 0; i < self->devices->len; i++)
    if (TL_CAMERA_DEVICE (g_ptr_array_index (self->devices, i))->device == device)
      return;
  g_ptr_array_add (self->devices, tl_camera_device_new (device));
  g_list_model_items_changed (G_LIST_MODEL (self), self->devices->len - 1, 0, 1);
}

static void
remove_device (TlCameraMonitor *self,
               GstDevice       *device)
{
  for (guint i = 0; i < self->devices->len; i++)
    if (TL_CAMERA_DEVICE (g_ptr_array_index (self->devices, i))->device == device)
      {
        g_ptr_array_remove_index (self->devices, i);
        g_list_model_items_changed (G_LIST_MODEL (self), i, 1, 0);
        return;
      }
}

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  TlCameraMonitor *self = user_data;
  g_autoptr (GstDevice) device = NULL;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_DEVICE_ADDED:
      gst_message_parse_device_added (message, &device);
      add_device (self, device);
      break;
    case GST_MESSAGE_DEVICE_REMOVED:
      gst_message_parse_device_removed (message, &device);
      remove_device (self, device);
      break;
    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

static void
tl_camera_monitor_dispose (GObject *object)
{
  TlCameraMonitor *self = TL_CAMERA_MONITOR (object);

  g_clear_handle_id (&self->bus_watch, g_source_remove);
  if (self->monitor != NULL)
    gst_device_monitor_stop (self->monitor);
  g_clear_object (&self->monitor);
  G_OBJECT_CLASS (tl_camera_monitor_parent_class)->dispose (object);
}

static void
tl_camera_monitor_finalize (GObject *object)
{
  TlCameraMonitor *self = TL_CAMERA_MONITOR (object);

  g_ptr_array_unref (self->devices);
  G_OBJECT_CLASS (tl_camera_monitor_parent_class)->finalize (object);
}

static void
tl_camera_monitor_class_init (TlCameraMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tl_camera_monitor_dispose;
  object_class->finalize = tl_camera_monitor_finalize;
}

static void
tl_camera_monitor_init (TlCameraMonitor *self)
{
  g_autoptr (GstBus) bus = NULL;
  GList *devices;

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);

  self->devices = g_ptr_array_new_with_free_func (g_object_unref);
  self->monitor = gst_device_monitor_new ();
  gst_device_monitor_add_filter (self->monitor, "Video/Source", NULL);

  bus = gst_device_monitor_get_bus (self->monitor);
  self->bus_watch = gst_bus_add_watch (bus, on_bus_message, self);

  /* Without any device provider for video there is nothing to watch; the
   * list simply stays empty. */
  if (!gst_device_monitor_start (self->monitor))
    {
      g_debug ("No camera device provider could be started");
      return;
    }

  devices = gst_device_monitor_get_devices (self->monitor);
  for (GList *l = devices; l != NULL; l = l->next)
    add_device (self, l->data);
  g_list_free_full (devices, gst_object_unref);
}

TlCameraMonitor *
tl_camera_monitor_new (void)
{
  return g_object_new (TL_TYPE_CAMERA_MONITOR, NULL);
}
