/* tl-ctl-kws.h — `twinlockctl kws`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int tl_ctl_kws      (int argc, char **argv);
int tl_ctl_kws_eval (int argc, char **argv);
int tl_ctl_kws_train (int argc, char **argv);

G_END_DECLS
