/*
 * voc.c -- PASCAL VOC AP (VOC2007 11-point and VOC2010+ all-point) for one category.
 *
 * Uses the grouped COCO input: ground truth by (category, image); detections by
 * category, in any order inside it (the Python layer keeps input order). Step 1 finds,
 * per detection, the ground truth of its image with the highest IoU (first on ties,
 * like np.argmax) and that IoU. Step 2 orders the category's detections by descending
 * score, stably (ties keep the order they come in), and applies the devkit's rules: above the threshold, a
 * difficult gt makes the detection neither TP nor FP, an untaken gt a TP, a taken gt a
 * FP (a duplicate does not fall back to the next best gt). Step 3 integrates.
 * Sums run left to right, the order of the reference implementation.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fastap.h"
#include "iou_pair.h"

static size_t al16(size_t x) { return (x + 15) & ~(size_t)15; }

size_t fa_voc_scratch_bytes(const fa_coco_input *in)
{
    int64_t max_d = 0, max_g = 0;
    for (int32_t k = 0; k < in->n_cat; k++) {
        if (in->dt_off[k + 1] - in->dt_off[k] > max_d) max_d = in->dt_off[k + 1] - in->dt_off[k];
        if (in->gt_off[k + 1] - in->gt_off[k] > max_g) max_g = in->gt_off[k + 1] - in->gt_off[k];
    }
    size_t n = (size_t)max_d + 1;
    return 4 * al16(n * sizeof(int64_t)) + 3 * al16(n * sizeof(double)) + al16((size_t)max_g + 1) + 16;
}

/* steps 2 and 3 of category k: the devkit's matching in global score order from each
 * detection's best gt (best: grouped gt index or -1; best_iou), then the AP */
static void voc_match_integrate(const fa_coco_input *in, const uint8_t *diff, int32_t k, const int64_t *best,
                                const double *best_iou, double iou_thr, int strict, int use_11_point,
                                int64_t *order, int64_t *tmp, double *rec, double *prec, uint8_t *taken,
                                double *ap, int64_t *n_pos)
{
    const int64_t gs = in->gt_off[k], ge = in->gt_off[k + 1];
    const int64_t ds = in->dt_off[k], de = in->dt_off[k + 1];
    const int64_t n = de - ds;
    int64_t npos = 0;
    for (int64_t g = gs; g < ge; g++) npos += !diff[g];
    *n_pos = npos;
    for (int64_t i = 0; i < n; i++) order[i] = ds + i;
    fa_sort_desc_stable(order, n, in->dt_score, tmp);
    memset(taken, 0, (size_t)(ge - gs + 1));
    int64_t tp = 0, fp = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t j = order[i] - ds;
        /* VOC: IoU >= threshold; DOTA's task-1 devkit (strict): IoU > threshold */
        int hit = best[j] >= 0 && (strict ? best_iou[j] > iou_thr : best_iou[j] >= iou_thr);
        if (hit) {
            int64_t g = best[j];
            if (diff[g]) { /* neither TP nor FP */ }
            else if (!taken[g - gs]) { taken[g - gs] = 1; tp++; }
            else fp++;
        } else {
            fp++;
        }
        double denom = (double)tp + (double)fp;
        if (denom < DBL_EPSILON) denom = DBL_EPSILON;
        rec[i] = npos > 0 ? (double)tp / (double)npos : NAN;
        prec[i] = (double)tp / denom;
    }
    if (npos == 0) { *ap = NAN; return; }

    double s = 0.0;
    if (use_11_point) {
        for (int i = 0; i <= 10; i++) {
            double t = i * 0.1;              /* np.arange(0., 1.1, 0.1) */
            double pmax = 0.0;
            int any = 0;
            for (int64_t j = 0; j < n; j++)
                if (rec[j] >= t) { if (!any || prec[j] > pmax) pmax = prec[j]; any = 1; }
            s += (any ? pmax : 0.0) / 11.0;
        }
    } else {
        /* mrec = [0, rec, 1], mpre = [0, prec, 0]; envelope; sum where recall changes */
        for (int64_t i = n - 1; i > 0; i--)
            if (prec[i] > prec[i - 1]) prec[i - 1] = prec[i];
        /* mpre[0] = max(0, prec[0]) = prec[0] (if any); mpre[n+1] = 0 */
        double prev_rec = 0.0;
        for (int64_t i = 0; i < n; i++) {
            if (rec[i] != prev_rec) s += (rec[i] - prev_rec) * prec[i];
            prev_rec = rec[i];
        }
        if (1.0 != prev_rec) s += (1.0 - prev_rec) * 0.0;
    }
    *ap = s;
}

