/* tl-face-pipeline.h — image → face box → landmarks → chip → embedding
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tl-face-align.h"
#include "tl-face-detector.h"
#include "tl-face-encoder.h"
#include "tl-face-landmarks.h"

G_BEGIN_DECLS

typedef struct _TlFacePipeline TlFacePipeline;

/* The pipeline keeps faces the detector scores above this (the detector's
 * own default is 0.5, which misses many frontal faces in LFW). */
#define TL_FACE_PIPELINE_SCORE_THRESHOLD 0.3f

/* Which face the pipeline analyses when the detector reports several. */
typedef enum
{
  TL_FACE_PICK_LARGEST,   /* the biggest box: the person in front (default) */
  TL_FACE_PICK_CENTRAL,   /* nearest the image centre: the subject of a
                           * photo cropped around one face, as in LFW */
  TL_FACE_PICK_SCORE,     /* the detector's most confident */
} TlFacePick;

typedef struct
{
  gboolean        found;      /* FALSE: no face detected, fallback used */
  guint           n_faces;    /* faces the detector reported */
  TlFaceBox       box;
  TlFaceLandmarks landmarks;
} TlFaceAnalysis;

/* The folder with the converted models: $TWINLOCK_MODELDIR, else the
 * installed one, else the source tree's (for running from a build). */
const char     *tl_face_model_dir          (void);

/* Loads face-detector.tlnn, face-landmarks68.tlnn and face-encoder.tlnn
 * from `model_dir` (NULL: tl_face_model_dir ()).  One pipeline per thread. */
TlFacePipeline *tl_face_pipeline_new       (const char      *model_dir,
                                            GError         **error);
void            tl_face_pipeline_free      (TlFacePipeline  *pipeline);

TlFaceDetector   *tl_face_pipeline_get_detector   (TlFacePipeline *pipeline);
TlFaceLandmarker *tl_face_pipeline_get_landmarker (TlFacePipeline *pipeline);
TlFaceEncoder    *tl_face_pipeline_get_encoder    (TlFacePipeline *pipeline);

void            tl_face_pipeline_set_pick  (TlFacePipeline  *pipeline,
                                            TlFacePick       pick);

/* With `average`, an embedding is the mean of the chip's and its mirror
 * image's (twice the encoder's work, a steadier embedding). */
void            tl_face_pipeline_set_mirror_average (TlFacePipeline *pipeline,
                                                     gboolean        average);

/* Finds the face chosen by the pick policy.  With `fallback`, an image without a
 * detected face is analysed in its central square (half the shorter
 * side) and `found` is FALSE; without it, returns FALSE. */
gboolean        tl_face_pipeline_analyse   (TlFacePipeline  *pipeline,
                                            const TlImage   *image,
                                            gboolean         fallback,
                                            TlFaceAnalysis  *out);

/* analyse + align + encode.  `chip` (optional) receives the aligned chip. */
gboolean        tl_face_pipeline_embed     (TlFacePipeline  *pipeline,
                                            const TlImage   *image,
                                            gboolean         fallback,
                                            TlFaceAnalysis  *analysis,
                                            float           *embedding,
                                            TlImage        **chip);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlFacePipeline, tl_face_pipeline_free)

G_END_DECLS
