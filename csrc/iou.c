/*
 * iou.c -- pairwise box IoU, n x m.
 *
 * Layout: a [n][4], b [m][4] float64 row-major, out [n][m] row-major. The areas of b are
 * computed once into a small stack block per tile of columns; rows are independent, so
 * callers split n across threads. The per-pair formula is iou_pair.h (shared with CUDA).
 */
#include "fastap.h"
#include "iou_pair.h"

#define FA_IOU_TILE 256

void fa_box_iou_xywh(const double *a, int64_t n, const double *b, int64_t m,
                     const uint8_t *b_crowd, double *out)
{
    double area_b[FA_IOU_TILE];
    for (int64_t j0 = 0; j0 < m; j0 += FA_IOU_TILE) {
        int64_t j1 = j0 + FA_IOU_TILE < m ? j0 + FA_IOU_TILE : m;
        for (int64_t j = j0; j < j1; j++) area_b[j - j0] = b[4 * j + 2] * b[4 * j + 3];
        for (int64_t i = 0; i < n; i++) {
            const double *ai = a + 4 * i;
            double area_a = ai[2] * ai[3];
            double *o = out + i * m;
            for (int64_t j = j0; j < j1; j++)
                o[j] = fa_iou_xywh_pair(ai, area_a, b + 4 * j, area_b[j - j0],
                                        b_crowd ? b_crowd[j] : 0);
        }
    }
}

#if defined(__GNUC__) && !defined(__clang__)
/* GCC vectorises the row below only without trapping math (the division is computed for
 * every pair); fp-contract stays off, as on the command line. Clang ignores FP traps. */
#define FA_VECTORISE __attribute__((optimize("no-trapping-math", "fp-contract=off")))
#else
#define FA_VECTORISE
#endif

/* One row of fa_box_iou_xyxy for a crowd-free b without the +1 rule, branch-free so that
 * it vectorises: fa_iou_xyxy_pair's arithmetic (w, h, w * h, area_a + area_b - inter,
 * inter / union) computed for every pair and kept where w > 0 and h > 0, else 0 -- bit
 * for bit fa_iou_xyxy_pair's result (its `+ one` with one = 0 changes only a -0 width or
 * height, which gives 0 either way). b: the tile's columns x1, y1, x2, y2, area. */
FA_VECTORISE static void fa_iou_xyxy_row(const double *ai, double area_a, const double (*b)[FA_IOU_TILE],
                                         int64_t c, double *restrict o)
{
    const double ax1 = ai[0], ay1 = ai[1], ax2 = ai[2], ay2 = ai[3];
    const double *restrict bx1 = b[0], *restrict by1 = b[1], *restrict bx2 = b[2], *restrict by2 = b[3];
    const double *restrict ba = b[4];
    for (int64_t j = 0; j < c; j++) {
        double w = (ax2 < bx2[j] ? ax2 : bx2[j]) - (ax1 > bx1[j] ? ax1 : bx1[j]);
        double h = (ay2 < by2[j] ? ay2 : by2[j]) - (ay1 > by1[j] ? ay1 : by1[j]);
        double inter = w * h;
        double v = inter / (area_a + ba[j] - inter);
        o[j] = (w > 0) & (h > 0) ? v : 0.0;
    }
}

static void fa_box_iou_xyxy_plain(const double *a, int64_t n, const double *b, int64_t m, double *out)
{
    double cols[5][FA_IOU_TILE];
    for (int64_t j0 = 0; j0 < m; j0 += FA_IOU_TILE) {
        int64_t c = j0 + FA_IOU_TILE < m ? FA_IOU_TILE : m - j0;
        for (int64_t j = 0; j < c; j++) {
            const double *bj = b + 4 * (j0 + j);
            cols[0][j] = bj[0]; cols[1][j] = bj[1]; cols[2][j] = bj[2]; cols[3][j] = bj[3];
            cols[4][j] = (bj[2] - bj[0] + 0.0) * (bj[3] - bj[1] + 0.0);
        }
        for (int64_t i = 0; i < n; i++) {
            const double *ai = a + 4 * i;
            fa_iou_xyxy_row(ai, (ai[2] - ai[0] + 0.0) * (ai[3] - ai[1] + 0.0), cols, c, out + i * m + j0);
        }
    }
}

