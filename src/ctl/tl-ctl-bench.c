/* tl-ctl-bench.c — `twinlockctl bench SUITE`: dispatch to sub-benchmarks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tl-ctl-bench.h"

static const TlCtlBench benches[] = {
  { "nn", N_("BLIS kernels, sgemm peak, the face encoder's layers"), tl_ctl_bench_nn },
  { "faces", N_("Face detector, landmarks and encoder per face"), tl_ctl_bench_faces },
  { "kws", N_("Keyphrase search on speech, the keyword verifier per candidate"), tl_ctl_bench_kws },
  { NULL, NULL, NULL }
};

double
tl_ctl_bench_clock_ms (clockid_t id)
{
  struct timespec ts;

  clock_gettime (id, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
tl_ctl_bench_compare_doubles (const void *a,
                              const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

double
tl_ctl_bench_median (double *x,
                     int     n)
{
  if (n <= 0)
    return NAN;
  qsort (x, n, sizeof (double), tl_ctl_bench_compare_doubles);
  return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

double
tl_ctl_bench_load_average (void)
{
  double load[1];

  return getloadavg (load, 1) < 1 ? -1.0 : load[0];
}

static void
print_benches (FILE *out)
{
  fprintf (out, "%s\n\n", _("Usage: twinlockctl bench SUITE [--json] [OPTION…]"));
  fprintf (out, "%s\n", _("Suites:"));
  for (const TlCtlBench *b = benches; b->name != NULL; b++)
    fprintf (out, "  %-10s %s\n", b->name, _(b->summary));
}

int
tl_ctl_bench (int    argc,
              char **argv)
{
  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      print_benches (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  for (const TlCtlBench *b = benches; b->name != NULL; b++)
    if (g_str_equal (argv[1], b->name))
      return b->func (argc - 1, argv + 1);
  tl_ctl_fail (_("unknown benchmark “%s”; see “twinlockctl bench --help”"), argv[1]);
  return 2;
}
