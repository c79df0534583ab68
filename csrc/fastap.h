/*
 * fastap.h -- every C kernel of fastap, declared and documented in one place.
 *
 * Conventions (all kernels):
 *   - Plain C99, no Python headers. Kernels never allocate in their inner loops; outputs
 *     and scratch buffers are provided by the caller (NumPy owns the memory), except
 *     where a function says it allocates once at its top (and then it checks).
 *   - Boxes are float64, row-major [n][4]. "xywh" is COCO's (x, y, width, height).
 *   - Functions that can fail return an int status: FA_OK (0) or a negative FA_E* code.
 *     Inputs are validated by the Cython layer (fastap/_core.pyx) before any call;
 *     the C code still never asserts on user data.
 *   - fastap/_capi.pxd mirrors these declarations for Cython (the binding's only
 *     declaration of them): a change of a name or signature here goes there too.
 *   - "grouped" arrays are sorted by (category, image[, -score, input index]) and
 *     described by per-category offsets: group k occupies [off[k], off[k+1]).
 */
#ifndef FASTAP_H
#define FASTAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FA_OK 0
#define FA_ENOMEM (-1)
#define FA_EINVAL (-2)
#define FA_EPARSE (-3)
#define FA_EUNSUPPORTED (-4)

/* Maximum number of IoU thresholds evaluated in one kernel call: a detection's
 * results over the thresholds are one uint32 bitmask. The Python layer splits larger
 * threshold lists into chunks of this size. */
#define FA_MAX_IOU_THRESHOLDS 32

/* ------------------------------------------------------------------------------------
 * iou.c -- pairwise box IoU
 * ------------------------------------------------------------------------------------ */

/* The GPU counterpart, csrc/cuda/box_iou.cu (compiled at run time by NVRTC through CuPy,
 * not part of this library), runs the same per-pair formula (iou_pair.h). */

/* IoU of n boxes `a` against m boxes `b`, both xywh float64 [n][4] / [m][4].
 * out: float64 [n][m], row-major, written completely.
 * b_crowd: uint8 [m] or NULL. Where b_crowd[j] != 0 the union is the area of a[i]
 * alone (pycocotools: a crowd's union is the detection's area).
 * Bitwise the same arithmetic as pycocotools' bbIou (maskApi.c). */
void fa_box_iou_xywh(const double *a, int64_t n, const double *b, int64_t m,
                     const uint8_t *b_crowd, double *out);

/* The same for corner boxes (x1, y1, x2, y2): widths are x2 - x1, intersections
 * min(x2) - max(x1). `plus_one` != 0 uses the PASCAL VOC devkit's +1 pixel convention
 * (widths x2 - x1 + 1), in which case b_crowd must be NULL. */
void fa_box_iou_xyxy(const double *a, int64_t n, const double *b, int64_t m,
                     const uint8_t *b_crowd, int plus_one, double *out);

/* The IoU family (iou_pair.h, fa_iou_family_pair: torchvision's GIoU / DIoU / CIoU with the
 * 0/0 cases defined) of corner boxes a [n][4] against b [m][4], float64; kind:
 * FA_IOU_KIND_IOU/GIOU/DIOU/CIOU; eps: DIoU/CIoU's (torchvision: 1e-7). out: [n][m]. */
void fa_box_iou_family(const double *a, int64_t n, const double *b, int64_t m,
                       int kind, double eps, double *out);

/* Elementwise: out[i] = the pair (a[i], b[i]), a and b [n][4], out [n]. kind IOU: the
 * pairwise kernels' formula (xywh != 0: pycocotools' on xywh boxes; else corners), with
 * b_crowd (uint8 [n] or NULL) as there; other kinds: corners, as fa_box_iou_family. */
void fa_box_iou_aligned(const double *a, const double *b, int64_t n, const uint8_t *b_crowd,
                        int xywh, int kind, double eps, double *out);

/* ------------------------------------------------------------------------------------
 * assign.c -- anchor to ground-truth assignment (fastap.assign), IoU of corner boxes
 * ------------------------------------------------------------------------------------ */

/* Box records (iou_pair.h, FA_IOU_REC doubles each) of n corner boxes: rec [n][FA_IOU_REC]. */
void fa_iou_records(const double *boxes, int64_t n, double *rec);

/* Anchors i0..i1-1 of anchors [.][4] (corners) against g ground truths (records):
 * best_iou[i] / best_gt[i]: the highest IoU and the first (lowest) gt index reaching it
 * (-1 and 0.0 when g == 0); gt_max[k] / gt_arg[k] / gt_last[k] / gt_count[k]: gt k's
 * highest IoU over these anchors, the first anchor reaching it, the last, and how many
 * (the caller initialises gt_max to -1 and gt_count to 0). */
void fa_assign_best(const double *anchors, int64_t i0, int64_t i1, const double *gt_rec, int64_t g,
                    double *best_iou, int64_t *best_gt, double *gt_max, int64_t *gt_arg,
                    int64_t *gt_last, int64_t *gt_count);

/* One chunk's ties: for each gt k whose chunk maximum chunk_max[k] (fa_assign_best's
 * gt_max for the chunk) equals the overall gt_max[k], hit[i] = 1 for the anchors i of
 * chunk_arg[k] .. chunk_last[k] whose IoU with k equals gt_max[k] (chunk_count[k] of them);
 * other hit[] entries are left as they are (the caller zeroes hit). */
void fa_assign_ties(const double *anchors, const double *gt_rec, int64_t g, const double *gt_max,
                    const double *chunk_max, const int64_t *chunk_arg, const int64_t *chunk_last,
                    const int64_t *chunk_count, uint8_t *hit);

/* ------------------------------------------------------------------------------------
 * group.c -- grouping into (major, minor) runs
 * ------------------------------------------------------------------------------------ */

/* Stable order of n records by (major, minor, -score): counting sorts on minor then
 * major, then a stable sort by descending score inside each (major, minor) run when
 * `score` is not NULL. Ties keep the input order (as NumPy's mergesort does).
 *   major: int32 [n] in [0, n_major); minor: int32 [n] in [0, n_minor)
 *   score: float64 [n] or NULL (NaN not allowed: checked by the caller)
 *   order: int64 [n] out, the permutation (order[i] = input index of i-th record)
 *   major_off: int64 [n_major + 1] out, offsets of each major group in `order`
 * Allocates O(n + n_major + n_minor) scratch once; returns FA_ENOMEM if that fails. */
int fa_group(int64_t n, const int32_t *major, int32_t n_major, const int32_t *minor,
             int32_t n_minor, const double *score, int64_t *order, int64_t *major_off);

/* Pass 3 of fa_group for the part [begin, end) of `order` (already in (major, minor)
 * order): each (major, minor) run that starts in the part, sorted by descending score,
 * stably (a run that starts before `begin` is left to the part that holds its start).
 * Parts that split [0, n) can run on separate threads. tmp: room for n int64. */
void fa_group_sort_runs(int64_t n, const int32_t *major, const int32_t *minor,
                        const double *score, int64_t *order, int64_t begin, int64_t end,
                        int64_t *tmp);

/* Positions of ids through a lookup table over their range: for lo <= values[i] <=
 * lo + span, lut[values[i] - lo] is the position (-1: absent); pos[i] gets it (0 when
 * absent) and ok[i] 1 when present, else 0. lut has span + 1 entries, span >= 0.
 * Returns how many are absent. */
int64_t fa_index_lut(int64_t n, const int64_t *values, int64_t lo, int64_t span,
                     const int64_t *lut, int64_t *pos, uint8_t *ok);

/* fa_index_lut into int32 positions, -1 where absent (positions above INT32_MAX count as
 * absent too). Returns how many are absent. */
int64_t fa_index_lut32(int64_t n, const int64_t *values, int64_t lo, int64_t span,
                       const int64_t *lut, int32_t *pos);

/* The records whose (image, category) cell is marked in a dense table, in input order
 * (LVIS's federated rule in one pass). Record i (of n) is kept when area[i] is in
 * (0, inf) (NaN fails), keep is NULL or keep[i] != 0, its image id is found through
 * img_lut (lo img_lo, span img_span: as fa_index_lut) at position pi, its category id
 * through cat_lut at pc, and bit 0 of table[pi * n_cat + pc] is set. table: uint8
 * [n_img * n_cat] where n_img exceeds every img_lut entry and n_cat every cat_lut entry
 * (the caller checks). For the j-th kept record: sel[j] = i, img[j] = pi, cat[j] = pc
 * (both below INT32_MAX: the caller checks), marked[j] = (mark[cell] != 0), or bit 1 of
 * table[cell] when mark is NULL (one table holding both marks). sel,
 * img, cat, marked: room for n entries each. Returns the number kept. No allocation. */
