# COCO RLE mask binding (see csrc/rle.c). Included by _core.pyx.
#
# Python objects (RLE dicts, polygons, boxes) are checked and turned into flat C arrays
# with the GIL held; the kernels then run without it, in parallel over objects (encode,
# decode, string parsing, polygons, boxes) or over detections (IoU). fastap/mask.py is
# the pycocotools.mask-compatible front end.

cdef uint64_t _RLE_MAX_PIXELS = 4294967295ULL


cdef tuple _rle_size(size, str where):
    """(h, w) from an RLE's 'size' (or h, w arguments): two integers >= 0, h*w < 2^32."""
    try:
        if len(size) != 2:
            raise InvalidAnnotationError("%s: 'size' must be [h, w], got %d values" % (where, len(size)))
        h = operator.index(size[0])
        w = operator.index(size[1])
    except (TypeError, KeyError, IndexError):      # not a sequence ({'h': .., 'w': ..}: KeyError)
        raise InvalidTypeError("%s: 'size' must be [h, w] (two integers), got %r" % (where, size)) from None
    return _rle_hw(h, w, where)


cdef tuple _rle_args_hw(h, w):
    """(h, w) from frPyObjects' h, w arguments."""
    try:
        h, w = operator.index(h), operator.index(w)
    except TypeError:
        raise InvalidTypeError("h, w should be integers, got %r, %r" % (h, w)) from None
    return _rle_hw(h, w, "h, w")


cdef tuple _rle_hw(h, w, str where):
    if h < 0 or w < 0:
        raise InvalidAnnotationError("%s: the image size must be non-negative, got [%d, %d]" % (where, h, w))
    if h > _RLE_MAX_PIXELS or w > _RLE_MAX_PIXELS:  # (Python ints: checked before any C cast)
        raise InvalidAnnotationError("%s: the image size [%d, %d] is out of range (h and w below 2^32, "
                                     "h*w too: COCO RLE counts are 32-bit)" % (where, h, w))
    if <uint64_t>h * <uint64_t>w > _RLE_MAX_PIXELS:
        raise InvalidAnnotationError("%s: the image size [%d, %d] has more than 2^32-1 pixels (COCO RLE "
                             "counts are 32-bit)" % (where, h, w))
    return h, w


cdef class _Rles:
    """Parsed RLEs: n fa_rle views into one uint32 buffer (owned here)."""
    cdef fa_rle *r
    cdef Py_ssize_t n
    cdef object buf

    def __dealloc__(self):
        free(self.r)


