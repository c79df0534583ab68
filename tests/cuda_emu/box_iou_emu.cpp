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
    case 5: return FA_CA_THREADS;
    case 6: return FA_CA_GTS;
    case 7: return FA_CA_CHUNK;
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

/* One launch of an assignment kernel: which 0 fa_assign_rows, 1 fa_assign_cols, 2
 * fa_assign_reduce, 3 fa_assign_final (f32: the float kernel); the kernel's arguments packed
 * in order: pointers p, integers iv, doubles dv (see tests/cuda_emu/fake_cupy.py). Returns
 * 0, or -1 for a block that is not the kernel's or an unknown kernel. */
extern "C" int fa_emu_assign(int which, int f32, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                             void *const *p, const long long *iv, const double *dv)
{
    dim3 grid(gx, gy, gz), block(bx);
    typedef const fa_cu_i64 *I;
    typedef fa_cu_i64 *IO;
    if (bx != (which == 1 ? FA_CA_GTS : FA_CA_THREADS)) return -1;
    if (which == 2) {
        fa_emu::launch(grid, block, [&] {
            fa_assign_reduce((const double *)p[0], (I)p[1], iv[0], iv[1], (double *)p[2], (IO)p[3]); });
        return 0;
    }
#define FA_EMU_ASSIGN(T, SUFFIX)                                                                   \
    if (which == 0)                                                                                \
        fa_emu::launch(grid, block, [&] {                                                          \
            fa_assign_rows_##SUFFIX((const T *)p[0], (I)p[1], iv[0], (const T *)p[2], (I)p[3],      \
                                    (int)iv[1], iv[2], (double *)p[4], (IO)p[5]); });               \
    else if (which == 1)                                                                           \
        fa_emu::launch(grid, block, [&] {                                                          \
            fa_assign_cols_##SUFFIX((const T *)p[0], (I)p[1], iv[0], (const T *)p[2], (I)p[3],      \
                                    (int)iv[1], iv[2], iv[3], iv[4], (double *)p[4], (IO)p[5]); }); \
    else if (which == 3)                                                                           \
        fa_emu::launch(grid, block, [&] {                                                          \
            fa_assign_final_##SUFFIX((const T *)p[0], (I)p[1], iv[0], (const T *)p[2], (I)p[3],     \
                                     (int)iv[1], iv[2], (const double *)p[4], (I)p[5],              \
                                     (const double *)p[6], (I)p[7], (int)iv[3], dv[0], dv[1],       \
                                     (IO)p[8], (T *)p[9]); });                                      \
    else                                                                                           \
        return -1;
    if (f32) {
        FA_EMU_ASSIGN(float, f32)
    } else {
        FA_EMU_ASSIGN(double, f64)
    }
#undef FA_EMU_ASSIGN
    return 0;
}
