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

#if !defined(__CUDACC__) && !defined(FASTAP_CUDA_EMU)
double atan(double);    /* C: libm's (declared here: this text is inlined for NVRTC) */
#endif
/* CIoU's arctangent: the C library's, or CUDA's (whose polynomial uses fused multiply-adds
 * of its own); tests/test_cuda.py redefines it to check that no other arithmetic fuses. */
#ifndef FA_ATAN
#define FA_ATAN atan
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

/* ---- the IoU family: IoU, GIoU, DIoU, CIoU of corner boxes -----------------------------
 * torchvision's definitions (torchvision.ops.generalized_box_iou, distance_box_iou,
 * complete_box_iou) evaluated in double in torchvision's order of operations, so float64
 * results equal torchvision's float64 results up to its atan (CIoU). Where torchvision
 * divides 0 by 0 (NaN), the term is defined:
 *   IoU  = inter / union, 0 when inter == 0 (also when union == 0: two zero-area boxes);
 *   GIoU = IoU - (C - union) / C, C the enclosing box's area; the penalty is 0 when C == 0;
 *   DIoU = IoU - d^2 / (c^2 + eps), d the centres' distance, c the enclosing box's
 *          diagonal; the penalty is 0 when c^2 + eps == 0 (eps = 0 and a point box twice);
 *   CIoU = DIoU - alpha v, v = 4/pi^2 (atan(w_a/h_a) - atan(w_b/h_b))^2, with atan(w/0) =
 *          pi/2 and v = 0 when either box has zero width and height (no aspect ratio),
 *          alpha = v / (1 - IoU + v + eps), 0 when that denominator is 0.
 * A box record (FA_IOU_REC doubles): x1, y1, x2, y2, area, centre x, centre y, aspect angle
 * (atan(w/h), or -1 for a box of zero width and height). */
#define FA_IOU_KIND_IOU 0
#define FA_IOU_KIND_GIOU 1
#define FA_IOU_KIND_DIOU 2
#define FA_IOU_KIND_CIOU 3
#define FA_IOU_REC 8

/* r[0..3]: corners, set by the caller; fills r[4], the area: all that kind IOU reads (the
 * assignment kernels use this, and no atan). */
FA_HD void fa_iou_rec_area(double *r)
{
    r[4] = (r[2] - r[0]) * (r[3] - r[1]);
}

/* r[0..3]: corners, set by the caller; fills r[4..7]. */
FA_HD void fa_iou_rec_finish(double *r)
{
    double w = r[2] - r[0], h = r[3] - r[1];
    fa_iou_rec_area(r);
    r[5] = (r[0] + r[2]) / 2;
    r[6] = (r[1] + r[3]) / 2;
    r[7] = h > 0 ? FA_ATAN(w / h) : (w > 0 ? 1.5707963267948966 : -1.0);
}

/* kind: FA_IOU_KIND_*; a, b: box records (fa_iou_rec_finish). */
FA_HD double fa_iou_family_pair(const double *a, const double *b, int kind, double eps)
{
    double iw = (a[2] < b[2] ? a[2] : b[2]) - (a[0] > b[0] ? a[0] : b[0]);
    double ih = (a[3] < b[3] ? a[3] : b[3]) - (a[1] > b[1] ? a[1] : b[1]);
    double inter = (iw > 0 ? iw : 0.0) * (ih > 0 ? ih : 0.0);
    double uni = a[4] + b[4] - inter;
    double iou = inter > 0 ? inter / uni : 0.0;
    if (kind == FA_IOU_KIND_IOU) return iou;
    double cw = (a[2] > b[2] ? a[2] : b[2]) - (a[0] < b[0] ? a[0] : b[0]);
    double ch = (a[3] > b[3] ? a[3] : b[3]) - (a[1] < b[1] ? a[1] : b[1]);
    cw = cw > 0 ? cw : 0.0;
    ch = ch > 0 ? ch : 0.0;
    if (kind == FA_IOU_KIND_GIOU) {
        double c = cw * ch;
        return c > 0 ? iou - (c - uni) / c : iou;
    }
    double diag = cw * cw + ch * ch + eps;
    double dx = a[5] - b[5], dy = a[6] - b[6];
    double dist = dx * dx + dy * dy;
    double diou = iou - (diag > 0 ? dist / diag : 0.0);
    if (kind == FA_IOU_KIND_DIOU) return diou;
    double v = 0.0;
    if (a[7] >= 0 && b[7] >= 0) {
        double t = a[7] - b[7];
        v = 0.4052847345693511 * (t * t);       /* 4 / pi^2, as Python rounds it */
    }
    double den = 1 - iou + v + eps;
    double alpha = den > 0 ? v / den : 0.0;
    return diou - alpha * v;
}

#endif
