# Rotated-box and quadrilateral IoU (csrc/rotated.c, geometry in csrc/rotated_pair.h),
# included by _core.pyx. The Python layer (fastap/rotated.py) validates the boxes
# (finite, non-negative sizes) before calling these.

# ROT_PAIRS_SERIAL_BELOW (n * m pairs) guards rotated_iou. A pair costs 3-7 ns where few
# boxes overlap (bounding boxes apart: no clipping) and about 50 ns where most do. Measured
# (loaded 2-core machine, best / median of 30, 1 thread against 2): 20 000 dense pairs
# 0.95 / 0.96 ms against 0.69 / 3.6 ms; 100 000 dense pairs 5.1 / 5.3 ms against 2.7 /
# 14 ms; 100 000 sparse pairs 0.70 / 0.76 ms against 0.32 / 0.36 ms. Below 50 000 pairs
# (at most some 2.5 ms) a team that waits for a busy core is not repaid.
ROT_PAIRS_SERIAL_BELOW = 50000
ROT_RECORD = FA_ROT_RECORD


def rotated_records(boxes, bint radians=False):
    """Records (float64 [n, ROT_RECORD]) of rotated boxes float64 [n, 5] (x_ctr, y_ctr,
    w, h, angle): the angle in degrees, or radians."""
    boxes = _check("boxes", boxes, np.float64, 2, 5)
    cdef int64_t n = boxes.shape[0]
    rec = np.empty((n, FA_ROT_RECORD), dtype=np.float64)
    if n == 0:
        return rec
    cdef const double[:, ::1] bv = boxes
    cdef double[:, ::1] rv = rec
    cdef int rad = radians
    with nogil:
        fa_rot_rbox_records(&bv[0, 0], n, rad, &rv[0, 0])
    return rec


def quad_records(quads):
    """(records float64 [n, ROT_RECORD], number of quads not convex in their given order)
    of quadrilaterals float64 [n, 8]; each record holds the quad's convex hull, and
    rec[:, 15] == 1 marks the non-convex ones."""
    quads = _check("quads", quads, np.float64, 2, 8)
    cdef int64_t n = quads.shape[0], bad = 0
    rec = np.empty((n, FA_ROT_RECORD), dtype=np.float64)
    if n == 0:
        return rec, 0
    cdef const double[:, ::1] qv = quads
    cdef double[:, ::1] rv = rec
    with nogil:
        bad = fa_rot_quad_records(&qv[0, 0], n, &rv[0, 0])
    return rec, bad


def rotated_iou(ra, rb, crowd=None, num_threads=None):
    """IoU of records ra [n, ROT_RECORD] against rb [m, ROT_RECORD] -> float64 [n, m],
    rows split across threads. crowd: uint8 [m] or None; where set, the column takes
    pycocotools' crowd rule (intersection over the area of the row's box)."""
    ra = _check("ra", ra, np.float64, 2, FA_ROT_RECORD)
    rb = _check("rb", rb, np.float64, 2, FA_ROT_RECORD)
    cdef int64_t n = ra.shape[0], m = rb.shape[0]
    out = np.empty((n, m), dtype=np.float64)
    if n == 0 or m == 0:
        return out
    cdef const uint8_t[::1] cv
    cdef const uint8_t *cp = NULL
    if crowd is not None:
        crowd = _check("crowd", crowd, np.uint8, 1, None)
        if crowd.shape[0] != m:
            raise ValueError("crowd should have %d entries, got %d" % (m, crowd.shape[0]))
        cv = crowd
        cp = &cv[0]
    cdef const double[:, ::1] av = ra
    cdef const double[:, ::1] bv = rb
    cdef double[:, ::1] ov = out
    cdef int nt = _threads(num_threads)
    cdef int64_t chunk = 16, nchunks = (n + chunk - 1) // chunk, c, r0, r1
    if n * m < ROT_PAIRS_SERIAL_BELOW:
        nt = 1
    with nogil:
        for c in prange(nchunks, num_threads=nt, schedule="dynamic"):
            r0 = c * chunk
            r1 = r0 + chunk
            if r1 > n:
                r1 = n
            if cp == NULL:
                fa_rot_iou(&av[r0, 0], r1 - r0, &bv[0, 0], m, &ov[r0, 0])
            else:
                fa_rot_iou_crowd(&av[r0, 0], r1 - r0, &bv[0, 0], m, cp, &ov[r0, 0])
    return out


