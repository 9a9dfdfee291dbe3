/* tl-nn-optim.h — optimizers and learning-rate schedules
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Steps work on flat float arrays (one tensor, or a whole parameter
 * allocation), update in place and allocate nothing; the state arrays
 * (velocity, Adam's moments) have the parameters' length and start zeroed.
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SGD with momentum and L2 weight decay (the decay is part of the
 * gradient, so momentum carries it too):
 *   g = grad + weight_decay · w
 *   v = momentum · v + g
 *   w = w − lr · v
 * momentum 0 is plain SGD (velocity may then be NULL). */
void  tl_sgd_step    (float       *params,
                      float       *velocity,
                      const float *grads,
                      size_t       n,
                      float        lr,
                      float        momentum,
                      float        weight_decay);

/* Adam with bias correction and DECOUPLED weight decay (AdamW): the decay
 * shrinks the weights directly and never enters the moments.  t is the
 * 1-based step number (the same for every tensor of a step):
 *   m = β1 · m + (1 − β1) · g
 *   v = β2 · v + (1 − β2) · g²
 *   m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
 *   w = w − lr · (m̂ / (√v̂ + eps) + weight_decay · w)
 * Usual values: β1 0.9, β2 0.999, eps 1e-8. */
void  tl_adam_step   (float       *params,
                      float       *m,
                      float       *v,
                      const float *grads,
                      size_t       n,
                      float        lr,
                      float        beta1,
                      float        beta2,
                      float        eps,
                      float        weight_decay,
                      int          t);

/* Step decay: base_lr · gamma^⌊step / step_size⌋ (step counts from 0). */
float tl_lr_step     (float base_lr,
                      int   step,
                      int   step_size,
                      float gamma);

/* Linear warm-up then cosine decay, step counting from 0:
 *   step < warmup:          base_lr · (step + 1) / warmup
 *   warmup <= step < total: min_lr + (base_lr − min_lr) · (1 + cos(π·s)) / 2,
 *                           s = (step − warmup) / (total − warmup)
 *   step >= total:          min_lr */
float tl_lr_cosine   (float base_lr,
                      float min_lr,
                      int   step,
                      int   total,
                      int   warmup);

#ifdef __cplusplus
}
#endif
