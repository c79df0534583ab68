/*
 * coco.c -- the COCO protocol: per-image greedy matching and accumulation.
 *
 * Data layout: ground truth and detections are grouped by (category, image) and the
 * detections by descending score inside each run (fa_group), so one category is two
 * contiguous slices in which images appear in image-id order. A category is the unit
 * of parallel work: fa_coco_match_category and fa_coco_accumulate_category touch only
 * that category's entries of the outputs, and need only a per-thread scratch block.
 *
 * Matching (pycocotools COCOeval.evaluateImg) produces, per detection and area range, a
 * uint32 over the IoU thresholds for "true positive" and one for "false positive";
 * neither bit means the detection is ignored there. Area ranges whose ground-truth
 * ignore flags are identical in an image share one matching (the match does not
 * depend on the detection's own area, only the ignore rule applied afterwards does).
 *
 * Accumulation (pycocotools COCOeval.accumulate) sorts a category's detections once by
 * descending score (stable over image order and rank in the image, which is exactly
 * the order of pycocotools' concatenation + mergesort), then for each (area range,
 * maxDets) walks the detections with rank < maxDets, computing cumulative TP/FP as
 * integers converted to double (exact), precision tp / (tp + fp + eps), the envelope
 * from the right, and the recall-threshold samples by binary search (searchsorted
 * 'left'). Every float operation is the one NumPy performs, in the same order.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fastap.h"
#include "iou_pair.h"
#include "runs.h"

#if defined(_MSC_VER)
#include <intrin.h>
static int fa_ctz(uint32_t x) { unsigned long i; _BitScanForward(&i, x); return (int)i; }
#else
#define fa_ctz(x) __builtin_ctz(x)
#endif

/* np.spacing(1) */
#define FA_EPS DBL_EPSILON

static size_t align16(size_t x) { return (x + 15) & ~(size_t)15; }

/* Largest (dets after the cut) x (gts) product, and largest per-image counts, over all
 * (category, image) runs; largest category sizes. */
static void coco_sizes(const fa_coco_input *in, int64_t cut, fa_coco_sizes *s)
{
    memset(s, 0, sizeof(*s));
    for (int32_t k = 0; k < in->n_cat; k++) {
        int64_t gi = in->gt_off[k], ge = in->gt_off[k + 1];
        int64_t di = in->dt_off[k], de = in->dt_off[k + 1];
        if (de - di > s->max_cat_dt) s->max_cat_dt = de - di;
        if (ge - gi > s->max_cat_gt) s->max_cat_gt = ge - gi;
        int64_t g0, d0;
        int32_t img;
        while (fa_next_run(in, &gi, ge, &di, de, &g0, &d0, &img)) {
            int64_t G = gi - g0, D = di - d0;
            if (D > cut) D = cut;
            if (G > s->max_g) s->max_g = G;
            if (D > s->max_d) s->max_d = D;
            if (D * G > s->max_dg) s->max_dg = D * G;
        }
    }
}

static size_t match_scratch(const fa_coco_sizes *s, int32_t A)
{
    return align16((size_t)s->max_dg * sizeof(double))          /* ious */
         + align16((size_t)s->max_d * sizeof(double))           /* max iou per det */
         + align16((size_t)A * s->max_g)                        /* ignore flags per area */
         + align16((size_t)s->max_g * sizeof(int32_t))          /* gt order */
         + align16((size_t)s->max_g)                            /* taken flags */
         + 3 * align16((size_t)A * s->max_d * sizeof(uint32_t)); /* match bits per area */
}

/* One true positive of the accumulation walk at a threshold: its position in the
 * walk, the number of false positives before it (its tp count is its index + 1) and
 * the detection. */
typedef struct { int64_t pos, fp, det; } fa_tp_event;

/* Scratch of fa_coco_accumulate_category for a category of n_dt detections whose true
 * positives at one (area, maxDets, threshold) number fewer than tp_max. */
static size_t accum_scratch(int64_t n_dt, int64_t tp_max, int32_t T, int32_t M, int32_t A, int32_t R)
{
    size_t n = (size_t)n_dt + 1, cap = (size_t)tp_max;
    return 2 * align16((size_t)A * M * T * R * sizeof(double)) /* the category's precision, scores */
         + 2 * align16(n * 16)                      /* (key, detection) pairs + radix tmp */
         + align16(n * sizeof(int64_t))              /* detections in score order */
         + align16((size_t)M * T * cap * sizeof(fa_tp_event)) /* true positives */
         + 2 * align16(cap * sizeof(double))         /* precision envelope, recall */
         + 3 * align16(n * sizeof(uint32_t))         /* first setting, tp and fp bits */
         + 3 * align16((size_t)M * sizeof(int64_t)) + 2 * align16((size_t)M * T * sizeof(int64_t));
}

/* A true positive is matched to a distinct non-ignored gt, so at any (area, maxDets,
 * threshold) there are at most max_a npig[k][a] of them, and at most n. */
static int64_t tp_bound(const fa_coco_input *in, const fa_coco_params *p, const int64_t *npig, int32_t k)
{
    int64_t mx = 0, n = in->dt_off[k + 1] - in->dt_off[k];
    for (int32_t a = 0; a < p->n_area; a++)
        if (npig[(int64_t)k * p->n_area + a] > mx) mx = npig[(int64_t)k * p->n_area + a];
    return (mx < n ? mx : n) + 1;
}

size_t fa_coco_scratch_bytes(const fa_coco_input *in, const fa_coco_params *p, fa_coco_sizes *s)
{
    coco_sizes(in, p->max_dets[p->n_maxdet - 1], s);
    return match_scratch(s, p->n_area) + 16;
}

