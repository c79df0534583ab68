# Report kernels binding (see csrc/reports.c). Included by _core.pyx.
#
# The per-image kernels (confusion_match, tide_ious) take ground truth and detections
# grouped by image: offsets int64 [I + 1] into the gt / detection arrays; images run in
# parallel.

def _check_offsets(name, off, n_images, n_records):
    off = _check(name, off, np.int64)
    if off.shape[0] != n_images + 1:
        raise ValueError("%s should have %d entries (images + 1), got %d" % (name, n_images + 1, off.shape[0]))
    if off[0] != 0 or off[n_images] != n_records or (n_images and (np.diff(off) < 0).any()):
        raise ValueError("%s should rise from 0 to the number of records (%d)" % (name, n_records))
    return off


def _check_blocks(iou, iou_off, counts, what):
    """iou float64 [n] and iou_off int64 [m]: the IoU matrix (or rows) of entry j, of
    counts[j] values, at iou[iou_off[j]:iou_off[j] + counts[j]], inside the buffer where
    counts[j] > 0."""
    iou = _check("iou", iou, np.float64)
    iou_off = _check(what, iou_off, np.int64)
    if iou_off.shape[0] != counts.shape[0]:
        raise ValueError("%s should have %d entries, got %d" % (what, counts.shape[0], iou_off.shape[0]))
    need = counts > 0
    if need.any() and (iou_off[need].min() < 0 or (iou_off[need] + counts[need]).max() > iou.shape[0]):
        raise ValueError("%s should point inside the IoU buffer (%d values)" % (what, iou.shape[0]))
    return iou, iou_off


def confusion_match(dt_off, dt_box, gt_off, gt_box, double iou_thr, num_threads=None, iou=None, dt_iou_off=None):
    """Class-agnostic one-to-one matching per image (csrc/reports.c,
    fa_confusion_match_image: IoU > iou_thr, each detection keeps its best gt, each gt
    its best detection). dt_off, gt_off: int64 [I + 1] image offsets; dt_box [nd, 4],
    gt_box [ng, 4] float64 xywh, detections of an image in descending score order.
    Or, for any overlap measure (masks, OKS): dt_box and gt_box None, ``iou`` float64
    and ``dt_iou_off`` int64 [nd]: image i's [D_i][G_i] matrix (row-major) starts at
    iou[dt_iou_off[dt_off[i]]] (images with detections and ground truth).
    Returns int32 [nd]: the matched gt (index into the gts) or -1."""
    cdef int64_t I = dt_off.shape[0] - 1 if isinstance(dt_off, np.ndarray) else -1
    if I < 0:
        raise TypeError("dt_off should be a numpy.ndarray of int64 offsets")
    cdef bint by_iou = iou is not None
    if by_iou:
        dt_off = _check("dt_off", dt_off, np.int64)
        gt_off = _check("gt_off", gt_off, np.int64)
        nd_, ng_ = int(dt_off[I]), int(gt_off[gt_off.shape[0] - 1]) if gt_off.shape[0] else 0
        dt_box = gt_box = np.zeros((1, 4))        # not read
    else:
        dt_box = _check("dt_box", dt_box, np.float64, 2, 4)
        gt_box = _check("gt_box", gt_box, np.float64, 2, 4)
        nd_, ng_ = dt_box.shape[0], gt_box.shape[0]
    dt_off = _check_offsets("dt_off", dt_off, I, nd_)
    gt_off = _check_offsets("gt_off", gt_off, I, ng_)
    cdef int64_t nd = nd_, ng = ng_
    out = np.full(max(nd, 1), -1, np.int32)
    if nd == 0 or ng == 0 or I == 0:
        return out[:nd]
    blk = np.zeros(I, np.int64)
    iou_in = np.zeros(1)
    if by_iou:
        dt_iou_off = _check("dt_iou_off", dt_iou_off, np.int64)
        if dt_iou_off.shape[0] != nd:
            raise ValueError("dt_iou_off should have %d entries, got %d" % (nd, dt_iou_off.shape[0]))
        D, G = np.diff(dt_off), np.diff(gt_off)
        has = (D > 0) & (G > 0)
        blk = np.where(has, dt_iou_off[np.minimum(dt_off[:I], nd - 1)], 0)
        iou_in, blk = _check_blocks(iou, blk, np.where(has, D * G, 0), "dt_iou_off")
        if iou_in.shape[0] == 0:
            iou_in = np.zeros(1)
    cdef int64_t max_g = int(np.diff(gt_off).max())
    cdef size_t nbytes = fa_confusion_scratch_bytes(max_g)
    cdef const int64_t[::1] do = dt_off
    cdef const int64_t[::1] go = gt_off
    cdef const double[:, ::1] db = dt_box
    cdef const double[:, ::1] gb = gt_box
    cdef const double[::1] iv = iou_in
    cdef const int64_t[::1] bv = blk
    cdef int32_t[::1] ov = out
    cdef int nt = _threads(num_threads)
    if nd < SERIAL_BELOW:
        nt = 1
    cdef int64_t i, r, d0, g0
    cdef char *buf = NULL
    failed = np.zeros(1, np.int32)
    cdef int32_t[::1] fv = failed
    with nogil, parallel(num_threads=nt):
        buf = <char *>malloc(nbytes)
        for i in prange(I, schedule="dynamic", chunksize=64):
            if buf == NULL:
                fv[0] = 1
                continue
            d0 = do[i]
            g0 = go[i]
            if do[i + 1] > d0 and go[i + 1] > g0:
                if by_iou:
                    fa_confusion_match_image(NULL, do[i + 1] - d0, NULL, go[i + 1] - g0, &iv[bv[i]], iou_thr,
                                             buf, &ov[d0])
                else:
                    fa_confusion_match_image(&db[d0, 0], do[i + 1] - d0, &gb[g0, 0], go[i + 1] - g0, NULL,
                                             iou_thr, buf, &ov[d0])
                for r in range(d0, do[i + 1]):
                    if ov[r] >= 0:
                        ov[r] = ov[r] + <int32_t>g0
        free(buf)
    if failed[0]:
        raise MemoryError("fastap: out of memory (%d bytes of scratch per thread)" % nbytes)
    return out


