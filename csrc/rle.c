/*
 * rle.c -- COCO run-length encoding of binary masks.
 *
 * An RLE is an h x w image, read column by column (COCO's column-major order), as
 * alternating runs of 0s and 1s starting with 0s: counts c0, c1, ... (c0 may be 0).
 * Every function here reproduces pycocotools' maskApi.c arithmetic, including its
 * 32-bit unsigned areas, intersections and box coordinates and its polygon
 * rasterisation (points scaled by 5, boundary walked with rounding, downsampled to the
 * pixel grid), so results are bit-identical to pycocotools.mask. Where maskApi.c has
 * undefined behaviour on malformed input (reads past a string, divides by a zero
 * height, writes past a buffer), these functions stop and report instead.
 *
 * Memory: callers provide the output counts (capacity from the *_bound functions) and
 * scratch; only fa_rle_merge of three or more masks allocates (one block, checked).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastap.h"

/* (int)v as x86-64's cvttsd2si computes it, which is what pycocotools' casts compile
 * to: truncation toward zero, and INT_MIN for NaN and out-of-range values (a polygon
 * with a repeated vertex divides 0 by 0 there). */
static int trunc_int(double v)
{
    if (!(v > -2147483649.0 && v < 2147483648.0))
        return INT_MIN;
    return (int)v;
}

static uint32_t umin32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static uint32_t umax32(uint32_t a, uint32_t b) { return a > b ? a : b; }

int64_t fa_rle_encode(const uint8_t *mask, int64_t h, int64_t w, uint32_t *cnts)
{
    const int64_t a = h * w;
    int64_t k = 0;
    uint32_t c = 0;
    uint8_t p = 0;
    for (int64_t j = 0; j < a; j++) {
        uint8_t v = mask[j] != 0;
        if (v != p) {
            cnts[k++] = c;
            c = 0;
            p = v;
        }
        c++;
    }
    cnts[k++] = c;
    return k;
}

int fa_rle_decode(const fa_rle *r, uint8_t *mask)
{
    const uint64_t total = (uint64_t)r->h * (uint64_t)r->w;
    uint64_t pos = 0;
    uint8_t v = 0;
    for (int64_t j = 0; j < r->m; j++) {
        uint64_t c = r->cnts[j];
        if (c > total - pos)
            return FA_EINVAL;
        memset(mask + pos, v, (size_t)c);
        pos += c;
        v = !v;
    }
    if (pos != total)
        return FA_EINVAL;
    return FA_OK;
}

uint64_t fa_rle_area(const fa_rle *r)
{
    uint32_t a = 0;     /* pycocotools: a uint sum */
    for (int64_t j = 1; j < r->m; j += 2)
        a += r->cnts[j];
    return a;
}

/* a / h for 32-bit a by one multiplication (Lemire, Kaser & Kurz, "Faster remainder
 * by direct computation", 2019): exact for every 32-bit numerator with M = ceil(2^64 / h). */
#if defined(__SIZEOF_INT128__)
typedef struct { uint64_t M; uint32_t h; } fa_div32;
static fa_div32 div32_init(uint32_t h) { fa_div32 d; d.M = UINT64_MAX / h + 1; d.h = h; return d; }
static uint32_t div32(const fa_div32 *d, uint32_t a)
{
    return (uint32_t)(((__uint128_t)d->M * a) >> 64);
}
#else
typedef struct { uint32_t h; } fa_div32;
static fa_div32 div32_init(uint32_t h) { fa_div32 d; d.h = h; return d; }
static uint32_t div32(const fa_div32 *d, uint32_t a) { return a / d->h; }
#endif

