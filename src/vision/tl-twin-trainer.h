/* tl-twin-trainer.h — training small twin (Siamese) face encoders from
 * scratch, and measuring how well their embeddings separate people
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "tl-face-dataset.h"
#include "tl-metrics.h"
#include "tl-nn-loss.h"
#include "tl-nn-net.h"

G_BEGIN_DECLS

typedef enum
{
  TL_TWIN_LOSS_CONTRASTIVE,
  TL_TWIN_LOSS_TRIPLET,
  TL_TWIN_LOSS_PAIR_HINGE,
} TlTwinLoss;

/* Parses "contrastive", "triplet", "hinge" (or "pair-hinge"). */
gboolean    tl_twin_loss_from_string (const char *name,
                                      TlTwinLoss *loss);
const char *tl_twin_loss_to_string   (TlTwinLoss  loss);
/* Parses "all", "hard", "semi-hard". */
gboolean    tl_triplet_mining_from_string (const char      *name,
                                           TlTripletMining *mining);
const char *tl_triplet_mining_to_string   (TlTripletMining  mining);

typedef struct
{
  TlTwinLoss      loss;
  TlTripletMining mining;            /* triplet only */
  float           margin;            /* contrastive, triplet; the hinge's m */
  float           threshold;         /* pair hinge only: its t */
  int             embedding_dim;
  int             steps;
  int             people_per_batch;  /* P: a batch is P people × K images */
  int             images_per_person; /* K (fewer when a person has fewer) */
  float           learning_rate;     /* Adam(W), cosine decay to 1/20 */
  int             warmup_steps;
  float           weight_decay;      /* decoupled; weights only, not biases */
  gboolean        augment;           /* random mirror and ±1 pixel shifts */
  guint32         seed;
} TlTwinTrainOptions;

/* Defaults that train the test's small encoder well with each loss. */
void tl_twin_train_options_init (TlTwinTrainOptions *opts,
                                 TlTwinLoss          loss);

/* Fails with a message naming the first option out of range. */
gboolean tl_twin_train_options_check (const TlTwinTrainOptions *opts,
                                      GError                  **error);

/* The small twin encoder: three 3×3 convolutions (8, 16, 32 channels),
 * each with ReLU and 2×2 max pooling, a dense layer to `dim`, and L2
 * normalisation, for height × width × 1 grey input (at least 8×8).  Its
 * weights are initialised (He normal, seeded; biases 0). */
TlNet *tl_twin_encoder_new (int       height,
                            int       width,
                            int       dim,
                            guint32   seed,
                            GError  **error);

/* Called every `every` steps and after the last: the mean loss and the
 * fraction of active pairs/triplets since the previous call. */
typedef void (*TlTwinProgress) (int      step,
                                int      steps,
                                double   loss,
                                double   active,
                                float    lr,
                                gpointer user_data);

/* Trains `net` (its output must be [dim] per image for ds's image size) on
 * `ds`, which needs at least 2 people with at least 2 images.  Inputs are
 * standardised per image (zero mean, unit variance). */
gboolean tl_twin_train (TlNet                    *net,
                        const TlFaceDataset      *ds,
                        const TlTwinTrainOptions *opts,
                        int                       every,
                        TlTwinProgress            progress,
                        gpointer                  user_data,
                        GError                  **error);

/* Embeddings of every image of ds: a new [n_images][*dim] array. */
float   *tl_twin_embed (TlNet               *net,
                        const TlFaceDataset *ds,
                        int                 *dim,
                        GError             **error);

/* Standardised pixels of every image: the "no encoder" baseline. */
float   *tl_twin_pixels (const TlFaceDataset *ds,
                         int                 *dim);

/* Verification figures over pairs of embeddings of different images. */
typedef struct
{
  int    n_genuine;        /* same-person pairs (all of them) */
  int    n_impostor;       /* different-person pairs (all of them) */
  double eer;              /* over all pairs */
  double eer_threshold;    /* distance */
  double accuracy;         /* 10-fold on balanced pairs, mean */
  double accuracy_std;
} TlTwinEval;

/* Scores all pairs by Euclidean distance; accuracy uses every genuine pair
 * and as many impostor pairs drawn with `seed`, split into 10 folds at
 * random (LFW protocol: threshold from the other 9 folds).  `scores`
 * (nullable) receives all pairs, for ROC plots. */
gboolean tl_twin_evaluate (const float  *emb,
                           const int    *labels,
                           int           n,
                           int           dim,
                           guint32       seed,
                           TlTwinEval   *out,
                           GArray      **scores,
                           GError      **error);

G_END_DECLS
