/*
 * iou_pair.h -- the per-pair box IoU formula, shared by the C kernel (iou.c) and the
 * CUDA kernel (csrc/cuda/box_iou.cu), so the CPU tests exercise the arithmetic the GPU
 * runs. FA_HD is `__host__ __device__ __forceinline__` under nvcc and NVRTC, `static
 * inline` in C. No includes: NVRTC has no C library headers.
 *
 * pycocotools (maskApi.c, bbIou): the intersection width is
 *   min(x_a + w_a, x_b + w_b) - max(x_a, x_b), zero when <= 0 (same for height);
 * the areas are w*h of the given widths; the union is area_a + area_b - inter, except
 * for a crowd `b`, whose union is area_a alone. Evaluated in double, in this order.
 */
#ifndef FASTAP_IOU_PAIR_H
#define FASTAP_IOU_PAIR_H

#if defined(__CUDACC__)
#define FA_HD __host__ __device__ __forceinline__
#else
#define FA_HD static inline
#endif

/* a, b: xywh; area_a, area_b: w*h precomputed by the caller. */
FA_HD double fa_iou_xywh_pair(const double *a, double area_a, const double *b,
                              double area_b, int b_crowd)
{
    double xa2 = a[2] + a[0], xb2 = b[2] + b[0];
    double w = (xa2 < xb2 ? xa2 : xb2) - (a[0] > b[0] ? a[0] : b[0]);
    if (!(w > 0)) return 0.0;
    double ya2 = a[3] + a[1], yb2 = b[3] + b[1];
    double h = (ya2 < yb2 ? ya2 : yb2) - (a[1] > b[1] ? a[1] : b[1]);
    if (!(h > 0)) return 0.0;
    double inter = w * h;
    double uni = b_crowd ? area_a : area_a + area_b - inter;
    return inter / uni;
}

/* a, b: corners (x1, y1, x2, y2); `one` is 0.0, or 1.0 for the VOC +1 pixel rule.
 * area_a, area_b: (x2 - x1 + one) * (y2 - y1 + one) precomputed by the caller. */
FA_HD double fa_iou_xyxy_pair(const double *a, double area_a, const double *b,
                              double area_b, int b_crowd, double one)
{
    double w = (a[2] < b[2] ? a[2] : b[2]) - (a[0] > b[0] ? a[0] : b[0]) + one;
    if (!(w > 0)) return 0.0;
    double h = (a[3] < b[3] ? a[3] : b[3]) - (a[1] > b[1] ? a[1] : b[1]) + one;
    if (!(h > 0)) return 0.0;
    double inter = w * h;
    double uni = b_crowd ? area_a : area_a + area_b - inter;
    return inter / uni;
}

#endif
