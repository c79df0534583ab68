/*
 * box_iou_emu.cpp -- csrc/cuda/box_iou.cu compiled as C++ over cuda_emu.h, as a shared
 * library for tests/test_cuda.py (ctypes). Build:
 *   g++ -std=c++17 -O1 -ffp-contract=off -pthread -shared -fPIC -Itests/cuda_emu -Icsrc \
 *       -Icsrc/cuda tests/cuda_emu/box_iou_emu.cpp -o box_iou_emu.so
 * The caller (Python) plans the launches exactly as fastap.cuda does and passes the grid.
 */
#include "cuda_emu.h"
#include "box_iou.cu"

extern "C" int fa_emu_constant(int which)
{
    switch (which) {
    case 0: return FA_CU_BX;
    case 1: return FA_CU_BY;
    case 2: return FA_CU_TILE_N;
    case 3: return FA_CU_TILE_M;
    case 4: return FA_CU_ALIGNED_BLOCK;
    default: return -1;
    }
}

/* One launch of kernel `xywh`/`f32` with grid (gx, gy) and block (bx, by); the
 * arguments are the kernel's. Returns 0, or -1 for a block that is not the kernel's. */
extern "C" int fa_emu_box_iou(int xywh, int f32, unsigned gx, unsigned gy, unsigned bx, unsigned by,
                              const void *a, long long n, const void *b, long long m,
                              const unsigned char *crowd, int has_crowd, int centre, double one,
                              void *out, long long ld)
{
    if (bx != FA_CU_BX || by != FA_CU_BY) return -1;
    dim3 grid(gx, gy), block(bx, by);
    if (f32) {
        const float *fa = (const float *)a, *fb = (const float *)b;
        float *fo = (float *)out;
        if (xywh)
            fa_emu::launch(grid, block, [&] { fa_box_iou_xywh_f32(fa, n, fb, m, crowd, has_crowd, centre, one, fo, ld); });
        else
            fa_emu::launch(grid, block, [&] { fa_box_iou_xyxy_f32(fa, n, fb, m, crowd, has_crowd, centre, one, fo, ld); });
    } else {
        const double *da = (const double *)a, *db = (const double *)b;
        double *dout = (double *)out;
        if (xywh)
            fa_emu::launch(grid, block, [&] { fa_box_iou_xywh_f64(da, n, db, m, crowd, has_crowd, centre, one, dout, ld); });
        else
            fa_emu::launch(grid, block, [&] { fa_box_iou_xyxy_f64(da, n, db, m, crowd, has_crowd, centre, one, dout, ld); });
    }
    return 0;
}

/* One launch of fa_box_iou_family_f32/_f64. Returns 0, or -1 for a wrong block. */
extern "C" int fa_emu_box_iou_family(int f32, unsigned gx, unsigned gy, unsigned bx, unsigned by,
                                     const void *a, long long n, const void *b, long long m,
                                     int layout, int kind, double eps, void *out, long long ld)
{
    if (bx != FA_CU_BX || by != FA_CU_BY) return -1;
    dim3 grid(gx, gy), block(bx, by);
    if (f32)
        fa_emu::launch(grid, block, [&] {
            fa_box_iou_family_f32((const float *)a, n, (const float *)b, m, layout, kind, eps,
                                  (float *)out, ld); });
    else
        fa_emu::launch(grid, block, [&] {
            fa_box_iou_family_f64((const double *)a, n, (const double *)b, m, layout, kind, eps,
                                  (double *)out, ld); });
    return 0;
}

/* One launch of fa_box_iou_aligned_f32/_f64 (1-d grid). */
extern "C" int fa_emu_box_iou_aligned(int f32, unsigned gx, unsigned bx, const void *a, const void *b,
                                      long long n, const unsigned char *crowd, int has_crowd,
                                      int layout, int kind, double eps, void *out)
{
    if (bx != FA_CU_ALIGNED_BLOCK) return -1;
    dim3 grid(gx), block(bx);
    if (f32)
        fa_emu::launch(grid, block, [&] {
            fa_box_iou_aligned_f32((const float *)a, (const float *)b, n, crowd, has_crowd, layout,
                                   kind, eps, (float *)out); });
    else
        fa_emu::launch(grid, block, [&] {
            fa_box_iou_aligned_f64((const double *)a, (const double *)b, n, crowd, has_crowd, layout,
                                   kind, eps, (double *)out); });
    return 0;
}
