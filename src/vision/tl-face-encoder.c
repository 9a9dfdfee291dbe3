/* tl-face-encoder.c
 *
 * conv 7×7/2 (valid) → maxpool 3/2 → residual stages of 32, 64, 128 and
 * 256 channels → global average → dense 256 → 128 (no bias).  Every conv
 * is followed by a per-channel scale layer, which is folded into the conv
 * weights when the model is loaded.  A down-sampling residual block adds
 * conv 3×3/2 (valid) → conv 3×3 to a 2×2 average pool of its input, the
 * input's channels zero-extended and the conv branch zero-padded at the
 * bottom/right when the sizes differ.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tl-face-encoder.h"
#include "tl-face-net-private.h"
#include "tl-image-ops.h"

#define IN TL_FACE_ENCODER_INPUT

static const float mean_rgb[3] = { 122.782f, 117.001f, 104.298f };

typedef struct
{
  float *w, *b;        /* scale folded in; owned */
  int    k, cin, cout;
} Conv;

typedef struct
{
  const char *name;
  int         cin, cout;
  gboolean    down;
} BlockSpec;

static const BlockSpec blocks[] = {
  { "conv32_1",         32,  32,  FALSE },
  { "conv32_2",         32,  32,  FALSE },
  { "conv32_3",         32,  32,  FALSE },
  { "conv64_down",      32,  64,  TRUE },
  { "conv64_1",         64,  64,  FALSE },
  { "conv64_2",         64,  64,  FALSE },
  { "conv64_3",         64,  64,  FALSE },
  { "conv128_down",     64,  128, TRUE },
  { "conv128_1",        128, 128, FALSE },
  { "conv128_2",        128, 128, FALSE },
  { "conv256_down",     128, 256, TRUE },
  { "conv256_1",        256, 256, FALSE },
  { "conv256_2",        256, 256, FALSE },
  { "conv256_down_out", 256, 256, TRUE },
};
#define N_RES G_N_ELEMENTS (blocks)

struct _TlFaceEncoder
{
  Conv   stem;
  Conv   res[N_RES][2];
  float *fc;            /* [256][128] */

  float *input;
  float *x, *y, *t, *u;
  float *scratch;
  float  pooled[256];
};

static gboolean
load_conv (Conv                *conv,
           const TlFaceWeights *w,
           const char          *prefix,
           int                  k,
           int                  cin,
           int                  cout,
           GError             **error)
{
  g_autofree char *fn = g_strconcat (prefix, "/conv/filters", NULL);
  g_autofree char *bn = g_strconcat (prefix, "/conv/bias", NULL);
  g_autofree char *sn = g_strconcat (prefix, "/scale/weights", NULL);
  g_autofree char *sbn = g_strconcat (prefix, "/scale/biases", NULL);
  const float *f = TL_TENSOR (w, fn, error, k, k, cin, cout);
  const float *b = TL_TENSOR (w, bn, error, cout);
  const float *s = TL_TENSOR (w, sn, error, cout);
  const float *sb = TL_TENSOR (w, sbn, error, cout);
  gsize n = (gsize) k * k * cin;

  if (f == NULL || b == NULL || s == NULL || sb == NULL)
    return FALSE;
  conv->k = k;
  conv->cin = cin;
  conv->cout = cout;
  conv->w = g_aligned_alloc (n * cout, sizeof (float), 64);
  conv->b = g_new (float, cout);
  /* (conv (x, f) + b) · s + sb  =  conv (x, f · s) + (b · s + sb) */
  for (gsize i = 0; i < n; i++)
    for (int o = 0; o < cout; o++)
      conv->w[i * cout + o] = f[i * cout + o] * s[o];
  for (int o = 0; o < cout; o++)
    conv->b[o] = b[o] * s[o] + sb[o];
  return TRUE;
}

static void
clear_conv (Conv *c)
{
  g_aligned_free (c->w);
  g_free (c->b);
}

void
tl_face_encoder_free (TlFaceEncoder *e)
{
  if (e == NULL)
    return;
  clear_conv (&e->stem);
  for (guint i = 0; i < N_RES; i++)
    {
      clear_conv (&e->res[i][0]);
      clear_conv (&e->res[i][1]);
    }
  g_free (e->fc);
  g_free (e->input);
  g_free (e->x);
  g_free (e->y);
  g_free (e->t);
  g_free (e->u);
  g_free (e->scratch);
  g_free (e);
}

