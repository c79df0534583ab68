# Masks for evaluation: segmentations (from file spans or Python objects) to RLE sets,
# and RLE IoU per (category, image) run. Included by _core.pyx; uses rle.c and the
# segmentation value parser of json_results.c (declared in fastap/_capi.pxd).
#
# An RLE set is CSR: counts uint32 [total], off int64 [n + 1], hw int64 [n, 2]; with
# each mask's box (float64 [n, 4], pycocotools' rleToBbox) and area (float64 [n]).
# A set read from a file with ``lazy=True`` leaves compressed strings and polygons in the
# text: ``lazy`` int64 [n, 4] holds (byte offset in ``src``, length, number of counts,
# kind) for those (offset -1 for masks stored in cnts, which then have no counts there),
# and they are decoded where used (the IoU, per thread; see _sg_dec). A results file of
# 500k masks would otherwise fill some 250 MB of fresh memory with counts read once.
# kind: 0 a compressed string, 1 one whose text has "\\" escapes; 2 polygons (the
# segmentation value's whole text), rasterised once for their exact box and area, which
# the set holds; 3 polygons not rasterised at all (``exact=False``): the set's box is a
# bound of the mask's (the vertices' box widened by 2 px; the IoU rasterises a mask only
# when that bound meets a ground truth's box, then takes its exact box), the area NaN,
# the number of counts -1; 4 the same bound of polygons given as Python lists
# (rle_set_from_objects with ``lazy_polygons``), their numbers packed as float64 in
# ``src``: [number of polygons, their lengths, their numbers].

# A growable uint32 buffer (one per worker chunk). `fixed`: p points into memory the
# caller owns (a region of the output array); past its capacity the data moves to a
# malloc'd block, which the buffer then owns.
from libc.math cimport NAN
from libc.string cimport memset


ctypedef struct _sg_buf:
    uint32_t *p
    int64_t n
    int64_t cap
    int fixed


cdef int _sg_reserve(_sg_buf *b, int64_t extra) noexcept nogil:
    cdef int64_t want = b.n + extra
    cdef int64_t cap = b.cap
    cdef uint32_t *q
    if want <= cap:
        return 0
    if cap < 1024:
        cap = 1024
    while cap < want:
        cap *= 2
    if b.fixed:
        q = <uint32_t *>malloc(<size_t>cap * sizeof(uint32_t))
        if q != NULL and b.n:
            memcpy(q, b.p, <size_t>b.n * sizeof(uint32_t))
    else:
        q = <uint32_t *>realloc(b.p, <size_t>cap * sizeof(uint32_t))
    if q == NULL:
        return -1
    b.p = q
    b.cap = cap
    b.fixed = 0
    return 0


# Per-record failure codes (the message is composed with the GIL afterwards).
cdef enum:
    _SG_OK = 0
    _SG_NOMEM = 1
    _SG_JSON = 2          # the segmentation value is malformed (err holds why)
    _SG_NOPOLY = 3        # an empty polygon list (pycocotools: IndexError)
    _SG_SHORTPOLY = 4     # the first polygon has fewer than 4 numbers (pycocotools: unsupported)
    _SG_BOXLEN = 5        # boxes (first list of 4 numbers) of another length
    _SG_STRING = 6        # bad compressed counts (msg)
    _SG_COUNTS = 7        # uncompressed counts: not non-negative integers, or a sum != h*w
    _SG_NOSIZE = 8        # polygons on an image without width / height
    _SG_MISSING = 9       # no segmentation
    _SG_COORD = 10        # a polygon coordinate that is not finite or is absurdly large
    _SG_BOUND = 11        # a poly_bound row that is no vertex box (a caller's error)
    _SG_FINITE = 12       # a polygon number that is not finite (Python objects)


cdef int _sg_convert(const fa_json_segm *sg, const double *values, const int64_t *poly_len,
                     const char *strv, int64_t img_h, int64_t img_w, _sg_buf *out,
                     _sg_buf *tmp, _sg_buf *scr, char *msg, size_t msg_len, int64_t *h_out,
                     int64_t *w_out) noexcept nogil:
    """Append one segmentation's RLE counts to `out` (pycocotools annToRLE: polygons are
    rasterised at the image size and merged; a list whose first entry has 4 numbers is
    boxes; RLE objects keep their own size)."""
    cdef int64_t i, k, m, off, total
    cdef fa_rle *rs = NULL
    cdef int64_t *starts = NULL
    cdef double v
    cdef uint64_t s
    cdef int rc
    if sg.kind == 2:                           # compressed counts string
        h_out[0] = sg.h
        w_out[0] = sg.w
        if _sg_reserve(out, sg.n_chars + 1):
            return _SG_NOMEM
        rc = fa_rle_from_string(strv, sg.n_chars, sg.h, sg.w, out.p + out.n, sg.n_chars + 1, &m, msg, msg_len)
        if rc != 0:
            return _SG_STRING
        out.n += m
        return _SG_OK
    if sg.kind == 3:                           # uncompressed counts list
        h_out[0] = sg.h
        w_out[0] = sg.w
        if _sg_reserve(out, sg.n_values):
            return _SG_NOMEM
        s = 0
        for i in range(sg.n_values):
            v = values[i]
            if not (v >= 0 and v <= 4294967295.0 and v == <double>(<uint64_t>v)):
                return _SG_COUNTS
            out.p[out.n + i] = <uint32_t>v
            s += <uint64_t>v
        if s != <uint64_t>(sg.h * sg.w):
            return _SG_COUNTS
        out.n += sg.n_values
        return _SG_OK
    # polygons (or boxes, when the first list has 4 numbers: pycocotools frPyObjects)
    if sg.n_poly == 0:
        return _SG_NOPOLY
    if img_h < 0 or img_w < 0:
        return _SG_NOSIZE
    h_out[0] = img_h
    w_out[0] = img_w
    if poly_len[0] < 4:
        return _SG_SHORTPOLY
    rs = <fa_rle *>malloc(<size_t>sg.n_poly * sizeof(fa_rle))
    starts = <int64_t *>malloc(<size_t>sg.n_poly * sizeof(int64_t))
    if rs == NULL or starts == NULL:
        free(rs)
        free(starts)
        return _SG_NOMEM
    tmp.n = 0
    off = 0
    rc = _SG_OK
    for i in range(sg.n_poly):
        if poly_len[0] == 4 and poly_len[i] != 4:
            rc = _SG_BOXLEN
            break
        for k in range(off, off + poly_len[i]):
            if not (values[k] > -2e8 and values[k] < 2e8):
                rc = _SG_COORD
                break
        if rc != _SG_OK:
            break
        if poly_len[0] == 4:
            if _sg_reserve(tmp, fa_rle_bbox_counts_bound(values + off, img_h, img_w)):
                rc = _SG_NOMEM
                break
            m = fa_rle_from_bbox(values + off, img_h, img_w, tmp.p + tmp.n)
        else:
            k = poly_len[i] // 2
            total = fa_rle_poly_counts_bound(values + off, k, img_h, img_w)
            if _sg_reserve(tmp, total):
                rc = _SG_NOMEM
                break
            # the sort's scratch, total entries (fa_rle_poly_scratch_bytes), reused
            scr.n = 0
            if _sg_reserve(scr, total if total > 0 else 1):
                rc = _SG_NOMEM
                break
            m = fa_rle_from_poly_cap(values + off, k, img_h, img_w, total, scr.p, tmp.p + tmp.n)
        if m < 0:
            rc = _SG_NOMEM if m == -1 else _SG_COORD
            break
        rs[i].h = img_h
        rs[i].w = img_w
        rs[i].m = m
        starts[i] = tmp.n
        tmp.n += m
        off += poly_len[i]
    if rc == _SG_OK:
        for i in range(sg.n_poly):
            rs[i].cnts = tmp.p + starts[i]      # tmp no longer moves
        if sg.n_poly == 1:
            if _sg_reserve(out, rs[0].m):
                rc = _SG_NOMEM
            else:
                memcpy(out.p + out.n, rs[0].cnts, <size_t>rs[0].m * sizeof(uint32_t))
                out.n += rs[0].m
        else:
            total = fa_rle_merge_bound(rs, sg.n_poly)
            if _sg_reserve(out, total):
                rc = _SG_NOMEM
            else:
                out.n += fa_rle_merge(rs, sg.n_poly, 0, out.p + out.n)
    free(rs)
    free(starts)
    return rc


