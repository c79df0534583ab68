/*
 * keypoints.c -- object keypoint similarity (OKS), pycocotools' computeOks.
 *
 * For a detection d and a ground truth g with K keypoints, sigmas s_j, visibility v_j:
 *   var_j = (2 s_j)^2,  e_j = (dx_j^2 + dy_j^2) / var_j / (area_g + eps) / 2,
 *   OKS = sum_j exp(-e_j) / n,
 * over the visible keypoints (v_j > 0, n of them) when g has any; otherwise over all K,
 * with dx_j, dy_j the distances from d's keypoint to the box g's bbox grown by its own
 * width/height on each side (zero inside). eps is np.spacing(1).
 *
 * Bit-exactness: pycocotools evaluates exp with NumPy, whose SIMD exp differs from the
 * C library's in the last bit for some inputs. So the work is split in three steps:
 * fa_oks_exponents writes every -e_j (in pycocotools' order), the caller applies
 * np.exp to that buffer in place, and fa_oks_reduce sums each pair's values in NumPy's
 * pairwise-summation order and divides by n. The result is then the same as
 * pycocotools' on the same machine.
 *
 * Layout: pairs follow fa_coco_iou_layout (a run's kept detections in score order x its
 * ground truths in grouped order); the exponents of one detection's row are contiguous,
 * ground truth after ground truth, from dt_e_off[d] (fa_oks_layout).
 */
#include <float.h>

#include "fastap.h"
#include "runs.h"

static int64_t gt_terms(const fa_oks_input *kp, int64_t g)
{
    return kp->gt_nvis[g] > 0 ? kp->gt_nvis[g] : kp->n_kpt;
}

int64_t fa_oks_layout(const fa_coco_input *in, const fa_oks_input *kp, int64_t *dt_e_off)
{
    int64_t total = 0;
    for (int32_t k = 0; k < in->n_cat; k++) {
        int64_t gi = in->gt_off[k], ge = in->gt_off[k + 1];
        int64_t di = in->dt_off[k], de = in->dt_off[k + 1];
        int64_t g0, d0;
        int32_t img;
        while (fa_next_run(in, &gi, ge, &di, de, &g0, &d0, &img)) {
            int64_t row = 0;
            for (int64_t g = g0; g < gi; g++) row += gt_terms(kp, g);
            for (int64_t d = d0; d < di; d++) {
                if (in->dt_iou_off[d] >= 0) {
                    dt_e_off[d] = total;
                    total += row;
                } else {
                    dt_e_off[d] = -1;
                }
            }
        }
    }
    return total;
}

/* The terms -e_j of the pair (detection keypoints dk, ground truth g), in pycocotools'
 * order, into e; returns how many (the visible keypoints, or all K). */
static int64_t pair_terms(const fa_coco_input *in, const fa_oks_input *kp, const double *dk,
                          int64_t g, double *e)
{
    const int64_t K = kp->n_kpt;
    const double *gk = kp->gt_kpt + g * 3 * K;
    const double denom = in->gt_area[g] + DBL_EPSILON;
    double *e0 = e;
    if (kp->gt_nvis[g] > 0) {
        for (int64_t j = 0; j < K; j++) {
            if (!(gk[3 * j + 2] > 0)) continue;
            const double s2 = kp->sigmas[j] * 2, var = s2 * s2;
            const double dx = dk[3 * j] - gk[3 * j], dy = dk[3 * j + 1] - gk[3 * j + 1];
            *e++ = -((dx * dx + dy * dy) / var / denom * 0.5);   /* x / 2 == x * 0.5 exactly */
        }
    } else {
        const double *bb = in->gt_box + 4 * g;
        const double x0 = bb[0] - bb[2], x1 = bb[0] + bb[2] * 2;
        const double y0 = bb[1] - bb[3], y1 = bb[1] + bb[3] * 2;
        for (int64_t j = 0; j < K; j++) {
            const double s2 = kp->sigmas[j] * 2, var = s2 * s2;
            const double xd = dk[3 * j], yd = dk[3 * j + 1];
            const double ax = x0 - xd, bx = xd - x1, ay = y0 - yd, by = yd - y1;
            const double dx = (ax > 0 ? ax : 0.0) + (bx > 0 ? bx : 0.0);
            const double dy = (ay > 0 ? ay : 0.0) + (by > 0 ? by : 0.0);
            *e++ = -((dx * dx + dy * dy) / var / denom * 0.5);
        }
    }
    return (int64_t)(e - e0);
}

