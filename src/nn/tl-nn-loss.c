/* tl-nn-loss.c — contrastive, triplet and pair-wise hinge losses
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each batch loss is one function run twice: forward (demb NULL) and
 * backward (demb set), so the two can never disagree on which pairs or
 * triplets were mined.
 */
#include "tl-nn-loss.h"

#include <math.h>
#include <stdlib.h>

typedef struct
{
  double dist;
  int    index;      /* i·b + j, i < j */
} NegPair;

size_t
tl_loss_scratch_size (int b)
{
  size_t n = b > 0 ? (size_t) b : 0;

  return n * n * sizeof (double) + n * n / 2 * sizeof (NegPair) + 64;
}

static double *
scratch_dist (void *scratch)
{
  return scratch;
}

static NegPair *
scratch_neg (void *scratch,
             int   b)
{
  return (NegPair *) ((char *) scratch + (size_t) b * b * sizeof (double));
}

static double
sq_dist (const float *x,
         const float *y,
         int          d)
{
  double s = 0.0;
  int k;

  for (k = 0; k < d; k++)
    {
      double t = (double) x[k] - (double) y[k];
      s += t * t;
    }
  return s;
}

double
tl_embedding_distance (const float *x,
                       const float *y,
                       int          d)
{
  return sqrt (sq_dist (x, y, d));
}

static void
fill_dist (double      *dist,
           const float *emb,
           int          b,
           int          d)
{
  int i, j;

  for (i = 0; i < b; i++)
    {
      dist[(size_t) i * b + i] = 0.0;
      for (j = i + 1; j < b; j++)
        {
          double v = sqrt (sq_dist (emb + (size_t) i * d, emb + (size_t) j * d, d));
          dist[(size_t) i * b + j] = v;
          dist[(size_t) j * b + i] = v;
        }
    }
}

/* demb += coeff · ∂d(i, j)/∂emb, with 0 for ∂d at d = 0 (see the header). */
static void
add_dist_grad (float       *demb,
               const float *emb,
               int          i,
               int          j,
               int          d,
               double       dist,
               double       coeff)
{
  const float *x = emb + (size_t) i * d;
  const float *y = emb + (size_t) j * d;
  float *dx = demb + (size_t) i * d;
  float *dy = demb + (size_t) j * d;
  double s;
  int k;

  if (!(dist > 0.0))
    return;
  s = coeff / dist;
  for (k = 0; k < d; k++)
    {
      double g = s * ((double) x[k] - (double) y[k]);
      dx[k] += (float) g;
      dy[k] -= (float) g;
    }
}

int
tl_loss_all_pairs (int       *pair_a,
                   int       *pair_b,
                   int       *same,
                   const int *labels,
                   int        b)
{
  int i, j, n = 0;

  for (i = 0; i < b; i++)
    for (j = i + 1; j < b; j++)
      {
        pair_a[n] = i;
        pair_b[n] = j;
        same[n] = labels[i] == labels[j];
        n++;
      }
  return n;
}

/* ---- contrastive --------------------------------------------------------- */

double
tl_contrastive_loss_forward (float       *losses,
                             TlLossStats *stats,
                             const float *emb,
                             const int   *pair_a,
                             const int   *pair_b,
                             const int   *same,
                             int          n_pairs,
                             int          d,
                             float        margin)
{
  double sum = 0.0;
  int p, active = 0;

  for (p = 0; p < n_pairs; p++)
    {
      double d2 = sq_dist (emb + (size_t) pair_a[p] * d, emb + (size_t) pair_b[p] * d, d);
      double l;

      if (same[p])
        l = d2;
      else
        {
          double gap = (double) margin - sqrt (d2);
          l = gap > 0.0 ? gap * gap : 0.0;
        }
      if (losses != NULL)
        losses[p] = (float) l;
      active += l > 0.0;
      sum += l;
    }
  if (stats != NULL)
    {
      stats->n_terms = n_pairs;
      stats->n_active = active;
    }
  return n_pairs > 0 ? sum / n_pairs : 0.0;
}