int64_t fa_pair_select(int64_t n, const int64_t *img_values, int64_t img_lo, int64_t img_span,
                       const int64_t *img_lut, const int64_t *cat_values, int64_t cat_lo,
                       int64_t cat_span, const int64_t *cat_lut, int64_t n_cat, const double *area,
                       const uint8_t *keep, const uint8_t *table, const uint8_t *mark,
                       int64_t *sel, int32_t *img, int32_t *cat, uint8_t *marked);

/* The grouped records' columns in one pass, for the rows [begin, end) of a grouping:
 * record j of the grouping is o = order[j] of the selected records, which is record
 * i = sel[o] of the source columns: idx_out[j] = i, img_out[j] = img[o], score_out[j] =
 * score[i], area_out[j] = area[i], and the 4 doubles of box[i] to box_out (skipped when
 * box_out is NULL). order in [0, n_sel), sel in [0, n_src) (the caller checks). Rows
 * of disjoint ranges can run on separate threads. No allocation. */
void fa_gather_grouped(int64_t begin, int64_t end, const int64_t *order, const int64_t *sel,
                       const int32_t *img, const double *score, const double *box, const double *area,
                       int64_t *idx_out, int32_t *img_out, double *score_out, double *box_out,
                       double *area_out);

/* Sort idx[0..n) stably by descending key[idx[i]] (ties keep their order).
 * tmp: int64 scratch with room for n/2 + 1 entries. No allocation. */
void fa_sort_desc_stable(int64_t *idx, int64_t n, const double *key, int64_t *tmp);

/* ------------------------------------------------------------------------------------
 * coco.c -- COCO protocol: per-image greedy matching and accumulation
 * ------------------------------------------------------------------------------------ */

typedef struct {
    int32_t n_iou;              /* T, 1..FA_MAX_IOU_THRESHOLDS */
    const double *iou_thr;      /* [T] as given (pycocotools' iouThrs) */
    int32_t n_area;             /* A */
    const double *area_rng;     /* [A][2] inclusive (lo, hi) */
    int32_t n_maxdet;           /* M */
    const int64_t *max_dets;    /* [M] ascending; the last is the per-image cut */
    int32_t n_rec;              /* R */
    const double *rec_thr;      /* [R] pycocotools' recThrs */
} fa_coco_params;

/* Ground truth and detections, both grouped by (category, image); detections also by
 * descending score inside each (category, image) run (fa_group with score).
 * Image indices are ranks in the sorted image-id list (pycocotools' image order). */
typedef struct {
    int32_t n_cat;              /* K groups (1 when useCats=0) */
    int64_t n_gt;
    const int64_t *gt_off;      /* [K+1] */
    const int32_t *gt_img;      /* [n_gt] image index */
    const double *gt_box;       /* [n_gt][4] xywh */
    const double *gt_area;      /* [n_gt] the `area` field (decides area-range ignore) */
    const uint8_t *gt_crowd;    /* [n_gt] iscrowd: crowd rule in IoU, always ignored */
    const uint8_t *gt_id_zero;  /* [n_gt] 1 where the annotation id is 0 (see coco.c) */
    int64_t n_dt;
    const int64_t *dt_off;      /* [K+1] */
    const int32_t *dt_img;      /* [n_dt] image index */
    const double *dt_box;       /* [n_dt][4] xywh */
    const double *dt_area;      /* [n_dt] area (w*h for box results) */
    const double *dt_score;     /* [n_dt] */
    /* Optional (NULL when unused): */
    const uint8_t *gt_ignore;   /* [n_gt] ignore flags when they are not just iscrowd
                                   (keypoints: iscrowd or num_keypoints == 0) */
    const double *iou;          /* precomputed IoUs (segm, keypoints) instead of box IoU:
                                   the row of kept detection d (G values, against its
                                   image's ground truths of the category in grouped order)
                                   starts at iou[dt_iou_off[d]] (fa_coco_iou_layout) */
    const int64_t *dt_iou_off;  /* [n_dt] */
} fa_coco_input;

typedef struct {
    /* Per detection and area range: bit t set when the detection is a true positive /
     * a false positive at IoU threshold t (neither bit: ignored or cut). [A][n_dt] */
    uint32_t *dt_tp;
    uint32_t *dt_fp;
    int32_t *dt_rank;           /* [n_dt] rank inside its (category, image) run */
    int64_t *npig;              /* [K][A] number of non-ignored ground truths */
    /* Optional (NULL to skip), for COCOeval.evalImgs: */
    int32_t *dt_match;          /* [A][T][n_dt] matched gt (grouped index) or -1 */
    uint32_t *dt_ignore;        /* [A][n_dt] bit t: detection ignored */
    uint8_t *gt_ignore;         /* [A][n_gt] 1 where the ground truth is ignored */
} fa_coco_match_out;

/* Largest sizes over the (category, image) runs, which size the scratch blocks. */
typedef struct {
    int64_t max_dg;             /* kept detections x ground truths of one image */
    int64_t max_d, max_g;       /* kept detections / ground truths of one image */
    int64_t max_cat_dt, max_cat_gt;  /* detections / ground truths of one category */
} fa_coco_sizes;

/* Bytes of per-thread scratch that fa_coco_match_category needs for the largest
 * (category, image) run of `in`; fills *sizes for it. */
size_t fa_coco_scratch_bytes(const fa_coco_input *in, const fa_coco_params *p,
                             fa_coco_sizes *sizes);

/* Bytes of per-thread scratch that fa_coco_accumulate_category needs for the largest
 * category. npig: int64 [K][A], the matching's counts of non-ignored ground truths
 * (they bound the number of true positives). Accumulation reads only dt_off,
 * dt_score and the match output, so it also runs on merged partial results. */
size_t fa_coco_accumulate_scratch_bytes(const fa_coco_input *in, const fa_coco_params *p,
                                        const int64_t *npig);

/* Layout of precomputed IoUs: assigns every detection kept by the per-image cut `cut`
 * (rank < cut) in a (category, image) run with G > 0 ground truths a row of G doubles,
 * consecutive inside a run (so a run's rows form one row-major [D][G] block);
 * dt_iou_off[d] = -1 for the others. Reads the offsets and image columns of `in`.
 * Returns the total number of doubles. dt_iou_off: int64 [n_dt] out. */
int64_t fa_coco_iou_layout(const fa_coco_input *in, int64_t cut, int64_t *dt_iou_off);

/* Match every image of category k (pycocotools evaluateImg for all area ranges).
 * Writes the entries of `out` that belong to category k only, so categories can run
 * in parallel. sizes: from fa_coco_scratch_bytes; scratch: that many bytes, 16-byte
 * aligned. */
int fa_coco_match_category(const fa_coco_input *in, const fa_coco_params *p,
                           const fa_coco_sizes *sizes, int32_t k, void *scratch,
                           fa_coco_match_out *out);

/* fa_coco_match_category on a slice of category k: the ground truths [gi, ge) and
 * detections [di, de), which must hold whole images (every image's ground truths and
 * detections on the same side of a split), so one large category can be matched by
 * several threads. npig: int64 [A] out, the slice's non-ignored ground truths (the
 * caller adds the slices' up into out->npig; out->npig is not touched). */
int fa_coco_match_part(const fa_coco_input *in, const fa_coco_params *p,
                       const fa_coco_sizes *sizes, int32_t k, int64_t gi, int64_t ge, int64_t di,
                       int64_t de, void *scratch, fa_coco_match_out *out, int64_t *npig);

/* Accumulate category k (pycocotools accumulate): global score order, cumulative
 * TP/FP, precision envelope, recall-threshold sampling, for every (area, maxDets).
 * precision, scores: float64 [T][R][K][A][M]; recall: float64 [T][K][A][M]; every
 * entry of category k is written, -1 for an area range with no non-ignored ground
 * truth; scores may be NULL (not written: LVIS has no scores array). `k_out` is k's index along the K axis of the outputs. FA_EINVAL when m's bits
 * cannot come from a matching with p (a true-positive bit at a threshold index >= T, or
 * more true positives at one threshold than non-ignored ground truths or detections):
 * m may be given (a loaded state), and is then checked as it is read. */
int fa_coco_accumulate_category(const fa_coco_input *in, const fa_coco_params *p, int32_t k,
                                const fa_coco_match_out *m, int32_t k_out, int32_t n_k_out,
                                void *scratch, double *precision, double *recall,
                                double *scores);

/* The detections of category k kept by the per-image cut in accumulation order
 * (descending score, stable) into order (int64 [dt_off[k+1] - dt_off[k]]); returns
 * how many. scratch: fa_coco_accumulate_scratch_bytes. */
int64_t fa_coco_accumulate_order(const fa_coco_input *in, const fa_coco_params *p, int32_t k,
                                 const fa_coco_match_out *m, void *scratch, int64_t *order);

/* fa_coco_accumulate_category for the area ranges [a_begin, a_end) only (it writes
 * only their entries), so the area ranges of one large category can run on several
 * threads; order / n_order: from fa_coco_accumulate_order, or NULL to sort here. */