TlFaceEncoder *
tl_face_encoder_new (const char  *model_path,
                     GError     **error)
{
  g_autoptr (TlFaceWeights) w = tl_face_net_load (model_path, "face-encoder", error);
  g_autoptr (TlFaceEncoder) e = NULL;
  const float *fc;
  gsize largest = 72 * 72 * 32;

  if (w == NULL)
    return NULL;

  e = g_new0 (TlFaceEncoder, 1);
  if (!load_conv (&e->stem, w, "conv32_down", 7, 3, 32, error))
    return NULL;
  for (guint i = 0; i < N_RES; i++)
    {
      g_autofree char *p1 = g_strconcat (blocks[i].name, "/conv1", NULL);
      g_autofree char *p2 = g_strconcat (blocks[i].name, "/conv2", NULL);
      if (!load_conv (&e->res[i][0], w, p1, 3, blocks[i].cin, blocks[i].cout, error) ||
          !load_conv (&e->res[i][1], w, p2, 3, blocks[i].cout, blocks[i].cout, error))
        return NULL;
    }
  fc = TL_TENSOR (w, "fc", error, 256, 128);
  if (fc == NULL)
    return NULL;
  e->fc = g_memdup2 (fc, sizeof (float) * 256 * 128);

  e->input = g_new (float, IN * IN * 3);
  e->x = g_new (float, largest);
  e->y = g_new (float, largest);
  e->t = g_new (float, largest);
  e->u = g_new (float, largest);
  /* The largest im2col: the 7×7 stem (72² × 147) beats 35² × 288. */
  e->scratch = g_new (float, 72 * 72 * 7 * 7 * 3);
  return g_steal_pointer (&e);
}

static void
conv_run (TlFaceEncoder *e,
          float         *out,
          const float   *in,
          const Conv    *c,
          int            h,
          gboolean       down,
          TlFlAct        act,
          int           *ho)
{
  TlFlShape sh;

  if (down)
    tl_fl_shape_valid (&sh, h, h, c->cin, c->cout, c->k, 2);
  else
    tl_fl_shape_same (&sh, h, h, c->cin, c->cout, c->k, 1);
  tl_fl_conv2d (out, in, c->w, c->b, &sh, act, e->scratch);
  *ho = sh.ho;
}

/* x (h × h × cin) → out; returns the new side. */
static int
residual (TlFaceEncoder   *e,
          float           *out,
          const float     *x,
          guint            i,
          int              h)
{
  const BlockSpec *spec = &blocks[i];
  int h1, h2;

  conv_run (e, e->t, x, &e->res[i][0], h, spec->down, TL_FL_ACT_RELU, &h1);
  conv_run (e, e->u, e->t, &e->res[i][1], h1, FALSE, TL_FL_ACT_NONE, &h2);

  if (!spec->down)
    {
      tl_fl_add_relu (out, e->u, x, (gsize) h * h * spec->cout);
      return h;
    }
  else
    {
      TlFlShape sh;
      int hp;

      tl_fl_shape_valid (&sh, h, h, spec->cin, spec->cin, 2, 2);
      tl_fl_avgpool (e->t, x, &sh);
      hp = sh.ho;
      for (int yy = 0; yy < hp; yy++)
        for (int xx = 0; xx < hp; xx++)
          {
            const float *p = e->t + ((gsize) yy * hp + xx) * spec->cin;
            const float *q = (yy < h2 && xx < h2) ? e->u + ((gsize) yy * h2 + xx) * spec->cout : NULL;
            float *o = out + ((gsize) yy * hp + xx) * spec->cout;
            for (int c = 0; c < spec->cout; c++)
              {
                float v = (c < spec->cin ? p[c] : 0.0f) + (q ? q[c] : 0.0f);
                o[c] = v > 0 ? v : 0;
              }
          }
      return hp;
    }
}

void
tl_face_encoder_forward (TlFaceEncoder *e,
                         const float   *input,
                         float         *embedding)
{
  float *x = e->x, *y = e->y, *tmp;
  TlFlShape sh;
  int h;

  for (gsize i = 0; i < IN * IN; i++)
    for (int c = 0; c < 3; c++)
      e->input[i * 3 + c] = (input[i * 3 + c] - mean_rgb[c]) / 255.0f;

  conv_run (e, y, e->input, &e->stem, IN, TRUE, TL_FL_ACT_RELU, &h);
  tl_fl_shape_valid (&sh, h, h, 32, 32, 3, 2);
  tl_fl_maxpool (x, y, &sh);
  h = sh.ho;

  for (guint i = 0; i < N_RES; i++)
    {
      h = residual (e, y, x, i, h);
      tmp = x; x = y; y = tmp;
    }

  memset (e->pooled, 0, sizeof e->pooled);
  for (int k = 0; k < h * h; k++)
    for (int c = 0; c < 256; c++)
      e->pooled[c] += x[(gsize) k * 256 + c];
  for (int c = 0; c < 256; c++)
    e->pooled[c] /= h * h;
  tl_fl_gemm (1, 128, 256, e->pooled, 256, e->fc, 128, embedding, 128, FALSE);
}

void
tl_face_encoder_encode (TlFaceEncoder *e,
                        const TlImage *chip,
                        float         *embedding)
{
  tl_image_to_input (chip, 0, 0, chip->width, chip->height, TRUE, IN, e->input);
  tl_face_encoder_forward (e, e->input, embedding);
}

double
tl_face_encoder_flops (TlFaceEncoder *e)
{
  double f = 2.0 * 72 * 72 * 147 * 32;
  int h = 35;

  for (guint i = 0; i < N_RES; i++)
    {
      const BlockSpec *s = &blocks[i];
      int h1 = s->down ? (h - 1) / 2 : h;
      f += 2.0 * h1 * h1 * 9 * s->cin * s->cout;
      f += 2.0 * h1 * h1 * 9 * s->cout * s->cout;
      if (s->down)
        h = (h - 2 + 2) / 2;
    }
  return f + 2.0 * 256 * 128;
}
