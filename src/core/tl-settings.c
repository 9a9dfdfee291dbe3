/* tl-settings.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-settings.h"

#include <math.h>

struct _TlSettings
{
  GObject    parent_instance;

  GSettings *settings;
  char      *camera_source;
  gboolean   mirror_preview;
  int        window_width;
  int        window_height;
  gboolean   window_maximized;
  gboolean   voice_enabled;
  char      *microphone_source;
  GVariant  *keyword_thresholds;
};

G_DEFINE_FINAL_TYPE (TlSettings, tl_settings, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CAMERA_SOURCE,
  PROP_MIRROR_PREVIEW,
  PROP_WINDOW_WIDTH,
  PROP_WINDOW_HEIGHT,
  PROP_WINDOW_MAXIMIZED,
  PROP_VOICE_ENABLED,
  PROP_MICROPHONE_SOURCE,
  PROP_KEYWORD_THRESHOLDS,
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

/* Source descriptions: surrounding white space is no part of them. */
static void
set_stripped_string (TlSettings *self,
                     char      **field,
                     const char *value,
                     guint       prop)
{
  g_autofree char *stripped = g_strstrip (g_strdup (value != NULL ? value : ""));

  if (g_strcmp0 (*field, stripped) == 0)
    return;
  g_free (*field);
  *field = g_steal_pointer (&stripped);
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
    case PROP_VOICE_ENABLED:
      g_value_set_boolean (value, self->voice_enabled);
      break;
    case PROP_MICROPHONE_SOURCE:
      g_value_set_string (value, self->microphone_source);
      break;
    case PROP_KEYWORD_THRESHOLDS:
      g_value_set_variant (value, self->keyword_thresholds);
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
    case PROP_VOICE_ENABLED:
      tl_settings_set_voice_enabled (self, g_value_get_boolean (value));
      break;
    case PROP_MICROPHONE_SOURCE:
      tl_settings_set_microphone_source (self, g_value_get_string (value));
      break;
    case PROP_KEYWORD_THRESHOLDS:
      tl_settings_set_keyword_thresholds (self, g_value_get_variant (value));
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
  g_free (self->microphone_source);
  g_clear_pointer (&self->keyword_thresholds, g_variant_unref);
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
  properties[PROP_VOICE_ENABLED] =
    g_param_spec_boolean ("voice-enabled", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MICROPHONE_SOURCE] =
    g_param_spec_string ("microphone-source", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* phrase → the score it must reach; see tl_keyword_spotter_apply_thresholds() */
  properties[PROP_KEYWORD_THRESHOLDS] =
    g_param_spec_variant ("keyword-thresholds", NULL, NULL, G_VARIANT_TYPE ("a{sd}"), NULL,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

/* GSettings has no default mapping for GVariant properties. */
static gboolean
variant_get_mapping (GValue   *value,
                     GVariant *variant,
                     gpointer  user_data)
{
  g_value_set_variant (value, variant);
  return TRUE;
}

static GVariant *
variant_set_mapping (const GValue       *value,
                     const GVariantType *expected_type,
                     gpointer            user_data)
{
  GVariant *variant = g_value_get_variant (value);

  if (variant == NULL || !g_variant_is_of_type (variant, expected_type))
    return NULL;
  return g_variant_ref (variant);
}

static void
tl_settings_init (TlSettings *self)
{
  self->camera_source = g_strdup ("");
  self->microphone_source = g_strdup ("");
  self->keyword_thresholds = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sd}"), NULL, 0));
  self->settings = g_settings_new (TL_SETTINGS_SCHEMA_ID);

  for (guint i = PROP_0 + 1; i < N_PROPS; i++)
    {
      const char *name = g_param_spec_get_name (properties[i]);

      /* key names and property names are the same */
      if (G_IS_PARAM_SPEC_VARIANT (properties[i]))
        g_settings_bind_with_mapping (self->settings, name, self, name, G_SETTINGS_BIND_DEFAULT,
                                      variant_get_mapping, variant_set_mapping, NULL, NULL);
      else
        g_settings_bind (self->settings, name, self, name, G_SETTINGS_BIND_DEFAULT);
    }
}

TlSettings *
tl_settings_new (void)
{
  return g_object_new (TL_TYPE_SETTINGS, NULL);
}

gboolean
tl_settings_schema_installed (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, TL_SETTINGS_SCHEMA_ID, TRUE);
  return schema != NULL;
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
  g_return_if_fail (TL_IS_SETTINGS (self));
  set_stripped_string (self, &self->camera_source, source, PROP_CAMERA_SOURCE);
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

gboolean
tl_settings_get_voice_enabled (TlSettings *self)
{
  g_return_val_if_fail (TL_IS_SETTINGS (self), FALSE);
  return self->voice_enabled;
}

void
tl_settings_set_voice_enabled (TlSettings *self,
                               gboolean    enabled)
{
  g_return_if_fail (TL_IS_SETTINGS (self));
  set_boolean (self, &self->voice_enabled, enabled, PROP_VOICE_ENABLED);
}

const char *
tl_settings_get_microphone_source (TlSettings *self)
{
  g_return_val_if_fail (TL_IS_SETTINGS (self), NULL);
  return self->microphone_source;
}

void
tl_settings_set_microphone_source (TlSettings *self,
                                   const char *source)
{
  g_return_if_fail (TL_IS_SETTINGS (self));
  set_stripped_string (self, &self->microphone_source, source, PROP_MICROPHONE_SOURCE);
}

GVariant *
tl_settings_get_keyword_thresholds (TlSettings *self)
{
  g_return_val_if_fail (TL_IS_SETTINGS (self), NULL);
  return self->keyword_thresholds;
}

void
tl_settings_set_keyword_thresholds (TlSettings *self,
                                    GVariant   *thresholds)
{
  g_autoptr (GVariant) sunk = NULL;

  g_return_if_fail (TL_IS_SETTINGS (self));
  g_return_if_fail (thresholds == NULL ||
                    g_variant_is_of_type (thresholds, G_VARIANT_TYPE ("a{sd}")));

  if (thresholds == NULL)
    thresholds = g_variant_new_array (G_VARIANT_TYPE ("{sd}"), NULL, 0);
  sunk = g_variant_ref_sink (thresholds);
  if (g_variant_equal (self->keyword_thresholds, sunk))
    return;
  g_variant_unref (self->keyword_thresholds);
  self->keyword_thresholds = g_steal_pointer (&sunk);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEYWORD_THRESHOLDS]);
}

double
tl_settings_get_keyword_threshold (TlSettings *self,
                                   const char *phrase)
{
  double value;

  g_return_val_if_fail (TL_IS_SETTINGS (self), NAN);
  g_return_val_if_fail (phrase != NULL, NAN);

  if (g_variant_lookup (self->keyword_thresholds, phrase, "d", &value))
    return value;
  return NAN;
}