void fa_rle_to_bbox(const fa_rle *r, double *bb)
{
    const uint32_t h = (uint32_t)r->h, w = (uint32_t)r->w;
    const int64_t m = (r->m / 2) * 2;
    uint32_t xs = w, ys = h, xe = 0, ye = 0, cc = 0;
    if (m == 0 || h == 0) {     /* h == 0: pycocotools divides by zero */
        bb[0] = bb[1] = bb[2] = bb[3] = 0;
        return;
    }
    const fa_div32 dh = h > 1 ? div32_init(h) : div32_init(2);
    for (int64_t j = 0; j < m; j++) {
        const uint32_t start = cc;
        cc += r->cnts[j];
        if (j % 2 == 0 || r->cnts[j] == 0)
            continue;
        /* pycocotools: y = p % h, x = (p - y) / h, for the run's first and last pixel */
        const uint32_t x0 = h > 1 ? div32(&dh, start) : start, y0 = start - x0 * h;
        const uint32_t x1 = h > 1 ? div32(&dh, cc - 1) : cc - 1, y1 = (cc - 1) - x1 * h;
        xs = umin32(xs, x0);
        xe = umax32(xe, x1);
        if (x0 < x1) {          /* the run crosses a column: full height */
            ys = 0;
            ye = h - 1;
        } else {
            ys = umin32(ys, y0);
            ye = umax32(ye, y1);
        }
    }
    /* in uint32, as pycocotools (xe - xs + 1 wraps when no run was non-empty) */
    bb[0] = xs;
    bb[2] = (uint32_t)(xe - xs + 1);
    bb[1] = ys;
    bb[3] = (uint32_t)(ye - ys + 1);
}

/* ---------------------------------------------------------------------------------- */
/* polygons                                                                           */
/* ---------------------------------------------------------------------------------- */

#define FA_POLY_SCALE 5.0

/* Scaled integer vertices and the number of points on the upsampled boundary. */
static int64_t poly_points(const double *xy, int64_t k, int *x, int *y)
{
    int64_t m = 0;
    for (int64_t j = 0; j < k; j++) {
        x[j] = trunc_int(FA_POLY_SCALE * xy[2 * j] + .5);
        y[j] = trunc_int(FA_POLY_SCALE * xy[2 * j + 1] + .5);
    }
    x[k] = x[0];
    y[k] = y[0];
    for (int64_t j = 0; j < k; j++) {
        /* pycocotools: umax(abs(dx), abs(dy)) + 1, in unsigned int */
        uint32_t dx = (uint32_t)abs(x[j] - x[j + 1]), dy = (uint32_t)abs(y[j] - y[j + 1]);
        m += (int64_t)umax32(dx, dy) + 1;
    }
    return m;
}

static int64_t poly_upsampled(const double *xy, int64_t k)
{
    int64_t m = 0;
    for (int64_t j = 0; j < k; j++) {
        int x0 = trunc_int(FA_POLY_SCALE * xy[2 * j] + .5);
        int y0 = trunc_int(FA_POLY_SCALE * xy[2 * j + 1] + .5);
        int64_t n = (j + 1 < k) ? j + 1 : 0;
        int x1 = trunc_int(FA_POLY_SCALE * xy[2 * n] + .5);
        int y1 = trunc_int(FA_POLY_SCALE * xy[2 * n + 1] + .5);
        uint32_t dx = (uint32_t)abs(x0 - x1), dy = (uint32_t)abs(y0 - y1);
        m += (int64_t)umax32(dx, dy) + 1;
    }
    return m;
}

static size_t align8(size_t x) { return (x + 7) & ~(size_t)7; }

int64_t fa_rle_poly_counts_bound(const double *xy, int64_t k, int64_t h, int64_t w)
{
    (void)h;
    (void)w;
    if (k <= 0)
        return 2;
    return poly_upsampled(xy, k) + 2;
}

size_t fa_rle_poly_scratch_bytes(const double *xy, int64_t k, int64_t h, int64_t w)
{
    (void)h;
    (void)w;
    if (k <= 0)
        return 16;
    const size_t m = (size_t)poly_upsampled(xy, k);
    return 2 * align8((size_t)(k + 1) * sizeof(int))     /* vertices */
         + 2 * align8(m * sizeof(int))                    /* column crossings x, y */
         + 2 * align8((m + 1) * sizeof(uint32_t))         /* positions + radix tmp */
         + 16;
}