_SG_REASONS = {
    _SG_NOPOLY: "an empty polygon list (pycocotools fails on it too)",
    _SG_SHORTPOLY: "a polygon needs at least 3 points (6 numbers); pycocotools rejects lists whose first "
                   "entry has fewer than 4 numbers",
    _SG_BOXLEN: "the first polygon has 4 numbers, which pycocotools reads as boxes [x, y, w, h], "
                "but another entry is not a box",
    _SG_COUNTS: "uncompressed RLE counts must be non-negative integers summing to height * width",
    _SG_NOSIZE: "polygons need the image's height and width (the image entry has none)",
    _SG_MISSING: "missing field 'segmentation'",
    _SG_COORD: "polygon coordinates must be finite numbers within +-2e8",
}


cdef _sg_fail(int code, Py_ssize_t i, what, str json_msg, str rle_msg):
    if code == _SG_NOMEM:
        raise MemoryError("fastap: out of memory converting masks")
    if code == _SG_JSON:
        raise ValueError("%s record %d: %s" % (what, i, json_msg))
    if code == _SG_STRING:
        raise ValueError("%s record %d: segmentation: %s" % (what, i, rle_msg))
    if code == _SG_MISSING:
        raise ValueError("%s record %d: missing field 'segmentation'" % (what, i))
    if code == _SG_BOUND:
        raise ValueError("poly_bound should hold NaN rows or vertex boxes (x0, y0, x1, y1) within 2e8: row %d "
                         "is neither" % i)
    raise ValueError("%s record %d: segmentation: %s" % (what, i, _SG_REASONS[code]))


def _sg_finish(list chunks, Py_ssize_t n, hw):
    """Concatenate the chunks' counts into one CSR set; boxes and areas of every mask."""
    lens = np.concatenate([c[1] for c in chunks]) if chunks else np.zeros(0, np.int64)
    off = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=off[1:])
    cnts = np.concatenate([c[0] for c in chunks]) if chunks else np.zeros(0, np.uint32)
    return rle_set_stats(cnts, off, hw)


def rle_set_stats(cnts, off, hw):
    """dict(cnts, off, hw, bbox float64 [n, 4], area float64 [n]) of an RLE set."""
    cnts = np.ascontiguousarray(cnts, dtype=np.uint32)
    off = np.ascontiguousarray(off, dtype=np.int64)
    hw = np.ascontiguousarray(hw, dtype=np.int64).reshape(-1, 2)
    cdef Py_ssize_t n = hw.shape[0], i
    bbox = np.zeros((max(n, 1), 4))
    area = np.zeros(max(n, 1))
    cdef double[:, ::1] bv = bbox
    cdef double[::1] av = area
    cdef const int64_t[::1] ov = off
    cdef const int64_t[:, ::1] hv = hw
    c1 = cnts if cnts.shape[0] else np.zeros(1, np.uint32)
    cdef const uint32_t[::1] cv = c1
    with nogil:
        for i in prange(n, schedule="static"):
            _sg_stats_one(hv[i, 0], hv[i, 1], ov[i + 1] - ov[i], &cv[0] + ov[i], &bv[i, 0], &av[i])
    return {"cnts": cnts, "off": off, "hw": hw, "bbox": bbox[:n], "area": area[:n]}


cdef void _sg_stats_one(int64_t h, int64_t w, int64_t m, const uint32_t *cnts, double *bb,
                        double *area) noexcept nogil:
    cdef fa_rle r
    r.h = h
    r.w = w
    r.m = m
    r.cnts = cnts
    fa_rle_to_bbox(&r, bb)
    area[0] = <double>fa_rle_area(&r)


