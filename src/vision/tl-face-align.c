/* tl-face-align.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-face-align.h"
#include "tl-image-ops.h"

/* Mean positions of landmarks 17–67 in the unit face square, from dlib's
 * get_face_chip_details() (dlib, Boost Software License 1.0) — the layout
 * the face encoder was trained on. */
static const double mean_x[51] = {
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124,
  0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
  0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
  0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
  0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
  0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
  0.553364, 0.490127, 0.42689,
};
static const double mean_y[51] = {
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891,
  0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
  0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733,
  0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
  0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805,
  0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
  0.784792, 0.824182, 0.831803, 0.824182,
};

static gboolean
used (int i)
{
  /* The brows (17–26) and the lower lip (55–59, 65–67) move too much. */
  return i >= 27 && !(i >= 55 && i <= 59) && !(i >= 65 && i <= 67);
}

void
tl_face_align_transform (const TlFaceLandmarks *lm,
                         int                    size,
                         double                 padding,
                         double                 m[6])
{
  double px = 0, py = 0, qx = 0, qy = 0, num_a = 0, num_b = 0, den = 0;
  int n = 0;

  for (int i = 17; i < TL_FACE_N_LANDMARKS; i++)
    if (used (i))
      {
        px += (padding + mean_x[i - 17]) / (2 * padding + 1) * size;
        py += (padding + mean_y[i - 17]) / (2 * padding + 1) * size;
        qx += lm->x[i];
        qy += lm->y[i];
        n++;
      }
  px /= n; py /= n; qx /= n; qy /= n;

  /* In 2-D every scaled rotation is [a −b; b a]: the least-squares
   * similarity is a linear problem. */
  for (int i = 17; i < TL_FACE_N_LANDMARKS; i++)
    if (used (i))
      {
        double ux = (padding + mean_x[i - 17]) / (2 * padding + 1) * size - px;
        double uy = (padding + mean_y[i - 17]) / (2 * padding + 1) * size - py;
        double vx = lm->x[i] - qx, vy = lm->y[i] - qy;
        num_a += ux * vx + uy * vy;
        num_b += ux * vy - uy * vx;
        den += ux * ux + uy * uy;
      }
  {
    double a = num_a / den, b = num_b / den;
    m[0] = a;  m[1] = -b; m[2] = qx - (a * px - b * py);
    m[3] = b;  m[4] = a;  m[5] = qy - (b * px + a * py);
  }
}

TlImage *
tl_face_align (const TlImage         *image,
               const TlFaceLandmarks *landmarks,
               int                    size,
               double                 padding)
{
  TlImage *chip;
  double m[6];

  g_return_val_if_fail (image != NULL && landmarks != NULL, NULL);
  g_return_val_if_fail (size > 0 && size <= 1024, NULL);

  tl_face_align_transform (landmarks, size, padding, m);
  chip = tl_image_new (size, size, image->channels == 1 ? 1 : 3);
  chip->timestamp_us = image->timestamp_us;
  tl_image_warp_affine (image, m, chip);
  return chip;
}
