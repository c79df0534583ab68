/*
 * rle.c -- COCO run-length encoding (the arithmetic of pycocotools' maskApi.c).
 *
 * Layout: a mask is h*w bytes, column-major (pixel (y, x) at x*h + y); an RLE is the
 * lengths of its alternating runs of 0s and 1s, starting with 0s, as uint32 (fa_rle).
 * Every function works on one RLE (or one pair) with caller-owned buffers, so the
 * Cython layer splits batches across threads by object or by row of pairs.
 *
 * Where pycocotools' C has undefined or endless behaviour on malformed counts (counts
 * summing to different totals, m == 0) these functions stop at the end of the buffers
 * instead; on well-formed input each step below is the reference's, including its
 * 32-bit unsigned counters (`uint`), so results are bit-identical.
 */
#include "fastap.h"
#include "iou_pair.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* pycocotools rasterises polygons on a grid 5 times finer than the pixels. */
#define FA_POLY_SCALE 5.0
/* Scaled coordinates must stay well inside int: edges take differences of them. */
#define FA_POLY_LIMIT 1073741824.0 /* 2^30 */

static inline uint32_t u32min(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t u32max(uint32_t a, uint32_t b) { return a > b ? a : b; }

/* ---------------------------------------------------------------------------------- */
/* encode / decode / area / bbox                                                        */
/* ---------------------------------------------------------------------------------- */

#define FA_ONES8 0x0101010101010101ULL
#define FA_HIGHS8 0x8080808080808080ULL

int64_t fa_rle_encode(const uint8_t *mask, int64_t h, int64_t w, uint32_t *cnts)
{
    int64_t n = h > 0 && w > 0 ? h * w : 0, i = 0, start = 0, m = 0;
    int value = 0;
    while (i < n) {
        /* Skip whole 8-byte words of the current run, then finish byte by byte. */
        if (value == 0) {
            while (i + 8 <= n) {
                uint64_t word;
                memcpy(&word, mask + i, 8);
                if (word != 0) break;
                i += 8;
            }
            while (i < n && mask[i] == 0) i++;
        } else {
            while (i + 8 <= n) {
                uint64_t word;
                memcpy(&word, mask + i, 8);
                if (((word - FA_ONES8) & ~word & FA_HIGHS8) != 0) break; /* has a 0 byte */
                i += 8;
            }
            while (i < n && mask[i] != 0) i++;
        }
        cnts[m++] = (uint32_t)(i - start);
        start = i;
        value ^= 1;
    }
    if (m == 0) cnts[m++] = 0; /* 0-pixel mask: pycocotools emits one empty run */
    return m;
}

int fa_rle_decode(const fa_rle *r, uint8_t *mask)
{
    uint64_t n = r->h > 0 && r->w > 0 ? (uint64_t)r->h * (uint64_t)r->w : 0, pos = 0;
    int value = 0, status = FA_OK;
    for (int64_t j = 0; j < r->m; j++) {
        uint64_t c = r->cnts[j];
        if (c > n - pos) {
            memset(mask + pos, value, n - pos);
            return FA_EINVAL; /* overrun: stop at the end of the mask */
        }
        memset(mask + pos, value, c);
        pos += c;
        value ^= 1;
    }
    if (pos < n) {
        memset(mask + pos, 0, n - pos);
        status = FA_EINVAL;
    }
    return status;
}

uint64_t fa_rle_area(const fa_rle *r)
{
    uint64_t a = 0;
    for (int64_t j = 1; j < r->m; j += 2) a += r->cnts[j];
    return a;
}

/* a / h for 32-bit a by one multiplication (Lemire, Kaser & Kurz, "Faster remainder by
 * direct computation", 2019): exact for every 32-bit numerator with M = ceil(2^64 / h),
 * h >= 2. Four divisions per foreground run made rleToBbox the slowest step of reading
 * mask results. */
#if defined(__SIZEOF_INT128__)
typedef struct { uint64_t M; } fa_div32;
static inline fa_div32 div32_init(uint32_t h) { fa_div32 d; d.M = UINT64_MAX / h + 1; return d; }
static inline uint32_t div32(const fa_div32 *d, uint32_t a, uint32_t h)
{
    (void)h;
    return (uint32_t)(((__uint128_t)d->M * a) >> 64);
}
#else
typedef struct { int unused; } fa_div32;
static inline fa_div32 div32_init(uint32_t h) { fa_div32 d; (void)h; d.unused = 0; return d; }
static inline uint32_t div32(const fa_div32 *d, uint32_t a, uint32_t h) { (void)d; return a / h; }
#endif

/* One pass over the (0s, 1s) run pairs of counts c[0..m): pycocotools' rleToBbox box
 * (bb), and the counts' sum and area when asked for (sum / area non-NULL). A trailing
 * run of 0s does not count for the box. */
static inline void rle_pairs(const uint32_t *c, int64_t m, int64_t h64, int64_t w64, double *bb,
                             uint64_t *sum, uint64_t *area)
{
    const uint32_t h = (uint32_t)h64;
    const fa_div32 dh = div32_init(h >= 2 ? h : 2);
    uint64_t s = (m & 1) ? c[m - 1] : 0, a = 0;
    uint32_t cc = 0, xs = (uint32_t)w64, ys = h, xe = 0, ye = 0;
    for (int64_t j = 0; j + 1 < m; j += 2) {
        const uint32_t z = c[j], o = c[j + 1];
        s += (uint64_t)z + o;
        a += o;
        const uint32_t start = cc + z;
        cc = start + o;
        /* h == 0: only malformed counts get here (pycocotools: division by 0) */
        if (o == 0 || h == 0) continue;
        /* pycocotools: y = p % h, x = (p - y) / h for the run's first and last pixel */
        const uint32_t x0 = h >= 2 ? div32(&dh, start, h) : start, y0 = start - x0 * h;
        const uint32_t x1 = h >= 2 ? div32(&dh, cc - 1, h) : cc - 1, y1 = (cc - 1) - x1 * h;
        const int wrap = x0 < x1;       /* the run goes on in the next column: full height */
        xs = u32min(xs, x0);
        xe = u32max(xe, x1);
        ys = wrap ? 0 : u32min(ys, y0);
        ye = wrap ? h - 1 : u32max(ye, y1);
    }
    if (sum) *sum = s;
    if (area) *area = a;
    bb[0] = bb[1] = bb[2] = bb[3] = 0.0;
    if (m >= 2) {                       /* pycocotools' uint32 expressions, wrap-around included */
        bb[0] = (double)xs;
        bb[1] = (double)ys;
        bb[2] = (double)(uint32_t)(xe - xs + 1);
        bb[3] = (double)(uint32_t)(ye - ys + 1);
    }
}

void fa_rle_to_bbox(const fa_rle *r, double *bb)
{
    rle_pairs(r->cnts, r->m > 0 ? r->m : 0, r->h, r->w, bb, NULL, NULL);
}

/* ---------------------------------------------------------------------------------- */
/* polygons and boxes                                                                   */
/* ---------------------------------------------------------------------------------- */

/* (int)(5 * v + 0.5), as pycocotools rounds a vertex; 0 when out of range. */
static inline int poly_scaled(double v, int32_t *out)
{
    double s = FA_POLY_SCALE * v + 0.5;
    if (!(s > -FA_POLY_LIMIT && s < FA_POLY_LIMIT)) return 0;
    *out = (int32_t)s;
    return 1;
}

int64_t fa_rle_poly_counts_bound(const double *xy, int64_t k, int64_t h, int64_t w)
{
    (void)h;
    if (k <= 0) return 1;
    for (int64_t j = 0; j < 2 * k; j++) {
        int32_t t;
        if (!poly_scaled(xy[j], &t)) return FA_EINVAL;
    }
    /* Kept crossings of an edge lie at distinct columns in [0, w), at most one per 5
     * grid steps along x (they sit at grid positions 5*x + 2). */
    int64_t total = 1; /* the h*w sentinel */
    for (int64_t j = 0; j < k; j++) {
        int32_t x0 = 0, x1 = 0;
        int64_t jn = j + 1 < k ? j + 1 : 0;
        poly_scaled(xy[2 * j], &x0);
        poly_scaled(xy[2 * jn], &x1);
        int64_t dx = x0 > x1 ? (int64_t)x0 - x1 : (int64_t)x1 - x0;
        int64_t b = dx / 5 + 2;
        if (b > dx + 1) b = dx + 1;
        if (w > 0 && b > w) b = w;
        total += b;
    }
    return total;
}

size_t fa_rle_poly_scratch_bytes(const double *xy, int64_t k, int64_t h, int64_t w)
{
    int64_t cap = fa_rle_poly_counts_bound(xy, k, h, w);
    return cap < 0 ? 0 : (size_t)cap * sizeof(uint32_t);
}

/* End of the non-decreasing run of a[] that starts at i. */
static inline int64_t run_end(const uint32_t *a, int64_t i, int64_t n)
{
    for (i++; i < n && a[i] >= a[i - 1]; i++) {}
    return i;
}

/* Turn a[0..n) into non-decreasing runs (reversing the decreasing ones); their number,
 * counted up to `stop`. */
static int64_t make_runs(uint32_t *a, int64_t n, int64_t stop)
{
    int64_t runs = 0, i = 0;
    while (i < n && runs < stop) {
        int64_t j = i + 1;
        if (j < n && a[j] < a[i]) {
            while (j < n && a[j] <= a[j - 1]) j++;
            for (int64_t l = i, r = j - 1; l < r; l++, r--) {
                uint32_t t = a[l];
                a[l] = a[r];
                a[r] = t;
            }
        } else {
            j = run_end(a, i, n);
        }
        runs++;
        i = j;
    }
    return i < n ? stop + 1 : runs;
}

/* Column buckets of at most this many crossings are insertion-sorted (sort_by_column). */
#define FA_COLUMN_MAX 32
/* At most this many columns (a stack array of counts). */
#define FA_COLUMN_SPAN 4096

/* Ascending sort of a[0..n) by buckets of the key floor(a * inv_h) (inv_h = 1 / h in
 * double: a monotone key, whatever its rounding, so any bucket order is the values'
 * order): the columns of a polygon's crossings, each hit a few times. A counting pass,
 * a scatter into tmp, then insertion sort, whose moves stay inside the buckets. Returns
 * 0 (a unchanged) where the columns are too many for n, or one holds too many. */
static int sort_by_column(uint32_t *a, int64_t n, uint32_t *tmp, double inv_h)
{
    uint32_t lo = a[0], hi = a[0];
    int32_t count[FA_COLUMN_SPAN];
    for (int64_t i = 1; i < n; i++) {
        lo = a[i] < lo ? a[i] : lo;
        hi = a[i] > hi ? a[i] : hi;
    }
    const int64_t c0 = (int64_t)((double)lo * inv_h), nb = (int64_t)((double)hi * inv_h) - c0 + 1;
    if (nb > FA_COLUMN_SPAN || nb > 2 * n + 64)
        return 0;
    memset(count, 0, (size_t)nb * sizeof(int32_t));
    for (int64_t i = 0; i < n; i++)
        count[(int64_t)((double)a[i] * inv_h) - c0]++;
    int32_t sum = 0, most = 0;
    for (int64_t b = 0; b < nb; b++) {
        const int32_t c = count[b];
        most = c > most ? c : most;
        count[b] = sum;
        sum += c;
    }
    if (most > FA_COLUMN_MAX)
        return 0;
    for (int64_t i = 0; i < n; i++)
        tmp[count[(int64_t)((double)a[i] * inv_h) - c0]++] = a[i];
    for (int64_t i = 0; i < n; i++) {
        const uint32_t v = tmp[i];
        int64_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
    return 1;
}

/* Ascending sort of a[0..n) (values only, so any correct sort gives pycocotools'
 * qsort result), through tmp[n]. A polygon's crossings come edge by edge, each edge's
 * in order along x, so they form a few sorted runs: merged pairwise (natural merge
 * sort) when there are at most 4 of them; else by column buckets (sort_by_column, with
 * inv_h > 0); else merged when at most 32, otherwise LSD radix on bytes; insertion sort
 * when short. */
static void sort_u32(uint32_t *a, int64_t n, uint32_t *tmp, double inv_h)
{
    if (n >= 48) {
        int64_t runs = make_runs(a, n, 4);
        if (runs > 4 && inv_h > 0 && sort_by_column(a, n, tmp, inv_h))
            return;
        if (runs > 4)
            runs = make_runs(a, n, 32);
        if (runs <= 32) {
            uint32_t *src = a, *dst = tmp;
            while (runs > 1) {
                int64_t i = 0, nr = 0;
                while (i < n) {
                    int64_t m = run_end(src, i, n), e = m < n ? run_end(src, m, n) : n;
                    int64_t p = i, q = m, o = i;
                    while (p < m && q < e) dst[o++] = src[q] < src[p] ? src[q++] : src[p++];
                    while (p < m) dst[o++] = src[p++];
                    while (q < e) dst[o++] = src[q++];
                    nr++;
                    i = e;
                }
                uint32_t *t = src;
                src = dst;
                dst = t;
                runs = nr;
            }
            if (src != a) memcpy(a, src, (size_t)n * sizeof(uint32_t));
            return;
        }
    }
    if (n < 48) {
        for (int64_t i = 1; i < n; i++) {
            uint32_t v = a[i];
            int64_t j = i;
            while (j > 0 && a[j - 1] > v) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = v;
        }
        return;
    }
    uint32_t *src = a, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        int64_t count[256];
        memset(count, 0, sizeof(count));
        for (int64_t i = 0; i < n; i++) count[(src[i] >> shift) & 0xff]++;
        if (count[(src[0] >> shift) & 0xff] == n) continue; /* one bucket: nothing to do */
        int64_t sum = 0;
        for (int b = 0; b < 256; b++) {
            int64_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0xff]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, (size_t)n * sizeof(uint32_t));
}

/* State of the boundary walk: the previous grid point and the crossings found. */
typedef struct {
    int32_t pu, pv;
    int have_prev;
    double w_last;   /* pycocotools' `w-1` as an unsigned size, converted to double */
    int64_t h;
    uint32_t *a;
    int64_t n, cap;
} poly_walk;

/* One grid point of the boundary. Where the x grid coordinate changes, the crossing
 * of a pixel-column centre (if the step is on one) gives a run boundary at that column,
 * in the row below the (clamped) crossing height. pycocotools' rleFrPoly rounding. */
static inline int poly_cross(poly_walk *s, int64_t x2, int32_t vmin)
{
    /* pycocotools: xd = (x + .5) / 5 - .5 kept when floor(xd) == xd; for integers
     * |x| < 2^30 that is exactly x = 5 xd + 2 (the double arithmetic is exact there),
     * tested with integers (x2 = x - 2) */
    const double xd = (double)(x2 / 5);
    if (x2 % 5 == 0 && xd >= 0 && !(xd > s->w_last)) {
        /* pycocotools: yd = ceil(clamp((v + .5) / 5 - .5, 0, h)). (v + .5) / 5 - .5 is
         * (v - 2) / 5 up to rounding far smaller than its distance to the next integer
         * (a multiple of 1/5 away, or exactly an integer, which it then is in double
         * too), so the same as ceil((v - 2) / 5) in integers, clamped after. */
        const int64_t a = (int64_t)vmin - 2;
        int64_t yd = a / 5 + (a % 5 > 0);
        if (yd < 0) yd = 0;
        else if (yd > s->h) yd = s->h;
        if (s->n >= s->cap) return 0;
        /* pycocotools: (uint)(x*(int)h + y), i.e. modulo 2^32 */
        s->a[s->n++] = (uint32_t)((int64_t)xd * s->h + yd);
    }
    return 1;
}

static inline int poly_point(poly_walk *s, int32_t u, int32_t v)
{
    /* pycocotools' x of a step is the smaller u going left, u - 1 going right */
    if (s->have_prev && u != s->pu &&
        !poly_cross(s, (int64_t)(u < s->pu ? u : u - 1) - 2, v < s->pv ? v : s->pv))
        return 0;
    s->pu = u;
    s->pv = v;
    s->have_prev = 1;
    return 1;
}

int64_t fa_rle_from_poly(const double *xy, int64_t k, int64_t h, int64_t w, void *scratch,
                         uint32_t *cnts)
{
    return fa_rle_from_poly_cap(xy, k, h, w, fa_rle_poly_counts_bound(xy, k, h, w), scratch, cnts);
}

int64_t fa_rle_from_poly_cap(const double *xy, int64_t k, int64_t h, int64_t w, int64_t cap, void *scratch,
                             uint32_t *cnts)
{
    if (cap < 0) return cap;
    poly_walk s;
    s.have_prev = 0;
    s.pu = s.pv = 0;
    s.w_last = w > 0 ? (double)(w - 1) : 18446744073709551615.0;
    s.h = h;
    s.a = cnts;
    s.n = 0;
    s.cap = cap - 1; /* one entry for the sentinel */

    for (int64_t j = 0; j < k; j++) {
        int64_t jn = j + 1 < k ? j + 1 : 0;
        int32_t xs = 0, ys = 0, xe = 0, ye = 0;
        poly_scaled(xy[2 * j], &xs);
        poly_scaled(xy[2 * j + 1], &ys);
        poly_scaled(xy[2 * jn], &xe);
        poly_scaled(xy[2 * jn + 1], &ye);
        int32_t dx = xe > xs ? xe - xs : xs - xe, dy = ye > ys ? ye - ys : ys - ye;
        /* Walk along the longer axis in increasing order; `t` keeps the points in the
         * polygon's own order when the edge had to be flipped. */
        int flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if (flip) {
            int32_t t = xs; xs = xe; xe = t;
            t = ys; ys = ye; ye = t;
        }
        if (dx >= dy) {
            /* dx == dy == 0: a repeated vertex; pycocotools' slope is 0/0 there, but that
             * point's y is never used (its neighbours share its x). */
            double slope = dx > 0 ? (double)(ye - ys) / dx : 0.0;
#define FA_POLY_V(t) ((int32_t)((double)ys + slope * (double)(t) + 0.5))
            /* Every step moves u by one, and only steps whose x (xs + t either way)
             * is 2 mod 5 can be kept: visit those alone, plus the edge's first point
             * (paired with the previous edge's last) and its last. */
            int32_t tf = flip ? dx : 0, tl = flip ? 0 : dx;
            if (!poly_point(&s, tf + xs, FA_POLY_V(tf))) return FA_EINVAL;
            for (int32_t t = (int32_t)(((2 - (int64_t)xs) % 5 + 5) % 5); t < dx; t += 5) {
                int32_t v0 = FA_POLY_V(t), v1 = FA_POLY_V(t + 1);
                if (!poly_cross(&s, (int64_t)xs + t - 2, v0 < v1 ? v0 : v1)) return FA_EINVAL;
            }
            s.pu = tl + xs;
            s.pv = FA_POLY_V(tl);
#undef FA_POLY_V
        } else {
            double slope = (double)(xe - xs) / dy;
#define FA_POLY_U(t) ((int32_t)((double)xs + slope * (double)(t) + 0.5))
            /* u(t) is monotonic and moves by at most one per step; a step from u to
             * u +- 1 has x = the smaller of the two (either walking order) and y = the
             * smaller t + ys. So only the steps onto columns c = 2 mod 5 matter: for
             * each, the last t on c's side, estimated from the line and settled by
             * evaluating u(t) exactly as the walk does. */
            int32_t tf = flip ? dy : 0, tl = flip ? 0 : dy;
            if (!poly_point(&s, FA_POLY_U(tf), tf + ys)) return FA_EINVAL;
            int32_t ua = FA_POLY_U(0), ub = FA_POLY_U(dy);
            if (ua != ub) {
                int up = ub > ua;
                int64_t lo = up ? ua : ub, hi = up ? ub : ua;
                for (int64_t c = lo + ((2 - lo) % 5 + 5) % 5; c < hi; c += 5) {
                    double est = floor(((double)c + 0.5 - (double)xs) / slope);
                    int64_t t = est < 0 ? 0 : est > (double)(dy - 1) ? dy - 1 : (int64_t)est;
                    if (up) {
                        while (t < dy - 1 && FA_POLY_U(t + 1) <= c) t++;
                        while (t > 0 && FA_POLY_U(t) > c) t--;
                    } else {
                        while (t < dy - 1 && FA_POLY_U(t + 1) > c) t++;
                        while (t > 0 && FA_POLY_U(t) <= c) t--;
                    }
                    if (!poly_cross(&s, c - 2, (int32_t)(ys + t))) return FA_EINVAL;
                }
            }
            s.pu = FA_POLY_U(tl);
            s.pv = tl + ys;
#undef FA_POLY_U
        }
    }

    /* Run lengths from the sorted boundary positions (the image end as a sentinel);
     * a position reached twice cancels out, as in pycocotools. */
    uint32_t *a = cnts;
    int64_t n = s.n;
    /* the sentinel is the largest position (columns < w, rows <= h) unless h * w wraps
     * modulo 2^32, or w is 0 (pycocotools' w - 1 is then the largest unsigned size, so
     * every column is kept): then it is sorted with the rest */
    const uint64_t hw = (uint64_t)h * (uint64_t)w;
    if (w > 0 && hw <= UINT32_MAX) {
        sort_u32(a, n, (uint32_t *)scratch, h > 0 ? 1.0 / (double)h : 0.0);
        a[n++] = (uint32_t)hw;
    } else {
        a[n++] = (uint32_t)hw;
        sort_u32(a, n, (uint32_t *)scratch, 0.0);
    }
    uint32_t prev = 0;
    for (int64_t j = 0; j < n; j++) {
        uint32_t t = a[j];
        a[j] -= prev;
        prev = t;
    }
    int64_t m = 0, j = 0;
    a[m++] = a[j++];
    while (j < n) {
        if (a[j] > 0) {
            a[m++] = a[j++];
        } else {
            j++;
            if (j < n) a[m - 1] += a[j++];
        }
    }
    return m;
}

int64_t fa_rle_bbox_counts_bound(const double *bb, int64_t h, int64_t w)
{
    double xs = bb[0], xe = xs + bb[2], ys = bb[1], ye = ys + bb[3];
    double xy[8] = {xs, ys, xs, ye, xe, ye, xe, ys};
    int64_t cap = fa_rle_poly_counts_bound(xy, 4, h, w);
    return cap < 0 ? cap : 2 * cap;
}

int64_t fa_rle_from_bbox(const double *bb, int64_t h, int64_t w, uint32_t *cnts)
{
    /* pycocotools' rleFrBbox: the box as the polygon (xs,ys) (xs,ye) (xe,ye) (xe,ys). */
    double xs = bb[0], xe = xs + bb[2], ys = bb[1], ye = ys + bb[3];
    double xy[8] = {xs, ys, xs, ye, xe, ye, xe, ys};
    int64_t cap = fa_rle_poly_counts_bound(xy, 4, h, w);
    if (cap < 0) return cap;
    return fa_rle_from_poly(xy, 4, h, w, cnts + cap, cnts);
}

/* ---------------------------------------------------------------------------------- */
/* merge and IoU                                                                        */
/* ---------------------------------------------------------------------------------- */

/* One pairwise step of pycocotools' rleMerge. out: capacity am + bm + 1. The loop ends
 * when both inputs are used up (pycocotools: their remaining counts sum to 0 as uint32);
 * it also stops when one side has ended before the other (malformed totals), where
 * pycocotools would loop forever. */
static int64_t merge_pair(const uint32_t *A, int64_t am, const uint32_t *B, int64_t bm,
                          int intersect, uint32_t *out)
{
    uint32_t ca = am > 0 ? A[0] : 0, cb = bm > 0 ? B[0] : 0, cc = 0;
    int v = 0, va = 0, vb = 0;
    int64_t a = 1, b = 1, m = 0;
    for (;;) {
        uint32_t c = u32min(ca, cb);
        cc += c;
        ca -= c;
        if (!ca && a < am) { ca = A[a++]; va = !va; }
        cb -= c;
        if (!cb && b < bm) { cb = B[b++]; vb = !vb; }
        uint32_t ct = ca + cb;
        int vp = v;
        v = intersect ? (va && vb) : (va || vb);
        if (v != vp || ct == 0) {
            out[m++] = cc;
            cc = 0;
        }
        if (ct == 0) break;
        if ((ca == 0 && a >= am) || (cb == 0 && b >= bm)) {
            if (cc) out[m++] = cc;
            break;
        }
    }
    return m;
}

int64_t fa_rle_merge_bound(const fa_rle *rs, int64_t n)
{
    int64_t total = n + 1;
    for (int64_t i = 0; i < n; i++) total += rs[i].m;
    return 2 * total;
}

int64_t fa_rle_merge(const fa_rle *rs, int64_t n, int intersect, uint32_t *cnts)
{
    if (n <= 0) return 0;
    if (n == 1) {
        if (rs[0].m > 0) memcpy(cnts, rs[0].cnts, (size_t)rs[0].m * sizeof(uint32_t));
        return rs[0].m;
    }
    int64_t half = fa_rle_merge_bound(rs, n) / 2;
    const uint32_t *cur = rs[0].cnts;
    int64_t m = rs[0].m;
    for (int64_t i = 1; i < n; i++) {
        /* Alternate halves so that the last step writes to the front. */
        uint32_t *dst = ((n - 1 - i) % 2 == 0) ? cnts : cnts + half;
        m = merge_pair(cur, m, rs[i].cnts, rs[i].m, intersect, dst);
        cur = dst;
    }
    return m;
}

/* pycocotools' rleIou for one pair that passed the box test. */
static double rle_pair_iou(const fa_rle *d, const fa_rle *g, int crowd)
{
    const uint32_t *A = d->cnts, *B = g->cnts;
    int64_t am = d->m, bm = g->m, a = 1, b = 1;
    uint32_t ca = am > 0 ? A[0] : 0, cb = bm > 0 ? B[0] : 0, inter = 0, uni = 0;
    int va = 0, vb = 0;
    for (;;) {
        uint32_t c = u32min(ca, cb);
        if (va || vb) {
            uni += c;
            if (va && vb) inter += c;
        }
        ca -= c;
        if (!ca && a < am) { ca = A[a++]; va = !va; }
        cb -= c;
        if (!cb && b < bm) { cb = B[b++]; vb = !vb; }
        if ((uint32_t)(ca + cb) == 0) break;
        if ((ca == 0 && a >= am) || (cb == 0 && b >= bm)) break; /* malformed totals */
    }
    if (inter == 0) uni = 1;
    else if (crowd) uni = (uint32_t)fa_rle_area(d); /* a crowd's union is the dt area */
    return (double)inter / (double)uni;
}

int fa_rle_iou_reads_counts(const double *dt_bb, const double *gt_bb, int64_t n,
                            const uint8_t *iscrowd)
{
    const double da = dt_bb[2] * dt_bb[3];
    for (int64_t g = 0; g < n; g++) {
        const double *gb = gt_bb + 4 * g;
        if (fa_iou_xywh_pair(dt_bb, da, gb, gb[2] * gb[3], iscrowd != NULL && iscrowd[g]) > 0)
            return 1;
    }
    return 0;
}

void fa_rle_iou_strided(const fa_rle *dt, const double *dt_bb, int64_t m, const fa_rle *gt,
                        const double *gt_bb, int64_t n, const uint8_t *iscrowd, double *out,
                        int64_t stride_dt, int64_t stride_gt)
{
    for (int64_t d = 0; d < m; d++) {
        const double *db = dt_bb + 4 * d;
        double da = db[2] * db[3];
        for (int64_t g = 0; g < n; g++) {
            const double *gb = gt_bb + 4 * g;
            int crowd = iscrowd != NULL && iscrowd[g];
            double o = fa_iou_xywh_pair(db, da, gb, gb[2] * gb[3], crowd);
            if (o > 0) {
                if (dt[d].h != gt[g].h || dt[d].w != gt[g].w) o = -1;
                else o = rle_pair_iou(dt + d, gt + g, crowd);
            }
            out[d * stride_dt + g * stride_gt] = o;
        }
    }
}

#define FA_RLE_IOU_TILE 64

void fa_rle_iou(const fa_rle *dt, const double *dt_bb, int64_t m, const fa_rle *gt,
                const double *gt_bb, int64_t n, const uint8_t *iscrowd, double *out)
{
    if (dt_bb && gt_bb) {
        fa_rle_iou_strided(dt, dt_bb, m, gt, gt_bb, n, iscrowd, out, n, 1);
        return;
    }
    /* Boxes computed here, a tile at a time on the stack. */
    double dbox[4 * FA_RLE_IOU_TILE], gbox[4 * FA_RLE_IOU_TILE];
    for (int64_t g0 = 0; g0 < n; g0 += FA_RLE_IOU_TILE) {
        int64_t gn = n - g0 < FA_RLE_IOU_TILE ? n - g0 : FA_RLE_IOU_TILE;
        const double *gb = gt_bb ? gt_bb + 4 * g0 : gbox;
        if (!gt_bb)
            for (int64_t g = 0; g < gn; g++) fa_rle_to_bbox(gt + g0 + g, gbox + 4 * g);
        for (int64_t d0 = 0; d0 < m; d0 += FA_RLE_IOU_TILE) {
            int64_t dn = m - d0 < FA_RLE_IOU_TILE ? m - d0 : FA_RLE_IOU_TILE;
            const double *db = dt_bb ? dt_bb + 4 * d0 : dbox;
            if (!dt_bb)
                for (int64_t d = 0; d < dn; d++) fa_rle_to_bbox(dt + d0 + d, dbox + 4 * d);
            fa_rle_iou_strided(dt + d0, db, dn, gt + g0, gb, gn,
                               iscrowd ? iscrowd + g0 : NULL, out + d0 * n + g0, n, 1);
        }
    }
}

/* ---------------------------------------------------------------------------------- */
/* compressed strings                                                                   */
/* ---------------------------------------------------------------------------------- */

int64_t fa_rle_string_bound(const fa_rle *r)
{
    /* A value is in (-2^32, 2^32): 34 bits with the sign, 7 characters of 5 bits. */
    return 7 * (r->m > 0 ? r->m : 0) + 1;
}

int64_t fa_rle_to_string(const fa_rle *r, char *s)
{
    int64_t p = 0;
    for (int64_t i = 0; i < r->m; i++) {
        int64_t x = (int64_t)r->cnts[i];
        if (i > 2) x -= (int64_t)r->cnts[i - 2]; /* pycocotools: deltas from the 4th on */
        int more = 1;
        while (more) {
            int c = (int)((uint64_t)x & 0x1f);
            x = (x - c) / 32; /* exact: an arithmetic shift by 5 */
            more = (c & 0x10) ? x != -1 : x != 0;
            if (more) c |= 0x20;
            s[p++] = (char)(c + 48);
        }
    }
    s[p] = 0;
    return p;
}

int fa_rle_from_string(const char *s, int64_t len, int64_t h, int64_t w, uint32_t *cnts,
                       int64_t cap, int64_t *m, char *msg, size_t msg_len)
{
    int64_t n = 0, p = 0;
    uint64_t sum = 0;
    *m = 0;
    if (h < 0 || w < 0) {
        if (msg) snprintf(msg, msg_len, "size must be non-negative, got [%lld, %lld]",
                          (long long)h, (long long)w);
        return FA_EPARSE;
    }
    uint64_t total = (uint64_t)h * (uint64_t)w;
    while (p < len) {
        int64_t start = p;
        uint64_t x = 0;
        int k = 0;
        unsigned c;
        do {
            if (p >= len) {
                if (msg) snprintf(msg, msg_len, "the string ends inside a value (count %lld, "
                                  "byte %lld)", (long long)n, (long long)start);
                return FA_EPARSE;
            }
            c = (unsigned)(unsigned char)s[p] - 48u;
            if (c > 63u || k >= 12) {       /* one test for both rare failures */
                if (c > 63u) {
                    if (msg) snprintf(msg, msg_len, "byte %lld is 0x%02x, not an RLE character "
                                      "('0'..'o')", (long long)p, (unsigned char)s[p]);
                } else if (msg) {
                    snprintf(msg, msg_len, "value at byte %lld is longer than 12 "
                             "characters", (long long)start);
                }
                return FA_EPARSE;
            }
            x |= (uint64_t)(c & 0x1f) << (5 * k);
            p++;
            k++;
        } while (c & 0x20);
        if (c & 0x10) x |= ~(uint64_t)0 << (5 * k); /* sign extension */
        int64_t v = (x >> 63) ? -(int64_t)(~x) - 1 : (int64_t)x;
        if (n > 2) v += (int64_t)cnts[n - 2];
        if (v < 0 || v > (int64_t)UINT32_MAX) {
            if (msg) snprintf(msg, msg_len, "count %lld is %lld (byte %lld), outside "
                              "0..4294967295", (long long)n, (long long)v, (long long)start);
            return FA_EPARSE;
        }
        if (n >= cap) {
            if (msg) snprintf(msg, msg_len, "more than %lld counts", (long long)cap);
            return FA_EINVAL;
        }
        cnts[n++] = (uint32_t)v;
        sum += (uint64_t)v;
    }
    *m = n;
    if (sum != total) {
        if (msg) snprintf(msg, msg_len, "counts sum to %llu, the image has %llu pixels "
                          "(%lld x %lld)", (unsigned long long)sum, (unsigned long long)total,
                          (long long)h, (long long)w);
        return FA_EPARSE;
    }
    return FA_OK;
}

/* ---------------------------------------------------------------------------------- */
/* compressed strings read in place from JSON text                                      */
/* ---------------------------------------------------------------------------------- */

/* Decoding a compressed string 64 characters at a time: a character ends a value when
 * its continuation bit (0x20 after subtracting 48) is clear, i.e. it is below 'P'; the
 * ends of a block form a bit mask, and the values are read between consecutive set
 * bits, so the position no longer waits on each character (the walk that branches on
 * every continuation bit is mispredicted on about a third of the values). */
#if defined(_MSC_VER)
#include <intrin.h>
static inline int ctz64(uint64_t x) { unsigned long i; _BitScanForward64(&i, x); return (int)i; }
#else
#define ctz64(x) __builtin_ctzll(x)
#endif
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define FA_RLE_SSE2 1
#endif

/* Value ends (bit i: q[i] < 'P') and invalid characters (outside '0'..'o') among
 * q[0..64). */
static inline uint64_t text_block(const unsigned char *q, uint64_t *bad)
{
    uint64_t t = 0, b = 0;
#if defined(FA_RLE_SSE2)
    const __m128i end = _mm_set1_epi8(80), lo = _mm_set1_epi8(48), hi = _mm_set1_epi8(111);
    for (int j = 0; j < 4; j++) {
        /* signed bytes: those >= 128 are negative, so below '0' as well */
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(q + 16 * j));
        __m128i x = _mm_or_si128(_mm_cmplt_epi8(v, lo), _mm_cmpgt_epi8(v, hi));
        t |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmplt_epi8(v, end)) << (16 * j);
        b |= (uint64_t)(uint16_t)_mm_movemask_epi8(x) << (16 * j);
    }
