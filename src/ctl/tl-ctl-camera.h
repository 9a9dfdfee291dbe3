/* tl-ctl-camera.h — twinlockctl cameras / snapshot / latency
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int tl_ctl_cameras  (int    argc,
                     char **argv);
int tl_ctl_snapshot (int    argc,
                     char **argv);
int tl_ctl_latency  (int    argc,
                     char **argv);

G_END_DECLS
