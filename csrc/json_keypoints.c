/*
 * json_keypoints.c -- keypoint values of records, and pycocotools' keypoint box.
 *
 * What it does: a record's "keypoints" array is read during the record scan straight
 * into the caller's row (kpt_stride numbers, or with kpt_xy only the x and y of each
 * (x, y, v) triple), with its count, its span, and -- for results -- the box
 * pycocotools' loadRes gives keypoint results (fa_keypoint_box: the extent of every
 * keypoint's x and y, NaN when a number is not finite or the count is not the stride).
 * Data layout: rows of kpt_width(g) doubles per record in g->kpt_values; the numbers
 * themselves are read by json_numarray.c.
 */
#include "json_internal.h"

#include <math.h>

/* pycocotools' loadRes box of one keypoint result (see fastap.h): the first value kept
 * on ties, as NumPy's min / max on NaN-free input. */
void fa_keypoint_box(const double *v, int64_t n, int64_t step, double *bb)
{
    double x0 = v[0], x1 = v[0], y0 = v[1], y1 = v[1];
    for (int64_t j = step; j < n - 1; j += step) {
        const double x = v[j], y = v[j + 1];
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
    }
    bb[0] = x0;
    bb[1] = y0;
    bb[2] = x1 - x0;
    bb[3] = y1 - y0;
}


/* Keypoints of record i straight into the geometry's value rows (kpt_stride numbers;
 * kpt_count[i] = stride + 1 when there are more, which the caller reports). */
int fa_jr_take_keypoints(jctx *c, const fa_json_geometry *g, int64_t i)
{
    int64_t n = 0;
    const unsigned char *start = c->p;
    const int xy = g->kpt_xy != 0;
    const int64_t width = kpt_width(g);
    double *v = g->kpt_values + i * width;
    int finite = 1;
    int rc = xy ? fa_jr_keypoint_xy(c, v, g->kpt_stride, &n, &finite)
                : fa_jr_number_array(c, v, g->kpt_stride, &n, "keypoints");
    if (rc == FA_EINVAL) {            /* more numbers than the stride: skip the rest */
        c->p = start;
        rc = fa_jr_skip_value(c);
        n = g->kpt_stride + 1;
    }
    if (rc != FA_OK)
        return rc;
    g->kpt_count[i] = n;
    if (g->kpt_box) {
        /* pycocotools' loadRes box of keypoint results when all the record's numbers
         * are finite; NaN otherwise */
        double *bb = g->kpt_box + 4 * i;
        finite = finite && n == g->kpt_stride && n >= 3;
        for (int64_t j = 0; finite && !xy && j < n; j++)
            finite = v[j] - v[j] == 0.0;         /* false for NaN and infinities */
        if (!finite) {
            bb[0] = bb[1] = bb[2] = bb[3] = NAN;
        } else {
            fa_keypoint_box(v, width, xy ? 2 : 3, bb);
        }
    }
    if (g->kpt_span) {
        g->kpt_span[2 * i] = (int64_t)(start - c->buf);
        g->kpt_span[2 * i + 1] = (int64_t)(c->p - c->buf);
    }
    return FA_OK;
}

