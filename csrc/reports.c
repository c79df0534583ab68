/*
 * reports.c -- per-image kernels behind fastap.report: the confusion matrix's
 * class-agnostic matching and TIDE's IoU summaries for the error analysis.
 *
 * Data layout: the caller groups ground truth and detections by image (offset arrays)
 * and calls one of these per image, images in parallel, each thread with its own
 * scratch. An image holds few ground truths (tens), so every kernel walks the
 * detection x ground-truth pairs once, computing each IoU on the fly: no D x G matrix.
 */
#include <stdlib.h>

#include "fastap.h"
#include "iou_pair.h"

size_t fa_confusion_scratch_bytes(int64_t ng)
{
    size_t n = (size_t)(ng > 0 ? ng : 1);
    return n * sizeof(double) + n * sizeof(int32_t) + 16;
}

/* The overlap of detection r and ground truth g: from the [nd][ng] matrix `iou` when
 * given, else the boxes' IoU (pycocotools', no crowd rule). */
static inline double pair_overlap(const double *iou, const double *dt_box, const double *gt_box,
                                  int64_t ng, int64_t r, int64_t g)
{
    if (iou)
        return iou[r * ng + g];
    const double *d = dt_box + 4 * r, *b = gt_box + 4 * g;
    return fa_iou_xywh_pair(d, d[2] * d[3], b, b[2] * b[3], 0);
}

int fa_confusion_match_image(const double *dt_box, int64_t nd, const double *gt_box, int64_t ng,
                             const double *iou, double iou_thr, void *scratch, int32_t *dt_gt)
{
    double *g_best_iou = (double *)scratch;
    int32_t *g_best_dt = (int32_t *)(g_best_iou + (ng > 0 ? ng : 1));
    if (nd < 0 || ng < 0) return FA_EINVAL;
    for (int64_t g = 0; g < ng; g++) { g_best_iou[g] = -1.0; g_best_dt[g] = -1; }
    /* steps 1-2: each detection's best candidate; dt_gt holds it for now */
    for (int64_t r = 0; r < nd; r++) {
        double best = iou_thr;
        int32_t bg = -1;
        for (int64_t g = 0; g < ng; g++) {
            double v = pair_overlap(iou, dt_box, gt_box, ng, r, g);
            if (v > best) { best = v; bg = (int32_t)g; }   /* strict: ties keep the lower g */
        }
        dt_gt[r] = bg;
        /* step 3: strict '>' so that, on equal IoU, the earlier detection keeps the gt */
        if (bg >= 0 && best > g_best_iou[bg]) { g_best_iou[bg] = best; g_best_dt[bg] = (int32_t)r; }
    }
    for (int64_t r = 0; r < nd; r++)
        if (dt_gt[r] >= 0 && g_best_dt[dt_gt[r]] != (int32_t)r) dt_gt[r] = -1;
    return FA_OK;
}

void fa_tide_ious_image(const double *dt_box, const int32_t *dt_cls, int64_t nd,
                        const double *gt_box, const int32_t *gt_cls, const uint8_t *gt_skip,
                        const uint8_t *gt_used, int64_t ng, const double *iou, double *same_iou,
                        int32_t *same_gt, double *other_iou, int32_t *other_gt, double *used_iou)
{
    for (int64_t r = 0; r < nd; r++) {
        double s = 0.0, o = 0.0, u = 0.0;
        int32_t sg = -1, og = -1;
        for (int64_t g = 0; g < ng; g++) {
            if (gt_skip[g]) continue;
            const double v = pair_overlap(iou, dt_box, gt_box, ng, r, g);
            /* strict '>' from 0: the first gt of the highest positive IoU */
            if (gt_cls[g] == dt_cls[r]) {
                if (v > s) { s = v; sg = (int32_t)g; }
                if (gt_used[g] && v > u) u = v;
            } else if (v > o) {
                o = v; og = (int32_t)g;
            }
        }
        same_iou[r] = s; same_gt[r] = sg;
        other_iou[r] = o; other_gt[r] = og;
        used_iou[r] = u;
    }
}

int fa_ap_sorted(const int64_t *cat_off, int64_t K, const uint8_t *tp, const uint8_t *fp,
                 const int64_t *npig, const double *rec_thrs, int64_t R, double *rc, double *pr,
                 double *q)
{
    const double eps = 2.220446049250313e-16;       /* np.spacing(1) */
    if (K < 0 || R < 0) return FA_EINVAL;
    for (int64_t k = 0; k < K; k++) {
        if (npig[k] <= 0) {
            for (int64_t r = 0; r < R; r++) q[r * K + k] = -1.0;
            continue;
        }
        const double n_pos = (double)npig[k];
        int64_t n = 0, ctp = 0, cfp = 0;
        for (int64_t d = cat_off[k]; d < cat_off[k + 1]; d++) {
            if (!tp[d] && !fp[d]) continue;          /* ignored: not accumulated */
            ctp += tp[d] != 0;
            cfp += fp[d] != 0;
            const double t = (double)ctp, f = (double)cfp;
            rc[n] = t / n_pos;
            pr[n] = t / (f + t + eps);               /* NumPy's (fk + tk) + eps */
            n++;
        }
        for (int64_t j = n - 1; j > 0; j--)          /* envelope from the right */
            if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
        for (int64_t r = 0; r < R; r++) {
            /* searchsorted 'left': first j with rc[j] >= rec_thrs[r] (rc is sorted) */
            int64_t lo = 0, hi = n;
            const double v = rec_thrs[r];
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                if (rc[mid] < v) lo = mid + 1; else hi = mid;
            }
            q[r * K + k] = lo < n ? pr[lo] : 0.0;
        }
    }
    return FA_OK;
}
