/* tl-ctl-camera.c — camera diagnostics: list the cameras, grab one frame, measure the delay
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n.h>

#include "tl-camera.h"
#include "tl-camera-monitor.h"
#include "tl-ctl.h"
#include "tl-ctl-camera.h"

int
tl_ctl_cameras (int    argc,
                char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (TlCameraMonitor) monitor = NULL;
  guint n;

  g_option_context_set_summary (context,
                                _("Lists the cameras plugged in, with the formats they offer and "
                                  "the source description that selects each (for --camera and "
                                  "Preferences). The first one is the automatic choice."));
  if (!tl_ctl_parse (context, &argc, &argv))
    return 2;
  if (argc > 1)
    return tl_ctl_fail (_("“cameras” takes no arguments"));

  monitor = tl_camera_monitor_new ();
  n = g_list_model_get_n_items (G_LIST_MODEL (monitor));
  if (n == 0)
    {
      g_print ("%s\n", _("No cameras found."));
      return 0;
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TlCameraDevice) device = g_list_model_get_item (G_LIST_MODEL (monitor), i);
      g_auto (GStrv) formats = g_strsplit (tl_camera_device_get_formats (device), "\n", -1);
      const char *source = tl_camera_device_get_source (device);

      g_print ("%s%s\n", tl_camera_device_get_name (device),
               i == 0 ? _(" (automatic choice)") : "");
      g_print ("  %s %s\n", _("source:"), source != NULL ? source : _("(cannot be opened)"));
      g_print ("  %s\n", _("formats:"));
      for (guint j = 0; formats[j] != NULL; j++)
        if (formats[j][0] != '\0')
          g_print ("    %s\n", formats[j]);
    }
  return 0;
}

typedef struct
{
  GMainLoop *loop;
  guint      skip;
  TlImage   *frame;
} Grab;

static void
on_frame (TlCamera *camera,
          TlImage  *frame,
          Grab     *grab)
{
  if (grab->skip > 0)
    {
      grab->skip--;
      return;
    }
  if (grab->frame == NULL)
    grab->frame = tl_image_ref (frame);
  g_main_loop_quit (grab->loop);
}

static void
on_state (TlCamera   *camera,
          GParamSpec *pspec,
          Grab       *grab)
{
  if (tl_camera_get_state (camera) == TL_CAMERA_STATE_ERROR)
    g_main_loop_quit (grab->loop);
}

static gboolean
save_png (TlImage     *image,
          const char  *path,
          GError     **error)
{
  g_autoptr (GdkPixbuf) pixbuf = NULL;

  pixbuf = gdk_pixbuf_new_from_data (image->data, GDK_COLORSPACE_RGB, image->channels == 4, 8,
                                     image->width, image->height, image->stride, NULL, NULL);
  return gdk_pixbuf_save (pixbuf, path, "png", error, NULL);
}

int
tl_ctl_snapshot (int    argc,
                 char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (_("OUT.png"));
  g_autoptr (TlCamera) camera = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *source = NULL;
  int skip = 0;
  Grab grab = { 0 };
  const GOptionEntry entries[] = {
    { "camera", 'c', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, &source,
      N_("GStreamer source to read (default: the automatic choice)"), N_("SOURCE") },
    { "skip", 's', G_OPTION_FLAG_NONE, G_OPTION_ARG_INT, &skip,
      N_("Frames to drop first, while a camera adjusts its exposure (default 0)"), N_("N") },
    { NULL }
  };

  g_option_context_set_summary (context, _("Grabs one frame from the camera and saves it as PNG."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (context, &argc, &argv))
    return 2;
  if (argc != 2)
    return tl_ctl_fail (_("“snapshot” needs one output file, e.g. “twinlockctl snapshot out.png”"));
  if (skip < 0 || skip > 1000)
    return tl_ctl_fail (_("--skip must be between 0 and 1000"));

  loop = g_main_loop_new (NULL, FALSE);
  grab.loop = loop;
  grab.skip = (guint) skip;

  camera = tl_camera_new ();
  tl_camera_set_source (camera, source);
  g_signal_connect (camera, "frame", G_CALLBACK (on_frame), &grab);
  g_signal_connect (camera, "notify::state", G_CALLBACK (on_state), &grab);
  if (!tl_camera_start (camera, &error))
    {
      if (g_error_matches (error, TL_CAMERA_ERROR, TL_CAMERA_ERROR_NO_CAMERA))
        return tl_ctl_fail (_("No camera was found. Plug one in, or name a source with "
                              "--camera (see “twinlockctl cameras”)."));
      return tl_ctl_fail ("%s", error->message);
    }

  /* The camera's own watchdog turns a silent source into an error. */
  g_main_loop_run (loop);

  if (grab.frame == NULL)
    {
      const GError *camera_error = tl_camera_get_error (camera);

      return tl_ctl_fail ("%s", camera_error != NULL ? camera_error->message
                                                     : _("The camera gave no picture."));
    }
  tl_camera_stop (camera);

  if (!save_png (grab.frame, argv[1], &error))
    {
      tl_image_unref (grab.frame);
      return tl_ctl_fail (_("Could not write “%s”: %s"), argv[1], error->message);
    }
  g_print (_("Saved a %d×%d frame to %s\n"), grab.frame->width, grab.frame->height, argv[1]);
  tl_image_unref (grab.frame);
  return 0;
}

