/*
 * rotated_pair.h -- exact IoU of two convex quadrilaterals (rotated boxes, DOTA quads),
 * shared by the C kernel (rotated.c) and the CUDA kernel (csrc/cuda/rotated_iou.cu), so
 * the CPU tests exercise the arithmetic the GPU runs. FA_RHD is `__host__ __device__
 * __forceinline__` under nvcc and NVRTC, `static inline` in C. No includes (NVRTC has no
 * C library headers): C callers include <math.h> first (sin, cos, fmod, floor).
 *
 * Each box is first turned into a record of FA_ROT_RECORD doubles:
 *   [0, 1]   ref: the reference point (a rotated box's centre; a quad's lexicographically
 *            smallest vertex, x then y)
 *   [2..9]   the 4 vertices relative to ref, counter-clockwise in a y-up frame, starting
 *            at the lexicographically smallest one (a triangle repeats its last vertex)
 *   [10]     area (w * h for a rotated box; the shoelace area of the convex hull of a quad)
 *   [11..14] bounding box of the vertices relative to ref: xmin, xmax, ymin, ymax
 *   [15]     0.0, or 1.0 for a quad that is not convex in its given vertex order
 * A pair is computed in the frame of a's ref: b's vertices are (ref_b - ref_a) + offset,
 * so huge coordinates cost no precision when the boxes are near each other.
 *
 * Rotated boxes (x_ctr, y_ctr, w, h, angle): detectron2's XYWHA. The corner (dx, dy) of
 * the axis-aligned box, dx = +-w/2, dy = +-h/2, goes to
 *   (x_ctr + cos(a) dx + sin(a) dy,  y_ctr - sin(a) dx + cos(a) dy),
 * counter-clockwise on an image whose y axis points down. Degrees: reduced exactly to a
 * quadrant (fmod by 360, then the nearest multiple of 90), so multiples of 90 degrees
 * give exact 0 and +-1 and the angle's sign and turns (a, a + 360k) give the same corners.
 *
 * Intersection: Sutherland-Hodgman clipping of a by the 4 edge half-planes of b. Each
 * vertex's side of an edge is computed once, and an intersection point is made only
 * between two vertices on strictly opposite sides, by interpolation along their segment
 * (t = s0 / (s0 - s1) in (0, 1)): the clipped polygon never leaves a's segments, however
 * parallel the edges, and the area varies continuously. Area: shoelace in double.
 * IoU = inter / (area_a + area_b - inter) with inter clamped to [0, min(area_a, area_b)]
 * and the result clamped to [0, 1]: the clipped polygon can exceed the smaller box by
 * rounding (its vertices are rounded, its area is a shoelace sum, the box's is w * h).
 * A box of area 0 gives IoU 0 (with anything, itself included). Two records with the same
 * ref and the same vertices (a box and itself, a square turned by 90 degrees, a quad
 * given in another vertex order) give exactly 1.
 */
#ifndef FASTAP_ROTATED_PAIR_H
#define FASTAP_ROTATED_PAIR_H

#if defined(__CUDACC__)
#define FA_RHD __host__ __device__ __forceinline__
#else
#define FA_RHD static inline
#endif

#ifndef FA_ROT_RECORD
#define FA_ROT_RECORD 16
#endif
#define FA_ROT_MAXV 16   /* clipping 4 vertices by 4 half-planes gives at most 8 (convex);
                            rounding-level extra crossings are capped at 16 */

/* sin and cos of an angle in degrees: exact at multiples of 90 */
FA_RHD void fa_rot_sincos_deg(double a, double *s, double *c)
{
    double r = fmod(a, 360.0);                 /* exact, in (-360, 360) */
    double q = floor(r / 90.0 + 0.5);          /* the nearest quadrant, -4..4 */
    double rem = r - 90.0 * q;                 /* exact (Sterbenz), in [-45, 45] */
    double t = rem * (3.14159265358979323846 / 180.0);
    double st = sin(t), ct = cos(t);
    int k = (((int)q % 4) + 4) % 4;
    if (k == 0) { *s = st; *c = ct; }
    else if (k == 1) { *s = ct; *c = -st; }
    else if (k == 2) { *s = -st; *c = -ct; }
    else { *s = -ct; *c = st; }
}

/* rotates v[0..7] (4 vertices) so the lexicographically smallest comes first; writes the
 * bounding box of the vertices at rec[11..14] */
FA_RHD void fa_rot_canon(const double *v, double *rec)
{
    int k = 0;
    for (int i = 1; i < 4; i++)
        if (v[2 * i] < v[2 * k] || (v[2 * i] == v[2 * k] && v[2 * i + 1] < v[2 * k + 1])) k = i;
    double x0 = v[2 * k], x1 = v[2 * k], y0 = v[2 * k + 1], y1 = v[2 * k + 1];
    for (int i = 0; i < 4; i++) {
        double x = v[2 * ((k + i) & 3)], y = v[2 * ((k + i) & 3) + 1];
        rec[2 + 2 * i] = x;
        rec[3 + 2 * i] = y;
        x0 = x < x0 ? x : x0; x1 = x > x1 ? x : x1;
        y0 = y < y0 ? y : y0; y1 = y > y1 ? y : y1;
    }
    rec[11] = x0; rec[12] = x1; rec[13] = y0; rec[14] = y1;
}