def tide_ious(dt_off, dt_box, dt_cls, gt_off, gt_box, gt_cls, gt_skip, gt_used, num_threads=None):
    """TIDE's per-detection IoU summaries (csrc/reports.c, fa_tide_ious_image).

    dt_off, gt_off: int64 [I + 1] image offsets; dt_box [nd, 4], gt_box [ng, 4] float64
    xywh; dt_cls int32 [nd], gt_cls int32 [ng]; gt_skip, gt_used uint8 [ng].
    Returns (same_iou float64 [nd], same_gt int32 [nd], other_iou, other_gt, used_iou);
    gt indices index gt_box, -1 where no candidate overlaps."""
    dt_box = _check("dt_box", dt_box, np.float64, 2, 4)
    gt_box = _check("gt_box", gt_box, np.float64, 2, 4)
    dt_cls = _check("dt_cls", dt_cls, np.int32)
    gt_cls = _check("gt_cls", gt_cls, np.int32)
    gt_skip = _check("gt_skip", gt_skip, np.uint8)
    gt_used = _check("gt_used", gt_used, np.uint8)
    cdef int64_t nd = dt_box.shape[0], ng = gt_box.shape[0]
    if dt_cls.shape[0] != nd:
        raise ValueError("dt_cls should have %d entries, got %d" % (nd, dt_cls.shape[0]))
    for name, a in (("gt_cls", gt_cls), ("gt_skip", gt_skip), ("gt_used", gt_used)):
        if a.shape[0] != ng:
            raise ValueError("%s should have %d entries, got %d" % (name, ng, a.shape[0]))
    cdef int64_t I = dt_off.shape[0] - 1 if isinstance(dt_off, np.ndarray) else -1
    if I < 0:
        raise TypeError("dt_off should be a numpy.ndarray of int64 offsets")
    dt_off = _check_offsets("dt_off", dt_off, I, nd)
    gt_off = _check_offsets("gt_off", gt_off, I, ng)
    same_iou = np.zeros(max(nd, 1))
    other_iou = np.zeros(max(nd, 1))
    used_iou = np.zeros(max(nd, 1))
    same_gt = np.full(max(nd, 1), -1, np.int32)
    other_gt = np.full(max(nd, 1), -1, np.int32)
    if nd == 0 or ng == 0 or I == 0:
        return same_iou[:nd], same_gt[:nd], other_iou[:nd], other_gt[:nd], used_iou[:nd]
    cdef const int64_t[::1] do = dt_off
    cdef const int64_t[::1] go = gt_off
    cdef const double[:, ::1] db = dt_box
    cdef const double[:, ::1] gb = gt_box
    cdef const int32_t[::1] dc = dt_cls
    cdef const int32_t[::1] gc = gt_cls
    cdef const uint8_t[::1] gs = gt_skip
    cdef const uint8_t[::1] gu = gt_used
    cdef double[::1] si = same_iou
    cdef double[::1] oi = other_iou
    cdef double[::1] ui = used_iou
    cdef int32_t[::1] sg = same_gt
    cdef int32_t[::1] og = other_gt
    cdef int nt = _threads(num_threads)
    if nd < SERIAL_BELOW:
        nt = 1
    cdef int64_t i, r, d0, g0
    with nogil:
        for i in prange(I, schedule="dynamic", chunksize=64, num_threads=nt):
            d0 = do[i]
            g0 = go[i]
            if do[i + 1] > d0 and go[i + 1] > g0:
                fa_tide_ious_image(&db[d0, 0], &dc[d0], do[i + 1] - d0, &gb[g0, 0], &gc[g0], &gs[g0],
                                   &gu[g0], go[i + 1] - g0, NULL, &si[d0], &sg[d0], &oi[d0], &og[d0], &ui[d0])
                for r in range(d0, do[i + 1]):
                    if sg[r] >= 0:
                        sg[r] = sg[r] + <int32_t>g0
                    if og[r] >= 0:
                        og[r] = og[r] + <int32_t>g0
    return same_iou, same_gt, other_iou, other_gt, used_iou


