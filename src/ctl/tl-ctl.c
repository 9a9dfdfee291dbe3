/* tl-ctl.c — twinlockctl's entry and command table
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "tl-ctl.h"
#include "tl-ctl-bench.h"
#include "tl-ctl-camera.h"
#include "tl-ctl-faces.h"
#include "tl-ctl-train.h"
#include "tl-nn.h"
#include "tl-version.h"

static const TlCtlCommand commands[] = {
  { "cameras", N_("List the cameras and their formats"), tl_ctl_cameras },
  { "snapshot", N_("Grab one camera frame into a PNG file"), tl_ctl_snapshot },
  { "bench", N_("Measure the engine and the pipeline (bench nn, …)"), tl_ctl_bench },
  { "train", N_("Train a twin face encoder from a folder per person"), tl_ctl_train },
  { "latency", N_("Measure the camera’s delay and frame rate"), tl_ctl_latency },
  { "import", N_("Convert pretrained weights (import faceapi DIR)"), tl_ctl_import },
  { "verify", N_("Compare the faces in two photos"), tl_ctl_verify },
  { "eval", N_("Accuracy of the face pipeline (eval lfw, eval folders)"), tl_ctl_eval },
  { NULL, NULL, NULL }
};

int
tl_ctl_fail (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("twinlockctl: %s\n", message);
  return 1;
}

gboolean
tl_ctl_parse (GOptionContext  *context,
              int             *argc,
              char          ***argv)
{
  g_autoptr (GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      tl_ctl_fail ("%s", error->message);
      return FALSE;
    }
  return TRUE;
}

static void
print_version (void)
{
  g_print ("twinlockctl %s\n", tl_version_string ());
  g_print ("%s: %s, %d threads\n", _("BLIS kernels"), tl_nn_kernels_name (),
           tl_nn_get_threads ());
}

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n\n", _("Usage: twinlockctl COMMAND [OPTION…]"));
  fprintf (out, "%s\n", _("Commands:"));
  for (const TlCtlCommand *c = commands; c->name != NULL; c++)
    fprintf (out, "  %-12s %s\n", c->name, _(c->summary));
  fprintf (out, "\n%s\n", _("Run “twinlockctl COMMAND --help” for a command’s options."));
  fprintf (out, "%s\n", _("  --version    Print the version and the engine in use"));
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2)
    {
      print_usage (stderr);
      return 2;
    }
  if (g_str_equal (argv[1], "--version") || g_str_equal (argv[1], "version"))
    {
      print_version ();
      return 0;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      print_usage (stdout);
      return 0;
    }

  for (const TlCtlCommand *c = commands; c->name != NULL; c++)
    if (g_str_equal (argv[1], c->name))
      return c->func (argc - 1, argv + 1);

  tl_ctl_fail (_("unknown command “%s”; see “twinlockctl --help”"), argv[1]);
  return 2;
}