/* Ascending LSD radix sort of n uint32 keys (8-bit digits; passes whose digit is the
 * same for every key are skipped). tmp: n entries. */
static void radix_sort_u32(uint32_t *a, uint32_t *tmp, int64_t n)
{
    if (n <= 48) {              /* small: insertion sort */
        for (int64_t i = 1; i < n; i++) {
            const uint32_t key = a[i];
            int64_t j = i - 1;
            while (j >= 0 && a[j] > key) {
                a[j + 1] = a[j];
                j--;
            }
            a[j + 1] = key;
        }
        return;
    }
    uint32_t or_ = 0, and_ = 0xFFFFFFFFu;
    for (int64_t i = 0; i < n; i++) {
        or_ |= a[i];
        and_ &= a[i];
    }
    for (int shift = 0; shift < 32; shift += 8) {
        if ((((or_ ^ and_) >> shift) & 0xFFu) == 0)
            continue;           /* this digit is the same everywhere */
        int64_t count[257];
        memset(count, 0, sizeof count);
        for (int64_t i = 0; i < n; i++)
            count[((a[i] >> shift) & 0xFFu) + 1]++;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (int64_t i = 0; i < n; i++)
            tmp[count[(a[i] >> shift) & 0xFFu]++] = a[i];
        memcpy(a, tmp, (size_t)n * sizeof(uint32_t));
    }
}

int64_t fa_rle_from_poly(const double *xy, int64_t k, int64_t h, int64_t w, void *scratch,
                         uint32_t *cnts)
{
    if (k <= 0) {               /* no vertices: pycocotools gives the empty mask */
        cnts[0] = (uint32_t)(h * w);
        return 1;
    }
    char *cur = (char *)scratch;
    int *x = (int *)cur;
    cur += align8((size_t)(k + 1) * sizeof(int));
    int *y = (int *)cur;
    cur += align8((size_t)(k + 1) * sizeof(int));
    const int64_t m_up = poly_points(xy, k, x, y);
    int *px = (int *)cur;
    cur += align8((size_t)m_up * sizeof(int));
    int *py = (int *)cur;
    cur += align8((size_t)m_up * sizeof(int));
    uint32_t *a = (uint32_t *)cur;
    cur += align8((size_t)(m_up + 1) * sizeof(uint32_t));
    uint32_t *tmp = (uint32_t *)cur;

    /* Upsample every edge (each integer step along its longer axis, both ends included)
     * and keep, on the fly, the points where the boundary crosses a pixel column's
     * centre, snapped to the grid: pycocotools builds the full point list first and then
     * filters it; this is the same walk without the list. Its test
     * floor((x + .5) / 5 - .5) == x' holds exactly when x == 5 x' + 2 (for these integer x
     * the double arithmetic is exact), which is checked with integers here. */
    const double wmax = (double)(uint64_t)(w - 1), hmax = (double)(uint64_t)h;  /* siz arithmetic */
    int64_t m = 0;
    int pu = 0, pv = 0, have_prev = 0;
    for (int64_t j = 0; j < k; j++) {
        int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
        const int dx = abs(xe - xs), dy = abs(ys - ye);
        const int flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if (flip) {
            int t = xs; xs = xe; xe = t;
            t = ys; ys = ye; ye = t;
        }
        const double s = dx >= dy ? (double)(ye - ys) / dx : (double)(xe - xs) / dy;
        const int n_steps = dx >= dy ? dx : dy;
        for (int d = 0; d <= n_steps; d++) {
            int cu, cv;
            if (dx >= dy) {
                const int t = flip ? dx - d : d;
                cu = t + xs;
                cv = trunc_int(ys + s * t + .5);
            } else {
                const int t = flip ? dy - d : d;
                cv = t + ys;
                cu = trunc_int(xs + s * t + .5);
            }
            if (have_prev && cu != pu) {
                const int xi = cu < pu ? cu : cu - 1;
                const int r = (int)(((int64_t)xi - 2) % 5);
                if (r == 0) {
                    const double xd = (double)(((int64_t)xi - 2) / 5);
                    if (!(xd < 0 || xd > wmax)) {
                        double yd = (double)(cv < pv ? cv : pv);
                        yd = (yd + .5) / FA_POLY_SCALE - .5;
                        if (yd < 0)
                            yd = 0;
                        else if (yd > hmax)
                            yd = hmax;
                        yd = ceil(yd);
                        px[m] = (int)xd;
                        py[m] = (int)yd;
                        m++;
                    }
                }
            }
            pu = cu;
            pv = cv;
            have_prev = 1;
        }
    }
    /* positions in column-major order, sorted; the runs are their differences */
    int64_t n = m;
    for (int64_t j = 0; j < n; j++)
        a[j] = (uint32_t)(px[j] * (int)h + py[j]);
    a[n++] = (uint32_t)(h * w);
    radix_sort_u32(a, tmp, n);
    uint32_t prev = 0;
    for (int64_t j = 0; j < n; j++) {
        const uint32_t t = a[j];
        a[j] -= prev;
        prev = t;
    }
    /* zero-length runs fold their successor into the previous count */
    int64_t out = 0, j = 0;
    cnts[out++] = a[j++];
    while (j < n) {
        if (a[j] > 0) {
            cnts[out++] = a[j++];
        } else {
            j++;
            if (j < n)
                cnts[out - 1] += a[j++];
        }
    }
    return out;
}

