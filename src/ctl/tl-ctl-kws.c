/* tl-ctl-kws.c — `twinlockctl kws`: spot keywords in a file or live
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <gst/gst.h>
#include <math.h>

#include "tl-ctl.h"
#include "tl-ctl-kws.h"
#include "tl-keyword-spotter.h"
#include "tl-microphone.h"
#include "tl-settings.h"

typedef struct
{
  GMainLoop        *loop;
  TlKeywordSpotter *spotter;
  char             *error;
  gboolean          live;
} Run;

static void
on_samples (const gint16 *samples,
            gsize         n,
            gint64        stream_us,
            gint64        monotonic_us,
            gpointer      data)
{
  tl_keyword_spotter_push (TL_KEYWORD_SPOTTER (data), samples, n, monotonic_us);
}

static void
on_detected (TlKeywordSpotter *spotter,
             TlKeywordEvent   *ev,
             Run              *run)
{
  g_print ("%s %.3f %.3f %.3f\n", ev->phrase, ev->start_us / 1e6, ev->end_us / 1e6, ev->score);
  if (run->live)
    g_printerr (_("(%.0f ms after the word ended)\n"),
                (ev->decided_monotonic_us - ev->end_monotonic_us) / 1e3);
}

static void
on_state (TlMicrophone *mic,
          GParamSpec   *pspec,
          Run          *run)
{
  switch (tl_microphone_get_state (mic))
    {
    case TL_MICROPHONE_STATE_ENDED:
      tl_keyword_spotter_finish (run->spotter);
      break;
    case TL_MICROPHONE_STATE_ERROR:
      g_free (run->error);
      run->error = g_strdup (tl_microphone_get_error_message (mic));
      g_main_loop_quit (run->loop);
      break;
    case TL_MICROPHONE_STATE_STOPPED:
    case TL_MICROPHONE_STATE_LISTENING:
    default:
      break;
    }
}

static void
on_failed (TlKeywordSpotter *spotter,
           const char       *message,
           Run              *run)
{
  g_free (run->error);
  run->error = g_strdup (message);
  g_main_loop_quit (run->loop);
}

static gboolean
on_interrupt (gpointer data)
{
  g_main_loop_quit (((Run *) data)->loop);
  return G_SOURCE_REMOVE;
}

static char *
file_source (const char *path)
{
  g_autofree char *escaped = g_strescape (path, NULL);
  return g_strdup_printf ("filesrc location=\"%s\" ! decodebin", escaped);
}

int
tl_ctl_kws (int    argc,
            char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (_("FILE | --microphone | eval CORPUS | train CORPUS -o MODEL"));
  g_autoptr (GError) error = NULL;
  g_autoptr (TlKeywordSpotter) spotter = NULL;
  g_autoptr (TlMicrophone) mic = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (TlSettings) settings = NULL;
  g_autofree char *source = NULL;
  g_autofree char *description = NULL;
  gboolean microphone = FALSE;
  double thr_unlock = NAN, thr_lock = NAN;
  Run run = { 0 };
  const GOptionEntry entries[] = {
    { "microphone", 'm', 0, G_OPTION_ARG_NONE, &microphone, N_("Listen to the default microphone"), NULL },
    { "source", 0, 0, G_OPTION_ARG_STRING, &source, N_("Listen to this GStreamer source instead"), N_("DESCRIPTION") },
    { "unlock-threshold", 0, 0, G_OPTION_ARG_DOUBLE, &thr_unlock, N_("Score “unlock” must reach"), N_("SCORE") },
    { "lock-threshold", 0, 0, G_OPTION_ARG_DOUBLE, &thr_lock, N_("Score “lock” must reach"), N_("SCORE") },
    { NULL }
  };

  if (argc >= 2 && g_str_equal (argv[1], "eval"))
    return tl_ctl_kws_eval (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "train"))
    return tl_ctl_kws_train (argc - 1, argv + 1);

  g_option_context_set_summary (context,
    _("Prints one line per detection: phrase, start and end (seconds), score.\n"
      "“twinlockctl kws eval CORPUS [--json] [--det OUT.png]” measures a corpus; "
      "“twinlockctl kws train CORPUS -o MODEL” trains the verifier."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (context, &argc, &argv))
    return 2;
  /* The app's settings (sensitivity, microphone) apply here too when the
   * schema is installed; the command line overrides them. */
  if (tl_settings_schema_installed ())
    settings = tl_settings_new ();
  if (microphone || source)
    {
      if (argc != 1)
        return tl_ctl_fail (_("give either a file or --microphone, not both"));
      description = g_strdup (source);
      if (description == NULL && settings != NULL &&
          *tl_settings_get_microphone_source (settings) != '\0')
        description = g_strdup (tl_settings_get_microphone_source (settings));
      run.live = TRUE;
    }
  else
    {
      if (argc != 2)
        return tl_ctl_fail (_("give one audio file, or --microphone"));
      if (!g_file_test (argv[1], G_FILE_TEST_IS_REGULAR))
        return tl_ctl_fail (_("“%s” does not exist or is not a file"), argv[1]);
      description = file_source (argv[1]);
    }

  spotter = tl_keyword_spotter_new (NULL, &error);
  if (spotter == NULL)
    return tl_ctl_fail ("%s", error->message);
  if (settings != NULL)
    tl_keyword_spotter_apply_thresholds (spotter, tl_settings_get_keyword_thresholds (settings));
  if (!isnan (thr_unlock))
    tl_keyword_spotter_set_threshold (spotter, "unlock", thr_unlock);
  if (!isnan (thr_lock))
    tl_keyword_spotter_set_threshold (spotter, "lock", thr_lock);

  loop = g_main_loop_new (NULL, FALSE);
  run.loop = loop;
  run.spotter = spotter;
  g_signal_connect (spotter, "detected", G_CALLBACK (on_detected), &run);
  g_signal_connect_swapped (spotter, "finished", G_CALLBACK (g_main_loop_quit), loop);
  g_signal_connect (spotter, "failed", G_CALLBACK (on_failed), &run);

  mic = tl_microphone_new (description);
  tl_microphone_set_sample_func (mic, on_samples, g_object_ref (spotter), g_object_unref);
  g_signal_connect (mic, "notify::state", G_CALLBACK (on_state), &run);
  if (!tl_microphone_start (mic, &error))
    return tl_ctl_fail ("%s", error->message);
  if (run.live)
    {
      g_unix_signal_add (SIGINT, on_interrupt, &run);
      g_printerr (_("Listening; say “unlock” or “lock”. Ctrl+C stops.\n"));
    }
  g_main_loop_run (loop);
  tl_microphone_stop (mic);
  g_signal_handlers_disconnect_by_data (spotter, &run);
  g_signal_handlers_disconnect_by_data (mic, &run);
  if (run.error)
    {
      int rc = tl_ctl_fail ("%s", run.error);
      g_free (run.error);
      return rc;
    }
  return 0;
}
