/*
 * box_iou.cu -- pairwise box IoU on the GPU, n x m.
 *
 * Layout: a [n][4], b [m][4] row-major, float32 or float64; out [n][ld] row-major in the
 * boxes' dtype, ld >= m (a row stride, so that out may be a block of a larger matrix).
 * crowd: uint8 [m], read only when has_crowd != 0.
 *
 * Work split: a block of FA_CU_BX x FA_CU_BY threads computes one tile of FA_CU_TILE_N rows
 * by FA_CU_TILE_M columns of out (grid.x: column tiles, grid.y: row tiles; the host splits
 * launches so that grid.y stays below 65536). The tile's boxes of a and b are staged in
 * shared memory once (read coalesced, converted to double, corners and areas computed once
 * per box); each thread then keeps its FA_CU_TILE_M / FA_CU_BX boxes of b in registers and
 * walks FA_CU_TILE_N / FA_CU_BY rows. The 32 threads of a warp share threadIdx.y, so each
 * store of a warp writes 32 consecutive elements of one row: coalesced.
 *
 * Arithmetic: double, with the per-pair formula of iou_pair.h, which the C kernel (iou.c)
 * includes too. float32 boxes are widened exactly, so a float32 result is the float64
 * result rounded once: bitwise equal to the CPU path's float64 result cast to float32.
 * Compile with --fmad=false (nvcc: -fmad=false): a fused multiply-add would round
 * differently from the C path, which is built with -ffp-contract=off.
 *
 * Portability: Volta (sm_70) and later, nothing above sm_70 is used (no warp-level
 * intrinsics, no atomics, static shared memory only). No headers besides iou_pair.h:
 * NVRTC (CuPy's RawModule) has no host C library headers. fastap's loader inlines
 * iou_pair.h before handing the source to NVRTC; nvcc and the CPU emulation test use -I.
 *
 * Kernels (extern "C" names), one per layout and dtype:
 *   fa_box_iou_xyxy_f32 / _f64: corners; with centre != 0 the boxes are (cx, cy, w, h) and
 *     are converted on load as the CPU path does (x1 = cx - 0.5*w, x2 = cx + 0.5*w);
 *     one: 0.0, or 1.0 for the VOC +1 pixel rule.
 *   fa_box_iou_xywh_f32 / _f64: COCO boxes, pycocotools' arithmetic (recomputes x + w).
 *   fa_box_iou_family_f32 / _f64: the IoU family (iou_pair.h, fa_iou_family_pair: kind
 *     FA_IOU_KIND_IOU/GIOU/DIOU/CIOU, eps) pairwise, tiled as above with box records of
 *     FA_IOU_REC doubles; layout: 0 corners, 1 (cx, cy, w, h), 2 (x, y, w, h), converted to
 *     corners on load as the CPU path does (x1 = cx - 0.5*w, x2 = cx + 0.5*w; x2 = x + w).
 *   fa_box_iou_aligned_f32 / _f64: elementwise, out[i] = pair (a[i], b[i]), one thread per
 *     pair (1-d grid of FA_CU_ALIGNED_BLOCK threads per block): kind IOU with layout 2 is
 *     pycocotools' xywh formula (crowd flags as above), kind IOU otherwise the corner
 *     formula, other kinds fa_iou_family_pair; the CPU's fa_box_iou_aligned.
 */
#include "iou_pair.h"

#ifndef FA_CU_BX
#define FA_CU_BX 32        /* threads per block along columns: one warp */
#endif
#ifndef FA_CU_BY
#define FA_CU_BY 8         /* threads per block along rows */
#endif
#ifndef FA_CU_TILE_M
#define FA_CU_TILE_M 64    /* columns of out per block: FA_CU_TILE_M / FA_CU_BX per thread */
#endif
#ifndef FA_CU_TILE_N
#define FA_CU_TILE_N 64    /* rows of out per block: FA_CU_TILE_N / FA_CU_BY per thread */
#endif