def ap_sorted(cat_off, tp, fp, npig, rec_thrs):
    """pycocotools' interpolated precision from flags in accumulation order
    (csrc/reports.c, fa_ap_sorted). cat_off int64 [K + 1] (rising from 0 to n); tp, fp
    bool or uint8 [n]; npig int64 [K]; rec_thrs float64 [R]. Returns q float64 [R, K]:
    -1 where npig <= 0, else the envelope sampled at each recall threshold (0 past the
    end of the curve); mAP is the mean of q[q > -1]."""
    tp = _check("tp", np.asarray(tp).view(np.uint8) if np.asarray(tp).dtype == np.bool_ else tp, np.uint8)
    fp = _check("fp", np.asarray(fp).view(np.uint8) if np.asarray(fp).dtype == np.bool_ else fp, np.uint8)
    npig = _check("npig", npig, np.int64)
    rec_thrs = _check("rec_thrs", rec_thrs, np.float64)
    cdef int64_t n = tp.shape[0]
    if fp.shape[0] != n:
        raise ValueError("tp and fp should have the same length, got %d and %d" % (n, fp.shape[0]))
    cdef int64_t K = npig.shape[0]
    cat_off = _check("cat_off", cat_off, np.int64)
    if cat_off.shape[0] != K + 1:
        raise ValueError("cat_off should have %d entries (categories + 1), got %d" % (K + 1, cat_off.shape[0]))
    if cat_off[0] != 0 or cat_off[K] != n or (K and (np.diff(cat_off) < 0).any()):
        raise ValueError("cat_off should rise from 0 to the number of detections (%d)" % n)
    cdef int64_t R = rec_thrs.shape[0]
    q = np.empty((R, K), np.float64)
    cdef int64_t most = int(np.diff(cat_off).max()) if K else 0
    rc = np.empty(max(most, 1))
    pr = np.empty(max(most, 1))
    cdef const int64_t[::1] co = cat_off
    cdef const uint8_t[::1] tv = tp
    cdef const uint8_t[::1] fv = fp
    cdef const int64_t[::1] nv = npig
    cdef const double[::1] rt = rec_thrs
    cdef double[::1] rcv = rc
    cdef double[::1] prv = pr
    cdef double[:, ::1] qv = q
    cdef uint8_t z8 = 0
    cdef double z = 0
    if K == 0:
        return q
    with nogil:
        fa_ap_sorted(&co[0], K, &tv[0] if n else &z8, &fv[0] if n else &z8, &nv[0],
                     &rt[0] if R else &z, R, &rcv[0], &prv[0], &qv[0, 0] if R else &z)
    return q