size_t fa_coco_accumulate_scratch_bytes(const fa_coco_input *in, const fa_coco_params *p,
                                        const int64_t *npig)
{
    size_t best = 0;
    for (int32_t k = 0; k < in->n_cat; k++) {
        size_t b = accum_scratch(in->dt_off[k + 1] - in->dt_off[k], tp_bound(in, p, npig, k),
                                 p->n_iou, p->n_maxdet, p->n_area, p->n_rec);
        if (b > best) best = b;
    }
    return best + 16;
}

static char *carve(char **cur, size_t bytes)
{
    char *r = *cur;
    *cur += align16(bytes);
    return r;
}

int64_t fa_coco_iou_layout(const fa_coco_input *in, int64_t cut, int64_t *dt_iou_off)
{
    int64_t total = 0;
    for (int32_t k = 0; k < in->n_cat; k++) {
        int64_t gi = in->gt_off[k], ge = in->gt_off[k + 1];
        int64_t di = in->dt_off[k], de = in->dt_off[k + 1];
        int64_t g0, d0;
        int32_t img;
        while (fa_next_run(in, &gi, ge, &di, de, &g0, &d0, &img)) {
            const int64_t G = gi - g0;
            for (int64_t d = d0; d < di; d++) {
                if (G > 0 && d - d0 < cut) {
                    dt_iou_off[d] = total;
                    total += G;
                } else {
                    dt_iou_off[d] = -1;
                }
            }
        }
    }
    return total;
}

int fa_coco_match_category(const fa_coco_input *in, const fa_coco_params *p,
                           const fa_coco_sizes *sizes, int32_t k, void *scratch,
                           fa_coco_match_out *out)
{
    return fa_coco_match_part(in, p, sizes, k, in->gt_off[k], in->gt_off[k + 1], in->dt_off[k],
                              in->dt_off[k + 1], scratch, out, out->npig + (int64_t)k * p->n_area);
}

/* The scratch blocks of one matching call, carved from its scratch (match_scratch). */
typedef struct {
    double *ious;               /* [max_d][max_g] a run's IoUs, kept detections x gts */
    double *maxiou;             /* [max_d] the best IoU of each kept detection */
    uint8_t *ig;                /* [A][max_g] gt ignore flags per area range */
    int32_t *perm;              /* [max_g] gt order: not ignored first */
    uint8_t *taken;             /* [max_g] */
    uint32_t *mbits;            /* [A][max_d] matched, per threshold bit */
    uint32_t *migbits;          /* [A][max_d] matched to an ignored gt */
    uint32_t *mzbits;           /* [A][max_d] matched to a gt whose id is 0 */
} fa_match_work;

static void match_work_carve(const fa_coco_sizes *s, int32_t A, void *scratch, fa_match_work *w)
{
    char *cur = (char *)scratch;
    w->ious = (double *)carve(&cur, (size_t)s->max_dg * sizeof(double));
    w->maxiou = (double *)carve(&cur, (size_t)s->max_d * sizeof(double));
    w->ig = (uint8_t *)carve(&cur, (size_t)A * s->max_g);
    w->perm = (int32_t *)carve(&cur, (size_t)s->max_g * sizeof(int32_t));
    w->taken = (uint8_t *)carve(&cur, (size_t)s->max_g);
    w->mbits = (uint32_t *)carve(&cur, (size_t)A * s->max_d * sizeof(uint32_t));
    w->migbits = (uint32_t *)carve(&cur, (size_t)A * s->max_d * sizeof(uint32_t));
    w->mzbits = (uint32_t *)carve(&cur, (size_t)A * s->max_d * sizeof(uint32_t));
}

/* A run's ranks, and its detections past the per-image cut (ranks [D, ND)), which are
 * not evaluated at all: no bits, ignored nowhere, matched to nothing. */
static inline void run_ranks_and_cut(const fa_coco_match_out *O, int64_t n_dt, int32_t A, int32_t T,
                                     int64_t d0, int64_t D, int64_t ND)
{
    for (int64_t r = 0; r < ND; r++) O->dt_rank[d0 + r] = (int32_t)(r < INT32_MAX ? r : INT32_MAX);
    for (int64_t r = D; r < ND; r++)
        for (int32_t a = 0; a < A; a++) {
            O->dt_tp[(int64_t)a * n_dt + d0 + r] = 0;
            O->dt_fp[(int64_t)a * n_dt + d0 + r] = 0;
            if (O->dt_ignore) O->dt_ignore[(int64_t)a * n_dt + d0 + r] = 0;
            if (O->dt_match)
                for (int32_t t = 0; t < T; t++) O->dt_match[((int64_t)a * T + t) * n_dt + d0 + r] = -1;
        }
}

/* A run without ground truth: every kept detection is a false positive at every
 * threshold, or ignored where its own area is outside the range. */
static inline void run_without_gt(const fa_coco_input *I, const fa_coco_params *p,
                                  const fa_coco_match_out *O, int64_t n_dt, int32_t A, int32_t T,
                                  uint32_t all_t, int64_t d0, int64_t D)
{
    for (int32_t a = 0; a < A; a++) {
        const double lo = p->area_rng[2 * a], hi = p->area_rng[2 * a + 1];
        for (int64_t r = 0; r < D; r++) {
            const double dar = I->dt_area[d0 + r];
            const int oor = dar < lo || dar > hi;
            const int64_t o = (int64_t)a * n_dt + d0 + r;
            O->dt_tp[o] = 0;
            O->dt_fp[o] = oor ? 0u : all_t;
            if (O->dt_ignore) O->dt_ignore[o] = oor ? all_t : 0u;
            if (O->dt_match)
                for (int32_t t = 0; t < T; t++) O->dt_match[((int64_t)a * T + t) * n_dt + d0 + r] = -1;
        }
    }
}

/* IoU of a run's kept detections (score order) against its gts (annotation order) into
 * ious [D][G], and each detection's best into maxiou [D]. */