#define FA_CU_THREADS (FA_CU_BX * FA_CU_BY)
#define FA_CU_CPT (FA_CU_TILE_M / FA_CU_BX)
#define FA_CU_RPT (FA_CU_TILE_N / FA_CU_BY)

typedef long long fa_cu_i64;
typedef unsigned char fa_cu_u8;

/* Box k of p (4 values of T) as double, in the layout the pair formula takes. xyxy with
 * `centre`: (cx, cy, w, h) -> corners, the CPU path's conversion. Returns the box's area. */
template <typename T, int XYWH>
__device__ __forceinline__ double fa_cu_load_box(const T *p, int centre, double one, double *box)
{
    double v0 = (double)p[0], v1 = (double)p[1], v2 = (double)p[2], v3 = (double)p[3];
    if (XYWH) {
        box[0] = v0; box[1] = v1; box[2] = v2; box[3] = v3;
        return v2 * v3;
    }
    if (centre) {
        box[0] = v0 - 0.5 * v2; box[1] = v1 - 0.5 * v3;
        box[2] = v0 + 0.5 * v2; box[3] = v1 + 0.5 * v3;
    } else {
        box[0] = v0; box[1] = v1; box[2] = v2; box[3] = v3;
    }
    return (box[2] - box[0] + one) * (box[3] - box[1] + one);
}

template <typename T, int XYWH>
__device__ __forceinline__ void fa_cu_box_iou(const T *__restrict__ a, fa_cu_i64 n,
                                              const T *__restrict__ b, fa_cu_i64 m,
                                              const fa_cu_u8 *__restrict__ crowd, int has_crowd,
                                              int centre, double one, T *__restrict__ out,
                                              fa_cu_i64 ld)
{
    /* structure of arrays: lanes reading consecutive boxes hit consecutive banks */
    __shared__ double s_a[5][FA_CU_TILE_N];
    __shared__ double s_b[5][FA_CU_TILE_M];
    __shared__ int s_crowd[FA_CU_TILE_M];

    const int tx = threadIdx.x, ty = threadIdx.y, t = ty * FA_CU_BX + tx;
    const fa_cu_i64 row0 = (fa_cu_i64)blockIdx.y * FA_CU_TILE_N;
    const fa_cu_i64 col0 = (fa_cu_i64)blockIdx.x * FA_CU_TILE_M;

    for (int k = t; k < FA_CU_TILE_N; k += FA_CU_THREADS) {
        if (row0 + k < n) {
            double box[4];
            double area = fa_cu_load_box<T, XYWH>(a + 4 * (row0 + k), centre, one, box);
            s_a[0][k] = box[0]; s_a[1][k] = box[1]; s_a[2][k] = box[2]; s_a[3][k] = box[3];
            s_a[4][k] = area;
        }
    }
    for (int k = t; k < FA_CU_TILE_M; k += FA_CU_THREADS) {
        if (col0 + k < m) {
            double box[4];
            double area = fa_cu_load_box<T, XYWH>(b + 4 * (col0 + k), centre, one, box);
            s_b[0][k] = box[0]; s_b[1][k] = box[1]; s_b[2][k] = box[2]; s_b[3][k] = box[3];
            s_b[4][k] = area;
            s_crowd[k] = has_crowd ? (crowd[col0 + k] != 0) : 0;
        }
    }
    __syncthreads();

    double bb[FA_CU_CPT][4], barea[FA_CU_CPT];
    int bcrowd[FA_CU_CPT];
#pragma unroll
    for (int c = 0; c < FA_CU_CPT; c++) {
        int j = tx + c * FA_CU_BX;
        if (col0 + j < m) {
            bb[c][0] = s_b[0][j]; bb[c][1] = s_b[1][j]; bb[c][2] = s_b[2][j]; bb[c][3] = s_b[3][j];
            barea[c] = s_b[4][j];
            bcrowd[c] = s_crowd[j];
        }
    }

#pragma unroll 2
    for (int r = 0; r < FA_CU_RPT; r++) {
        int i = ty + r * FA_CU_BY;
        if (row0 + i >= n) break;
        double ab[4] = {s_a[0][i], s_a[1][i], s_a[2][i], s_a[3][i]};
        double aarea = s_a[4][i];
        T *o = out + (row0 + i) * ld + col0;
#pragma unroll
        for (int c = 0; c < FA_CU_CPT; c++) {
            int j = tx + c * FA_CU_BX;
            if (col0 + j < m) {
                double v = XYWH ? fa_iou_xywh_pair(ab, aarea, bb[c], barea[c], bcrowd[c])
                                : fa_iou_xyxy_pair(ab, aarea, bb[c], barea[c], bcrowd[c], one);
                o[j] = (T)v;
            }
        }
    }
}

