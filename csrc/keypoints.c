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
#include <math.h>

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

/* Per-thread scratch of a pair: K squared distances, K exponents, K kept indices. */
typedef struct {
    double *d2, *e;
    int32_t *jv;
} pair_scratch;

static pair_scratch scratch_parts(double *scratch, int64_t K)
{
    pair_scratch p = {scratch, scratch + K, (int32_t *)(scratch + 2 * K)};
    return p;
}

/* The pair's squared distances d2_j for every keypoint j (to the ground truth's
 * keypoints when it has visible ones, else to its box grown by its width/height on each
 * side), and the indices of the terms pycocotools keeps (the visible keypoints, or all K)
 * into jv, without a branch per keypoint. Returns how many are kept. */
static int64_t pair_d2(const fa_coco_input *in, const fa_oks_input *kp, const double *dk,
                       int64_t g, const pair_scratch *ps)
{
    const int64_t K = kp->n_kpt, ds = kp->dt_step;
    const double *gk = kp->gt_kpt + (kp->gt_row ? kp->gt_row[g] : g) * 3 * K;
    double *d2 = ps->d2;
    int32_t *jv = ps->jv;
    if (kp->gt_nvis[g] > 0) {
        int64_t t = 0;
        for (int64_t j = 0; j < K; j++) {
            const double dx = dk[ds * j] - gk[3 * j], dy = dk[ds * j + 1] - gk[3 * j + 1];
            d2[j] = dx * dx + dy * dy;
            jv[t] = (int32_t)j;
            t += gk[3 * j + 2] > 0;
        }
        return t;
    }
    const double *bb = in->gt_box + 4 * g;
    const double x0 = bb[0] - bb[2], x1 = bb[0] + bb[2] * 2;
    const double y0 = bb[1] - bb[3], y1 = bb[1] + bb[3] * 2;
    for (int64_t j = 0; j < K; j++) {
        const double xd = dk[ds * j], yd = dk[ds * j + 1];
        const double ax = x0 - xd, bx = xd - x1, ay = y0 - yd, by = yd - y1;
        const double dx = (ax > 0 ? ax : 0.0) + (bx > 0 ? bx : 0.0);
        const double dy = (ay > 0 ? ay : 0.0) + (by > 0 ? by : 0.0);
        d2[j] = dx * dx + dy * dy;
        jv[j] = (int32_t)j;
    }
    return K;
}

/* pycocotools' exponents of the pair's n kept terms, in its order:
 * -e = -(d2 / var / (area + eps) / 2) with var = (2 sigma)^2, into e. */
static void pair_exponents(const fa_coco_input *in, const fa_oks_input *kp, int64_t g,
                           const pair_scratch *ps, int64_t n, double *e)
{
    const double denom = in->gt_area[g] + DBL_EPSILON;
    for (int64_t t = 0; t < n; t++) {
        const int32_t j = ps->jv[t];
        const double s2 = kp->sigmas[j] * 2, var = s2 * s2;
        e[t] = -(ps->d2[j] / var / denom * 0.5);     /* x / 2 == x * 0.5 exactly */
    }
}

void fa_oks_exponents(const fa_coco_input *in, const fa_oks_input *kp, int32_t k,
                      int64_t d_begin, int64_t d_end, const int64_t *dt_e_off, double *scratch,
                      double *neg_e)
{
    const pair_scratch ps = scratch_parts(scratch, kp->n_kpt);
    const int64_t K = kp->n_kpt;
    fa_gt_cursor c;
    fa_gt_cursor_init(in, k, &c);
    for (int64_t d = d_begin; d < d_end; d++) {
        if (dt_e_off[d] < 0) continue;
        fa_gt_cursor_seek(in, &c, d);
        const int64_t g0 = c.g0, G = c.G;
        const double *dk = kp->dt_kpt + (kp->dt_row ? kp->dt_row[d] : d) * kp->dt_step * K;
        double *e = neg_e + dt_e_off[d];
        for (int64_t g = g0; g < g0 + G; g++) {
            const int64_t n = pair_d2(in, kp, dk, g, &ps);
            pair_exponents(in, kp, g, &ps, n, e);
            e += n;
        }
    }
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
            row[g] = fa_np_sum(e, n) / (double)n;
            e += n;
        }
    }
}

/* ---------------------------------------------------------------------------------- */
/* one pass per pair, with NumPy's own exp loop                                        */
/* ---------------------------------------------------------------------------------- */

/* Upper bounds of exp(-x) on a grid: OKS_UB_STEPS per unit of x, up to OKS_UB_LAST;
 * ub[i] >= exp(-i / OKS_UB_STEPS) (exp rounded once, then raised by 1e-12). Filled per
 * call (41 exps), so threads share no state. */
#define OKS_UB_STEPS 4
#define OKS_UB_LAST 40

static void oks_ub_fill(double *ub)
{
    for (int i = 0; i <= OKS_UB_LAST; i++)
        ub[i] = exp(-(double)i / OKS_UB_STEPS) * (1.0 + 1e-12);
}

/* An upper bound (times n) of the pair's OKS from its n kept d2 terms, or -1 when a
 * kept exponent is negative or NaN (no bound then). q below is e up to a few roundings
 * (|q - e| < 1e-15 e), so floor(q (1 - 1e-12) STEPS) / STEPS <= e, and the table entry
 * is >= exp(-e) also as NumPy's exp rounds it (within an ulp). */
static double pair_bound_sum(const pair_scratch *ps, int64_t n, double inv_denom,
                             const double *half_inv_var, const double *ub)
{
    double s = 0.0;
    int bad = 0;
    for (int64_t t = 0; t < n; t++) {
        const int32_t j = ps->jv[t];
        const double q = ps->d2[j] * half_inv_var[j] * inv_denom;
        bad |= !(q >= 0);                                    /* NaN or negative */
        const double x = q * (OKS_UB_STEPS * (1.0 - 1e-12));
        s += ub[x >= 0 && x < OKS_UB_LAST ? (int)x : OKS_UB_LAST];
    }
    return bad ? -1.0 : s;
}