static inline void run_ious(const fa_coco_input *I, int64_t g0, int64_t G, int64_t d0, int64_t D,
                            double *ious, double *maxiou)
{
    if (I->iou) {
        /* segm / keypoints: the run's [D][G] block, laid out by fa_coco_iou_layout */
        const double *blk = D ? I->iou + I->dt_iou_off[d0] : NULL;
        for (int64_t r = 0; r < D; r++) {
            double mx = 0.0;
            for (int64_t g = 0; g < G; g++) {
                double v = blk[r * G + g];
                ious[r * G + g] = v;
                if (v > mx) mx = v;
                /* a NaN IoU (keypoints with a zero sigma) passes pycocotools'
                 * `iou < t` test, so it can match at every threshold */
                if (v != v) mx = INFINITY;
            }
            maxiou[r] = mx;
        }
    } else for (int64_t r = 0; r < D; r++) {
        const double *db = I->dt_box + 4 * (d0 + r);
        double da = db[2] * db[3], mx = 0.0;
        for (int64_t g = 0; g < G; g++) {
            const double *gb = I->gt_box + 4 * (g0 + g);
            double v = fa_iou_xywh_pair(db, da, gb, gb[2] * gb[3], I->gt_crowd[g0 + g]);
            ious[r * G + g] = v;
            if (v > mx) mx = v;
        }
        maxiou[r] = mx;
    }
}

/* The ignore flags of a run's gts for area range a into iga [G] (and out->gt_ignore);
 * returns how many are not ignored. */
static inline int64_t run_gt_ignore(const fa_coco_input *I, const fa_coco_match_out *O, int64_t n_gt,
                                    int32_t a, double lo, double hi, int64_t g0, int64_t G,
                                    uint8_t *iga)
{
    int64_t n_ok = 0;
    for (int64_t g = 0; g < G; g++) {
        double ar = I->gt_area[g0 + g];
        /* pycocotools: ignore = iscrowd (keypoints: or no keypoints), or the area
         * field outside [lo, hi] */
        iga[g] = (uint8_t)((I->gt_ignore ? I->gt_ignore[g0 + g] : I->gt_crowd[g0 + g])
                           || ar < lo || ar > hi);
        n_ok += !iga[g];
        if (O->gt_ignore) O->gt_ignore[(int64_t)a * n_gt + g0 + g] = iga[g];
    }
    return n_ok;
}

/* Area range a's matching of a run copied from area range `same`, whose gt ignore
 * flags are the same. */
static inline void copy_area_match(const fa_coco_match_out *O, const fa_match_work *w, int64_t max_d,
                                   int64_t n_dt, int32_t T, int32_t a, int32_t same, int64_t d0,
                                   int64_t D)
{
    memcpy(w->mbits + (int64_t)a * max_d, w->mbits + (int64_t)same * max_d, (size_t)D * sizeof(uint32_t));
    memcpy(w->migbits + (int64_t)a * max_d, w->migbits + (int64_t)same * max_d, (size_t)D * sizeof(uint32_t));
    memcpy(w->mzbits + (int64_t)a * max_d, w->mzbits + (int64_t)same * max_d, (size_t)D * sizeof(uint32_t));
    if (O->dt_match)
        for (int32_t t = 0; t < T; t++)
            memcpy(O->dt_match + ((int64_t)a * T + t) * n_dt + d0,
                   O->dt_match + ((int64_t)same * T + t) * n_dt + d0,
                   (size_t)D * sizeof(int32_t));
}

/* pycocotools' greedy matching of a run at every threshold for area range a (gt
 * ignore flags iga): bits of mb (matched), mig (to an ignored gt), mz (to a gt of id 0). */
static inline void greedy_match_area(const fa_coco_input *I, const fa_coco_match_out *O,
                                     const fa_match_work *w, const double *thr, int64_t n_dt,
                                     int32_t T, int32_t a, int64_t g0, int64_t G, int64_t d0,
                                     int64_t D, const uint8_t *iga, uint32_t *mb, uint32_t *mig,
                                     uint32_t *mz)
{
    int32_t *perm = w->perm;
    uint8_t *taken = w->taken;
    const double *ious = w->ious, *maxiou = w->maxiou;
    /* gt order: not ignored first, then ignored, each in annotation order */
    int64_t np_ = 0;
    for (int64_t g = 0; g < G; g++) if (!iga[g]) perm[np_++] = (int32_t)g;
    for (int64_t g = 0; g < G; g++) if (iga[g]) perm[np_++] = (int32_t)g;
    memset(mb, 0, (size_t)D * sizeof(uint32_t));
    memset(mig, 0, (size_t)D * sizeof(uint32_t));
    memset(mz, 0, (size_t)D * sizeof(uint32_t));
    for (int32_t t = 0; t < T; t++) {
        int32_t *match_t = O->dt_match ? O->dt_match + ((int64_t)a * T + t) * n_dt + d0 : NULL;
        if (match_t) for (int64_t r = 0; r < D; r++) match_t[r] = -1;
        if (G == 0) continue;
        memset(taken, 0, (size_t)G);
        for (int64_t r = 0; r < D; r++) {
            if (maxiou[r] < thr[t]) continue;   /* no gt can reach the threshold */
            const double *row = ious + r * G;
            double best_iou = thr[t];
            int64_t best = -1;
            for (int64_t q = 0; q < G; q++) {
                int32_t g = perm[q];
                if (taken[g] && !I->gt_crowd[g0 + g]) continue;
                /* a held non-ignored match never moves to an ignored gt */
                if (best > -1 && !iga[best] && iga[g]) break;
                if (row[g] < best_iou) continue;   /* equal IoU: the later gt wins */
                best_iou = row[g];
                best = g;
            }
            if (best < 0) continue;
            taken[best] = 1;
            mb[r] |= 1u << t;
            if (iga[best]) mig[r] |= 1u << t;
            /* pycocotools keeps the matched gt *id* and tests it for != 0 */
            if (I->gt_id_zero[g0 + best]) mz[r] |= 1u << t;
            if (match_t) match_t[r] = (int32_t)(g0 + best);
        }
    }
}

