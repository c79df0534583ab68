# JSON results scanner binding (see csrc/json_results.c). Included by _core.pyx, whose
# cimport of fastap/_capi.pxd declares the C functions used here.


class ResultsJSONError(ValueError):
    """A malformed COCO results or ground-truth file (raised by
    :func:`parse_results_json`, :func:`json_object_members`,
    :func:`parse_annotations_json`).

    A ``ValueError`` whose message names the record, the field and the byte offset;
    the same are attributes: ``record`` (0-based, -1 outside any record), ``field``
    (``''`` when none), ``offset`` (byte offset in the input) and ``reason`` (the bare
    message).
    """

    def __init__(self, message, record=-1, field="", offset=0, reason=""):
        super().__init__(message)
        self.record = record
        self.field = field
        self.offset = offset
        self.reason = reason


cdef str _jr_format(fa_json_error *e, str what="results JSON", int64_t base=0):
    reason = (<bytes>e.message).decode("utf-8", "replace")
    field = (<bytes>e.field).decode("utf-8", "replace")
    where = []
    if e.record >= 0:
        where.append("record %d" % e.record)
    if field:
        where.append("field '%s'" % field)
    if where:
        return "%s: %s: %s (byte %d)" % (what, ", ".join(where), reason, e.offset + base)
    return "%s: %s (byte %d)" % (what, reason, e.offset + base)


cdef _jr_raise(int rc, fa_json_error *err, str what, int64_t base=0):
    """Raise the exception for a failed scan (offsets shifted by `base`)."""
    msg = _jr_format(err, what, base)
    if rc == FA_EUNSUPPORTED:
        raise NotImplementedError(msg)
    if rc == FA_ENOMEM:
        raise MemoryError(msg)
    if rc == FA_EPARSE:
        raise ResultsJSONError(msg, err.record,
                               (<bytes>err.field).decode("utf-8", "replace"),
                               err.offset + base,
                               (<bytes>err.message).decode("utf-8", "replace"))
    raise RuntimeError(msg)


cdef _jr_bytes_view(data, str func):
    """A 1-D unsigned-byte view of a buffer; str is refused (spans are byte offsets)."""
    if isinstance(data, str):
        raise TypeError("%s() needs bytes or a buffer (spans are byte offsets), got str; "
                        "encode it as UTF-8 first" % func)
    if isinstance(data, bytes):
        return data
    return memoryview(data).cast("B")


cdef void _jr_run_part(const char *ptr, size_t length, fa_json_part *parts, int64_t m,
                       int64_t k, int64_t *img, int64_t *cat, double *box, double *score,
                       double *area, const fa_json_geometry *gp, bint release) noexcept nogil:
    """Part k of a split results scan: from its begin to the next part's; with `release`,
    its pages then leave the process's memory (parse_results_json's release_pages)."""
    cdef fa_json_part *pt = &parts[k]
    cdef size_t stop = parts[k + 1].begin if k + 1 < m else length
    pt.rc = fa_json_results_parse_part(ptr, length, pt.begin, stop, pt.first_row, pt.capacity, img, cat,
                             box, score, area, gp, &pt.n_records, &pt.n_area, &pt.end_pos,
                             &pt.err)
    if release:
        fa_text_release_pages(ptr + pt.begin, stop - pt.begin)


