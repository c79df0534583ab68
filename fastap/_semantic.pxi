# Semantic segmentation binding (see csrc/confusion.c). Included by _core.pyx.
#
# The label maps arrive as NumPy arrays shaped by fastap/semantic.py ([N, H, W] labels,
# [N, C, H, W] scores); everything about them is checked here, then the kernel runs
# without the GIL, in parallel over (image, pixel range) pieces, each thread adding into
# its own K x K matrix; the matrices are summed at the end.

from cython.parallel cimport threadid

# Largest num_classes: one int64 K x K matrix per thread (4096: 128 MiB each).
SEMANTIC_MAX_CLASSES = 4096
# Below this many pixels a batch is counted on the calling thread (a 512 x 512 map takes
# about 0.5 ms on one core: no team is worth starting for it).
SEMANTIC_SERIAL_BELOW = 1 << 19
# Smallest piece of an image given to a thread when a batch has fewer images than threads.
SEMANTIC_MIN_PIECE = 1 << 16

_LABEL_TYPES = {np.dtype(np.int8): FA_LBL_I8, np.dtype(np.uint8): FA_LBL_U8, np.dtype(np.int16): FA_LBL_I16,
                np.dtype(np.uint16): FA_LBL_U16, np.dtype(np.int32): FA_LBL_I32,
                np.dtype(np.uint32): FA_LBL_U32, np.dtype(np.int64): FA_LBL_I64,
                np.dtype(np.uint64): FA_LBL_U64}
_SCORE_TYPES = {np.dtype(np.float32): FA_SCORE_F32, np.dtype(np.float64): FA_SCORE_F64}


cdef int _label_type(a, str name) except -1:
    if not isinstance(a, np.ndarray):
        raise InvalidTypeError("%s should be a NumPy array, got %s" % (name, type(a).__name__))
    t = _LABEL_TYPES.get(a.dtype) if a.dtype.isnative else None
    if t is None:
        raise InvalidTypeError("%s should hold integer labels (int8 .. uint64, native byte order), got dtype %s"
                               % (name, a.dtype))
    return t