#define FA_CU_KERNEL(NAME, T, XYWH)                                                          \
    extern "C" __global__ void __launch_bounds__(FA_CU_THREADS)                              \
    NAME(const T *a, fa_cu_i64 n, const T *b, fa_cu_i64 m, const fa_cu_u8 *crowd,            \
         int has_crowd, int centre, double one, T *out, fa_cu_i64 ld)                        \
    {                                                                                        \
        fa_cu_box_iou<T, XYWH>(a, n, b, m, crowd, has_crowd, centre, one, out, ld);          \
    }

FA_CU_KERNEL(fa_box_iou_xyxy_f32, float, 0)
FA_CU_KERNEL(fa_box_iou_xyxy_f64, double, 0)
FA_CU_KERNEL(fa_box_iou_xywh_f32, float, 1)
FA_CU_KERNEL(fa_box_iou_xywh_f64, double, 1)


/* ---- the IoU family -------------------------------------------------------------------- */

#ifndef FA_CU_ALIGNED_BLOCK
#define FA_CU_ALIGNED_BLOCK 256    /* threads per block of the elementwise kernels */
#endif

/* The corners r[0..3] of box p from layout 0 corners, 1 centre, 2 xywh, converted as the
 * CPU path does (x1 = cx - 0.5*w, x2 = cx + 0.5*w; x2 = x + w), in double. */
template <typename T>
__device__ __forceinline__ void fa_cu_load_corners(const T *p, int layout, double *r)
{
    double v0 = (double)p[0], v1 = (double)p[1], v2 = (double)p[2], v3 = (double)p[3];
    if (layout == 1) {
        r[0] = v0 - 0.5 * v2; r[1] = v1 - 0.5 * v3; r[2] = v0 + 0.5 * v2; r[3] = v1 + 0.5 * v3;
    } else if (layout == 2) {
        r[0] = v0; r[1] = v1; r[2] = v0 + v2; r[3] = v1 + v3;
    } else {
        r[0] = v0; r[1] = v1; r[2] = v2; r[3] = v3;
    }
}

/* Box k of p as a record (iou_pair.h) from layout 0 corners, 1 centre, 2 xywh. */
template <typename T>
__device__ __forceinline__ void fa_cu_load_rec(const T *p, int layout, double *r)
{
    fa_cu_load_corners<T>(p, layout, r);
    fa_iou_rec_finish(r);
}

