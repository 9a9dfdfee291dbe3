/* tl-face-dataset.h — labelled grey face images for training and evaluating
 * twin encoders
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Every image has the same size, one grey channel, values in [0, 1]:
 * pixels [n_images][height][width].  labels[i] in [0, n_people) indexes
 * names[]; images of one person are contiguous. */
typedef struct
{
  int     width;
  int     height;
  int     n_images;
  int     n_people;
  float  *pixels;
  int    *labels;
  char  **names;
} TlFaceDataset;

/* Limits that keep a hostile or mistaken dataset from exhausting memory. */
#define TL_FACE_DATASET_MAX_IMAGES 200000
#define TL_FACE_DATASET_MAX_SIDE   1024

/* One folder per person under `dir` (the folder's name is the person's),
 * holding images in any format gdk-pixbuf reads (PNG, JPEG, PGM …).  Each
 * image is converted to grey and resized to width × height; `crop` in
 * (0, 1] first keeps that central fraction of each side (LFW's 250×250
 * photos hold the face in roughly the middle half).  People with fewer than
 * `min_per_person` images are left out; at most `max_per_person` images of a
 * person are read (0: all), in file-name order.  Files whose names do not
 * look like images are ignored; an image that cannot be read is an error
 * naming the file. */
TlFaceDataset *tl_face_dataset_load_folders (const char  *dir,
                                             int          width,
                                             int          height,
                                             double       crop,
                                             int          min_per_person,
                                             int          max_per_person,
                                             GError     **error);

/* A montage image: one row of tiles per person, `per_person` tiles of
 * tile_width × tile_height per row (the form of the test fixture).  People
 * are named "1", "2", … */
TlFaceDataset *tl_face_dataset_load_montage (const char  *path,
                                             int          tile_width,
                                             int          tile_height,
                                             GError     **error);

/* A new dataset with the people first_person … first_person + n_people − 1
 * of `ds` (relabelled from 0). */
TlFaceDataset *tl_face_dataset_people       (const TlFaceDataset *ds,
                                             int                  first_person,
                                             int                  n_people);

/* A new dataset with images first_image … first_image + n − 1 of every
 * person (counted per person; people with fewer images get fewer), for
 * holding out some images of the people a net is trained on. */
TlFaceDataset *tl_face_dataset_images       (const TlFaceDataset *ds,
                                             int                  first_image,
                                             int                  n);

/* Splits every person's images: the last `n_last` go to *last, the others
 * to *first (a person with n_last images or fewer gives them all to *last). */
void           tl_face_dataset_split_images (const TlFaceDataset  *ds,
                                             int                   n_last,
                                             TlFaceDataset       **first,
                                             TlFaceDataset       **last);

/* Number of images of `person`, and the index of their first image. */
int            tl_face_dataset_count        (const TlFaceDataset *ds,
                                             int                  person,
                                             int                 *first);

void           tl_face_dataset_free         (TlFaceDataset *ds);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlFaceDataset, tl_face_dataset_free)

G_END_DECLS
