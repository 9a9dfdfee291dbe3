/* tl-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tl-camera-monitor.h"
#include "tl-face-tracker.h"
#include "tl-window.h"

struct _TlWindow
{
  AdwApplicationWindow  parent_instance;

  AdwWindowTitle       *window_title;
  GtkStack             *stack;
  GtkSpinner           *spinner;
  TlCameraView         *camera_view;
  AdwStatusPage        *error_page;
  GtkButton            *retry_button;
  GtkButton            *choose_button;

  TlSettings           *settings;
  TlCamera             *camera;
  TlCameraMonitor      *monitor;
  TlFaceTracker        *face_tracker;   /* NULL when the models are missing */
};

G_DEFINE_FINAL_TYPE (TlWindow, tl_window, ADW_TYPE_APPLICATION_WINDOW)

static const char *
effective_source (TlWindow *self)
{
  TlApplication *app = TL_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  const char *override = app != NULL ? tl_application_get_camera_override (app) : NULL;

  return override != NULL ? override : tl_settings_get_camera_source (self->settings);
}

static void
show_error (TlWindow     *self,
            const GError *error)
{
  const char *title = _("The Camera Failed");
  const char *icon = "camera-disabled-symbolic";
  g_autofree char *description = NULL;
  g_autofree char *escaped = g_markup_escape_text (error->message, -1);

  if (error->domain == TL_CAMERA_ERROR)
    switch ((TlCameraError) error->code)
      {
      case TL_CAMERA_ERROR_NO_CAMERA:
        title = _("No Camera Found");
        icon = "camera-disabled-symbolic";
        description = g_strdup (_("Plug in a camera; Twinlock will find it by itself. "
                                  "Or choose a source in Preferences: another camera, "
                                  "a test picture, a video file or a still image."));
        break;
      case TL_CAMERA_ERROR_BAD_SOURCE:
        title = _("The Camera Source Does Not Work");
        break;
      case TL_CAMERA_ERROR_BUSY:
        title = _("The Camera Is Busy");
        description = g_strdup_printf (_("%s\n\nClose the other program, then retry."), escaped);
        break;
      case TL_CAMERA_ERROR_PERMISSION_DENIED:
        title = _("No Access to the Camera");
        break;
      case TL_CAMERA_ERROR_ENDED:
        title = _("The Camera Stopped");
        break;
      case TL_CAMERA_ERROR_STALLED:
        title = _("The Camera Stopped Responding");
        break;
      case TL_CAMERA_ERROR_FAILED:
      default:
        break;
      }

  adw_status_page_set_title (self->error_page, title);
  adw_status_page_set_icon_name (self->error_page, icon);
  adw_status_page_set_description (self->error_page,
                                   description != NULL ? description : escaped);
  gtk_stack_set_visible_child_name (self->stack, "error");
}

static void
update_page (TlWindow *self)
{
  TlCameraState state = tl_camera_get_state (self->camera);

  gtk_spinner_set_spinning (self->spinner, state == TL_CAMERA_STATE_STARTING);
  adw_window_title_set_subtitle (self->window_title,
                                 state == TL_CAMERA_STATE_PLAYING
                                 ? tl_camera_get_device_name (self->camera) : NULL);

  switch (state)
    {
    case TL_CAMERA_STATE_PLAYING:
      gtk_stack_set_visible_child_name (self->stack, "camera");
      break;
    case TL_CAMERA_STATE_ERROR:
      /* Never leave the last picture up as if it were live. */
      tl_camera_view_set_image (self->camera_view, NULL);
      tl_camera_view_set_faces (self->camera_view, NULL, 0);
      show_error (self, tl_camera_get_error (self->camera));
      break;
    case TL_CAMERA_STATE_STARTING:
    case TL_CAMERA_STATE_STOPPED:
    default:
      gtk_stack_set_visible_child_name (self->stack, "starting");
      break;
    }
}

static void
restart_camera (TlWindow *self)
{
  tl_camera_set_source (self->camera, effective_source (self));
  /* Failures land in the camera's state, which update_page() shows. */
  tl_camera_start (self->camera, NULL);
  update_page (self);
}

static void
on_frame (TlCamera *camera,
          TlImage  *frame,
          TlWindow *self)
{
  tl_camera_view_set_image (self->camera_view, frame);
  /* Analysis runs on the tracker's thread; a busy tracker keeps only the
   * newest frame. */
  if (self->face_tracker != NULL)
    tl_face_tracker_push_frame (self->face_tracker, frame);
}

static void
on_faces (TlFaceTracker     *tracker,
          TlFaceFrameResult *result,
          TlWindow          *self)
{
  TlFaceOverlay overlays[TL_FACE_TRACKER_MAX_FACES];

  /* A result that arrives after the camera stopped would draw a stale box. */
  if (tl_camera_get_state (self->camera) != TL_CAMERA_STATE_PLAYING)
    return;
  for (guint i = 0; i < result->n_faces; i++)
    {
      TlFaceOverlay *o = &overlays[i];

      o->x = result->boxes[i].x;
      o->y = result->boxes[i].y;
      o->width = result->boxes[i].width;
      o->height = result->boxes[i].height;
      o->kind = TL_FACE_OVERLAY_NEUTRAL;
      o->n_points = TL_FACE_N_LANDMARKS;
      for (guint k = 0; k < TL_FACE_N_LANDMARKS; k++)
        {
          o->points[k][0] = result->landmarks[i].x[k];
          o->points[k][1] = result->landmarks[i].y[k];
        }
    }
  tl_camera_view_set_faces (self->camera_view, overlays, result->n_faces);
}