template <typename T>
__device__ __forceinline__ void fa_cu_box_family(const T *__restrict__ a, fa_cu_i64 n,
                                                 const T *__restrict__ b, fa_cu_i64 m, int layout,
                                                 int kind, double eps, T *__restrict__ out,
                                                 fa_cu_i64 ld)
{
    __shared__ double s_a[FA_IOU_REC][FA_CU_TILE_N];
    __shared__ double s_b[FA_IOU_REC][FA_CU_TILE_M];

    const int tx = threadIdx.x, ty = threadIdx.y, t = ty * FA_CU_BX + tx;
    const fa_cu_i64 row0 = (fa_cu_i64)blockIdx.y * FA_CU_TILE_N;
    const fa_cu_i64 col0 = (fa_cu_i64)blockIdx.x * FA_CU_TILE_M;
    double r[FA_IOU_REC];

    for (int k = t; k < FA_CU_TILE_N; k += FA_CU_THREADS) {
        if (row0 + k < n) {
            fa_cu_load_rec<T>(a + 4 * (row0 + k), layout, r);
            for (int q = 0; q < FA_IOU_REC; q++) s_a[q][k] = r[q];
        }
    }
    for (int k = t; k < FA_CU_TILE_M; k += FA_CU_THREADS) {
        if (col0 + k < m) {
            fa_cu_load_rec<T>(b + 4 * (col0 + k), layout, r);
            for (int q = 0; q < FA_IOU_REC; q++) s_b[q][k] = r[q];
        }
    }
    __syncthreads();

    double bb[FA_CU_CPT][FA_IOU_REC];
#pragma unroll
    for (int c = 0; c < FA_CU_CPT; c++) {
        int j = tx + c * FA_CU_BX;
        if (col0 + j < m) {
#pragma unroll
            for (int q = 0; q < FA_IOU_REC; q++) bb[c][q] = s_b[q][j];
        }
    }

    for (int rr = 0; rr < FA_CU_RPT; rr++) {
        int i = ty + rr * FA_CU_BY;
        if (row0 + i >= n) break;
        double ab[FA_IOU_REC];
#pragma unroll
        for (int q = 0; q < FA_IOU_REC; q++) ab[q] = s_a[q][i];
        T *o = out + (row0 + i) * ld + col0;
#pragma unroll
        for (int c = 0; c < FA_CU_CPT; c++) {
            int j = tx + c * FA_CU_BX;
            if (col0 + j < m) o[j] = (T)fa_iou_family_pair(ab, bb[c], kind, eps);
        }
    }
}

template <typename T>
__device__ __forceinline__ void fa_cu_box_aligned(const T *__restrict__ a, const T *__restrict__ b,
                                                  fa_cu_i64 n, const fa_cu_u8 *__restrict__ crowd,
                                                  int has_crowd, int layout, int kind, double eps,
                                                  T *__restrict__ out)
{
    const fa_cu_i64 i = (fa_cu_i64)blockIdx.x * FA_CU_ALIGNED_BLOCK + threadIdx.x;
    if (i >= n) return;
    double ra[FA_IOU_REC], rb[FA_IOU_REC];
    int cr = has_crowd ? (crowd[i] != 0) : 0;
    double v;
    if (kind == FA_IOU_KIND_IOU && layout == 2) {
        double box_a[4], box_b[4];
        double area_a = fa_cu_load_box<T, 1>(a + 4 * i, 0, 0.0, box_a);
        double area_b = fa_cu_load_box<T, 1>(b + 4 * i, 0, 0.0, box_b);
        v = fa_iou_xywh_pair(box_a, area_a, box_b, area_b, cr);
    } else if (kind == FA_IOU_KIND_IOU) {
        double box_a[4], box_b[4];
        double area_a = fa_cu_load_box<T, 0>(a + 4 * i, layout == 1, 0.0, box_a);
        double area_b = fa_cu_load_box<T, 0>(b + 4 * i, layout == 1, 0.0, box_b);
        v = fa_iou_xyxy_pair(box_a, area_a, box_b, area_b, cr, 0.0);
    } else {
        fa_cu_load_rec<T>(a + 4 * i, layout, ra);
        fa_cu_load_rec<T>(b + 4 * i, layout, rb);
        v = fa_iou_family_pair(ra, rb, kind, eps);
    }
    out[i] = (T)v;
}

#define FA_CU_FAMILY_KERNEL(NAME, T)                                                         \
    extern "C" __global__ void __launch_bounds__(FA_CU_THREADS)                              \
    NAME(const T *a, fa_cu_i64 n, const T *b, fa_cu_i64 m, int layout, int kind, double eps,  \
         T *out, fa_cu_i64 ld)                                                               \
    {                                                                                        \
        fa_cu_box_family<T>(a, n, b, m, layout, kind, eps, out, ld);                         \
    }

#define FA_CU_ALIGNED_KERNEL(NAME, T)                                                        \
    extern "C" __global__ void __launch_bounds__(FA_CU_ALIGNED_BLOCK)                        \
    NAME(const T *a, const T *b, fa_cu_i64 n, const fa_cu_u8 *crowd, int has_crowd,           \
         int layout, int kind, double eps, T *out)                                           \
    {                                                                                        \
        fa_cu_box_aligned<T>(a, b, n, crowd, has_crowd, layout, kind, eps, out);             \
    }