/* Batches of exponents for one exp call (2048 doubles on the stack, at most 256 pairs). */
#define OKS_BATCH 2048
#define OKS_BATCH_PAIRS 256

static void exp_run(fa_vec_loop exp_loop, void *exp_data, double *v, int64_t n)
{
    char *args[2] = {(char *)v, (char *)v};
    const intptr_t dims[1] = {(intptr_t)n}, steps[2] = {sizeof(double), sizeof(double)};
    exp_loop(args, dims, steps, exp_data);
}

/* exp over the batch, then each pending pair's mean of its terms into its place. */
static void flush_batch(fa_vec_loop exp_loop, void *exp_data, double *batch, int64_t *used,
                        double **dst, const int32_t *len, int64_t *n_pend)
{
    if (*used)
        exp_run(exp_loop, exp_data, batch, *used);
    const double *e = batch;
    for (int64_t i = 0; i < *n_pend; i++) {
        *dst[i] = fa_np_sum(e, len[i]) / (double)len[i];
        e += len[i];
    }
    *used = 0;
    *n_pend = 0;
}

/* The OKS of the pairs of detections [d_begin, d_end) of category k in one pass: each
 * pair's -e terms into a small buffer, exp applied by `exp_loop` (NumPy's float64 exp
 * inner loop, called exactly as NumPy calls it on pycocotools' per-pair arrays), summed
 * in NumPy's order. scratch: 3 n_kpt doubles. No layout of the exponents is needed.
 *
 * floor: pairs whose OKS is provably below it (by the bound above, with a 1e-9 margin
 * for the roundings of NumPy's exp and sum) are not given to exp; they get their bound,
 * which is below floor, instead of their OKS. Matching at thresholds >= floor reads the
 * same as with exact values, since pycocotools never matches a pair below the
 * threshold. floor = -inf: every pair exact. */
void fa_oks_pairs(const fa_coco_input *in, const fa_oks_input *kp, int32_t k, int64_t d_begin,
                  int64_t d_end, fa_vec_loop exp_loop, void *exp_data, double *scratch,
                  double floor, double *iou)
{
    const int64_t K = kp->n_kpt;
    const int use_bound = floor > 0;
    const pair_scratch ps = scratch_parts(scratch, K);
    double half_inv_var[FA_OKS_MAX_BOUND_K], ub[OKS_UB_LAST + 1];
    if (use_bound) {
        if (K > FA_OKS_MAX_BOUND_K) {
            fa_oks_pairs(in, kp, k, d_begin, d_end, exp_loop, exp_data, scratch, -INFINITY, iou);
            return;
        }
        oks_ub_fill(ub);
        for (int64_t j = 0; j < K; j++) {
            const double s2 = kp->sigmas[j] * 2;
            half_inv_var[j] = 0.5 / (s2 * s2);
        }
    }
    const double cut = floor * (1.0 - 1e-9);
    /* the exponents of the pairs that need exp, many pairs at a time: one call of the
     * exp loop per batch (the loop gives every element the bits it gives it in a
     * pair's own array: checked with the loop, see _find_exp_loop in _core.pyx) */
    double batch[OKS_BATCH], *pend_dst[OKS_BATCH_PAIRS];
    int32_t pend_n[OKS_BATCH_PAIRS];
    int64_t b_used = 0, n_pend = 0;
    fa_gt_cursor c;
    fa_gt_cursor_init(in, k, &c);
    for (int64_t d = d_begin; d < d_end; d++) {
        if (in->dt_iou_off[d] < 0) continue;
        fa_gt_cursor_seek(in, &c, d);
        const int64_t g0 = c.g0, G = c.G;
        const double *dk = kp->dt_kpt + (kp->dt_row ? kp->dt_row[d] : d) * kp->dt_step * K;
        if (d + 4 < d_end) {        /* four detections ahead: its row is far in memory */
            const char *nx = (const char *)(kp->dt_kpt + (kp->dt_row ? kp->dt_row[d + 4] : d + 4) * kp->dt_step * K);
            for (int64_t b = 0; b < kp->dt_step * K * 8; b += 64) __builtin_prefetch(nx + b);
        }
        double *row = iou + in->dt_iou_off[d];
        for (int64_t g = g0; g < g0 + G; g++) {
            const int64_t n = pair_d2(in, kp, dk, g, &ps);
            if (use_bound) {
                const double s = pair_bound_sum(&ps, n, 1.0 / (in->gt_area[g] + DBL_EPSILON),
                                                half_inv_var, ub);
                if (s >= 0 && s < cut * (double)n) {
                    row[g - g0] = s / (double)n;
                    continue;
                }
            }
            if (n > OKS_BATCH) {          /* more terms than a batch holds: alone */
                pair_exponents(in, kp, g, &ps, n, ps.e);
                exp_run(exp_loop, exp_data, ps.e, n);
                row[g - g0] = fa_np_sum(ps.e, n) / (double)n;
                continue;
            }
            if (b_used + n > OKS_BATCH || n_pend == OKS_BATCH_PAIRS)
                flush_batch(exp_loop, exp_data, batch, &b_used, pend_dst, pend_n, &n_pend);
            pair_exponents(in, kp, g, &ps, n, batch + b_used);
            b_used += n;
            pend_dst[n_pend] = row + (g - g0);
            pend_n[n_pend++] = (int32_t)n;
        }
    }
    flush_batch(exp_loop, exp_data, batch, &b_used, pend_dst, pend_n, &n_pend);
}
