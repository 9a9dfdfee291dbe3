/* tl-version.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-version.h"

const char *
tl_version_string (void)
{
  return PACKAGE_VERSION;
}
