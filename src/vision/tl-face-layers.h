/* tl-face-layers.h — the inference layers the ported face networks need
 *
 * Plain C on float* in HWC order (height, width, channels — the layout of
 * the original TensorFlow.js networks, so their weights need no
 * transposition): a convolution kernel is [kh][kw][cin][cout], i.e. a
 * (kh·kw·cin) × cout row-major matrix.  Each fast kernel has a naive
 * reference beside it (…_ref) that the tests compare against.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  TL_FL_ACT_NONE,
  TL_FL_ACT_RELU,
  TL_FL_ACT_LEAKY,    /* max (x, 0.1 x) */
} TlFlAct;

/* Shape of a 2-D window operation.  Padding is explicit (top/left; the
 * bottom/right padding follows from the output size). */
typedef struct
{
  int h, w, cin;        /* input */
  int ho, wo, cout;     /* output */
  int k, stride;        /* square kernel */
  int pad_top, pad_left;
} TlFlShape;

/* TensorFlow's output size and leading padding for "same" and "valid". */
void  tl_fl_shape_same   (TlFlShape *s, int h, int w, int cin, int cout, int k, int stride);
void  tl_fl_shape_valid  (TlFlShape *s, int h, int w, int cin, int cout, int k, int stride);
void  tl_fl_shape_pad    (TlFlShape *s, int h, int w, int cin, int cout, int k, int stride, int pad);

/* Bytes of scratch tl_fl_conv2d needs for this shape. */
gsize tl_fl_conv2d_scratch (const TlFlShape *s);

/* C[M×N] = A[M×K]·B[K×N] (+ C when accumulate); row-major with leading
 * dimensions; the one place that calls BLIS. */
void  tl_fl_gemm         (int M, int N, int K,
                          const float *A, int lda,
                          const float *B, int ldb,
                          float *C, int ldc,
                          gboolean accumulate);
void  tl_fl_gemm_ref     (int M, int N, int K,
                          const float *A, int lda,
                          const float *B, int ldb,
                          float *C, int ldc,
                          gboolean accumulate);

/* out = act (conv (in, w) + b) */
void  tl_fl_conv2d       (float *out, const float *in, const float *w, const float *b,
                          const TlFlShape *s, TlFlAct act, float *scratch);
void  tl_fl_conv2d_ref   (float *out, const float *in, const float *w, const float *b,
                          const TlFlShape *s, TlFlAct act);

/* Depthwise 3×3 (w is [3][3][c]), optional bias, no activation. */
void  tl_fl_depthwise    (float *out, const float *in, const float *w, const float *b,
                          const TlFlShape *s);
void  tl_fl_depthwise_ref(float *out, const float *in, const float *w, const float *b,
                          const TlFlShape *s);

/* Pools over the window; padded cells are ignored (max) — average pools
 * are only used unpadded here. */
void  tl_fl_maxpool      (float *out, const float *in, const TlFlShape *s);
void  tl_fl_avgpool      (float *out, const float *in, const TlFlShape *s);

void  tl_fl_bias_act     (float *x, const float *b, int n, int c, TlFlAct act);

/* out = relu (a + b), relu (a + b + c), relu (a + b + c + d); out may be d. */
void  tl_fl_add_relu     (float *out, const float *a, const float *b, gsize n);
void  tl_fl_add3_relu    (float *out, const float *a, const float *b, const float *c,
                          gsize n);
void  tl_fl_add4_relu    (float *out, const float *a, const float *b, const float *c,
                          const float *d, gsize n);

/* GEMM threads (the engine's setting). */
void  tl_fl_set_threads  (int n);

G_END_DECLS
