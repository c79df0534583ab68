/*
 * accum_blocks.c -- pycocotools' accumulate() of evalImgs dicts, one (category, area
 * range) block at a time.
 *
 * The frameworks that merge per-batch evaluations (torchvision's references and the
 * DETR family) hand accumulate() a list of pycocotools' per-image dicts rather than
 * fastap's tables. The Python layer concatenates the dicts of each block (dtScores,
 * dtMatches / dtIgnore as true / false positive flags, the rank of each detection in
 * its image, and the block's count of non-ignored ground truths); this file does the
 * rest exactly as pycocotools' NumPy code does it:
 *
 *   - order: descending score, stable (np.argsort(-scores, kind="mergesort")): ties keep
 *     their order, NaN scores come last, -0.0 ties with 0.0;
 *   - per maxDets setting, the detections whose rank in their image is below it, in that
 *     order (the restriction of a stable sort is the stable sort of the restriction);
 *   - per IoU threshold, cumulative TP and FP as doubles, recall tp / npig, precision
 *     tp / (fp + tp + eps) with eps = np.spacing(1), made non-increasing from the right;
 *   - precision and score sampled at each recall threshold by a left binary search,
 *     stopping at the first threshold past the end (pycocotools' try / except).
 *
 * Blocks are independent: the caller runs them on several threads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fastap.h"

/* a sorts strictly before b in np.argsort(-score) (NaN last). */
static inline int desc_before(double a, double b)
{
    if (isnan(a)) return 0;
    if (isnan(b)) return 1;
    return -a < -b;
}

/* Stable merge sort of idx[0..n) by descending score[idx[i]]; tmp has room for n. */
static void sort_desc_stable(const double *score, int64_t *idx, int64_t *tmp, int64_t n)
{
    for (int64_t i = 1; i < n && n <= 16; i++) {     /* short blocks: insertion sort */
        const int64_t v = idx[i];
        int64_t j = i;
        while (j > 0 && desc_before(score[v], score[idx[j - 1]])) { idx[j] = idx[j - 1]; j--; }
        idx[j] = v;
    }
    if (n <= 16) return;
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            const int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = desc_before(score[idx[j]], score[idx[i]]) ? idx[j++] : idx[i++];
            while (i < mid) tmp[o++] = idx[i++];
            while (j < hi) tmp[o++] = idx[j++];
        }
        memcpy(idx, tmp, (size_t)n * sizeof(int64_t));
    }
}

/* One IoU threshold of one maxDets setting: sel[0..nd) the kept detections in order. */
static void block_threshold(const fa_blocks_input *in, int64_t t, const int64_t *sel, int64_t nd,
                            double npig, double *rc, double *pr, double *recall, double *q, double *ss)
{
    const uint8_t *flags = in->flags + t * in->n_det;
    const double eps = 2.220446049250313e-16;      /* np.spacing(1) */
    int64_t tp = 0, fp = 0;
    for (int64_t i = 0; i < nd; i++) {
        const uint8_t f = flags[sel[i]];
        tp += f & 1;
        fp += (f >> 1) & 1;
        rc[i] = (double)tp / npig;
        pr[i] = (double)tp / ((double)fp + (double)tp + eps);
    }
    *recall = nd ? rc[nd - 1] : 0.0;
    for (int64_t i = nd - 1; i > 0; i--)
        if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
    for (int32_t r = 0; r < in->n_rec; r++) { q[r] = 0.0; ss[r] = 0.0; }
    for (int32_t r = 0; r < in->n_rec; r++) {
        const double x = in->rec_thrs[r];
        int64_t lo = 0, hi = nd;                     /* first i with rc[i] >= x */
        while (lo < hi) {
            const int64_t mid = lo + (hi - lo) / 2;
            if (rc[mid] < x) lo = mid + 1; else hi = mid;
        }
        if (lo >= nd) break;
        q[r] = pr[lo];
        ss[r] = in->score[sel[lo]];
    }
}

int fa_accumulate_block(const fa_blocks_input *in, int64_t b, double *precision, double *recall,
                        double *scores)
{
    const int64_t d0 = in->det_off[b], n = in->det_off[b + 1] - d0;
    const int32_t T = in->n_iou, R = in->n_rec, M = in->n_maxdet;
    double *P = precision + b * (int64_t)M * T * R, *S = scores + b * (int64_t)M * T * R;
    double *RC = recall + b * (int64_t)M * T;
    if (in->npig[b] == 0) {                          /* pycocotools: `continue`, -1 stays */
        for (int64_t i = 0; i < (int64_t)M * T * R; i++) P[i] = S[i] = -1.0;
        for (int64_t i = 0; i < (int64_t)M * T; i++) RC[i] = -1.0;
        return 0;
    }
    int64_t *idx = malloc((size_t)(3 * n + 1) * sizeof(int64_t));
    double *buf = malloc((size_t)(2 * n + 1) * sizeof(double));
    if (!idx || !buf) { free(idx); free(buf); return -1; }
    int64_t *tmp = idx + n, *sel = idx + 2 * n;
    double *rc = buf, *pr = buf + n;
    for (int64_t i = 0; i < n; i++) idx[i] = d0 + i;
    sort_desc_stable(in->score, idx, tmp, n);
    for (int32_t m = 0; m < M; m++) {
        int64_t nd = 0;
        for (int64_t i = 0; i < n; i++)
            if (in->rank[idx[i]] < in->max_dets[m]) sel[nd++] = idx[i];
        for (int32_t t = 0; t < T; t++) {
            const int64_t o = ((int64_t)m * T + t);
            block_threshold(in, t, sel, nd, (double)in->npig[b], rc, pr, RC + o, P + o * R, S + o * R);
        }
    }
    free(idx);
    free(buf);
    return 0;
}
