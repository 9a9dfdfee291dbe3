/* tl-nn-optim.c — SGD with momentum, Adam(W), learning-rate schedules
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "tl-nn-optim.h"

#include <math.h>

void
tl_sgd_step (float       *params,
             float       *velocity,
             const float *grads,
             size_t       n,
             float        lr,
             float        momentum,
             float        weight_decay)
{
  size_t i;

  for (i = 0; i < n; i++)
    {
      float g = grads[i] + weight_decay * params[i];

      if (velocity != NULL && momentum != 0.0f)
        {
          velocity[i] = momentum * velocity[i] + g;
          g = velocity[i];
        }
      params[i] -= lr * g;
    }
}

void
tl_adam_step (float       *params,
              float       *m,
              float       *v,
              const float *grads,
              size_t       n,
              float        lr,
              float        beta1,
              float        beta2,
              float        eps,
              float        weight_decay,
              int          t)
{
  /* Bias corrections in double: 1 − β2^t is tiny for the first steps. */
  float c1 = (float) (1.0 / (1.0 - pow (beta1, t < 1 ? 1 : t)));
  float c2 = (float) (1.0 / (1.0 - pow (beta2, t < 1 ? 1 : t)));
  size_t i;

  for (i = 0; i < n; i++)
    {
      float g = grads[i];
      float m_hat, v_hat;

      m[i] = beta1 * m[i] + (1.0f - beta1) * g;
      v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
      m_hat = m[i] * c1;
      v_hat = v[i] * c2;
      params[i] -= lr * (m_hat / (sqrtf (v_hat) + eps) + weight_decay * params[i]);
    }
}

float
tl_lr_step (float base_lr,
            int   step,
            int   step_size,
            float gamma)
{
  if (step_size <= 0 || step < 0)
    return base_lr;
  return base_lr * (float) pow (gamma, step / step_size);
}

float
tl_lr_cosine (float base_lr,
              float min_lr,
              int   step,
              int   total,
              int   warmup)
{
  double s;

  if (step < 0)
    step = 0;
  if (warmup > 0 && step < warmup)
    return base_lr * (float) (step + 1) / (float) warmup;
  if (step >= total)
    return min_lr;
  s = (double) (step - warmup) / (double) (total - warmup);
  return (float) (min_lr + (base_lr - min_lr) * 0.5 * (1.0 + cos (M_PI * s)));
}
