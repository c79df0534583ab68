# Panoptic segmentation binding (see csrc/panoptic.c). Included by _core.pyx.
#
# The segment maps arrive as lists of uint32 [H, W] NumPy arrays (fastap/panoptic.py
# converts them); each pair is checked here, then the images are counted without the GIL,
# one image per thread at a time, each thread with its own hash table (grown, up to the
# size that always suffices, when an image holds more distinct pairs). Each image's
# sorted pairs are copied into one malloc'd block, then into the NumPy outputs.

# Below this many pixels in all a call runs on the calling thread (a 640 x 480 map takes
# about 1 ms on one core).
PANOPTIC_SERIAL_BELOW = 1 << 19
# First table size of a thread: 2^12 slots (64 KiB) hold 2048 distinct pairs.
PANOPTIC_FIRST_LOG2 = 12


cdef int _panoptic_one(const uint32_t *gt, const uint32_t *pred, int64_t n_pix, uint64_t **table,
                       int *log2, uint64_t **out, int64_t *n_out) noexcept nogil:
    """Count one image into the thread's table (2^log2[0] slots, grown when full, up to
    the size that always suffices); copy the pairs into a malloc'd *out. Returns 0, or -1
    when an allocation failed."""
    cdef int top = 1, rc, lg
    while ((<int64_t>1) << top) < 2 * n_pix:
        top += 1
    lg = min(log2[0], top)           # a small image uses the front of a large table
    while True:
        if table[0] == NULL:
            table[0] = <uint64_t *>malloc((<size_t>16) << log2[0])
            if table[0] == NULL:
                return -1
        rc = fa_panoptic_pairs(gt, pred, n_pix, table[0], lg, n_out)
        if rc == FA_OK:
            break
        if rc != FA_ENOMEM or lg >= top:
            return -1
        lg += 1
        if lg > log2[0]:
            free(table[0])
            table[0] = NULL
            log2[0] = lg
    out[0] = <uint64_t *>malloc(<size_t>(16 * n_out[0] + 16))
    if out[0] == NULL:
        return -1
    memcpy(out[0], table[0], <size_t>(16 * n_out[0]))
    return 0


cdef _panoptic_check(gt_maps, pred_maps):
    """The validated (gt, pred) arrays: lists of C-contiguous uint32 [H, W] pairs of one shape."""
    if len(gt_maps) != len(pred_maps):
        raise InvalidAnnotationError("%d ground-truth segment maps but %d predicted ones"
                                     % (len(gt_maps), len(pred_maps)))
    gts, preds = [], []
    for i, (g, p) in enumerate(zip(gt_maps, pred_maps)):
        for a, name in ((g, "ground truth"), (p, "prediction")):
            if not isinstance(a, np.ndarray):
                raise InvalidTypeError("%s segment map %d should be a NumPy array, got %s"
                                       % (name, i, type(a).__name__))
            if a.dtype != np.uint32 or not a.dtype.isnative:
                raise InvalidTypeError("%s segment map %d should hold uint32 segment ids (native byte order), "
                                       "got dtype %s" % (name, i, a.dtype))
            if a.ndim != 2:
                raise InvalidAnnotationError("%s segment map %d should be 2D [H, W], got %dD" % (name, i, a.ndim))
        if g.shape != p.shape:
            raise InvalidAnnotationError("segment map %d: the prediction's shape %s does not match the ground "
                                         "truth's %s" % (i, tuple(p.shape), tuple(g.shape)))
        gts.append(np.ascontiguousarray(g))
        preds.append(np.ascontiguousarray(p))
    return gts, preds


def panoptic_pairs(gt_maps, pred_maps, num_threads=None):
    """The joint histogram of (gt id, pred id) of each image (csrc/panoptic.c).

    gt_maps, pred_maps: sequences of N uint32 NumPy arrays [H_i, W_i] (segment ids), the
    i-th prediction of the i-th ground truth's shape. Returns ``(offsets, keys, counts)``:
    offsets int64 [N + 1]; image i's pairs are ``keys[offsets[i]:offsets[i+1]]`` (uint64,
    ``gt << 32 | pred``, ascending) with their pixel counts (int64), i.e. per image
    ``np.unique(gt.astype(np.uint64) << 32 | pred, return_counts=True)``. Images run in
    parallel (one per thread). InvalidTypeError for another dtype or a non-array,
    InvalidAnnotationError for a shape that is not 2D or differs between the pair;
    MemoryError when a table cannot be allocated.
    """
    gts, preds = _panoptic_check(gt_maps, pred_maps)
    cdef int64_t n = len(gts), i, total = 0, n_pix_all = 0
    gptr = np.zeros(max(n, 1), np.intp)
    pptr = np.zeros(max(n, 1), np.intp)
    npix = np.zeros(max(n, 1), np.int64)
    for i in range(n):
        gptr[i] = <intptr_t>cnp.PyArray_DATA(gts[i])
        pptr[i] = <intptr_t>cnp.PyArray_DATA(preds[i])
        npix[i] = gts[i].size
    n_pix_all = int(npix.sum())
    cdef int nt = _threads(num_threads) if n_pix_all >= PANOPTIC_SERIAL_BELOW else 1
    nt = max(1, min(nt, n))
    outs = np.zeros(max(n, 1), np.intp)
    nout = np.zeros(max(n, 1), np.int64)
    status = np.zeros(max(n, 1), np.int32)
    tables = np.zeros(nt, np.intp)
    log2s = np.full(nt, PANOPTIC_FIRST_LOG2, np.int32)
    cdef intptr_t[::1] gv = gptr, pv = pptr, ov = outs, tv = tables
    cdef int64_t[::1] nv = npix, cv = nout
    cdef int32_t[::1] sv = status
    cdef int[::1] lv = log2s
    cdef int tid = 0
    cdef char *base
    cdef int64_t[::1] offv
    try:
        with nogil, parallel(num_threads=nt):
            tid = threadid()
            for i in prange(n, schedule="dynamic"):
                sv[i] = _panoptic_one(<const uint32_t *>gv[i], <const uint32_t *>pv[i], nv[i],
                                      <uint64_t **>&tv[tid], &lv[tid], <uint64_t **>&ov[i], &cv[i])
        if (status != 0).any():
            raise MemoryError("panoptic_pairs: could not allocate the pair table of image %d"
                              % int(np.flatnonzero(status != 0)[0]))
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(nout[:n], out=offsets[1:])
        total = offsets[n]
        pairs = np.empty((total, 2), np.uint64)
        base = <char *>cnp.PyArray_DATA(<cnp.ndarray>pairs)
        offv = offsets
        for i in range(n):
            if cv[i] > 0:
                memcpy(base + 16 * offv[i], <void *>ov[i], <size_t>(16 * cv[i]))
        return offsets, pairs[:, 0].copy(), pairs[:, 1].astype(np.int64)
    finally:
        for i in range(n):
            free(<void *>ov[i])
        for i in range(nt):
            free(<void *>tv[i])
