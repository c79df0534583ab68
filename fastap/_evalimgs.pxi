# pycocotools' evalImgs dicts of one area range, made from the flat buffers that
# fastap/coco.py's _area_eval_imgs computes (included by _core.pyx).
#
# The Python loop it replaces made each dict from three slices and reshapes of NumPy
# arrays (about 2.5 us a dict); here each matrix is a 2-D view made with the NumPy C API
# straight on the shared buffer (the same views on the same base), so a per-batch
# loop of one image pays well under a microsecond a dict.

cdef inline object _view2(cnp.ndarray flat, Py_ssize_t start, Py_ssize_t rows, Py_ssize_t cols):
    """A C-contiguous, writeable [rows, cols] view of the 1-D contiguous array ``flat``
    (fresh and writeable) from element ``start``."""
    cdef cnp.npy_intp dims[2]
    dims[0] = rows
    dims[1] = cols
    cdef char *ptr = <char *> cnp.PyArray_DATA(flat) + start * cnp.PyArray_ITEMSIZE(flat)
    cdef object view = cnp.PyArray_SimpleNewFromData(2, dims, cnp.PyArray_TYPE(flat), <void *> ptr)
    cnp.set_array_base(view, flat)
    return view


def area_eval_img_dicts(list out, Py_ssize_t a, Py_ssize_t I, object a_rng, object max_det, Py_ssize_t T,
                        cnp.ndarray dtm, cnp.ndarray gtm, cnp.ndarray dtig, cnp.ndarray ign_sorted,
                        list gt_id_l, list dt_id_l, list dt_score_l, list img_ids, list cat_ids,
                        const int64_t[:, ::1] runs):
    """Fill ``out[b + a * I]`` for each run of ``runs`` (int64 [n_runs, 7]: b, image index
    into ``img_ids``, category index into ``cat_ids``, first and end detection, first and end
    ground truth) with pycocotools' evalImgs dict: ``dtMatches`` / ``dtIgnore`` [T, D] views
    of the flat ``dtm`` (float64) / ``dtig`` (bool) from ``ds * T``, ``gtMatches`` [T, G] of
    ``gtm`` (float64) from ``gs * T``, ``gtIgnore`` a view of ``ign_sorted`` (an empty
    float64 array where G is 0), the id and score lists sliced."""
    cdef Py_ssize_t r, n = runs.shape[0], ds, de, gs, ge, D, G
    if dtm.ndim != 1 or gtm.ndim != 1 or dtig.ndim != 1 or ign_sorted.ndim != 1 or runs.shape[1] != 7:
        raise ValueError("area_eval_img_dicts: flat 1-D buffers and runs [n, 7] expected")
    if not (cnp.PyArray_IS_C_CONTIGUOUS(dtm) and cnp.PyArray_IS_C_CONTIGUOUS(gtm)
            and cnp.PyArray_IS_C_CONTIGUOUS(dtig) and cnp.PyArray_IS_C_CONTIGUOUS(ign_sorted)):
        raise ValueError("area_eval_img_dicts: contiguous buffers expected")
    cdef Py_ssize_t n_dtm = dtm.shape[0], n_gtm = gtm.shape[0], n_ign = ign_sorted.shape[0]
    cdef Py_ssize_t n_out = len(out), n_img = len(img_ids), n_cat = len(cat_ids)
    for r in range(n):
        ds, de, gs, ge = runs[r, 3], runs[r, 4], runs[r, 5], runs[r, 6]
        D, G = de - ds, ge - gs
        # every index is checked: the views are made with no bounds check of NumPy's
        if not (0 <= runs[r, 0] + a * I < n_out and 0 <= runs[r, 1] < n_img and 0 <= runs[r, 2] < n_cat
                and 0 <= D and 0 <= G and 0 <= ds and de * T <= n_dtm and de <= len(dt_id_l)
                and de <= len(dt_score_l) and 0 <= gs and ge * T <= n_gtm and ge <= n_ign
                and ge <= len(gt_id_l) and n_dtm == dtig.shape[0]):
            raise ValueError("area_eval_img_dicts: run %d is out of range" % r)
        out[runs[r, 0] + a * I] = {
            'image_id': img_ids[runs[r, 1]],
            'category_id': cat_ids[runs[r, 2]],
            'aRng': a_rng,
            'maxDet': max_det,
            'dtIds': dt_id_l[ds:de],
            'gtIds': gt_id_l[gs:ge],
            'dtMatches': _view2(dtm, ds * T, T, D),
            'gtMatches': _view2(gtm, gs * T, T, G),
            'dtScores': dt_score_l[ds:de],
            'gtIgnore': ign_sorted[gs:ge] if G else np.array([]),
            'dtIgnore': _view2(dtig, ds * T, T, D),
        }


