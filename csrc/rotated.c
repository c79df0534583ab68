/*
 * rotated.c -- pairwise IoU of rotated boxes and of quadrilaterals, n x m.
 *
 * Two steps: each box becomes a record of FA_ROT_RECORD doubles (its convex polygon
 * relative to a reference point, area, bounding box: rotated_pair.h), then every pair of
 * records gives one IoU. Rows are independent: callers split n across threads. The
 * per-box and per-pair geometry is rotated_pair.h, shared with the CUDA kernel
 * (csrc/cuda/rotated_iou.cu).
 *
 * fa_rot_iou_rows fills the precomputed IoU rows of a COCO evaluation (fa_coco_input's
 * iou, laid out by fa_coco_iou_layout): one row per kept detection against its
 * (category, image) run of ground truths; rows are independent, callers split them
 * across threads.
 */
#include <math.h>

#include "fastap.h"
#include "rotated_pair.h"

void fa_rot_rbox_records(const double *boxes, int64_t n, int radians, double *rec)
{
    for (int64_t i = 0; i < n; i++) fa_rot_rbox_record(boxes + 5 * i, radians, rec + FA_ROT_RECORD * i);
}

int64_t fa_rot_quad_records(const double *quads, int64_t n, double *rec)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) bad += fa_rot_quad_record(quads + 8 * i, rec + FA_ROT_RECORD * i);
    return bad;
}

void fa_rot_iou(const double *ra, int64_t n, const double *rb, int64_t m, double *out)
{
    for (int64_t i = 0; i < n; i++) {
        const double *a = ra + FA_ROT_RECORD * i;
        double *o = out + i * m;
        for (int64_t j = 0; j < m; j++) o[j] = fa_rot_iou_pair(a, rb + FA_ROT_RECORD * j);
    }
}

void fa_rot_iou_crowd(const double *ra, int64_t n, const double *rb, int64_t m, const uint8_t *crowd,
                      double *out)
{
    for (int64_t i = 0; i < n; i++) {
        const double *a = ra + FA_ROT_RECORD * i;
        double *o = out + i * m;
        for (int64_t j = 0; j < m; j++) {
            const double *b = rb + FA_ROT_RECORD * j;
            o[j] = crowd[j] ? fa_rot_crowd_pair(a, b) : fa_rot_iou_pair(a, b);
        }
    }
}

void fa_rot_iou_rows(const double *dt_rec, int64_t n, const int64_t *row_off, const int64_t *g_first,
                     const int64_t *g_count, const double *gt_rec, const uint8_t *gt_crowd, double *iou)
{
    for (int64_t i = 0; i < n; i++) {
        if (row_off[i] < 0) continue;
        const double *a = dt_rec + FA_ROT_RECORD * i;
        double *o = iou + row_off[i];
        for (int64_t g = 0; g < g_count[i]; g++) {
            int64_t j = g_first[i] + g;
            const double *b = gt_rec + FA_ROT_RECORD * j;
            o[g] = gt_crowd[j] ? fa_rot_crowd_pair(a, b) : fa_rot_iou_pair(a, b);
        }
    }
}

void fa_rot_best_gt(const double *dt_rec, int64_t n, const int64_t *g_first, const int64_t *g_count,
                    const double *gt_rec, int64_t *best, double *best_iou)
{
    for (int64_t i = 0; i < n; i++) {
        const double *a = dt_rec + FA_ROT_RECORD * i;
        int64_t bi = -1;
        double bv = -INFINITY;
        for (int64_t g = 0; g < g_count[i]; g++) {
            double v = fa_rot_iou_pair(gt_rec + FA_ROT_RECORD * (g_first[i] + g), a);
            if (v > bv) { bv = v; bi = g_first[i] + g; }    /* first gt wins on ties */
        }
        best[i] = bi;
        best_iou[i] = bv;
    }
}
