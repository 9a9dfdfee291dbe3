/* tl-twin-trainer.c — mini-batch training of twin encoders with the
 * metric-learning losses, and their evaluation on pairs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "tl-model.h"
#include "tl-nn-optim.h"
#include "tl-twin-trainer.h"

#define EVAL_FOLDS 10
/* Impostor pairs scored for the EER at most (a random sample beyond). */
#define MAX_IMPOSTOR_PAIRS 500000
#define EMBED_BATCH 64

static const struct
{
  const char *name;
  TlTwinLoss  loss;
} loss_names[] = {
  { "contrastive", TL_TWIN_LOSS_CONTRASTIVE },
  { "triplet", TL_TWIN_LOSS_TRIPLET },
  { "hinge", TL_TWIN_LOSS_PAIR_HINGE },
  { "pair-hinge", TL_TWIN_LOSS_PAIR_HINGE },
};

static const char *const mining_names[] = { "all", "hard", "semi-hard" };

gboolean
tl_twin_loss_from_string (const char *name,
                          TlTwinLoss *loss)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (loss_names); i++)
    if (g_strcmp0 (name, loss_names[i].name) == 0)
      {
        *loss = loss_names[i].loss;
        return TRUE;
      }
  return FALSE;
}

const char *
tl_twin_loss_to_string (TlTwinLoss loss)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (loss_names); i++)
    if (loss_names[i].loss == loss)
      return loss_names[i].name;
  return "?";
}

gboolean
tl_triplet_mining_from_string (const char      *name,
                               TlTripletMining *mining)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (mining_names); i++)
    if (g_strcmp0 (name, mining_names[i]) == 0)
      {
        *mining = (TlTripletMining) i;
        return TRUE;
      }
  return FALSE;
}

const char *
tl_triplet_mining_to_string (TlTripletMining mining)
{
  return (guint) mining < G_N_ELEMENTS (mining_names) ? mining_names[mining] : "?";
}

void
tl_twin_train_options_init (TlTwinTrainOptions *opts,
                            TlTwinLoss          loss)
{
  g_return_if_fail (opts != NULL);

  memset (opts, 0, sizeof *opts);
  opts->loss = loss;
  opts->mining = TL_TRIPLET_SEMI_HARD;
  opts->embedding_dim = 32;
  opts->steps = 200;
  opts->people_per_batch = 8;
  opts->images_per_person = 4;
  opts->learning_rate = 2e-3f;
  opts->warmup_steps = 20;
  opts->weight_decay = 1e-4f;
  opts->augment = TRUE;
  opts->seed = 1;
  /* Embeddings have unit length: distances lie in [0, 2]. */
  switch (loss)
    {
    case TL_TWIN_LOSS_CONTRASTIVE:
      opts->margin = 1.0f;
      break;
    case TL_TWIN_LOSS_TRIPLET:
      opts->margin = 0.3f;
      break;
    case TL_TWIN_LOSS_PAIR_HINGE:
    default:
      opts->threshold = 0.8f;
      opts->margin = 0.1f;
      break;
    }
}

/* ---- the encoder ------------------------------------------------------- */