typedef struct
{
  GMainLoop *loop;
  guint      warmup;
  guint      wanted;
  guint      n;
  gint64     sum_us;
  gint64     max_us;
  gint64     first_us;
  gint64     last_us;
} Latency;

static void
on_latency_frame (TlCamera *camera,
                  TlImage  *frame,
                  Latency  *latency)
{
  gint64 now = g_get_monotonic_time ();
  gint64 lag = now - frame->timestamp_us;

  if (latency->warmup > 0)
    {
      latency->warmup--;
      latency->first_us = now;
      return;
    }
  latency->sum_us += lag;
  latency->max_us = MAX (latency->max_us, lag);
  latency->last_us = now;
  if (++latency->n == latency->wanted)
    g_main_loop_quit (latency->loop);
}

static void
on_latency_state (TlCamera   *camera,
                  GParamSpec *pspec,
                  Latency    *latency)
{
  if (tl_camera_get_state (camera) == TL_CAMERA_STATE_ERROR)
    g_main_loop_quit (latency->loop);
}

int
tl_ctl_latency (int    argc,
                char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (TlCamera) camera = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *source = NULL;
  int frames = 300;
  Latency latency = { 0 };
  const GOptionEntry entries[] = {
    { "camera", 'c', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, &source,
      N_("GStreamer source to read (default: the automatic choice)"), N_("SOURCE") },
    { "frames", 'n', G_OPTION_FLAG_NONE, G_OPTION_ARG_INT, &frames,
      N_("Frames to measure (default 300)"), N_("N") },
    { NULL }
  };

  g_option_context_set_summary (context,
                                _("Measures how long camera frames take from capture to the "
                                  "app’s main loop, and the frame rate that arrives there."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (context, &argc, &argv))
    return 2;
  if (argc > 1)
    return tl_ctl_fail (_("“latency” takes no arguments besides its options"));
  if (frames < 1 || frames > 100000)
    return tl_ctl_fail (_("--frames must be between 1 and 100000"));

  loop = g_main_loop_new (NULL, FALSE);
  latency.loop = loop;
  latency.warmup = 10;
  latency.wanted = (guint) frames;

  camera = tl_camera_new ();
  tl_camera_set_source (camera, source);
  g_signal_connect (camera, "frame", G_CALLBACK (on_latency_frame), &latency);
  g_signal_connect (camera, "notify::state", G_CALLBACK (on_latency_state), &latency);
  if (!tl_camera_start (camera, &error))
    return tl_ctl_fail ("%s", error->message);
  g_main_loop_run (loop);

  if (latency.n < latency.wanted)
    {
      const GError *camera_error = tl_camera_get_error (camera);

      return tl_ctl_fail (_("Only %u of %u frames arrived: %s"), latency.n, latency.wanted,
                          camera_error != NULL ? camera_error->message : "");
    }
  tl_camera_stop (camera);

  g_print (_("%u frames: capture to main loop %.2f ms mean, %.2f ms max; %.1f frames/s arrived\n"),
           latency.n, latency.sum_us / 1000.0 / latency.n, latency.max_us / 1000.0,
           latency.last_us > latency.first_us
           ? latency.n / ((latency.last_us - latency.first_us) / (double) G_USEC_PER_SEC) : 0.0);
  return 0;
}