/* The outputs of a run's kept detections for area range a from its match bits: a
 * detection matched to an ignored gt is ignored, an unmatched one whose own area is
 * outside the range too. */
static inline void write_area_flags(const fa_coco_input *I, const fa_coco_match_out *O, int64_t n_dt,
                                    uint32_t all_t, int32_t a, double lo, double hi, int64_t d0,
                                    int64_t D, const uint32_t *mb, const uint32_t *mig,
                                    const uint32_t *mz)
{
    for (int64_t r = 0; r < D; r++) {
        double dar = I->dt_area[d0 + r];
        int oor = dar < lo || dar > hi;
        uint32_t matched = mb[r] & ~mz[r];
        uint32_t ign = mig[r] | (oor ? (~matched & all_t) : 0u);
        int64_t o = (int64_t)a * n_dt + d0 + r;
        O->dt_tp[o] = matched & ~ign;
        O->dt_fp[o] = ~matched & ~ign & all_t;
        if (O->dt_ignore) O->dt_ignore[o] = ign;
    }
}

int fa_coco_match_part(const fa_coco_input *in, const fa_coco_params *p,
                       const fa_coco_sizes *sizes, int32_t k, int64_t gi, int64_t ge, int64_t di,
                       int64_t de, void *scratch, fa_coco_match_out *out, int64_t *npig)
{
    /* local copies of the input and output descriptions: stores into the outputs
     * would otherwise make the compiler reload their fields (no strict aliasing) */
    const fa_coco_input I = *in;
    const fa_coco_match_out O = *out;
    const int32_t T = p->n_iou, A = p->n_area;
    const int64_t cut = p->max_dets[p->n_maxdet - 1];
    const uint32_t all_t = (T >= 32) ? 0xFFFFFFFFu : ((1u << T) - 1u);
    const int64_t n_dt = I.n_dt, n_gt = I.n_gt;
    const fa_coco_sizes s = *sizes;
    fa_match_work w;
    (void)k;                /* the slice is given by its bounds; k names its category */
    match_work_carve(&s, A, scratch, &w);
    double thr[FA_MAX_IOU_THRESHOLDS];
    if (T < 1 || T > FA_MAX_IOU_THRESHOLDS) return FA_EINVAL;
    for (int32_t t = 0; t < T; t++)
        thr[t] = p->iou_thr[t] < 1 - 1e-10 ? p->iou_thr[t] : 1 - 1e-10;   /* pycocotools: min(t, 1-1e-10) */

    for (int32_t a = 0; a < A; a++) npig[a] = 0;

    int64_t g0, d0;
    int32_t img;
    while (fa_next_run(in, &gi, ge, &di, de, &g0, &d0, &img)) {
        const int64_t G = gi - g0, ND = di - d0;
        const int64_t D = ND < cut ? ND : cut;

        run_ranks_and_cut(&O, n_dt, A, T, d0, D, ND);
        if (G == 0) {
            run_without_gt(&I, p, &O, n_dt, A, T, all_t, d0, D);
            continue;
        }
        run_ious(&I, g0, G, d0, D, w.ious, w.maxiou);

        for (int32_t a = 0; a < A; a++) {
            const double lo = p->area_rng[2 * a], hi = p->area_rng[2 * a + 1];
            uint8_t *iga = w.ig + (int64_t)a * s.max_g;
            npig[a] += run_gt_ignore(&I, &O, n_gt, a, lo, hi, g0, G, iga);

            uint32_t *mb = w.mbits + (int64_t)a * s.max_d;
            uint32_t *mig = w.migbits + (int64_t)a * s.max_d;
            uint32_t *mz = w.mzbits + (int64_t)a * s.max_d;
            int32_t same = -1;   /* an earlier area range with identical gt ignore flags */
            for (int32_t b = 0; b < a && same < 0; b++)
                if (G == 0 || memcmp(w.ig + (int64_t)b * s.max_g, iga, (size_t)G) == 0) same = b;
            if (same >= 0)
                copy_area_match(&O, &w, s.max_d, n_dt, T, a, same, d0, D);
            else
                greedy_match_area(&I, &O, &w, thr, n_dt, T, a, g0, G, d0, D, iga, mb, mig, mz);
            write_area_flags(&I, &O, n_dt, all_t, a, lo, hi, d0, D, mb, mig, mz);
        }
    }
    return FA_OK;
}


/* A detection in the accumulation sort: an order-preserving integer key of its score
 * and its position, kept together so that the passes read memory sequentially. */
typedef struct { uint64_t key; int64_t d; } fa_scored;

/* Key whose ascending order is the scores' descending order. -0.0 and 0.0 compare equal,
 * so they get the same key (ties must keep their order, as in a comparison sort). */
static uint64_t desc_key(double s)
{
    union { double f; uint64_t u; } v;
    v.f = s + 0.0;                       /* -0.0 -> +0.0 */
    uint64_t u = (v.u >> 63) ? ~v.u : (v.u | 0x8000000000000000ull);
    return ~u;
}

/* Stable insertion sort of a[0..n) by ascending key. */
static void insertion_sort_scored(fa_scored *a, int64_t n)
{
    for (int64_t i = 1; i < n; i++) {
        fa_scored v = a[i];
        int64_t j = i;
        while (j > 0 && a[j - 1].key > v.key) { a[j] = a[j - 1]; j--; }
        a[j] = v;
    }
}

/* Stable LSD radix sort of a[0..n) by the key bits [lo_bit, 64), in digits of at most 11
 * bits; histograms of every digit in one pass, digits that are the same for every key
 * skipped. tmp has room for n. Returns a or tmp, whichever holds the result. */