TlNet *
tl_twin_encoder_new (int       height,
                     int       width,
                     int       dim,
                     guint32   seed,
                     GError  **error)
{
  TlNnError err = { 0 };
  TlNet *net;
  int x;

  if (dim < 2 || dim > 1024)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("An embedding needs 2 to 1024 dimensions (asked for %d)"), dim);
      return NULL;
    }
  /* Small on purpose: with a few hundred faces to learn from, a wider
   * net only memorises the training people. */
  net = tl_net_new (height, width, 1);
  x = tl_net_conv2d (net, 0, "conv1", 8, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_relu (net, x);
  x = tl_net_maxpool (net, x, 2, 2, TL_PAD_VALID);
  x = tl_net_conv2d (net, x, "conv2", 16, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_relu (net, x);
  x = tl_net_maxpool (net, x, 2, 2, TL_PAD_VALID);
  x = tl_net_conv2d (net, x, "conv3", 32, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_relu (net, x);
  x = tl_net_maxpool (net, x, 2, 2, TL_PAD_VALID);
  x = tl_net_dense (net, x, "embed", dim, true);
  tl_net_l2norm (net, x, 1e-10f);
  if (!tl_net_build (net, &err))
    {
      tl_net_free (net);
      tl_model_set_error (error, &err, _("Cannot build the twin encoder"));
      return NULL;
    }
  tl_net_init_params (net, seed);
  return net;
}

/* ---- batches ------------------------------------------------------------- */

/* Copies one image into `dst`, mirrored and shifted (edge pixels repeat),
 * then standardises it. */
static void
prepare_image (float       *dst,
               const float *src,
               int          w,
               int          h,
               gboolean     mirror,
               int          dx,
               int          dy)
{
  double sum = 0.0, sum_sq = 0.0, mean, rstd;
  int n = w * h, x, y, i;

  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      {
        int sx = CLAMP ((mirror ? w - 1 - x : x) - dx, 0, w - 1);
        int sy = CLAMP (y - dy, 0, h - 1);

        dst[y * w + x] = src[sy * w + sx];
      }
  for (i = 0; i < n; i++)
    {
      sum += dst[i];
      sum_sq += (double) dst[i] * dst[i];
    }
  mean = sum / n;
  rstd = 1.0 / sqrt (MAX (sum_sq / n - mean * mean, 0.0) + 1e-6);
  for (i = 0; i < n; i++)
    dst[i] = (float) ((dst[i] - mean) * rstd);
}

/* Partial Fisher–Yates: the first k of `items` become a random k-subset. */
static void
shuffle_prefix (int   *items,
                int    n,
                int    k,
                GRand *rng)
{
  int i;

  for (i = 0; i < k && i < n - 1; i++)
    {
      int j = g_rand_int_range (rng, i, n);
      int t = items[i];

      items[i] = items[j];
      items[j] = t;
    }
}

typedef struct
{
  const TlFaceDataset      *ds;
  const TlTwinTrainOptions *opts;
  GRand                    *rng;
  int                       n_eligible;
  int                      *eligible;     /* people with >= 2 images */
  int                      *first;        /* per person: first image */
  int                      *count;        /* per person: images */
  int                      *pick;         /* scratch, max images a person */
  int                       max_batch;
  float                    *input;        /* [max_batch][h][w] */
  int                      *labels;       /* [max_batch] */
  float                    *demb;         /* [max_batch][dim] */
  void                     *scratch;      /* the losses' */
  int                      *pair_a, *pair_b, *same, *neg;
  float                    *adam_m, *adam_v;
} Trainer;

static int
sample_batch (Trainer *tr)
{
  const TlFaceDataset *ds = tr->ds;
  int tile = ds->width * ds->height;
  int people = MIN (tr->opts->people_per_batch, tr->n_eligible);
  int b = 0, p, i;

  shuffle_prefix (tr->eligible, tr->n_eligible, people, tr->rng);
  for (p = 0; p < people; p++)
    {
      int person = tr->eligible[p];
      int n = tr->count[person];
      int k = MIN (tr->opts->images_per_person, n);

      for (i = 0; i < n; i++)
        tr->pick[i] = tr->first[person] + i;
      shuffle_prefix (tr->pick, n, k, tr->rng);
      for (i = 0; i < k; i++)
        {
          gboolean mirror = tr->opts->augment && g_rand_boolean (tr->rng);
          int dx = tr->opts->augment ? g_rand_int_range (tr->rng, -1, 2) : 0;
          int dy = tr->opts->augment ? g_rand_int_range (tr->rng, -1, 2) : 0;

          prepare_image (tr->input + (gsize) b * tile,
                         ds->pixels + (gsize) tr->pick[i] * tile,
                         ds->width, ds->height, mirror, dx, dy);
          tr->labels[b++] = person;
        }
    }
  return b;
}

/* Contrastive pairs: every same-person pair of the batch and as many
 * different-person pairs drawn at random, so both terms weigh alike. */
static int
contrastive_pairs (Trainer *tr,
                   int      b)
{
  int n = tl_loss_all_pairs (tr->pair_a, tr->pair_b, tr->same, tr->labels, b);
  int n_pos = 0, n_neg = 0, i, k;

  for (i = 0; i < n; i++)
    if (tr->same[i])
      {
        tr->pair_a[n_pos] = tr->pair_a[i];
        tr->pair_b[n_pos] = tr->pair_b[i];
        tr->same[n_pos] = 1;
        n_pos++;
      }
    else
      tr->neg[n_neg++] = tr->pair_a[i] * b + tr->pair_b[i];
  k = MIN (n_pos, n_neg);
  shuffle_prefix (tr->neg, n_neg, k, tr->rng);
  for (i = 0; i < k; i++)
    {
      tr->pair_a[n_pos + i] = tr->neg[i] / b;
      tr->pair_b[n_pos + i] = tr->neg[i] % b;
      tr->same[n_pos + i] = 0;
    }
  return n_pos + k;
}

static double
loss_step (Trainer           *tr,
           const float       *emb,
           int                b,
           int                dim,
           TlLossStats       *stats)
{
  const TlTwinTrainOptions *o = tr->opts;
  double loss;
  int n;

  memset (tr->demb, 0, (gsize) b * dim * sizeof (float));
  switch (o->loss)
    {
    case TL_TWIN_LOSS_CONTRASTIVE:
      n = contrastive_pairs (tr, b);
      loss = tl_contrastive_loss_forward (NULL, stats, emb, tr->pair_a, tr->pair_b,
                                          tr->same, n, dim, o->margin);
      tl_contrastive_loss_backward (tr->demb, emb, tr->pair_a, tr->pair_b, tr->same, n,
                                    dim, o->margin, 1.0f);
      return loss;
    case TL_TWIN_LOSS_TRIPLET:
      loss = tl_triplet_loss_forward (stats, emb, tr->labels, b, dim, o->margin,
                                      o->mining, tr->scratch);
      tl_triplet_loss_backward (tr->demb, emb, tr->labels, b, dim, o->margin, o->mining,
                                1.0f, tr->scratch);
      return loss;
    case TL_TWIN_LOSS_PAIR_HINGE:
    default:
      loss = tl_pair_hinge_loss_forward (stats, emb, tr->labels, b, dim, o->threshold,
                                         o->margin, tr->scratch);
      tl_pair_hinge_loss_backward (tr->demb, emb, tr->labels, b, dim, o->threshold,
                                   o->margin, 1.0f, tr->scratch);
      return loss;
    }
}

static void
trainer_clear (Trainer *tr)
{
  g_free (tr->eligible);
  g_free (tr->first);
  g_free (tr->count);
  g_free (tr->pick);
  g_free (tr->input);
  g_free (tr->labels);
  g_free (tr->demb);
  g_free (tr->scratch);
  g_free (tr->pair_a);
  g_free (tr->pair_b);
  g_free (tr->same);
  g_free (tr->neg);
  g_free (tr->adam_m);
  g_free (tr->adam_v);
  if (tr->rng != NULL)
    g_rand_free (tr->rng);
}

gboolean
tl_twin_train_options_check (const TlTwinTrainOptions *o,
                             GError                  **error)
{
  const char *bad = NULL;

  if (o->steps < 1 || o->steps > 10000000)
    bad = _("the number of steps must be 1 to 10000000");
  else if (o->people_per_batch < 2 || o->people_per_batch > 256)
    bad = _("a batch must hold 2 to 256 people");
  else if (o->images_per_person < 2 || o->images_per_person > 64)
    bad = _("a batch must hold 2 to 64 images of each person");
  else if (o->people_per_batch * o->images_per_person > 512)
    bad = _("a batch must hold at most 512 images (people × images per person)");
  else if (!(o->learning_rate > 0.0f && o->learning_rate < 10.0f))
    bad = _("the learning rate must be positive (and below 10)");
  else if (!(o->margin >= 0.0f && o->margin <= 4.0f))
    bad = _("the margin must be 0 to 4 (embeddings have unit length)");
  else if (o->loss == TL_TWIN_LOSS_PAIR_HINGE &&
           !(o->threshold > o->margin && o->threshold + o->margin <= 2.0f))
    bad = _("the hinge threshold must exceed the margin and threshold + margin stay within 2");
  else if (!(o->weight_decay >= 0.0f && o->weight_decay < 1.0f))
    bad = _("the weight decay must be 0 to 1");
  if (bad != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Bad training options: %s"), bad);
      return FALSE;
    }
  return TRUE;
}

gboolean
tl_twin_train (TlNet                    *net,
               const TlFaceDataset      *ds,
               const TlTwinTrainOptions *opts,
               int                       every,
               TlTwinProgress            progress,
               gpointer                  user_data,
               GError                  **error)
{
  const TlNetNode *in_node, *out_node;
  TlNnError err = { 0 };
  Trainer tr = { 0 };
  double loss_sum = 0.0, active_sum = 0.0;
  size_t n_params = 0;
  int dim, max_count = 0, p, i, step, since = 0, b_max;

  g_return_val_if_fail (net != NULL && ds != NULL && opts != NULL, FALSE);

  if (!tl_twin_train_options_check (opts, error))
    return FALSE;
  in_node = tl_net_node (net, 0);
  out_node = tl_net_node (net, tl_net_output (net));
  if (in_node->h != ds->height || in_node->w != ds->width || in_node->c != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The encoder takes %d×%d×%d images, the dataset has %d×%d grey ones"),
                   in_node->w, in_node->h, in_node->c, ds->width, ds->height);
      return FALSE;
    }
  dim = out_node->h * out_node->w * out_node->c;

  tr.ds = ds;
  tr.opts = opts;
  tr.rng = g_rand_new_with_seed (opts->seed);
  tr.first = g_new0 (int, ds->n_people);
  tr.count = g_new0 (int, ds->n_people);
  tr.eligible = g_new0 (int, ds->n_people);
  for (i = ds->n_images - 1; i >= 0; i--)
    {
      /* Images of a person are contiguous: the last one seen is the first. */
      tr.first[ds->labels[i]] = i;
      tr.count[ds->labels[i]]++;
    }
  for (p = 0; p < ds->n_people; p++)
    {
      max_count = MAX (max_count, tr.count[p]);
      if (tr.count[p] >= 2)
        tr.eligible[tr.n_eligible++] = p;
    }
  if (tr.n_eligible < 2)
    {
      trainer_clear (&tr);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Training needs at least 2 people with 2 or more images each "
                     "(this dataset has %d)"), tr.n_eligible);
      return FALSE;
    }

  b_max = opts->people_per_batch * opts->images_per_person;
  tr.max_batch = b_max;
  tr.pick = g_new (int, max_count);
  tr.input = g_new (float, (gsize) b_max * ds->width * ds->height);
  tr.labels = g_new (int, b_max);
  tr.demb = g_new (float, (gsize) b_max * dim);
  tr.scratch = g_malloc (tl_loss_scratch_size (b_max));
  tr.pair_a = g_new (int, (gsize) b_max * b_max / 2 + 1);
  tr.pair_b = g_new (int, (gsize) b_max * b_max / 2 + 1);
  tr.same = g_new (int, (gsize) b_max * b_max / 2 + 1);
  tr.neg = g_new (int, (gsize) b_max * b_max / 2 + 1);

  if (!tl_net_prepare (net, b_max, true, &err))
    {
      trainer_clear (&tr);
      tl_model_set_error (error, &err, _("Cannot prepare the encoder for training"));
      return FALSE;
    }
  tl_net_params (net, &n_params);
  tr.adam_m = g_new0 (float, n_params);
  tr.adam_v = g_new0 (float, n_params);

  for (step = 0; step < opts->steps; step++)
    {
      TlLossStats stats = { 0, 0 };
      /* Short runs (quick checks) keep most of their steps for learning. */
      float lr = tl_lr_cosine (opts->learning_rate, opts->learning_rate / 20, step,
                               opts->steps, MIN (opts->warmup_steps, opts->steps / 5));
      int b = sample_batch (&tr);
      const float *emb = tl_net_forward (net, tr.input, b, true);
      double loss = loss_step (&tr, emb, b, dim, &stats);

      if (!isfinite (loss))
        {
          trainer_clear (&tr);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       _("Training diverged at step %d (the loss is not a number); "
                         "try a lower learning rate"), step + 1);
          return FALSE;
        }
      tl_net_zero_grads (net);
      tl_net_backward (net, tr.demb);
      tl_net_adam_step (net, tr.adam_m, tr.adam_v, lr, tr.opts->weight_decay, step + 1);

      loss_sum += loss;
      active_sum += stats.n_terms > 0 ? (double) stats.n_active / stats.n_terms : 0.0;
      since++;
      if (progress != NULL && every > 0 &&
          ((step + 1) % every == 0 || step + 1 == opts->steps))
        {
          progress (step + 1, opts->steps, loss_sum / since, active_sum / since, lr,
                    user_data);
          loss_sum = active_sum = 0.0;
          since = 0;
        }
    }
  trainer_clear (&tr);
  return TRUE;
}

