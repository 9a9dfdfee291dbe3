/* tl-nn-rows.c — products of a few rows by a large matrix
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * C = α·A·B + β·C where A has one to four rows (a network's dense layer
 * or a 1×1 map's convolution at batch 1 or 2) and B is large: each of
 * B's values is used once or twice, so the time is reading B, which
 * within a network's pass comes from memory.  B's rows are read in order,
 * each row's stretch of columns once for all of A's rows, the sums kept
 * in a small buffer in L1.  Every column's sum runs over k in order
 * whatever stretch of columns a call gets, so splitting the columns over
 * threads (tl_gemm ()) gives the same bits as one call.
 */
#include "config.h"

#include "tl-nn-private.h"
#include "tl-nn-simd.h"

/* columns summed at a time (a multiple of 8): 1 KiB of sums a row */
#define STRETCH 256

SIMD static void
rows_stretch (int                   m,
              int                   n,
              int                   k,
              float                 alpha,
              const float *restrict a,
              int                   lda,
              const float *restrict b,
              int                   ldb,
              float                 beta,
              float *restrict       c,
              int                   ldc)
{
  float sum[TL_NN_FEW_ROWS][STRETCH] __attribute__ ((aligned (32)));
  const int n8 = n / 8 * 8;

  for (int i = 0; i < m; i++)
    memset (sum[i], 0, (size_t) n * sizeof (float));
  for (int p = 0; p < k; p++)
    {
      const float *restrict bp = b + (size_t) p * ldb;

      for (int i = 0; i < m; i++)
        {
          const float x = a[(size_t) i * lda + p];
          const v8sf xv = { x, x, x, x, x, x, x, x };
          float *restrict s = sum[i];
          int j = 0;

          for (; j < n8; j += 8)
            store8 (s + j, load8 (s + j) + xv * load8 (bp + j));
          for (; j < n; j++)
            s[j] = s[j] + x * bp[j];
        }
    }
  for (int i = 0; i < m; i++)
    {
      float *restrict ci = c + (size_t) i * ldc;

      if (beta == 0.0f)
        for (int j = 0; j < n; j++)
          ci[j] = alpha * sum[i][j];
      else
        for (int j = 0; j < n; j++)
          ci[j] = alpha * sum[i][j] + beta * ci[j];
    }
}

void
tl_nn_gemm_few_rows (int          m,
                     int          n,
                     int          k,
                     float        alpha,
                     const float *a,
                     int          lda,
                     const float *b,
                     int          ldb,
                     float        beta,
                     float       *c,
                     int          ldc)
{
  for (int j = 0; j < n; j += STRETCH)
    rows_stretch (m, n - j < STRETCH ? n - j : STRETCH, k, alpha, a, lda, b + j, ldb,
                  beta, c + j, ldc);
}
