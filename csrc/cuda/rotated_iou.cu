/*
 * rotated_iou.cu -- pairwise IoU of rotated boxes and quadrilaterals on the GPU, n x m.
 *
 * The geometry is rotated_pair.h, which the C kernel (rotated.c) includes too: the same
 * records (FA_ROT_RECORD doubles per box: polygon relative to a reference point, area,
 * bounding box, convexity flag) and the same per-pair clipping, in double.
 *
 * Kernels (extern "C" names), all on float64 arrays, row-major:
 *   fa_rot_rbox_records(boxes [n][5], n, radians, rec [n][FA_ROT_RECORD])
 *   fa_rot_quad_records(quads [n][8], n, rec [n][FA_ROT_RECORD]): rec[15] flags a quad
 *     that is not convex in its given vertex order
 *     (both: one thread per box, 1-d grid of FA_RCU_PREP threads per block)
 *   fa_rot_iou(ra [n][R], n, rb [m][R], m, out [n][ld], ld): a block of FA_RCU_BX x
 *     FA_RCU_BY threads computes an FA_RCU_BY x FA_RCU_BX tile of out, one pair per
 *     thread (grid.x: column tiles, grid.y: row tiles; the host splits launches so that
 *     grid.y stays below 65536). The tile's records are staged in shared memory; a warp
 *     shares threadIdx.y, so its stores are 32 consecutive elements of one row.
 *
 * Compile with --fmad=false, IEEE division and no flush-to-zero, as box_iou.cu: the
 * clipping then rounds as the C path (built with -ffp-contract=off) does. Quadrilateral
 * results are bitwise the CPU's; rotated boxes go through sin/cos, whose CUDA versions
 * may differ from the host's C library in the last bit, so their IoUs agree with the
 * CPU's to rounding (about 1e-15 relative), not bit for bit.
 *
 * No headers besides rotated_pair.h (NVRTC has no host C library headers; sin, cos,
 * fmod and floor are CUDA built-ins): fastap's loader inlines it before handing the
 * source to NVRTC; nvcc and the CPU emulation test use -I.
 */
#include "rotated_pair.h"

#ifndef FA_RCU_BX
#define FA_RCU_BX 32       /* threads per block along columns: one warp */
#endif
#ifndef FA_RCU_BY
#define FA_RCU_BY 8        /* threads per block along rows */
#endif
#ifndef FA_RCU_PREP
#define FA_RCU_PREP 128    /* threads per block of the record kernels */
#endif

typedef long long fa_rcu_i64;

extern "C" __global__ void __launch_bounds__(FA_RCU_PREP)
fa_rot_rbox_records(const double *boxes, fa_rcu_i64 n, int radians, double *rec)
{
    fa_rcu_i64 i = (fa_rcu_i64)blockIdx.x * FA_RCU_PREP + threadIdx.x;
    if (i < n) fa_rot_rbox_record(boxes + 5 * i, radians, rec + FA_ROT_RECORD * i);
}

extern "C" __global__ void __launch_bounds__(FA_RCU_PREP)
fa_rot_quad_records(const double *quads, fa_rcu_i64 n, double *rec)
{
    fa_rcu_i64 i = (fa_rcu_i64)blockIdx.x * FA_RCU_PREP + threadIdx.x;
    if (i < n) fa_rot_quad_record(quads + 8 * i, rec + FA_ROT_RECORD * i);
}

extern "C" __global__ void __launch_bounds__(FA_RCU_BX * FA_RCU_BY)
fa_rot_iou(const double *ra, fa_rcu_i64 n, const double *rb, fa_rcu_i64 m, double *out, fa_rcu_i64 ld)
{
    __shared__ double s_a[FA_RCU_BY][FA_ROT_RECORD];
    __shared__ double s_b[FA_RCU_BX][FA_ROT_RECORD];
    const int tx = threadIdx.x, ty = threadIdx.y, t = ty * FA_RCU_BX + tx;
    const fa_rcu_i64 row0 = (fa_rcu_i64)blockIdx.y * FA_RCU_BY;
    const fa_rcu_i64 col0 = (fa_rcu_i64)blockIdx.x * FA_RCU_BX;
    /* coalesced: consecutive threads read consecutive doubles of the tile's records */
    for (int k = t; k < FA_RCU_BY * FA_ROT_RECORD; k += FA_RCU_BX * FA_RCU_BY) {
        int r = k / FA_ROT_RECORD;
        if (row0 + r < n) s_a[r][k % FA_ROT_RECORD] = ra[row0 * FA_ROT_RECORD + k];
    }
    for (int k = t; k < FA_RCU_BX * FA_ROT_RECORD; k += FA_RCU_BX * FA_RCU_BY) {
        int c = k / FA_ROT_RECORD;
        if (col0 + c < m) s_b[c][k % FA_ROT_RECORD] = rb[col0 * FA_ROT_RECORD + k];
    }
    __syncthreads();
    if (row0 + ty < n && col0 + tx < m)
        out[(row0 + ty) * ld + col0 + tx] = fa_rot_iou_pair(s_a[ty], s_b[tx]);
}