cdef list _jr_gather(list cols, const int64_t *row, const int64_t *count,
                     int64_t n_pieces, int64_t n, int nt):
    """New columns of n rows holding, piece after piece, rows [row[i], row[i] + count[i])
    of each of `cols` (C-contiguous, rows first); the copies run on nt threads."""
    cdef int n_cols = len(cols), c
    cdef char *src[16]
    cdef char *dst[16]
    cdef size_t width[16]
    cdef int64_t i, at = 0
    out = [np.empty((n,) + a.shape[1:], dtype=a.dtype) for a in cols]
    dst_row = np.empty(max(n_pieces, 1), dtype=np.int64)
    cdef int64_t[::1] v_dst = dst_row
    assert n_cols <= 16
    for c in range(n_cols):
        src[c] = <char *>cnp.PyArray_DATA(cols[c])
        dst[c] = <char *>cnp.PyArray_DATA(out[c])
        width[c] = <size_t>(cols[c].itemsize * int(np.prod(cols[c].shape[1:])))
    for i in range(n_pieces):
        v_dst[i] = at
        at += count[i]
    with nogil:
        for i in prange(n_pieces * n_cols, num_threads=nt, schedule="dynamic"):
            memcpy(dst[i % n_cols] + <size_t>v_dst[i // n_cols] * width[i % n_cols],
                       src[i % n_cols] + <size_t>row[i // n_cols] * width[i % n_cols],
                       <size_t>count[i // n_cols] * width[i % n_cols])
    return out


# decided once, at import, from the CPU (not lazily by the first scans' threads at once)
fa_json_simd_numbers(-1)


def _simd_numbers(int set=-1):
    """Whether the JSON readers take arrays of plain numbers 64 bytes at a time
    (AVX-512BW, from the CPU); ``set`` 0 / 1 turns that off / on (on only where the CPU
    has it), for tests that compare both paths. Returns the setting."""
    return bool(fa_json_simd_numbers(set))


cdef const unsigned char[::1] _jr_text_bytes(data):
    """The bytes of a results file's content: str is encoded as UTF-8 first."""
    if isinstance(data, str):
        data = (<str>data).encode("utf-8", "surrogatepass")
    if isinstance(data, bytes):
        return <bytes>data
    return memoryview(data).cast("B")


cdef int64_t _jr_n_parts(size_t length, int nt, int64_t min_part_bytes, bint release=False):
    """Parts of a results scan: a few per thread, handed out as threads come free (a
    thread slowed by other work on its core holds up the others less), each of at least
    min_part_bytes; 1 on one thread, unless the parts' pages are released as they are
    scanned (release: up to 8 then)."""
    if nt == 1:
        return min(8, <int64_t>(length // <size_t>min_part_bytes)) if release else 1
    return min(4 * <int64_t>nt, <int64_t>(length // <size_t>min_part_bytes))


cdef int64_t _jr_plan_parts(const char *ptr, size_t length, int64_t n_parts, int nt, size_t *begins,
                            fa_json_part *parts, int64_t *m_out) noexcept nogil:
    """Split a results scan into parts (fa_json_results_split's guesses): each part's
    begin, first row and room, the count bound of its own bytes (they add up to at most
    the whole file's '{' count). Returns the rows of all parts; *m_out the number of
    parts (< 2: no split)."""
    cdef int64_t k, cap = 0
    cdef int64_t m = fa_json_results_split(ptr, length, n_parts, begins)
    m_out[0] = m
    if m < 2:
        return 0
    for k in prange(m, num_threads=nt, schedule="dynamic"):
        parts[k].begin = begins[k]
        parts[k].capacity = fa_json_results_count_bound(
            ptr + begins[k], (begins[k + 1] if k + 1 < m else length) - begins[k])
    for k in range(m):
        parts[k].first_row = cap
        cap = cap + parts[k].capacity
        parts[k].capacity = cap
    return cap


cdef dict _jr_result_columns(int64_t cap, int64_t kpt_stride, bint kpt_xy, bint geometry):
    """The columns a results scan fills, `cap` rows (geometry columns at least one;
    ``seg_bound`` one without `geometry`. The other geometry columns keep their rows even
    then: never touched, they cost no memory, and the allocator's state they leave --
    glibc raises its mmap threshold as large blocks are freed -- is what the box path was
    measured with: without them a box file's loadRes took 25% longer in a loop.)"""
    return {
        "image_id": np.empty(cap, dtype=np.int64),
        "category_id": np.empty(cap, dtype=np.int64),
        "bbox": np.empty((cap, 4), dtype=np.float64),
        "score": np.empty(cap, dtype=np.float64),
        "area": np.empty(cap, dtype=np.float64),
        "seg_span": np.empty((max(cap, 1), 2), dtype=np.int64),
        "seg_rle": np.empty((max(cap, 1), 5), dtype=np.int32),
        "seg_bound": np.empty((max(cap, 1) if geometry else 1, 4), dtype=np.float64),
        "kpt_span": np.empty((max(cap, 1), 2), dtype=np.int64),
        "kpt_values": np.empty((max(cap, 1) if kpt_stride > 0 else 1,
                                kpt_stride // 3 * 2 if kpt_xy else max(kpt_stride, 1)), dtype=np.float64),
        "kpt_count": np.empty(max(cap, 1), dtype=np.int64),
        "kpt_box": np.empty((max(cap, 1) if kpt_stride > 0 else 1, 4), dtype=np.float64),
        "bbox_empty": np.empty(max(cap, 1), dtype=np.uint8),
    }


cdef void *_jr_data(a, int64_t cap):
    """A column's first element, NULL when the columns have no rows."""
    return cnp.PyArray_DATA(a) if cap > 0 else NULL


cdef void _jr_results_geometry(fa_json_geometry *geom, dict cols, int64_t kpt_stride,
                               bint kpt_xy, char *shadow):
    """Point `geom` at the geometry columns of a results scan."""
    geom.seg_span = <int64_t *>cnp.PyArray_DATA(cols["seg_span"])
    geom.seg_rle = <int32_t *>cnp.PyArray_DATA(cols["seg_rle"])
    geom.seg_bound = <double *>cnp.PyArray_DATA(cols["seg_bound"])
    geom.kpt_span = <int64_t *>cnp.PyArray_DATA(cols["kpt_span"])
    geom.num_keypoints = NULL
    geom.kpt_values = NULL
    geom.kpt_xy = kpt_xy
    geom.kpt_stride = 0
    geom.kpt_count = <int64_t *>cnp.PyArray_DATA(cols["kpt_count"])
    geom.kpt_box = NULL
    geom.bbox_empty = <uint8_t *>cnp.PyArray_DATA(cols["bbox_empty"])
    geom.shadow = shadow
    if kpt_stride > 0:
        geom.kpt_values = <double *>cnp.PyArray_DATA(cols["kpt_values"])
        geom.kpt_stride = kpt_stride
        geom.kpt_box = <double *>cnp.PyArray_DATA(cols["kpt_box"])


cdef dict _jr_results_out(dict cols, int64_t n, int64_t n_area, int64_t cap, bint geometry,
                          int64_t kpt_stride, const int64_t *piece_row, const int64_t *piece_len,
                          int64_t n_pieces, int nt):
    """The result dict of a results scan: its columns cut to the n records."""
    if n_pieces > 1 or (n_pieces == 1 and piece_row[0] != 0):
        # the rows are in pieces (parts with rows to spare, or wrong guesses): one copy
        # puts them together, as the trimming below would have copied them anyway
        names = ["image_id", "category_id", "bbox", "score", "area"]
        if geometry:
            names += ["seg_span", "kpt_span", "kpt_count", "seg_rle", "seg_bound", "bbox_empty"]
            if kpt_stride > 0:
                names += ["kpt_values", "kpt_box"]
        g = dict(zip(names, _jr_gather([cols[c] for c in names], piece_row, piece_len,
                                       n_pieces, n, nt)))
        out = {"image_id": g["image_id"], "category_id": g["category_id"], "bbox": g["bbox"],
               "score": g["score"], "area": g["area"], "has_area": bool(n_area == n)}
        if geometry:
            out["seg_span"] = g["seg_span"]
            out["kpt_span"] = g["kpt_span"]
            out["seg_rle"] = g["seg_rle"]
            out["seg_bound"] = g["seg_bound"]
            out["bbox_empty"] = g["bbox_empty"].view(np.bool_)
            if kpt_stride > 0:
                out["kpt_values"] = g["kpt_values"]
                out["kpt_box"] = g["kpt_box"]
                out["kpt_count"] = g["kpt_count"]
        return out
    out = {"image_id": _jr_rows(cols["image_id"], n), "category_id": _jr_rows(cols["category_id"], n),
           "bbox": _jr_rows(cols["bbox"], n), "score": _jr_rows(cols["score"], n),
           "area": _jr_rows(cols["area"], n), "has_area": bool(n_area == n)}
    if geometry:
        out["seg_span"] = _jr_rows(cols["seg_span"], n)
        out["seg_rle"] = _jr_rows(cols["seg_rle"], n)
        out["seg_bound"] = _jr_rows(cols["seg_bound"], n)
        out["kpt_span"] = _jr_rows(cols["kpt_span"], n)
        out["bbox_empty"] = _jr_rows(cols["bbox_empty"], n).view(np.bool_)
        if kpt_stride > 0:
            kpt_values = cols["kpt_values"]
            out["kpt_values"] = kpt_values[:n] if n != cap else kpt_values
            out["kpt_box"] = _jr_rows(cols["kpt_box"], n)
            out["kpt_count"] = _jr_rows(cols["kpt_count"], n)
    return out


def parse_results_json(data, bint geometry=False, int64_t kpt_stride=0, num_threads=None,
                       int64_t _min_part_bytes=1 << 20, bint kpt_xy=False, shadow=None,
                       bint release_pages=False):
    """Parse a COCO detection results JSON file (its content) into columns.

    ``data``: ``bytes`` or any C-contiguous buffer (``bytearray``, ``memoryview``,
    ``mmap``, uint8 array) holding the file content, UTF-8 with an optional BOM; a
    ``str`` is encoded as UTF-8 first. The scan runs without the GIL.

    Returns a dict with ``image_id`` int64[n], ``category_id`` int64[n], ``bbox``
    float64[n, 4] (C-contiguous, xywh as written), ``score`` float64[n], ``area``
    float64[n] (NaN where a record has no ``area`` or ``"area": null``) and
    ``has_area`` (True iff every record has an area; True for n = 0). Values equal
    ``json.loads`` bit for bit (an id written as an integral float, e.g. ``42.0``, gives
    42). ``NaN`` / ``Infinity`` tokens are returned as such (json.loads accepts them):
    the caller rejects them if it must.

    Raises :class:`ResultsJSONError` (a ``ValueError``) for malformed input or a record
    that misses a required field or has a wrong value, with a message like
    ``"results JSON: record 17, field 'bbox': bbox must have 4 numbers, got 3 (byte 1234)"``;
    ``NotImplementedError`` (message names ``segmentation`` / ``keypoints`` / the
    encoding) when the file is valid-looking but outside what the fast parser handles:
    records with ``segmentation`` or ``keypoints`` (unless ``geometry``), UTF-16/32 input,
    nesting deeper than 1000 levels -- fall back to ``json.loads`` then; ``MemoryError``.

    Files of at least 2 MiB are scanned by ``num_threads`` threads (default: the
    ``FASTAP_NUM_THREADS`` / ``OMP_NUM_THREADS`` setting) in up to 4 parts per thread,
    split where a record seems to start (``}, {"``); a part counts only if the records
    before it end exactly where it begins, and the part of a wrong guess is scanned again
    from where they do end -- so the result and any error are the same as a one-thread
    scan's. ``_min_part_bytes`` (private, for tests): the least bytes per part (1 MiB).

    With ``geometry=True`` records may carry ``segmentation`` / ``keypoints`` and need no
    ``bbox`` (NaN when absent); the result also has ``seg_span`` and ``kpt_span``, int64
    [n, 2] byte ranges of those values in ``data`` ((-1, -1) when absent), to be read by
    :func:`parse_keypoint_spans` / the mask readers. With ``kpt_stride`` > 0 the
    keypoints are parsed during the scan: ``kpt_values`` float64 [n, kpt_stride],
    ``kpt_count`` int64 [n] (numbers each record had; -1 none, kpt_stride + 1 more) and
    ``kpt_box`` float64 [n, 4] (pycocotools' loadRes box of the keypoints, see
    :func:`keypoint_boxes`; NaN for records whose numbers are not all finite). Mask
    records give ``seg_rle`` int32 [n, 5]: for the common RLE object, its size and where
    its counts string lies (see ``rle_set_from_spans``); -1 otherwise. ``seg_bound`` float64
    [n, 4]: polygons' vertex box (see ``fa_json_geometry.seg_bound``), else NaN. ``bbox_empty`` bool
    [n]: records with ``"bbox": []`` (no box, NaN; without geometry an error).

    ``kpt_xy`` (with ``kpt_stride`` a multiple of 3): ``kpt_values`` keeps only the x and y
    of each (x, y, v) triple, float64 [n, 2 kpt_stride / 3] (pycocotools reads no
    detection's v); every number is still read and checked (``kpt_count``, ``kpt_box``).
    ``shadow`` (with ``geometry``): a uint8 array as long as ``data`` into which the scan
    copies, at their offsets, the values it keeps as spans (readable once ``data`` is gone);
    ``release_pages``: each scanned part's pages then leave the process's memory, so the
    mapping and the shadow are never both resident in whole (only for ``data`` a read-only
    shared ``mmap`` of a file: other memory would lose its data).
    """
    if kpt_xy and (kpt_stride <= 0 or kpt_stride % 3):
        raise ValueError("kpt_xy needs kpt_stride a positive multiple of 3, got %d" % kpt_stride)
    cdef const unsigned char[::1] buf = _jr_text_bytes(data)
    cdef size_t length = <size_t>buf.shape[0]
    cdef const char *ptr = <const char *>&buf[0] if length > 0 else NULL
    if _min_part_bytes < 1:
        raise ValueError("_min_part_bytes must be >= 1, got %d" % _min_part_bytes)
    cdef int nt = _threads(num_threads)
    cdef int64_t k, m = 0, n_parts = _jr_n_parts(length, nt, _min_part_bytes, release_pages)
    cdef fa_json_part *parts = NULL
    cdef int64_t cap = 0
    cdef unsigned char[::1] v_parts
    if n_parts >= 2:
        # NumPy owns the part records: (begin offsets, then the parts), 8-byte aligned
        parts_mem = np.empty(n_parts * (sizeof(size_t) + sizeof(fa_json_part)) // 8 + 1,
                             dtype=np.int64)
        v_parts = parts_mem.view(np.uint8)
        parts = <fa_json_part *>&v_parts[n_parts * sizeof(size_t)]
        with nogil:
            cap = _jr_plan_parts(ptr, length, n_parts, nt, <size_t *>&v_parts[0], parts, &m)
        if m < 2:
            parts = NULL
    if parts == NULL:
        with nogil:
            cap = fa_json_results_count_bound(ptr, length)

    cols = _jr_result_columns(cap, kpt_stride, kpt_xy, geometry)
    cdef int64_t *p_img = <int64_t *>_jr_data(cols["image_id"], cap)
    cdef int64_t *p_cat = <int64_t *>_jr_data(cols["category_id"], cap)
    cdef double *p_box = <double *>_jr_data(cols["bbox"], cap)
    cdef double *p_score = <double *>_jr_data(cols["score"], cap)
    cdef double *p_area = <double *>_jr_data(cols["area"], cap)
    cdef fa_json_error err
    cdef int64_t n = 0
    cdef int64_t n_area = 0
    cdef int rc
    cdef fa_json_geometry geom
    cdef const fa_json_geometry *gp = NULL
    cdef char *shadow_p = _jr_shadow(shadow, length, geometry)
    if geometry:
        _jr_results_geometry(&geom, cols, kpt_stride, kpt_xy, shadow_p)
        gp = &geom
    if parts != NULL and kpt_stride > 0 and cols["kpt_values"].nbytes >= (1 << 20):
        # the keypoint rows (40 MB at 100k results), written by every thread, touched here
        # first from one: two threads faulting fresh pages at once can take several times
        # as long on virtual machines (a scan of 45 MB: 72 -> 51 ms); elsewhere ~4 ms.
        cols["kpt_values"].reshape(-1).view(np.uint8)[::4096] = 0
    pieces = np.zeros(2 * (m + 1), dtype=np.int64)
    cdef int64_t[::1] v_pc = pieces
    cdef int64_t n_pieces = 0
    if parts == NULL:
        with nogil:
            rc = fa_json_results_parse(ptr, length, cap, p_img, p_cat, p_box, p_score, p_area, gp,
                                       &n, &n_area, &err)
    else:
        with nogil:
            for k in prange(m, num_threads=nt, schedule="dynamic"):
                _jr_run_part(ptr, length, parts, m, k, p_img, p_cat, p_box, p_score, p_area, gp, release_pages)
            rc = fa_json_results_join_parts(ptr, length, parts, m, cap, p_img, p_cat, p_box, p_score,
                                            p_area, gp, &v_pc[0], &v_pc[m + 1], &n_pieces, &n,
                                            &n_area, &err)
    if rc != FA_OK:
        _jr_raise(rc, &err, "results JSON")
    return _jr_results_out(cols, n, n_area, cap, geometry, kpt_stride, &v_pc[0], &v_pc[m + 1],
                           n_pieces, nt)


cdef char *_jr_shadow(shadow, size_t length, bint geometry) except *:
    """The buffer of parse_results_json's ``shadow`` (NULL for None), checked."""
    cdef unsigned char[::1] v
    if shadow is None:
        return NULL
    v = shadow
    if not geometry or v.shape[0] != <Py_ssize_t>length:
        raise ValueError("shadow should be a uint8 array as long as the data, with geometry=True")
    return <char *>&v[0] if length > 0 else NULL


cdef _jr_rows(a, int64_t n):
    """The first n rows of a column: itself when it has exactly n (the count bound was
    exact, as for any ordinary file: no copy of the 10 MB of side columns of 100k
    keypoint results), else a trimmed copy."""
    return a if a.shape[0] == n else a[:n].copy()


def _results_json_split(data, int64_t n_parts):
    """Where a results scan on ``n_parts`` threads would start its parts (byte offsets,
    the first 0): :c:func:`fa_json_results_split`'s guesses. For tests."""
    cdef const unsigned char[::1] buf = _jr_bytes_view(data, "_results_json_split")
    cdef size_t length = <size_t>buf.shape[0]
    if n_parts < 1 or length == 0:
        return [0]
    mem = np.zeros(n_parts * sizeof(size_t) // 8 + 1, dtype=np.int64)
    cdef unsigned char[::1] v = mem.view(np.uint8)
    cdef size_t *begins = <size_t *>&v[0]
    cdef int64_t m
    with nogil:
        m = fa_json_results_split(<const char *>&buf[0], length, n_parts, begins)
    return [begins[i] for i in range(m)]


def json_object_members(data):
    """Members of a top-level JSON object: ``[(key, start, end), ...]`` in document order.

    ``data``: ``bytes`` or any C-contiguous buffer (``bytearray``, ``memoryview``,
    ``mmap``, uint8 array) holding a JSON document whose top level is an object, UTF-8
    with an optional BOM (``str`` is refused: the spans are byte offsets). ``key`` is the
    member's name as ``json.loads`` gives it; ``data[start:end]`` is the raw JSON text of
    its value (first to last byte, no surrounding whitespace), so that
    ``json.loads(data[start:end]) == json.loads(data)[key]``. Duplicate keys are all listed
    (``json.loads`` keeps the last). The whole document is validated (the grammar of
    ``json.loads``) while the GIL is released; no Python object is built for the values.

    Raises :class:`ResultsJSONError` (a ``ValueError``) for malformed input, with a message
    like ``"JSON: field 'images': expected ',' or ']', got '}' (byte 1234)"``, or
    ``"JSON: expected a JSON object at the top level, got array (byte 0)"``;
    ``NotImplementedError`` for UTF-16/32 input or nesting deeper than 1000 levels;
    ``TypeError`` for ``str``.
    """
    cdef const unsigned char[::1] buf = _jr_bytes_view(data, "json_object_members")
    cdef size_t length = <size_t>buf.shape[0]
    cdef const char *ptr = NULL
    if length > 0:
        ptr = <const char *>&buf[0]
    cdef int64_t cap = 16
    cdef int64_t n = 0
    cdef fa_json_member *members = NULL
    cdef fa_json_error err
    cdef int rc
    try:
        while True:
            members = <fa_json_member *>malloc(<size_t>cap * sizeof(fa_json_member))
            if members == NULL:
                raise MemoryError()
            with nogil:
                rc = fa_json_object_members(ptr, length, members, cap, &n, &err)
            if rc == FA_EINVAL and n > cap:
                free(members)
                members = NULL
                cap = n
                continue
            if rc != FA_OK:
                _jr_raise(rc, &err, "JSON")
            break
        return _jr_member_list(buf, members, n)
    finally:
        free(members)


cdef list _jr_member_list(const unsigned char[::1] buf, const fa_json_member *members, int64_t n):
    out = []
    cdef int64_t i
    for i in range(n):
        raw = bytes(buf[members[i].key_start:members[i].key_end])
        if members[i].key_escaped:
            key = json.loads(b'"' + raw + b'"')
        else:
            key = raw.decode("utf-8", "surrogatepass")
        out.append((key, members[i].value_start, members[i].value_end))
    return out


def json_member_spans(data):
    """The members of a top-level JSON object as :func:`json_object_members` gives them
    for a valid document, found without validating anything (brackets and strings are
    matched, 10x faster): ``[(key, start, end), ...]``, or None when the text is not
    shaped like an object. For reading a member while the document is validated
    elsewhere; never a substitute for that validation."""
    cdef const unsigned char[::1] buf = _jr_bytes_view(data, "json_member_spans")
    cdef size_t length = <size_t>buf.shape[0]
    cdef const char *ptr = NULL
    if length > 0:
        ptr = <const char *>&buf[0]
    cdef int64_t cap = 16
    cdef int64_t n = 0
    cdef fa_json_member *members = NULL
    cdef int rc
    try:
        while True:
            members = <fa_json_member *>malloc(<size_t>cap * sizeof(fa_json_member))
            if members == NULL:
                raise MemoryError()
            with nogil:
                rc = fa_json_member_spans(ptr, length, members, cap, &n)
            if rc == FA_EINVAL and n > cap:
                free(members)
                members = NULL
                cap = n
                continue
            if rc != FA_OK:
                return None
            break
        return _jr_member_list(buf, members, n)
    finally:
        free(members)


cdef dict _jr_annotation_columns(int64_t cap, int64_t kpt_stride):
    """The columns an annotations scan fills, `cap` rows (geometry columns at least one)."""
    return {
        "id": np.empty(cap, dtype=np.int64),
        "image_id": np.empty(cap, dtype=np.int64),
        "category_id": np.empty(cap, dtype=np.int64),
        "bbox": np.empty((cap, 4), dtype=np.float64),
        "area": np.empty(cap, dtype=np.float64),
        "iscrowd": np.empty(cap, dtype=np.uint8),
        "seg_span": np.empty((max(cap, 1), 2), dtype=np.int64),
        "kpt_span": np.empty((max(cap, 1), 2), dtype=np.int64),
        "num_keypoints": np.empty(max(cap, 1), dtype=np.float64),
        "kpt_values": np.empty((max(cap, 1) if kpt_stride > 0 else 1, max(kpt_stride, 1)), dtype=np.float64),
        "kpt_count": np.empty(max(cap, 1), dtype=np.int64),
    }


cdef void _jr_annotations_geometry(fa_json_geometry *geom, dict cols, int64_t kpt_stride):
    """Point `geom` at the geometry columns of an annotations scan."""
    geom.seg_span = <int64_t *>cnp.PyArray_DATA(cols["seg_span"])
    geom.seg_rle = NULL
    geom.seg_bound = NULL
    geom.kpt_span = <int64_t *>cnp.PyArray_DATA(cols["kpt_span"])
    geom.num_keypoints = <double *>cnp.PyArray_DATA(cols["num_keypoints"])
    geom.kpt_values = NULL
    geom.kpt_xy = 0
    geom.kpt_stride = 0
    geom.kpt_count = NULL
    geom.kpt_box = NULL
    geom.bbox_empty = NULL
    geom.shadow = NULL
    if kpt_stride > 0:
        geom.kpt_values = <double *>cnp.PyArray_DATA(cols["kpt_values"])
        geom.kpt_stride = kpt_stride
        geom.kpt_count = <int64_t *>cnp.PyArray_DATA(cols["kpt_count"])


cdef dict _jr_annotations_out(dict cols, int64_t n, int64_t cap, Py_ssize_t s, bint geometry,
                              int64_t kpt_stride):
    """The result dict of an annotations scan of the span starting at byte s: its
    columns cut to the n records, spans as offsets in the whole text."""
    extra = {}
    if geometry:
        ss = cols["seg_span"][:n].copy()
        ks = cols["kpt_span"][:n].copy()
        ss[ss >= 0] += s          # offsets in `data`, not in the annotations span
        ks[ks >= 0] += s
        extra = {"seg_span": ss, "kpt_span": ks, "num_keypoints": cols["num_keypoints"][:n].copy()}
        if kpt_stride > 0:
            kpt_values = cols["kpt_values"]
            extra["kpt_values"] = kpt_values[:n] if n != cap else kpt_values
            extra["kpt_count"] = cols["kpt_count"][:n].copy()
    out = {c: cols[c] if n == cap else cols[c][:n].copy()
           for c in ("id", "image_id", "category_id", "bbox", "area", "iscrowd")}
    out.update(extra)
    return out


def parse_annotations_json(data, start=0, end=None, bint geometry=False, int64_t kpt_stride=0):
    """Parse a JSON array of COCO annotations, ``data[start:end]``, into columns.

    Typically the ``"annotations"`` member of a ground-truth file, located with
    :func:`json_object_members`; ``data`` is ``bytes`` or any C-contiguous buffer
    (``mmap`` included; ``str`` is refused), ``start`` / ``end`` byte offsets (``end=None``:
    the end of ``data``). The scan runs without the GIL and builds no Python object per
    record.

    Returns a dict with ``id``, ``image_id``, ``category_id`` int64[n], ``bbox``
    float64[n, 4] (C-contiguous, as written), ``area`` float64[n] and ``iscrowd``
    uint8[n]. Each record needs ``id``, ``image_id``, ``category_id`` (integers, or floats
    with an integral value, within int64), ``bbox`` (exactly 4 numbers) and ``area`` (a
    number); ``iscrowd`` is optional (0 when absent): 0 / 1 (any number with that value) or
    ``true`` / ``false``; every other key (``segmentation`` polygons or RLE dicts,
    ``keypoints``, ``num_keypoints``, ``ignore``, ...) is validated and skipped. Values
    equal ``json.loads`` bit for bit; ``NaN`` / ``Infinity`` tokens are returned as such.

    Raises :class:`ResultsJSONError` (a ``ValueError``) with a message like
    ``"annotations: record 17, field 'area': missing field 'area' (byte 1234)"`` (record:
    the index within the array; byte: the offset in ``data``, its ``offset`` attribute
    too); ``NotImplementedError`` for UTF-16/32 input or nesting deeper than 1000 levels;
    ``MemoryError``; ``TypeError`` for ``str``; ``ValueError`` for a bad ``start`` /
    ``end``.

    With ``geometry=True`` the result also has ``seg_span`` / ``kpt_span`` (int64 [n, 2]
    byte ranges in ``data`` of each record's segmentation / keypoints, (-1, -1) when
    absent) and ``num_keypoints`` (float64 [n], NaN when absent). With ``kpt_stride`` > 0
    the keypoints are read during the scan as well: ``kpt_values`` float64 [n,
    kpt_stride] and ``kpt_count`` int64 [n], the numbers each record had (-1: no
    keypoints, kpt_stride + 1: more, -2: not a flat array of numbers; such rows are to be
    read from their spans, which name the problem).
    """
    cdef const unsigned char[::1] buf = _jr_bytes_view(data, "parse_annotations_json")
    cdef Py_ssize_t total = buf.shape[0]
    cdef Py_ssize_t s = start
    cdef Py_ssize_t e = total if end is None else end
    if not (0 <= s <= e <= total):
        raise ValueError("parse_annotations_json: need 0 <= start <= end <= len(data) = %d, "
                         "got start=%r, end=%r" % (total, start, end))
    cdef size_t length = <size_t>(e - s)
    cdef const char *ptr = NULL
    if length > 0:
        ptr = <const char *>&buf[s]

    cdef int64_t cap
    with nogil:
        cap = fa_json_results_count_bound(ptr, length)
    cols = _jr_annotation_columns(cap, kpt_stride)
    cdef int64_t *p_id = <int64_t *>_jr_data(cols["id"], cap)
    cdef int64_t *p_img = <int64_t *>_jr_data(cols["image_id"], cap)
    cdef int64_t *p_cat = <int64_t *>_jr_data(cols["category_id"], cap)
    cdef double *p_box = <double *>_jr_data(cols["bbox"], cap)
    cdef double *p_area = <double *>_jr_data(cols["area"], cap)
    cdef uint8_t *p_crowd = <uint8_t *>_jr_data(cols["iscrowd"], cap)
    cdef fa_json_error err
    cdef int64_t n = 0
    cdef int rc
    cdef fa_json_geometry geom
    cdef const fa_json_geometry *gp = NULL
    if geometry:
        _jr_annotations_geometry(&geom, cols, kpt_stride)
        gp = &geom
    with nogil:
        rc = fa_json_annotations_parse(ptr, length, cap, p_id, p_img, p_cat, p_box, p_area, p_crowd,
                                       gp, &n, &err)
    if rc != FA_OK:
        _jr_raise(rc, &err, "annotations", s)
    return _jr_annotations_out(cols, n, cap, s, geometry, kpt_stride)


def parse_keypoint_spans(data, spans, int n_values, what="keypoints", num_threads=None):
    """Keypoints of records from their byte spans in ``data`` (``spans`` int64 [n, 2],
    from ``parse_*_json(geometry=True)``): float64 [n, n_values]. Raises ValueError naming
    the record when one is missing, is not an array of numbers or has another length."""
    cdef const unsigned char[::1] buf = _jr_bytes_view(data, "parse_keypoint_spans")
    spans = np.ascontiguousarray(spans, dtype=np.int64).reshape(-1, 2)
    cdef int64_t[:, ::1] sv = spans
    cdef Py_ssize_t n = spans.shape[0], total = buf.shape[0]
    out = np.empty((n, max(n_values, 1)), dtype=np.float64)
    cdef double[:, ::1] ov = out
    bad_span = (spans[:, 0] < 0) | (spans[:, 1] < spans[:, 0]) | (spans[:, 1] > total)
    if n and bad_span.any():
        raise ValueError("%s record %d: missing field 'keypoints'" % (what, int(np.flatnonzero(bad_span)[0])))
    # records in chunks across threads; the first failing record of each chunk is kept
    cdef int nt = _threads(num_threads)
    if nt > n // 256 + 1:
        nt = n // 256 + 1
    bounds = np.linspace(0, n, nt + 1).astype(np.int64)
    fail = np.full(nt, -1, np.int64)
    rcs = np.zeros(nt, np.int32)
    gots = np.zeros(nt, np.int64)
    cdef const int64_t[::1] bv = bounds
    cdef int64_t[::1] fv = fail
    cdef int[::1] rv = rcs
    cdef int64_t[::1] gv = gots
    cdef fa_json_error *errs = <fa_json_error *>malloc(<size_t>max(nt, 1) * sizeof(fa_json_error))
    if errs == NULL:
        raise MemoryError()
    cdef Py_ssize_t c
    try:
        with nogil:
            for c in prange(nt, num_threads=nt, schedule="static"):
                _jr_kpt_chunk(&buf[0] if total else NULL, &sv[0, 0] if n else NULL, bv[c], bv[c + 1],
                              &ov[0, 0], n_values, &fv[c], &rv[c], &gv[c], &errs[c])
        for c in range(nt):
            if fail[c] >= 0:
                if rcs[c] == FA_EINVAL or (rcs[c] == FA_OK and gots[c] != n_values):
                    raise ValueError("%s record %d: keypoints should hold %d numbers (x, y, v for each of the "
                                     "%d keypoints that kpt_oks_sigmas has), got %s"
                                     % (what, fail[c], n_values, n_values // 3,
                                        "more" if rcs[c] == FA_EINVAL else gots[c]))
                raise ValueError("%s record %d: %s" % (what, fail[c], _jr_format(&errs[c], "keypoints")))
    finally:
        free(errs)
    return out[:, :n_values]


cdef void _jr_kpt_chunk(const unsigned char *buf, const int64_t *spans, int64_t b, int64_t e,
                        double *out, int n_values, int64_t *fail, int *rc_out, int64_t *got_out,
                        fa_json_error *err) noexcept nogil:
    cdef int64_t i, got = 0
    cdef double tmp[1]
    cdef int rc
    cdef int stride = n_values if n_values > 0 else 1
    for i in range(b, e):
        rc = fa_json_number_array(<const char *>buf + spans[2 * i], <size_t>(spans[2 * i + 1] - spans[2 * i]),
                         out + i * stride if n_values > 0 else tmp, n_values, &got, err)
        if rc != FA_OK or got != n_values:
            fail[0] = i
            rc_out[0] = rc
            got_out[0] = got
            return


def keypoint_boxes(kpt):
    """pycocotools' loadRes box of keypoint results: min / max over all x and all y of
    each row (float64 [n, 3K]) -> (bbox float64 [n, 4] xywh, area float64 [n])."""
    kpt = np.ascontiguousarray(kpt, dtype=np.float64)
    cdef Py_ssize_t n = kpt.shape[0], K3 = kpt.shape[1] if kpt.ndim == 2 else 0, i
    bbox = np.zeros((n, 4))
    area = np.zeros(n)
    if n == 0 or K3 < 3:
        return bbox, area
    cdef const double[:, ::1] kv = kpt
    cdef double[:, ::1] bv = bbox
    cdef double[::1] av = area
    with nogil:
        for i in range(n):
            fa_keypoint_box(&kv[i, 0], K3, 3, &bv[i, 0])
            av[i] = bv[i, 2] * bv[i, 3]
    return bbox, area


# ---- the bytes of an input file (csrc/textfile.c) ------------------------------------

def text_digest(data, num_threads=None, bint release_pages=False):
    """A 64-bit digest (int) of a buffer's bytes (``bytes``, ``mmap``, uint8 array...):
    equal bytes, equal digest. Not cryptographic: it tells whether a file read again is
    the one read before. Computed without the GIL, in 4 MiB chunks on
    ``num_threads`` threads (the result does not depend on the thread count).
    ``release_pages``: as parse_results_json's (``data`` a read-only shared ``mmap`` of a
    file only), each chunk's pages once digested."""
    cdef const unsigned char[::1] buf = _jr_bytes_view(data, "text_digest")
    cdef Py_ssize_t n = buf.shape[0], chunk = 1 << 22, k
    cdef Py_ssize_t nc = (n + chunk - 1) // chunk
    if nc <= 1:
        return int(fa_text_digest(<const char *>&buf[0] if n else NULL, <size_t>n, 0))
    parts = np.empty(nc, dtype=np.uint64)
    cdef uint64_t[::1] pv = parts
    cdef int nt = _threads(num_threads)
    cdef const char *p = <const char *>&buf[0]
    with nogil:
        for k in prange(nc, num_threads=nt, schedule="static"):
            pv[k] = fa_text_digest(p + k * chunk, <size_t>min(chunk, n - k * chunk), <uint64_t>k)
            if release_pages:
                fa_text_release_pages(p + k * chunk, <size_t>min(chunk, n - k * chunk))
    return int(fa_text_digest(<const char *>&pv[0], <size_t>(nc * 8), <uint64_t>n))


def find_control_byte(data):
    """Offset of the first byte of ``data`` that no JSON text holds (NUL and the other
    control characters but tab, LF, CR), or -1. Without the GIL."""
    cdef const unsigned char[::1] buf = _jr_bytes_view(data, "find_control_byte")
    cdef Py_ssize_t n = buf.shape[0]
    cdef int64_t r
    if n == 0:
        return -1
    with nogil:
        r = fa_text_find_control(<const char *>&buf[0], <size_t>n)
    return int(r)


def map_guard_add(data):
    """Guard reads of ``data`` (a read-only ``mmap`` of a file) against the file being
    truncated meanwhile (see csrc/textfile.c): returns a slot for :func:`map_guard_remove`
    (-1 when no guard could be set, e.g. off POSIX)."""
    cdef const unsigned char[::1] buf = _jr_bytes_view(data, "map_guard_add")
    if buf.shape[0] == 0:
        return -1
    return fa_map_guard_add(<const void *>&buf[0], <size_t>buf.shape[0])


def map_guard_remove(int slot):
    """End a guard of :func:`map_guard_add`; returns the number of pages that were found
    gone (the file shrank under the mapping) and read as zeros -- 0 when none."""
    return int(fa_map_guard_remove(slot))