cdef int _sg_poly_bound(const fa_json_segm *sg, const double *values, const int64_t *poly_len,
                        int64_t img_h, int64_t img_w, double *bb) noexcept nogil:
    """Check polygons as _sg_convert does, without rasterising them; a box that holds
    their mask (bb, xywh): the vertices' box widened by 2 px (pycocotools' rleFrPoly only
    sets pixels within a pixel of the vertices' range: it rounds 5x the coordinates, and
    keeps crossings of pixel-column centres, rows clamped into the image). _SG_OK, or the
    code _sg_convert would return."""
    cdef int64_t i, k, off = 0
    cdef double v, x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300
    if sg.n_poly == 0:
        return _SG_NOPOLY
    if img_h < 0 or img_w < 0:
        return _SG_NOSIZE
    if poly_len[0] < 4:
        return _SG_SHORTPOLY
    for i in range(sg.n_poly):
        for k in range(off, off + poly_len[i]):
            v = values[k]
            if not (v > -2e8 and v < 2e8):
                return _SG_COORD
        for k in range(poly_len[i] // 2):
            v = values[off + 2 * k]
            x0 = v if v < x0 else x0
            x1 = v if v > x1 else x1
            v = values[off + 2 * k + 1]
            y0 = v if v < y0 else y0
            y1 = v if v > y1 else y1
        off += poly_len[i]
    _sg_widen(x0, y0, x1, y1, img_h, img_w, bb)
    return _SG_OK


cdef void _sg_widen(double x0, double y0, double x1, double y1, int64_t img_h, int64_t img_w,
                    double *bb) noexcept nogil:
    """_sg_poly_bound's box (xywh) from the vertices' box (x0, y0, x1, y1; x1 < x0:
    no vertex), coordinates in (-2e8, 2e8)."""
    cdef int64_t t
    if x1 < x0 or img_h * img_w > <int64_t>4294967295:
        # no vertex (an empty mask), or positions that wrap modulo 2^32: the whole image
        bb[0] = bb[1] = 0
        bb[2] = <double>img_w
        bb[3] = <double>img_h
        return
    t = <int64_t>x0
    bb[0] = <double>(t - (t > x0) - 2)
    t = <int64_t>y0
    bb[1] = <double>(t - (t > y0) - 2)
    t = <int64_t>x1
    bb[2] = <double>(t + (t < x1) + 2) - bb[0]
    t = <int64_t>y1
    bb[3] = <double>(t + (t < y1) + 2) - bb[1]


cdef int _sg_poly_lazy(const fa_json_segm *sg, const double *values, const int64_t *poly_len,
                       int64_t img_h, int64_t img_w, bint exact, _sg_buf *out, _sg_buf *tmp,
                       _sg_buf *scr, char *msg, double *bb, double *area, int64_t *m) noexcept nogil:
    """Polygons left in the text (lazy kinds 2 and 3, see the top of this file): with
    `exact`, rasterised into `out` (then dropped) for their box and area and number of
    counts; else only checked, with a bounding box (_sg_poly_bound). _SG_OK or an error
    code (as _sg_convert's)."""
    cdef int64_t hh, ww
    cdef fa_rle r
    cdef int rc
    if not exact:
        m[0] = -1
        area[0] = NAN
        return _sg_poly_bound(sg, values, poly_len, img_h, img_w, bb)
    out.n = 0
    rc = _sg_convert(sg, values, poly_len, NULL, img_h, img_w, out, tmp, scr, msg, 160, &hh, &ww)
    if rc != _SG_OK:
        return rc
    r.h = hh
    r.w = ww
    r.m = out.n
    r.cnts = out.p
    fa_rle_to_bbox(&r, bb)
    area[0] = <double>fa_rle_area(&r)
    m[0] = out.n
    return _SG_OK


cdef int _sg_poly_given(const double *vb, int64_t img_h, int64_t img_w, int64_t start, int64_t length,
                        int64_t *lz, int64_t *hw, double *bb, double *area) noexcept nogil:
    """A lazy kind-3 row (see the top of this file) of polygons at [start, start +
    length) whose vertices' box the results scan read (vb: x0, y0, x1, y1)."""
    if not (vb[0] <= vb[2] and vb[1] <= vb[3] and vb[0] > -2e8 and vb[1] > -2e8 and vb[2] < 2e8 and vb[3] < 2e8):
        return _SG_BOUND
    if img_h < 0 or img_w < 0:
        return _SG_NOSIZE
    _sg_widen(vb[0], vb[1], vb[2], vb[3], img_h, img_w, bb)
    area[0] = NAN
    lz[0] = start
    lz[1] = length
    lz[2] = -1
    lz[3] = 3
    hw[0] = img_h
    hw[1] = img_w
    return _SG_OK


cdef int _sg_chunk(const char *buf, const int64_t *spans, const int64_t *img_h,
                   const int64_t *img_w, int64_t b, int64_t e, _sg_buf *ob,
                   int64_t *lens, int64_t *hw, double *bbox, double *area, char *msg,
                   int64_t *where, int64_t *lazy, const int32_t *rle_fields, bint exact,
                   const double *vbox) noexcept nogil:
    """Records [b, e): parse each segmentation span, append its RLE counts to ob; the
    mask's box and area while its counts are in cache. With `lazy` (int64 [n, 4]),
    compressed strings are validated and measured in the text, and left there, and so are
    polygons (rasterised for their box and area with `exact`, else only bounded, by
    `vbox` (the scan's seg_bound, float64 [n, 4]) where known, without reading them)."""
    cdef int64_t i, L, m, maxlen = 1
    cdef const char *sp
    cdef int parsed, keep, re
    cdef int64_t rh, rw, rs, rl
    cdef fa_rle r
    cdef _sg_buf tb, sb2, pb
    cdef fa_json_segm sg
    cdef fa_json_error jerr_
    cdef int rc = _SG_OK
    tb.p = NULL
    tb.n = 0
    tb.cap = 0
    tb.fixed = 0
    sb2 = tb
    pb = tb
    cdef int64_t total = 0
    for i in range(b, e):
        L = spans[2 * i + 1] - spans[2 * i]
        total += L
        if L > maxlen:
            maxlen = L
    cdef double *values = <double *>malloc(<size_t>maxlen * sizeof(double))
    cdef int64_t *plen = <int64_t *>malloc(<size_t>maxlen * sizeof(int64_t))
    cdef char *strv = <char *>malloc(<size_t>maxlen)
    cdef uint32_t *tcnt = <uint32_t *>malloc(<size_t>(maxlen + 1) * sizeof(uint32_t)) if lazy != NULL else NULL
    cdef void *tchr = malloc(fa_rle_text_scratch_bytes(maxlen)) if lazy != NULL else NULL
    if values == NULL or plen == NULL or strv == NULL or (lazy != NULL and (tcnt == NULL or tchr == NULL)):
        rc = _SG_NOMEM
        where[0] = b
    else:
        for i in range(b, e):
            sp = buf + spans[2 * i]
            L = spans[2 * i + 1] - spans[2 * i]
            parsed = 0
            keep = 0
            if lazy != NULL:
                if vbox != NULL and vbox[4 * i] == vbox[4 * i]:
                    # polygons the scan has read and checked (see fa_json_geometry.seg_bound)
                    rc = _sg_poly_given(vbox + 4 * i, img_h[i], img_w[i], spans[2 * i], L, lazy + 4 * i, hw + 2 * i,
                                        bbox + 4 * i, &area[i])
                    if rc != _SG_OK:
                        where[0] = i
                        break
                    lens[i] = 0
                    continue
                if rle_fields != NULL and rle_fields[5 * i] >= 0:
                    rh, rw, rs, rl = rle_fields[5 * i], rle_fields[5 * i + 1], rle_fields[5 * i + 2], rle_fields[5 * i + 3]
                    re = <int>rle_fields[5 * i + 4]
                    keep = 1      # read by the results scan already
                elif fa_json_rle_object(sp, <size_t>L, &rh, &rw, &rs, &rl, &re):
                    keep = 1      # the common {"size": [h, w], "counts": "..."}, read without the parser
                elif fa_json_segmentation_parse(sp, <size_t>L, values, plen, NULL, maxlen, &sg, &jerr_) == 0:
                    if sg.kind == 2 and sg.raw_esc <= 1:
                        rs, rl, re, rh, rw = sg.raw_start, sg.raw_len, sg.raw_esc, sg.h, sg.w
                        keep = 1
                    else:
                        # polygons and counts lists are parsed; a string with other
                        # escapes goes through the strict path below
                        parsed = sg.kind != 2
                        if sg.kind == 1 and not (sg.n_poly > 0 and plen[0] == 4):      # polygons, not boxes
                            rc = _sg_poly_lazy(&sg, values, plen, img_h[i], img_w[i], exact, &pb, &tb, &sb2, msg,
                                               bbox + 4 * i, &area[i], &m)
                            if rc != _SG_OK:
                                where[0] = i
                                break
                            lazy[4 * i] = spans[2 * i]
                            lazy[4 * i + 1] = L
                            lazy[4 * i + 2] = m
                            lazy[4 * i + 3] = 2 if exact else 3
                            hw[2 * i] = img_h[i]
                            hw[2 * i + 1] = img_w[i]
                            lens[i] = 0
                            continue
            if keep and fa_rle_text_stats(sp + rs, rl, re, rh, rw, tcnt, tchr, &m, &area[i], bbox + 4 * i) == 0:
                lazy[4 * i] = spans[2 * i] + rs
                lazy[4 * i + 1] = rl
                lazy[4 * i + 2] = m
                lazy[4 * i + 3] = re
                hw[2 * i] = rh
                hw[2 * i + 1] = rw
                lens[i] = 0
                continue
            # anything else, invalid strings included: the strict path (which names what is wrong)
            if not parsed and fa_json_segmentation_parse(sp, <size_t>L, values, plen, strv, maxlen, &sg, &jerr_) != 0:
                rc = _SG_JSON
                where[0] = i
                memcpy(msg, jerr_.message, 160)
                break
            L = ob.n
            rc = _sg_convert(&sg, values, plen, buf + spans[2 * i] + sg.str_start if sg.kind == 2 and sg.str_start >= 0 else strv,
                             img_h[i], img_w[i], ob, &tb, &sb2, msg, 160, &hw[2 * i], &hw[2 * i + 1])
            if rc != _SG_OK:
                where[0] = i
                break
            lens[i] = ob.n - L
            r.h = hw[2 * i]
            r.w = hw[2 * i + 1]
            r.m = lens[i]
            r.cnts = ob.p + L
            fa_rle_to_bbox(&r, bbox + 4 * i)
            area[i] = <double>fa_rle_area(&r)
    free(values)
    free(plen)
    free(strv)
    free(tcnt)
    free(tchr)
    free(tb.p)
    free(sb2.p)
    free(pb.p)
    return rc


cdef _sg_rle_fields(rle_fields, spans, Py_ssize_t n):
    """rle_fields (int [n, 5], parse_results_json's seg_rle) as int32, checked: every
    known row (h >= 0) locates a counts string inside its span."""
    rle_fields = np.asarray(rle_fields)
    if rle_fields.dtype != np.int32:
        if rle_fields.dtype.kind not in "iu" or (rle_fields.size and (
                rle_fields.min() < -1 or rle_fields.max() > 2147483647)):
            raise ValueError("rle_fields should hold int32 values")
    rle_fields = np.ascontiguousarray(rle_fields, dtype=np.int32)
    if rle_fields.shape != (n, 5):
        raise ValueError("rle_fields should be int32 [%d, 5]" % n)
    rf = rle_fields
    known = rf[:, 0] >= 0
    end = rf[:, 2].astype(np.int64) + rf[:, 3]
    if (known & ((rf[:, 1] < 0) | (rf[:, 2] < 0) | (rf[:, 3] < 0) | (end > spans[:, 1] - spans[:, 0])
                 | (rf[:, 4] < 0) | (rf[:, 4] > 1))).any():
        raise ValueError("rle_fields should locate each counts string inside its span")
    return rle_fields


cdef _sg_poly_bounds(poly_bound, Py_ssize_t n):
    """poly_bound (float64 [n, 4], parse_results_json's seg_bound) of the right shape;
    its rows (all NaN in column 0, or a vertex box x0 <= x1, y0 <= y1 inside (-2e8,
    2e8)) are checked where they are read (_sg_poly_given)."""
    pb = np.ascontiguousarray(poly_bound, dtype=np.float64)
    if pb.shape != (n, 4):
        raise ValueError("poly_bound should be float64 [%d, 4]" % n)
    return pb


cdef _sg_join_chunks(_sg_buf *obs, Py_ssize_t nc, big):
    """The chunks' counts as one uint32 array, in chunk order: `big` itself when every
    chunk stayed in its region of it (the gaps closed: regions move down, in order), else
    a concatenation."""
    cdef Py_ssize_t c
    cdef int64_t pos = 0
    cdef uint32_t *bigp = <uint32_t *>cnp.PyArray_DATA(big)
    if all(obs[c].fixed for c in range(nc)):
        for c in range(nc):
            if obs[c].n and bigp + pos != obs[c].p:
                memmove(bigp + pos, obs[c].p, <size_t>obs[c].n * sizeof(uint32_t))
            pos += obs[c].n
        return big[:pos]
    chunks = []
    for c in range(nc):
        arr = np.empty(obs[c].n, np.uint32)
        if obs[c].n:
            memcpy(<void *>cnp.PyArray_DATA(arr), obs[c].p, <size_t>obs[c].n * sizeof(uint32_t))
        chunks.append(arr)
    return np.concatenate(chunks)


def rle_set_from_spans(data, spans, img_h, img_w, what="annotations", num_threads=None, bint lazy=False,
                       rle_fields=None, bint exact=True, poly_bound=None):
    """RLE set of the segmentations whose JSON values lie at ``spans`` (int64 [n, 2]) in
    ``data``; ``img_h``, ``img_w``: int64 [n] image sizes for polygons (-1: unknown).
    Runs without the GIL, records split across threads. Errors name the record.
    ``lazy``: compressed strings stay in ``data`` (validated, with their boxes and
    areas; see the top of this file), which the set then keeps. ``rle_fields`` (with
    ``lazy``): int [n, 5] from the results scan (``seg_rle`` of parse_results_json):
    h, w, counts offset in the span, counts length, escaped -- rows with h >= 0 are not
    parsed again. ``exact=False`` (with ``lazy``): polygons are not rasterised, and the
    set holds a bound of their box and NaN areas (lazy kind 3: for the IoU only).
    ``poly_bound`` (with ``lazy`` and ``exact=False``): float64 [n, 4], the results
    scan's ``seg_bound`` -- rows not NaN are polygons whose vertices' box it holds (x0,
    y0, x1, y1), already read and checked: their text is not read again."""
    cdef const unsigned char[::1] buf = _jr_bytes_view(data, "rle_set_from_spans")
    spans = np.ascontiguousarray(spans, dtype=np.int64).reshape(-1, 2)
    img_h = np.ascontiguousarray(img_h, dtype=np.int64)
    img_w = np.ascontiguousarray(img_w, dtype=np.int64)
    cdef Py_ssize_t n = spans.shape[0], total = buf.shape[0]
    if img_h.shape[0] != n or img_w.shape[0] != n:
        raise ValueError("img_h / img_w should have one entry per span")
    bad_span = (spans[:, 0] < 0) | (spans[:, 1] < spans[:, 0]) | (spans[:, 1] > total)
    if n and bad_span.any():
        _sg_fail(_SG_MISSING, int(np.flatnonzero(bad_span)[0]), what, "", "")
    if n == 0:
        return rle_set_stats(np.zeros(0, np.uint32), np.zeros(1, np.int64),
                             np.zeros((0, 2), np.int64))
    cdef int nt = _threads(num_threads)
    if nt > n // 64 + 1:
        nt = n // 64 + 1
    # a few chunks of records per thread, handed out as threads come free (strings differ
    # in length, so equal record counts are not equal work)
    cdef int nc = nt if nt == 1 else min(4 * nt, <int>(n // 64 + 1))
    bounds = np.linspace(0, n, nc + 1).astype(np.int64)
    hw = np.full((n, 2), -1, np.int64)
    lens = np.zeros(n, np.int64)
    bbox = np.zeros((n, 4))
    area = np.zeros(n)
    cdef double[:, ::1] bbv = bbox
    cdef double[::1] arv = area
    codes = np.zeros(nc, np.int32)
    where = np.full(nc, -1, np.int64)
    msgs = np.zeros((nc, 192), np.uint8)
    cdef const int64_t[:, ::1] sv = spans
    cdef const int64_t[::1] hv = img_h
    cdef const int64_t[::1] wv = img_w
    cdef int64_t[:, ::1] hwv = hw
    cdef int64_t[::1] lv = lens
    cdef const int64_t[::1] bv = bounds
    cdef int[::1] codev = codes
    cdef int64_t[::1] wherev = where
    cdef unsigned char[:, ::1] msgv = msgs
    lz = np.full((n if lazy else 1, 4), -1, np.int64)
    cdef int64_t[:, ::1] lzv = lz
    cdef int64_t *lzp = &lzv[0, 0] if lazy else NULL
    cdef const int32_t[:, ::1] rfv
    cdef const int32_t *rfp = NULL
    if rle_fields is not None and lazy:
        rle_fields = _sg_rle_fields(rle_fields, spans, n)
        rfv = rle_fields
        rfp = &rfv[0, 0]
    cdef const double[:, ::1] pbv
    cdef const double *pbp = NULL
    if poly_bound is not None and lazy and not exact:
        poly_bound = _sg_poly_bounds(poly_bound, n)
        pbv = poly_bound
        pbp = &pbv[0, 0]
    # every chunk writes its counts into its own region of one array, sized by the text
    # (a compressed count takes at least one character; untouched pages cost nothing);
    # a chunk whose polygons need more moves to a block of its own
    region = np.zeros(nc + 1, np.int64)
    np.cumsum(np.add.reduceat(spans[:, 1] - spans[:, 0], bounds[:nc]), out=region[1:])
    big = np.empty(max(int(region[nc]), 1), np.uint32)
    cdef uint32_t *bigp = <uint32_t *>cnp.PyArray_DATA(big)
    cdef _sg_buf *obs = <_sg_buf *>malloc(<size_t>nc * sizeof(_sg_buf))
    if obs == NULL:
        raise MemoryError()
    cdef Py_ssize_t c
    cdef const int64_t[::1] rv = region
    for c in range(nc):
        obs[c].p = bigp + rv[c]
        obs[c].n = 0
        obs[c].cap = rv[c + 1] - rv[c]
        obs[c].fixed = 1
    try:
        with nogil:
            for c in prange(nc, num_threads=nt, schedule="dynamic"):
                codev[c] = _sg_chunk(<const char *>&buf[0], &sv[0, 0], &hv[0], &wv[0], bv[c], bv[c + 1],
                                     &obs[c], &lv[0], &hwv[0, 0], &bbv[0, 0], &arv[0],
                                     <char *>&msgv[c, 0], &wherev[c], lzp, rfp, exact, pbp)
        for c in range(nc):
            if codes[c] != _SG_OK:
                m = bytes(msgs[c]).split(b"\0", 1)[0].decode("utf-8", "replace")
                _sg_fail(codes[c], int(where[c]), what, "segmentation: " + m, m)
        cnts = _sg_join_chunks(obs, nc, big)
    finally:
        for c in range(nc):
            if not obs[c].fixed:
                free(obs[c].p)
        free(obs)
    off = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=off[1:])
    out = {"cnts": cnts, "off": off, "hw": hw, "bbox": bbox, "area": area}
    if lazy and (lz[:, 0] >= 0).any():
        out["lazy"] = lz
        out["src"] = data
    return out


# Decoding a mask a lazy set left in its text (see the top of this file), one worker's
# buffers, grown as needed and reused from mask to mask.
ctypedef struct _sg_dec:
    double *values                # the polygons' numbers [vcap]
    int64_t *plen                 # their lengths [vcap]
    int64_t vcap
    void *chars                   # a compressed string's scratch, for ccap characters
    int64_t ccap
    _sg_buf out                   # the counts
    _sg_buf tmp
    _sg_buf scr


cdef void _sg_dec_init(_sg_dec *d) noexcept nogil:
    memset(d, 0, sizeof(_sg_dec))


cdef void _sg_dec_free(_sg_dec *d) noexcept nogil:
    free(d.values)
    free(d.plen)
    free(d.chars)
    free(d.out.p)
    free(d.tmp.p)
    free(d.scr.p)
    memset(d, 0, sizeof(_sg_dec))


cdef int64_t _sg_dec_lazy(_sg_dec *d, const char *src, const int64_t *lz, int64_t h,
                          int64_t w) noexcept nogil:
    """The counts of the mask at lazy row `lz` (in d.out.p): their number, -1 when out
    of memory, -2 when the text does not decode (a set not made by rle_set_from_spans)."""
    cdef int64_t L = lz[1], hh, ww
    cdef fa_json_segm sg
    cdef fa_json_error err
    cdef char msg[192]
    cdef int rc
    d.out.n = 0
    if lz[3] <= 1:                                # a compressed string
        if _sg_reserve(&d.out, L + 1):
            return -1
        if L > d.ccap:
            free(d.chars)
            d.chars = malloc(fa_rle_text_scratch_bytes(L))
            d.ccap = L if d.chars != NULL else 0
            if d.chars == NULL:
                return -1
        return fa_rle_text_decode(src + lz[0], L, <int>lz[3], d.out.p, d.chars)
    if lz[3] == 4:
        return _sg_dec_packed(d, src, lz, h, w)
    if L > d.vcap:                                # polygons
        free(d.values)
        free(d.plen)
        d.values = <double *>malloc(<size_t>max(L, 1) * sizeof(double))
        d.plen = <int64_t *>malloc(<size_t>max(L, 1) * sizeof(int64_t))
        d.vcap = L if d.values != NULL and d.plen != NULL else 0
        if d.vcap == 0:
            return -1
    if fa_json_segmentation_parse(src + lz[0], <size_t>L, d.values, d.plen, NULL, L, &sg, &err) != 0 or sg.kind != 1:
        return -2
    rc = _sg_convert(&sg, d.values, d.plen, NULL, h, w, &d.out, &d.tmp, &d.scr, msg, 160, &hh, &ww)
    if rc != _SG_OK:
        return -1 if rc == _SG_NOMEM else -2
    return d.out.n


cdef int64_t _sg_dec_packed(_sg_dec *d, const char *src, const int64_t *lz, int64_t h,
                            int64_t w) noexcept nogil:
    """_sg_dec_lazy of a kind-4 row: polygons packed as float64 at src + lz[0], lz[1]
    bytes ([n_poly, lengths..., numbers...]), checked against that length."""
    cdef const double *hdr = <const double *>(src + lz[0])
    cdef int64_t nd = lz[1] // 8, n_poly, j, total = 0, hh, ww
    cdef fa_json_segm sg
    cdef char msg[192]
    cdef int rc
    if lz[1] % 8 or nd < 2 or not (hdr[0] >= 1 and hdr[0] <= <double>(nd - 1)):
        return -2
    n_poly = <int64_t>hdr[0]
    if n_poly > d.vcap:
        free(d.values)
        free(d.plen)
        d.values = <double *>malloc(<size_t>n_poly * sizeof(double))
        d.plen = <int64_t *>malloc(<size_t>n_poly * sizeof(int64_t))
        d.vcap = n_poly if d.values != NULL and d.plen != NULL else 0
        if d.vcap == 0:
            return -1
    for j in range(n_poly):
        if not (hdr[1 + j] >= 0 and hdr[1 + j] <= <double>nd):
            return -2
        d.plen[j] = <int64_t>hdr[1 + j]
        total += d.plen[j]
    if 1 + n_poly + total != nd:
        return -2
    memset(&sg, 0, sizeof(sg))
    sg.kind = 1
    sg.n_poly = n_poly
    sg.n_values = total
    sg.h = sg.w = -1
    rc = _sg_convert(&sg, hdr + 1 + n_poly, d.plen, NULL, h, w, &d.out, &d.tmp, &d.scr, msg, 160, &hh, &ww)
    if rc != _SG_OK:
        return -1 if rc == _SG_NOMEM else -2
    return d.out.n


def rle_set_counts(dict st, Py_ssize_t i):
    """The uint32 counts of mask ``i`` of an RLE set (decoded from the text when the set
    left it there)."""
    lz = st.get("lazy")
    if lz is None or lz[i, 0] < 0:
        off = st["off"]
        return np.array(st["cnts"][off[i]:off[i + 1]], dtype=np.uint32)
    row = np.ascontiguousarray(lz[i], dtype=np.int64)
    cdef const unsigned char[::1] buf = _jr_bytes_view(st["src"], "rle_set_counts")
    cdef const int64_t[::1] rv = row
    cdef _sg_dec d
    _sg_dec_init(&d)
    try:
        m = _sg_dec_lazy(&d, <const char *>&buf[0], &rv[0], st["hw"][i, 0], st["hw"][i, 1])
        if m == -1:
            raise MemoryError()
        if m < 0:
            raise ValueError("rle_set_counts: mask %d of the set cannot be decoded" % i)
        out = np.empty(m, np.uint32)
        if m:
            memcpy(<void *>cnp.PyArray_DATA(out), d.out.p, <size_t>m * sizeof(uint32_t))
    finally:
        _sg_dec_free(&d)
    return out


cdef extern from "Python.h":
    # borrowed items and exact-float reads, with no reference counting per number
    PyObject *_sg_list_item "PyList_GET_ITEM" (object, Py_ssize_t)
    PyObject *_sg_tuple_item "PyTuple_GET_ITEM" (object, Py_ssize_t)
    bint _sg_is_float "PyFloat_CheckExact" (PyObject *)
    double _sg_float "PyFloat_AS_DOUBLE" (PyObject *)


ctypedef struct _sg_dbuf:         # a growable float64 buffer
    double *p
    int64_t n
    int64_t cap
    int fixed                     # p is a caller's array of cap entries: never grown


cdef int _sg_dreserve(_sg_dbuf *b, int64_t extra) except -1:
    cdef int64_t cap = b.cap
    cdef double *q
    if b.n + extra <= cap:
        return 0
    if b.fixed:
        raise RuntimeError("rle_set_from_objects: the polygons changed while they were read")
    cap = max(b.n + extra, 2 * cap, 4096)
    q = <double *>realloc(b.p, <size_t>cap * sizeof(double))
    if q == NULL:
        raise MemoryError()
    b.p = q
    b.cap = cap
    return 0


cdef int64_t _sg_pack_room(objs) except -1:
    """Room _sg_pack may need for every segmentation of objs (float64 entries)."""
    cdef int64_t room = 0
    for o in objs:
        if (type(o) is list or type(o) is tuple) and len(o) > 0:
            room += 1 + len(o)
            for q in o:
                if type(q) is list or type(q) is tuple:
                    room += len(q)
    return room


cdef int64_t _sg_pack(object o, _sg_dbuf *b) except -2:
    """Polygons `o` (a list or tuple of lists or tuples of Python floats and ints) packed
    at the end of b as [number of polygons, their lengths, their numbers]: their start
    in b, or -1 (b as it was) for anything else, which the general path reads."""
    cdef Py_ssize_t k = len(o), j, t, L
    cdef int64_t start = b.n
    cdef PyObject *item
    cdef bint is_list
    _sg_dreserve(b, 1 + k)
    b.p[start] = <double>k
    b.n = start + 1 + k
    for j in range(k):
        q = o[j]
        is_list = type(q) is list
        if not is_list and type(q) is not tuple:
            b.n = start
            return -1
        L = len(q)
        _sg_dreserve(b, L)
        for t in range(L):
            item = _sg_list_item(q, t) if is_list else _sg_tuple_item(q, t)
            if _sg_is_float(item):
                b.p[b.n + t] = _sg_float(item)
                continue
            v = <object>item
            if type(v) is int and -9007199254740992 <= v <= 9007199254740992:
                b.p[b.n + t] = <double>v
            else:
                b.n = start
                return -1
        b.p[start + 1 + j] = <double>L
        b.n += L
    return start


cdef int _sg_packed_check(const double *p, int64_t nd, int64_t img_h, int64_t img_w,
                          double *bb) noexcept nogil:
    """Packed polygons (see _sg_pack, nd numbers) checked as the general path checks
    them (_SG_FINITE first, then _sg_convert's order): _SG_OK with their bound (as
    _sg_poly_bound) in bb, -1 for boxes (a first list of 4 numbers: the general path)."""
    cdef int64_t n_poly = <int64_t>p[0], j, t, off = 1 + n_poly, L
    cdef double v, x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300
    for t in range(off, nd):
        if not (p[t] - p[t] == 0):
            return _SG_FINITE
    if img_h < 0 or img_w < 0:
        return _SG_NOSIZE
    if p[1] < 4:
        return _SG_SHORTPOLY
    if p[1] == 4:
        return -1
    for t in range(off, nd):
        if not (p[t] > -2e8 and p[t] < 2e8):
            return _SG_COORD
    for j in range(n_poly):
        L = <int64_t>p[1 + j]
        for t in range(L // 2):
            v = p[off + 2 * t]
            x0 = v if v < x0 else x0
            x1 = v if v > x1 else x1
            v = p[off + 2 * t + 1]
            y0 = v if v < y0 else y0
            y1 = v if v > y1 else y1
        off += L
    _sg_widen(x0, y0, x1, y1, img_h, img_w, bb)
    return _SG_OK


cdef bint _sg_lazy_row(object o, _sg_dbuf *pk, Py_ssize_t i, int64_t img_h, int64_t img_w, int64_t *lz,
                       double *bb, what) except -1:
    """rle_set_from_objects' lazy row i (kind 4) of the segmentation o when it is
    polygons of Python numbers: packed into pk, checked (errors as the general path's),
    its bound in bb; False (pk as it was) for anything else."""
    cdef int64_t start
    cdef int rc
    if (type(o) is not list and type(o) is not tuple) or len(o) == 0:
        return False
    start = _sg_pack(o, pk)
    if start < 0:
        return False
    rc = _sg_packed_check(pk.p + start, pk.n - start, img_h, img_w, bb)
    if rc == _SG_FINITE:
        raise ValueError("%s record %d: segmentation holds a non-finite number" % (what, i))
    if rc > 0:
        _sg_fail(rc, i, what, "", "")
    if rc != _SG_OK:
        pk.n = start                                   # boxes: read by the general path
        return False
    lz[0] = start * 8
    lz[1] = (pk.n - start) * 8
    lz[3] = 4
    return True


def rle_set_from_objects(objs, img_h, img_w, what="annotations", bint lazy_polygons=False):
    """RLE set of segmentations given as Python objects (pycocotools' forms: a list of
    polygons, or a dict with ``size`` and ``counts`` as bytes / str / list of ints);
    ``img_h``, ``img_w`` int64 [n] for polygons (-1: unknown). Errors name the record.
    ``lazy_polygons``: polygons of Python numbers are checked and bounded, not rasterised
    (lazy kind 4 at the top of this file: for the IoU only), packed in the set's ``src``."""
    cdef Py_ssize_t n = len(objs), i
    img_h = np.ascontiguousarray(img_h, dtype=np.int64)
    img_w = np.ascontiguousarray(img_w, dtype=np.int64)
    hw = np.full((max(n, 1), 2), -1, np.int64)
    lens = np.zeros(max(n, 1), np.int64)
    cdef _sg_dbuf pk
    # the packed numbers' room, counted first: no growth, no copy (64 MB at 100k polygons)
    packed = np.empty(_sg_pack_room(objs) if lazy_polygons else 0, np.float64)
    pk.p = <double *>cnp.PyArray_DATA(packed); pk.n = 0; pk.cap = packed.shape[0]; pk.fixed = 1
    lz = np.full((n if lazy_polygons else 1, 4), -1, np.int64)
    lbb = np.zeros((n if lazy_polygons else 1, 4))
    cdef int64_t[:, ::1] lzv = lz
    cdef double[:, ::1] lbv = lbb
    cdef const int64_t[::1] ihv = img_h
    cdef const int64_t[::1] iwv = img_w
    cdef _sg_buf ob, tb, sb2
    ob.p = NULL; ob.n = 0; ob.cap = 0; ob.fixed = 0
    tb.p = NULL; tb.n = 0; tb.cap = 0; tb.fixed = 0
    sb2 = tb
    cdef fa_json_segm sg
    cdef char msg[192]
    cdef int rc
    cdef int64_t before, hh, ww
    cdef const double[::1] vv
    cdef const int64_t[::1] pv
    cdef const unsigned char[::1] strb
    empty_d = np.zeros(1)
    empty_i = np.zeros(1, np.int64)
    try:
        for i in range(n):
            o = objs[i]
            if lazy_polygons and _sg_lazy_row(o, &pk, i, ihv[i], iwv[i], &lzv[i, 0], &lbv[i, 0], what):
                hw[i, 0], hw[i, 1] = ihv[i], iwv[i]
                continue
            values, plen, sbytes = empty_d, empty_i, b"\0"
            sg.h = sg.w = -1
            sg.n_poly = sg.n_values = sg.n_chars = 0
            if o is None:
                _sg_fail(_SG_MISSING, i, what, "", "")
            if isinstance(o, dict):
                if "counts" not in o or "size" not in o:
                    raise ValueError("%s record %d: segmentation: an RLE needs 'size' and 'counts'" % (what, i))
                try:
                    # the length first: with bounds checks off, indexing a short list
                    # reads past its end
                    size = list(o["size"])
                    if len(size) != 2:
                        raise ValueError
                    hh, ww = int(size[0]), int(size[1])
                    if hh < 0 or ww < 0 or hh > 2147483647 or ww > 2147483647:
                        raise ValueError
                except (TypeError, ValueError, IndexError, OverflowError):
                    raise ValueError("%s record %d: segmentation: size must be [height, width], got %r"
                                     % (what, i, o["size"])) from None
                sg.h, sg.w = hh, ww
                c = o["counts"]
                if isinstance(c, (bytes, str)):
                    sg.kind = 2
                    sbytes = c.encode("ascii", "replace") if isinstance(c, str) else bytes(c)
                    sg.n_chars = len(sbytes)
                    sbytes = sbytes + b"\0"
                else:
                    sg.kind = 3
                    try:
                        values = np.ascontiguousarray(np.asarray(c, dtype=np.float64).reshape(-1))
                    except (TypeError, ValueError):
                        _sg_fail(_SG_COUNTS, i, what, "", "")
                    sg.n_values = values.shape[0]
                    if sg.n_values == 0:
                        values = empty_d
            elif isinstance(o, (list, tuple)):
                sg.kind = 1
                sg.n_poly = len(o)
                try:
                    parts = [np.asarray(q, dtype=np.float64).reshape(-1) for q in o]
                except (TypeError, ValueError):
                    raise ValueError("%s record %d: segmentation: polygons must be lists of numbers" % (what, i)) from None
                if parts:
                    plen = np.array([q.shape[0] for q in parts], np.int64)
                    values = np.ascontiguousarray(np.concatenate(parts)) if plen.sum() else empty_d
                    sg.n_values = int(plen.sum())
            else:
                raise ValueError("%s record %d: segmentation must be polygons (a list of lists) or an RLE dict, "
                                 "got %s" % (what, i, type(o).__name__))
            if sg.kind != 2 and not np.isfinite(values[:sg.n_values]).all():
                raise ValueError("%s record %d: segmentation holds a non-finite number" % (what, i))
            vv = values
            pv = plen
            strb = sbytes
            before = ob.n
            msg[0] = 0
            rc = _sg_convert(&sg, &vv[0], &pv[0], <const char *>&strb[0], img_h[i], img_w[i], &ob, &tb, &sb2,
                             msg, 160, &hh, &ww)
            if rc != _SG_OK:
                m = (<bytes>msg).decode("utf-8", "replace")
                _sg_fail(rc, i, what, m, m)
            hw[i, 0], hw[i, 1] = hh, ww
            lens[i] = ob.n - before
        arr = np.empty(ob.n, np.uint32)
        if ob.n:
            memcpy(<void *>cnp.PyArray_DATA(arr), ob.p, <size_t>ob.n * sizeof(uint32_t))
    finally:
        free(ob.p)
        free(tb.p)
        free(sb2.p)
    out = _sg_finish([(arr, lens[:n])], n, hw[:n])
    if lazy_polygons and pk.n:
        rows = lz[:, 0] >= 0
        out["bbox"][rows] = lbb[rows]
        out["area"][rows] = np.nan
        out["lazy"] = lz
        out["src"] = packed[:pk.n].view(np.uint8)
    return out


cdef fa_rle *_sg_views(dict st, index) except NULL:
    """fa_rle views of the set's masks at positions `index` (grouped order); the
    caller frees the array. The set's arrays must outlive the views."""
    cdef const uint32_t[::1] cv = st["cnts"] if st["cnts"].shape[0] else np.zeros(1, np.uint32)
    cdef const int64_t[::1] ov = st["off"]
    cdef const int64_t[:, ::1] hv = st["hw"] if st["hw"].shape[0] else np.zeros((1, 2), np.int64)
    index = np.ascontiguousarray(index, dtype=np.int64)
    cdef const int64_t[::1] iv = index if index.shape[0] else np.zeros(1, np.int64)
    cdef Py_ssize_t n = index.shape[0], i, j
    cdef fa_rle *v = <fa_rle *>malloc(<size_t>max(n, 1) * sizeof(fa_rle))
    if v == NULL:
        raise MemoryError()
    for i in range(n):
        j = iv[i]
        v[i].h = hv[j, 0]
        v[i].w = hv[j, 1]
        v[i].m = ov[j + 1] - ov[j]
        v[i].cnts = &cv[0] + ov[j]
    return v


# A set's arrays as the IoU chunks read them, one detection at a time (only those with
# ground truths in their run: a fifth of a results file, say, so nothing is gathered
# for the others).
ctypedef struct _sg_set:
    const int64_t *hw             # [n, 2]
    const int64_t *off            # [n + 1]
    const uint32_t *cnts
    const double *bbox              # [n, 4]
    const int64_t *lazy           # [n, 4] or NULL (see the top of this file)
    const char *src                 # the text of a lazy set
    const int64_t *index          # [n_grouped]: set position of each grouped record


cdef int _sg_iou_chunk(const fa_coco_input *inp, int32_t k, int64_t b, int64_t e,
                       const fa_rle *gv, const double *gbb, const _sg_set *ds,
                       double *iou) noexcept nogil:
    """IoUs of detections [b, e) of category k; 1 when out of memory, 2 when a mask left
    in the text does not decode, else 0."""
    cdef fa_gt_cursor c
    cdef int64_t d, j, m
    cdef fa_rle r
    cdef const double *db
    cdef double exact_bb[4]
    cdef _sg_dec dec
    _sg_dec_init(&dec)
    fa_gt_cursor_init(inp, k, &c)
    for d in range(b, e):
        if inp.dt_iou_off[d] < 0:
            continue
        fa_gt_cursor_seek(inp, &c, d)
        j = ds.index[d]
        db = ds.bbox + 4 * j
        r.h = ds.hw[2 * j]
        r.w = ds.hw[2 * j + 1]
        r.m = ds.off[j + 1] - ds.off[j]
        r.cnts = ds.cnts + ds.off[j]
        if ds.lazy != NULL and ds.lazy[4 * j] >= 0:
            r.m = 0
            r.cnts = NULL                       # not read unless a box overlaps
            if c.G > 0 and fa_rle_iou_reads_counts(db, &gbb[4 * c.g0], c.G, inp.gt_crowd + c.g0):
                # a mask left in the text, needed: decode it here
                m = _sg_dec_lazy(&dec, ds.src, ds.lazy + 4 * j, r.h, r.w)
                if m < 0:
                    _sg_dec_free(&dec)
                    return 1 if m == -1 else 2
                r.m = m
                r.cnts = dec.out.p
                if ds.lazy[4 * j + 3] >= 3:
                    # the set held a bound of the box: the mask's own box from here on
                    # (the same IoUs: where the bound meets no box, the mask does not)
                    fa_rle_to_bbox(&r, exact_bb)
                    db = exact_bb
        fa_rle_iou(&r, db, 1, &gv[c.g0], &gbb[4 * c.g0], c.G, inp.gt_crowd + c.g0, iou + inp.dt_iou_off[d])
    _sg_dec_free(&dec)
    return 0


def rle_iou_tables(CocoTables tables, dict gt_set, gt_index, dict dt_set, dt_index, int64_t cut,
                   num_threads=None):
    """pycocotools' mask IoU (maskUtils.iou with the crowd rule) for every (category,
    image) run of `tables`, set as the tables' precomputed IoUs. gt_set / dt_set: RLE
    sets (rle_set_*), gt_index / dt_index: set position of each grouped record."""
    cdef int64_t ng = tables.inp.n_gt, nd = tables.inp.n_dt
    gt_index = np.ascontiguousarray(gt_index, dtype=np.int64)
    dt_index = np.ascontiguousarray(dt_index, dtype=np.int64)
    if gt_index.shape[0] != ng or dt_index.shape[0] != nd:
        raise ValueError("gt_index / dt_index should have one entry per grouped record")
    if "lazy" in gt_set:
        raise ValueError("rle_iou_tables: the ground truth's set must hold its counts (lazy=False)")
    n_set = dt_set["hw"].shape[0]
    if nd and (dt_index.min() < 0 or dt_index.max() >= n_set):
        raise ValueError("dt_index points outside the detections' set")
    dt_iou_off, total = tables.iou_layout(cut)
    tables.set_iou(np.zeros(max(total, 1)), dt_iou_off, cut)
    gbb = np.ascontiguousarray(gt_set["bbox"][gt_index]) if ng else np.zeros((1, 4))
    cdef const double[:, ::1] gbv = gbb
    iou = tables.extra["iou"]
    cdef double[::1] iv = iou
    # the detections' set, read in place
    dhw = np.ascontiguousarray(dt_set["hw"], dtype=np.int64).reshape(-1, 2)
    doff = np.ascontiguousarray(dt_set["off"], dtype=np.int64)
    dcnt = np.ascontiguousarray(dt_set["cnts"], dtype=np.uint32)
    dbox = np.ascontiguousarray(dt_set["bbox"], dtype=np.float64).reshape(-1, 4)
    lz = dt_set.get("lazy")
    cdef const int64_t[:, ::1] dhv = dhw if n_set else np.zeros((1, 2), np.int64)
    cdef const int64_t[::1] dov = doff
    cdef const uint32_t[::1] dcv = dcnt if dcnt.shape[0] else np.zeros(1, np.uint32)
    cdef const double[:, ::1] dbv = dbox if n_set else np.zeros((1, 4))
    cdef const int64_t[::1] div = dt_index if nd else np.zeros(1, np.int64)
    cdef const int64_t[:, ::1] dlv
    cdef const unsigned char[::1] src
    cdef _sg_set ds
    ds.hw = &dhv[0, 0]
    ds.off = &dov[0]
    ds.cnts = &dcv[0]
    ds.bbox = &dbv[0, 0]
    ds.index = &div[0]
    ds.lazy = NULL
    ds.src = NULL
    if lz is not None:
        dlv = lz
        src = _jr_bytes_view(dt_set["src"], "rle_iou_tables")
        ds.lazy = &dlv[0, 0]
        ds.src = <const char *>&src[0]
    cdef fa_rle *gv = _sg_views(gt_set, gt_index)
    cdef int nt = _threads(num_threads)
    ck, cb, ce = _det_chunks(tables, nt)
    cdef const int32_t[::1] ckv = ck if ck.shape[0] else np.zeros(1, np.int32)
    cdef const int64_t[::1] cbv = cb if cb.shape[0] else np.zeros(1, np.int64)
    cdef const int64_t[::1] cev = ce if ce.shape[0] else np.zeros(1, np.int64)
    cdef Py_ssize_t c, nc = ck.shape[0]
    cdef const fa_coco_input *inp = &tables.inp
    failed = np.zeros(max(nc, 1), np.int32)
    cdef int[::1] fv = failed
    try:
        with nogil:
            for c in prange(nc, num_threads=nt, schedule="dynamic"):
                fv[c] = _sg_iou_chunk(inp, ckv[c], cbv[c], cev[c], gv, &gbv[0, 0], &ds, &iv[0])
    finally:
        free(gv)
    if (failed == 1).any():
        raise MemoryError("fastap: out of memory decoding masks")
    if failed.any():
        raise ValueError("rle_iou_tables: a mask the detections' set left in its text cannot be decoded")
    return iou[:total], dt_iou_off
