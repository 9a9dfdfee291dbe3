/* tl-faceapi-nets.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tl-faceapi-nets.h"

static TlNet *
finish (TlNet *net)
{
  TlNnError err = { 0 };

  if (!tl_net_build (net, &err))
    {
      /* The descriptions below are fixed: failing here is a programming error. */
      g_critical ("face network description: %s", err.message);
      tl_net_free (net);
      return NULL;
    }
  return net;
}

/* ---- tiny face detector ---------------------------------------------------- */

/* pad 1, depthwise 3×3, pointwise + bias, leaky ReLU 0.1 */
static int
detector_separable (TlNet      *net,
                    int         x,
                    const char *prefix,
                    int         cin,
                    int         cout)
{
  g_autofree char *dw = g_strconcat (prefix, "/depthwise", NULL);
  g_autofree char *pw = g_strconcat (prefix, "/pointwise", NULL);

  x = tl_net_conv2d (net, x, dw, cin, 3, 3, 1, 1, cin, false);
  x = tl_net_conv2d (net, x, pw, cout, 1, 1, 1, TL_PAD_VALID, 1, true);
  return tl_net_leaky_relu (net, x, 0.1f);
}

TlNet *
tl_faceapi_detector_net (int size)
{
  static const int ch[] = { 16, 32, 64, 128, 256, 512 };
  TlNet *net = tl_net_new (size, size, 3);
  int x;

  x = tl_net_conv2d (net, 0, "conv0", ch[0], 3, 3, 1, TL_PAD_VALID, 1, true);
  x = tl_net_leaky_relu (net, x, 0.1f);
  x = tl_net_maxpool (net, x, 2, 2, TL_PAD_SAME);
  for (int i = 1; i <= 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("conv%d", i);
      x = detector_separable (net, x, name, ch[i - 1], ch[i]);
      x = tl_net_maxpool (net, x, 2, i < 5 ? 2 : 1, TL_PAD_SAME);
    }
  tl_net_conv2d (net, x, "conv8", 25, 1, 1, 1, TL_PAD_VALID, 1, true);
  return finish (net);
}

/* ---- 68-point landmarks --------------------------------------------------- */

/* depthwise 3×3 ("same", stride) + pointwise + bias, no activation */
static int
landmark_separable (TlNet      *net,
                    int         x,
                    const char *prefix,
                    int         cin,
                    int         cout,
                    int         stride)
{
  g_autofree char *dw = g_strconcat (prefix, "/depthwise", NULL);
  g_autofree char *pw = g_strconcat (prefix, "/pointwise", NULL);

  x = tl_net_conv2d (net, x, dw, cin, 3, 3, stride, TL_PAD_SAME, cin, false);
  return tl_net_conv2d (net, x, pw, cout, 1, 1, 1, TL_PAD_VALID, 1, true);
}

TlNet *
tl_faceapi_landmarks_net (void)
{
  static const int ch[] = { 3, 32, 64, 128, 256 };
  TlNet *net = tl_net_new (112, 112, 3);
  int x = 0;

  for (int b = 0; b < 4; b++)
    {
      g_autofree char *c0 = g_strdup_printf ("dense%d/conv0", b);
      g_autofree char *c1 = g_strdup_printf ("dense%d/conv1", b);
      g_autofree char *c2 = g_strdup_printf ("dense%d/conv2", b);
      g_autofree char *c3 = g_strdup_printf ("dense%d/conv3", b);
      int o1, sum;

      if (b == 0)
        o1 = tl_net_conv2d (net, x, c0, ch[1], 3, 3, 2, TL_PAD_SAME, 1, true);
      else
        o1 = landmark_separable (net, x, c0, ch[b], ch[b + 1], 2);
      o1 = tl_net_relu (net, o1);
      /* Each convolution sees the ReLU of the sum of the outputs before it
       * (face-api: relu (o1 + o2), relu (o1 + (o2 + o3)), …).  Kept as a
       * running sum, each output is added once, where the engine can add
       * it as the convolution writes it (tl-nn-fused.h); the sums differ
       * from face-api's order by float rounding only. */
      sum = tl_net_add (net, o1, landmark_separable (net, o1, c1, ch[b + 1], ch[b + 1], 1));
      sum = tl_net_add (net, sum, landmark_separable (net, tl_net_relu (net, sum), c2,
                                                      ch[b + 1], ch[b + 1], 1));
      sum = tl_net_add (net, sum, landmark_separable (net, tl_net_relu (net, sum), c3,
                                                      ch[b + 1], ch[b + 1], 1));
      x = tl_net_relu (net, sum);
    }
  x = tl_net_avgpool (net, x, 7, 2, TL_PAD_VALID);
  tl_net_dense (net, x, "fc", 136, true);
  return finish (net);
}