int fa_coco_accumulate_areas(const fa_coco_input *in, const fa_coco_params *p, int32_t k,
                             const fa_coco_match_out *m, int32_t k_out, int32_t n_k_out,
                             int32_t a_begin, int32_t a_end, const int64_t *order, int64_t n_order,
                             void *scratch, double *precision, double *recall, double *scores);

/* ------------------------------------------------------------------------------------
 * accum_blocks.c -- pycocotools accumulate() of evalImgs dicts, by (category, area) block
 * ------------------------------------------------------------------------------------ */

/* The detections of B blocks, concatenated (block b: [det_off[b], det_off[b+1])), each
 * block's in the order of its dicts (image order, then the dict's own order). All
 * arrays are owned by the caller. */
typedef struct {
    int64_t n_blocks, n_det;
    const int64_t *det_off;     /* [B+1], non-decreasing, det_off[0] = 0, det_off[B] = n_det */
    const int64_t *npig;        /* [B] non-ignored ground truths of each block (0: -1 out) */
    const double *score;        /* [n_det] dtScores */
    const int64_t *rank;        /* [n_det] position of the detection in its dict */
    const uint8_t *flags;       /* [T][n_det] bit 0: true positive, bit 1: false positive */
    int32_t n_iou, n_rec, n_maxdet;
    const double *rec_thrs;     /* [R] recall thresholds */
    const int64_t *max_dets;    /* [M] maxDets settings (a detection counts if rank < it) */
} fa_blocks_input;

/* Accumulate block b: precision and scores float64 [B][M][T][R], recall [B][M][T];
 * writes block b's entries only (-1 everywhere when npig[b] is 0). Returns 0, or -1
 * when memory for the block's order could not be allocated. */
int fa_accumulate_block(const fa_blocks_input *in, int64_t b, double *precision, double *recall,
                        double *scores);

/* ------------------------------------------------------------------------------------
 * summary.c -- the summaries' reductions with NumPy's arithmetic
 * ------------------------------------------------------------------------------------ */

/* np.add.reduce of a contiguous float64 array a [n] (NumPy's pairwise summation), bit
 * for bit; 0.0 for n == 0. */
double fa_np_sum(const double *a, int64_t n);

/* The entries > -1 (NaN left out) of x [T, R, K, A] (C-contiguous float64) at
 * t in ts [nt], every r, k in ks [nk] (ks NULL: k = 0 .. nk-1) and area index a, copied
 * to out in that (t, r, k) order: the array s[s > -1] of NumPy's s = x[ts][:, :, ks, a].
 * Indices are in range (the caller checks). out: room for nt * R * nk. Returns the
 * count. */
int64_t fa_gather_valid(const double *x, int64_t R, int64_t K, int64_t A, const int64_t *ts,
                        int64_t nt, const int64_t *ks, int64_t nk, int64_t a, double *out);

/* ------------------------------------------------------------------------------------
 * keypoints.c -- object keypoint similarity (pycocotools computeOks)
 * ------------------------------------------------------------------------------------ */

/* Keypoints of the grouped COCO input's ground truths and detections (same order). */
typedef struct {
    int64_t n_kpt;              /* K, the number of keypoints (= number of sigmas) */
    const double *sigmas;       /* [K] per-keypoint sigmas (COCO: kpt_oks_sigmas) */
    const double *gt_kpt;       /* [n_gt or rows][3K] (x, y, visibility) triples */
    const int64_t *gt_row;      /* [n_gt]: row of gt_kpt of each grouped ground truth, or
                                   NULL when gt_kpt is in grouped order */
    const int64_t *gt_nvis;     /* [n_gt] number of keypoints with visibility > 0 (grouped) */
    const double *dt_kpt;       /* [rows][dt_step K]: (x, y, visibility) triples, or with
                                   dt_step 2 (x, y) pairs (OKS reads no detection's v) */
    int64_t dt_step;            /* 3 or 2 */
    const int64_t *dt_row;      /* [n_dt]: row of dt_kpt of each grouped detection, or NULL
                                   when dt_kpt is in grouped order */
} fa_oks_input;

/* Layout of the exponent buffer: for every detection with in->dt_iou_off[d] >= 0 (see
 * fa_coco_iou_layout, which must have been run and set in `in`), dt_e_off[d] is where its
 * row starts; the row holds, ground truth after ground truth of its (category, image)
 * run, n_g terms (n_g = gt_nvis[g] if > 0 else K). Others get -1. Returns the total. */
int64_t fa_oks_layout(const fa_coco_input *in, const fa_oks_input *kp, int64_t *dt_e_off);

/* Writes -e_j of every pair of the detections [d_begin, d_end) of category k (a
 * sub-range of [dt_off[k], dt_off[k+1]), so one category can be split across threads;
 * see keypoints.c) at the fa_oks_layout positions. neg_e: float64 [total]. The caller
 * then applies np.exp in place. scratch: 3 n_kpt doubles (per thread). */
void fa_oks_exponents(const fa_coco_input *in, const fa_oks_input *kp, int32_t k,
                      int64_t d_begin, int64_t d_end, const int64_t *dt_e_off, double *scratch,
                      double *neg_e);

/* A NumPy ufunc inner loop (PyUFuncGenericFunction): args, dimensions, steps, data. */
typedef void (*fa_vec_loop)(char **args, const intptr_t *dims, const intptr_t *steps, void *data);

/* The same OKS in one pass per pair: exp_loop is NumPy's float64 exp inner loop (the
 * caller checks it reproduces np.exp), applied to each pair's terms as pycocotools'
 * np.exp is. scratch: 3 n_kpt doubles (per thread). Writes iou at the
 * fa_coco_iou_layout positions. floor > 0: pairs whose OKS is provably below floor get
 * an upper bound of it (still below floor) instead, without calling exp_loop; the bound
 * is tried when n_kpt <= FA_OKS_MAX_BOUND_K. floor <= 0 or -inf: every pair exact. */
#define FA_OKS_MAX_BOUND_K 256
void fa_oks_pairs(const fa_coco_input *in, const fa_oks_input *kp, int32_t k, int64_t d_begin,
                  int64_t d_end, fa_vec_loop exp_loop, void *exp_data, double *scratch,
                  double floor, double *iou);

/* OKS of every pair of the detections [d_begin, d_end) of category k from the exponentials `ex` (np.exp of the exponents):
 * sum in NumPy's pairwise order, divided by the term count; written to `iou` at the
 * fa_coco_iou_layout positions. */
void fa_oks_reduce(const fa_coco_input *in, const fa_oks_input *kp, int32_t k,
                   int64_t d_begin, int64_t d_end, const int64_t *dt_e_off, const double *ex,
                   double *iou);

/* ------------------------------------------------------------------------------------
 * voc.c -- PASCAL VOC protocol
 * ------------------------------------------------------------------------------------ */

/* VOC matching and AP for category k at one IoU threshold, with the VOC devkit's rules:
 * detections of the category in descending score order over all images (ties: the
 * order of the detections in the grouped input, which need not be sorted by image); each takes the ground truth of its image with the highest IoU (first on
 * ties); if that IoU >= iou_thr: a "difficult" (ignored) ground truth makes the
 * detection neither TP nor FP, an untaken one makes it a TP, a taken one a FP
 * (duplicate; no fallback to the next ground truth); otherwise FP.
 * IoU uses corner boxes x2 = x + w with the +1 pixel convention when plus_one != 0.
 * Inputs: the grouped COCO input (crowd flags are taken as "difficult"; gt_area,
 * dt_area unused); gt_difficult: uint8 [n_gt] or NULL (then gt_crowd).
 * use_11_point: 0 = all-point (VOC2010+) area under the envelope, 1 = VOC2007 11-point.
 * Outputs: *ap (NaN when the category has no non-difficult ground truth), *n_pos;
 * tp, fp: uint8 [dt_off[k+1]-dt_off[k]] or NULL, per detection in score order.
 * scratch: fa_voc_scratch_bytes() bytes. */
size_t fa_voc_scratch_bytes(const fa_coco_input *in);
int fa_voc_category(const fa_coco_input *in, const uint8_t *gt_difficult, int32_t k,
                    double iou_thr, int plus_one, int use_11_point, void *scratch,
                    double *ap, int64_t *n_pos);

/* fa_voc_category with each detection's best ground truth given (DOTA: by quadrilateral
 * IoU, fastap/protocols/dota.py): best int64 [n_dt] (grouped gt index, -1 for none) and
 * best_iou float64 [n_dt], indexed by grouped detection. A detection hits when
 * best_iou > iou_thr (strict != 0, the DOTA devkit's rule) or >= iou_thr (strict == 0).
 * dt_box is not read. Same outputs and scratch (fa_voc_scratch_bytes). */
int fa_voc_category_best(const fa_coco_input *in, const uint8_t *gt_difficult, int32_t k, const int64_t *best,
                         const double *best_iou, double iou_thr, int strict, int use_11_point, void *scratch,
                         double *ap, int64_t *n_pos);

