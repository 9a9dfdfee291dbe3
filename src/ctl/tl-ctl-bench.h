/* tl-ctl-bench.h — `twinlockctl bench`: the sub-benchmark table
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each sub-benchmark lives in its own file (tl-ctl-bench-NAME.c) and adds
 * one line to the table in tl-ctl-bench.c.  It gets argv with argv[0] =
 * its own name, prints figures it measured (human-readable, or one JSON
 * object with --json) and returns an exit status.
 */
#pragma once

#include <time.h>

#include "tl-ctl.h"

G_BEGIN_DECLS

typedef struct
{
  const char *name;
  const char *summary;   /* untranslated; marked with N_() */
  TlCtlFunc   func;
} TlCtlBench;

/* For the suites: a clock in milliseconds (CLOCK_MONOTONIC,
 * CLOCK_THREAD_CPUTIME_ID …); qsort's order of doubles; the median of @n
 * values (sorts them; the mean of the middle two for an even @n); the
 * 1-minute load average, to judge how busy the machine was (-1 if it is
 * unknown). */
double tl_ctl_bench_clock_ms        (clockid_t   id);
int    tl_ctl_bench_compare_doubles (const void *a,
                                     const void *b);
double tl_ctl_bench_median          (double     *x,
                                     int         n);
double tl_ctl_bench_load_average    (void);

int tl_ctl_bench    (int argc, char **argv);
int tl_ctl_bench_nn (int argc, char **argv);
int tl_ctl_bench_faces (int argc, char **argv);
int tl_ctl_bench_kws (int argc, char **argv);

G_END_DECLS