def accumulate_blocks(const int64_t[::1] det_off, const int64_t[::1] npig, const double[::1] score,
                      const int64_t[::1] rank, const uint8_t[:, ::1] flags, const int64_t[::1] max_dets,
                      const double[::1] rec_thrs, num_threads=None):
    """pycocotools' accumulate() of B (category, area range) blocks of evalImgs dicts
    (csrc/accum_blocks.c). Block b holds the detections [det_off[b], det_off[b+1]) of
    ``score`` float64 [N], ``rank`` int64 [N] (position in its dict) and ``flags`` uint8
    [T, N] (bit 0 true positive, bit 1 false positive), concatenated in dict order;
    ``npig`` int64 [B] its non-ignored ground truths. Returns precision float64
    [B, M, T, R], recall [B, M, T], scores [B, M, T, R] (-1 for a block with npig 0)."""
    cdef int64_t B = npig.shape[0], N = score.shape[0], b
    cdef int32_t T = flags.shape[0], R = rec_thrs.shape[0], M = max_dets.shape[0]
    if det_off.shape[0] != B + 1 or rank.shape[0] != N or flags.shape[1] != N:
        raise ValueError("accumulate_blocks: det_off [B+1], rank [N] and flags [T, N] expected")
    if B and (det_off[0] != 0 or det_off[B] != N):
        raise ValueError("accumulate_blocks: det_off must run from 0 to N")
    for b in range(B):
        if det_off[b + 1] < det_off[b]:
            raise ValueError("accumulate_blocks: det_off must not decrease")
    precision = np.empty((B, M, T, R))
    recall = np.empty((B, M, T))
    scores = np.empty((B, M, T, R))
    if B == 0 or M == 0 or T == 0:
        return precision, recall, scores
    cdef double[:, :, :, ::1] pv = precision
    cdef double[:, :, ::1] rv = recall
    cdef double[:, :, :, ::1] sv = scores
    cdef fa_blocks_input inp
    inp.n_blocks, inp.n_det = B, N
    inp.det_off, inp.npig = &det_off[0], &npig[0]
    inp.score = &score[0] if N else NULL
    inp.rank = &rank[0] if N else NULL
    inp.flags = &flags[0, 0] if N else NULL
    inp.n_iou, inp.n_rec, inp.n_maxdet = T, R, M
    inp.rec_thrs = &rec_thrs[0] if R else NULL
    inp.max_dets = &max_dets[0]
    cdef int nt = _threads(num_threads) if N >= SERIAL_BELOW else 1
    cdef int failed = 0
    if nt > 1:
        for b in prange(B, nogil=True, num_threads=nt, schedule="dynamic"):
            failed += fa_accumulate_block(&inp, b, &pv[0, 0, 0, 0], &rv[0, 0, 0], &sv[0, 0, 0, 0]) != 0
    else:
        with nogil:
            for b in range(B):
                if fa_accumulate_block(&inp, b, &pv[0, 0, 0, 0], &rv[0, 0, 0], &sv[0, 0, 0, 0]) != 0:
                    failed = 1
                    break
    if failed:
        raise MemoryError("accumulate_blocks: no memory for a block's detections")
    return precision, recall, scores


cdef inline bint _is_array(object x, int nd, int typenum):
    return (type(x) is np.ndarray and cnp.PyArray_NDIM(<cnp.ndarray> x) == nd
            and cnp.PyArray_TYPE(<cnp.ndarray> x) == typenum)


