/* tl-kws-verifier.h — the keyword spotter's second stage: a small
 * convolutional network that tells "unlock", "lock" and anything else
 * apart from the log-mel features of a window around a candidate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window: TL_KWS_VERIFIER_FRAMES frames (tl-kws-features.h) whose last
 * one ends a network's "after" frames after the end of the word the
 * keyphrase search proposed: TL_KWS_VERIFIER_AFTER unless the network
 * was trained for another (`twinlockctl kws train --after`).  A model
 * file says which in the name of its input node: "input" (files without
 * it) is TL_KWS_VERIFIER_AFTER, "mel-after-N" is N frames.  The network of width w (built by
 * tl_kws_verifier_net_new_width(), trained by `twinlockctl kws train
 * --width`; w = 16 by default, ≈ 2.5 M multiply-adds, and for any w
 * ≈ 9000 w + 9000 w²):
 *
 *   [100 × 40 × 1] conv 3×3/2 w, BN, ReLU → max pool 2
 *   → conv 3×3 2w, BN, ReLU → max pool 2 → conv 3×3 4w, BN, ReLU
 *   → max pool 2 → [6 × 2 × 4w] dense 4w, ReLU → dense 3 (logits:
 *   other, unlock, lock)
 *
 * A model file brings the weights and the window's place only: the width
 * is read from conv1's weights, and every tensor must then match this
 * description at that width, so a file cannot bring another architecture.
 *
 * A verifier may be an ensemble: several such networks, trained
 * independently, whose logits are averaged before the softmax.
 */
#pragma once

#include <glib.h>

#include "tl-nn-net.h"

G_BEGIN_DECLS

#define TL_KWS_VERIFIER_FRAMES 100
#define TL_KWS_VERIFIER_AFTER  8
/* The latest a network's window may end: 300 ms after the word (the
 * engine's latest offset adds 20 ms), about the longest the spotter may
 * keep a speaker waiting. */
#define TL_KWS_VERIFIER_MAX_AFTER 30
#define TL_KWS_VERIFIER_INPUT  (TL_KWS_VERIFIER_FRAMES * 40)
#define TL_KWS_VERIFIER_FILE   "kws-verifier.tlnn"
/* The network's width w (see above) by default, and the widths a model
 * may have. */
#define TL_KWS_VERIFIER_WIDTH     16
#define TL_KWS_VERIFIER_MIN_WIDTH 4
#define TL_KWS_VERIFIER_MAX_WIDTH 64

/* Default thresholds on the verifier's probability: the lowest with no
 * false alarm on the held-out files of the first two training corpora
 * (/tmp/kws-train-held2, README "Voice"). */
#define TL_KWS_VERIFIER_UNLOCK_THRESHOLD 0.9980
#define TL_KWS_VERIFIER_LOCK_THRESHOLD   0.9310

typedef enum
{
  TL_KWS_CLASS_OTHER = 0,
  TL_KWS_CLASS_UNLOCK,
  TL_KWS_CLASS_LOCK,
  TL_KWS_N_CLASSES
} TlKwsClass;

/* "unlock" → TL_KWS_CLASS_UNLOCK …; anything else → TL_KWS_CLASS_OTHER. */
TlKwsClass   tl_kws_class_from_phrase  (const char *phrase);
const char  *tl_kws_class_phrase       (TlKwsClass  klass);

/* The architecture at the default width, built, parameters zero (not
 * prepared). */
TlNet       *tl_kws_verifier_net_new   (GError    **error);
/* The same at @width (TL_KWS_VERIFIER_MIN_WIDTH…_MAX_WIDTH). */
TlNet       *tl_kws_verifier_net_new_width (int      width,
                                            GError **error);
/* The same for a window that ends @after frames after the word
 * (0…TL_KWS_VERIFIER_MAX_AFTER), which a saved model file then keeps. */
TlNet       *tl_kws_verifier_net_new_full (int      width,
                                           int      after,
                                           GError **error);

/* The width of the verifier network in the model file at @path, read
 * from its first convolution's weights; 0 with @error set if the file
 * cannot be read or holds no verifier of a supported width. */
