# JSON results scanner binding (see csrc/json_results.c). Included by _core.pyx.
#
# Cython-side names are prefixed (_jr_*) so that they cannot clash with declarations
# that _core.pyx itself makes from fastap.h.

from libc.stdint cimport int64_t as _jr_int64

import numpy as _jr_np

cdef extern from "fastap.h":
    ctypedef struct _jr_error "fa_json_error":
        _jr_int64 record
        _jr_int64 offset
        char field[32]
        char message[160]
    enum:
        _JR_OK "FA_OK"
        _JR_ENOMEM "FA_ENOMEM"
        _JR_EINVAL "FA_EINVAL"
        _JR_EPARSE "FA_EPARSE"
        _JR_EUNSUPPORTED "FA_EUNSUPPORTED"
    _jr_int64 _jr_count_bound "fa_json_results_count_bound"(const char *buf, size_t len) nogil
    int _jr_parse "fa_json_results_parse"(
        const char *buf, size_t len, _jr_int64 capacity, _jr_int64 *image_id,
        _jr_int64 *category_id, double *bbox, double *score, double *area,
        _jr_int64 *n_records, _jr_int64 *n_area, _jr_error *err) nogil


class ResultsJSONError(ValueError):
    """A malformed COCO results file (raised by :func:`parse_results_json`).

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


cdef str _jr_format(_jr_error *e):
    reason = (<bytes>e.message).decode("utf-8", "replace")
    field = (<bytes>e.field).decode("utf-8", "replace")
    where = []
    if e.record >= 0:
        where.append("record %d" % e.record)
    if field:
        where.append("field '%s'" % field)
    if where:
        return "results JSON: %s: %s (byte %d)" % (", ".join(where), reason, e.offset)
    return "results JSON: %s (byte %d)" % (reason, e.offset)


def parse_results_json(data):
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
    records with ``segmentation`` or ``keypoints``, UTF-16/32 input, nesting deeper than
    1000 levels -- fall back to ``json.loads`` then; ``MemoryError``.
    """
    if isinstance(data, str):
        data = (<str>data).encode("utf-8", "surrogatepass")
    cdef const unsigned char[::1] buf
    if isinstance(data, bytes):
        buf = <bytes>data
    else:
        buf = memoryview(data).cast("B")
    cdef size_t length = <size_t>buf.shape[0]
    cdef const char *ptr = NULL
    if length > 0:
        ptr = <const char *>&buf[0]

    cdef _jr_int64 cap
    with nogil:
        cap = _jr_count_bound(ptr, length)

    image_id = _jr_np.empty(cap, dtype=_jr_np.int64)
    category_id = _jr_np.empty(cap, dtype=_jr_np.int64)
    bbox = _jr_np.empty((cap, 4), dtype=_jr_np.float64)
    score = _jr_np.empty(cap, dtype=_jr_np.float64)
    area = _jr_np.empty(cap, dtype=_jr_np.float64)
    cdef _jr_int64[::1] v_img = image_id
    cdef _jr_int64[::1] v_cat = category_id
    cdef double[:, ::1] v_box = bbox
    cdef double[::1] v_score = score
    cdef double[::1] v_area = area
    cdef _jr_int64 *p_img = NULL
    cdef _jr_int64 *p_cat = NULL
    cdef double *p_box = NULL
    cdef double *p_score = NULL
    cdef double *p_area = NULL
    if cap > 0:
        p_img = &v_img[0]
        p_cat = &v_cat[0]
        p_box = &v_box[0, 0]
        p_score = &v_score[0]
        p_area = &v_area[0]

    cdef _jr_error err
    cdef _jr_int64 n = 0
    cdef _jr_int64 n_area = 0
    cdef int rc
    with nogil:
        rc = _jr_parse(ptr, length, cap, p_img, p_cat, p_box, p_score, p_area,
                       &n, &n_area, &err)
    if rc != _JR_OK:
        msg = _jr_format(&err)
        if rc == _JR_EUNSUPPORTED:
            raise NotImplementedError(msg)
        if rc == _JR_ENOMEM:
            raise MemoryError(msg)
        if rc == _JR_EPARSE:
            raise ResultsJSONError(msg, err.record,
                                   (<bytes>err.field).decode("utf-8", "replace"),
                                   err.offset,
                                   (<bytes>err.message).decode("utf-8", "replace"))
        raise RuntimeError(msg)
    if n != cap:
        image_id = image_id[:n].copy()
        category_id = category_id[:n].copy()
        bbox = bbox[:n].copy()
        score = score[:n].copy()
        area = area[:n].copy()
    return {"image_id": image_id, "category_id": category_id, "bbox": bbox,
            "score": score, "area": area, "has_area": bool(n_area == n)}