/* ------------------------------------------------------------------------------------
 * reports.c -- per-image kernels of the reports (confusion matrix, error analysis)
 * ------------------------------------------------------------------------------------
 * Both work on one image at a time: the caller (fastap/_reports.pxi) groups ground
 * truth and detections by image and runs images in parallel. Boxes are xywh float64
 * [n][4]; the IoU is pycocotools' (fa_iou_xywh_pair, no crowd rule). With `iou` not
 * NULL, the overlaps are read from it instead: float64 [nd][ng] row-major, the image's
 * detection x ground-truth matrix of any measure (mask IoU, OKS); the boxes are then
 * not read (they may be NULL). A NaN overlap is never a candidate. */

/* Class-agnostic one-to-one matching of one image (ultralytics' ConfusionMatrix rule):
 *   1. candidate pairs are (detection, ground truth) with IoU > iou_thr (strict);
 *   2. each detection keeps its candidate of highest IoU (ties: the lower gt index);
 *   3. each ground truth keeps, among the detections that kept it, the one of highest
 *      IoU (ties: the lower detection index; pass detections in descending score order
 *      so that the higher score wins).
 * dt_box: [nd][4]; gt_box: [ng][4]; iou: NULL or [nd][ng]. Out: dt_gt int32 [nd], the
 * matched gt index in [0, ng) or -1. scratch: fa_confusion_scratch_bytes(ng) bytes. No
 * allocation. */
size_t fa_confusion_scratch_bytes(int64_t ng);
int fa_confusion_match_image(const double *dt_box, int64_t nd, const double *gt_box, int64_t ng,
                             const double *iou, double iou_thr, void *scratch, int32_t *dt_gt);

/* For each detection of one image, TIDE's IoU summaries against the image's ground
 * truth (gts with gt_skip[g] != 0 -- crowds -- are not candidates):
 *   same_iou / same_gt: highest IoU with a gt of the detection's class, and that gt;
 *   other_iou / other_gt: highest IoU with a gt of another class, and that gt;
 *   used_iou: highest IoU with a gt of the detection's class whose gt_used[g] != 0.
 * Ties: the lower gt index (np.argmax's rule). The gt is -1 when no candidate has a
 * positive IoU (the IoU is then 0).
 * dt_box [nd][4], dt_cls int32 [nd]; gt_box [ng][4], gt_cls int32 [ng], gt_skip,
 * gt_used uint8 [ng]; iou: NULL or [nd][ng]. Outputs float64 / int32 [nd], written
 * completely. */
void fa_tide_ious_image(const double *dt_box, const int32_t *dt_cls, int64_t nd,
                        const double *gt_box, const int32_t *gt_cls, const uint8_t *gt_skip,
                        const uint8_t *gt_used, int64_t ng, const double *iou, double *same_iou,
                        int32_t *same_gt, double *other_iou, int32_t *other_gt, double *used_iou);

/* pycocotools' interpolated precision of K categories at one (IoU threshold, area
 * range, maxDets), from per-detection flags already in accumulation order (the fixes
 * of the error analysis re-accumulate modified flags with it):
 *   cat_off: int64 [K + 1], category k's detections are [cat_off[k], cat_off[k+1]),
 *     in descending score order; tp, fp: uint8 [cat_off[K]], a detection with neither
 *     flag is ignored (left out of the cumulative counts);
 *   npig: int64 [K], non-ignored ground truths; rec_thrs: float64 [R], the recall
 *     thresholds; rc, pr: float64 scratch, room for the largest category's detections.
 * Out q: float64 [R][K] (row-major): -1 for a category with npig <= 0, else the
 * precision envelope max_{j' >= j} tp_j' / (fp_j' + tp_j' + eps) at the first j whose
 * recall tp_j / npig >= rec_thrs[r] (searchsorted 'left'), 0 past the end -- the same
 * float operations as pycocotools' accumulate. No allocation. */
int fa_ap_sorted(const int64_t *cat_off, int64_t K, const uint8_t *tp, const uint8_t *fp,
                 const int64_t *npig, const double *rec_thrs, int64_t R, double *rc, double *pr,
                 double *q);

/* ------------------------------------------------------------------------------------
 * json_results.c -- COCO results / annotation lists parsed straight into columns
 * ------------------------------------------------------------------------------------ */
/* (section owned by json_results.c) */

/* Where and why a parse failed. All strings are NUL-terminated (truncated to fit). */
typedef struct {
    int64_t record;     /* 0-based index of the record being parsed; -1 outside records */
    int64_t offset;     /* byte offset in the buffer where the problem was found */
    char field[32];     /* field (key) being parsed, or "" (raw key bytes, may be UTF-8) */
    char message[160];  /* e.g. "bbox must have 4 numbers, got 3" */
} fa_json_error;

/* Optional outputs of the record parsers for masks and keypoints (any pointer may be
 * NULL). span arrays are int64 [capacity][2]: the byte range [start, end) of the
 * field's value in the buffer, or (-1, -1) when the record has none. */
/* The most numbers of one polygon whose vertices the results scan bounds (seg_bound). */
#define FA_POLY_BOUND_VALUES 2048

typedef struct {
    int64_t *seg_span;          /* "segmentation" */
    /* results only, optional: int32 [capacity][5] for a segmentation that is the common RLE
     * object {"size": [h, w], "counts": "..."}: h, w, the counts string's offset from
     * the span's start and its length, and 1 when it holds "\\\\" escapes; all -1 for
     * any other segmentation (and records without one) */
    int32_t *seg_rle;
    /* results only, optional: float64 [capacity][4] for a segmentation that is polygons
     * [[x, y, ...], ...] -- at least one, the first with more than 4 numbers (4 numbers
     * are a box to pycocotools), every number in (-2e8, 2e8), no polygon over
     * FA_POLY_BOUND_VALUES numbers -- the box of their vertices: min x, min y, max x,
     * max y over each polygon's (x, y) pairs (an odd last number is no vertex); NaN for
     * any other segmentation (and records without one), which the mask readers then
     * check themselves */
    double *seg_bound;
    int64_t *kpt_span;          /* "keypoints" */
    double *num_keypoints;      /* annotations only: [capacity], NaN when absent */
    /* Optional: keypoints parsed during the scan, kpt_stride numbers per record into
     * kpt_values [capacity][kpt_stride] (rows of records without keypoints untouched);
     * kpt_count [capacity]: how many the record had (-1: none; kpt_stride + 1: more). */
    double *kpt_values;
    int64_t kpt_stride;
    int64_t *kpt_count;
    /* Optional, with kpt_values and kpt_stride a multiple of 3: nonzero keeps only the x
     * and y of each (x, y, v) triple, rows of 2 kpt_stride / 3 numbers; every number is
     * still read and checked, and counts for kpt_box's finiteness. */
    int32_t kpt_xy;
    /* Optional, with kpt_values: [capacity][4] the box pycocotools' loadRes gives keypoint
     * results (x0, y0, x1 - x0, y1 - y0 over every keypoint's x and y) for records whose
     * kpt_stride numbers are all finite; NaN otherwise (and for records without). */
    double *kpt_box;
    /* results only, optional: uint8 [capacity], 1 for a record whose "bbox" is an empty
     * array (pycocotools' loadRes then takes the record's mask or keypoints, and keeps
     * the [] in its dict): its box is left NaN as for a record without one. NULL: an
     * empty bbox is an error, as anywhere else. */
    uint8_t *bbox_empty;
    /* results only, optional: a buffer as long as the input into which the text of every
     * segmentation and keypoints value kept as a span (keypoints read into kpt_values
     * are not) is copied, at its own offset (the rest is left untouched), as the scan
     * passes it: the spans then hold in it, and a caller keeps them without keeping the
     * input (a file's mapping). */
    char *shadow;
} fa_json_geometry;

/* pycocotools' loadRes box of one keypoint result, values v[0..n) (x, y, v triples with
 * step 3, (x, y) pairs with step 2; finite): bb = (x0, y0, x1 - x0, y1 - y0) over every x
 * and y, the first value kept on ties (NumPy's min / max on NaN-free input). */
void fa_keypoint_box(const double *v, int64_t n, int64_t step, double *bb);

/* Whether arrays of plain numbers are read 64 bytes at a time (AVX-512BW, x86-64 with
 * GCC or Clang; chosen from the CPU at first use). set 0 / 1 turns it off / on (on only
 * where the CPU has it; for tests), anything else only asks. Returns the setting. */
int fa_json_simd_numbers(int set);

/* Upper bound on the number of records of a results buffer, for allocating the columns:
 * min(number of '{' bytes, len / 41 + 1) (41 bytes is the smallest valid record with its
 * separator: {"image_id":1,"category_id":1,"score":1}, -- the bbox is optional when the
 * parse takes geometry).
 * Exact for ordinary results files (no '{' inside strings or unknown values). Never
 * fails; reads exactly `len` bytes. */
int64_t fa_json_results_count_bound(const char *buf, size_t len);