/* ---- 128-D encoder (ResNet) ------------------------------------------------ */

/* conv + bias, then the per-channel scale layer, then optionally ReLU */
static int
encoder_conv (TlNet      *net,
              int         x,
              const char *prefix,
              int         cout,
              int         k,
              int         stride,
              int         pad,
              gboolean    relu)
{
  g_autofree char *conv = g_strconcat (prefix, "/conv", NULL);
  g_autofree char *scale = g_strconcat (prefix, "/scale", NULL);

  x = tl_net_conv2d (net, x, conv, cout, k, k, stride, pad, 1, true);
  x = tl_net_scale_bias (net, x, scale);
  return relu ? tl_net_relu (net, x) : x;
}

static int
encoder_residual (TlNet      *net,
                  int         x,
                  const char *name,
                  int         cin,
                  int         cout,
                  gboolean    down)
{
  g_autofree char *c1 = g_strconcat (name, "/conv1", NULL);
  g_autofree char *c2 = g_strconcat (name, "/conv2", NULL);
  const TlNetNode *in = tl_net_node (net, x);
  int h = in ? in->h : 0;
  int y, shortcut;

  y = encoder_conv (net, x, c1, cout, 3, down ? 2 : 1, down ? TL_PAD_VALID : TL_PAD_SAME, TRUE);
  y = encoder_conv (net, y, c2, cout, 3, 1, TL_PAD_SAME, FALSE);
  shortcut = x;
  if (down)
    {
      /* 2×2 average pool of the input; its channels zero-extended, and the
       * conv branch zero-padded at the bottom/right up to the pool's size. */
      int hp = h / 2, hc = (h - 3) / 2 + 1;
      shortcut = tl_net_avgpool (net, x, 2, 2, TL_PAD_VALID);
      if (cout != cin)
        shortcut = tl_net_pad (net, shortcut, hp, hp, cout);
      if (hc != hp)
        y = tl_net_pad (net, y, hp, hp, cout);
    }
  return tl_net_relu (net, tl_net_add (net, shortcut, y));
}

TlNet *
tl_faceapi_encoder_net (void)
{
  static const struct { const char *name; int cin, cout; gboolean down; } blocks[] = {
    { "conv32_1", 32, 32, FALSE },      { "conv32_2", 32, 32, FALSE },
    { "conv32_3", 32, 32, FALSE },      { "conv64_down", 32, 64, TRUE },
    { "conv64_1", 64, 64, FALSE },      { "conv64_2", 64, 64, FALSE },
    { "conv64_3", 64, 64, FALSE },      { "conv128_down", 64, 128, TRUE },
    { "conv128_1", 128, 128, FALSE },   { "conv128_2", 128, 128, FALSE },
    { "conv256_down", 128, 256, TRUE }, { "conv256_1", 256, 256, FALSE },
    { "conv256_2", 256, 256, FALSE },   { "conv256_down_out", 256, 256, TRUE },
  };
  TlNet *net = tl_net_new (150, 150, 3);
  int x;

  x = encoder_conv (net, 0, "conv32_down", 32, 7, 2, TL_PAD_VALID, TRUE);
  x = tl_net_maxpool (net, x, 3, 2, TL_PAD_VALID);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    x = encoder_residual (net, x, blocks[i].name, blocks[i].cin, blocks[i].cout, blocks[i].down);
  x = tl_net_global_avgpool (net, x);
  tl_net_dense (net, x, "fc", 128, false);
  return finish (net);
}

