/* tl-preferences-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tl-camera-monitor.h"
#include "tl-preferences-window.h"

/* The source row lists "Automatic", then every camera plugged in (kept
 * live by a TlCameraMonitor), then "Other GStreamer Source", which shows
 * an entry for any source description. */

struct _TlPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  AdwComboRow          *source_row;
  AdwEntryRow          *custom_row;
  GtkLabel             *custom_hint;
  GtkLabel             *override_hint;
  GtkSwitch            *mirror_switch;

  TlApplication        *application;
  TlSettings           *settings;
  TlCameraMonitor      *monitor;
  GtkStringList        *names;
  GPtrArray            *sources;   /* parallel to names; NULL = other */
  gboolean              updating;
};

G_DEFINE_FINAL_TYPE (TlPreferencesWindow, tl_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

enum {
  PROP_0,
  PROP_APPLICATION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
show_custom (TlPreferencesWindow *self,
             gboolean             visible)
{
  gtk_widget_set_visible (GTK_WIDGET (self->custom_row), visible);
  gtk_widget_set_visible (GTK_WIDGET (self->custom_hint), visible);
}

/* Puts the row on the entry that matches the setting. */
static void
sync_selection (TlPreferencesWindow *self)
{
  const char *current = tl_settings_get_camera_source (self->settings);
  guint custom = self->sources->len - 1;
  guint selected = custom;

  for (guint i = 0; i < custom; i++)
    if (g_strcmp0 (g_ptr_array_index (self->sources, i), current) == 0)
      selected = i;

  self->updating = TRUE;
  adw_combo_row_set_selected (self->source_row, selected);
  if (selected == custom)
    gtk_editable_set_text (GTK_EDITABLE (self->custom_row), current);
  self->updating = FALSE;
  show_custom (self, selected == custom);
}

static void
rebuild_sources (TlPreferencesWindow *self)
{
  guint n_devices = g_list_model_get_n_items (G_LIST_MODEL (self->monitor));
  guint n_old = g_list_model_get_n_items (G_LIST_MODEL (self->names));

  g_ptr_array_set_size (self->sources, 0);
  g_ptr_array_add (self->sources, g_strdup (""));
  self->updating = TRUE;
  gtk_string_list_splice (self->names, 0, n_old, NULL);
  gtk_string_list_append (self->names, _("Automatic"));

  for (guint i = 0; i < n_devices; i++)
    {
      g_autoptr (TlCameraDevice) device = g_list_model_get_item (G_LIST_MODEL (self->monitor), i);

      if (tl_camera_device_get_source (device) == NULL)
        continue;
      gtk_string_list_append (self->names, tl_camera_device_get_name (device));
      g_ptr_array_add (self->sources, g_strdup (tl_camera_device_get_source (device)));
    }

  gtk_string_list_append (self->names, _("Other GStreamer Source"));
  g_ptr_array_add (self->sources, NULL);
  self->updating = FALSE;

  sync_selection (self);
}

static void
on_selected (TlPreferencesWindow *self)
{
  guint selected = adw_combo_row_get_selected (self->source_row);
  const char *source;

  if (self->updating || selected >= self->sources->len)
    return;

  source = g_ptr_array_index (self->sources, selected);
  show_custom (self, source == NULL);
  if (source != NULL)
    tl_settings_set_camera_source (self->settings, source);
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->custom_row));
}

/* A --camera given at start wins over the setting until a source is chosen
 * here; say so, or the chooser would seem to be ignored. */
static void
update_override_hint (TlPreferencesWindow *self)
{
  const char *override = tl_application_get_camera_override (self->application);

  if (override != NULL)
    {
      g_autofree char *text =
        g_strdup_printf (_("This run uses “%s”, given with --camera. A source chosen "
                           "here replaces it."), override);
      gtk_label_set_text (self->override_hint, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->override_hint), override != NULL);
}

static void
on_custom_apply (TlPreferencesWindow *self)
{
  tl_settings_set_camera_source (self->settings,
                                 gtk_editable_get_text (GTK_EDITABLE (self->custom_row)));
}

static void
tl_preferences_window_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  TlPreferencesWindow *self = TL_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_APPLICATION:
      self->application = g_value_dup_object (value);
      self->settings = g_object_ref (tl_application_get_settings (self->application));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tl_preferences_window_constructed (GObject *object)
{
  TlPreferencesWindow *self = TL_PREFERENCES_WINDOW (object);

  G_OBJECT_CLASS (tl_preferences_window_parent_class)->constructed (object);

  g_object_bind_property (self->settings, "mirror-preview", self->mirror_switch, "active",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);

  self->names = gtk_string_list_new (NULL);
  adw_combo_row_set_model (self->source_row, G_LIST_MODEL (self->names));
  self->monitor = tl_camera_monitor_new ();
  rebuild_sources (self);

  g_signal_connect_object (self->monitor, "items-changed",
                           G_CALLBACK (rebuild_sources), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "notify::camera-source",
                           G_CALLBACK (sync_selection), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->source_row, "notify::selected",
                           G_CALLBACK (on_selected), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->application, "notify::camera-override",
                           G_CALLBACK (update_override_hint), self, G_CONNECT_SWAPPED);
  update_override_hint (self);
}

static void
tl_preferences_window_dispose (GObject *object)
{
  TlPreferencesWindow *self = TL_PREFERENCES_WINDOW (object);

  g_clear_object (&self->monitor);
  gtk_widget_dispose_template (GTK_WIDGET (self), TL_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (tl_preferences_window_parent_class)->dispose (object);
}

static void
tl_preferences_window_finalize (GObject *object)
{
  TlPreferencesWindow *self = TL_PREFERENCES_WINDOW (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->application);
  g_clear_object (&self->names);
  g_ptr_array_unref (self->sources);
  G_OBJECT_CLASS (tl_preferences_window_parent_class)->finalize (object);
}

static void
tl_preferences_window_class_init (TlPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = tl_preferences_window_constructed;
  object_class->dispose = tl_preferences_window_dispose;
  object_class->finalize = tl_preferences_window_finalize;
  object_class->set_property = tl_preferences_window_set_property;

  properties[PROP_APPLICATION] =
    g_param_spec_object ("tl-application", NULL, NULL, TL_TYPE_APPLICATION,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               TL_RESOURCE_PATH "/tl-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TlPreferencesWindow, source_row);
  gtk_widget_class_bind_template_child (widget_class, TlPreferencesWindow, custom_row);
  gtk_widget_class_bind_template_child (widget_class, TlPreferencesWindow, custom_hint);
  gtk_widget_class_bind_template_child (widget_class, TlPreferencesWindow, override_hint);
  gtk_widget_class_bind_template_child (widget_class, TlPreferencesWindow, mirror_switch);
  gtk_widget_class_bind_template_callback (widget_class, on_custom_apply);
}

static void
tl_preferences_window_init (TlPreferencesWindow *self)
{
  self->sources = g_ptr_array_new_with_free_func (g_free);
  gtk_widget_init_template (GTK_WIDGET (self));
}

TlPreferencesWindow *
tl_preferences_window_new (TlApplication *application)
{
  g_return_val_if_fail (TL_IS_APPLICATION (application), NULL);
  return g_object_new (TL_TYPE_PREFERENCES_WINDOW,
                       "tl-application", application,
                       "application", application,
                       NULL);
}
