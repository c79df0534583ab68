/*
 * assign.c -- anchor to ground-truth assignment on box IoU (fastap.assign), without the
 * n x g IoU matrix: the IoU of a pair (iou_pair.h, the corner formula, 0 for an empty
 * union) is computed where it is needed.
 *
 * Pass 1 (fa_assign_best), over the anchors of one chunk: per anchor, its highest IoU over
 * the ground truth and the first ground truth reaching it; per ground truth, its highest
 * IoU over the chunk's anchors, the first anchor reaching it and the last. Callers split
 * the anchors into chunks (threads), each with its own gt_max/gt_arg/gt_last, merged
 * afterwards (max; ties: the lower anchor index).
 * Pass 2 (fa_assign_ties), per chunk again: whether an anchor reaches some ground truth's
 * highest IoU (torchvision's Matcher.set_low_quality_matches_, ties included). Only the
 * anchors between the chunk's first and last anchor reaching that maximum can, and only
 * in a chunk whose own maximum is the overall one; pass 1 counts them per chunk, so pass 2
 * marks the first and the last without an IoU and scans between them only for three or
 * more (usually there is one, or a symmetric pair), not the chunk x g pairs.
 */
#include "fastap.h"
#include "iou_pair.h"

void fa_iou_records(const double *boxes, int64_t n, double *rec)
{
    for (int64_t i = 0; i < n; i++) {
        double *r = rec + FA_IOU_REC * i;
        r[0] = boxes[4 * i]; r[1] = boxes[4 * i + 1]; r[2] = boxes[4 * i + 2]; r[3] = boxes[4 * i + 3];
        fa_iou_rec_finish(r);
    }
}

/* the record of anchor i: corners and area, all that kind IOU reads */
static inline void fa_anchor_rec(const double *anchors, int64_t i, double *r)
{
    const double *p = anchors + 4 * i;
    r[0] = p[0]; r[1] = p[1]; r[2] = p[2]; r[3] = p[3];
    fa_iou_rec_area(r);
}

void fa_assign_best(const double *anchors, int64_t i0, int64_t i1, const double *gt_rec, int64_t g,
                    double *best_iou, int64_t *best_gt, double *gt_max, int64_t *gt_arg,
                    int64_t *gt_last, int64_t *gt_count)
{
    double r[FA_IOU_REC];
    for (int64_t i = i0; i < i1; i++) {
        fa_anchor_rec(anchors, i, r);
        double best = -1.0;
        int64_t arg = -1;
        for (int64_t k = 0; k < g; k++) {
            double v = fa_iou_family_pair(r, gt_rec + FA_IOU_REC * k, FA_IOU_KIND_IOU, 0.0);
            if (v > best) { best = v; arg = k; }
            if (v >= gt_max[k]) {
                if (v > gt_max[k]) { gt_max[k] = v; gt_arg[k] = i; gt_count[k] = 0; }
                gt_last[k] = i;
                gt_count[k]++;
            }
        }
        best_iou[i] = g ? best : 0.0;
        best_gt[i] = arg;
    }
}

void fa_assign_ties(const double *anchors, const double *gt_rec, int64_t g, const double *gt_max,
                    const double *chunk_max, const int64_t *chunk_arg, const int64_t *chunk_last,
                    const int64_t *chunk_count, uint8_t *hit)
{
    double r[FA_IOU_REC];
    for (int64_t k = 0; k < g; k++) {
        if (chunk_max[k] != gt_max[k] || chunk_arg[k] < 0) continue;
        hit[chunk_arg[k]] = 1;              /* the first and the last reach it: no IoU needed */
        hit[chunk_last[k]] = 1;
        if (chunk_count[k] <= 2) continue;  /* (usually: one anchor, or a symmetric pair) */
        const double *q = gt_rec + FA_IOU_REC * k;
        for (int64_t i = chunk_arg[k]; i <= chunk_last[k]; i++) {
            if (hit[i]) continue;
            fa_anchor_rec(anchors, i, r);
            hit[i] = fa_iou_family_pair(r, q, FA_IOU_KIND_IOU, 0.0) == gt_max[k];
        }
    }
}
