/* tl-settings.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-settings.h"

struct _TlSettings
{
  GObject    parent_instance;

  GSettings *settings;
  char      *camera_source;
  gboolean   mirror_preview;
  int        window_width;
  int        window_height;
  gboolean   window_maximized;
};

G_DEFINE_FINAL_TYPE (TlSettings, tl_settings, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CAMERA_SOURCE,
  PROP_MIRROR_PREVIEW,
  PROP_WINDOW_WIDTH,
  PROP_WINDOW_HEIGHT,
  PROP_WINDOW_MAXIMIZED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_int (TlSettings *self,
         int        *field,
         int         value,
         guint       prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_boolean (TlSettings *self,
             gboolean   *field,
             gboolean    value,
             guint       prop)
{
  value = !!value;
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
tl_settings_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  TlSettings *self = TL_SETTINGS (object);

  switch (prop_id)
    {
    case PROP_CAMERA_SOURCE:
      g_value_set_string (value, self->camera_source);
      break;
    case PROP_MIRROR_PREVIEW:
      g_value_set_boolean (value, self->mirror_preview);
      break;
    case PROP_WINDOW_WIDTH:
      g_value_set_int (value, self->window_width);
      break;
    case PROP_WINDOW_HEIGHT:
      g_value_set_int (value, self->window_height);
      break;
    case PROP_WINDOW_MAXIMIZED:
      g_value_set_boolean (value, self->window_maximized);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tl_settings_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  TlSettings *self = TL_SETTINGS (object);

  switch (prop_id)
    {
    case PROP_CAMERA_SOURCE:
      tl_settings_set_camera_source (self, g_value_get_string (value));
      break;
    case PROP_MIRROR_PREVIEW:
      tl_settings_set_mirror_preview (self, g_value_get_boolean (value));
      break;
    case PROP_WINDOW_WIDTH:
      set_int (self, &self->window_width, g_value_get_int (value), prop_id);
      break;
    case PROP_WINDOW_HEIGHT:
      set_int (self, &self->window_height, g_value_get_int (value), prop_id);
      break;
    case PROP_WINDOW_MAXIMIZED:
      set_boolean (self, &self->window_maximized, g_value_get_boolean (value), prop_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tl_settings_finalize (GObject *object)
{
  TlSettings *self = TL_SETTINGS (object);

  g_clear_object (&self->settings);
  g_free (self->camera_source);
  G_OBJECT_CLASS (tl_settings_parent_class)->finalize (object);
}

static void
tl_settings_class_init (TlSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = tl_settings_get_property;
  object_class->set_property = tl_settings_set_property;
  object_class->finalize = tl_settings_finalize;

  properties[PROP_CAMERA_SOURCE] =
    g_param_spec_string ("camera-source", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MIRROR_PREVIEW] =
    g_param_spec_boolean ("mirror-preview", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WINDOW_WIDTH] =
    g_param_spec_int ("window-width", NULL, NULL, 0, G_MAXINT, 720,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WINDOW_HEIGHT] =
    g_param_spec_int ("window-height", NULL, NULL, 0, G_MAXINT, 600,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WINDOW_MAXIMIZED] =
    g_param_spec_boolean ("window-maximized", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tl_settings_init (TlSettings *self)
{
  self->camera_source = g_strdup ("");
  self->settings = g_settings_new (TL_SETTINGS_SCHEMA_ID);

  for (guint i = PROP_0 + 1; i < N_PROPS; i++)
    {
      const char *name = g_param_spec_get_name (properties[i]);

      /* key names and property names are the same */
      g_settings_bind (self->settings, name, self, name, G_SETTINGS_BIND_DEFAULT);
    }
}

TlSettings *
tl_settings_new (void)
{
  return g_object_new (TL_TYPE_SETTINGS, NULL);
}

const char *
tl_settings_get_camera_source (TlSettings *self)
{
  g_return_val_if_fail (TL_IS_SETTINGS (self), NULL);
  return self->camera_source;
}

void
tl_settings_set_camera_source (TlSettings *self,
                               const char *source)
{
  g_autofree char *stripped = NULL;

  g_return_if_fail (TL_IS_SETTINGS (self));

  stripped = g_strstrip (g_strdup (source != NULL ? source : ""));
  if (g_strcmp0 (self->camera_source, stripped) == 0)
    return;
  g_free (self->camera_source);
  self->camera_source = g_steal_pointer (&stripped);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAMERA_SOURCE]);
}

gboolean
tl_settings_get_mirror_preview (TlSettings *self)
{
  g_return_val_if_fail (TL_IS_SETTINGS (self), FALSE);
  return self->mirror_preview;
}

void
tl_settings_set_mirror_preview (TlSettings *self,
                                gboolean    mirror)
{
  g_return_if_fail (TL_IS_SETTINGS (self));
  set_boolean (self, &self->mirror_preview, mirror, PROP_MIRROR_PREVIEW);
}