static fa_scored *radix_scored(fa_scored *a, fa_scored *tmp, int64_t n, int lo_bit)
{
    enum { DIG = 11, MAXD = 6 };
    int shifts[MAXD], widths[MAXD], nd = 0;
    for (int sh = lo_bit; sh < 64 && nd < MAXD; sh += DIG, nd++) {
        shifts[nd] = sh;
        widths[nd] = 64 - sh < DIG ? 64 - sh : DIG;
    }
    int64_t *count = (int64_t *)calloc((size_t)nd << DIG, sizeof(int64_t));
    if (!count) {                        /* no memory for 100 KB: a slower sort, same order */
        insertion_sort_scored(a, n);
        return a;
    }
    for (int64_t i = 0; i < n; i++) {
        const uint64_t k = a[i].key;
        for (int q = 0; q < nd; q++)
            count[((int64_t)q << DIG) + (int64_t)((k >> shifts[q]) & ((1u << widths[q]) - 1))]++;
    }
    fa_scored *src = a, *dst = tmp;
    for (int q = 0; q < nd; q++) {
        int64_t *c = count + ((int64_t)q << DIG);
        const uint64_t mask = (1u << widths[q]) - 1;
        if (c[(src[0].key >> shifts[q]) & mask] == n) continue;     /* one digit value */
        int64_t pos = 0;
        for (int b = 0; b <= (int)mask; b++) { int64_t x = c[b]; c[b] = pos; pos += x; }
        for (int64_t i = 0; i < n; i++) dst[c[(src[i].key >> shifts[q]) & mask]++] = src[i];
        fa_scored *x = src; src = dst; dst = x;
    }
    free(count);
    return src;
}

/* Stable sort of a[0..n) by ascending key. tmp has room for n. Returns a or tmp,
 * whichever holds the result. The keys' upper 32 bits are radix sorted first (three
 * passes at most); runs that tie there are then ordered by the whole key: by insertion
 * when short, by a radix sort of their lower bits when long. */
static fa_scored *sort_scored_desc(fa_scored *a, fa_scored *tmp, int64_t n)
{
    if (n < 48) {
        insertion_sort_scored(a, n);
        return a;
    }
    fa_scored *src = radix_scored(a, tmp, n, 32);
    fa_scored *other = src == a ? tmp : a;
    for (int64_t i = 0; i < n;) {
        const uint64_t hi = src[i].key >> 32;
        int64_t j = i + 1;
        while (j < n && (src[j].key >> 32) == hi) j++;
        if (j - i > 32) {
            fa_scored *r = radix_scored(src + i, other + i, j - i, 0);
            if (r != src + i) memcpy(src + i, r, (size_t)(j - i) * sizeof(fa_scored));
        } else if (j - i > 1) {
            insertion_sort_scored(src + i, j - i);
        }
        i = j;
    }
    return src;
}

/* The same sort with 8-byte items for categories of fewer than 2^32 detections: the
 * upper 32 key bits and the detection's offset in its category. Half the memory to move
 * and to touch; ties in the upper bits are ordered by the lower bits, read back from
 * the scores. */
typedef struct { uint32_t hi, d; } fa_scored8;

static fa_scored8 *radix8(fa_scored8 *a, fa_scored8 *tmp, int64_t n)
{
    enum { DIG = 11, ND = 3 };
    int64_t *count = (int64_t *)calloc((size_t)ND << DIG, sizeof(int64_t));
    if (!count)
        return NULL;
    for (int64_t i = 0; i < n; i++) {
        const uint32_t k = a[i].hi;
        count[k & 2047u]++;
        count[2048 + ((k >> 11) & 2047u)]++;
        count[4096 + (k >> 22)]++;
    }
    fa_scored8 *src = a, *dst = tmp;
    for (int q = 0; q < ND; q++) {
        int64_t *c = count + ((int64_t)q << DIG);
        const int sh = 11 * q;
        if (c[(src[0].hi >> sh) & 2047u] == n) continue;        /* one digit value */
        int64_t pos = 0;
        for (int b = 0; b < 2048; b++) { int64_t x = c[b]; c[b] = pos; pos += x; }
        for (int64_t i = 0; i < n; i++) dst[c[(src[i].hi >> sh) & 2047u]++] = src[i];
        fa_scored8 *x = src; src = dst; dst = x;
    }
    free(count);
    return src;
}

/* a[0..n) (n < 2^32) by ascending desc_key of score[base + d], stably, into order as
 * base + d. tmp: room for n. Returns 0, or -1 without memory for the histograms. */
static int sort_order8(const double *score, int64_t base, fa_scored8 *a, fa_scored8 *tmp, int64_t n,
                       int64_t *order)
{
    fa_scored8 *src = n > 1 ? radix8(a, tmp, n) : a;
    if (!src)
        return -1;
    fa_scored8 *other = src == a ? tmp : a;
    for (int64_t i = 0; i < n;) {
        const uint32_t hi = src[i].hi;
        int64_t j = i + 1;
        while (j < n && src[j].hi == hi) j++;
        if (j - i > 1) {
            /* the run's lower key bits; nothing to do when they are all equal (equal
             * scores keep their order) */
            const uint32_t low0 = (uint32_t)desc_key(score[base + src[i].d]);
            int same = 1;
            for (int64_t q = i; q < j; q++) {
                other[q].hi = (uint32_t)desc_key(score[base + src[q].d]);
                other[q].d = src[q].d;
                same &= other[q].hi == low0;
            }
            if (!same) {
                fa_scored8 *r;
                if (j - i <= 32) {
                    r = other + i;
                    for (int64_t x = 1; x < j - i; x++) {        /* insertion, stable */
                        fa_scored8 v = r[x];
                        int64_t y = x;
                        while (y > 0 && r[y - 1].hi > v.hi) { r[y] = r[y - 1]; y--; }
                        r[y] = v;
                    }
                } else {
                    r = radix8(other + i, src + i, j - i);
                    if (!r)
                        return -1;
                }
                for (int64_t q = 0; q < j - i; q++) src[i + q].d = r[q].d;
            }
        }
        i = j;
    }
    for (int64_t i = 0; i < n; i++) order[i] = base + src[i].d;
    return 0;
}

