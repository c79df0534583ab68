/* boundary.c -- mask boundaries for Boundary IoU (Cheng et al., boundary-iou-api rules).
 *
 * The boundary of a mask is the mask minus its erosion by a 3x3 square repeated d times
 * (= one (2d+1) x (2d+1) square), with everything outside the image counted as
 * background (boundary-iou-api pads the mask with one zero pixel before cv2.erode, so
 * the image border erodes the mask too). d = max(1, round-half-even(ratio * diagonal)).
 * The work is done on the mask's bounding box only (the erosion and the boundary are
 * empty outside it); the result is written as a COCO RLE of the whole image. */
#include "fastap.h"
#include <math.h>
#include <string.h>

int64_t fa_boundary_dilation(int64_t h, int64_t w, double ratio)
{
    double diag = sqrt((double)(h * h + w * w));
    double v = nearbyint(ratio * diag);  /* Python's round(): half to even (default mode) */
    if (!(v >= 1.0)) return 1;           /* NaN too */
    if (v > 4294967296.0) return (int64_t)4294967296;  /* erodes every mask away */
    return (int64_t)v;
}

/* The foreground's crop [x0, x1) x [y0, y1) (empty: x0 == x1). */
static void crop_of(const fa_rle *r, int64_t *cr)
{
    int64_t h = r->h, n = r->h > 0 && r->w > 0 ? r->h * r->w : 0, pos = 0, i;
    cr[0] = cr[2] = INT64_MAX;
    cr[1] = cr[3] = 0;
    for (i = 0; i < r->m && pos < n; i++) {
        int64_t c = (int64_t)r->cnts[i], e = pos + c < n ? pos + c : n;
        if ((i & 1) && e > pos) {
            int64_t xs = pos / h, xe = (e - 1) / h;
            if (xs < cr[0]) cr[0] = xs;
            if (xe + 1 > cr[1]) cr[1] = xe + 1;
            if (xs == xe) {
                if (pos % h < cr[2]) cr[2] = pos % h;
                if ((e - 1) % h + 1 > cr[3]) cr[3] = (e - 1) % h + 1;
            } else {
                cr[2] = 0;
                cr[3] = h;
            }
        }
        pos = e;
    }
    if (cr[1] == 0) cr[0] = cr[1] = cr[2] = cr[3] = 0;
}

int64_t fa_rle_boundary_sizes(const fa_rle *r, size_t *scratch_bytes)
{
    int64_t cr[4], bw, bh;
    crop_of(r, cr);
    bw = cr[1] - cr[0];
    bh = cr[3] - cr[2];
    *scratch_bytes = (size_t)(2 * bw * bh + 8 * bh + 16);
    return bw * (bh + 1) + 3;
}

/* Run builder: counts alternate 0s and 1s, starting with 0s. */
typedef struct {
    uint32_t *cnts;
    int64_t m, len;
    int val;
} runs_out;

static inline void put(runs_out *o, int bit, int64_t len)
{
    if (len <= 0) return;
    if (bit != o->val) {
        o->cnts[o->m++] = (uint32_t)o->len;
        o->val = bit;
        o->len = 0;
    }
    o->len += len;
}

/* mask (bh x bw, column-major) -> its erosion by the (2d+1) square, background outside,
 * into er; cnt: int64 [bh] scratch. */
static void erode(const uint8_t *mask, int64_t bh, int64_t bw, int64_t d, uint8_t *er, int32_t *cnt)
{
    int64_t x, y, need = 2 * d + 1;   /* <= min(bh, bw) <= 65536 below: int32 counts */
    memset(er, 0, (size_t)(bh * bw));
    if (need > bh || need > bw) return;
    /* along each column: a run [a, b) of 1s keeps [a + d, b - d) */
    for (x = 0; x < bw; x++) {
        const uint8_t *col = mask + x * bh;
        uint8_t *out = er + x * bh;
        y = 0;
        while (y < bh) {
            int64_t a;
            while (y < bh && !col[y]) y++;
            a = y;
            while (y < bh && col[y]) y++;
            if (y - a >= need) memset(out + a + d, 1, (size_t)(y - a - 2 * d));
        }
    }
    /* along each row, in place: pixel (x - d, y) stays when columns x - 2d .. x all hold
     * it; column x - d is written after column x - d was read (d >= 1) */
    memset(cnt, 0, (size_t)bh * sizeof(int32_t));
    for (x = 0; x < bw; x++) {
        const uint8_t *col = er + x * bh;
        int32_t nd = (int32_t)need;
        for (y = 0; y < bh; y++) {       /* branch-free: the compiler vectorises it */
            int32_t c = cnt[y] + 1;
            cnt[y] = (c < nd ? c : nd) * (int32_t)(col[y] != 0);
        }
        if (x >= 2 * d) {
            uint8_t *out = er + (x - d) * bh;
            for (y = 0; y < bh; y++) out[y] = (uint8_t)(cnt[y] >= nd);
        }
    }
    memset(er, 0, (size_t)(d * bh));
    memset(er + (bw - d) * bh, 0, (size_t)(d * bh));
}

int64_t fa_rle_boundary(const fa_rle *r, int64_t d, void *scratch, uint32_t *cnts)
{
    int64_t cr[4], bw, bh, h = r->h, n = r->h > 0 && r->w > 0 ? r->h * r->w : 0, pos = 0, i, x, y;
    int32_t *cnt = (int32_t *)scratch;
    uint8_t *mask, *er;
    runs_out o = {cnts, 0, 0, 0};
    if (n == 0) {
        cnts[0] = 0;
        return 1;
    }
    if (d < 1) d = 1;
    crop_of(r, cr);
    bw = cr[1] - cr[0];
    bh = cr[3] - cr[2];
    if (bw == 0) {
        cnts[0] = (uint32_t)n;
        return 1;
    }
    mask = (uint8_t *)scratch + 8 * bh;
    er = mask + bw * bh;
    memset(mask, 0, (size_t)(bw * bh));
    for (i = 0; i < r->m && pos < n; i++) {
        int64_t e = pos + (int64_t)r->cnts[i] < n ? pos + (int64_t)r->cnts[i] : n;
        if (i & 1) {
            int64_t p = pos;
            while (p < e) {          /* a run may span columns */
                int64_t xx = p / h, yy = p % h, stop = (xx + 1) * h < e ? (xx + 1) * h : e;
                memset(mask + (xx - cr[0]) * bh + (yy - cr[2]), 1, (size_t)(stop - p));
                p = stop;
            }
        }
        pos = e;
    }
    erode(mask, bh, bw, d, er, cnt);
    put(&o, 0, cr[0] * h);
    for (x = 0; x < bw; x++) {
        const uint8_t *mc = mask + x * bh;
        uint8_t *bc = er + x * bh;
        for (y = 0; y < bh; y++) bc[y] = (uint8_t)(mc[y] & (bc[y] ^ 1));   /* the boundary */
        put(&o, 0, cr[2]);
        y = 0;
        while (y < bh) {
            uint8_t v = bc[y];
            int64_t s = y;
            while (y < bh && bc[y] == v) y++;
            put(&o, v, y - s);
        }
        put(&o, 0, h - cr[3]);
    }
    put(&o, 0, n - cr[1] * h);
    o.cnts[o.m++] = (uint32_t)o.len;
    return o.m;
}
