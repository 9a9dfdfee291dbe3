/* tl-nn-quant.h — convolutions whose weights are 8-bit codes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A uint8-quantised model file (TensorFlow.js's format, face-api's
 * weights) stores each weight tensor as codes q = 0..255 with one scale
 * and minimum: w = q·scale + min.  A per-channel scale folded into the
 * convolution afterwards (tl_net_fold ()) keeps every output channel's
 * column on a grid of its own:
 *
 *   w[k][o] = a[o]·q[k][o] + b[o],   k over kh·kw·c, q in 0..255
 *
 * Stored as those codes, a convolution's weights are a quarter of the
 * bytes to read from memory, which is what the deep layers of an encoder
 * at batch 1 wait for (a few output pixels, megabytes of weights); the
 * kernel turns a block of codes back into floats in cache and runs the
 * usual multiply-adds on them, so the results are the float
 * convolution's up to rounding.  Nothing is rounded to the grid: weights
 * that are not already on one are refused (tl_quant_weights_find ()).
 *
 * Layout (tl_quant_weights_bytes () bytes, 64-byte aligned): a[oc],
 * b[oc] as floats, then the codes in panels of 16 output channels,
 * [oc / 16][k][16], so that each panel is one stream in the order the
 * kernel reads it.
 */
#pragma once

#include <stdint.h>

#include "tl-nn-layers.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Whether s runs faster on codes (when its weights lie on a grid): a GEMM
 * over patches (tl_conv2d_patches_apply ()), or one tap's product when
 * only that tap ever meets the image (a "same" convolution of a 1×1 map),
 * with few output pixels, up to 64, and oc a multiple of 16. */
bool   tl_quant_conv2d_applies     (const TlConv2dShape *s);

/* The rows k of s's codes (a [k][oc] matrix) and where in its weights w
 * [kh][kw][c][oc] they start (*from floats): all kh·kw·c rows, or the
 * one tap's c (tl_conv2d_weights_read ()). */
int    tl_quant_conv2d_rows        (const TlConv2dShape *s, size_t *from);

/* Bytes of the codes of a [k][oc] weight matrix (oc a multiple of 16). */
size_t tl_quant_weights_bytes      (int k, int oc);

/* Finds each column's grid in w [k][oc] and fills qw (tl_quant_weights_bytes
 * () bytes).  A column is on a grid when its values are b + a·q for
 * integers q in 0..255, each within max_err_rel·(the column's largest
 * magnitude): a few float roundings, what folding a scale into quantised
 * weights leaves.  Returns false (qw undefined) when a column is not.
 * *max_err gets the largest |a·q + b − w| relative to its column's
 * largest magnitude (may be NULL). */
bool   tl_quant_weights_find       (uint8_t *qw, const float *w, int k, int oc,
                                    double max_err_rel, double *max_err);

/* w [k][oc] = a·q + b, as the kernel computes it. */
void   tl_quant_weights_dequantise (float *w, const uint8_t *qw, int k, int oc);

/* out = act (conv (in, w) + b) with w given by its codes qw (the
 * tl_quant_conv2d_rows () rows); b may be NULL; ws holds
 * tl_conv2d_workspace (s) floats.  Split by panels of
 * output channels over the engine's threads. */
void   tl_quant_conv2d_forward     (float *out, const float *in, const uint8_t *qw,
                                    const float *b, const TlConv2dShape *s,
                                    float *ws);
/* c [m][n] = x [m][k] × w [k][n] on the calling thread, with w16 holding
 * a[n], b[n] as floats, then int16 codes q in panels [n / 16][k][16]
 * (w = a·q + b by columns; n a multiple of 16): the products of
 * Winograd's minimal filtering on weights that lie on a grid
 * (tl-nn-winograd.h). */
void   tl_quant_gemm16             (float *c, int ldc, const float *x, int ldx,
                                    int m, int k, int n, const uint8_t *w16);

/* The same kernel on float weights w [k][n] (row stride ldw, n a multiple
 * of 16); with add, c += x × w. */
void   tl_quant_gemm_f32           (float *c, int ldc, const float *x, int ldx,
                                    int m, int k, int n, const float *w, int ldw,
                                    bool add);

/* For the tests: the portable kernel even where the AVX2 one runs. */
void   tl_quant_use_portable_kernel (bool portable);

/* The naive reference: the definition, one multiply-add at a time (in
 * double) with the weights a·q + b. */
void   tl_quant_conv2d_forward_ref (float *out, const float *in, const uint8_t *qw,
                                    const float *b, const TlConv2dShape *s);

#ifdef __cplusplus
}
#endif
