/* tl-about.h — the about window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The versions of the parts Twinlock runs on, one "name version" a line,
 * as shown in the about window's troubleshooting section. */
char      *tl_about_get_component_versions (void);

GtkWidget *tl_about_show                   (GtkWindow *parent);

G_END_DECLS