/* box: (x_ctr, y_ctr, w, h, angle), angle in degrees or (radians != 0) radians */
FA_RHD void fa_rot_rbox_record(const double *box, int radians, double *rec)
{
    double s, c;
    if (radians) { s = sin(box[4]); c = cos(box[4]); }
    else fa_rot_sincos_deg(box[4], &s, &c);
    double hw = 0.5 * box[2], hh = 0.5 * box[3];
    double v[8];
    v[0] = c * hw + s * hh;   v[1] = c * hh - s * hw;     /* corner (+w/2, +h/2) */
    v[2] = s * hh - c * hw;   v[3] = c * hh + s * hw;     /* corner (-w/2, +h/2) */
    v[4] = -v[0]; v[5] = -v[1];                           /* the opposite corners */
    v[6] = -v[2]; v[7] = -v[3];
    rec[0] = box[0];
    rec[1] = box[1];
    fa_rot_canon(v, rec);
    rec[10] = box[2] * box[3];
    rec[15] = 0.0;
}

FA_RHD double fa_rot_cross3(double ox, double oy, double ax, double ay, double bx, double by)
{
    return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox);
}

/* twice the signed area of the closed polygon (x[i], y[i]), i < n; *abs_sum: the sum of
 * the terms' magnitudes (the scale of its rounding error) */
FA_RHD double fa_rot_shoelace2(const double *x, const double *y, int n, double *abs_sum)
{
    double a = 0.0, t = 0.0;
    for (int i = 0; i < n; i++) {
        int j = i + 1 == n ? 0 : i + 1;
        double u = x[i] * y[j], w = x[j] * y[i];
        a += u - w;
        t += (u < 0 ? -u : u) + (w < 0 ? -w : w);
    }
    *abs_sum = t;
    return a;
}

/* quad: x1 y1 ... x4 y4, any vertex order. The record holds its convex hull; rec[15] is
 * 1.0 when the quad in its given order is not that hull (self-intersecting, or a reflex
 * vertex): its shoelace area falls short of the hull's by more than rounding (1e-9 of
 * the area, plus 8 ulp of the shoelace terms' magnitudes). Returns rec[15] != 0. */
FA_RHD int fa_rot_quad_record(const double *q, double *rec)
{
    int k = 0;
    for (int i = 1; i < 4; i++)
        if (q[2 * i] < q[2 * k] || (q[2 * i] == q[2 * k] && q[2 * i + 1] < q[2 * k + 1])) k = i;
    double rx = q[2 * k], ry = q[2 * k + 1];
    double px[4], py[4], sx[4], sy[4];
    for (int i = 0; i < 4; i++) {
        px[i] = q[2 * i] - rx; py[i] = q[2 * i + 1] - ry;
        sx[i] = px[i]; sy[i] = py[i];
    }
    for (int i = 1; i < 4; i++) {            /* insertion sort, x then y */
        double x = sx[i], y = sy[i];
        int j = i - 1;
        while (j >= 0 && (sx[j] > x || (sx[j] == x && sy[j] > y))) { sx[j + 1] = sx[j]; sy[j + 1] = sy[j]; j--; }
        sx[j + 1] = x; sy[j + 1] = y;
    }
    /* monotone chain: lower hull left to right, then upper hull right to left (CCW) */
    double hx[9], hy[9];
    int h = 0;
    for (int i = 0; i < 4; i++) {
        while (h >= 2 && fa_rot_cross3(hx[h - 2], hy[h - 2], hx[h - 1], hy[h - 1], sx[i], sy[i]) <= 0) h--;
        hx[h] = sx[i]; hy[h] = sy[i]; h++;
    }
    int lower = h + 1;
    for (int i = 2; i >= 0; i--) {
        while (h >= lower && fa_rot_cross3(hx[h - 2], hy[h - 2], hx[h - 1], hy[h - 1], sx[i], sy[i]) <= 0) h--;
        hx[h] = sx[i]; hy[h] = sy[i]; h++;
    }
    h--;                                       /* the last point is the first again */
    if (h < 1) h = 1;
    double v[8];
    for (int i = 0; i < 4; i++) {
        int j = i < h ? i : h - 1;             /* fewer than 4: repeat the last vertex */
        v[2 * i] = hx[j]; v[2 * i + 1] = hy[j];
    }
    double t_hull = 0.0, t_given = 0.0;
    double area = h >= 3 ? 0.5 * fa_rot_shoelace2(hx, hy, h, &t_hull) : 0.0;
    double given = 0.5 * fa_rot_shoelace2(px, py, 4, &t_given);
    given = given < 0 ? -given : given;
    rec[0] = rx;
    rec[1] = ry;
    for (int i = 0; i < 8; i++) rec[2 + i] = v[i];
    rec[11] = v[0]; rec[12] = v[0]; rec[13] = v[1]; rec[14] = v[1];
    for (int i = 1; i < 4; i++) {
        rec[11] = v[2 * i] < rec[11] ? v[2 * i] : rec[11];
        rec[12] = v[2 * i] > rec[12] ? v[2 * i] : rec[12];
        rec[13] = v[2 * i + 1] < rec[13] ? v[2 * i + 1] : rec[13];
        rec[14] = v[2 * i + 1] > rec[14] ? v[2 * i + 1] : rec[14];
    }
    rec[10] = area > 0 ? area : 0.0;
    int bad = area - given > 1e-9 * area + 4.0 * 2.220446049250313e-16 * t_given;
    rec[15] = bad ? 1.0 : 0.0;
    return bad;
}