#else
    for (int j = 0; j < 64; j++) {
        t |= (uint64_t)(q[j] < 80) << j;
        b |= (uint64_t)(q[j] < 48 || q[j] > 111) << j;
    }
#endif
    *bad = b;
    return t;
}

/* Bytes of scratch that fa_rle_text_stats / fa_rle_text_decode need for a string of
 * len bytes. */
size_t fa_rle_text_scratch_bytes(int64_t len)
{
    return (size_t)(len > 0 ? len : 0) + 64;
}

/* Decode a compressed string as it stands between the quotes of a JSON file into
 * cnts (room for len counts), validating it as fa_rle_from_string does except for the
 * sum. With `json`, a backslash is the escape "\\" of one backslash (the one RLE
 * character, 92, that JSON escapes; the caller has checked there is no other escape).
 * chars: fa_rle_text_scratch_bytes(len) bytes. Returns the number of counts, or -1
 * (invalid). */
static int64_t rle_text_counts(const char *s, int64_t len, int json, uint32_t *cnts,
                               unsigned char *chars)
{
    const unsigned char *u = (const unsigned char *)s, *e = u + len;
    int64_t k = 0;
    if (!json) {
        if (len > 0) memcpy(chars, u, (size_t)len);
        k = len;
    } else {
        /* JSON's "\\" -> one backslash; 16 bytes at a time (chars has len + 64 bytes) */
#if defined(FA_RLE_SSE2)
        const __m128i bs = _mm_set1_epi8('\\');
        while (e - u >= 16) {
            const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)u);
            const int m = _mm_movemask_epi8(_mm_cmpeq_epi8(v, bs));
            _mm_storeu_si128((__m128i *)(void *)(chars + k), v);
            if (!m) {
                k += 16;
                u += 16;
                continue;
            }
            const int f = ctz64((uint64_t)m);  /* the bytes before the backslash are kept */
            k += f;
            chars[k++] = '\\';
            u += f + 2;
        }
