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

#endif