/* One Sutherland-Hodgman step: the polygon (x, y)[n] clipped to the left of the edge from
 * (ox, oy) along (ex, ey) into (cx, cy); returns the new vertex count. */
FA_RHD int fa_rot_clip(const double *x, const double *y, int n, double ox, double oy,
                       double ex, double ey, double *cx, double *cy)
{
    double s[FA_ROT_MAXV];
    for (int i = 0; i < n; i++) s[i] = ex * (y[i] - oy) - ey * (x[i] - ox);
    int k = 0;
    for (int i = 0; i < n; i++) {
        int p = i == 0 ? n - 1 : i - 1;
        double sp = s[p], sc = s[i];
        if ((sp > 0 && sc < 0) || (sp < 0 && sc > 0)) {
            double t = sp / (sp - sc);
            cx[k] = x[p] + t * (x[i] - x[p]);
            cy[k] = y[p] + t * (y[i] - y[p]);
            k += k < FA_ROT_MAXV - 1;
        }
        if (sc >= 0) { cx[k] = x[i]; cy[k] = y[i]; k += k < FA_ROT_MAXV - 1; }
    }
    return k;
}

/* Area of the intersection of two records (see the top of this file), clamped to
 * [0, min(area_a, area_b)]; exactly min(area_a, area_b) for two records with the same ref
 * and vertices; 0 when either area is 0 (or not a number). */
FA_RHD double fa_rot_inter_pair(const double *ra, const double *rb)
{
    double area_a = ra[10], area_b = rb[10];
    if (!(area_a > 0) || !(area_b > 0)) return 0.0;
    double lo = area_a < area_b ? area_a : area_b;
    double dx = rb[0] - ra[0], dy = rb[1] - ra[1];
    /* bounding boxes apart, or touching: no area in common */
    if (dx + rb[11] >= ra[12] || dx + rb[12] <= ra[11] || dy + rb[13] >= ra[14] || dy + rb[14] <= ra[13])
        return 0.0;
    if (dx == 0 && dy == 0) {
        int same = 1;
        for (int i = 2; i < 10; i++) same &= ra[i] == rb[i];
        if (same) return lo;
    }
    double x0[FA_ROT_MAXV], y0[FA_ROT_MAXV], x1[FA_ROT_MAXV], y1[FA_ROT_MAXV];
    for (int i = 0; i < 4; i++) { x0[i] = ra[2 + 2 * i]; y0[i] = ra[3 + 2 * i]; }
    int n = 4;
    for (int e = 0; e < 4 && n > 0; e++) {
        int f = (e + 1) & 3;
        double ex = rb[2 + 2 * f] - rb[2 + 2 * e], ey = rb[3 + 2 * f] - rb[3 + 2 * e];
        double ox = dx + rb[2 + 2 * e], oy = dy + rb[3 + 2 * e];
        if (e & 1) n = fa_rot_clip(x1, y1, n, ox, oy, ex, ey, x0, y0);
        else n = fa_rot_clip(x0, y0, n, ox, oy, ex, ey, x1, y1);
    }
    if (n < 3) return 0.0;
    double t;
    double inter = 0.5 * fa_rot_shoelace2(x0, y0, n, &t);
    return inter > 0 ? (inter < lo ? inter : lo) : 0.0;
}

/* IoU of two records (see the top of this file), in [0, 1] */
FA_RHD double fa_rot_iou_pair(const double *ra, const double *rb)
{
    double area_a = ra[10], area_b = rb[10];
    if (!(area_a > 0) || !(area_b > 0)) return 0.0;
    double dx = rb[0] - ra[0], dy = rb[1] - ra[1];
    if (dx == 0 && dy == 0) {
        int same = 1;
        for (int i = 2; i < 10; i++) same &= ra[i] == rb[i];
        if (same) return 1.0;
    }
    double inter = fa_rot_inter_pair(ra, rb);
    double iou = inter / (area_a + area_b - inter);
    return iou < 1.0 ? iou : 1.0;
}

/* pycocotools' crowd rule on rotated boxes: the intersection over the area of `ra` (the
 * detection) alone, in [0, 1]; 0 when either area is 0 */
FA_RHD double fa_rot_crowd_pair(const double *ra, const double *rb)
{
    double inter = fa_rot_inter_pair(ra, rb);
    if (!(inter > 0)) return 0.0;
    double v = inter / ra[10];
    return v < 1.0 ? v : 1.0;
}

#endif