#endif
        while (u < e) {
            if (*u == '\\') {
                chars[k++] = '\\';
                u += 2;
            } else {
                chars[k++] = *u++;
            }
        }
    }
    memset(chars + k, '0', 64);
    int64_t n = 0, start = 0;
    uint32_t prev1 = 0, prev2 = 0;
    uint64_t badacc = 0;
    for (int64_t base = 0; base < k; base += 64) {
        uint64_t bad, t = text_block(chars + base, &bad);
        if (k - base < 64) {
            const uint64_t keep = ((uint64_t)1 << (k - base)) - 1;
            t &= keep;
            bad &= keep;
        }
        badacc |= bad;
        while (t) {
#if defined(FA_RLE_SSE2)
            /* Eight one-character values in a row (most of a mask's string): decoded
             * together. Each is 5 bits, sign-extended, plus the count two before it;
             * with both previous counts below 2^31 - 256 the sums fit int32, and a
             * negative one sends the eight to the one-at-a-time path below. */
            {
                const int64_t off = start - base;
                if (n >= 3 && off >= 0 && off <= 56 && ((t >> off) & 0xFF) == 0xFF &&
                    prev1 < 0x7FFFFF00u && prev2 < 0x7FFFFF00u) {
                    const __m128i c = _mm_loadl_epi64((const __m128i *)(const void *)(chars + start));
                    const __m128i d = _mm_and_si128(_mm_sub_epi8(c, _mm_set1_epi8(48)), _mm_set1_epi8(0x1f));
                    const __m128i sx = _mm_sub_epi8(_mm_xor_si128(d, _mm_set1_epi8(16)), _mm_set1_epi8(16));
                    const __m128i w16 = _mm_srai_epi16(_mm_unpacklo_epi8(sx, sx), 8);
                    __m128i lo = _mm_srai_epi32(_mm_unpacklo_epi16(w16, w16), 16);
                    __m128i hi = _mm_srai_epi32(_mm_unpackhi_epi16(w16, w16), 16);
                    /* lanes n..n+3: y = x + (x two lanes before) + [p2, p1, p2, p1] */
                    __m128i carry = _mm_set_epi32((int)prev1, (int)prev2, (int)prev1, (int)prev2);
                    lo = _mm_add_epi32(_mm_add_epi32(lo, _mm_slli_si128(lo, 8)), carry);
                    carry = _mm_shuffle_epi32(lo, _MM_SHUFFLE(3, 2, 3, 2));
                    hi = _mm_add_epi32(_mm_add_epi32(hi, _mm_slli_si128(hi, 8)), carry);
                    if (!_mm_movemask_ps(_mm_castsi128_ps(_mm_or_si128(lo, hi)))) {
                        _mm_storeu_si128((__m128i *)(void *)(cnts + n), lo);
                        _mm_storeu_si128((__m128i *)(void *)(cnts + n + 4), hi);
                        prev2 = (uint32_t)_mm_cvtsi128_si32(_mm_shuffle_epi32(hi, 2));
                        prev1 = (uint32_t)_mm_cvtsi128_si32(_mm_shuffle_epi32(hi, 3));
                        n += 8;
                        start += 8;
                        t &= ~((uint64_t)0xFF << off);
                        continue;
                    }
                }
            }
#endif
            const int64_t end = base + ctz64(t);
            t &= t - 1;
            const int64_t L = end - start + 1;
            const unsigned c0 = (unsigned)chars[start] - 48u, c1 = (unsigned)chars[start + 1] - 48u;
            uint64_t x = (uint64_t)(c0 & 0x1f) | (L == 2 ? (uint64_t)(c1 & 0x1f) << 5 : 0);
            if (L > 2) {                       /* three characters or more: rare */
                if (L > 12)
                    return -1;
                for (int64_t q = 1; q < L; q++)
                    x |= (uint64_t)((chars[start + q] - 48u) & 0x1f) << (5 * q);
            }
            /* the sign bit of the last character: without a branch (it is random) */
            x |= ((uint64_t)0 - (uint64_t)((((unsigned)chars[end] - 48u) >> 4) & 1u)) << (5 * L);
            int64_t v = (x >> 63) ? -(int64_t)(~x) - 1 : (int64_t)x;
            if (n > 2) v += (int64_t)prev2;
            badacc |= (uint64_t)(v < 0) | (uint64_t)(v > (int64_t)UINT32_MAX);
            cnts[n++] = (uint32_t)v;
            prev2 = prev1;
            prev1 = (uint32_t)v;
            start = end + 1;
        }
    }
    if (badacc || start != k)                  /* a bad character, or a value cut short */
        return -1;
    return n;
}