/* ---- parameters ----------------------------------------------------------- */

/* face-api suffix → engine suffix, tried in order (longest first). */
static const struct { const char *from, *to; } renames[] = {
  { "/depthwise_filter", "/depthwise.weight" },
  { "/pointwise_filter", "/pointwise.weight" },
  { "/scale/weights",    "/scale.scale" },
  { "/scale/biases",     "/scale.bias" },
  { "/filters",          ".weight" },
  { "/weights",          ".weight" },
};

char *
tl_faceapi_tensor_name (TlNet      *net,
                        const char *n)
{
  g_autofree char *base = NULL;
  g_autofree char *pw = NULL;

  if (g_str_equal (n, "fc"))
    return g_strdup ("fc.weight");
  for (guint i = 0; i < G_N_ELEMENTS (renames); i++)
    if (g_str_has_suffix (n, renames[i].from))
      {
        base = g_strndup (n, strlen (n) - strlen (renames[i].from));
        return g_strconcat (base, renames[i].to, NULL);
      }
  if (!g_str_has_suffix (n, "/bias"))
    return g_strdup (n);
  /* A separable convolution's bias belongs to its pointwise half. */
  base = g_strndup (n, strlen (n) - strlen ("/bias"));
  pw = g_strconcat (base, "/pointwise.bias", NULL);
  if (tl_net_find_tensor (net, pw) != NULL)
    return g_steal_pointer (&pw);
  return g_strconcat (base, ".bias", NULL);
}

gboolean
tl_faceapi_fill_net (TlNet               *net,
                     const TlFaceWeights *weights,
                     GError             **error)
{
  int n = tl_net_n_tensors (net);
  g_autofree gboolean *filled = g_new0 (gboolean, n + 1);

  for (guint i = 0; i < tl_face_weights_count (weights); i++)
    {
      const TlFaceTensor *src = tl_face_weights_nth (weights, i);
      g_autofree char *name = tl_faceapi_tensor_name (net, src->name);
      TlNnTensor *dst = tl_net_find_tensor (net, name);
      int index = -1;

      for (int k = 0; dst && k < n; k++)
        if (tl_net_tensor (net, k) == dst)
          index = k;
      if (dst == NULL || index < 0)
        {
          g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_SHAPE,
                       _("The %s network has no place for weight “%s”; is this the right manifest?"),
                       tl_face_weights_kind (weights), src->name);
          return FALSE;
        }
      if (dst->count != src->count || filled[index])
        {
          g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_SHAPE,
                       _("Weight “%s” has %zu values; the %s network needs %zu"),
                       src->name, src->count, tl_face_weights_kind (weights), dst->count);
          return FALSE;
        }
      memcpy (dst->data, src->data, src->count * sizeof (float));
      filled[index] = TRUE;
    }
  for (int k = 0; k < n; k++)
    if (!filled[k])
      {
        g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_MISSING,
                     _("The manifest lacks the weights for “%s” of the %s network"),
                     tl_net_tensor (net, k)->name, tl_face_weights_kind (weights));
        return FALSE;
      }
  return TRUE;
}

gboolean
tl_faceapi_copy_params (TlNet   *to,
                        TlNet   *from,
                        GError **error)
{
  for (int k = 0; k < tl_net_n_tensors (to); k++)
    {
      TlNnTensor *dst = tl_net_tensor (to, k);
      TlNnTensor *src = tl_net_find_tensor (from, dst->name);

      if (src == NULL || src->count != dst->count)
        {
          g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_SHAPE,
                       _("The model lacks a fitting tensor “%s”"), dst->name);
          return FALSE;
        }
      memcpy (dst->data, src->data, dst->count * sizeof (float));
    }
  return TRUE;
}
