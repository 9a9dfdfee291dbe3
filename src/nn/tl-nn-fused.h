/* tl-nn-fused.h — a chain of layers run band by band, its intermediate
 * tensors never leaving the cache
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The separable blocks of the face detector and the landmark net, and the
 * detector's first layer, are memory-bound when each layer makes its own
 * pass over the image: a depthwise output is written only to be read back
 * by the pointwise convolution, a convolution's output only to be read
 * back by the max pool after it.  A chain is
 *
 *   [depthwise 3×3]  →  conv + bias [+ residual] + act  →  [2×2 max pool]
 *                                              └→ [act2: a second output]
 *
 * where conv is a pointwise 1×1 (stride 1, unpadded, after the depthwise)
 * or, without the depthwise, the direct few-input-channel convolution of
 * tl-nn-fast.h (up to 7×7: the encoder's stem, whose 3×3 max pool of
 * stride 2 the chain also runs, its bands in steps that keep the
 * convolution row two steps share).  The residual (a tensor of the
 * conv's output shape) and the second output are for the landmark net's
 * dense blocks, where each separable convolution's output is added to
 * the running sum of the ones before, and the sum goes on both as it is
 * and through a ReLU.
 *
 * A chain runs in bands of output rows, spread over the engine's threads
 * when it is large enough (TL_NN_SPLIT_MIN_FLOPS): each band's depthwise
 * rows go to a small buffer the pointwise product reads at once (a 6×16
 * register kernel up to 64 input channels, BLIS above), and the
 * convolution's rows to another the pool reads at once; an activation
 * before the pool runs after it, on a quarter of the values (both are
 * monotonic: the same values).  Only the chain's outputs go to memory.
 *
 * The reference is the layers one after the other (tl_conv2d_forward_ref
 * with its activation, then a max pool); tests/test-nn-fused.c compares,
 * and runs the face networks with and without chains.
 */
#pragma once

#include "tl-nn-layers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct
{
  bool          has_dw, has_pool, has_residual;
  TlConv2dShape dw;           /* k×k depthwise, channel multiplier 1 */
  TlConv2dShape conv;         /* its act is applied (after the residual) */
  TlPoolShape   pool;         /* k == 2, or 3 of stride 2 without the depthwise */
  int           act2;         /* TL_CONV_ACT_*: NONE for no second output */
  float         slope2;
  /* set by tl_nn_chain_plan () */
  int           band_rows;    /* output rows of the chain per band */
  int           pool_step;    /* a 3×3 pool's output rows per step in a band */
  int           slots;        /* threads it may run on (the most planned for) */
  bool          split;        /* over the threads; false: on the caller's alone */
  size_t        slot_floats;  /* scratch of one band */
} TlNnChain;

/* Checks that the chain is one this file runs (shapes that follow each
 * other, batch 1 or more) and plans its bands for up to `threads` threads
 * at once.  False: run the layers one by one. */
bool   tl_nn_chain_plan      (TlNnChain *c, int threads);
/* Scratch for tl_nn_chain_forward (), in floats. */
size_t tl_nn_chain_workspace (const TlNnChain *c);
/* Multiply-adds ×2 of the chain's convolutions. */
double tl_nn_chain_flops     (const TlNnChain *c);
typedef struct
{
  float       *out;           /* the last layer's output */
  float       *out2;          /* act2 (out), when c->act2 says so */
  const float *in;
  const float *residual;      /* when c->has_residual */
  const float *dw_w, *dw_b;   /* dw_b may be NULL */
  const float *w, *b;         /* b may be NULL */
} TlNnChainArgs;

/* A split chain must not run on more threads than planned for: the
 * caller checks tl_nn_get_threads () <= c->slots. */
void   tl_nn_chain_forward   (const TlNnChainArgs *a, const TlNnChain *c,
                              float *ws);

/* Depthwise k×k, channel multiplier 1, with bias (may be NULL) and act,
 * when c is a multiple of 8 and k == 3: a kernel that keeps the nine taps
 * of eight channels in registers along a row.  False: not handled. */
bool   tl_nn_depthwise3_forward (float *out, const float *in, const float *w,
                                 const float *b, const TlConv2dShape *s);

#ifdef __cplusplus
}
#endif
