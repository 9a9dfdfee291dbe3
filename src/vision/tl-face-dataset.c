/* tl-face-dataset.c — reading face datasets into grey float arrays
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "tl-face-dataset.h"

/* Source images larger than this are refused before they are decoded. */
#define MAX_SOURCE_SIDE 8192
/* 256 MiB of floats at most. */
#define MAX_TOTAL_PIXELS ((gsize) 64 << 20)

static const char *const image_suffixes[] = {
  ".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".pnm", ".bmp", ".tif", ".tiff",
};

void
tl_face_dataset_free (TlFaceDataset *ds)
{
  if (ds == NULL)
    return;
  g_free (ds->pixels);
  g_free (ds->labels);
  g_strfreev (ds->names);
  g_free (ds);
}

int
tl_face_dataset_count (const TlFaceDataset *ds,
                       int                  person,
                       int                 *first)
{
  int i, n = 0, start = -1;

  g_return_val_if_fail (ds != NULL, 0);

  for (i = 0; i < ds->n_images; i++)
    if (ds->labels[i] == person)
      {
        if (start < 0)
          start = i;
        n++;
      }
  if (first != NULL)
    *first = start;
  return n;
}

static gboolean
check_size (int      width,
            int      height,
            GError **error)
{
  if (width < 1 || height < 1 ||
      width > TL_FACE_DATASET_MAX_SIDE || height > TL_FACE_DATASET_MAX_SIDE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Face images must be 1 to %d pixels on each side (asked for %d×%d)"),
                   TL_FACE_DATASET_MAX_SIDE, width, height);
      return FALSE;
    }
  return TRUE;
}

/* Grey values in [0, 1] from any pixbuf (ITU-R BT.601 weights). */
static void
pixbuf_to_grey (GdkPixbuf *pb,
                float     *out)
{
  int w = gdk_pixbuf_get_width (pb);
  int h = gdk_pixbuf_get_height (pb);
  int nc = gdk_pixbuf_get_n_channels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb);
  const guint8 *px = gdk_pixbuf_read_pixels (pb);
  int x, y;

  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      {
        const guint8 *p = px + (gsize) y * stride + (gsize) x * nc;
        float v = nc >= 3 ? 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2] : p[0];

        out[(gsize) y * w + x] = v / 255.0f;
      }
}

static GdkPixbuf *
load_pixbuf (const char  *path,
             GError     **error)
{
  GdkPixbuf *pb;
  int w = 0, h = 0;

  if (gdk_pixbuf_get_file_info (path, &w, &h) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” is not an image this system can read"), path);
      return NULL;
    }
  if (w > MAX_SOURCE_SIDE || h > MAX_SOURCE_SIDE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” is %d×%d pixels; images larger than %d pixels a side are refused"),
                   path, w, h, MAX_SOURCE_SIDE);
      return NULL;
    }
  pb = gdk_pixbuf_new_from_file (path, error);
  if (pb == NULL)
    g_prefix_error (error, _("Cannot read the face image “%s”: "), path);
  return pb;
}

/* Reads one image: central crop, resize, grey. */
static gboolean
load_face (const char  *path,
           int          width,
           int          height,
           double       crop,
           float       *out,
           GError     **error)
{
  g_autoptr (GdkPixbuf) pb = load_pixbuf (path, error);
  g_autoptr (GdkPixbuf) sub = NULL;
  g_autoptr (GdkPixbuf) scaled = NULL;
  int w, h, cw, ch;

  if (pb == NULL)
    return FALSE;
  w = gdk_pixbuf_get_width (pb);
  h = gdk_pixbuf_get_height (pb);
  cw = MAX (1, (int) (w * crop + 0.5));
  ch = MAX (1, (int) (h * crop + 0.5));
  sub = gdk_pixbuf_new_subpixbuf (pb, (w - cw) / 2, (h - ch) / 2, cw, ch);
  scaled = gdk_pixbuf_scale_simple (sub, width, height, GDK_INTERP_BILINEAR);
  if (scaled == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   _("Out of memory while resizing “%s”"), path);
      return FALSE;
    }
  pixbuf_to_grey (scaled, out);
  return TRUE;
}