void
tl_contrastive_loss_backward (float       *demb,
                              const float *emb,
                              const int   *pair_a,
                              const int   *pair_b,
                              const int   *same,
                              int          n_pairs,
                              int          d,
                              float        margin,
                              float        dloss)
{
  double scale;
  int p, k;

  if (n_pairs <= 0)
    return;
  scale = (double) dloss / n_pairs;
  for (p = 0; p < n_pairs; p++)
    {
      int i = pair_a[p], j = pair_b[p];
      const float *x = emb + (size_t) i * d;
      const float *y = emb + (size_t) j * d;

      if (same[p])
        {
          /* ∂D²/∂x = 2 (x − y): smooth, also at D = 0. */
          float *dx = demb + (size_t) i * d;
          float *dy = demb + (size_t) j * d;

          for (k = 0; k < d; k++)
            {
              double g = 2.0 * scale * ((double) x[k] - (double) y[k]);
              dx[k] += (float) g;
              dy[k] -= (float) g;
            }
        }
      else
        {
          double dist = sqrt (sq_dist (x, y, d));
          double gap = (double) margin - dist;

          if (gap > 0.0)
            add_dist_grad (demb, emb, i, j, d, dist, -2.0 * gap * scale);
        }
    }
}

/* ---- triplet ------------------------------------------------------------- */

/* One (anchor, positive, negative) term: adds its gradient when demb is set
 * and returns its loss. */
static double
triplet_term (float        *demb,
              const float  *emb,
              const double *dist,
              int           b,
              int           d,
              int           a,
              int           p,
              int           n,
              float         margin,
              double        coeff)
{
  double dap = dist[(size_t) a * b + p];
  double dan = dist[(size_t) a * b + n];
  double l = dap - dan + (double) margin;

  if (!(l > 0.0))
    return 0.0;
  if (demb != NULL)
    {
      add_dist_grad (demb, emb, a, p, d, dap, coeff);
      add_dist_grad (demb, emb, a, n, d, dan, -coeff);
    }
  return l;
}

static double
triplet_all (TlLossStats  *stats,
             float        *demb,
             const float  *emb,
             const double *dist,
             const int    *labels,
             int           b,
             int           d,
             float         margin,
             double        dloss)
{
  double sum = 0.0;
  int a, p, n, terms = 0, active = 0;

  /* First count the active triplets: the gradient's scale depends on it. */
  for (a = 0; a < b; a++)
    for (p = 0; p < b; p++)
      {
        if (p == a || labels[p] != labels[a])
          continue;
        for (n = 0; n < b; n++)
          {
            double l;

            if (labels[n] == labels[a])
              continue;
            terms++;
            l = triplet_term (NULL, emb, dist, b, d, a, p, n, margin, 0.0);
            if (l > 0.0)
              {
                active++;
                sum += l;
              }
          }
      }
  if (stats != NULL)
    {
      stats->n_terms = terms;
      stats->n_active = active;
    }
  if (active == 0)
    return 0.0;
  if (demb != NULL)
    for (a = 0; a < b; a++)
      for (p = 0; p < b; p++)
        {
          if (p == a || labels[p] != labels[a])
            continue;
          for (n = 0; n < b; n++)
            if (labels[n] != labels[a])
              triplet_term (demb, emb, dist, b, d, a, p, n, margin, dloss / active);
        }
  return sum / active;
}

static double
triplet_hard (TlLossStats  *stats,
              float        *demb,
              const float  *emb,
              const double *dist,
              const int    *labels,
              int           b,
              int           d,
              float         margin,
              double        coeff)
{
  double sum = 0.0;
  int a, j, terms = 0, active = 0;

  for (a = 0; a < b; a++)
    {
      const double *row = dist + (size_t) a * b;
      int p = -1, n = -1;
      double l;

      for (j = 0; j < b; j++)
        {
          if (j == a)
            continue;
          if (labels[j] == labels[a])
            {
              if (p < 0 || row[j] > row[p])
                p = j;
            }
          else if (n < 0 || row[j] < row[n])
            n = j;
        }
      if (p < 0 || n < 0)
        continue;
      terms++;
      l = triplet_term (demb, emb, dist, b, d, a, p, n, margin, coeff);
      active += l > 0.0;
      sum += l;
    }
  stats->n_terms = terms;
  stats->n_active = active;
  return terms > 0 ? sum / terms : 0.0;
}

