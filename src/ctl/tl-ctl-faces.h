/* tl-ctl-faces.h — twinlockctl's face commands
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int tl_ctl_import      (int argc, char **argv);
int tl_ctl_verify      (int argc, char **argv);
int tl_ctl_eval        (int argc, char **argv);

G_END_DECLS