static gboolean
looks_like_image (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  gsize i;

  if (name[0] == '.')
    return FALSE;
  for (i = 0; i < G_N_ELEMENTS (image_suffixes); i++)
    if (g_str_has_suffix (lower, image_suffixes[i]))
      return TRUE;
  return FALSE;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Sorted entry names of `dir` that pass `keep` (NULL: sub-folders). */
static GPtrArray *
list_dir (const char  *dir,
          gboolean   (*keep) (const char *),
          GError     **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  g_autoptr (GPtrArray) names = NULL;
  const char *name;

  if (d == NULL)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;

      if (keep != NULL)
        {
          if (keep (name))
            g_ptr_array_add (names, g_strdup (name));
          continue;
        }
      path = g_build_filename (dir, name, NULL);
      if (name[0] != '.' && g_file_test (path, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_strings);
  return g_steal_pointer (&names);
}

TlFaceDataset *
tl_face_dataset_load_folders (const char  *dir,
                              int          width,
                              int          height,
                              double       crop,
                              int          min_per_person,
                              int          max_per_person,
                              GError     **error)
{
  g_autoptr (GPtrArray) people = NULL;
  g_autoptr (GArray) pixels = NULL;
  g_autoptr (GArray) labels = NULL;
  g_autoptr (GPtrArray) names = NULL;
  gsize tile = (gsize) width * height;
  TlFaceDataset *ds;
  guint p;

  g_return_val_if_fail (dir != NULL, NULL);

  if (!check_size (width, height, error))
    return NULL;
  if (!(crop > 0.0 && crop <= 1.0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The crop must be a fraction in (0, 1] (got %g)"), crop);
      return NULL;
    }
  people = list_dir (dir, NULL, error);
  if (people == NULL)
    {
      g_prefix_error (error, _("Cannot read the dataset folder: "));
      return NULL;
    }

  pixels = g_array_new (FALSE, FALSE, sizeof (float));
  labels = g_array_new (FALSE, FALSE, sizeof (int));
  names = g_ptr_array_new_with_free_func (g_free);
  for (p = 0; p < people->len; p++)
    {
      const char *person = g_ptr_array_index (people, p);
      g_autofree char *pdir = g_build_filename (dir, person, NULL);
      g_autoptr (GPtrArray) files = list_dir (pdir, looks_like_image, error);
      int label = (int) names->len;
      guint n, f;

      if (files == NULL)
        return NULL;
      n = files->len;
      if (max_per_person > 0)
        n = MIN (n, (guint) max_per_person);
      if ((int) n < MAX (1, min_per_person))
        continue;
      if (labels->len + n > TL_FACE_DATASET_MAX_IMAGES ||
          (pixels->len + n * tile) > MAX_TOTAL_PIXELS)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                       _("The dataset in “%s” is too large (at most %d images, %zu pixels in all); "
                         "use fewer people or images per person"),
                       dir, TL_FACE_DATASET_MAX_IMAGES, MAX_TOTAL_PIXELS);
          return NULL;
        }
      for (f = 0; f < n; f++)
        {
          g_autofree char *path = g_build_filename (pdir, g_ptr_array_index (files, f), NULL);
          gsize at = pixels->len;

          g_array_set_size (pixels, at + tile);
          if (!load_face (path, width, height, crop, &g_array_index (pixels, float, at), error))
            return NULL;
          g_array_append_val (labels, label);
        }
      g_ptr_array_add (names, g_strdup (person));
    }
  if (names->len < 2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” holds %u people with at least %d images each; a twin encoder "
                     "needs at least 2 (one folder of images per person)"),
                   dir, names->len, MAX (1, min_per_person));
      return NULL;
    }

  ds = g_new0 (TlFaceDataset, 1);
  ds->width = width;
  ds->height = height;
  ds->n_images = (int) labels->len;
  ds->n_people = (int) names->len;
  ds->pixels = (float *) g_array_free (g_steal_pointer (&pixels), FALSE);
  ds->labels = (int *) g_array_free (g_steal_pointer (&labels), FALSE);
  /* Freeing only the array hands the strings over. */
  g_ptr_array_add (names, NULL);
  ds->names = (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
  return ds;
}

TlFaceDataset *
tl_face_dataset_load_montage (const char  *path,
                              int          tile_width,
                              int          tile_height,
                              GError     **error)
{
  g_autoptr (GdkPixbuf) pb = NULL;
  g_autofree float *grey = NULL;
  TlFaceDataset *ds;
  int w, h, rows, cols, r, c, y;

  g_return_val_if_fail (path != NULL, NULL);

  if (!check_size (tile_width, tile_height, error))
    return NULL;
  pb = load_pixbuf (path, error);
  if (pb == NULL)
    return NULL;
  w = gdk_pixbuf_get_width (pb);
  h = gdk_pixbuf_get_height (pb);
  if (w % tile_width != 0 || h % tile_height != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” is %d×%d pixels, not a whole number of %d×%d tiles"),
                   path, w, h, tile_width, tile_height);
      return NULL;
    }
  rows = h / tile_height;
  cols = w / tile_width;
  if (rows < 2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” holds only one person (one row of tiles)"), path);
      return NULL;
    }
  grey = g_new (float, (gsize) w * h);
  pixbuf_to_grey (pb, grey);

  ds = g_new0 (TlFaceDataset, 1);
  ds->width = tile_width;
  ds->height = tile_height;
  ds->n_images = rows * cols;
  ds->n_people = rows;
  ds->pixels = g_new (float, (gsize) ds->n_images * tile_width * tile_height);
  ds->labels = g_new (int, ds->n_images);
  ds->names = g_new0 (char *, rows + 1);
  for (r = 0; r < rows; r++)
    {
      ds->names[r] = g_strdup_printf ("%d", r + 1);
      for (c = 0; c < cols; c++)
        {
          int i = r * cols + c;
          float *dst = ds->pixels + (gsize) i * tile_width * tile_height;

          ds->labels[i] = r;
          for (y = 0; y < tile_height; y++)
            memcpy (dst + (gsize) y * tile_width,
                    grey + ((gsize) r * tile_height + y) * w + (gsize) c * tile_width,
                    tile_width * sizeof (float));
        }
    }
  return ds;
}

