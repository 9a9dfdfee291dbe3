/* test-nn-kernels.c — the BLIS kernel choice never picks kernels the CPU
 * cannot run, and picks fast ones when the CPU has them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "tl-nn.h"

/* Every combination of the features the choice looks at, for both vendors. */
static void
test_choice_table (void)
{
  static const char *vendors[] = { "AuthenticAMD", "GenuineIntel", "Other" };

  for (guint v = 0; v < G_N_ELEMENTS (vendors); v++)
    for (guint bits = 0; bits < (1u << 7); bits++)
      {
        TlNnCpu cpu = { 0 };
        const char *best;

        g_strlcpy (cpu.vendor, vendors[v], sizeof cpu.vendor);
        cpu.avx = bits & 1;
        cpu.avx2 = cpu.avx && (bits & 2);
        cpu.fma = cpu.avx && (bits & 4);
        cpu.avx512f = bits & 8;
        cpu.avx512dq = bits & 16;
        cpu.avx512bw = bits & 32;
        cpu.avx512vl = bits & 64;
        best = tl_nn_arch_best (&cpu);

        g_assert_true (tl_nn_arch_runs (&cpu, best));
        if (!(cpu.avx512f && cpu.avx512dq && cpu.avx512bw && cpu.avx512vl))
          g_assert_cmpstr (best, !=, "skx");
        if (!(cpu.avx2 && cpu.fma))
          g_assert_false (g_str_has_prefix (best, "zen") || g_str_equal (best, "haswell"));
        if (cpu.avx2 && cpu.fma)
          g_assert_cmpstr (best, !=, "generic");
        if (cpu.avx2 && cpu.fma && cpu.avx512f && cpu.avx512dq && cpu.avx512bw && cpu.avx512vl)
          g_assert_cmpstr (best, ==, "skx");
      }
  /* kernels it does not check for are never said to run */
  {
    TlNnCpu all = { .avx = 1, .avx2 = 1, .fma = 1, .avx512f = 1, .avx512dq = 1,
                    .avx512bw = 1, .avx512vl = 1, .vendor = "GenuineIntel" };
    g_assert_false (tl_nn_arch_runs (&all, "knl"));
    g_assert_false (tl_nn_arch_runs (&all, "bulldozer"));
    g_assert_false (tl_nn_arch_runs (&all, "no-such-arch"));
  }
}

/* The decision on CPUs this machine is not: BLIS's generic pick on an
 * AVX-512 CPU is overridden with skx, on an AVX2 one with its vendor's
 * AVX2 set; a pick or request the CPU cannot run is never kept. */
static void
test_decide (void)
{
  TlNnCpu avx512 = { .avx = 1, .avx2 = 1, .fma = 1, .avx512f = 1, .avx512dq = 1,
                     .avx512bw = 1, .avx512vl = 1, .vendor = "AuthenticAMD",
                     .family = 0x19, .model = 0x11 };
  TlNnCpu avx2 = { .avx = 1, .avx2 = 1, .fma = 1, .vendor = "AuthenticAMD",
                   .family = 0x19, .model = 0x01 };
  TlNnCpu intel = { .avx = 1, .avx2 = 1, .fma = 1, .vendor = "GenuineIntel" };
  TlNnCpu old = { .vendor = "GenuineIntel" };              /* not even SSSE3 */
  char line[160];
  int id;

  g_assert_cmpstr (tl_nn_arch_decide (&avx512, NULL, "generic", &id, line, sizeof line), ==, "skx");
  g_test_message ("%s", line);
  g_assert_cmpint (id, ==, 0);                             /* arch_t BLIS_ARCH_SKX */
  g_assert_nonnull (strstr (line, "chosen by Twinlock; BLIS picked generic"));

  g_assert_cmpstr (tl_nn_arch_decide (&avx512, NULL, NULL, &id, line, sizeof line), ==, "skx");
  g_assert_cmpstr (tl_nn_arch_decide (&avx512, NULL, "skx", &id, line, sizeof line), ==, "skx");
  g_assert_cmpint (id, ==, -1);                            /* BLIS's own pick stays */

  g_assert_cmpstr (tl_nn_arch_decide (&avx2, NULL, "generic", &id, line, sizeof line), ==, "zen3");
  g_assert_cmpint (id, ==, 6);
  g_assert_cmpstr (tl_nn_arch_decide (&avx2, NULL, "zen3", &id, line, sizeof line), ==, "zen3");
  g_assert_cmpint (id, ==, -1);
  /* kernels the CPU would fault on: neither BLIS's pick nor a request */
  g_assert_cmpstr (tl_nn_arch_decide (&avx2, NULL, "skx", &id, line, sizeof line), ==, "zen3");
  g_assert_cmpstr (tl_nn_arch_decide (&avx2, "0", "zen3", &id, line, sizeof line), ==, "zen3");
  g_assert_cmpint (id, ==, -1);
  g_assert_cmpstr (tl_nn_arch_decide (&avx2, "3", "zen3", &id, line, sizeof line), ==, "haswell");
  g_assert_cmpint (id, ==, 3);
  g_assert_cmpstr (tl_nn_arch_decide (&avx2, "3; rm", "zen3", &id, line, sizeof line), ==, "zen3");

  g_assert_cmpstr (tl_nn_arch_decide (&intel, NULL, "generic", &id, line, sizeof line), ==, "haswell");
  g_assert_cmpstr (tl_nn_arch_decide (&old, NULL, "haswell", &id, line, sizeof line), ==, "generic");
  g_assert_cmpint (id, ==, 25);                            /* BLIS_ARCH_GENERIC */
  g_test_message ("%s", line);
}