/* The detections of category k kept by the per-image cut, in pycocotools' accumulation
 * order (descending score, stable), into order; returns how many. scratch: room for
 * 2 (n + 1) fa_scored. */
static int64_t accumulate_order(const fa_coco_input *in, const fa_coco_params *p, int32_t k,
                                const fa_coco_match_out *m, fa_scored *pairs, fa_scored *pairs_tmp,
                                int64_t *order)
{
    const int64_t ds = in->dt_off[k], de = in->dt_off[k + 1];
    const int64_t cut = p->max_dets[p->n_maxdet - 1];
    int64_t nk = 0;
    if (de - ds >= 48 && de - ds < ((int64_t)1 << 32)) {
        fa_scored8 *a = (fa_scored8 *)(void *)pairs, *t = (fa_scored8 *)(void *)pairs_tmp;
        for (int64_t d = ds; d < de; d++)
            if (m->dt_rank[d] < cut) {
                a[nk].hi = (uint32_t)(desc_key(in->dt_score[d]) >> 32);
                a[nk].d = (uint32_t)(d - ds);
                nk++;
            }
        if (sort_order8(in->dt_score, ds, a, t, nk, order) == 0)
            return nk;
        nk = 0;                                /* no memory for histograms: below */
    }
    for (int64_t d = ds; d < de; d++)
        if (m->dt_rank[d] < cut) { pairs[nk].key = desc_key(in->dt_score[d]); pairs[nk].d = d; nk++; }
    const fa_scored *ps = sort_scored_desc(pairs, pairs_tmp, nk);
    for (int64_t i = 0; i < nk; i++) order[i] = ps[i].d;
    return nk;
}

int64_t fa_coco_accumulate_order(const fa_coco_input *in, const fa_coco_params *p, int32_t k,
                                 const fa_coco_match_out *m, void *scratch, int64_t *order)
{
    const int64_t n = in->dt_off[k + 1] - in->dt_off[k];
    char *cur = (char *)scratch;
    fa_scored *pairs = (fa_scored *)carve(&cur, (size_t)(n + 1) * sizeof(fa_scored));
    fa_scored *pairs_tmp = (fa_scored *)carve(&cur, (size_t)(n + 1) * sizeof(fa_scored));
    return accumulate_order(in, p, k, m, pairs, pairs_tmp, order);
}

int fa_coco_accumulate_category(const fa_coco_input *in, const fa_coco_params *p, int32_t k,
                                const fa_coco_match_out *m, int32_t k_out, int32_t n_k_out,
                                void *scratch, double *precision, double *recall,
                                double *scores)
{
    return fa_coco_accumulate_areas(in, p, k, m, k_out, n_k_out, 0, p->n_area, NULL, 0, scratch,
                                    precision, recall, scores);
}

/* The scratch blocks of one accumulation call (accum_scratch), carved from its scratch. */
typedef struct {
    double *cat_q, *cat_s;          /* [T][R][A][M] the category's precision and scores */
    fa_scored *pairs, *pairs_tmp;   /* [n + 1] the score sort's items */
    int64_t *sorted;                /* [n + 1] kept detections in score order */
    fa_tp_event *ev;                /* [M][T][cap] true positives of the walks */
    double *env, *rc;               /* [cap] precision envelope, recall at each tp */
    int32_t *m0_s;                  /* [n + 1] first maxDets setting keeping each detection */
    uint32_t *tp_s, *fp_s;          /* [n + 1] one area range's bits in score order */
    int64_t *nd_m, *fp_all_m, *first_m;   /* [M] per walk: detections, all-fp ones, first */
    int64_t *n_ev, *fp_extra;       /* [M][T] per walk and threshold: tps, other fps */
} fa_accum_work;

static void accum_work_carve(int64_t n, int64_t cap, int32_t T, int32_t R, int32_t A, int32_t M,
                             void *scratch, fa_accum_work *w)
{
    char *cur = (char *)scratch;
    /* this category's precision and scores, [T][R][A][M]: written out at the end, T x R
     * rows of A*M consecutive values, instead of one scattered value at a time */
    w->cat_q = (double *)carve(&cur, (size_t)A * M * T * R * sizeof(double));
    w->cat_s = (double *)carve(&cur, (size_t)A * M * T * R * sizeof(double));
    w->pairs = (fa_scored *)carve(&cur, (size_t)(n + 1) * sizeof(fa_scored));
    w->pairs_tmp = (fa_scored *)carve(&cur, (size_t)(n + 1) * sizeof(fa_scored));
    w->sorted = (int64_t *)carve(&cur, (size_t)(n + 1) * sizeof(int64_t));
    w->ev = (fa_tp_event *)carve(&cur, (size_t)M * T * cap * sizeof(fa_tp_event));
    w->env = (double *)carve(&cur, (size_t)cap * sizeof(double));
    w->rc = (double *)carve(&cur, (size_t)cap * sizeof(double));
    w->m0_s = (int32_t *)carve(&cur, (size_t)(n + 1) * sizeof(int32_t));
    w->tp_s = (uint32_t *)carve(&cur, (size_t)(n + 1) * sizeof(uint32_t));
    w->fp_s = (uint32_t *)carve(&cur, (size_t)(n + 1) * sizeof(uint32_t));
    w->nd_m = (int64_t *)carve(&cur, (size_t)M * sizeof(int64_t));
    w->fp_all_m = (int64_t *)carve(&cur, (size_t)M * sizeof(int64_t));
    w->first_m = (int64_t *)carve(&cur, (size_t)M * sizeof(int64_t));
    w->n_ev = (int64_t *)carve(&cur, (size_t)M * T * sizeof(int64_t));
    w->fp_extra = (int64_t *)carve(&cur, (size_t)M * T * sizeof(int64_t));
}