/* ---- evaluation ---------------------------------------------------------- */

float *
tl_twin_embed (TlNet               *net,
               const TlFaceDataset *ds,
               int                 *dim_out,
               GError             **error)
{
  const TlNetNode *in_node = tl_net_node (net, 0);
  const TlNetNode *out_node = tl_net_node (net, tl_net_output (net));
  int tile = ds->width * ds->height;
  int dim = out_node->h * out_node->w * out_node->c;
  g_autofree float *input = NULL;
  TlNnError err = { 0 };
  float *emb;
  int i, j;

  if (in_node->h != ds->height || in_node->w != ds->width || in_node->c != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The encoder takes %d×%d×%d images, the dataset has %d×%d grey ones"),
                   in_node->w, in_node->h, in_node->c, ds->width, ds->height);
      return NULL;
    }
  if (!tl_net_prepare (net, EMBED_BATCH, false, &err))
    {
      tl_model_set_error (error, &err, _("Cannot prepare the encoder"));
      return NULL;
    }
  input = g_new (float, (gsize) EMBED_BATCH * tile);
  emb = g_new (float, (gsize) MAX (ds->n_images, 1) * dim);
  for (i = 0; i < ds->n_images; i += EMBED_BATCH)
    {
      int b = MIN (EMBED_BATCH, ds->n_images - i);
      const float *out;

      for (j = 0; j < b; j++)
        prepare_image (input + (gsize) j * tile, ds->pixels + (gsize) (i + j) * tile,
                       ds->width, ds->height, FALSE, 0, 0);
      out = tl_net_forward (net, input, b, false);
      memcpy (emb + (gsize) i * dim, out, (gsize) b * dim * sizeof (float));
    }
  if (dim_out != NULL)
    *dim_out = dim;
  return emb;
}