static gboolean
cpuinfo_has (const char *flags,
             const char *flag)
{
  g_autofree char *needle = g_strconcat (" ", flag, " ", NULL);

  return strstr (flags, needle) != NULL;
}

/* This machine: detection agrees with the kernel's view, and the kernels
 * BLIS runs are ones the CPU can run. */
static void
test_this_cpu (void)
{
  TlNnCpu cpu;
  g_autofree char *info = NULL;
  const char *arch = tl_nn_kernels_arch ();

  tl_nn_cpu_detect (&cpu);
  g_test_message ("CPU %s family %#x model %#x: avx2 %d fma %d avx512f/dq/bw/vl %d%d%d%d",
                  cpu.vendor, cpu.family, cpu.model, cpu.avx2, cpu.fma, cpu.avx512f,
                  cpu.avx512dq, cpu.avx512bw, cpu.avx512vl);
  g_test_message ("kernels: %s", tl_nn_kernels_name ());
  g_assert_true (tl_nn_arch_runs (&cpu, arch));
  if (cpu.avx2 && cpu.fma)
    g_assert_cmpstr (arch, !=, "generic");

  if (g_file_get_contents ("/proc/cpuinfo", &info, NULL, NULL))
    {
      const char *flags = strstr (info, "\nflags");
      g_autofree char *first = NULL, *line = NULL;

      if (flags == NULL)
        return;
      first = g_strndup (flags, strcspn (flags + 1, "\n") + 1);
      line = g_strconcat (first, " ", NULL);
      /* the OS may hide a feature the CPU has (then cpuinfo drops it too) */
      g_assert_cmpint (cpu.avx2, ==, cpuinfo_has (line, "avx2"));
      g_assert_cmpint (cpu.fma, ==, cpuinfo_has (line, "fma"));
      g_assert_cmpint (cpu.avx512f, ==, cpuinfo_has (line, "avx512f"));
    }
}

/* Whatever BLIS_ARCH_TYPE says, twinlockctl starts, and runs kernels this
 * CPU can execute (BLIS itself would abort on ids it lacks). */
static void
test_env_override (void)
{
  const char *ctl = g_getenv ("TWINLOCKCTL");
  TlNnCpu cpu;

  if (ctl == NULL)
    {
      g_test_skip ("TWINLOCKCTL not set (run through meson test)");
      return;
    }
  tl_nn_cpu_detect (&cpu);
  for (int id = -1; id <= 30; id++)
    {
      g_autofree char *value = id < 0 ? g_strdup ("zen3; rm -rf") : g_strdup_printf ("%d", id);
      g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "BLIS_ARCH_TYPE", value, TRUE);
      const char *argv[] = { ctl, "--version", NULL };
      g_autofree char *out = NULL;
      g_autoptr (GError) error = NULL;
      int status;
      const char *line;
      g_autofree char *arch = NULL;

      g_assert_true (g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL,
                                   &out, NULL, &status, &error));
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      line = strstr (out, "BLIS kernels: ");
      g_assert_nonnull (line);
      line += strlen ("BLIS kernels: ");
      arch = g_strndup (line, strcspn (line, " ,\n"));
      if (id == 0 || id == 6)
        g_test_message ("BLIS_ARCH_TYPE=%s → %s", value, arch);
      g_assert_true (tl_nn_arch_runs (&cpu, arch));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/twinlock/nn/kernels/choice-table", test_choice_table);
  g_test_add_func ("/twinlock/nn/kernels/decide", test_decide);
  g_test_add_func ("/twinlock/nn/kernels/this-cpu", test_this_cpu);
  g_test_add_func ("/twinlock/nn/kernels/env-override", test_env_override);

  return g_test_run ();
}