/* m0_s[i]: the first maxDets setting whose per-image cut keeps the i-th detection
 * (settings ascend, so every later one keeps it too) */
static inline void first_maxdet_settings(const fa_coco_params *p, const fa_coco_match_out *m,
                                         const int64_t *sorted, int64_t nk, int32_t *m0_s)
{
    const int32_t M = p->n_maxdet;
    for (int64_t i = 0; i < nk; i++) {
        const int32_t r = m->dt_rank[sorted[i]];
        int32_t mi = 0;
        while (mi < M && p->max_dets[mi] <= r) mi++;
        m0_s[i] = mi;
    }
}

/* An area range with no non-ignored ground truth: -1 everywhere. */
static inline void area_without_gt(int32_t T, int32_t R, int32_t A, int32_t M, int64_t K, int32_t k_out,
                                   int32_t a, double *recall, double *cat_q, double *cat_s)
{
    for (int32_t t = 0; t < T; t++)
        for (int32_t mi = 0; mi < M; mi++) {
            recall[(((int64_t)t * K + k_out) * A + a) * M + mi] = -1.0;
            for (int32_t r = 0; r < R; r++) {
                const int64_t li = (((int64_t)t * R + r) * A + a) * M + mi;
                cat_q[li] = cat_s[li] = -1.0;
            }
        }
}

/* Area range a's bits in score order: the walks read memory sequentially. (Parameters,
 * not fields of *m: stores through ts / fs could otherwise alias *m -- the build does not
 * assume strict aliasing -- and reload it every time.) */
static inline void gather_area_bits(const uint32_t *const tpa, const uint32_t *const fpa,
                                    const int64_t *const so, int64_t nk, uint32_t *const ts,
                                    uint32_t *const fs)
{
    for (int64_t i = 0; i < nk; i++) {
        const int64_t d = so[i];
        ts[i] = tpa[d];
        fs[i] = fpa[d];
    }
}

/* The walk of maxDets setting mi: the detections in score order that it keeps (those
 * with m0[i] <= mi), counts in locals (T <= 32). Only the true positives are recorded
 * (evm [T][cap]): recall changes only there, and the precision envelope max(pr[i:]) is
 * attained at a true positive (between two, the precision only falls), so pr is
 * evaluated exactly where pycocotools' result depends on it, with the same double
 * arithmetic. Out: the walk's detections, all-threshold false positives and first
 * detection; per threshold its true positives (n_ev) and other false positives.
 * FA_EINVAL when the bits cannot come from a matching with these parameters (given
 * results: a loaded Evaluator state): a true-positive bit at a threshold index >= T, or
 * more true positives at one threshold than the room cap - 1 >= non-ignored ground truths. */
static inline int walk_maxdet(int32_t mi, int32_t T, uint32_t all_t, int64_t cap, int64_t nk,
                               const int32_t *const m0, const uint32_t *const fs,
                               const uint32_t *const ts, const int64_t *const so, fa_tp_event *const evm,
                               int64_t *nd_out, int64_t *fp_all_out, int64_t *first_out,
                               int64_t *n_ev, int64_t *fp_extra)
{
    int64_t nd = 0, fp_all = 0, first = -1;
    int64_t fx[32], cnt[32];
    for (int32_t t = 0; t < T; t++) { fx[t] = 0; cnt[t] = 0; }
    for (int64_t i = 0; i < nk; i++) {
        if (m0[i] > mi) continue;
        const uint32_t f = fs[i];
        const int64_t d = so[i];
        if (first < 0) first = d;
        if (f == all_t) {
            fp_all++;
        } else {
            uint32_t b = f;
            while (b) { int t = fa_ctz(b); fx[t]++; b &= b - 1; }
            b = ts[i];
            while (b) {
                int t = fa_ctz(b);
                if (t >= T || cnt[t] >= cap - 1) return FA_EINVAL;
                fa_tp_event *e = evm + (int64_t)t * cap + cnt[t]++;
                e->pos = nd;
                e->fp = fp_all + fx[t];
                e->det = d;
                b &= b - 1;
            }
        }
        nd++;
    }
    *nd_out = nd; *fp_all_out = fp_all; *first_out = first;
    for (int32_t t = 0; t < T; t++) { n_ev[t] = cnt[t]; fp_extra[t] = fx[t]; }
    return FA_OK;
}

/* Recall, and precision and scores at the R recall thresholds (qrow, srow: R values,
 * `step` apart), of one (area, maxDets, threshold) from its ne true positives e of a
 * walk of nd detections (first_sel its first). env, rc: scratch [ne]. */
