/* tl-ctl.h — twinlockctl command table
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A command gets argv with argv[0] = its own name and returns an exit status.
 * Errors go to stderr as one line a person can act on; results to stdout. */
typedef int (*TlCtlFunc) (int argc, char **argv);

typedef struct
{
  const char *name;
  const char *summary;   /* untranslated; marked with N_() */
  TlCtlFunc   func;
} TlCtlCommand;

/* Prints "twinlockctl: <message>" to stderr and returns 1. */
int tl_ctl_fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* Parses a GOptionContext for a command; prints the error and returns FALSE. */
gboolean tl_ctl_parse (GOptionContext  *context,
                       int             *argc,
                       char          ***argv);

G_END_DECLS