int fa_rle_text_stats(const char *s, int64_t len, int json, int64_t h, int64_t w, uint32_t *scratch,
                      void *chars, int64_t *m, double *area, double *bb)
{
    if (h < 0 || w < 0)
        return FA_EPARSE;
    int64_t n = rle_text_counts(s, len, json, scratch, (unsigned char *)chars);
    if (n < 0)
        return FA_EPARSE;
    uint64_t sum, a;
    rle_pairs(scratch, n, h, w, bb, &sum, &a);
    if (sum != (uint64_t)h * (uint64_t)w)
        return FA_EPARSE;
    *m = n;
    *area = (double)a;
    return FA_OK;
}

int fa_rle_from_text(const char *s, int64_t len, int64_t h, int64_t w, uint32_t *cnts, void *chars,
                     int64_t *m)
{
    if (h < 0 || w < 0)
        return FA_EPARSE;
    const int64_t n = rle_text_counts(s, len, 0, cnts, (unsigned char *)chars);
    if (n < 0)
        return FA_EPARSE;
    uint64_t sum = 0;
    for (int64_t j = 0; j < n; j++) sum += cnts[j];
    if (sum != (uint64_t)h * (uint64_t)w)
        return FA_EPARSE;
    *m = n;
    return FA_OK;
}

int64_t fa_rle_text_decode(const char *s, int64_t len, int json, uint32_t *cnts, void *chars)
{
    return rle_text_counts(s, len, json, cnts, (unsigned char *)chars);
}