/* Parse a COCO detection results file: a JSON array of objects with "image_id",
 * "category_id" (integers, or floats with an integral value, within int64), "bbox"
 * (exactly 4 numbers, xywh), "score" (a number), optional "area" (a number; null counts
 * as absent) and any other keys (validated and skipped; "id" is ignored). Keys in any
 * order, duplicates: the last wins (as json.loads). Numbers are converted bit-identically
 * to Python's float() of what json.loads returns (so the integer token "-0" gives +0.0,
 * "-0.0" gives -0.0); NaN, Infinity and -Infinity are accepted (as json.loads does) and
 * stored as such: rejecting them is the caller's business.
 *   buf, len: the file content, UTF-8, optional BOM; not NUL-terminated; only
 *             [buf, buf + len) is read.
 *   capacity: length of the output columns, >= the number of records
 *             (fa_json_results_count_bound).
 *   image_id, category_id: int64 [capacity]; bbox: float64 [capacity][4];
 *   score: float64 [capacity]; area: float64 [capacity], NaN where the record has no area.
 *             Caller-owned; entries [0, *n_records) are written.
 *   n_records: out, the number of records (also set, to the records parsed so far, on error)
 *   n_area: out, the number of records that have an "area" (== *n_records iff all do)
 *   err: out (may be NULL), filled on any non-FA_OK return.
 * Returns FA_OK; FA_EPARSE on malformed input or a record that breaks the rules above
 * (err->message says what, err->record / err->field / err->offset where);
 * FA_EUNSUPPORTED when a record has "segmentation" or "keypoints", the input looks like
 * UTF-16/32, or values nest deeper than 1000 levels (the caller should fall back to a
 * general JSON parser; err says which); FA_ENOMEM when a number token longer than ~60
 * bytes cannot be copied for strtod; FA_EINVAL when there are more than `capacity`
 * records. Allocation-free except for that rare copy; reentrant (no global state);
 * does not take the GIL. */
int fa_json_results_parse(const char *buf, size_t len, int64_t capacity, int64_t *image_id,
                          int64_t *category_id, double *bbox, double *score, double *area,
                          const fa_json_geometry *geom, int64_t *n_records, int64_t *n_area,
                          fa_json_error *err);

/* The same scan over part of the array, so that one file can be parsed by many threads.
 *   begin: 0 to start at the document start (BOM, '[' ...), as fa_json_results_parse;
 *          else the offset of a record's '{' inside the top-level array (no '['
 *          expected; the caller guesses it, see fa_json_results_split).
 *   stop:  after a record, its ',' and whitespace, the scan stops before the next record
 *          when that record's '{' is at offset >= stop (stop >= len: never).
 *   first_row, capacity: records go to rows first_row, first_row + 1, ... of the columns
 *          (the same columns and geometry as fa_json_results_parse, `capacity` rows
 *          long); rows [first_row, capacity) may be written. Error record indices are
 *          rows (first_row + the record's index in the part); offsets are from buf.
 *   n_records, n_area: out, counted over this part only.
 *   end_pos: out (may be NULL): len when the array was closed (and only whitespace
 *          followed); else the offset of the '{' of the record it stopped before (>= stop),
 *          or, on FA_EINVAL, of the record that had no row left (a caller can go on from
 *          there with more room).
 * Returns as fa_json_results_parse. Started at a real record start, the scan runs through
 * the same states as the whole-file scan does from there, so it fills the same values
 * and fails with the same error at the same byte. Started elsewhere (a wrong guess) it
 * may fail or stop anywhere: fa_json_results_join_parts finds out. */
int fa_json_results_parse_part(const char *buf, size_t len, size_t begin, size_t stop,
                               int64_t first_row, int64_t capacity, int64_t *image_id,
                               int64_t *category_id, double *bbox, double *score, double *area,
                               const fa_json_geometry *geom, int64_t *n_records, int64_t *n_area,
                               size_t *end_pos, fa_json_error *err);

/* Guess where to split a results buffer into up to n_parts parts for
 * fa_json_results_parse_part: begin[0] = 0; for k >= 1 (nominal start k * len / n_parts),
 * the '{' of the first `}` ws* `,` ws* `{` ws* `"` whose '}' lies in part k's nominal
 * range, if any (a guess: it may be inside a string or a nested object). begin: size_t
 * [n_parts], out, strictly increasing. Returns the number of parts found (1 ..
 * n_parts); reads O(len) bytes at most (usually a record per part). */
int64_t fa_json_results_split(const char *buf, size_t len, int64_t n_parts, size_t *begin);

/* One part of a split parse: what the caller sets up and what the parse returned. */
typedef struct {
    size_t begin;       /* in: fa_json_results_split's begin[k] */
    int64_t first_row;  /* in: the part's first output row */
    int64_t capacity;   /* in: rows [first_row, capacity) are the part's; a part has room
                         * enough for its records when it gets
                         * fa_json_results_count_bound(buf + begin[k], begin[k+1] - begin[k])
                         * rows (or up to len for the last part) */
    int rc;             /* out: fa_json_results_parse_part(begin, stop = next begin or len) */
    int64_t n_records;  /* out */
    int64_t n_area;     /* out */
    size_t end_pos;     /* out */
    fa_json_error err;  /* out */
} fa_json_part;

/* Put the parts of a split parse together into what fa_json_results_parse(buf, len,
 * capacity, ...) gives, exactly -- *n_records, *n_area, the values, and on failure the
 * same return code and error (record index, field, offset, message) -- but with the
 * records in pieces of rows rather than in rows [0, n): in file order, rows
 * [piece_row[0], piece_row[0] + piece_len[0]), then piece 1's, ... (so that the caller
 * copies them once, into columns of the right length).
 * Walks the buffer from 0: a part whose begin is where the records so far end (part 0;
 * a part at which the one before stopped) is real and taken as it is; a part that begins
 * anywhere else was a wrong guess, and the records from where the ones before end up to
 * the next part's begin are scanned again (serially, into the wrong part's rows). The
 * first failure met gives the error (its record index counting the records before it);
 * errors of wrong guesses are never met.
 *   parts: [n_parts], in order of begin, their rows disjoint and in the same order (each
 *          first_row >= the previous part's capacity); capacity: the columns' length, >=
 *          the last part's capacity. With each part's room as said above no part runs
 *          out of rows (a record with its separator takes at least 41 bytes, and every
 *          record begins in one part's bytes), as the serial scan with
 *          fa_json_results_count_bound rows never does; should one, the pieces are closed
 *          up into rows [0, n) (memmove) and the rest is scanned serially after them, with
 *          rows up to `capacity` (one piece then). Columns and geometry as for the parts.
 *   piece_row, piece_len: int64 [n_parts + 1], out; n_pieces: out, how many (0 when there
 *          are no records).
 * Returns as fa_json_results_parse. Single-threaded; no allocation but that of the
 * scans. A wrong guess costs a serial rescan of its part. */
int fa_json_results_join_parts(const char *buf, size_t len, const fa_json_part *parts,
                               int64_t n_parts, int64_t capacity, int64_t *image_id,
                               int64_t *category_id, double *bbox, double *score, double *area,
                               const fa_json_geometry *geom, int64_t *piece_row,
                               int64_t *piece_len, int64_t *n_pieces, int64_t *n_records,
                               int64_t *n_area, fa_json_error *err);

/* --- COCO ground-truth (annotation) files ---------------------------------------------
 * A ground-truth file is one JSON object {"images": [...], "annotations": [...],
 * "categories": [...], ...}. fa_json_object_members splits it into its members (byte
 * spans, the whole document validated); fa_json_annotations_parse then turns the span of
 * "annotations" into columns, skipping segmentations, keypoints and any other keys; the
 * small members (images, categories, ...) are left to a general JSON parser. */

/* One member of a JSON object: byte offsets into the buffer given to
 * fa_json_object_members, half-open ranges. */
typedef struct {
    int64_t key_start, key_end;     /* the key's raw bytes, without the quotes */
    int64_t value_start, value_end; /* the value's text: its first byte to one past its last */
    int key_escaped;                /* 1 when the key holds backslash escapes (the raw bytes
                                       then need JSON-decoding), else 0 (plain UTF-8) */
} fa_json_member;

/* Members of a top-level JSON object, in document order (duplicate keys are all reported;
 * with json.loads the last one wins).
 *   buf, len: the document, UTF-8 with an optional BOM, not NUL-terminated.
 *   out: caller-owned array of `cap` entries (may be NULL when cap == 0); the first
 *        min(cap, *n) entries are written.
 *   n: out, the number of members (on FA_EINVAL the full count, so the caller can retry
 *      with cap = *n; on other errors the members scanned so far).
 *   err: out (may be NULL), filled on any non-FA_OK return; err->field names the member
 *      whose value is malformed, err->record is -1.
 * The whole document is validated with the same grammar as fa_json_results_parse
 * (json.loads, strict mode: NaN / Infinity accepted, control characters and invalid
 * UTF-8 in strings rejected). Returns FA_OK; FA_EPARSE on malformed input, a top-level
 * value that is not an object ("expected a JSON object ...") or data after it;
 * FA_EINVAL when there are more than `cap` members (the document is still fully
 * validated first, so FA_EINVAL means "valid, retry with a larger cap");
 * FA_EUNSUPPORTED for UTF-16/32 input or nesting deeper than 1000 levels; FA_ENOMEM as
 * fa_json_results_parse. Allocation-free (but for that rare number copy); reentrant;
 * does not take the GIL. */