void fa_oks_exponents(const fa_coco_input *in, const fa_oks_input *kp, int32_t k,
                      int64_t d_begin, int64_t d_end, const int64_t *dt_e_off, double *neg_e)
{
    const int64_t K = kp->n_kpt;
    fa_gt_cursor c;
    fa_gt_cursor_init(in, k, &c);
    for (int64_t d = d_begin; d < d_end; d++) {
        if (dt_e_off[d] < 0) continue;
        fa_gt_cursor_seek(in, &c, d);
        const int64_t g0 = c.g0, G = c.G;
        const double *dk = kp->dt_kpt + (kp->dt_row ? kp->dt_row[d] : d) * 3 * K;
        double *e = neg_e + dt_e_off[d];
        for (int64_t g = g0; g < g0 + G; g++)
            e += pair_terms(in, kp, dk, g, e);
    }
}

/* NumPy's pairwise summation of a contiguous float64 array (np.sum / np.add.reduce):
 * a plain loop below 8 elements, 8 interleaved partial sums up to 128, halving above. */
static double np_pairwise_sum(const double *a, int64_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (int64_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        int64_t i;
        for (int j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return np_pairwise_sum(a, n2) + np_pairwise_sum(a + n2, n - n2);
}

void fa_oks_reduce(const fa_coco_input *in, const fa_oks_input *kp, int32_t k,
                   int64_t d_begin, int64_t d_end, const int64_t *dt_e_off, const double *ex,
                   double *iou)
{
    fa_gt_cursor c;
    fa_gt_cursor_init(in, k, &c);
    for (int64_t d = d_begin; d < d_end; d++) {
        if (dt_e_off[d] < 0) continue;
        fa_gt_cursor_seek(in, &c, d);
        const int64_t g0 = c.g0, G = c.G;
        const double *e = ex + dt_e_off[d];
        double *row = iou + in->dt_iou_off[d];
        for (int64_t g = 0; g < G; g++) {
            const int64_t n = gt_terms(kp, g0 + g);
            row[g] = np_pairwise_sum(e, n) / (double)n;
            e += n;
        }
    }
}

/* ---------------------------------------------------------------------------------- */
/* one pass per pair, with NumPy's own exp loop                                        */
/* ---------------------------------------------------------------------------------- */

/* The OKS of the pairs of detections [d_begin, d_end) of category k in one pass: each
 * pair's -e terms into a small buffer, exp applied by `exp_loop` (NumPy's float64 exp
 * inner loop, called exactly as NumPy calls it on pycocotools' per-pair arrays), summed
 * in NumPy's order. scratch: n_kpt doubles. No layout of the exponents is needed. */
void fa_oks_pairs(const fa_coco_input *in, const fa_oks_input *kp, int32_t k, int64_t d_begin,
                  int64_t d_end, fa_vec_loop exp_loop, void *exp_data, double *scratch,
                  double *iou)
{
    const int64_t K = kp->n_kpt;
    fa_gt_cursor c;
    fa_gt_cursor_init(in, k, &c);
    for (int64_t d = d_begin; d < d_end; d++) {
        if (in->dt_iou_off[d] < 0) continue;
        fa_gt_cursor_seek(in, &c, d);
        const int64_t g0 = c.g0, G = c.G;
        const double *dk = kp->dt_kpt + (kp->dt_row ? kp->dt_row[d] : d) * 3 * K;
        double *row = iou + in->dt_iou_off[d];
        for (int64_t g = g0; g < g0 + G; g++) {
            const int64_t n = pair_terms(in, kp, dk, g, scratch);
            char *args[2] = {(char *)scratch, (char *)scratch};
            const intptr_t dims[1] = {(intptr_t)n}, steps[2] = {sizeof(double), sizeof(double)};
            exp_loop(args, dims, steps, exp_data);
            row[g - g0] = np_pairwise_sum(scratch, n) / (double)n;
        }
    }
}
