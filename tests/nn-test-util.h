/* nn-test-util.h — helpers shared by the nn test suites
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <math.h>

#include "tl-nn.h"

/* Deterministic floats in [-1, 1). */
static inline void
nn_test_fill (float   *x,
              size_t   n,
              guint32  seed)
{
  GRand *rand = g_rand_new_with_seed (seed);

  for (size_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  g_rand_free (rand);
}

static inline float *
nn_test_new (size_t  n,
             guint32 seed)
{
  float *x = tl_nn_alloc (n * sizeof (float));

  if (seed != 0)
    nn_test_fill (x, n, seed);
  return x;
}

static inline double
nn_test_max_diff (const float *a,
                  const float *b,
                  size_t       n)
{
  double m = 0.0;

  for (size_t i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - b[i]);
      if (d > m || isnan (d))
        m = isnan (d) ? INFINITY : d;
    }
  return m;
}

/* Max |fast − ref| over (1 + max |ref|): the rounding error of float sums
 * grows with the values summed. */
static inline double
nn_test_scaled_diff (const float *fast,
                     const float *ref,
                     size_t       n)
{
  double big = 0.0;

  for (size_t i = 0; i < n; i++)
    big = MAX (big, fabs (ref[i]));
  return nn_test_max_diff (fast, ref, n) / (1.0 + big);
}

/* Compares and prints the max difference, failing past tol. */
#define nn_test_assert_close(what, a, b, n, tol)                          \
  G_STMT_START {                                                          \
    double d_ = nn_test_max_diff ((a), (b), (n));                         \
    g_test_message ("%s: max |diff| = %.3g (tolerance %.3g)", (what), d_, \
                    (double) (tol));                                      \
    if (!(d_ <= (tol)))                                                   \
      g_test_fail_printf ("%s: max |diff| %.3g > %.3g", (what), d_,       \
                          (double) (tol));                                \
  } G_STMT_END
