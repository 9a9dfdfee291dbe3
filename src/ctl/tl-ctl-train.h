/* tl-ctl-train.h — `twinlockctl train`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tl-ctl.h"

G_BEGIN_DECLS

int tl_ctl_train (int argc, char **argv);

G_END_DECLS