float *
tl_twin_pixels (const TlFaceDataset *ds,
                int                 *dim)
{
  int tile = ds->width * ds->height;
  float *out = g_new (float, (gsize) MAX (ds->n_images, 1) * tile);
  int i;

  for (i = 0; i < ds->n_images; i++)
    prepare_image (out + (gsize) i * tile, ds->pixels + (gsize) i * tile,
                   ds->width, ds->height, FALSE, 0, 0);
  if (dim != NULL)
    *dim = tile;
  return out;
}

gboolean
tl_twin_evaluate (const float  *emb,
                  const int    *labels,
                  int           n,
                  int           dim,
                  guint32       seed,
                  TlTwinEval   *out,
                  GArray      **scores_out,
                  GError      **error)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (TlScore));
  g_autoptr (GArray) impostors = g_array_new (FALSE, FALSE, sizeof (TlScore));
  g_autoptr (TlRoc) roc = NULL;
  g_autofree TlScore *balanced = NULL;
  g_autofree guint *folds = NULL;
  gint64 n_imp_total = 0;
  int n_gen = 0, i, j, nb;

  g_return_val_if_fail (out != NULL, FALSE);

  for (i = 0; i < n; i++)
    for (j = i + 1; j < n; j++)
      {
        TlScore s = { 0.0, labels[i] == labels[j] };

        if (!s.genuine)
          {
            /* Reservoir sampling keeps a uniform sample of the impostors. */
            gint64 slot = n_imp_total++;

            if (slot >= MAX_IMPOSTOR_PAIRS)
              {
                slot = (gint64) (g_rand_double (rng) * n_imp_total);
                if (slot >= MAX_IMPOSTOR_PAIRS)
                  continue;
              }
            s.score = tl_embedding_distance (emb + (gsize) i * dim, emb + (gsize) j * dim, dim);
            if (slot < impostors->len)
              g_array_index (impostors, TlScore, slot) = s;
            else
              g_array_append_val (impostors, s);
            continue;
          }
        s.score = tl_embedding_distance (emb + (gsize) i * dim, emb + (gsize) j * dim, dim);
        g_array_append_val (all, s);
        n_gen++;
      }
  if (n_gen < EVAL_FOLDS || impostors->len < (guint) n_gen)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Evaluation needs at least %d same-person pairs and as many "
                     "different-person pairs (got %d and %u); hold out more people or images"),
                   EVAL_FOLDS, n_gen, impostors->len);
      return FALSE;
    }

  /* Balanced pairs: every genuine one and a random equal number of impostors,
   * shuffled and dealt into folds. */
  nb = 2 * n_gen;
  balanced = g_new (TlScore, nb);
  memcpy (balanced, all->data, n_gen * sizeof (TlScore));
  for (i = 0; i < n_gen; i++)
    {
      int k = g_rand_int_range (rng, i, impostors->len);
      TlScore t = g_array_index (impostors, TlScore, k);

      g_array_index (impostors, TlScore, k) = g_array_index (impostors, TlScore, i);
      g_array_index (impostors, TlScore, i) = t;
      balanced[n_gen + i] = t;
    }
  for (i = nb - 1; i > 0; i--)
    {
      int k = g_rand_int_range (rng, 0, i + 1);
      TlScore t = balanced[i];

      balanced[i] = balanced[k];
      balanced[k] = t;
    }
  folds = g_new (guint, nb);
  for (i = 0; i < nb; i++)
    folds[i] = i % EVAL_FOLDS;
  if (!tl_kfold_accuracy (balanced, nb, folds, EVAL_FOLDS, TL_SCORE_LOWER_IS_GENUINE,
                          &out->accuracy, &out->accuracy_std, NULL, NULL, error))
    return FALSE;

  g_array_append_vals (all, impostors->data, impostors->len);
  roc = tl_roc_new ((const TlScore *) all->data, all->len, TL_SCORE_LOWER_IS_GENUINE, error);
  if (roc == NULL)
    return FALSE;
  out->eer = tl_roc_eer (roc, &out->eer_threshold);
  out->n_genuine = n_gen;
  out->n_impostor = (int) MIN (n_imp_total, G_MAXINT);
  if (scores_out != NULL)
    *scores_out = g_steal_pointer (&all);
  return TRUE;
}
