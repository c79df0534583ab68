# Mask boundaries for Boundary IoU (csrc/boundary.c): an RLE set in, the RLE set of its
# masks' boundaries out (same positions, same sizes), image-parallel. Included by
# _core.pyx; reads RLE sets as described at the top of _segm.pxi (lazy sets included).

ctypedef struct _bd_job:
    const int64_t *hw             # [n, 2]
    const int64_t *off            # [n + 1]
    const uint32_t *cnts
    const int64_t *lazy           # [n, 4] or NULL
    const char *src
    const uint8_t *whole          # [n]: 1 -> the whole image (crowd ground truth), or NULL
    const uint8_t *skip           # [n]: 1 -> an empty boundary (not needed), or NULL
    double ratio
    int64_t *lens                 # [n] out: number of counts


cdef int _bd_chunk(const _bd_job *job, int64_t b, int64_t e, uint32_t **out, int64_t *out_n) noexcept nogil:
    """Boundaries of masks [b, e), their counts appended to a malloc'd *out (*out_n
    entries); 1 when out of memory, 2 on counts that cannot be decoded, else 0."""
    cdef int64_t i, m, cap = 0, need, n_pix
    cdef size_t sb, scap = 0
    cdef void *scratch = NULL
    cdef _sg_dec dec
    cdef uint32_t *q
    cdef fa_rle r
    cdef int rc = 0
    _sg_dec_init(&dec)
    out[0] = NULL
    out_n[0] = 0
    for i in range(b, e):
        r.h = job.hw[2 * i]
        r.w = job.hw[2 * i + 1]
        r.m = job.off[i + 1] - job.off[i]
        r.cnts = job.cnts + job.off[i]
        n_pix = r.h * r.w if r.h > 0 and r.w > 0 else 0
        if (job.skip != NULL and job.skip[i]) or (job.whole != NULL and job.whole[i]):
            need = 2
        else:
            if job.lazy != NULL and job.lazy[4 * i] >= 0:
                r.m = _sg_dec_lazy(&dec, job.src, job.lazy + 4 * i, r.h, r.w)
                if r.m < 0:
                    rc = 1 if r.m == -1 else 2
                    break
                r.cnts = dec.out.p
            need = fa_rle_boundary_sizes(&r, &sb)
            if sb > scap:
                free(scratch)
                scratch = malloc(sb)
                scap = sb
                if scratch == NULL:
                    rc = 1
                    break
        if out_n[0] + need > cap:
            cap = 2 * cap if 2 * cap > out_n[0] + need else out_n[0] + need + 1024
            q = <uint32_t *>realloc(out[0], <size_t>cap * sizeof(uint32_t))
            if q == NULL:
                rc = 1
                break
            out[0] = q
        q = out[0] + out_n[0]
        if job.skip != NULL and job.skip[i]:
            q[0] = <uint32_t>n_pix
            m = 1
        elif job.whole != NULL and job.whole[i]:
            q[0] = 0
            q[1] = <uint32_t>n_pix
            m = 2 if n_pix > 0 else 1
        else:
            m = fa_rle_boundary(&r, fa_boundary_dilation(r.h, r.w, job.ratio), scratch, q)
        job.lens[i] = m
        out_n[0] += m
    free(scratch)
    _sg_dec_free(&dec)
    return rc


def boundary_dilation(int64_t h, int64_t w, double dilation_ratio):
    """Erosion depth of boundary-iou-api for an h x w image:
    max(1, round(dilation_ratio * sqrt(h**2 + w**2)))."""
    return fa_boundary_dilation(h, w, dilation_ratio)