static void
on_devices_changed (GListModel *model,
                    guint       position,
                    guint       removed,
                    guint       added,
                    TlWindow   *self)
{
  /* A camera plugged in may be what the error page is waiting for. */
  if (added > 0 && tl_camera_get_state (self->camera) == TL_CAMERA_STATE_ERROR)
    restart_camera (self);
}

static void
on_source_setting_changed (TlWindow *self)
{
  TlApplication *app = TL_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));

  /* A choice made in Preferences replaces a --camera given at start. */
  if (app != NULL)
    tl_application_set_camera_override (app, NULL);
  restart_camera (self);
}

static void
retry_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  restart_camera (TL_WINDOW (user_data));
}

static void
mirror_change_state (GSimpleAction *action,
                     GVariant      *state,
                     gpointer       user_data)
{
  TlWindow *self = user_data;

  tl_settings_set_mirror_preview (self->settings, g_variant_get_boolean (state));
}

static void
on_mirror_setting_changed (TlWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "mirror");

  g_simple_action_set_state (G_SIMPLE_ACTION (action),
                             g_variant_new_boolean (tl_settings_get_mirror_preview (self->settings)));
}

static const GActionEntry win_actions[] = {
  { "retry", retry_activated, NULL, NULL, NULL, { 0 } },
  { "mirror", NULL, NULL, "false", mirror_change_state, { 0 } },
};

/* GtkWindow:application is set after construction, so this runs from
 * tl_window_new(). */
static void
setup (TlWindow      *self,
       TlApplication *app)
{
  self->settings = g_object_ref (tl_application_get_settings (app));

  g_object_bind_property (self->settings, "window-width", self, "default-width",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  g_object_bind_property (self->settings, "window-height", self, "default-height",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  g_object_bind_property (self->settings, "window-maximized", self, "maximized",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  g_object_bind_property (self->settings, "mirror-preview", self->camera_view, "mirrored",
                          G_BINDING_SYNC_CREATE);

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions,
                                   G_N_ELEMENTS (win_actions), self);
  on_mirror_setting_changed (self);
  g_signal_connect_object (self->settings, "notify::mirror-preview",
                           G_CALLBACK (on_mirror_setting_changed), self, G_CONNECT_SWAPPED);

  g_signal_connect_object (self->settings, "notify::camera-source",
                           G_CALLBACK (on_source_setting_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (app, "notify::camera-override",
                           G_CALLBACK (restart_camera), self, G_CONNECT_SWAPPED);

  {
    g_autoptr (GError) error = NULL;

    self->face_tracker = tl_face_tracker_new (NULL, &error);
    if (self->face_tracker == NULL)
      g_message ("No face analysis: %s", error->message);
    else
      g_signal_connect_object (self->face_tracker, "faces", G_CALLBACK (on_faces), self, 0);
  }

  self->camera = tl_camera_new ();
  g_signal_connect_object (self->camera, "frame", G_CALLBACK (on_frame), self, 0);
  g_signal_connect_object (self->camera, "notify::state",
                           G_CALLBACK (update_page), self, G_CONNECT_SWAPPED);

  self->monitor = tl_camera_monitor_new ();
  g_signal_connect_object (self->monitor, "items-changed",
                           G_CALLBACK (on_devices_changed), self, 0);

  restart_camera (self);
}

static void
tl_window_dispose (GObject *object)
{
  TlWindow *self = TL_WINDOW (object);

  if (self->camera != NULL)
    tl_camera_stop (self->camera);
  g_clear_object (&self->camera);
  g_clear_object (&self->face_tracker);
  g_clear_object (&self->monitor);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), TL_TYPE_WINDOW);
  G_OBJECT_CLASS (tl_window_parent_class)->dispose (object);
}

static void
tl_window_class_init (TlWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tl_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, TL_RESOURCE_PATH "/tl-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TlWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, TlWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, TlWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, TlWindow, camera_view);
  gtk_widget_class_bind_template_child (widget_class, TlWindow, error_page);
  gtk_widget_class_bind_template_child (widget_class, TlWindow, retry_button);
  gtk_widget_class_bind_template_child (widget_class, TlWindow, choose_button);
}

static void
tl_window_init (TlWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  if (TL_DEVELOPMENT)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
}

TlWindow *
tl_window_new (TlApplication *application)
{
  TlWindow *self;

  g_return_val_if_fail (TL_IS_APPLICATION (application), NULL);

  self = g_object_new (TL_TYPE_WINDOW, "application", application, NULL);
  setup (self, application);
  return self;
}

TlCamera *
tl_window_get_camera (TlWindow *self)
{
  g_return_val_if_fail (TL_IS_WINDOW (self), NULL);
  return self->camera;
}

TlCameraView *
tl_window_get_camera_view (TlWindow *self)
{
  g_return_val_if_fail (TL_IS_WINDOW (self), NULL);
  return self->camera_view;
}

const char *
tl_window_get_page (TlWindow *self)
{
  g_return_val_if_fail (TL_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}