int fa_json_object_members(const char *buf, size_t len, fa_json_member *out, int64_t cap,
                           int64_t *n, fa_json_error *err);

/* The members of a top-level JSON object as fa_json_object_members gives them for a
 * valid document, found by matching brackets and strings only: nothing is validated, so
 * that a caller can validate the document (fa_json_object_members) at the same time as
 * it reads a member. Returns FA_OK; FA_EPARSE when the text is not shaped like an object
 * (the caller then validates first); FA_EINVAL when there are more than `cap` members
 * (*n has the count). Reentrant; does not take the GIL. */
int fa_json_member_spans(const char *buf, size_t len, fa_json_member *out, int64_t cap,
                         int64_t *n);

/* Parse a JSON array of COCO annotations (typically the "annotations" value span found
 * by fa_json_object_members: pass buf + value_start, value_end - value_start; offsets in
 * err are then relative to that span) into columns. Each record is an object with
 *   "id", "image_id", "category_id": integers, or floats with an integral value, within
 *       int64 (required);
 *   "bbox": exactly 4 numbers (required);  "area": a number (required; null is an error);
 *   "iscrowd": 0 or 1 (any number token with that value, e.g. 1.0) or true / false;
 *       optional, 0 when absent;
 * and any other keys ("segmentation" polygons or RLE dicts, "keypoints",
 * "num_keypoints", "ignore", "caption", ...), validated and skipped. Keys in any order,
 * duplicates: the last wins. Numbers are converted as in fa_json_results_parse
 * (bit-identical to Python's float() of json.loads' value; NaN / Infinity tokens give NaN
 * / inf, to be rejected by the caller if it must).
 *   capacity: length of the columns, >= the number of records
 *             (fa_json_results_count_bound(buf, len) is a valid bound here too: a record
 *             holds at least one '{' and is longer than 57 bytes).
 *   id, image_id, category_id: int64 [capacity]; bbox: float64 [capacity][4];
 *   area: float64 [capacity]; iscrowd: uint8 [capacity]. Entries [0, *n_records) written.
 *   n_records: out, the number of records (records parsed so far on error).
 *   err: out (may be NULL); err->record is the 0-based index within the array,
 *        err->field the field, e.g. "missing field 'area'" with field "area".
 * Returns FA_OK; FA_EPARSE on malformed input, a value that is not an array, a record
 * missing a required field or with a wrong value, data after the closing ']';
 * FA_EINVAL when there are more than `capacity` records; FA_EUNSUPPORTED for UTF-16/32
 * input or nesting deeper than 1000 levels; FA_ENOMEM as fa_json_results_parse.
 * Allocation-free (but for that rare number copy); reentrant; does not take the GIL. */
int fa_json_annotations_parse(const char *buf, size_t len, int64_t capacity, int64_t *id,
                              int64_t *image_id, int64_t *category_id, double *bbox,
                              double *area, uint8_t *iscrowd, const fa_json_geometry *geom,
                              int64_t *n_records, fa_json_error *err);

/* Values of the spans that `geom` collected. */
#define FA_SEGM_POLYGONS 1      /* [[x, y, ...], ...] */
#define FA_SEGM_RLE_STRING 2    /* {"size": [h, w], "counts": "compressed"} */
#define FA_SEGM_RLE_COUNTS 3    /* {"size": [h, w], "counts": [c0, c1, ...]} (uncompressed) */
typedef struct {
    int kind;                   /* FA_SEGM_* */
    int64_t h, w;               /* RLE size; -1 for polygons */
    int64_t n_poly;             /* polygons: their number (lengths in poly_len) */
    int64_t n_values;           /* numbers written to `values` (polygon coordinates, or counts) */
    int64_t n_chars;            /* compressed counts: their length in bytes */
    int64_t str_start;          /* compressed counts without escapes: their offset in the
                                   span given (read them there; `str` is not written); -1 when
                                   they had escapes and were decoded into `str` */
    int64_t raw_start;          /* compressed counts: offset of their first byte in the span, */
    int64_t raw_len;            /* and their length there, escapes included; */
    int raw_esc;                /* 0: no escapes, 1: only "\\" (a backslash), 2: others */
} fa_json_segm;

/* Parse one segmentation value (a span found by the record parsers). values: float64
 * [cap], poly_len: int64 [cap], str: char [cap]; cap = the span's length suffices.
 * str may be NULL: compressed counts with escapes are then not decoded (read the raw_*
 * fields; n_chars is 0 and str_start -1).
 * Returns FA_OK or FA_EPARSE (err: field "segmentation", offset within the span). */
int fa_json_segmentation_parse(const char *buf, size_t len, double *values, int64_t *poly_len,
                               char *str, int64_t cap, fa_json_segm *out, fa_json_error *err);

/* The common RLE segmentation {"size": [h, w], "counts": "..."} read quickly from a
 * span the record scanner has validated: returns 1 with the size (integers in [0, 2^31),
 * integral floats included), the counts text's offset and length in the span, and
 * raw_esc = 1 when it holds the escape "\\" (no other escape); 0 for anything else
 * (other keys, other escapes, repeated keys), which fa_json_segmentation_parse reads. */
int fa_json_rle_object(const char *buf, size_t len, int64_t *h, int64_t *w, int64_t *raw_start,
                       int64_t *raw_len, int *raw_esc);

/* Parse a JSON array of numbers (a keypoints span) into out[cap]; *n numbers. */
int fa_json_number_array(const char *buf, size_t len, double *out, int64_t cap, int64_t *n,
                         fa_json_error *err);

/* ------------------------------------------------------------------------------------
 * textfile.c -- the bytes of an input file
 * ------------------------------------------------------------------------------------ */

/* A 64-bit digest of buf[0, len) (not cryptographic; equal bytes, equal digest; a
 * different seed, a different function). Never fails. */
uint64_t fa_text_digest(const char *buf, size_t len, uint64_t seed);

/* Offset of the first byte of buf[0, len) that no JSON text holds (a control character
 * other than tab, LF, CR: 0x00-0x08, 0x0B, 0x0C, 0x0E-0x1F), or -1 when there is none. */
int64_t fa_text_find_control(const char *buf, size_t len);

/* Register [start, start + len), a read-only file mapping the caller is about to read:
 * until fa_map_guard_remove, a SIGBUS there (the file was truncated under the mapping)
 * maps zeros over the page and the read goes on; any other SIGBUS goes to the action
 * there was before. Returns a slot (>= 0), or -1 when no guard could be set (POSIX
 * only; 32 ranges at once). Not thread-safe: callers serialise add / remove (the
 * binding holds the GIL); the guarded reads may run on any thread. */
int fa_map_guard_add(const void *start, size_t len);

/* Unregister a slot of fa_map_guard_add (-1: nothing); returns how many pages of the
 * range were replaced by zeros (> 0: the file changed while it was read). */
int64_t fa_map_guard_remove(int slot);

/* Take the pages wholly inside [p, p + len) of a read-only shared mapping of a file out
 * of the process's memory (madvise MADV_DONTNEED; a no-op off POSIX): a later read maps
 * them again from the page cache. Only for such mappings: the pages of private or
 * anonymous memory would read as zeros afterwards. Never fails. */
void fa_text_release_pages(const char *p, size_t len);

/* ------------------------------------------------------------------------------------
 * rle.c -- COCO run-length encoding
 * ------------------------------------------------------------------------------------
 * COCO's RLE (pycocotools' maskApi.c, re-implemented): an h x w binary mask is read
 * column by column (column-major, "Fortran order": pixel (y, x) is at x*h + y) and
 * stored as run lengths that alternate 0s and 1s, starting with 0s (the first count is 0
 * when pixel (0, 0) is set). Counts are uint32. Every function rounds and wraps exactly
 * as pycocotools' C does (its `uint` arithmetic included) on well-formed input, and
 * never reads or writes outside the buffers it is given, whatever the counts hold
 * (counts that do not sum to h*w, zero-length runs, m == 0). No allocation anywhere;
 * reentrant; callable without the GIL. The Python layer (fastap/_mask.pxi) validates
 * sizes (h, w >= 0, h*w <= UINT32_MAX) and counts (they sum to h*w) before calling. */

/* A view of one RLE: h x w image, m counts; runs alternate 0s and 1s over column-major
 * pixels, starting with 0s. `cnts` is borrowed (NULL allowed when m == 0). */
typedef struct {
    int64_t h, w, m;
    const uint32_t *cnts;
} fa_rle;

