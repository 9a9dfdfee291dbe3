/* tl-face-encoder.c
 *
 * The network is described in tl-faceapi-nets.c; this file feeds it the
 * chip.  The original's normalisation, (x − mean) / 255, is in the
 * unpadded first convolution's weights (tl_face_net_fold_input ()): a
 * pass over the input less (65 µs a pass on one core here).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tl-face-encoder.h"
#include "tl-face-net-private.h"
#include "tl-model.h"
#include "tl-image-ops.h"

#define IN TL_FACE_ENCODER_INPUT

static const float mean_rgb[3] = { 122.782f, 117.001f, 104.298f };

struct _TlFaceEncoder
{
  TlNet *net;
  float *input;
};

TlFaceEncoder *
tl_face_encoder_new (const char  *model_path,
                     GError     **error)
{
  g_autoptr (TlFaceEncoder) e = g_new0 (TlFaceEncoder, 1);
  TlNnError err = { 0 };

  e->net = tl_face_net_load (model_path, "face-encoder", error);
  if (e->net == NULL)
    return NULL;
  /* Each convolution's scale layer costs nothing once folded into it,
   * nor the input's normalisation. */
  tl_net_fold (e->net);
  tl_face_net_fold_input (e->net, "conv32_down/conv", mean_rgb);
  /* Batches of two (a face and its mirror image read the weights once);
   * the filters are transformed once, for Winograd convolutions. */
  if (!tl_net_prepare (e->net, 2, false, &err) || tl_net_freeze (e->net, &err) < 0)
    {
      tl_model_set_error (error, &err, _("Cannot prepare the face encoder"));
      return NULL;
    }
  e->input = g_new (float, 2 * IN * IN * 3);
  return g_steal_pointer (&e);
}

void
tl_face_encoder_free (TlFaceEncoder *e)
{
  if (e == NULL)
    return;
  g_clear_pointer (&e->net, tl_net_free);
  g_free (e->input);
  g_free (e);
}

void
tl_face_encoder_forward (TlFaceEncoder *e,
                         const float   *input,
                         float         *embedding)
{
  memcpy (embedding, tl_net_forward (e->net, input, 1, false),
          sizeof (float) * TL_FACE_EMBEDDING_DIM);
}

void
tl_face_encoder_encode (TlFaceEncoder *e,
                        const TlImage *chip,
                        float         *embedding)
{
  tl_image_to_input (chip, 0, 0, chip->width, chip->height, TRUE, IN, e->input);
  tl_face_encoder_forward (e, e->input, embedding);
}

void
tl_face_encoder_encode_pair (TlFaceEncoder *e,
                             const TlImage *a,
                             const TlImage *b,
                             float         *embedding_a,
                             float         *embedding_b)
{
  const float *out;

  tl_image_to_input (a, 0, 0, a->width, a->height, TRUE, IN, e->input);
  tl_image_to_input (b, 0, 0, b->width, b->height, TRUE, IN, e->input + IN * IN * 3);
  out = tl_net_forward (e->net, e->input, 2, false);
  memcpy (embedding_a, out, sizeof (float) * TL_FACE_EMBEDDING_DIM);
  memcpy (embedding_b, out + TL_FACE_EMBEDDING_DIM, sizeof (float) * TL_FACE_EMBEDDING_DIM);
}

double
tl_face_encoder_flops (TlFaceEncoder *e)
{
  return (double) tl_net_flops (e->net);
}