FA_CU_FAMILY_KERNEL(fa_box_iou_family_f32, float)
FA_CU_FAMILY_KERNEL(fa_box_iou_family_f64, double)
FA_CU_ALIGNED_KERNEL(fa_box_iou_aligned_f32, float)
FA_CU_ALIGNED_KERNEL(fa_box_iou_aligned_f64, double)


/* ---- assignment (fastap.assign) ------------------------------------------------------------
 * torchvision's Matcher / SSDMatcher on the IoU of corner boxes (fa_iou_family_pair, kind IOU:
 * the formula of the C path's csrc/assign.c, in the same argument order, so every IoU and
 * every comparison is the CPU's bit for bit), for a batch of images without the n x g matrix.
 *
 * Batch layout: image b (b0 + the launch's image index) has the anchors a0 .. a0 + na - 1 of
 * `anchors` and the ground truth g0 .. g0 + ng - 1 of `gt` (g_off[b], g_off[b + 1]); its
 * per-anchor results are rows o0 .. o0 + na - 1 of the outputs. Shared anchors (n_shared >= 0):
 * a0 = 0, na = n_shared, o0 = b * n_shared; otherwise (n_shared = -1) a0 = o0 = a_off[b],
 * na = a_off[b + 1] - a_off[b]. Indices written are the image's own (0-based per image).
 *
 * No atomics: every maximum is a fixed-order scan, so the ties are the CPU's.
 *   fa_assign_rows_T: one thread per (image, anchor), the image's ground truth staged in
 *     shared memory FA_CA_THREADS records at a time: best[o] = the anchor's highest IoU (0
 *     without ground truth), best_gt[o] = the first ground truth reaching it (-1 without).
 *     grid (anchor blocks, images).
 *   fa_assign_cols_T: one thread per (image, ground truth), over one chunk of FA_CA_CHUNK
 *     anchors staged in shared memory: the chunk's highest IoU and first anchor reaching it,
 *     into part_val / part_arg [chunk][G] (-1, -1 for a chunk past the image's anchors).
 *     grid (ground-truth blocks of FA_CA_GTS, chunks c0 + blockIdx.y, images).
 *   fa_assign_reduce: gt_max[k], gt_arg[k] over the chunks in order (strict >: ties keep the
 *     lower chunk, so the first anchor), one thread per ground truth.
 *   fa_assign_final_T: matches and IoU per anchor: the thresholds (best < low: -1; < high:
 *     -2), then mode 1 (allow_low_quality_matches): an anchor whose IoU with some ground
 *     truth equals that ground truth's gt_max gets best_gt back; mode 2 (SSD): an anchor that
 *     is gt_arg[k] of some k gets the highest such k, and gt_max[k] as its IoU.
 */
#ifndef FA_CA_THREADS
#define FA_CA_THREADS 256    /* threads (anchors) per block of the per-anchor kernels */
#endif
#ifndef FA_CA_GTS
#define FA_CA_GTS 64         /* threads (ground truths) per block of fa_assign_cols */
#endif
#ifndef FA_CA_CHUNK
#define FA_CA_CHUNK 256      /* anchors per block of fa_assign_cols */
#endif

struct fa_ca_image {
    fa_cu_i64 a0, na, o0, g0, ng;
};

__device__ __forceinline__ fa_ca_image fa_ca_image_of(const fa_cu_i64 *a_off, fa_cu_i64 n_shared,
                                                     const fa_cu_i64 *g_off, fa_cu_i64 b)
{
    fa_ca_image im;
    if (n_shared >= 0) {
        im.a0 = 0; im.na = n_shared; im.o0 = b * n_shared;
    } else {
        im.a0 = a_off[b]; im.na = a_off[b + 1] - im.a0; im.o0 = im.a0;
    }
    im.g0 = g_off[b];
    im.ng = g_off[b + 1] - im.g0;
    return im;
}