int64_t fa_rle_from_bbox(const double *bb, int64_t h, int64_t w, uint32_t *cnts)
{
    const double xs = bb[0], xe = xs + bb[2], ys = bb[1], ye = ys + bb[3];
    const double xy[8] = {xs, ys, xs, ye, xe, ye, xe, ys};
    const int64_t cap = fa_rle_poly_scratch_bytes(xy, 4, h, w);
    char stack[4096];
    void *scratch = (size_t)cap <= sizeof stack ? (void *)stack : malloc((size_t)cap);
    if (!scratch)
        return FA_ENOMEM;
    const int64_t m = fa_rle_from_poly(xy, 4, h, w, scratch, cnts);
    if (scratch != (void *)stack)
        free(scratch);
    return m;
}

int64_t fa_rle_bbox_counts_bound(const double *bb, int64_t h, int64_t w)
{
    const double xs = bb[0], xe = xs + bb[2], ys = bb[1], ye = ys + bb[3];
    const double xy[8] = {xs, ys, xs, ye, xe, ye, xe, ys};
    return fa_rle_poly_counts_bound(xy, 4, h, w);
}

/* ---------------------------------------------------------------------------------- */
/* merge, IoU                                                                         */
/* ---------------------------------------------------------------------------------- */

int64_t fa_rle_merge_bound(const fa_rle *rs, int64_t n)
{
    int64_t m = 1;
    for (int64_t i = 0; i < n; i++)
        m += rs[i].m;
    return m;
}

/* One step of pycocotools' rleMerge: A (ma counts) with B into out; returns the count. */
static int64_t merge2(const uint32_t *A, int64_t ma, const uint32_t *B, int64_t mb, int intersect,
                      uint32_t *out)
{
    uint32_t ca = ma ? A[0] : 0, cb = mb ? B[0] : 0, c, cc = 0, ct = 1;
    int v = 0, va = 0, vb = 0, vp;
    int64_t a = 1, b = 1, m = 0;
    while (ct > 0) {
        c = umin32(ca, cb);
        cc += c;
        ct = 0;
        ca -= c;
        if (!ca && a < ma) {
            ca = A[a++];
            va = !va;
        }
        ct += ca;
        cb -= c;
        if (!cb && b < mb) {
            cb = B[b++];
            vb = !vb;
        }
        ct += cb;
        vp = v;
        v = intersect ? (va && vb) : (va || vb);
        if (v != vp || ct == 0) {
            out[m++] = cc;
            cc = 0;
        }
    }
    return m;
}

