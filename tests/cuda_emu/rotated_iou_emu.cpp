/*
 * rotated_iou_emu.cpp -- csrc/cuda/rotated_iou.cu compiled as C++ over cuda_emu.h, as a
 * shared library for tests/test_rotated.py (ctypes). Build:
 *   g++ -std=c++17 -O1 -ffp-contract=off -pthread -shared -fPIC -Itests/cuda_emu -Icsrc \
 *       -Icsrc/cuda tests/cuda_emu/rotated_iou_emu.cpp -o rotated_iou_emu.so
 * The caller (Python) plans the launches exactly as fastap.rotated does and passes the grid.
 */
#include <math.h>

#include "cuda_emu.h"
#include "rotated_iou.cu"

extern "C" int fa_emu_rot_constant(int which)
{
    switch (which) {
    case 0: return FA_RCU_BX;
    case 1: return FA_RCU_BY;
    case 2: return FA_RCU_PREP;
    case 3: return FA_ROT_RECORD;
    default: return -1;
    }
}

/* One launch of a record kernel: quad != 0 for fa_rot_quad_records. Returns 0, or -1 for
 * a block that is not the kernel's. */
extern "C" int fa_emu_rot_records(int quad, unsigned gx, unsigned bx, const double *boxes, long long n,
                                  int radians, double *rec)
{
    if (bx != FA_RCU_PREP) return -1;
    dim3 grid(gx), block(bx);
    if (quad)
        fa_emu::launch(grid, block, [&] { fa_rot_quad_records(boxes, n, rec); });
    else
        fa_emu::launch(grid, block, [&] { fa_rot_rbox_records(boxes, n, radians, rec); });
    return 0;
}

/* One launch of fa_rot_iou with grid (gx, gy) and block (bx, by). */
extern "C" int fa_emu_rot_iou(unsigned gx, unsigned gy, unsigned bx, unsigned by, const double *ra,
                              long long n, const double *rb, long long m, double *out, long long ld)
{
    if (bx != FA_RCU_BX || by != FA_RCU_BY) return -1;
    dim3 grid(gx, gy), block(bx, by);
    fa_emu::launch(grid, block, [&] { fa_rot_iou(ra, n, rb, m, out, ld); });
    return 0;
}
