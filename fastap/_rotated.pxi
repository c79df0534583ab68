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


def rotated_iou(ra, rb, num_threads=None):
    """IoU of records ra [n, ROT_RECORD] against rb [m, ROT_RECORD] -> float64 [n, m],
    rows split across threads."""
    ra = _check("ra", ra, np.float64, 2, FA_ROT_RECORD)
    rb = _check("rb", rb, np.float64, 2, FA_ROT_RECORD)
    cdef int64_t n = ra.shape[0], m = rb.shape[0]
    out = np.empty((n, m), dtype=np.float64)
    if n == 0 or m == 0:
        return out
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
            fa_rot_iou(&av[r0, 0], r1 - r0, &bv[0, 0], m, &ov[r0, 0])
    return out