/* the record of box k (corners and area: all kind IOU reads) */
template <typename T>
__device__ __forceinline__ void fa_ca_load(const T *boxes, fa_cu_i64 k, int layout, double *r)
{
    fa_cu_load_corners<T>(boxes + 4 * k, layout, r);
    fa_iou_rec_area(r);
}

/* Stages ground truths k0 .. k0 + FA_CA_THREADS - 1 of the image (records, and with gt_max
 * their maxima) in shared memory; every thread of the block calls it. */
template <typename T>
__device__ __forceinline__ void fa_ca_stage_gt(const T *gt, const fa_ca_image &im, fa_cu_i64 k0, int layout,
                                               double (*s_g)[FA_IOU_REC], const double *gt_max,
                                               double *s_max)
{
    const int t = threadIdx.x;
    __syncthreads();                 /* the previous tile is consumed */
    if (k0 + t < im.ng) {
        fa_ca_load<T>(gt, im.g0 + k0 + t, layout, s_g[t]);
        if (gt_max) s_max[t] = gt_max[im.g0 + k0 + t];
    }
    __syncthreads();
}

template <typename T>
__device__ __forceinline__ void fa_ca_rows(const T *__restrict__ anchors, const fa_cu_i64 *__restrict__ a_off,
                                           fa_cu_i64 n_shared, const T *__restrict__ gt,
                                           const fa_cu_i64 *__restrict__ g_off, int layout, fa_cu_i64 b0,
                                           double *__restrict__ best, fa_cu_i64 *__restrict__ best_gt)
{
    __shared__ double s_g[FA_CA_THREADS][FA_IOU_REC];
    const fa_ca_image im = fa_ca_image_of(a_off, n_shared, g_off, b0 + blockIdx.y);
    const fa_cu_i64 i = (fa_cu_i64)blockIdx.x * FA_CA_THREADS + threadIdx.x;
    if ((fa_cu_i64)blockIdx.x * FA_CA_THREADS >= im.na) return;     /* the whole block */
    const int live = i < im.na;
    double r[FA_IOU_REC];
    if (live) fa_ca_load<T>(anchors, im.a0 + i, layout, r);
    double bv = -1.0;
    fa_cu_i64 arg = -1;
    for (fa_cu_i64 k0 = 0; k0 < im.ng; k0 += FA_CA_THREADS) {
        fa_ca_stage_gt<T>(gt, im, k0, layout, s_g, (const double *)0, (double *)0);
        const int cnt = im.ng - k0 < FA_CA_THREADS ? (int)(im.ng - k0) : FA_CA_THREADS;
        if (!live) continue;
        for (int kk = 0; kk < cnt; kk++) {
            double v = fa_iou_family_pair(r, s_g[kk], FA_IOU_KIND_IOU, 0.0);
            if (v > bv) { bv = v; arg = k0 + kk; }
        }
    }
    if (live) {
        best[im.o0 + i] = im.ng ? bv : 0.0;
        best_gt[im.o0 + i] = arg;
    }
}