int64_t fa_rle_merge(const fa_rle *rs, int64_t n, int intersect, uint32_t *cnts)
{
    if (n <= 0)
        return 0;
    if (n == 1) {
        memcpy(cnts, rs[0].cnts, (size_t)rs[0].m * sizeof(uint32_t));
        return rs[0].m;
    }
    if (n == 2)
        return merge2(rs[0].cnts, rs[0].m, rs[1].cnts, rs[1].m, intersect, cnts);
    /* sequentially, as pycocotools (its result keeps zero-length runs of odd inputs) */
    const int64_t cap = fa_rle_merge_bound(rs, n);
    uint32_t *tmp = (uint32_t *)malloc((size_t)cap * sizeof(uint32_t));
    if (!tmp)
        return FA_ENOMEM;
    int64_t m = merge2(rs[0].cnts, rs[0].m, rs[1].cnts, rs[1].m, intersect, tmp);
    for (int64_t i = 2; i < n; i++) {
        uint32_t *dst = (i % 2 == 0) ? cnts : tmp, *src = (i % 2 == 0) ? tmp : cnts;
        m = merge2(src, m, rs[i].cnts, rs[i].m, intersect, dst);
    }
    if ((n - 1) % 2 == 1)       /* the last result is in tmp */
        memcpy(cnts, tmp, (size_t)m * sizeof(uint32_t));
    free(tmp);
    return m;
}

void fa_rle_iou(const fa_rle *dt, const double *dt_bb, int64_t m, const fa_rle *gt,
                const double *gt_bb, int64_t n, const uint8_t *iscrowd, double *out)
{
    double dbb_one[4], gbb_one[4];
    for (int64_t d = 0; d < m; d++) {
        const double *D = dt_bb ? dt_bb + 4 * d : (fa_rle_to_bbox(&dt[d], dbb_one), dbb_one);
        const double da = D[2] * D[3];
        for (int64_t g = 0; g < n; g++) {
            const double *G = gt_bb ? gt_bb + 4 * g : (fa_rle_to_bbox(&gt[g], gbb_one), gbb_one);
            const int crowd = iscrowd != NULL && iscrowd[g];
            /* pycocotools: the boxes' IoU first (fmin / fmax, crowd rule) */
            double o = 0.0;
            const double ww = fmin(D[2] + D[0], G[2] + G[0]) - fmax(D[0], G[0]);
            if (ww > 0) {
                const double hh = fmin(D[3] + D[1], G[3] + G[1]) - fmax(D[1], G[1]);
                if (hh > 0) {
                    const double i = ww * hh, u = crowd ? da : da + G[2] * G[3] - i;
                    o = i / u;
                }
            }
            if (o > 0) {
                if (dt[d].h != gt[g].h || dt[d].w != gt[g].w) {
                    o = -1;
                } else {
                    const uint32_t *A = dt[d].cnts, *B = gt[g].cnts;
                    const int64_t ka = dt[d].m, kb = gt[g].m;
                    uint32_t ca = ka ? A[0] : 0, cb = kb ? B[0] : 0, c, ct = 1, inter = 0, uni = 0;
                    int va = 0, vb = 0;
                    int64_t a = 1, b = 1;
                    while (ct > 0) {
                        c = umin32(ca, cb);
                        if (va || vb) {
                            uni += c;
                            if (va && vb)
                                inter += c;
                        }
                        ct = 0;
                        ca -= c;
                        if (!ca && a < ka) {
                            ca = A[a++];
                            va = !va;
                        }
                        ct += ca;
                        cb -= c;
                        if (!cb && b < kb) {
                            cb = B[b++];
                            vb = !vb;
                        }
                        ct += cb;
                    }
                    if (inter == 0)
                        uni = 1;
                    else if (crowd)
                        uni = (uint32_t)fa_rle_area(&dt[d]);
                    o = (double)inter / (double)uni;
                }
            }
            out[d * n + g] = o;
        }
    }
}