int          tl_kws_verifier_file_width (const char  *path,
                                         GError     **error);

/* Where the installed (or, in the source tree, the committed) model is;
 * $TWINLOCK_MODELDIR overrides. */
char        *tl_kws_verifier_default_path (void);
/* The default verifier's model files (the first is
 * tl_kws_verifier_default_path ()), NULL-terminated. */
char       **tl_kws_verifier_default_paths (void);

typedef struct _TlKwsVerifier TlKwsVerifier;

TlKwsVerifier *tl_kws_verifier_load    (const char     *path,
                                        GError        **error);
/* An ensemble of the models in @paths (NULL-terminated, at least one,
 * at most TL_KWS_VERIFIER_MAX_MEMBERS). */
#define TL_KWS_VERIFIER_MAX_MEMBERS 16
TlKwsVerifier *tl_kws_verifier_load_ensemble (const char * const *paths,
                                              GError            **error);
guint          tl_kws_verifier_n_members (TlKwsVerifier *self);
/* Frames between the end of the word and the end of member @member's
 * window. */
int            tl_kws_verifier_member_after (TlKwsVerifier *self,
                                             guint          member);
/* A candidate's windows: each member's window shifted by each of the
 * @n_offsets @offsets (frames), each distinct window once.  Fills @ends
 * (frames from the word's end to each window's end) and @index
 * ([member][offset]: the window in @ends), both of n_members · @n_offsets
 * entries, and returns the number of distinct windows. */
guint          tl_kws_verifier_plan_windows (TlKwsVerifier *self,
                                             const int     *offsets,
                                             guint          n_offsets,
                                             int           *ends,
                                             int           *index);
/* Member @member's network, folded and prepared for batch 1 (owned by
 * the verifier; for measuring it, e.g. `twinlockctl bench kws`). */
TlNet         *tl_kws_verifier_member_net (TlKwsVerifier *self,
                                           guint          member);
void           tl_kws_verifier_free    (TlKwsVerifier  *self);
/* Class probabilities (softmax of the members' mean logits) of one window
 * of [TL_KWS_VERIFIER_FRAMES][TL_KWS_MEL_BANDS] features: every member on
 * that window, wherever its own would be (for members whose windows sit
 * at different places, tl_kws_verifier_classify_windows ()). */
void           tl_kws_verifier_classify (TlKwsVerifier *self,
                                         const float   *features,
                                         double        *probs);
/* The same for member @member alone (< tl_kws_verifier_n_members ()). */
void           tl_kws_verifier_classify_member (TlKwsVerifier *self,
                                                guint          member,
                                                const float   *features,
                                                double        *probs);

/* At most this many warped views of a window (below). */
#define TL_KWS_VERIFIER_MAX_WARPS 8
/* Warps a view may have. */
#define TL_KWS_VERIFIER_MIN_WARP  0.8
#define TL_KWS_VERIFIER_MAX_WARP  1.25
/* Class probabilities of one window seen several ways: the window itself
 * and its copies warped along the mel axis by each of @warps (@n_warps ≤
 * TL_KWS_VERIFIER_MAX_WARPS; tl_kws_mel_resample () with shift 0 and
 * stretch 1): the softmax of the logits averaged over these views and
 * over the members, or of member @member alone (-1: all). */
void           tl_kws_verifier_classify_views (TlKwsVerifier *self,
                                               int            member,
                                               const float   *features,
                                               const float   *warps,
                                               guint          n_warps,
                                               double        *probs);

/* The same as tl_kws_verifier_classify_views () with all the members,
 * each member m on its own window @features[m] (the members' windows may
 * sit at different places, tl_kws_verifier_member_after ()). */
void           tl_kws_verifier_classify_windows (TlKwsVerifier       *self,
                                                 const float * const *features,
                                                 const float         *warps,
                                                 guint                n_warps,
                                                 double              *probs);

/* Softmax of k logits into probs (in double). */
void           tl_kws_softmax          (double         *probs,
                                        const float    *logits,
                                        int             k);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlKwsVerifier, tl_kws_verifier_free)

G_END_DECLS
