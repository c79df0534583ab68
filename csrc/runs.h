/*
 * runs.h -- walking the (category, image) runs of a grouped COCO input (fastap.h's
 * fa_coco_input): inside a category, ground truths and detections are each sorted by
 * image, and a run is one image's slice of both (either may be empty).
 * Private to the kernels (static inline), like iou_pair.h.
 */
#ifndef FASTAP_RUNS_H
#define FASTAP_RUNS_H

#include "fastap.h"

/* Advance to the next run of a category: on entry *gi / *di are the first ground truth /
 * detection not yet visited (ge / de the category's ends); on return [*g0, *gi) and
 * [*d0, *di) are the run's slices and *img its image. Returns 0 when the category is done. */
static inline int fa_next_run(const fa_coco_input *in, int64_t *gi, int64_t ge, int64_t *di,
                              int64_t de, int64_t *g0, int64_t *d0, int32_t *img)
{
    if (*gi >= ge && *di >= de)
        return 0;
    if (*gi < ge && (*di >= de || in->gt_img[*gi] <= in->dt_img[*di]))
        *img = in->gt_img[*gi];
    else
        *img = in->dt_img[*di];
    *g0 = *gi;
    *d0 = *di;
    while (*gi < ge && in->gt_img[*gi] == *img) (*gi)++;
    while (*di < de && in->dt_img[*di] == *img) (*di)++;
    return 1;
}

/* The ground truths of the image of each detection, for detections of one category
 * visited in grouped order (any sub-range): [g0, g0 + G). */
typedef struct {
    int64_t gi, ge, g0, G;
    int32_t img;
} fa_gt_cursor;

static inline void fa_gt_cursor_init(const fa_coco_input *in, int32_t k, fa_gt_cursor *c)
{
    c->gi = c->g0 = in->gt_off[k];
    c->ge = in->gt_off[k + 1];
    c->G = 0;
    c->img = -1;
}

/* Point the cursor at detection d's image (a no-op while d stays on the same image). */
static inline void fa_gt_cursor_seek(const fa_coco_input *in, fa_gt_cursor *c, int64_t d)
{
    const int32_t img = in->dt_img[d];
    if (img == c->img)
        return;
    c->img = img;
    while (c->gi < c->ge && in->gt_img[c->gi] < img) c->gi++;
    c->g0 = c->gi;
    while (c->gi < c->ge && in->gt_img[c->gi] == img) c->gi++;
    c->G = c->gi - c->g0;
}

#endif
