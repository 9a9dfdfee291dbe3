/* test-nn-optim.c — optimizer steps and learning-rate schedules against
 * hand-computed values
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <math.h>

#include "tl-nn-optim.h"

static void
test_sgd (void)
{
  /* lr .1, momentum .9, weight decay .01, w 1, g .5 twice:
   * step 1: g' = .5 + .01 = .51, v = .51, w = 1 − .051 = .949
   * step 2: g' = .5 + .00949 = .50949, v = .459 + .50949 = .96849,
   *         w = .949 − .096849 = .852151 */
  float w[2] = { 1.0f, -2.0f }, v[2] = { 0 }, g[2] = { 0.5f, 0.0f };

  tl_sgd_step (w, v, g, 2, 0.1f, 0.9f, 0.01f);
  g_assert_cmpfloat_with_epsilon (w[0], 0.949f, 1e-6);
  g_assert_cmpfloat_with_epsilon (v[0], 0.51f, 1e-6);
  tl_sgd_step (w, v, g, 2, 0.1f, 0.9f, 0.01f);
  g_assert_cmpfloat_with_epsilon (w[0], 0.852151f, 1e-6);
  g_assert_cmpfloat_with_epsilon (v[0], 0.96849f, 1e-6);
  /* The second weight only decays: g' = −.02, v = −.02, w = −1.998;
   * then g' = −.01998, v = −.018 − .01998. */
  g_assert_cmpfloat_with_epsilon (w[1], -2.0f + 0.002f + 0.1f * (0.018f + 0.01998f), 1e-6);

  /* Plain SGD: no velocity needed. */
  w[0] = 1.0f;
  tl_sgd_step (w, NULL, g, 1, 0.1f, 0.0f, 0.0f);
  g_assert_cmpfloat_with_epsilon (w[0], 0.95f, 1e-7);
}

static void
test_adam (void)
{
  /* lr .1, β .9/.999, eps 1e-8, decoupled decay .01; w 1; g .5 then −.25.
   * t 1: m .05, v .00025; m̂ .5, v̂ .25; w = 1 − .1 (.5/.5 + .01) = .899
   * t 2: m .02, v .00031225; m̂ .02/.19, v̂ .00031225/.001999;
   *      w = .899 − .1 (.26634 + .00899) = .8714673 */
  float w = 1.0f, m = 0.0f, v = 0.0f, g = 0.5f;

  tl_adam_step (&w, &m, &v, &g, 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 1);
  g_assert_cmpfloat_with_epsilon (m, 0.05f, 1e-7);
  /* 1 − 0.999f is 0.00099998713 in float: a relative 1.3e-5 off. */
  g_assert_cmpfloat_with_epsilon (v, 0.00025f, 1e-8);
  g_assert_cmpfloat_with_epsilon (w, 0.899f, 1e-6);
  g = -0.25f;
  tl_adam_step (&w, &m, &v, &g, 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 2);
  g_assert_cmpfloat_with_epsilon (m, 0.02f, 1e-7);
  g_assert_cmpfloat_with_epsilon (v, 0.00031225f, 1e-8);
  g_assert_cmpfloat_with_epsilon (w, 0.8714673f, 2e-6);

  /* Decoupled: with a zero gradient only the decay acts, lr · wd · w. */
  w = 2.0f;
  m = v = g = 0.0f;
  tl_adam_step (&w, &m, &v, &g, 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f, 1);
  g_assert_cmpfloat_with_epsilon (w, 2.0f - 0.1f * 0.5f * 2.0f, 1e-7);
  g_assert_cmpfloat (m, ==, 0.0f);
}

static void
test_schedules (void)
{
  g_assert_cmpfloat_with_epsilon (tl_lr_step (0.1f, 0, 10, 0.5f), 0.1f, 1e-9);
  g_assert_cmpfloat_with_epsilon (tl_lr_step (0.1f, 9, 10, 0.5f), 0.1f, 1e-9);
  g_assert_cmpfloat_with_epsilon (tl_lr_step (0.1f, 10, 10, 0.5f), 0.05f, 1e-9);
  g_assert_cmpfloat_with_epsilon (tl_lr_step (0.1f, 25, 10, 0.5f), 0.025f, 1e-9);

  /* base 1, min .1, 10 warm-up steps of 110. */
  g_assert_cmpfloat_with_epsilon (tl_lr_cosine (1.0f, 0.1f, 0, 110, 10), 0.1f, 1e-7);
  g_assert_cmpfloat_with_epsilon (tl_lr_cosine (1.0f, 0.1f, 4, 110, 10), 0.5f, 1e-7);
  g_assert_cmpfloat_with_epsilon (tl_lr_cosine (1.0f, 0.1f, 10, 110, 10), 1.0f, 1e-7);
  /* a quarter of the way: .1 + .9 (1 + cos π/4) / 2 */
  g_assert_cmpfloat_with_epsilon (tl_lr_cosine (1.0f, 0.1f, 35, 110, 10), 0.8681981f, 1e-6);
  g_assert_cmpfloat_with_epsilon (tl_lr_cosine (1.0f, 0.1f, 60, 110, 10), 0.55f, 1e-6);
  g_assert_cmpfloat_with_epsilon (tl_lr_cosine (1.0f, 0.1f, 110, 110, 10), 0.1f, 1e-7);
  g_assert_cmpfloat_with_epsilon (tl_lr_cosine (1.0f, 0.1f, 500, 110, 10), 0.1f, 1e-7);
  g_assert_cmpfloat_with_epsilon (tl_lr_cosine (1.0f, 0.0f, 0, 100, 0), 1.0f, 1e-7);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/nn/optim/sgd", test_sgd);
  g_test_add_func ("/twinlock/nn/optim/adam", test_adam);
  g_test_add_func ("/twinlock/nn/optim/schedules", test_schedules);
  return g_test_run ();
}
