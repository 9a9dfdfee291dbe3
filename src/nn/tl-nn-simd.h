/* tl-nn-simd.h — what the engine's vectorised kernel files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Include once, before any function, from a kernel file only: it turns
 * on -O3 for the rest of that file.
 */
#pragma once

#include <string.h>

#include "tl-nn-layers.h"

/* Memory-bound loops are only fast vectorised: -O3 here, and an AVX2/FMA
 * clone chosen at run time. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize ("O3")
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SIMD __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define SIMD
#endif

/* Eight floats in a vector (two SSE registers in the portable clone): the
 * compiler will not keep sixteen scalar accumulators in vectors itself. */
typedef float v8sf __attribute__ ((vector_size (32)));
typedef int v8si __attribute__ ((vector_size (32)));

static inline __attribute__ ((always_inline)) v8sf
load8 (const float *p)
{
  v8sf v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline __attribute__ ((always_inline)) void
store8 (float *p, v8sf v)
{
  memcpy (p, &v, sizeof v);
}

/* The convolutions' activation s->act (TL_CONV_ACT_*) on eight floats. */
static inline __attribute__ ((always_inline)) v8sf
tl_nn_act8 (v8sf                 v,
            const TlConv2dShape *s)
{
  if (s->act == TL_CONV_ACT_RELU)
    {
      v8si keep = v > (v8sf) { 0 };
      return (v8sf) ((v8si) v & keep);
    }
  if (s->act == TL_CONV_ACT_LEAKY)
    {
      v8sf t = s->slope * v;
      v8si keep = v > t;
      return (v8sf) (((v8si) v & keep) | ((v8si) t & ~keep));
    }
  return v;
}