static inline void sample_threshold(const fa_tp_event *e, int64_t ne, int64_t nd, int64_t first_sel,
                                    double npig, const double *rec_thr, int32_t R,
                                    const double *dt_score, double *env, double *rc,
                                    double *recall_at, double *qrow, double *srow, int64_t step)
{
    *recall_at = nd ? (double)ne / npig : 0.0;
    /* precision at each true positive, then the envelope from the right */
    for (int64_t j = 0; j < ne; j++) {
        double tp = (double)(j + 1);
        env[j] = tp / (((double)e[j].fp + tp) + FA_EPS);
    }
    for (int64_t j = ne - 1; j > 0; j--)
        if (env[j] > env[j - 1]) env[j - 1] = env[j];
    const int tp_at_0 = ne > 0 && e[0].pos == 0;
    const double rc0 = (tp_at_0 ? 1.0 : 0.0) / npig;
    for (int64_t j = 0; j < ne; j++) rc[j] = (double)(j + 1) / npig;
    int stopped = 0;
    int64_t j_prev = 0;
    double v_prev = -INFINITY;
    for (int32_t r = 0; r < R; r++) {
        double q = 0.0, sc = 0.0;
        const double v = rec_thr[r];
        if (!stopped) {
            /* numpy searchsorted(rc, v, 'left') on the cumulative recall: rc is 0 (or
             * rc0) before the first true positive and rc[j] from the j-th true positive on */
            int64_t pi, j;
            if (nd > 0 && rc0 >= v) {
                pi = 0;
                j = tp_at_0 ? 0 : -1;
                q = ne > 0 ? env[0] : 0.0;   /* max(pr[0] = 0, envelope) */
            } else {
                /* first j with rc[j] >= v; thresholds usually ascend, so start from the
                 * previous answer when they do */
                int64_t lo = v >= v_prev ? j_prev : 0, hi = ne;
                while (lo < hi) {
                    int64_t mid = lo + (hi - lo) / 2;
                    if (rc[mid] < v) lo = mid + 1;
                    else hi = mid;
                }
                j = lo;
                j_prev = lo;
                pi = j < ne ? e[j].pos : nd;
                if (j < ne) q = env[j];
            }
            v_prev = v;
            /* pycocotools stops filling at the first index past the end */
            if (pi >= nd) { stopped = 1; q = 0.0; }
            else sc = dt_score[j >= 0 ? e[j].det : first_sel];
        }
        qrow[r * step] = q;
        srow[r * step] = sc;
    }
}

/* out: [T][R][K][A][M], the category's values of each (t, r) for the area ranges
 * [a_begin, a_end) together */
static inline void write_category_rows(int32_t T, int32_t R, int32_t A, int32_t M, int64_t K,
                                       int32_t k_out, int32_t a_begin, int32_t a_end,
                                       const double *cat_q, const double *cat_s,
                                       double *precision, double *scores)
{
    const size_t row = (size_t)(a_end - a_begin) * M * sizeof(double);
    const int64_t a0 = (int64_t)a_begin * M;
    if (row)
        for (int64_t tr = 0; tr < (int64_t)T * R; tr++) {
            memcpy(precision + (tr * K + k_out) * A * M + a0, cat_q + tr * A * M + a0, row);
            if (scores)
                memcpy(scores + (tr * K + k_out) * A * M + a0, cat_s + tr * A * M + a0, row);
        }
}

int fa_coco_accumulate_areas(const fa_coco_input *in, const fa_coco_params *p, int32_t k,
                             const fa_coco_match_out *m, int32_t k_out, int32_t n_k_out,
                             int32_t a_begin, int32_t a_end, const int64_t *order, int64_t n_order,
                             void *scratch, double *precision, double *recall, double *scores)
{
    const int32_t T = p->n_iou, R = p->n_rec, A = p->n_area, M = p->n_maxdet;
    const int64_t K = n_k_out, n_dt = in->n_dt;
    const int64_t ds = in->dt_off[k], de = in->dt_off[k + 1];
    const int64_t n = de - ds;
    const uint32_t all_t = (T >= 32) ? 0xFFFFFFFFu : ((1u << T) - 1u);
    const int64_t cap = tp_bound(in, p, m->npig, k);
    fa_accum_work w;
    accum_work_carve(n, cap, T, R, A, M, scratch, &w);

    /* detections kept by the per-image cut, by score: given, or sorted here */
    int64_t *sorted = w.sorted;
    const int64_t nk = order ? n_order : accumulate_order(in, p, k, m, w.pairs, w.pairs_tmp, sorted);
    if (order) sorted = (int64_t *)order;
    first_maxdet_settings(p, m, sorted, nk, w.m0_s);

    for (int32_t a = a_begin; a < a_end; a++) {
        const int64_t npig_i = m->npig[(int64_t)k * A + a];
        if (npig_i == 0) {
            area_without_gt(T, R, A, M, K, k_out, a, recall, w.cat_q, w.cat_s);
            continue;
        }
        const double npig = (double)npig_i;
        gather_area_bits(m->dt_tp + (int64_t)a * n_dt, m->dt_fp + (int64_t)a * n_dt, sorted, nk,
                         w.tp_s, w.fp_s);
        /* one walk per maxDets setting over the detections in score order, for all
         * thresholds: a detection counts for the settings from m0_s[i] on */
        for (int32_t mi = 0; mi < M; mi++)
            if (walk_maxdet(mi, T, all_t, cap, nk, w.m0_s, w.fp_s, w.tp_s, sorted,
                            w.ev + (int64_t)mi * T * cap, &w.nd_m[mi], &w.fp_all_m[mi], &w.first_m[mi],
                            w.n_ev + (int64_t)mi * T, w.fp_extra + (int64_t)mi * T) != FA_OK)
                return FA_EINVAL;
        for (int32_t mi = 0; mi < M; mi++)
            for (int32_t t = 0; t < T; t++) {
                /* this (area, maxDets, threshold)'s values, R of them, A * M apart */
                const int64_t li = ((int64_t)t * R * A + a) * M + mi;
                sample_threshold(w.ev + ((int64_t)mi * T + t) * cap, w.n_ev[(int64_t)mi * T + t],
                                 w.nd_m[mi], w.first_m[mi], npig, p->rec_thr, R, in->dt_score,
                                 w.env, w.rc, &recall[(((int64_t)t * K + k_out) * A + a) * M + mi],
                                 w.cat_q + li, w.cat_s + li, (int64_t)A * M);
            }
    }
    write_category_rows(T, R, A, M, K, k_out, a_begin, a_end, w.cat_q, w.cat_s, precision, scores);
    return FA_OK;
}
