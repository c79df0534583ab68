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

#if defined(__GNUC__) && !defined(__clang__)
/* as csrc/iou.c: GCC vectorises the row only without trapping math; fp-contract stays off */
#define FA_VECTORISE __attribute__((optimize("no-trapping-math", "fp-contract=off")))
#else
#define FA_VECTORISE
#endif
#define FA_ASSIGN_TILE 256

/* IoUs of the record r with the tile's ground truths (columns x1, y1, x2, y2, area), branch-
 * free so that it vectorises: fa_iou_family_pair's kind IOU arithmetic (iw, ih clipped at 0,
 * their product, a + b - inter, the division) for every pair, kept where inter > 0, else 0:
 * bit for bit fa_iou_family_pair(r, gt, FA_IOU_KIND_IOU, 0). */
FA_VECTORISE static void fa_assign_row(const double *r, const double (*q)[FA_ASSIGN_TILE], int64_t c,
                                       double *restrict row)
{
    const double ax1 = r[0], ay1 = r[1], ax2 = r[2], ay2 = r[3], aa = r[4];
    const double *restrict x1 = q[0], *restrict y1 = q[1], *restrict x2 = q[2], *restrict y2 = q[3];
    const double *restrict area = q[4];
    for (int64_t k = 0; k < c; k++) {
        double iw = (ax2 < x2[k] ? ax2 : x2[k]) - (ax1 > x1[k] ? ax1 : x1[k]);
        double ih = (ay2 < y2[k] ? ay2 : y2[k]) - (ay1 > y1[k] ? ay1 : y1[k]);
        double inter = (iw > 0 ? iw : 0.0) * (ih > 0 ? ih : 0.0);
        double v = inter / (aa + area[k] - inter);
        row[k] = inter > 0 ? v : 0.0;
    }
}

void fa_assign_best(const double *anchors, int64_t i0, int64_t i1, const double *gt_rec, int64_t g,
                    double *best_iou, int64_t *best_gt, double *gt_max, int64_t *gt_arg,
                    int64_t *gt_last, int64_t *gt_count)
{
    double r[FA_IOU_REC], q[5][FA_ASSIGN_TILE], row[FA_ASSIGN_TILE];
    for (int64_t i = i0; i < i1; i++) {
        best_iou[i] = g ? -1.0 : 0.0;
        best_gt[i] = -1;
    }
    for (int64_t k0 = 0; k0 < g; k0 += FA_ASSIGN_TILE) {
        int64_t c = g - k0 < FA_ASSIGN_TILE ? g - k0 : FA_ASSIGN_TILE;
        for (int64_t k = 0; k < c; k++)
            for (int f = 0; f < 5; f++) q[f][k] = gt_rec[FA_IOU_REC * (k0 + k) + f];
        for (int64_t i = i0; i < i1; i++) {
            fa_anchor_rec(anchors, i, r);
            fa_assign_row(r, q, c, row);
            double best = best_iou[i];
            int64_t arg = best_gt[i];
            for (int64_t k = 0; k < c; k++) {
                double v = row[k];
                if (v > best) { best = v; arg = k0 + k; }
                if (v >= gt_max[k0 + k]) {
                    if (v > gt_max[k0 + k]) { gt_max[k0 + k] = v; gt_arg[k0 + k] = i; gt_count[k0 + k] = 0; }
                    gt_last[k0 + k] = i;
                    gt_count[k0 + k]++;
                }
            }
            best_iou[i] = best;
            best_gt[i] = arg;
        }
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