void fa_box_iou_xyxy(const double *a, int64_t n, const double *b, int64_t m,
                     const uint8_t *b_crowd, int plus_one, double *out)
{
    double area_b[FA_IOU_TILE];
    double one = plus_one ? 1.0 : 0.0;
    if (!b_crowd && !plus_one) {
        fa_box_iou_xyxy_plain(a, n, b, m, out);
        return;
    }
    for (int64_t j0 = 0; j0 < m; j0 += FA_IOU_TILE) {
        int64_t j1 = j0 + FA_IOU_TILE < m ? j0 + FA_IOU_TILE : m;
        for (int64_t j = j0; j < j1; j++) {
            const double *bj = b + 4 * j;
            area_b[j - j0] = (bj[2] - bj[0] + one) * (bj[3] - bj[1] + one);
        }
        for (int64_t i = 0; i < n; i++) {
            const double *ai = a + 4 * i;
            double area_a = (ai[2] - ai[0] + one) * (ai[3] - ai[1] + one);
            double *o = out + i * m;
            for (int64_t j = j0; j < j1; j++)
                o[j] = fa_iou_xyxy_pair(ai, area_a, b + 4 * j, area_b[j - j0],
                                        b_crowd ? b_crowd[j] : 0, one);
        }
    }
}

static void fa_iou_rec_load(const double *corners, double *r)
{
    r[0] = corners[0]; r[1] = corners[1]; r[2] = corners[2]; r[3] = corners[3];
    fa_iou_rec_finish(r);
}

void fa_box_iou_family(const double *a, int64_t n, const double *b, int64_t m,
                       int kind, double eps, double *out)
{
    double rb[FA_IOU_TILE][FA_IOU_REC], ra[FA_IOU_REC];
    for (int64_t j0 = 0; j0 < m; j0 += FA_IOU_TILE) {
        int64_t j1 = j0 + FA_IOU_TILE < m ? j0 + FA_IOU_TILE : m;
        for (int64_t j = j0; j < j1; j++) fa_iou_rec_load(b + 4 * j, rb[j - j0]);
        for (int64_t i = 0; i < n; i++) {
            fa_iou_rec_load(a + 4 * i, ra);
            double *o = out + i * m;
            switch (kind) {     /* one loop per kind: the compiler drops the other branches */
            case FA_IOU_KIND_GIOU:
                for (int64_t j = j0; j < j1; j++)
                    o[j] = fa_iou_family_pair(ra, rb[j - j0], FA_IOU_KIND_GIOU, eps);
                break;
            case FA_IOU_KIND_DIOU:
                for (int64_t j = j0; j < j1; j++)
                    o[j] = fa_iou_family_pair(ra, rb[j - j0], FA_IOU_KIND_DIOU, eps);
                break;
            case FA_IOU_KIND_CIOU:
                for (int64_t j = j0; j < j1; j++)
                    o[j] = fa_iou_family_pair(ra, rb[j - j0], FA_IOU_KIND_CIOU, eps);
                break;
            default:
                for (int64_t j = j0; j < j1; j++)
                    o[j] = fa_iou_family_pair(ra, rb[j - j0], FA_IOU_KIND_IOU, eps);
            }
        }
    }
}

void fa_box_iou_aligned(const double *a, const double *b, int64_t n, const uint8_t *b_crowd,
                        int xywh, int kind, double eps, double *out)
{
    double ra[FA_IOU_REC], rb[FA_IOU_REC];
    for (int64_t i = 0; i < n; i++) {
        const double *ai = a + 4 * i, *bi = b + 4 * i;
        int crowd = b_crowd ? b_crowd[i] : 0;
        if (kind == FA_IOU_KIND_IOU && xywh) {
            out[i] = fa_iou_xywh_pair(ai, ai[2] * ai[3], bi, bi[2] * bi[3], crowd);
        } else if (kind == FA_IOU_KIND_IOU) {
            out[i] = fa_iou_xyxy_pair(ai, (ai[2] - ai[0]) * (ai[3] - ai[1]), bi,
                                      (bi[2] - bi[0]) * (bi[3] - bi[1]), crowd, 0.0);
        } else {
            fa_iou_rec_load(ai, ra);
            fa_iou_rec_load(bi, rb);
            out[i] = fa_iou_family_pair(ra, rb, kind, eps);
        }
    }
}
