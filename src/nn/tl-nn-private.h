/* tl-nn-private.h — engine internals shared between its files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tl-nn-layers.h"

/* Hot element-wise loops: vectorised (GCC's -O2 leaves most loops scalar),
 * short copies kept as inline loops rather than memcpy calls, and built
 * twice, for AVX2 and for baseline x86-64, the better one picked when the
 * program loads. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TL_NN_HOT __attribute__ ((target_clones ("avx2", "default"), \
                                  optimize ("O3", "no-tree-loop-distribute-patterns")))
#else
#define TL_NN_HOT
#endif

/* n rounded up to a multiple of 16 floats (64 bytes): workspace parts
 * carved one after the other stay aligned. */
static inline size_t
tl_nn_round16 (size_t n)
{
  return (n + 15) & ~(size_t) 15;
}

/* tl_gemm () on the calling thread only (BLIS single-threaded). */
void tl_gemm_1 (bool trans_a, bool trans_b, int m, int n, int k,
                float alpha, const float *a, int lda,
                const float *b, int ldb,
                float beta, float *c, int ldc);

/* C = alpha·A·B + beta·C, no transposes, for m <= TL_NN_FEW_ROWS on the
 * calling thread (tl-nn-rows.c): each column summed over k in order, so
 * columns split over threads give the same bits as one call. */
#define TL_NN_FEW_ROWS 4
void tl_nn_gemm_few_rows (int m, int n, int k, float alpha,
                          const float *a, int lda, const float *b, int ldb,
                          float beta, float *c, int ldc);

/* tl_nn_alloc (), but from 1 MiB on aligned to 2 MiB and rounded up to
 * whole 2 MiB pages, asked to be backed by transparent huge pages
 * (madvise MADV_HUGEPAGE), for weights streamed from memory on every
 * pass.  Free with tl_nn_free (). */
void *tl_nn_alloc_huge (size_t bytes);

/* Runs fn (ctx, i) for every i in [0, n) on up to tl_nn_get_threads ()
 * threads, the caller's included, and returns when all have run.  Chunks
 * are claimed one at a time, so a worker the OS does not schedule in time
 * (the machine is busy) costs only parallelism: the caller takes its
 * chunks; when calls take longer than the caller alone would (a worker
 * taken away while holding a chunk), the caller runs the next calls alone
 * for a while (tl-nn-pool.c).  Calls from several threads at once are safe; the later ones run
 * their chunks serially. */
void tl_nn_parallel (int    n,
                     void (*fn) (void *ctx, int i),
                     void  *ctx);
/* Between tl_nn_pool_hold () and tl_nn_pool_release () (a network's
 * pass: many calls in a row), the workers wait for the next call
 * spinning, for up to 2 ms, instead of sleeping.  Holds nest and may
 * come from several threads. */
void tl_nn_pool_hold    (void);
void tl_nn_pool_release (void);
/* Posts `bytes` from p (the next layer's weights) for the threads that
 * wait in the pool (a worker between a held pass's calls, a caller for
 * the last chunks) to prefetch meanwhile, instead of only pausing; NULL
 * posts nothing.  Replaces what was posted before. */
void tl_nn_pool_prefetch (const void *p, size_t bytes);
/* Ends a fallback to one thread now (for tests and benchmarks of the
 * workers themselves). */
void tl_nn_pool_forget_lag (void);

/* The patches of a convolution's input, cols [n·oh·ow][kh·kw·c] (groups
 * laid out as in tl-nn-conv.c), split over the engine's threads; cols
 * holds tl_conv2d_workspace (s) floats. */
void tl_conv2d_im2col (float               *cols,
                       const float         *in,
                       const TlConv2dShape *s);