cdef _Rles _rles_parse(objs, str name, int nt):
    """Parse a list of RLE dicts {'size': [h, w], 'counts': bytes | str}; every string is
    validated (alphabet, truncation, count range, counts summing to h*w)."""
    if not isinstance(objs, (list, tuple)):
        raise InvalidTypeError("%s should be a list of RLE dicts, got %s" % (name, type(objs).__name__))
    cdef Py_ssize_t n = len(objs), i
    cdef _Rles R = _Rles()
    R.n = n
    R.r = <fa_rle *>malloc(max(n, 1) * sizeof(fa_rle))
    if R.r == NULL:
        raise MemoryError()
    keep = [None] * n
    hw = np.empty((n, 2), np.int64)
    lens = np.empty(n, np.int64)
    off = np.zeros(n + 1, np.int64)
    cdef int64_t[:, ::1] hwv = hw
    cdef int64_t[::1] lv = lens, ov = off
    for i in range(n):
        obj = objs[i]
        where = "%s[%d]" % (name, i)
        if not isinstance(obj, dict):
            raise InvalidTypeError("%s should be an RLE dict {'size': [h, w], 'counts': bytes}, got %s"
                                % (where, type(obj).__name__))
        if "size" not in obj or "counts" not in obj:
            raise InvalidAnnotationError("%s: an RLE dict needs 'size' and 'counts', got keys %s"
                                 % (where, sorted(map(str, obj))))
        h, w = _rle_size(obj["size"], where)
        counts = obj["counts"]
        if isinstance(counts, str):
            counts = (<str>counts).encode("utf-8", "surrogatepass")
        elif isinstance(counts, (bytearray, memoryview)):
            counts = bytes(counts)
        elif not isinstance(counts, bytes):
            if isinstance(counts, (list, tuple, np.ndarray)):
                raise InvalidTypeError("%s: 'counts' is a list (uncompressed RLE); convert it with "
                                    "frPyObjects(rle, h, w) first" % where)
            raise InvalidTypeError("%s: 'counts' should be bytes or str, got %s"
                                % (where, type(counts).__name__))
        keep[i] = counts
        hwv[i, 0] = h
        hwv[i, 1] = w
        lv[i] = PyBytes_GET_SIZE(counts)
        ov[i + 1] = ov[i] + lv[i]
    R.buf = np.empty(max(ov[n], 1), np.uint32)
    cdef uint32_t[::1] bv = R.buf
    cdef uint32_t *bp = &bv[0]
    cdef const char **sp = <const char **>malloc(max(n, 1) * sizeof(char *))
    if sp == NULL:
        raise MemoryError()
    status = np.zeros(n, np.int32)
    ms = np.zeros(n, np.int64)
    cdef int32_t[::1] stv = status
    cdef int64_t[::1] mv = ms
    cdef char msg[200]
    cdef int64_t maxlen = 0
    cdef void *chars = NULL
    try:
        for i in range(n):
            sp[i] = PyBytes_AS_STRING(keep[i])
            if lv[i] > maxlen:
                maxlen = lv[i]
        nt = max(1, min(nt, n // 64))
        # the in-text decoder (per-thread scratch); any failure is decoded again by the
        # strict one below, which names the reason
        with nogil, parallel(num_threads=nt):
            chars = malloc(fa_rle_text_scratch_bytes(maxlen))
            for i in prange(n, schedule="static"):
                if chars != NULL:
                    stv[i] = fa_rle_from_text(sp[i], lv[i], hwv[i, 0], hwv[i, 1], bp + ov[i], chars, &mv[i])
                else:
                    stv[i] = fa_rle_from_string(sp[i], lv[i], hwv[i, 0], hwv[i, 1], bp + ov[i], lv[i],
                                                &mv[i], NULL, 0)
            free(chars)
        for i in np.flatnonzero(status).tolist():
            msg[0] = 0
            if fa_rle_from_string(sp[i], lv[i], hwv[i, 0], hwv[i, 1], bp + ov[i], lv[i], &mv[i],
                                  msg, sizeof(msg)) != 0:
                raise InvalidAnnotationError("%s[%d]: invalid RLE 'counts': %s"
                                     % (name, i, (<bytes>msg).decode("utf-8", "replace")))
    finally:
        free(sp)
    for i in range(n):
        R.r[i].h = hwv[i, 0]
        R.r[i].w = hwv[i, 1]
        R.r[i].m = mv[i]
        R.r[i].cnts = bp + ov[i]
    return R


cdef int _rle_str_one(const uint32_t *cnts, int64_t m, char *out, int64_t *out_len) noexcept nogil:
    cdef fa_rle r
    r.h = 0
    r.w = 0
    r.m = m
    r.cnts = cnts
    out_len[0] = fa_rle_to_string(&r, out)
    return 0


cdef list _rle_dicts(const uint32_t *cnts, int64_t[::1] off, int64_t[::1] ms, hs, ws, int nt):
    """RLE dicts {'size': [h, w], 'counts': bytes} from counts at cnts + off[i], ms[i]
    entries each; hs, ws: per-object lists or one int each."""
    cdef Py_ssize_t n = ms.shape[0], i
    sb = np.zeros(n + 1, np.int64)
    cdef int64_t[::1] sbv = sb
    for i in range(n):
        sbv[i + 1] = sbv[i] + 7 * ms[i] + 1
    chars = np.empty(max(sbv[n], 1), np.uint8)
    slen = np.empty(n, np.int64)
    cdef uint8_t[::1] cv = chars
    cdef int64_t[::1] slv = slen
    cdef char *cp = <char *>&cv[0]
    nt = max(1, min(nt, n // 64))
    with nogil:
        for i in prange(n, num_threads=nt, schedule="static"):
            _rle_str_one(cnts + off[i], ms[i], cp + sbv[i], &slv[i])
    out = []
    scalar = not isinstance(hs, list)
    for i in range(n):
        out.append({"size": [hs, ws] if scalar else [hs[i], ws[i]],
                    "counts": PyBytes_FromStringAndSize(cp + sbv[i], slv[i])})
    return out


cdef int _rle_encode_one(const uint8_t *mask, int64_t h, int64_t w, uint32_t *tb, char **out,
                         int64_t *out_len) noexcept nogil:
    cdef fa_rle r
    r.h = h
    r.w = w
    r.cnts = tb
    r.m = fa_rle_encode(mask, h, w, tb)
    cdef char *s = <char *>malloc(<size_t>fa_rle_string_bound(&r))
    if s == NULL:
        return FA_ENOMEM
    out_len[0] = fa_rle_to_string(&r, s)
    out[0] = s
    return 0


def mask_encode(mask, num_threads=None):
    """RLE dicts of the masks mask[:, :, i]: uint8 (or bool) [h, w, n], Fortran-contiguous
    (each mask column-major, as pycocotools requires); nonzero = 1. Returns a list of n
    dicts {'size': [h, w], 'counts': bytes}."""
    if not isinstance(mask, np.ndarray):
        raise InvalidTypeError("mask should be a numpy.ndarray, got %s" % type(mask).__name__)
    if mask.dtype == np.bool_:
        mask = mask.view(np.uint8)
    if mask.dtype != np.uint8:
        raise InvalidTypeError("mask should have dtype uint8 (or bool), got %s" % mask.dtype)
    if mask.ndim != 3:
        raise InvalidAnnotationError("mask should be a 3d array [h, w, n], got %dD" % mask.ndim)
    if not mask.flags.f_contiguous:
        raise InvalidAnnotationError("mask should be Fortran-contiguous (column-major, as "
                             "pycocotools.mask.encode requires): use np.asfortranarray(mask)")
    h, w, n_ = mask.shape
    _rle_hw(h, w, "mask")
    cdef int64_t H = h, W = w, n = n_, HW = H * W, i
    cdef const uint8_t *base = <const uint8_t *>cnp.PyArray_DATA(mask)
    cdef char **strs = <char **>calloc(max(n, 1), sizeof(char *))
    if strs == NULL:
        raise MemoryError()
    slen = np.zeros(n, np.int64)
    status = np.zeros(n, np.int32)
    cdef int64_t[::1] slv = slen
    cdef int32_t[::1] stv = status
    cdef int nt = max(1, min(_threads(num_threads), n))
    cdef uint32_t *tb = NULL
    try:
        if n > 0:
            with nogil, parallel(num_threads=nt):
                tb = <uint32_t *>malloc(<size_t>(HW + 1) * sizeof(uint32_t))
                for i in prange(n, schedule="dynamic"):
                    if tb == NULL:
                        stv[i] = FA_ENOMEM
                    else:
                        stv[i] = _rle_encode_one(base + i * HW, H, W, tb, &strs[i], &slv[i])
                free(tb)
        if status.any():
            raise MemoryError("fastap.mask.encode: out of memory")
        return [{"size": [h, w], "counts": PyBytes_FromStringAndSize(strs[i], slv[i])}
                for i in range(n)]
    finally:
        for i in range(n):
            free(strs[i])
        free(strs)


def mask_decode(objs, num_threads=None):
    """Masks of a list of RLE dicts (all of one size): uint8 [h, w, n], Fortran order."""
    cdef int nt = _threads(num_threads)
    cdef _Rles R = _rles_parse(objs, "rleObjs", nt)
    cdef Py_ssize_t n = R.n, i
    if n == 0:
        raise InvalidAnnotationError("rleObjs is empty: decode needs at least one RLE (its size gives "
                             "the mask shape)")
    cdef int64_t H = R.r[0].h, W = R.r[0].w, HW = H * W
    for i in range(1, n):
        if R.r[i].h != H or R.r[i].w != W:
            raise InvalidAnnotationError("rleObjs[%d] has size [%d, %d], rleObjs[0] has [%d, %d]: decode "
                                 "needs RLEs of one size" % (i, R.r[i].h, R.r[i].w, H, W))
    out = np.empty((H, W, n), np.uint8, order="F")
    cdef uint8_t *base = <uint8_t *>cnp.PyArray_DATA(out)
    nt = max(1, min(nt, n))
    with nogil:
        for i in prange(n, num_threads=nt, schedule="static"):
            fa_rle_decode(&R.r[i], base + i * HW)  # counts were validated: cannot fail
    return out


def mask_area(objs, num_threads=None):
    """Areas (uint32 [n], pycocotools' type) of a list of RLE dicts."""
    cdef _Rles R = _rles_parse(objs, "rleObjs", _threads(num_threads))
    out = np.empty(R.n, np.uint32)
    cdef uint32_t[::1] ov = out
    cdef Py_ssize_t i
    with nogil:
        for i in range(R.n):
            ov[i] = <uint32_t>fa_rle_area(&R.r[i])
    return out


def mask_to_bbox(objs, num_threads=None):
    """Bounding boxes (float64 [n, 4], xywh) of a list of RLE dicts."""
    cdef int nt = _threads(num_threads)
    cdef _Rles R = _rles_parse(objs, "rleObjs", nt)
    out = np.empty((R.n, 4), np.float64)
    if R.n == 0:
        return out
    cdef double[:, ::1] ov = out
    cdef Py_ssize_t i
    nt = max(1, min(nt, R.n // 64))
    with nogil:
        for i in prange(R.n, num_threads=nt, schedule="static"):
            fa_rle_to_bbox(&R.r[i], &ov[i, 0])
    return out


def mask_merge(objs, bint intersect=False):
    """Union (or intersection) of a list of RLE dicts of one size, as one RLE dict."""
    cdef _Rles R = _rles_parse(objs, "rleObjs", 1)
    cdef Py_ssize_t n = R.n, i
    if n == 0:
        return {"size": [0, 0], "counts": b""}  # what pycocotools returns
    for i in range(1, n):
        if R.r[i].h != R.r[0].h or R.r[i].w != R.r[0].w:
            raise InvalidAnnotationError("rleObjs[%d] has size [%d, %d], rleObjs[0] has [%d, %d]: merge "
                                 "needs RLEs of one size"
                                 % (i, R.r[i].h, R.r[i].w, R.r[0].h, R.r[0].w))
    cdef int64_t cap = fa_rle_merge_bound(R.r, n), m
    buf = np.empty(max(cap, 1), np.uint32)
    cdef uint32_t[::1] bv = buf
    with nogil:
        m = fa_rle_merge(R.r, n, intersect, &bv[0])
    off = np.zeros(1, np.int64)
    ms = np.array([m], np.int64)
    return _rle_dicts(&bv[0], off, ms, R.r[0].h, R.r[0].w, 1)[0]


def mask_iou(dt, gt, iscrowd, num_threads=None):
    """pycocotools' rleIou of two lists of RLE dicts: float64 [m, n], Fortran order.
    iscrowd: uint8 [n] (already checked by the caller)."""
    cdef int nt = _threads(num_threads)
    cdef _Rles D = _rles_parse(dt, "dt", nt)
    cdef _Rles G = _rles_parse(gt, "gt", nt)
    cdef Py_ssize_t m = D.n, n = G.n, i
    crowd = np.ascontiguousarray(iscrowd, dtype=np.uint8)
    if crowd.shape[0] != n:
        raise InvalidAnnotationError("iscrowd has %d entries, gt has %d" % (crowd.shape[0], n))
    dbb = np.empty((max(m, 1), 4), np.float64)
    gbb = np.empty((max(n, 1), 4), np.float64)
    out = np.empty((m, n), np.float64, order="F")
    if m == 0 or n == 0:
        return out
    cdef double[:, ::1] dv = dbb, gv = gbb
    cdef const uint8_t[::1] cv = crowd
    cdef double *op = <double *>cnp.PyArray_DATA(out)
    cdef int ntb = max(1, min(nt, (m + n) // 64))
    with nogil:
        for i in prange(m, num_threads=ntb, schedule="static"):
            fa_rle_to_bbox(&D.r[i], &dv[i, 0])
        for i in prange(n, num_threads=ntb, schedule="static"):
            fa_rle_to_bbox(&G.r[i], &gv[i, 0])
    # out[d, g] lives at d + g*m (Fortran order, as pycocotools returns it)
    nt = max(1, min(nt, m))
    with nogil:
        for i in prange(m, num_threads=nt, schedule="dynamic"):
            fa_rle_iou_strided(&D.r[i], &dv[i, 0], 1, G.r, &gv[0, 0], n, &cv[0], op + i, 1, m)
    return out


def mask_box_iou(dt, gt, iscrowd):
    """pycocotools' bbIou: dt float64 [m, 4], gt [n, 4] (C-contiguous), iscrowd uint8 [n]
    -> float64 [m, n], Fortran order."""
    cdef const double[:, ::1] a = dt
    cdef const double[:, ::1] b = gt
    cdef const uint8_t[::1] c = iscrowd
    out = np.empty((a.shape[0], b.shape[0]), np.float64)
    cdef double[:, ::1] ov = out
    if a.shape[0] and b.shape[0]:
        with nogil:
            fa_box_iou_xywh(&a[0, 0], a.shape[0], &b[0, 0], b.shape[0], &c[0], &ov[0, 0])
    return np.asfortranarray(out)


cdef int64_t _rle_poly_one(const double *xy, int64_t k, int64_t h, int64_t w, uint32_t *cnts,
                           char *scratch, size_t scratch_bytes) noexcept nogil:
    if scratch == NULL and scratch_bytes > 0:
        return FA_ENOMEM
    return fa_rle_from_poly(xy, k, h, w, scratch, cnts)


def mask_from_polygons(polys, h, w, num_threads=None):
    """RLE dicts of polygons (each a flat sequence x0, y0, x1, y1, ...; an odd trailing
    value is ignored, as pycocotools does) rasterised in an h x w image."""
    h, w = _rle_args_hw(h, w)
    cdef int64_t H = h, W = w
    cdef Py_ssize_t n = len(polys), i
    arrs = [None] * n
    ks = np.empty(n, np.int64)
    caps = np.empty(n, np.int64)
    off = np.zeros(n + 1, np.int64)
    ms = np.zeros(n, np.int64)
    cdef int64_t[::1] kv = ks, cv = caps, ov = off, mv = ms
    cdef size_t sbytes = 0, sb
    cdef uint32_t[::1] bv
    cdef uint32_t *bp
    cdef int nt = max(1, min(_threads(num_threads), n // 16))
    cdef char *scratch = NULL
    cdef const double **xy = <const double **>malloc(max(n, 1) * sizeof(double *))
    if xy == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            try:
                a = np.ascontiguousarray(polys[i], dtype=np.float64)
            except (TypeError, ValueError) as e:
                raise InvalidTypeError("polygon %d should be a flat list of numbers [x0, y0, x1, y1, "
                                    "...]: %s" % (i, e)) from None
            if a.ndim != 1:
                raise InvalidAnnotationError("polygon %d should be a flat list [x0, y0, x1, y1, ...], got "
                                     "shape %s" % (i, a.shape))
            if a.shape[0] and not np.isfinite(a).all():
                raise InvalidAnnotationError("polygon %d has a non-finite coordinate" % i)
            arrs[i] = a
            kv[i] = a.shape[0] // 2
            xy[i] = <const double *>cnp.PyArray_DATA(a)
        with nogil:
            for i in range(n):
                cv[i] = fa_rle_poly_counts_bound(xy[i], kv[i], H, W)
                if cv[i] < 0:
                    break
                ov[i + 1] = ov[i] + cv[i]
                sb = fa_rle_poly_scratch_bytes(xy[i], kv[i], H, W)
                if sb > sbytes:
                    sbytes = sb
        bad = np.flatnonzero(caps < 0)
        if bad.size:
            raise InvalidAnnotationError("polygon %d has a coordinate too large to rasterise "
                                 "(|x|, |y| must be below 2^30 / 5)" % bad[0])
        buf = np.empty(max(ov[n], 1), np.uint32)
        bv = buf
        bp = &bv[0]
        if n > 0:
            with nogil, parallel(num_threads=nt):
                scratch = <char *>malloc(sbytes if sbytes > 0 else 1)
                for i in prange(n, schedule="dynamic"):
                    mv[i] = _rle_poly_one(xy[i], kv[i], H, W, bp + ov[i], scratch, sbytes)
                free(scratch)
        if (ms < 0).any():
            i = np.flatnonzero(ms < 0)[0]
            if ms[i] == FA_ENOMEM:
                raise MemoryError("fastap.mask: out of memory")
            raise RuntimeError("fastap.mask: polygon %d: rasteriser error %d" % (i, ms[i]))
        return _rle_dicts(bp, off, ms, h, w, _threads(num_threads))
    finally:
        free(xy)


def mask_from_boxes(bb, h, w, num_threads=None):
    """RLE dicts of boxes bb: float64 [n, 4] xywh (C-contiguous) in an h x w image."""
    h, w = _rle_args_hw(h, w)
    cdef int64_t H = h, W = w
    cdef const double[:, ::1] b = bb
    cdef Py_ssize_t n = b.shape[0], i
    caps = np.empty(n, np.int64)
    off = np.zeros(n + 1, np.int64)
    cdef int64_t[::1] cv = caps, ov = off
    with nogil:
        for i in range(n):
            cv[i] = fa_rle_bbox_counts_bound(&b[i, 0], H, W)
            if cv[i] < 0:
                break
            ov[i + 1] = ov[i] + cv[i]
    bad = np.flatnonzero(caps < 0)
    if bad.size:
        raise InvalidAnnotationError("box %d has a coordinate that is not finite or too large to "
                             "rasterise (|value| must be below 2^30 / 5)" % bad[0])
    buf = np.empty(max(ov[n], 1), np.uint32)
    ms = np.zeros(n, np.int64)
    cdef uint32_t[::1] bv = buf
    cdef int64_t[::1] mv = ms
    cdef uint32_t *bp = &bv[0]
    cdef int nt = max(1, min(_threads(num_threads), n // 16))
    if n > 0:
        with nogil:
            for i in prange(n, num_threads=nt, schedule="static"):
                mv[i] = fa_rle_from_bbox(&b[i, 0], H, W, bp + ov[i])
    if (ms < 0).any():
        raise RuntimeError("fastap.mask: box %d: rasteriser error" % np.flatnonzero(ms < 0)[0])
    return _rle_dicts(bp, off, ms, h, w, _threads(num_threads))


def mask_from_uncompressed(objs):
    """Compressed RLE dicts of uncompressed ones {'size': [h, w], 'counts': [ints]}; the
    size is each dict's own (pycocotools ignores frPyObjects' h and w here). The counts
    must be integers in 0..2^32-1 summing to h*w."""
    cdef Py_ssize_t n = len(objs), i
    parts = []
    hs = []
    ws = []
    ms = np.empty(n, np.int64)
    off = np.zeros(n + 1, np.int64)
    for i in range(n):
        obj = objs[i]
        where = "pyobj[%d]" % i
        if not isinstance(obj, dict) or "counts" not in obj or "size" not in obj:
            raise InvalidTypeError("%s should be an uncompressed RLE dict {'size': [h, w], "
                                "'counts': [ints]}" % where)
        h, w = _rle_size(obj["size"], where)
        counts = obj["counts"]
        if isinstance(counts, (bytes, str)):
            raise InvalidTypeError("%s: 'counts' is already compressed (%s); frPyObjects takes "
                                "uncompressed RLE (a list of ints)" % (where, type(counts).__name__))
        try:
            a = np.asarray(counts)
        except (ValueError, TypeError):             # ragged: NumPy's "inhomogeneous shape"
            raise InvalidTypeError("%s: 'counts' should be a flat list of integers, got %.80r"
                                   % (where, counts)) from None
        if a.ndim != 1 or not (a.size == 0 or np.issubdtype(a.dtype, np.integer)
                               or a.dtype == np.bool_):
            raise InvalidTypeError("%s: 'counts' should be a flat list of integers, got %s of %s"
                                % (where, a.shape, a.dtype))
        if a.size and (a.min() < 0 or a.max() > 4294967295):
            raise InvalidAnnotationError("%s: 'counts' must be in 0..2^32-1, got a value %d"
                                 % (where, a.min() if a.min() < 0 else a.max()))
        total = int(a.sum(dtype=np.uint64)) if a.size else 0
        if total != h * w:
            raise InvalidAnnotationError("%s: counts sum to %d, the image has %d pixels (%d x %d)"
                                 % (where, total, h * w, h, w))
        parts.append(a.astype(np.uint32))
        hs.append(h)
        ws.append(w)
        ms[i] = a.size
        off[i + 1] = off[i] + a.size
    buf = np.concatenate(parts) if parts else np.empty(0, np.uint32)
    if buf.size == 0:
        buf = np.zeros(1, np.uint32)
    cdef uint32_t[::1] bv = buf
    return _rle_dicts(&bv[0], off, ms, hs, ws, 1)
