/* test-version.c — the version the tools report is the project's
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "tl-version.h"

static void
test_version_string (void)
{
  g_assert_cmpstr (tl_version_string (), ==, PACKAGE_VERSION);
}

static void
test_version_ctl (void)
{
  const char *ctl = g_getenv ("TWINLOCKCTL");
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  const char *argv[] = { ctl, "--version", NULL };

  g_assert_nonnull (ctl);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  expected = g_strdup_printf ("twinlockctl %s\n", PACKAGE_VERSION);
  g_assert_true (g_str_has_prefix (out, expected));
}

static void
test_unknown_command (void)
{
  const char *ctl = g_getenv ("TWINLOCKCTL");
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  const char *argv[] = { ctl, "no-such-command", NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                NULL, &err, &status, &error);
  g_assert_no_error (error);
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (err, "no-such-command"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/core/version/string", test_version_string);
  g_test_add_func ("/twinlock/ctl/version", test_version_ctl);
  g_test_add_func ("/twinlock/ctl/unknown-command", test_unknown_command);
  return g_test_run ();
}