def gather_eval_imgs(list ents, Py_ssize_t T):
    """The fields of pycocotools' evalImgs dicts ``ents`` (no None) that accumulate()
    reads, as arrays, in one pass at C speed: (nd int64 [n], npig int64 [n] (gtIgnore
    entries equal to 0), scores float64 [N], flags uint8 [T, N] (bit 0: dtMatches nonzero
    and dtIgnore false, bit 1: dtMatches zero and dtIgnore false)), N = sum(nd). Returns
    None unless every entry is a plain dict holding dtScores as a list of numbers,
    dtMatches float64 and dtIgnore bool arrays of shape (T, len(dtScores)) and gtIgnore a
    1-D int64 or float64 array -- what evaluate() makes, pickled or not; the caller then
    reads them with NumPy (and names a bad entry)."""
    cdef Py_ssize_t n = len(ents), i, j, t, D, N = 0, G
    cdef object e, sc, dm, di, gi
    cdef PyObject *v
    nd = np.empty(n, np.int64)
    npig = np.empty(n, np.int64)
    cdef int64_t[::1] ndv = nd, npv = npig
    keys = ("dtScores", "dtMatches", "dtIgnore", "gtIgnore")
    for i in range(n):                       # pass 1: check every entry, count
        e = ents[i]
        if type(e) is not dict:
            return None
        for k in keys:
            if PyDict_GetItem(e, k) == NULL:
                return None
        sc = <object> PyDict_GetItem(e, "dtScores")
        dm = <object> PyDict_GetItem(e, "dtMatches")
        di = <object> PyDict_GetItem(e, "dtIgnore")
        gi = <object> PyDict_GetItem(e, "gtIgnore")
        if type(sc) is not list or not _is_array(dm, 2, cnp.NPY_FLOAT64) or not _is_array(di, 2, cnp.NPY_BOOL):
            return None
        D = len(<list> sc)
        if (cnp.PyArray_DIM(dm, 0) != T or cnp.PyArray_DIM(dm, 1) != D or cnp.PyArray_DIM(di, 0) != T
                or cnp.PyArray_DIM(di, 1) != D):
            return None
        if not (_is_array(gi, 1, cnp.NPY_INT64) or _is_array(gi, 1, cnp.NPY_FLOAT64)):
            return None
        ndv[i] = D
        N += D
    scores = np.empty(N)
    flags = np.empty((T, N), np.uint8)
    cdef double[::1] sv = scores
    cdef uint8_t[:, ::1] fv = flags
    cdef Py_ssize_t off = 0, s0, s1, g
    cdef char *pm
    cdef char *pi
    cdef char *pg
    cdef bint hit
    cdef int64_t zeros
    for i in range(n):                       # pass 2: copy
        e = ents[i]
        sc = <object> PyDict_GetItem(e, "dtScores")
        dm = <object> PyDict_GetItem(e, "dtMatches")
        di = <object> PyDict_GetItem(e, "dtIgnore")
        gi = <object> PyDict_GetItem(e, "gtIgnore")
        D = ndv[i]
        for j in range(D):
            sv[off + j] = float((<list> sc)[j])      # float(): what np.concatenate reads
        pm, pi = <char *> cnp.PyArray_DATA(dm), <char *> cnp.PyArray_DATA(di)
        s0, s1 = cnp.PyArray_STRIDE(dm, 0), cnp.PyArray_STRIDE(dm, 1)
        for t in range(T):
            for j in range(D):
                hit = (<double *> (pm + t * s0 + j * s1))[0] != 0
                if (<uint8_t *> (pi + t * cnp.PyArray_STRIDE(di, 0) + j * cnp.PyArray_STRIDE(di, 1)))[0]:
                    fv[t, off + j] = 0
                else:
                    fv[t, off + j] = 1 if hit else 2
        G = cnp.PyArray_DIM(gi, 0)
        pg = <char *> cnp.PyArray_DATA(gi)
        g = cnp.PyArray_STRIDE(gi, 0)
        zeros = 0
        if cnp.PyArray_TYPE(gi) == cnp.NPY_INT64:
            for j in range(G):
                zeros += (<int64_t *> (pg + j * g))[0] == 0
        else:
            for j in range(G):
                zeros += (<double *> (pg + j * g))[0] == 0
        npv[i] = zeros
        off += D
    return nd, npig, scores, flags


cdef inline object _entry_ok(object e, Py_ssize_t T, object cat, object img, object area):
    """e's (dtScores, dtMatches, dtIgnore, gtIgnore) when e is a plain dict as evaluate()
    makes them and names (cat, img, area) as its place in the layout; else None."""
    if type(e) is not dict:
        return None
    cdef PyObject *p_sc = PyDict_GetItem(e, "dtScores")
    cdef PyObject *p_dm = PyDict_GetItem(e, "dtMatches")
    cdef PyObject *p_di = PyDict_GetItem(e, "dtIgnore")
    cdef PyObject *p_gi = PyDict_GetItem(e, "gtIgnore")
    cdef PyObject *p_c = PyDict_GetItem(e, "category_id")
    cdef PyObject *p_i = PyDict_GetItem(e, "image_id")
    cdef PyObject *p_a = PyDict_GetItem(e, "aRng")
    if p_sc == NULL or p_dm == NULL or p_di == NULL or p_gi == NULL or p_c == NULL or p_i == NULL or p_a == NULL:
        return None
    sc, dm, di, gi = <object> p_sc, <object> p_dm, <object> p_di, <object> p_gi
    if type(sc) is not list or not _is_array(dm, 2, cnp.NPY_FLOAT64) or not _is_array(di, 2, cnp.NPY_BOOL):
        return None
    if not (_is_array(gi, 1, cnp.NPY_INT64) or _is_array(gi, 1, cnp.NPY_FLOAT64)):
        return None
    cdef Py_ssize_t D = len(<list> sc)
    if (cnp.PyArray_DIM(dm, 0) != T or cnp.PyArray_DIM(dm, 1) != D or cnp.PyArray_DIM(di, 0) != T
            or cnp.PyArray_DIM(di, 1) != D):
        return None
    try:
        if not (<object> p_c == cat and <object> p_i == img and (<object> p_a is area or <object> p_a == area)):
            return None
    except Exception:          # an array-valued comparison, say: the caller's checks name it
        return None
    return (sc, dm, di, gi)