def rotated_iou_rows(dt_rec, row_off, g_first, g_count, gt_rec, gt_crowd, int64_t total, num_threads=None):
    """The precomputed IoU rows of a COCO evaluation (fa_rot_iou_rows): float64 [total]
    where detection i's row of g_count[i] values starts at row_off[i] (-1: none).
    dt_rec [n, ROT_RECORD], gt_rec [G, ROT_RECORD] in grouped order; g_first / g_count
    int64 [n]: detection i's ground truths are gt_rec[g_first[i]:g_first[i] + g_count[i]];
    gt_crowd uint8 [G]."""
    dt_rec = _check("dt_rec", dt_rec, np.float64, 2, FA_ROT_RECORD)
    gt_rec = _check("gt_rec", gt_rec, np.float64, 2, FA_ROT_RECORD)
    cdef int64_t n = dt_rec.shape[0], ng = gt_rec.shape[0]
    row_off = _check("row_off", row_off, np.int64, 1, None)
    g_first = _check("g_first", g_first, np.int64, 1, None)
    g_count = _check("g_count", g_count, np.int64, 1, None)
    gt_crowd = _check("gt_crowd", gt_crowd, np.uint8, 1, None)
    if row_off.shape[0] != n or g_first.shape[0] != n or g_count.shape[0] != n or gt_crowd.shape[0] != ng:
        raise ValueError("rotated_iou_rows: row_off, g_first, g_count need one entry per detection record "
                         "and gt_crowd one per ground truth record")
    keep = row_off >= 0
    if total < 0 or (keep.any() and (int((row_off + g_count)[keep].max()) > total or
                                     int(g_first[keep].min()) < 0 or
                                     int((g_first + g_count)[keep].max()) > ng)):
        raise ValueError("rotated_iou_rows: rows outside the buffer or the ground truth")
    out = np.zeros(max(total, 1), dtype=np.float64)
    if n == 0 or not keep.any():
        return out
    cdef const double[:, ::1] dv = dt_rec
    cdef const double[:, ::1] gv = gt_rec if ng else np.zeros((1, FA_ROT_RECORD))
    cdef const int64_t[::1] rv = row_off
    cdef const int64_t[::1] fv = g_first
    cdef const int64_t[::1] cv = g_count
    cdef const uint8_t[::1] crv = gt_crowd if ng else np.zeros(1, np.uint8)
    cdef double[::1] ov = out
    cdef int nt = _threads(num_threads)
    cdef int64_t chunk = 64, nchunks = (n + chunk - 1) // chunk, c, r0, r1
    if total < ROT_PAIRS_SERIAL_BELOW:                   # as rotated_iou (see the top)
        nt = 1
    with nogil:
        for c in prange(nchunks, num_threads=nt, schedule="dynamic"):
            r0 = c * chunk
            r1 = r0 + chunk
            if r1 > n:
                r1 = n
            fa_rot_iou_rows(&dv[r0, 0], r1 - r0, &rv[r0], &fv[r0], &cv[r0], &gv[0, 0], &crv[0], &ov[0])
    return out


def rotated_best_gt(dt_rec, g_first, g_count, gt_rec, num_threads=None):
    """(best int64 [n], best_iou float64 [n]) of fa_rot_best_gt: for each detection
    record, the first ground truth of gt_rec[g_first[i]:g_first[i] + g_count[i]] with
    the highest IoU (-1 and -inf when it has none)."""
    dt_rec = _check("dt_rec", dt_rec, np.float64, 2, FA_ROT_RECORD)
    gt_rec = _check("gt_rec", gt_rec, np.float64, 2, FA_ROT_RECORD)
    g_first = _check("g_first", g_first, np.int64, 1, None)
    g_count = _check("g_count", g_count, np.int64, 1, None)
    cdef int64_t n = dt_rec.shape[0], ng = gt_rec.shape[0]
    if g_first.shape[0] != n or g_count.shape[0] != n:
        raise ValueError("rotated_best_gt: g_first and g_count need one entry per detection record")
    if n and (int(g_count.min()) < 0 or int(g_first.min()) < 0 or int((g_first + g_count).max()) > ng):
        raise ValueError("rotated_best_gt: ground-truth ranges outside gt_rec")
    best = np.empty(n, np.int64)
    best_iou = np.empty(n, np.float64)
    if n == 0:
        return best, best_iou
    cdef const double[:, ::1] dv = dt_rec
    cdef const double[:, ::1] gv = gt_rec if ng else np.zeros((1, FA_ROT_RECORD))
    cdef const int64_t[::1] fv = g_first
    cdef const int64_t[::1] cv = g_count
    cdef int64_t[::1] bv = best
    cdef double[::1] iv = best_iou
    cdef int nt = _threads(num_threads)
    cdef int64_t chunk = 64, nchunks = (n + chunk - 1) // chunk, c, r0, r1
    if int(g_count.sum()) < ROT_PAIRS_SERIAL_BELOW:      # as rotated_iou (see the top)
        nt = 1
    with nogil:
        for c in prange(nchunks, num_threads=nt, schedule="dynamic"):
            r0 = c * chunk
            r1 = r0 + chunk
            if r1 > n:
                r1 = n
            fa_rot_best_gt(&dv[r0, 0], r1 - r0, &fv[r0], &cv[r0], &gv[0, 0], &bv[r0], &iv[r0])
    return best, best_iou