TlFaceDataset *
tl_face_dataset_people (const TlFaceDataset *ds,
                        int                  first_person,
                        int                  n_people)
{
  gsize tile;
  TlFaceDataset *sub;
  int i, n = 0, p;

  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (first_person >= 0 && n_people >= 1, NULL);
  g_return_val_if_fail (first_person + n_people <= ds->n_people, NULL);

  tile = (gsize) ds->width * ds->height;
  for (i = 0; i < ds->n_images; i++)
    n += ds->labels[i] >= first_person && ds->labels[i] < first_person + n_people;

  sub = g_new0 (TlFaceDataset, 1);
  sub->width = ds->width;
  sub->height = ds->height;
  sub->n_images = n;
  sub->n_people = n_people;
  sub->pixels = g_new (float, MAX ((gsize) n * tile, 1));
  sub->labels = g_new (int, MAX (n, 1));
  sub->names = g_new0 (char *, n_people + 1);
  for (p = 0; p < n_people; p++)
    sub->names[p] = g_strdup (ds->names[first_person + p]);
  n = 0;
  for (i = 0; i < ds->n_images; i++)
    {
      int label = ds->labels[i] - first_person;

      if (label < 0 || label >= n_people)
        continue;
      memcpy (sub->pixels + (gsize) n * tile, ds->pixels + (gsize) i * tile,
              tile * sizeof (float));
      sub->labels[n++] = label;
    }
  return sub;
}

/* An empty dataset with room for all of ds's images and its people. */
static TlFaceDataset *
dataset_like (const TlFaceDataset *ds)
{
  TlFaceDataset *sub = g_new0 (TlFaceDataset, 1);
  int p;

  sub->width = ds->width;
  sub->height = ds->height;
  sub->n_people = ds->n_people;
  sub->pixels = g_new (float, MAX ((gsize) ds->n_images * ds->width * ds->height, 1));
  sub->labels = g_new (int, MAX (ds->n_images, 1));
  sub->names = g_new0 (char *, ds->n_people + 1);
  for (p = 0; p < ds->n_people; p++)
    sub->names[p] = g_strdup (ds->names[p]);
  return sub;
}

static void
dataset_append (TlFaceDataset       *dst,
                const TlFaceDataset *src,
                int                  i)
{
  gsize tile = (gsize) src->width * src->height;

  memcpy (dst->pixels + (gsize) dst->n_images * tile, src->pixels + (gsize) i * tile,
          tile * sizeof (float));
  dst->labels[dst->n_images++] = src->labels[i];
}

TlFaceDataset *
tl_face_dataset_images (const TlFaceDataset *ds,
                        int                  first_image,
                        int                  n)
{
  TlFaceDataset *sub;
  int i, rank = 0;

  g_return_val_if_fail (ds != NULL, NULL);
  g_return_val_if_fail (first_image >= 0 && n >= 1, NULL);

  sub = dataset_like (ds);
  for (i = 0; i < ds->n_images; i++)
    {
      /* Images of a person are contiguous: count from their first. */
      rank = (i > 0 && ds->labels[i] == ds->labels[i - 1]) ? rank + 1 : 0;
      if (rank >= first_image && rank - first_image < n)
        dataset_append (sub, ds, i);
    }
  return sub;
}

void
tl_face_dataset_split_images (const TlFaceDataset  *ds,
                              int                   n_last,
                              TlFaceDataset       **first,
                              TlFaceDataset       **last)
{
  g_autofree int *count = NULL;
  int i, rank = 0;

  g_return_if_fail (ds != NULL && first != NULL && last != NULL);

  count = g_new0 (int, MAX (ds->n_people, 1));
  for (i = 0; i < ds->n_images; i++)
    count[ds->labels[i]]++;
  *first = dataset_like (ds);
  *last = dataset_like (ds);
  for (i = 0; i < ds->n_images; i++)
    {
      rank = (i > 0 && ds->labels[i] == ds->labels[i - 1]) ? rank + 1 : 0;
      dataset_append (rank < count[ds->labels[i]] - n_last ? *first : *last, ds, i);
    }
}