template <typename T>
__device__ __forceinline__ void fa_ca_cols(const T *__restrict__ anchors, const fa_cu_i64 *__restrict__ a_off,
                                           fa_cu_i64 n_shared, const T *__restrict__ gt,
                                           const fa_cu_i64 *__restrict__ g_off, int layout, fa_cu_i64 b0,
                                           fa_cu_i64 c0, fa_cu_i64 G, double *__restrict__ part_val,
                                           fa_cu_i64 *__restrict__ part_arg)
{
    __shared__ double s_a[FA_CA_CHUNK][FA_IOU_REC];
    const int t = threadIdx.x;
    const fa_ca_image im = fa_ca_image_of(a_off, n_shared, g_off, b0 + blockIdx.z);
    const fa_cu_i64 c = c0 + blockIdx.y, k = (fa_cu_i64)blockIdx.x * FA_CA_GTS + t;
    if ((fa_cu_i64)blockIdx.x * FA_CA_GTS >= im.ng) return;         /* the whole block */
    const fa_cu_i64 i0 = c * FA_CA_CHUNK;
    const int cnt = im.na <= i0 ? 0 : (im.na - i0 < FA_CA_CHUNK ? (int)(im.na - i0) : FA_CA_CHUNK);
    for (int q = t; q < cnt; q += FA_CA_GTS)
        fa_ca_load<T>(anchors, im.a0 + i0 + q, layout, s_a[q]);
    __syncthreads();
    if (k >= im.ng) return;
    double g[FA_IOU_REC];
    fa_ca_load<T>(gt, im.g0 + k, layout, g);
    double bv = -1.0;
    fa_cu_i64 arg = -1;
    for (int q = 0; q < cnt; q++) {
        double v = fa_iou_family_pair(s_a[q], g, FA_IOU_KIND_IOU, 0.0);   /* (anchor, gt): the CPU's order */
        if (v > bv) { bv = v; arg = i0 + q; }
    }
    part_val[c * G + im.g0 + k] = bv;
    part_arg[c * G + im.g0 + k] = arg;
}

/* mode 1: whether the anchor's IoU with some ground truth of the image equals that ground
 * truth's highest IoU (torchvision's set_low_quality_matches_, ties included) */
template <typename T>
__device__ __forceinline__ int fa_ca_hits(const T *gt, const fa_ca_image &im, int layout, const double *r,
                                          int live, const double *gt_max)
{
    __shared__ double s_g[FA_CA_THREADS][FA_IOU_REC];
    __shared__ double s_max[FA_CA_THREADS];
    int hit = 0;
    for (fa_cu_i64 k0 = 0; k0 < im.ng; k0 += FA_CA_THREADS) {
        fa_ca_stage_gt<T>(gt, im, k0, layout, s_g, gt_max, s_max);
        const int cnt = im.ng - k0 < FA_CA_THREADS ? (int)(im.ng - k0) : FA_CA_THREADS;
        for (int kk = 0; live && !hit && kk < cnt; kk++)
            hit = fa_iou_family_pair(r, s_g[kk], FA_IOU_KIND_IOU, 0.0) == s_max[kk];
    }
    return hit;
}

/* mode 2: the highest ground-truth index k of the image with gt_arg[k] == i, or -1 */
__device__ __forceinline__ fa_cu_i64 fa_ca_forced(const fa_ca_image &im, fa_cu_i64 i, const fa_cu_i64 *gt_arg)
{
    __shared__ fa_cu_i64 s_arg[FA_CA_THREADS];
    const int t = threadIdx.x;
    fa_cu_i64 forced = -1;
    for (fa_cu_i64 k0 = 0; k0 < im.ng; k0 += FA_CA_THREADS) {
        __syncthreads();
        if (k0 + t < im.ng) s_arg[t] = gt_arg[im.g0 + k0 + t];
        __syncthreads();
        const int cnt = im.ng - k0 < FA_CA_THREADS ? (int)(im.ng - k0) : FA_CA_THREADS;
        for (int kk = 0; kk < cnt; kk++)
            if (s_arg[kk] == i) forced = k0 + kk;
    }
    return forced;
}