#define CARVE(type, count) (type *)(cur += al16((size_t)(count) * sizeof(type)), cur - al16((size_t)(count) * sizeof(type)))

int fa_voc_category(const fa_coco_input *in, const uint8_t *gt_difficult, int32_t k,
                    double iou_thr, int plus_one, int use_11_point, void *scratch,
                    double *ap, int64_t *n_pos)
{
    const int64_t gs = in->gt_off[k], ge = in->gt_off[k + 1];
    const int64_t ds = in->dt_off[k], de = in->dt_off[k + 1];
    const int64_t n = de - ds;
    const uint8_t *diff = gt_difficult ? gt_difficult : in->gt_crowd;
    const double one = plus_one ? 1.0 : 0.0;
    char *cur = (char *)scratch;
    int64_t *best = CARVE(int64_t, n + 1);
    int64_t *order = CARVE(int64_t, n + 1);
    int64_t *tmp = CARVE(int64_t, n + 1);
    CARVE(int64_t, n + 1);
    double *best_iou = CARVE(double, n + 1);
    double *rec = CARVE(double, n + 1);
    double *prec = CARVE(double, n + 1);
    uint8_t *taken = CARVE(uint8_t, ge - gs + 1);

    /* step 1: best gt per detection; the gts of its image by binary search (the
     * category's gts are sorted by image, its detections may be in any order) */
    for (int64_t di = ds; di < de; di++) {
        const int32_t img = in->dt_img[di];
        int64_t lo = gs, hi = ge;
        while (lo < hi) { int64_t mid = lo + (hi - lo) / 2; if (in->gt_img[mid] < img) lo = mid + 1; else hi = mid; }
        const int64_t g0 = lo;
        int64_t g1 = g0;
        while (g1 < ge && in->gt_img[g1] == img) g1++;
        const double *b = in->dt_box + 4 * di;
        double bc[4] = {b[0], b[1], b[0] + b[2], b[1] + b[3]};
        double barea = (bc[2] - bc[0] + one) * (bc[3] - bc[1] + one);
        int64_t bi = -1;
        double bv = -INFINITY;
        for (int64_t g = g0; g < g1; g++) {
            const double *q = in->gt_box + 4 * g;
            double qc[4] = {q[0], q[1], q[0] + q[2], q[1] + q[3]};
            double qarea = (qc[2] - qc[0] + one) * (qc[3] - qc[1] + one);
            double v = fa_iou_xyxy_pair(bc, barea, qc, qarea, 0, one);
            if (v > bv) { bv = v; bi = g; }    /* first gt wins on ties (np.argmax) */
        }
        best[di - ds] = bi;
        best_iou[di - ds] = bv;
    }
    voc_match_integrate(in, diff, k, best, best_iou, iou_thr, 0, use_11_point, order, tmp, rec, prec, taken,
                        ap, n_pos);
    return FA_OK;
}

int fa_voc_category_best(const fa_coco_input *in, const uint8_t *gt_difficult, int32_t k, const int64_t *best,
                         const double *best_iou, double iou_thr, int strict, int use_11_point, void *scratch,
                         double *ap, int64_t *n_pos)
{
    const int64_t gs = in->gt_off[k], ge = in->gt_off[k + 1];
    const int64_t n = in->dt_off[k + 1] - in->dt_off[k];
    const uint8_t *diff = gt_difficult ? gt_difficult : in->gt_crowd;
    char *cur = (char *)scratch;
    CARVE(int64_t, n + 1);
    int64_t *order = CARVE(int64_t, n + 1);
    int64_t *tmp = CARVE(int64_t, n + 1);
    CARVE(int64_t, n + 1);
    CARVE(double, n + 1);
    double *rec = CARVE(double, n + 1);
    double *prec = CARVE(double, n + 1);
    uint8_t *taken = CARVE(uint8_t, ge - gs + 1);
    const int64_t ds = in->dt_off[k];
    voc_match_integrate(in, diff, k, best + ds, best_iou + ds, iou_thr, strict, use_11_point, order, tmp, rec,
                        prec, taken, ap, n_pos);
    return FA_OK;
}
#undef CARVE