def gather_layout(object eval_imgs, const int64_t[::1] bases, const int64_t[::1] i_list, list cats,
                  list areas, list img_ids, Py_ssize_t T):
    """:func:`gather_eval_imgs` over the layout at once: block b reads the entries
    ``eval_imgs[bases[b] + i]`` (i in ``i_list``), which must be None or evaluate()'s
    dicts naming ``cats[b]``, ``img_ids[n]`` (the n-th of i_list) and ``areas[b]``.
    Returns (det_off int64 [B+1], npig int64 [B], scores float64 [N], rank int64 [N],
    flags uint8 [T, N]) as :func:`accumulate_blocks` takes them, or None when
    ``eval_imgs`` is not a list or any entry is not such a dict (the caller then reads
    them with NumPy, and names what is wrong)."""
    if type(eval_imgs) is not list:
        return None
    cdef list ev = <list> eval_imgs
    cdef Py_ssize_t B = bases.shape[0], I = i_list.shape[0], n_ev = len(ev), b, n, j, N = 0
    if len(cats) != B or len(areas) != B or len(img_ids) != I:
        raise ValueError("gather_layout: cats and areas [B], img_ids [len(i_list)] expected")
    det_off = np.zeros(B + 1, np.int64)
    ent_off = np.zeros(B + 1, np.int64)
    cdef int64_t[::1] dov = det_off, eov = ent_off
    kept = []
    for b in range(B):                       # pass 1: check, count, keep the fields
        for n in range(I):
            j = bases[b] + i_list[n]
            if j < 0 or j >= n_ev:
                return None
            e = ev[j]
            if e is None:
                continue
            f = _entry_ok(e, T, cats[b], img_ids[n], areas[b])
            if f is None:
                return None
            kept.append(f)
            N += len(<list> f[0])
        dov[b + 1] = N
        eov[b + 1] = len(kept)
    npig = np.zeros(B, np.int64)
    scores = np.empty(N)
    rank = np.empty(N, np.int64)
    flags = np.empty((T, N), np.uint8)
    cdef int64_t[::1] npv = npig, rv = rank
    cdef double[::1] sv = scores
    cdef uint8_t[:, ::1] fv = flags
    cdef Py_ssize_t off = 0, k, t, D, G, s0, s1, i0, i1, g
    cdef char *pm
    cdef char *pi
    cdef char *pg
    cdef bint hit
    cdef int64_t zeros
    for b in range(B):                       # pass 2: copy, block by block
        zeros = 0
        for k in range(eov[b], eov[b + 1]):
            sc, dm, di, gi = kept[k]
            D = len(<list> sc)
            for j in range(D):
                sv[off + j] = float((<list> sc)[j])
                rv[off + j] = j
            pm, pi = <char *> cnp.PyArray_DATA(dm), <char *> cnp.PyArray_DATA(di)
            s0, s1 = cnp.PyArray_STRIDE(dm, 0), cnp.PyArray_STRIDE(dm, 1)
            i0, i1 = cnp.PyArray_STRIDE(di, 0), cnp.PyArray_STRIDE(di, 1)
            for t in range(T):
                for j in range(D):
                    hit = (<double *> (pm + t * s0 + j * s1))[0] != 0
                    fv[t, off + j] = 0 if (<uint8_t *> (pi + t * i0 + j * i1))[0] else (1 if hit else 2)
            G = cnp.PyArray_DIM(gi, 0)
            pg = <char *> cnp.PyArray_DATA(gi)
            g = cnp.PyArray_STRIDE(gi, 0)
            if cnp.PyArray_TYPE(gi) == cnp.NPY_INT64:
                for j in range(G):
                    zeros += (<int64_t *> (pg + j * g))[0] == 0
            else:
                for j in range(G):
                    zeros += (<double *> (pg + j * g))[0] == 0
            off += D
        npv[b] = zeros
    return det_off, npig, scores, rank, flags
