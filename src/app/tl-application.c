/* tl-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tl-about.h"
#include "tl-application.h"
#include "tl-camera-view.h"
#include "tl-preferences-window.h"
#include "tl-window.h"

/* from the GResource compiled with --manual-register */
void tl_register_resource (void);

struct _TlApplication
{
  AdwApplication  parent_instance;

  TlSettings     *settings;
  char           *camera_override;
};

G_DEFINE_FINAL_TYPE (TlApplication, tl_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_CAMERA_OVERRIDE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
tl_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (tl_window_new (TL_APPLICATION (app)));
  gtk_window_present (window);
}

static int
tl_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  const char *camera = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("twinlock %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (g_variant_dict_lookup (options, "camera", "&s", &camera))
    tl_application_set_camera_override (TL_APPLICATION (app), camera);

  return G_APPLICATION_CLASS (tl_application_parent_class)->handle_local_options (app, options);
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  TlApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWindow *prefs = GTK_WINDOW (tl_preferences_window_new (self));

  gtk_window_set_transient_for (prefs, parent);
  gtk_window_present (prefs);
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  TlApplication *self = user_data;

  tl_about_show (gtk_application_get_active_window (GTK_APPLICATION (self)));
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "preferences", preferences_activated, NULL, NULL, NULL, { 0 } },
  { "about", about_activated, NULL, NULL, NULL, { 0 } },
  { "quit", quit_activated, NULL, NULL, NULL, { 0 } },
};

static void
tl_application_startup (GApplication *app)
{
  TlApplication *self = TL_APPLICATION (app);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *prefs_accels[] = { "<Control>comma", NULL };
  static const char *close_accels[] = { "<Control>w", NULL };
  static const char *retry_accels[] = { "F5", "<Control>r", NULL };
  static const char *mirror_accels[] = { "<Control>m", NULL };

  G_APPLICATION_CLASS (tl_application_parent_class)->startup (app);

  g_type_ensure (TL_TYPE_CAMERA_VIEW);
  self->settings = tl_settings_new ();

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions,
                                   G_N_ELEMENTS (app_actions), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences", prefs_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.retry", retry_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.mirror", mirror_accels);
}

static void
tl_application_finalize (GObject *object)
{
  TlApplication *self = TL_APPLICATION (object);

  g_clear_object (&self->settings);
  g_free (self->camera_override);
  G_OBJECT_CLASS (tl_application_parent_class)->finalize (object);
}

static void
tl_application_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  TlApplication *self = TL_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_CAMERA_OVERRIDE:
      g_value_set_string (value, self->camera_override);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tl_application_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  TlApplication *self = TL_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_CAMERA_OVERRIDE:
      tl_application_set_camera_override (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tl_application_class_init (TlApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = tl_application_finalize;
  object_class->get_property = tl_application_get_property;
  object_class->set_property = tl_application_set_property;
  app_class->activate = tl_application_activate;
  app_class->startup = tl_application_startup;
  app_class->handle_local_options = tl_application_handle_local_options;

  properties[PROP_CAMERA_OVERRIDE] =
    g_param_spec_string ("camera-override", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  tl_register_resource ();
}

static void
tl_application_init (TlApplication *self)
{
  static const GOptionEntry entries[] = {
    { "camera", 'c', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
      N_("Use this GStreamer source as the camera for this run (e.g. “videotestsrc”)"),
      N_("SOURCE") },
    { "version", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
      N_("Print the version and exit"), NULL },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
}

TlApplication *
tl_application_new (void)
{
  return g_object_new (TL_TYPE_APPLICATION,
                       "application-id", TL_APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       /* the same resources serve the stable and the .Devel app id */
                       "resource-base-path", TL_RESOURCE_PATH,
                       NULL);
}

TlSettings *
tl_application_get_settings (TlApplication *self)
{
  g_return_val_if_fail (TL_IS_APPLICATION (self), NULL);
  return self->settings;
}

const char *
tl_application_get_camera_override (TlApplication *self)
{
  g_return_val_if_fail (TL_IS_APPLICATION (self), NULL);
  return self->camera_override;
}

void
tl_application_set_camera_override (TlApplication *self,
                                    const char    *source)
{
  g_return_if_fail (TL_IS_APPLICATION (self));

  if (source != NULL && source[0] == '\0')
    source = NULL;
  if (g_strcmp0 (self->camera_override, source) == 0)
    return;
  g_free (self->camera_override);
  self->camera_override = g_strdup (source);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAMERA_OVERRIDE]);
}