/* Run-length encode one mask. mask: uint8 [w][h] (column-major, h fastest), any nonzero
 * byte counts as 1 (pycocotools toggles on every change of value, which differs only for
 * masks holding 3 or more distinct values). cnts: capacity h*w + 1. Returns m (>= 1; a
 * 0-pixel mask gives the single count 0, as pycocotools). */
int64_t fa_rle_encode(const uint8_t *mask, int64_t h, int64_t w, uint32_t *cnts);

/* Decode one RLE into mask: uint8 [w][h] column-major, h*w bytes, 0/1. Returns FA_OK, or
 * FA_EINVAL when the counts do not sum to h*w (the bytes up to h*w are then written
 * with what the counts cover, zeros after; nothing is written past h*w, ever). */
int fa_rle_decode(const fa_rle *r, uint8_t *mask);

/* Area: the sum of the odd-indexed counts (pycocotools wraps it to uint32; the Python
 * layer does the same cast). */
uint64_t fa_rle_area(const fa_rle *r);

/* Bounding box bb[4] = (x, y, width, height), float64, with pycocotools' rleToBbox
 * arithmetic (uint32, including its wrap-around when every foreground run is empty but
 * there are >= 2 counts: x = w, width = 2^32 - w + 1). All zeros when m < 2. */
void fa_rle_to_bbox(const fa_rle *r, double *bb);

/* Capacity (uint32 entries) of cnts that fa_rle_from_bbox needs for the
 * box bb (x, y, width, height) in an h x w image: the result's counts plus room used as
 * sort scratch. <= 4*w + 8 when w > 0. Negative (FA_EINVAL) when a coordinate is not
 * finite or out of range (|5*v| must stay below 2^30). */
int64_t fa_rle_bbox_counts_bound(const double *bb, int64_t h, int64_t w);

/* RLE of the box bb (x, y, width, height), as pycocotools' rleFrBbox: the polygon
 * (x,y), (x,y+h), (x+w,y+h), (x+w,y) rasterised by fa_rle_from_poly.
 * cnts: capacity fa_rle_bbox_counts_bound(bb, h, w) (the upper part is used as scratch).
 * Returns m, or a negative FA_E* code (FA_EINVAL for a non-finite / out-of-range value). */
int64_t fa_rle_from_bbox(const double *bb, int64_t h, int64_t w, uint32_t *cnts);

/* Capacity (uint32 entries) of cnts for fa_rle_from_poly on the polygon xy (k points),
 * >= 1; negative (FA_EINVAL) when a coordinate is not finite or |5*v + 0.5| >= 2^30. */
int64_t fa_rle_poly_counts_bound(const double *xy, int64_t k, int64_t h, int64_t w);

/* Bytes of scratch for fa_rle_from_poly (4-byte aligned); 0 on invalid coordinates. */
size_t fa_rle_poly_scratch_bytes(const double *xy, int64_t k, int64_t h, int64_t w);

/* RLE of the polygon xy: float64 [k][2] (x0, y0, x1, y1, ...), closed implicitly, in an
 * h x w image, with pycocotools' rleFrPoly rasterisation: vertices scaled by 5 and
 * rounded with (int)(5*v + 0.5), edges walked on that grid, the crossings of pixel-column
 * centres kept and downsampled, runs from the sorted crossing positions. Polygons may
 * reach outside the image (clipped as pycocotools clips) and may have 0, 1 or 2 points
 * (an empty mask, as pycocotools). h == 0 or w == 0 reproduce pycocotools' output too.
 * scratch: fa_rle_poly_scratch_bytes() bytes; cnts: fa_rle_poly_counts_bound() entries.
 * Returns m, or a negative FA_E* code (FA_EINVAL for bad coordinates). */
int64_t fa_rle_from_poly(const double *xy, int64_t k, int64_t h, int64_t w, void *scratch,
                         uint32_t *cnts);

/* fa_rle_from_poly given cap = fa_rle_poly_counts_bound(xy, k, h, w), which a caller that
 * sized cnts and scratch has already (not computed again). */
int64_t fa_rle_from_poly_cap(const double *xy, int64_t k, int64_t h, int64_t w, int64_t cap, void *scratch,
                             uint32_t *cnts);

/* Capacity of cnts for fa_rle_merge of rs[0..n): 2 * (sum of the m's + n + 1) (the upper half
 * is used as scratch: merging n > 2 RLEs goes through n - 1 pairwise merges). */
int64_t fa_rle_merge_bound(const fa_rle *rs, int64_t n);

/* Union (intersect == 0) or intersection of rs[0..n), as pycocotools' rleMerge: pairwise,
 * left to right, with its exact run bookkeeping (so non-canonical input, e.g. zero-length
 * runs, gives pycocotools' counts). All rs must share h, w (the caller checks); n == 0
 * gives m = 0, n == 1 copies. cnts: fa_rle_merge_bound(rs, n) entries. Returns m. */
int64_t fa_rle_merge(const fa_rle *rs, int64_t n, int intersect, uint32_t *cnts);

/* Bytes needed by fa_rle_to_string, including the terminating NUL: 7*m + 1. */
int64_t fa_rle_string_bound(const fa_rle *r);

/* pycocotools' compressed string (rleToString): each count, minus the count two places
 * before it from the fourth count on (i > 2), as a signed LEB128-like value in 5-bit
 * groups, each char = 48 + group (+ 32 when more follow). Writes the string and a NUL
 * into s (fa_rle_string_bound bytes); returns its length (without the NUL). */
int64_t fa_rle_to_string(const fa_rle *r, char *s);

/* Decode a compressed string (pycocotools' rleFrString), validating it.
 *   s, len: the string, `len` bytes, not NUL-terminated (a NUL byte is an error).
 *   h, w: the image size; cnts: out, capacity cap (cap >= len suffices); *m: out, the
 *   number of counts.
 *   msg: out (may be NULL), msg_len bytes, a one-line NUL-terminated reason on error.
 * Returns FA_OK; FA_EPARSE for a character outside '0'..'o' (48..111), a value cut short
 * (the string ends inside it) or longer than 12 characters, a count that is negative or
 * > UINT32_MAX, counts that do not sum to h*w ("counts sum to 1204, the image has 1200
 * pixels"); FA_EINVAL when more than cap counts. Exact 64-bit decoding (pycocotools'
 * shifts are undefined beyond 6 characters: it differs only for counts deltas
 * <= -2^29, i.e. images of 500+ megapixels). */
int fa_rle_from_string(const char *s, int64_t len, int64_t h, int64_t w, uint32_t *cnts,
                       int64_t cap, int64_t *m, char *msg, size_t msg_len);

/* A compressed string read in place from JSON text (between its quotes), with `json`
 * nonzero when the text holds the escape "\\" (a backslash; the caller has checked it
 * holds no other escape). fa_rle_text_stats validates it exactly as fa_rle_from_string
 * does (FA_EPARSE without a message on any failure: the caller asks
 * fa_rle_from_string for the reason) and gives the number of counts *m, the area and
 * the fa_rle_to_bbox box; scratch: room for len counts. fa_rle_text_decode then writes
 * the m counts to cnts (room for len) and returns m (-1 if invalid). chars:
 * fa_rle_text_scratch_bytes(len) bytes of scratch for either. */
size_t fa_rle_text_scratch_bytes(int64_t len);
int fa_rle_text_stats(const char *s, int64_t len, int json, int64_t h, int64_t w, uint32_t *scratch,
                      void *chars, int64_t *m, double *area, double *bb);
int64_t fa_rle_text_decode(const char *s, int64_t len, int json, uint32_t *cnts, void *chars);

/* fa_rle_from_string for a plain string (no JSON escapes) through the faster in-text
 * decoder: FA_OK with the counts in cnts (room for len) and their number in *m, or
 * FA_EPARSE without a message (fa_rle_from_string then gives the reason). chars:
 * fa_rle_text_scratch_bytes(len) bytes. */
int fa_rle_from_text(const char *s, int64_t len, int64_t h, int64_t w, uint32_t *cnts, void *chars,
                     int64_t *m);

/* Whether fa_rle_iou of one detection (box dt_bb) against gt [n] reads the detection's
 * counts: some pair's box IoU is positive (else every IoU is the box IoU, 0). */
int fa_rle_iou_reads_counts(const double *dt_bb, const double *gt_bb, int64_t n,
                            const uint8_t *iscrowd);

/* Pairwise mask IoU, as pycocotools' rleIou.
 *   dt [m], gt [n]: RLEs; dt_bb, gt_bb: their fa_rle_to_bbox boxes float64 [m][4] / [n][4],
 *   or NULL to compute them; iscrowd: uint8 [n] or NULL.
 *   out: float64 [m][n] row-major (the shape pycocotools' iou returns).
 * Per pair: the box IoU (bbIou, crowd rule) first; pairs whose box IoU is <= 0 keep it;
 * then a differing h or w gives -1; else runs are intersected as uint32 counters:
 * inter / union, union = the dt area for a crowd gt, and 1 when the intersection is 0.
 * Allocation-free when both box arrays are given (else a small stack block per tile). */