static double
triplet_semi_hard (TlLossStats  *stats,
                   float        *demb,
                   const float  *emb,
                   const double *dist,
                   const int    *labels,
                   int           b,
                   int           d,
                   float         margin,
                   double        coeff)
{
  double sum = 0.0;
  int a, p, j, terms = 0, active = 0;

  for (a = 0; a < b; a++)
    {
      const double *row = dist + (size_t) a * b;

      for (p = 0; p < b; p++)
        {
          int semi = -1, far = -1;
          double l;

          if (p == a || labels[p] != labels[a])
            continue;
          for (j = 0; j < b; j++)
            {
              if (labels[j] == labels[a])
                continue;
              if (far < 0 || row[j] > row[far])
                far = j;
              if (row[j] > row[p] && (semi < 0 || row[j] < row[semi]))
                semi = j;
            }
          if (far < 0)
            continue;
          terms++;
          l = triplet_term (demb, emb, dist, b, d, a, p, semi >= 0 ? semi : far,
                            margin, coeff);
          active += l > 0.0;
          sum += l;
        }
    }
  stats->n_terms = terms;
  stats->n_active = active;
  return terms > 0 ? sum / terms : 0.0;
}

static double
triplet_run (TlLossStats     *stats_out,
             float           *demb,
             const float     *emb,
             const int       *labels,
             int              b,
             int              d,
             float            margin,
             TlTripletMining  mining,
             double           dloss,
             void            *scratch)
{
  TlLossStats stats = { 0, 0 };
  double *dist = scratch_dist (scratch);
  double loss = 0.0;

  if (b <= 0)
    {
      if (stats_out != NULL)
        *stats_out = stats;
      return 0.0;
    }
  fill_dist (dist, emb, b, d);
  switch (mining)
    {
    case TL_TRIPLET_ALL:
      loss = triplet_all (&stats, demb, emb, dist, labels, b, d, margin, dloss);
      break;
    case TL_TRIPLET_HARD:
      /* The first pass counts the terms the gradient is scaled by. */
      loss = triplet_hard (&stats, NULL, emb, dist, labels, b, d, margin, 0.0);
      if (demb != NULL && stats.n_terms > 0)
        triplet_hard (&stats, demb, emb, dist, labels, b, d, margin,
                      dloss / stats.n_terms);
      break;
    case TL_TRIPLET_SEMI_HARD:
    default:
      loss = triplet_semi_hard (&stats, NULL, emb, dist, labels, b, d, margin, 0.0);
      if (demb != NULL && stats.n_terms > 0)
        triplet_semi_hard (&stats, demb, emb, dist, labels, b, d, margin,
                           dloss / stats.n_terms);
      break;
    }
  if (stats_out != NULL)
    *stats_out = stats;
  return loss;
}

double
tl_triplet_loss_forward (TlLossStats     *stats,
                         const float     *emb,
                         const int       *labels,
                         int              b,
                         int              d,
                         float            margin,
                         TlTripletMining  mining,
                         void            *scratch)
{
  return triplet_run (stats, NULL, emb, labels, b, d, margin, mining, 0.0, scratch);
}

void
tl_triplet_loss_backward (float           *demb,
                          const float     *emb,
                          const int       *labels,
                          int              b,
                          int              d,
                          float            margin,
                          TlTripletMining  mining,
                          float            dloss,
                          void            *scratch)
{
  triplet_run (NULL, demb, emb, labels, b, d, margin, mining, dloss, scratch);
}

/* ---- pair-wise hinge ----------------------------------------------------- */

static int
compare_neg (const void *pa,
             const void *pb)
{
  const NegPair *a = pa;
  const NegPair *b = pb;

  if (a->dist < b->dist)
    return -1;
  if (a->dist > b->dist)
    return 1;
  return (a->index > b->index) - (a->index < b->index);
}

