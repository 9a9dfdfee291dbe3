/* tl-about.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <gst/gst.h>
#include <blis.h>

#include "tl-about.h"
#include "tl-nn.h"
#include "tl-version.h"

/* The face engine's speed depends on which BLIS kernels run (the engine
 * may override BLIS's own pick), so bug reports need that line. */
static void
append_engine_versions (GString *out)
{
  g_string_append_printf (out, "BLIS %s (%s threading)\n", bli_info_get_version_str (),
                          tl_nn_blis_threading ());
  g_string_append_printf (out, "BLIS kernels: %s, %d threads\n", tl_nn_kernels_name (),
                          tl_nn_get_threads ());
}

char *
tl_about_get_component_versions (void)
{
  GString *out = g_string_new (NULL);
  g_autofree char *gst = gst_version_string ();

  g_string_append_printf (out, "Twinlock %s\n", tl_version_string ());
  g_string_append_printf (out, "GTK %u.%u.%u\n", gtk_get_major_version (),
                          gtk_get_minor_version (), gtk_get_micro_version ());
  g_string_append_printf (out, "libadwaita %u.%u.%u\n", adw_get_major_version (),
                          adw_get_minor_version (), adw_get_micro_version ());
  g_string_append_printf (out, "%s\n", gst);
  g_string_append_printf (out, "GLib %u.%u.%u\n", glib_major_version,
                          glib_minor_version, glib_micro_version);
  append_engine_versions (out);
  return g_string_free (out, FALSE);
}

GtkWidget *
tl_about_show (GtkWindow *parent)
{
  const char *developers[] = { _("The Twinlock developers"), NULL };
  g_autofree char *versions = tl_about_get_component_versions ();
  g_autofree char *comments = NULL;
  GtkWidget *about;

  comments = g_strdup_printf (_("Opens for a known face and a spoken word.\n\n"
                                "Running on GTK %u.%u.%u and GStreamer %u.%u.%u."),
                              gtk_get_major_version (), gtk_get_minor_version (),
                              gtk_get_micro_version (), GST_VERSION_MAJOR, GST_VERSION_MINOR,
                              GST_VERSION_MICRO);
  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", parent,
                        "application-name", _("Twinlock"),
                        /* from the GResource, under the same name for the .Devel build */
                        "application-icon", "io.github.twinlock.Twinlock",
                        "developer-name", _("The Twinlock developers"),
                        "developers", developers,
                        "version", tl_version_string (),
                        "comments", comments,
                        "website", "https://github.com/twinlock/twinlock",
                        "issue-url", "https://github.com/twinlock/twinlock/issues",
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "copyright", "© 2026 The Twinlock developers",
                        "debug-info", versions,
                        "debug-info-filename", "twinlock-versions.txt",
                        /* Translators: your names, one per line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
  return about;
}