void fa_rle_iou(const fa_rle *dt, const double *dt_bb, int64_t m, const fa_rle *gt,
                const double *gt_bb, int64_t n, const uint8_t *iscrowd, double *out);

/* fa_rle_iou with explicit output strides (in doubles): pair (d, g) goes to
 * out[d*stride_dt + g*stride_gt]. (n, 1) is fa_rle_iou; (1, m) writes the column-major
 * [m][n] layout that pycocotools returns (its array is Fortran-ordered). dt_bb / gt_bb
 * must not be NULL here. */
void fa_rle_iou_strided(const fa_rle *dt, const double *dt_bb, int64_t m, const fa_rle *gt,
                        const double *gt_bb, int64_t n, const uint8_t *iscrowd, double *out,
                        int64_t stride_dt, int64_t stride_gt);

/* ------------------------------------------------------------------------------------
 * boundary.c -- mask boundaries for Boundary IoU (boundary-iou-api's definition)
 * ------------------------------------------------------------------------------------
 * boundary = mask minus its erosion by a 3x3 square repeated d times, pixels outside the
 * image counted as background (cv2.erode of the mask padded by one zero pixel). */

/* d = max(1, round(ratio * sqrt(h^2 + w^2))), rounding half to even as Python's round. */
int64_t fa_boundary_dilation(int64_t h, int64_t w, double ratio);

/* Sizes for fa_rle_boundary of r: returns the capacity (uint32 entries) of cnts, and sets
 * *scratch_bytes (both depend on the mask's bounding box only). */
int64_t fa_rle_boundary_sizes(const fa_rle *r, size_t *scratch_bytes);

/* RLE (same h x w) of the boundary of r with erosion depth d >= 1 into cnts; returns m.
 * scratch: fa_rle_boundary_sizes bytes, 8-byte aligned. Counts that do not sum to h*w
 * are read up to h*w (a shorter sum: the rest is background). No allocation. */
int64_t fa_rle_boundary(const fa_rle *r, int64_t d, void *scratch, uint32_t *cnts);

/* ------------------------------------------------------------------------------------
 * confusion.c -- the confusion matrix of semantic segmentation label maps
 * ------------------------------------------------------------------------------------ */

/* Element types of label maps (any integer dtype; bool is read as uint8) and of score
 * maps (logits or probabilities). */
#define FA_LBL_I8 0
#define FA_LBL_U8 1
#define FA_LBL_I16 2
#define FA_LBL_U16 3
#define FA_LBL_I32 4
#define FA_LBL_U32 5
#define FA_LBL_I64 6
#define FA_LBL_U64 7
#define FA_SCORE_F32 8
#define FA_SCORE_F64 9

/* One batch of label maps, all C-contiguous, n_img images of n_pix pixels each.
 *   gt: [n_img][n_pix] of type gt_type (FA_LBL_*).
 *   pred: [n_img][n_pix] labels (pred_type FA_LBL_*, n_ch 0), or scores
 *   [n_img][n_ch][n_pix] (pred_type FA_SCORE_*, n_ch >= 1) whose argmax over the channel
 *   is the predicted label (the first maximum, as np.argmax).
 *   K: the number of classes; ignore_index: ground-truth value not counted (any int64);
 *   reduce_zero: mmsegmentation's reduce_zero_label on the ground truth (0 -> 255, then
 *   v - 1, with 254 -> 255) before it is compared with ignore_index. */
typedef struct {
    const void *gt;
    int gt_type;
    const void *pred;
    int pred_type;
    int64_t n_img, n_pix, n_ch, K, ignore_index;
    int reduce_zero;
} fa_confusion_input;

/* Adds the pixels [begin, end) of image `img` into conf (int64 [K][K], rows = ground
 * truth, columns = prediction; the caller zeroes it). Pixels whose (reduced) ground truth
 * is ignore_index are skipped, whatever their prediction. One pass over the pixels, in
 * blocks of a few thousand on the stack; no allocation.
 * Returns FA_OK, or FA_EINVAL with *bad = the first pixel index (in the image) whose
 * ground truth (after the reduction) or prediction is outside [0, K), or whose score is
 * NaN; conf then holds a partial count. Ranges of one image, or of different images, can
 * run on separate threads into separate matrices. */
int fa_confusion_range(const fa_confusion_input *in, int64_t img, int64_t begin, int64_t end,
                       int64_t *conf, int64_t *bad);

/* ------------------------------------------------------------------------------------
 * panoptic.c -- the (ground-truth id, predicted id) pair counts of a panoptic map pair
 * ------------------------------------------------------------------------------------ */

/* Counts the distinct pairs (gt[i], pred[i]) over the n_pix pixels of one image.
 *   gt, pred: uint32 [n_pix], segment ids (0 is VOID; the kernel gives it no meaning).
 *   table: caller-owned scratch of 2 * 2^log2_slots uint64 (16 << log2_slots bytes),
 *   log2_slots in [1, 40]; the table holds at most half that many distinct pairs.
 * On FA_OK the first *n_pairs (key, count) uint64 pairs of table, sorted by key
 * (key = gt << 32 | pred), are the histogram: np.unique(keys, return_counts=True).
 * FA_ENOMEM: more than 2^(log2_slots - 1) distinct pairs (retry with a larger table; 2 *
 * n_pix slots always suffice); FA_EINVAL: log2_slots out of range. No allocation. */
int fa_panoptic_pairs(const uint32_t *gt, const uint32_t *pred, int64_t n_pix, uint64_t *table, int log2_slots,
                      int64_t *n_pairs);

/* ------------------------------------------------------------------------------------
 * rotated.c -- pairwise IoU of rotated boxes and quadrilaterals
 * ------------------------------------------------------------------------------------ */

/* The GPU counterpart, csrc/cuda/rotated_iou.cu (compiled at run time by NVRTC through
 * CuPy), runs the same per-box and per-pair geometry (rotated_pair.h, which documents the
 * record layout, the angle convention and the clipping). */
#ifndef FA_ROT_RECORD
#define FA_ROT_RECORD 16   /* doubles per box record */
#endif

/* Records of n rotated boxes (x_ctr, y_ctr, w, h, angle) float64 [n][5], detectron2's
 * XYWHA; the angle in degrees, or radians when `radians` != 0. rec: float64
 * [n][FA_ROT_RECORD] out. Widths and heights must be >= 0 and everything finite
 * (checked by the caller). */
void fa_rot_rbox_records(const double *boxes, int64_t n, int radians, double *rec);

/* Records of n quadrilaterals x1 y1 ... x4 y4 float64 [n][8] (finite, any vertex order):
 * each record holds the convex hull of the 4 points; rec[15] is 1.0 where the quad in
 * its given order is not convex (self-intersecting or with a reflex vertex). Returns the
 * number of such quads. */
int64_t fa_rot_quad_records(const double *quads, int64_t n, double *rec);

/* IoU of n records `ra` against m records `rb`: out float64 [n][m] row-major, each in
 * [0, 1]. */
void fa_rot_iou(const double *ra, int64_t n, const double *rb, int64_t m, double *out);

/* As fa_rot_iou, with pycocotools' crowd rule for the columns j where crowd[j] != 0 (the
 * intersection over the area of the row's box alone: a detection against a crowd ground
 * truth). crowd: uint8 [m]. */
void fa_rot_iou_crowd(const double *ra, int64_t n, const double *rb, int64_t m, const uint8_t *crowd,
                      double *out);

/* The precomputed IoU rows of a COCO evaluation (fa_coco_input.iou): for each detection
 * record i < n (dt_rec [n][FA_ROT_RECORD], in grouped order) whose row_off[i] >= 0, the
 * g_count[i] values iou[row_off[i] + g] = IoU against gt_rec[g_first[i] + g] (the
 * ground truths of its (category, image) run, grouped order), with the crowd rule where
 * gt_crowd (uint8, indexed like gt_rec) is set. */
/* For each detection record i < n (dt_rec, grouped order): the first ground truth of
 * gt_rec[g_first[i] .. g_first[i] + g_count[i]) with the highest IoU (np.argmax's tie
 * rule; the pair computed as fa_rot_iou_pair(gt, detection)) into best[i] (-1 when
 * g_count[i] == 0) and that IoU into best_iou[i] (-inf when none). */
void fa_rot_best_gt(const double *dt_rec, int64_t n, const int64_t *g_first, const int64_t *g_count,
                    const double *gt_rec, int64_t *best, double *best_iou);

void fa_rot_iou_rows(const double *dt_rec, int64_t n, const int64_t *row_off, const int64_t *g_first,
                     const int64_t *g_count, const double *gt_rec, const uint8_t *gt_crowd, double *iou);

#ifdef __cplusplus
}
#endif
#endif /* FASTAP_H */
