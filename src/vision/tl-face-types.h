/* tl-face-types.h — what the face pipeline produces
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TL_FACE_N_LANDMARKS  68
#define TL_FACE_EMBEDDING_DIM 128

/* A detected face in image pixel coordinates. */
typedef struct
{
  float x, y, width, height;
  float score;
} TlFaceBox;

/* The iBUG 68-point scheme (jaw 0–16, brows 17–26, nose 27–35, eyes
 * 36–47, mouth 48–67), in image pixel coordinates. */
typedef struct
{
  float x[TL_FACE_N_LANDMARKS];
  float y[TL_FACE_N_LANDMARKS];
} TlFaceLandmarks;

float tl_face_box_iou (const TlFaceBox *a,
                       const TlFaceBox *b);

/* Euclidean distance of two embeddings. */
float tl_face_distance (const float *a,
                        const float *b);

G_END_DECLS