def rle_set_boundary(dict st, double dilation_ratio=0.02, whole=None, skip=None, num_threads=None):
    """RLE set (rle_set_stats) of the boundaries of the masks of RLE set ``st``:
    mask minus its erosion by a 3x3 square repeated boundary_dilation(h, w) times, the
    image border counting as background (boundary-iou-api's mask_to_boundary).
    ``whole`` (bool [n], optional): masks whose "boundary" is the whole image instead
    (a crowd ground truth, whose Boundary IoU is then never below its mask IoU);
    ``skip`` (bool [n], optional): masks left empty (not evaluated)."""
    if not dilation_ratio >= 0:
        raise ValueError("dilation_ratio should be >= 0, got %r" % dilation_ratio)
    hw = np.ascontiguousarray(st["hw"], dtype=np.int64).reshape(-1, 2)
    off = np.ascontiguousarray(st["off"], dtype=np.int64)
    cnts = np.ascontiguousarray(st["cnts"], dtype=np.uint32)
    cdef Py_ssize_t n = hw.shape[0], c, nc
    cdef int64_t pos = 0, total = 0
    if off.shape[0] != n + 1 or off[0] != 0 or (n and (np.any(np.diff(off) < 0) or off[n] > cnts.shape[0])):
        raise ValueError("rle_set_boundary: 'off' should be %d nondecreasing offsets from 0 into 'cnts'" % (n + 1))
    if n and (hw.min() < 0 or np.any(hw[:, 0] * hw[:, 1] > 4294967295)):
        raise ValueError("rle_set_boundary: 'hw' should hold sizes >= 0 with h*w < 2**32")
    lz = st.get("lazy")
    if lz is not None:
        lz = np.asarray(lz)
        if lz.shape != (n, 4) or "src" not in st:
            raise ValueError("rle_set_boundary: 'lazy' should be int64 [%d, 4], with 'src'" % n)
        at = lz[lz[:, 0] >= 0]
        if at.shape[0] and (at[:, 1].min() < 0 or (at[:, 0] + at[:, 1]).max() > len(memoryview(st["src"]))):
            raise ValueError("rle_set_boundary: 'lazy' should locate strings inside 'src'")
    flags = []
    for name, f in (("whole", whole), ("skip", skip)):
        f = np.zeros(max(n, 1), np.uint8) if f is None else np.ascontiguousarray(f, dtype=bool).view(np.uint8)
        if f.shape[0] < n:
            raise ValueError("%s should have one entry per mask (%d), got %d" % (name, n, f.shape[0]))
        flags.append(f if f.shape[0] else np.zeros(1, np.uint8))
    lens = np.zeros(max(n, 1), np.int64)
    cdef const int64_t[:, ::1] hv = hw if n else np.zeros((1, 2), np.int64)
    cdef const int64_t[::1] ov = off
    cdef const uint32_t[::1] cv = cnts if cnts.shape[0] else np.zeros(1, np.uint32)
    cdef const uint8_t[::1] wv = flags[0]
    cdef const uint8_t[::1] sv = flags[1]
    cdef int64_t[::1] lv = lens
    cdef const int64_t[:, ::1] zv
    cdef const unsigned char[::1] src
    cdef _bd_job job
    job.hw = &hv[0, 0]
    job.off = &ov[0]
    job.cnts = &cv[0]
    job.lazy = NULL
    job.src = NULL
    job.whole = &wv[0]
    job.skip = &sv[0]
    job.ratio = dilation_ratio
    job.lens = &lv[0]
    if lz is not None:
        zv = np.ascontiguousarray(lz, dtype=np.int64)
        src = _jr_bytes_view(st["src"], "rle_set_boundary")
        job.lazy = &zv[0, 0]
        job.src = <const char *>&src[0]
    cdef int nt = _threads(num_threads)
    nc = min(n, 8 * nt)
    bounds = np.linspace(0, n, nc + 1).astype(np.int64)
    cdef const int64_t[::1] bv = bounds
    cdef uint32_t **outs = <uint32_t **>calloc(max(nc, 1), sizeof(uint32_t *))
    cdef int64_t *ns = <int64_t *>calloc(max(nc, 1), sizeof(int64_t))
    rcs = np.zeros(max(nc, 1), np.int32)
    cdef int[::1] rv = rcs
    try:
        if outs == NULL or ns == NULL:
            raise MemoryError()
        with nogil:
            for c in prange(nc, num_threads=nt, schedule="dynamic"):
                rv[c] = _bd_chunk(&job, bv[c], bv[c + 1], &outs[c], &ns[c])
        if (rcs == 1).any():
            raise MemoryError("fastap: out of memory computing mask boundaries")
        if (rcs == 2).any():
            raise ValueError("rle_set_boundary: a compressed RLE string of the set cannot be decoded")
        for c in range(nc):
            total += ns[c]
        res = np.empty(total, np.uint32)
        for c in range(nc):
            if ns[c]:
                memcpy(<char *>cnp.PyArray_DATA(res) + pos * 4, outs[c], <size_t>ns[c] * 4)
            pos += ns[c]
    finally:
        if outs != NULL:
            for c in range(nc):
                free(outs[c])
        free(outs)
        free(ns)
    new_off = np.zeros(n + 1, np.int64)
    np.cumsum(lens[:n], out=new_off[1:])
    return rle_set_stats(res, new_off, hw)