def sort_runs_desc(off, score, num_threads=None):
    """Inside each run [off[k], off[k + 1]) of records, the stable order by descending
    score (csrc/group.c, fa_sort_desc_stable), runs in parallel. off: int64 [K + 1]
    rising from 0 to n; score: float64 [n], finite. Returns int64 [n], a permutation
    that keeps every run in place (ties keep the input order)."""
    score = _check("score", score, np.float64)
    cdef int64_t n = score.shape[0]
    off = _check("off", off, np.int64)
    cdef int64_t K = off.shape[0] - 1
    if K < 0 or off[0] != 0 or off[K] != n or (K and (np.diff(off) < 0).any()):
        raise ValueError("off should rise from 0 to the number of records (%d)" % n)
    if n and not np.isfinite(score).all():
        raise ValueError("score should be finite")
    order = np.arange(n, dtype=np.int64)
    if n == 0 or K == 0:
        return order
    cdef int64_t most = int(np.diff(off).max())
    cdef const int64_t[::1] ov = off
    cdef const double[::1] sv = score
    cdef int64_t[::1] rv = order
    cdef int nt = _threads(num_threads)
    if n < SERIAL_BELOW:
        nt = 1
    cdef int64_t k
    cdef int64_t *tmp = NULL
    failed = np.zeros(1, np.int32)
    cdef int32_t[::1] fv = failed
    with nogil, parallel(num_threads=nt):
        tmp = <int64_t *>malloc(<size_t>(most / 2 + 1) * sizeof(int64_t))
        for k in prange(K, schedule="dynamic", chunksize=1):
            if tmp == NULL:
                fv[0] = 1
                continue
            if ov[k + 1] - ov[k] > 1:
                fa_sort_desc_stable(&rv[ov[k]], ov[k + 1] - ov[k], &sv[0], tmp)
        free(tmp)
    if failed[0]:
        raise MemoryError("fastap: out of memory (%d entries of scratch per thread)" % (most / 2 + 1))
    return order