/* ---------------------------------------------------------------------------------- */
/* compressed strings                                                                 */
/* ---------------------------------------------------------------------------------- */

int64_t fa_rle_string_bound(const fa_rle *r)
{
    return 7 * r->m + 1;      /* a 33-bit signed delta takes at most 7 characters */
}

int64_t fa_rle_to_string(const fa_rle *r, char *s)
{
    int64_t p = 0;
    for (int64_t i = 0; i < r->m; i++) {
        int64_t x = (int64_t)r->cnts[i];
        if (i > 2)
            x -= (int64_t)r->cnts[i - 2];
        int more = 1;
        while (more) {
            char c = (char)(x & 0x1f);
            x >>= 5;            /* arithmetic shift, as pycocotools' long */
            more = (c & 0x10) ? x != -1 : x != 0;
            if (more)
                c |= 0x20;
            s[p++] = (char)(c + 48);
        }
    }
    s[p] = 0;
    return p;
}

int fa_rle_from_string(const char *s, int64_t len, int64_t h, int64_t w, uint32_t *cnts,
                       int64_t cap, int64_t *m_out, char *msg, size_t msg_len)
{
    int64_t m = 0, p = 0;
    uint64_t sum = 0;
    const uint64_t total = (uint64_t)h * (uint64_t)w;
    *m_out = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (p < len) {
        int64_t x = 0;
        int k = 0;
        unsigned c;
        do {
            if (p >= len) {
                if (msg) snprintf(msg, msg_len, "compressed RLE counts end in the middle of a value (byte %lld)",
                                  (long long)p);
                return FA_EPARSE;
            }
            c = (unsigned)u[p] - 48u;
            if (c > 63u || k >= 7) {
                if (msg) {
                    if (c > 63u)
                        snprintf(msg, msg_len, "compressed RLE counts hold a character outside '0'..'o' "
                                 "(code %d at byte %lld)", (int)u[p], (long long)p);
                    else
                        snprintf(msg, msg_len, "compressed RLE counts hold a value longer than 7 characters "
                                 "(byte %lld)", (long long)p);
                }
                return FA_EPARSE;
            }
            x |= (int64_t)(c & 0x1f) << (5 * k);
            p++;
            k++;
        } while (c & 0x20);
        if (c & 0x10)
            x -= (int64_t)1 << (5 * k);     /* sign extension: x | -(1 << 5k) for x < 2^5k */
        if (m > 2)
            x += (int64_t)cnts[m - 2];
        if (x < 0 || x > (int64_t)UINT32_MAX) {
            if (msg) snprintf(msg, msg_len, "compressed RLE counts decode to an invalid run length %lld "
                              "(count %lld)", (long long)x, (long long)m);
            return FA_EPARSE;
        }
        if (m >= cap) {
            if (msg) snprintf(msg, msg_len, "more counts than the capacity %lld", (long long)cap);
            return FA_EINVAL;
        }
        cnts[m++] = (uint32_t)x;
        sum += (uint64_t)x;
        if (sum > total) {
            if (msg) snprintf(msg, msg_len, "RLE counts overrun the image: they reach %llu, the image has "
                              "%lld x %lld = %llu pixels", (unsigned long long)sum, (long long)h,
                              (long long)w, (unsigned long long)total);
            return FA_EPARSE;
        }
    }
    if (sum != total) {
        if (msg) snprintf(msg, msg_len, "RLE counts sum to %llu, the image has %lld x %lld = %llu pixels",
                          (unsigned long long)sum, (long long)h, (long long)w, (unsigned long long)total);
        return FA_EPARSE;
    }
    *m_out = m;
    return FA_OK;
}