template <typename T>
__device__ __forceinline__ void fa_ca_final(const T *__restrict__ anchors, const fa_cu_i64 *__restrict__ a_off,
                                            fa_cu_i64 n_shared, const T *__restrict__ gt,
                                            const fa_cu_i64 *__restrict__ g_off, int layout, fa_cu_i64 b0,
                                            const double *__restrict__ best, const fa_cu_i64 *__restrict__ best_gt,
                                            const double *__restrict__ gt_max, const fa_cu_i64 *__restrict__ gt_arg,
                                            int mode, double high, double low, fa_cu_i64 *__restrict__ matches,
                                            T *__restrict__ iou)
{
    const fa_ca_image im = fa_ca_image_of(a_off, n_shared, g_off, b0 + blockIdx.y);
    const fa_cu_i64 i = (fa_cu_i64)blockIdx.x * FA_CA_THREADS + threadIdx.x;
    if ((fa_cu_i64)blockIdx.x * FA_CA_THREADS >= im.na) return;     /* the whole block */
    const int live = i < im.na;
    double v = 0.0;
    fa_cu_i64 m = -1, bg = -1;
    if (live) {
        v = best[im.o0 + i];
        bg = best_gt[im.o0 + i];
        m = im.ng == 0 ? -1 : (v < low ? -1 : (v < high ? -2 : bg));
    }
    if (mode == 1) {
        double r[FA_IOU_REC];
        if (live) fa_ca_load<T>(anchors, im.a0 + i, layout, r);
        if (fa_ca_hits<T>(gt, im, layout, r, live, gt_max) && live) m = bg;
    } else if (mode == 2) {
        fa_cu_i64 k = fa_ca_forced(im, i, gt_arg);
        if (live && k >= 0) { m = k; v = gt_max[im.g0 + k]; }
    }
    if (live) {
        matches[im.o0 + i] = m;
        iou[im.o0 + i] = (T)v;
    }
}

extern "C" __global__ void __launch_bounds__(FA_CA_THREADS)
fa_assign_reduce(const double *part_val, const fa_cu_i64 *part_arg, fa_cu_i64 nchunks, fa_cu_i64 G,
                 double *gt_max, fa_cu_i64 *gt_arg)
{
    const fa_cu_i64 k = (fa_cu_i64)blockIdx.x * FA_CA_THREADS + threadIdx.x;
    if (k >= G) return;
    double bv = -1.0;
    fa_cu_i64 arg = -1;
    for (fa_cu_i64 c = 0; c < nchunks; c++) {
        double v = part_val[c * G + k];
        if (v > bv) { bv = v; arg = part_arg[c * G + k]; }
    }
    gt_max[k] = bv;
    gt_arg[k] = arg;
}

#define FA_CA_KERNELS(ROWS, COLS, FINAL, T)                                                        \
    extern "C" __global__ void __launch_bounds__(FA_CA_THREADS)                                    \
    ROWS(const T *anchors, const fa_cu_i64 *a_off, fa_cu_i64 n_shared, const T *gt,                \
         const fa_cu_i64 *g_off, int layout, fa_cu_i64 b0, double *best, fa_cu_i64 *best_gt)       \
    {                                                                                              \
        fa_ca_rows<T>(anchors, a_off, n_shared, gt, g_off, layout, b0, best, best_gt);             \
    }                                                                                              \
    extern "C" __global__ void __launch_bounds__(FA_CA_GTS)                                        \
    COLS(const T *anchors, const fa_cu_i64 *a_off, fa_cu_i64 n_shared, const T *gt,                \
         const fa_cu_i64 *g_off, int layout, fa_cu_i64 b0, fa_cu_i64 c0, fa_cu_i64 G,              \
         double *part_val, fa_cu_i64 *part_arg)                                                    \
    {                                                                                              \
        fa_ca_cols<T>(anchors, a_off, n_shared, gt, g_off, layout, b0, c0, G, part_val, part_arg); \
    }                                                                                              \
    extern "C" __global__ void __launch_bounds__(FA_CA_THREADS)                                    \
    FINAL(const T *anchors, const fa_cu_i64 *a_off, fa_cu_i64 n_shared, const T *gt,               \
          const fa_cu_i64 *g_off, int layout, fa_cu_i64 b0, const double *best,                    \
          const fa_cu_i64 *best_gt, const double *gt_max, const fa_cu_i64 *gt_arg, int mode,       \
          double high, double low, fa_cu_i64 *matches, T *iou)                                     \
    {                                                                                              \
        fa_ca_final<T>(anchors, a_off, n_shared, gt, g_off, layout, b0, best, best_gt, gt_max,     \
                       gt_arg, mode, high, low, matches, iou);                                     \
    }

FA_CA_KERNELS(fa_assign_rows_f32, fa_assign_cols_f32, fa_assign_final_f32, float)
FA_CA_KERNELS(fa_assign_rows_f64, fa_assign_cols_f64, fa_assign_final_f64, double)