static double
pair_hinge_run (TlLossStats *stats,
                float       *demb,
                const float *emb,
                const int   *labels,
                int          b,
                int          d,
                float        threshold,
                float        margin,
                double       dloss,
                void        *scratch)
{
  double *dist = scratch_dist (scratch);
  NegPair *neg = scratch_neg (scratch, b);
  double pos_edge = (double) threshold - margin;
  double neg_edge = (double) threshold + margin;
  double sum = 0.0, coeff;
  int i, j, n_pos = 0, n_neg = 0, k, active = 0;

  if (b > 1)
    fill_dist (dist, emb, b, d);
  for (i = 0; i < b; i++)
    for (j = i + 1; j < b; j++)
      {
        if (labels[i] == labels[j])
          n_pos++;
        else
          neg[n_neg++] = (NegPair) { dist[(size_t) i * b + j], i * b + j };
      }
  k = n_pos < n_neg ? n_pos : n_neg;
  if (stats != NULL)
    {
      stats->n_terms = n_pos + k;
      stats->n_active = 0;
    }
  if (n_pos == 0)
    return 0.0;
  qsort (neg, n_neg, sizeof (NegPair), compare_neg);
  coeff = dloss / n_pos;

  for (i = 0; i < b; i++)
    for (j = i + 1; j < b; j++)
      {
        double dij = dist[(size_t) i * b + j];

        if (labels[i] != labels[j] || !(dij > pos_edge))
          continue;
        sum += dij - pos_edge;
        active++;
        if (demb != NULL)
          add_dist_grad (demb, emb, i, j, d, dij, coeff);
      }
  for (i = 0; i < k; i++)
    {
      double dij = neg[i].dist;

      if (!(dij < neg_edge))
        continue;
      sum += neg_edge - dij;
      active++;
      if (demb != NULL)
        add_dist_grad (demb, emb, neg[i].index / b, neg[i].index % b, d, dij, -coeff);
    }
  if (stats != NULL)
    stats->n_active = active;
  return sum / n_pos;
}

double
tl_pair_hinge_loss_forward (TlLossStats *stats,
                            const float *emb,
                            const int   *labels,
                            int          b,
                            int          d,
                            float        threshold,
                            float        margin,
                            void        *scratch)
{
  return pair_hinge_run (stats, NULL, emb, labels, b, d, threshold, margin, 0.0, scratch);
}

void
tl_pair_hinge_loss_backward (float       *demb,
                             const float *emb,
                             const int   *labels,
                             int          b,
                             int          d,
                             float        threshold,
                             float        margin,
                             float        dloss,
                             void        *scratch)
{
  pair_hinge_run (NULL, demb, emb, labels, b, d, threshold, margin, dloss, scratch);
}

/* ---- softmax cross-entropy ------------------------------------------------ */

/* log Σ exp(x), shifted by the maximum so that nothing overflows. */
static double
log_sum_exp (const float *x,
             int          k)
{
  double mx = x[0], sum = 0;

  for (int j = 1; j < k; j++)
    mx = x[j] > mx ? x[j] : mx;
  for (int j = 0; j < k; j++)
    sum += exp (x[j] - mx);
  return mx + log (sum);
}

static double
xent_weight_sum (const int   *labels,
                 const float *class_weight,
                 int          b)
{
  double w = 0;

  for (int i = 0; i < b; i++)
    w += class_weight ? class_weight[labels[i]] : 1.0;
  return w;
}

double
tl_softmax_xent_forward (float       *probs,
                         const float *logits,
                         const int   *labels,
                         const float *class_weight,
                         int          b,
                         int          k)
{
  double wsum = xent_weight_sum (labels, class_weight, b), loss = 0;

  for (int i = 0; i < b; i++)
    {
      const float *x = logits + (size_t) i * k;
      double lse = log_sum_exp (x, k);
      double w = class_weight ? class_weight[labels[i]] : 1.0;

      loss += w * (lse - x[labels[i]]);
      if (probs)
        for (int j = 0; j < k; j++)
          probs[(size_t) i * k + j] = exp (x[j] - lse);
    }
  return wsum > 0 ? loss / wsum : 0.0;
}

void
tl_softmax_xent_backward (float       *dlogits,
                          const float *logits,
                          const int   *labels,
                          const float *class_weight,
                          int          b,
                          int          k,
                          float        dloss)
{
  double wsum = xent_weight_sum (labels, class_weight, b);

  if (wsum <= 0)
    return;
  for (int i = 0; i < b; i++)
    {
      const float *x = logits + (size_t) i * k;
      double lse = log_sum_exp (x, k);
      double w = (class_weight ? class_weight[labels[i]] : 1.0) * dloss / wsum;

      for (int j = 0; j < k; j++)
        dlogits[(size_t) i * k + j] += w * (exp (x[j] - lse) - (j == labels[i]));
    }
}