def tide_ious_rows(rows, dt_img, dt_box, dt_cls, gt_off, gt_box, gt_cls, gt_skip, gt_used, gt_map,
                   num_threads=None, iou=None, iou_off=None):
    """tide_ious for detections in any order: detection r is row rows[r] of dt_box /
    dt_cls / dt_img (read in place, no grouping by image); its candidates are the
    ground truths [gt_off[i], gt_off[i + 1]) of its image i = dt_img[rows[r]].

    rows int64 [n]; dt_img int32 [nd] image indices in [0, I); dt_box [nd, 4] float64;
    dt_cls int32 [nd]; gt_off int64 [I + 1]; gt_box [ng, 4]; gt_cls int32 [ng]; gt_skip,
    gt_used uint8 [ng]; gt_map int64 [ng]. Returns (same_iou float64 [n], same_gt int64
    [n], other_iou, other_gt, used_iou), the gts given as gt_map[g] (-1: none). Walking
    the detections in their stored order keeps the box reads sequential; the few
    ground truths of an image stay in cache.

    Any overlap measure (masks, OKS): dt_box and gt_box None, ``iou`` float64 and
    ``iou_off`` int64 [n]: row r's overlaps with its image's G ground truths (in the
    order of gt_off) are iou[iou_off[r]:iou_off[r] + G]."""
    rows = _check("rows", rows, np.int64)
    dt_img = _check("dt_img", dt_img, np.int32)
    dt_cls = _check("dt_cls", dt_cls, np.int32)
    gt_cls = _check("gt_cls", gt_cls, np.int32)
    cdef bint by_iou = iou is not None
    if by_iou:
        dt_box = gt_box = np.zeros((1, 4))        # not read
    else:
        dt_box = _check("dt_box", dt_box, np.float64, 2, 4)
        gt_box = _check("gt_box", gt_box, np.float64, 2, 4)
    gt_skip = _check("gt_skip", gt_skip, np.uint8)
    gt_used = _check("gt_used", gt_used, np.uint8)
    gt_map = _check("gt_map", gt_map, np.int64)
    cdef int64_t n = rows.shape[0], nd = dt_cls.shape[0], ng = gt_cls.shape[0]
    for name, a in (("dt_img", dt_img),) + ((("dt_box", dt_box),) if not by_iou else ()):
        if a.shape[0] != nd:
            raise ValueError("%s should have %d entries, got %d" % (name, nd, a.shape[0]))
    for name, a in (("gt_skip", gt_skip), ("gt_used", gt_used), ("gt_map", gt_map)) + \
            ((("gt_box", gt_box),) if not by_iou else ()):
        if a.shape[0] != ng:
            raise ValueError("%s should have %d entries, got %d" % (name, ng, a.shape[0]))
    cdef int64_t I = gt_off.shape[0] - 1 if isinstance(gt_off, np.ndarray) else -1
    if I < 0:
        raise TypeError("gt_off should be a numpy.ndarray of int64 offsets")
    gt_off = _check_offsets("gt_off", gt_off, I, ng)
    if n and (rows.min() < 0 or rows.max() >= nd):
        raise ValueError("rows should index the %d detections" % nd)
    if n and (dt_img[rows].min() < 0 or dt_img[rows].max() >= I):
        raise ValueError("dt_img should be image indices in [0, %d)" % I)
    iou_in, row_off = np.zeros(1), np.zeros(max(n, 1), np.int64)
    if by_iou:
        G = np.diff(gt_off)[dt_img[rows]] if n else np.zeros(0, np.int64)
        iou_in, row_off = _check_blocks(iou, iou_off, G, "iou_off")
        if iou_in.shape[0] == 0:
            iou_in = np.zeros(1)
        if n == 0:
            row_off = np.zeros(1, np.int64)
    same_iou = np.zeros(n)
    other_iou = np.zeros(n)
    used_iou = np.zeros(n)
    same_gt = np.full(n, -1, np.int64)
    other_gt = np.full(n, -1, np.int64)
    if n == 0 or ng == 0:
        return same_iou, same_gt, other_iou, other_gt, used_iou
    cdef const int64_t[::1] rv = rows
    cdef const int32_t[::1] di = dt_img
    cdef const int64_t[::1] go = gt_off
    cdef const double[:, ::1] db = dt_box
    cdef const double[:, ::1] gb = gt_box
    cdef const double[::1] iv = iou_in
    cdef const int64_t[::1] io = row_off
    cdef const int32_t[::1] dc = dt_cls
    cdef const int32_t[::1] gc = gt_cls
    cdef const uint8_t[::1] gs = gt_skip
    cdef const uint8_t[::1] gu = gt_used
    cdef const int64_t[::1] gm = gt_map
    cdef double[::1] si = same_iou
    cdef double[::1] oi = other_iou
    cdef double[::1] ui = used_iou
    cdef int64_t[::1] sg = same_gt
    cdef int64_t[::1] og = other_gt
    cdef int nt = _threads(num_threads)
    if n < SERIAL_BELOW:
        nt = 1
    cdef int64_t r, j, g0, g1
    cdef int32_t s32, o32
    with nogil:
        for r in prange(n, schedule="static", num_threads=nt):
            j = rv[r]
            g0 = go[di[j]]
            g1 = go[di[j] + 1]
            if g1 > g0:
                s32 = -1
                o32 = -1
                if by_iou:
                    fa_tide_ious_image(NULL, &dc[j], 1, NULL, &gc[g0], &gs[g0], &gu[g0], g1 - g0, &iv[io[r]],
                                       &si[r], &s32, &oi[r], &o32, &ui[r])
                else:
                    fa_tide_ious_image(&db[j, 0], &dc[j], 1, &gb[g0, 0], &gc[g0], &gs[g0], &gu[g0], g1 - g0, NULL,
                                       &si[r], &s32, &oi[r], &o32, &ui[r])
                if s32 >= 0:
                    sg[r] = gm[g0 + s32]
                if o32 >= 0:
                    og[r] = gm[g0 + o32]
    return same_iou, same_gt, other_iou, other_gt, used_iou
