/* tl-nn-fast.h — vectorised forward kernels for the shapes the face
 * networks spend their time in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each is compiled twice — an AVX2/FMA clone picked at run time on CPUs
 * that have it, and a portable one — and computes exactly what the
 * engine's generic kernel (its reference) computes, up to float rounding.
 * The engine's forward kernels call these first; a function returning
 * false means "shape not handled here", and the generic path runs.
 */
#pragma once

#include "tl-nn-layers.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Depthwise k×k with channel multiplier 1 (groups == c == oc), and direct
 * convolution for few input channels (c <= 4, oc a multiple of 16, k <= 7:
 * the first layer on an RGB image, where an im2col GEMM has too short a K
 * or, for the encoder's 7×7 stem, costs more in copying patches).
 * Both split their output rows over the engine's threads (from
 * TL_NN_SPLIT_MIN_FLOPS on). */
bool tl_nn_fast_conv2d_forward (float *out, const float *in, const float *w,
                                const float *b, const TlConv2dShape *s);

/* The few-input-channel direct convolution above for output rows
 * [row0, row1) counted over the batch, written from dst on (row0's first
 * pixel); bias added, no activation.  pairs: only the larger of each two
 * horizontal neighbours, the first half of a 2×2 max pool of stride 2
 * (rows ow / 2 long); for shapes tl_nn_fast_direct_pairs_ok () accepts. */
void tl_nn_fast_direct_rows (float *dst, const float *in, const float *w,
                             const float *b, const TlConv2dShape *s,
                             int row0, int row1, bool pairs);
bool tl_nn_fast_direct_pairs_ok (const TlConv2dShape *s);

/* A task is split over the engine's threads only when it has at least
 * this many FLOPs (about 0.04 ms of one core): below that, waking a
 * second thread costs more than it saves.  On a busy machine a thread the
 * OS runs late makes the whole task wait for its share (the landmark
 * net's 8 MFLOP chains split made it slower on two threads than on one
 * while other programs ran, 2.6–3.1 against 2.0–2.3 ms); the pool then
 * falls back to one thread by itself (tl-nn-pool.c).  On the idle machine
 * splitting them pays: landmarks on two threads, nine alternating
 * `bench faces -t 2 -n 200` runs, median 1.23 ms with 2 MFLOP here
 * against 2.00 ms with 16. */
#define TL_NN_SPLIT_MIN_FLOPS 2e6

/* tl_nn_parallel () for a task of `flops`: on the calling thread alone
 * below TL_NN_SPLIT_MIN_FLOPS. */
void tl_nn_parallel_work (int n, void (*fn) (void *ctx, int i), void *ctx,
                          double flops);

/* The convolutions' epilogue: out[r][q] = act (out[r][q] + b[q]) over
 * rows × oc, b may be NULL; act and slope as in s (TL_CONV_ACT_*). */
void tl_nn_fast_bias_act (float *out, const float *b, int rows, int oc,
                          const TlConv2dShape *s);

/* 2×2 max pool (any stride and padding). */
bool tl_nn_fast_maxpool_forward (float *out, const float *in,
                                 const TlPoolShape *s);

/* Element-wise; out may alias the inputs. */
void tl_nn_fast_relu      (float *out, const float *in, size_t n);
/* slope in [0, 1]: max (x, slope·x). */
void tl_nn_fast_leaky     (float *out, const float *in, float slope, size_t n);
void tl_nn_fast_add       (float *out, const float *a, const float *b, size_t n);
/* max (a + b, 0): a sum and the ReLU after it in one pass. */
void tl_nn_fast_add_relu  (float *out, const float *a, const float *b, size_t n);
/* The residual join of a down block in one pass: out [n][hp][wp][cout] =
 * pad (avgpool 2×2/2 (x)) + pad (y), then a ReLU when relu; x [n][h][w][cin]
 * (cin <= cout: the other channels of the pooled branch are zeros), y
 * [n][hy][wy][cout] (hy <= hp, wy <= wp: zeros at the bottom and right).
 * The additions and the scaling run as tl_avgpool_forward (),
 * tl_pad_forward () and the sum do them, so the bits are theirs.  out may
 * be y, never x. */
void tl_nn_fast_down_join (float *out, const float *x, const float *y, int n, int h,
                           int w, int cin, int hy, int wy, int hp, int wp, int cout,
                           bool relu);
/* out[m][c] = in·scale[c] + bias[c]; scale and bias non-NULL. */
void tl_nn_fast_scale_bias (float *out, const float *in, const float *scale,
                            const float *bias, int m, int c);

#ifdef __cplusplus
}
#endif