def _semantic_where(int64_t idx, int64_t w):
    return "pixel (row %d, col %d)" % (idx // w, idx % w) if w > 0 else "pixel %d" % idx


def _semantic_bad_pixel(gt, pred, int64_t img, int64_t idx, int64_t K, int64_t ignore_index, bint reduce_zero):
    """The InvalidAnnotationError for the first pixel the kernel refused."""
    w = gt.shape[2]
    where = "image %d, %s" % (img, _semantic_where(idx, w))
    g = int(gt[img].reshape(-1)[idx])
    rg = g
    if reduce_zero:
        rg = 254 if g == 0 else g - 1
        rg = 255 if rg == 254 else rg
    if rg != ignore_index and not 0 <= rg < K:
        red = " (%d after reduce_zero_label)" % rg if reduce_zero else ""
        return InvalidAnnotationError("ground truth: label %d%s at %s is outside [0, %d) and is not the "
                                      "ignore_index %d" % (g, red, where, K, ignore_index))
    if pred.ndim == 4:
        col = pred[img].reshape(pred.shape[1], -1)[:, idx]
        ch = int(np.flatnonzero(np.isnan(col))[0])
        return InvalidAnnotationError("prediction: score of class %d at %s is NaN" % (ch, where))
    p = int(pred[img].reshape(-1)[idx])
    return InvalidAnnotationError("prediction: label %d at %s is outside [0, %d) (its ground truth is %d, "
                                  "not ignored)" % (p, where, K, g))


cdef _semantic_check(gt, pred, num_classes, ignore_index, fa_confusion_input *inp):
    """Validate the batch and fill inp (pointers are set by the caller)."""
    inp.gt_type = _label_type(gt, "ground truth")
    if gt.ndim != 3:
        raise InvalidAnnotationError("ground truth should be label maps [N, H, W], got %dD" % gt.ndim)
    if not isinstance(pred, np.ndarray):
        raise InvalidTypeError("prediction should be a NumPy array, got %s" % type(pred).__name__)
    if pred.ndim == 4:
        t = _SCORE_TYPES.get(pred.dtype) if pred.dtype.isnative else None
        if t is None:
            raise InvalidTypeError("prediction scores [N, C, H, W] should be float32 or float64 (native byte "
                                   "order), got dtype %s"
                                   % pred.dtype)
        inp.pred_type = t
        shape_ok = pred.shape[0] == gt.shape[0] and pred.shape[2:] == gt.shape[1:]
        if pred.shape[1] < 1:
            raise InvalidAnnotationError("prediction scores [N, C, H, W] have no class channel (C = 0)")
    elif pred.ndim == 3:
        inp.pred_type = _label_type(pred, "prediction")
        shape_ok = pred.shape == gt.shape
    else:
        raise InvalidAnnotationError("prediction should be label maps [N, H, W] or scores [N, C, H, W], "
                                     "got %dD" % pred.ndim)
    if not shape_ok:
        raise InvalidAnnotationError("prediction shape %s does not match the ground truth's %s"
                                     % (tuple(pred.shape), tuple(gt.shape)))
    try:
        k = operator.index(num_classes)
        ign = operator.index(ignore_index)
    except TypeError:
        raise InvalidTypeError("num_classes and ignore_index should be integers, got %r and %r"
                               % (num_classes, ignore_index)) from None
    if not 1 <= k <= SEMANTIC_MAX_CLASSES:
        raise InvalidOptionError("num_classes should be an integer in [1, %d], got %d" % (SEMANTIC_MAX_CLASSES, k))
    if not -2 ** 63 <= ign < 2 ** 63:
        raise InvalidOptionError("ignore_index should fit in int64, got %d" % ign)
    inp.n_img = gt.shape[0]
    inp.n_pix = gt.shape[1] * gt.shape[2]
    inp.n_ch = pred.shape[1] if pred.ndim == 4 else 0
    inp.K = k
    inp.ignore_index = ign


def semantic_confusion(gt, pred, num_classes, ignore_index=255, bint reduce_zero_label=False,
                       bint per_image=False, num_threads=None):
    """The confusion matrix of a batch of label maps (csrc/confusion.c).

    gt: integer NumPy array [N, H, W] (int8 .. uint64); pred: labels [N, H, W] (any integer
    dtype) or scores float32 / float64 [N, C, H, W], whose argmax over C (the first maximum)
    is the label. Pixels whose ground truth (after mmsegmentation's reduce_zero_label when
    set) is ``ignore_index`` are skipped.

    Returns ``(conf, images)``: conf int64 [K, K], rows = ground truth, columns =
    prediction, i.e. ``np.bincount(K * gt[valid] + pred[valid], minlength=K*K)``; images:
    int64 [N, K, K], each image's own matrix, when ``per_image`` (else None).

    InvalidAnnotationError for a shape mismatch, a ground-truth label outside [0, K) that
    is not ignore_index, a prediction outside [0, K) on a counted pixel, or a NaN score,
    naming the value, the image index and the pixel (row, col); InvalidTypeError for other
    dtypes; InvalidOptionError for num_classes outside [1, SEMANTIC_MAX_CLASSES].
    """
    cdef fa_confusion_input inp
    _semantic_check(gt, pred, num_classes, ignore_index, &inp)
    gt = np.ascontiguousarray(gt)
    pred = np.ascontiguousarray(pred)
    cdef int64_t K = inp.K, N = inp.n_img, HW = inp.n_pix
    cdef int nt = _threads(num_threads) if N * HW >= SEMANTIC_SERIAL_BELOW else 1
    cdef int64_t P = 1
    if not per_image and nt > 1 and N < 4 * nt:
        P = max(1, min((4 * nt + N - 1) // N, HW // SEMANTIC_MIN_PIECE))
    cdef int64_t piece = (HW + P - 1) // P if P > 0 else 0
    cdef int64_t n_units = N * P, u, img, b, e
    conf = np.zeros((K, K), np.int64)
    images = np.zeros((N, K, K), np.int64) if per_image else None
    parts = np.zeros((nt if not per_image else 1, K * K), np.int64)
    bad = np.full(max(n_units, 1), -1, np.int64)
    cdef int64_t[:, ::1] pv = parts
    cdef int64_t[::1] badv = bad
    cdef int64_t *imgp = NULL
    if per_image and N > 0:
        imgp = <int64_t *>cnp.PyArray_DATA(images)
    inp.gt = cnp.PyArray_DATA(gt)
    inp.pred = cnp.PyArray_DATA(pred)
    inp.reduce_zero = reduce_zero_label
    if n_units > 0 and HW > 0:
        with nogil, parallel(num_threads=nt):
            for u in prange(n_units, schedule="dynamic"):
                img = u // P
                b = (u % P) * piece
                e = min(HW, b + piece)
                if b < e:
                    # a failure leaves its pixel index in bad[u] (-1 otherwise)
                    fa_confusion_range(&inp, img, b, e,
                                       (imgp + img * K * K) if imgp != NULL else &pv[threadid(), 0],
                                       &badv[u])
    if (bad >= 0).any():
        u = int(np.flatnonzero(bad >= 0)[0])
        raise _semantic_bad_pixel(gt, pred, u // P, bad[u], K, inp.ignore_index, reduce_zero_label)
    conf += (images.sum(axis=0) if per_image else parts.sum(axis=0).reshape(K, K))
    return conf, images
