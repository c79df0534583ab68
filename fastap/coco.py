"""Drop-in replacements for pycocotools' ``COCO`` and ``COCOeval`` (iouType "bbox",
"segm" and "keypoints").

The object model is pycocotools' own, because frameworks use it, not only its numbers:
``params`` is edited in place after construction; ``coco.dataset = d;
coco.createIndex()`` re-indexes; ``evalImgs`` and ``ious`` can be read after
``evaluate()``; ``summarize()`` prints through ``sys.stdout``; ``accumulate()`` with
``useCats=0`` leaves ``params.catIds == [-1]``. The numbers come from the same
pipeline as :func:`fastap.evaluate` (:mod:`fastap.evalpass`) and are bit-identical to pycocotools'.

Where each pycocotools rule lives (one place per rule; each is tested against
pycocotools):

======================================================  ===============================================
rule or quirk                                           implemented in
======================================================  ===============================================
box IoU from xywh in double; a crowd's union is the     ``csrc/iou_pair.h`` (``fa_iou_xywh_pair``,
detection's area                                        shared with the CUDA kernel)
detections per (image, category) by descending score,   ``csrc/group.c`` (stable grouping), called by
stable (mergesort ties); cut to ``maxDets[-1]``         :func:`fastap.tables.build_tables`
ignore = ``iscrowd`` or area outside the range (an      ``csrc/coco.c``, ``fa_coco_match_part``
annotation's ``ignore`` is replaced by ``iscrowd``,
so it never ignores alone); ignored ground truth last
greedy matching at ``min(t, 1 - 1e-10)``; a match to    ``csrc/coco.c``, ``fa_coco_match_part``
an ignored ground truth ignores the detection
a detection matched to a ground truth with ``id`` 0     ``csrc/coco.c``, ``fa_coco_match_part``
counts as unmatched in ``accumulate()``                 (``gt_id_zero``)
accumulation: concatenation in image order, mergesort,  ``csrc/coco.c``, ``fa_coco_accumulate_areas``
``eps = np.spacing(1)``, monotone precision,
``searchsorted(..., 'left')``; -1 without ground truth
``summarize()``: ``stats[0]`` at ``maxDets=100``        :func:`fastap.protocols.coco.summarize`
whatever ``maxDets`` is (-1 when 100 is absent)
``imgIds``/``catIds`` sorted-unique and ``maxDets``     :meth:`COCOeval.evaluate` (here)
sorted by ``evaluate()``; ``catIds == [-1]`` after
``accumulate()`` with ``useCats=0``
keypoints with ``useCats=0`` match nothing              :func:`fastap.geometry.attach_oks`
(computeOks finds no ground truth under category -1)
keypoint ignore: ``iscrowd`` or ``num_keypoints == 0``  :func:`fastap.geometry.attach_oks`
OKS and its per-keypoint sigmas                         ``csrc/keypoints.c``
mask IoU on RLE, crowd rule                             ``csrc/rle.c``
results read by the ``loadRes`` branch their first      :func:`fastap.adapters.records.results_kind`,
record picks (a non-empty ``bbox``: area ``w*h`` even   :meth:`fastap.adapters.cocodata.COCO.loadRes`
for segm / keypoints, as detectron2's results)
box results' area ``w*h``, ids 1..N, ``iscrowd`` 0      :meth:`fastap.adapters.cocodata.COCO.loadRes`
parameters built with pycocotools' ``np.linspace``      :class:`fastap.params.Params`
======================================================  ===============================================

Where pycocotools crashes, fastap answers: ``loadRes([])`` gives an empty result set that
evaluates cleanly; a ground truth without ``iscrowd`` counts as not crowd; images need no
``width``/``height``. Where pycocotools silently gives wrong numbers, fastap raises:
duplicate annotation ids (pycocotools evaluates the last one twice;
:func:`fastap.evalpass.check_unique_gt_ids`).
"""
from __future__ import annotations

from __future__ import annotations

import copy
import datetime
import time
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from ._core import box_iou
from .adapters.cocodata import COCO, columns_of, iou_attacher
from .columns import id_column, sorted_ids_list, unique_ids
from .errors import InvalidAnnotationError
from .evalpass import run_pass
from .params import Params
from .protocols.coco import check_params, coco_match, per_class_table, summarize
from .reports.orchestrate import ReportMethods

__all__ = ["COCO", "COCOeval"]


_PLAIN_SCALARS = {int, float, str, bool, np.int64, np.int32, np.float64}


def _copy_params(p):
    """copy.deepcopy of a Params object, 10x faster: its lists hold numbers (or
    [lo, hi] pairs) and its arrays floats, so copying them one level down suffices;
    anything else is deep-copied."""
    q = copy.copy(p)
    for k, v in vars(p).items():
        if isinstance(v, np.ndarray):
            setattr(q, k, v.copy())
        elif isinstance(v, list) and set(map(type, v)) <= _PLAIN_SCALARS:
            setattr(q, k, list(v))          # imgIds of 100k images: no per-item checks
        elif isinstance(v, list):
            setattr(q, k, [list(x) if isinstance(x, list) else
                           (x if isinstance(x, (int, float, str, np.number)) else copy.deepcopy(x))
                           for x in v])
        elif not isinstance(v, (int, float, str, type(None))):
            setattr(q, k, copy.deepcopy(v))
    return q



class _LazyIous(Mapping):
    """``COCOeval.ious``: {(imgId, catId): IoU array [D, G]} computed when read."""

    def __init__(self, ev):
        self._ev = ev

    def _keys(self):
        p = self._ev._paramsEval
        cats = p.catIds if p.useCats else [-1]
        return [(i, c) for i in p.imgIds for c in cats]

    def __iter__(self):
        return iter(self._keys())

    def __len__(self):
        return len(self._keys())

    def __getitem__(self, key):
        img, cat = key
        ps = self._ev._pass
        if ps is None:
            raise KeyError(key)
        p = self._ev._paramsEval
        tables, gt, dt = ps.tables, ps.gt, ps.dt
        gpos = np.flatnonzero(tables.img_ids[tables.gt_img] == img)
        dpos = np.flatnonzero(tables.img_ids[tables.dt_img] == img)
        if p.useCats:
            gpos = gpos[gt["category_id"][tables.gt_index[gpos]] == cat]
            dpos = dpos[dt["category_id"][tables.dt_index[dpos]] == cat]
        dpos = dpos[:p.maxDets[-1]]
        if len(gpos) == 0 or len(dpos) == 0:
            return []          # pycocotools' iou() returns [] when either side is empty
        if p.iouType == "keypoints" and not p.useCats:
            return []          # pycocotools' computeOks finds no ground truth (see geometry.attach_oks)
        if "iou" in tables.core.extra:       # segm / keypoints: the block matching used
            ps.exact_ious()
            start = int(tables.core.extra["dt_iou_off"][dpos[0]])
            return tables.core.extra["iou"][start:start + len(dpos) * len(gpos)].reshape(len(dpos), len(gpos)).copy()
        gsel, dsel = tables.gt_index[gpos], tables.dt_index[dpos]
        return box_iou(dt["bbox"][dsel], gt["bbox"][gsel], gt["iscrowd"][gsel], fmt="xywh")


class COCOeval(ReportMethods):
    """pycocotools' COCOeval (``iouType`` "bbox", "segm" or "keypoints"), computed by
    fastap's C kernels: box IoU, mask IoU on RLE (csrc/rle.c) or OKS (csrc/keypoints.c),
    then the same matching and accumulation.

    ``COCOeval(cocoGt, cocoDt, iouType="bbox")`` then ``evaluate()``, ``accumulate()``,
    ``summarize()``; results in ``eval['precision']`` float64 [T, R, K, A, M],
    ``eval['recall']`` [T, K, A, M], ``eval['scores']`` [T, R, K, A, M] and ``stats``
    float64[12]. ``num_threads`` (fastap only) limits the threads used.
    """

    def __init__(self, cocoGt=None, cocoDt=None, iouType='segm', num_threads=None):
        if not iouType:
            print('iouType not specified. use default iouType segm')
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self.eval = {}
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        self.params = Params(iouType=iouType)
        self._paramsEval = {}
        self.stats = []
        self._evalImgs = None
        self._pass = None            # the EvalPass of the last evaluate() (fastap.evalpass)
        self.num_threads = num_threads
        if cocoGt is not None:
            self.params.imgIds = sorted_ids_list(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    @property
    def ious(self):
        return _LazyIous(self) if self._pass is not None else {}

    def evaluate(self):
        """Match detections to ground truth on every image (pycocotools' evaluate())."""
        tic = time.time()
        print('Running per image evaluation...')
        p = self.params
        if p.useSegm is not None:
            p.iouType = 'segm' if p.useSegm == 1 else 'bbox'
            print('useSegm (deprecated) is not None. Running {} evaluation'.format(p.iouType))
        print('Evaluate annotation type *{}*'.format(p.iouType))
        if p.iouType not in ('bbox', 'segm', 'keypoints'):
            raise InvalidAnnotationError("iouType should be 'bbox', 'segm' or 'keypoints', got %r" % (p.iouType,))
        # pycocotools: p.imgIds = list(np.unique(p.imgIds)); the same ids as Python ints
        # (10x faster to make for 100k images), checked as one array
        img_ids = unique_ids(id_column("params", "imgIds", np.asarray(p.imgIds).reshape(-1), len(p.imgIds)))
        p.imgIds = img_ids.tolist()
        cat_ids = id_column("params", "catIds", np.asarray(p.catIds).reshape(-1), len(p.catIds))
        if p.useCats:
            cat_ids = unique_ids(cat_ids)
            p.catIds = cat_ids.tolist()
        p.maxDets = sorted(p.maxDets)
        self.params = p
        gt = columns_of(self.cocoGt, "gt")
        dt = columns_of(self.cocoDt, "dt")
        iou_thrs, rec_thrs, md, ar = check_params(p.iouThrs, p.recThrs, p.maxDets, p.areaRng)
        attach = iou_attacher(self.cocoGt, self.cocoDt, p.iouType, getattr(p, "kpt_oks_sigmas", None), md[-1],
                              iou_thrs, p.useCats, gt["iscrowd"], self.num_threads)
        cats = getattr(self.cocoGt, "cats", None)
        names = {c: v.get("name", c) for c, v in cats.items()} if cats else None
        self._pass = run_pass(gt, dt, img_ids, cat_ids, bool(p.useCats), iou_thrs, rec_thrs, md, ar, p.areaRngLbl,
                              iou_type=p.iouType, attach=attach, unique_gt_ids=True, num_threads=self.num_threads,
                              names=names)
        self._evalImgs = None
        self._paramsEval = _copy_params(self.params)
        print('DONE (t={:0.2f}s).'.format(time.time() - tic))

    def accumulate(self, p=None):
        """Precision/recall curves per (IoU, category, area, maxDets) into ``eval``."""
        print('Accumulating evaluation results...')
        tic = time.time()
        if self._pass is None:
            print('Please run evaluate() first')
            raise InvalidAnnotationError("accumulate(): run evaluate() first")
        if p is None:
            p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        precision, recall, scores = self._pass.accumulate(p.recThrs)
        T, R, K, A, M = precision.shape
        self.eval = {
            'params': p,
            'counts': [T, R, K, A, M],
            'date': datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S'),
            'precision': precision,
            'recall': recall,
            'scores': scores,
        }
        print('DONE (t={:0.2f}s).'.format(time.time() - tic))

    def summarize(self):
        """Print the 12 summary lines and set ``stats`` (pycocotools' summarize())."""
        if not self.eval:
            raise Exception('Please run accumulate() first')
        p = self.params
        stats, lines = summarize(self.eval['precision'], self.eval['recall'], p.iouThrs,
                                 p.areaRngLbl, p.maxDets, p.iouType)
        for line in lines:
            print(line)
        self.stats = stats

    def per_class(self):
        """Per-category AP, AP50, AP75, APs/m/l and AR (at the last maxDets) from
        ``eval``, as a structured array (fastap only; see
        :func:`fastap.protocols.coco.per_class_table`)."""
        if not self.eval:
            raise InvalidAnnotationError("per_class(): run accumulate() first")
        p = self.params
        cats = p.catIds if p.useCats else [-1]
        return per_class_table(self.eval['precision'], self.eval['recall'], cats, p.iouThrs,
                               p.areaRngLbl, p.maxDets)

    # -- reports from the same pass (fastap only): ReportMethods, fastap.reports ----------
    def _missing_pass(self, what):
        return InvalidAnnotationError("%s(): run evaluate() first" % what)

    def __str__(self):
        self.summarize()
        return ""

    # -- evalImgs, built only when read ---------------------------------------------------
    @property
    def evalImgs(self):
        if self._evalImgs is None:
            self._evalImgs = self._build_eval_imgs() if self._pass is not None else []
        return self._evalImgs

    @evalImgs.setter
    def evalImgs(self, value):
        self._evalImgs = value

    def _build_eval_imgs(self):
        """pycocotools' per-(category, area range, image) dicts, in its order.

        Vectorised over all (category, image) runs: the matrices of every dict of an area
        range are written into one flat buffer, each dict's block laid out [T, D] (or
        [T, G]) row-major, and each dict gets a reshaped slice of it; ground truths are
        put in pycocotools' order (non-ignored first, stable) by one stable sort per area
        range. The Python loop left runs once per dict and only slices.
        """
        ps = self._pass
        p = self._paramsEval
        tables, gt, dt = ps.tables, ps.gt, ps.dt
        cat_list = p.catIds if p.useCats else [-1]
        I, A = len(p.imgIds), len(p.areaRng)
        out = [None] * (len(cat_list) * A * I)
        core = tables.core
        n_cat = core.n_cat
        g_off = np.asarray(core.gt_off, dtype=np.int64)
        d_off = np.asarray(core.dt_off, dtype=np.int64)
        n_gt, n_dt = int(g_off[n_cat]), int(d_off[n_cat])
        if n_gt + n_dt == 0:
            return out
        details = coco_match(tables, ps.iou_thrs, ps.max_dets, ps.area_rng, details=True,
                             num_threads=self.num_threads)
        dt_match = details[0]["dt_match"] if len(details) == 1 else \
            np.concatenate([d["dt_match"] for d in details], axis=1)            # [A, T, n_dt]
        T = dt_match.shape[1]
        dt_ign = np.concatenate([((d["dt_ignore"][:, None, :]
                                   >> np.arange(min(32, T - 32 * i), dtype=np.uint32)[None, :, None]) & 1)
                                 for i, d in enumerate(details)], axis=1).astype(bool)   # [A, T, n_dt]
        gt_ign = details[0]["gt_ignore"]                                         # [A, n_gt]
        gt_ids = np.take(gt["id"], tables.gt_index)
        dt_ids = np.take(dt["id"], tables.dt_index)
        dt_scores = np.take(dt["score"], tables.dt_index)
        cut = ps.max_dets[-1]
        # one run per (category, image) holding a ground truth or a detection, in
        # (category, image) order; keys are category * I + image
        g_key = np.repeat(np.arange(n_cat, dtype=np.int64), np.diff(g_off)) * I + tables.gt_img[:n_gt]
        d_key = np.repeat(np.arange(n_cat, dtype=np.int64), np.diff(d_off)) * I + tables.dt_img[:n_dt]
        keys = np.union1d(g_key, d_key)
        g0 = np.searchsorted(g_key, keys, "left")
        g1 = np.searchsorted(g_key, keys, "right")
        d0 = np.searchsorted(d_key, keys, "left")
        d1 = np.minimum(np.searchsorted(d_key, keys, "right"), d0 + cut)
        n_d = d1 - d0
        n_g = g1 - g0
        # the detections kept (the first maxDets[-1] of each run), their run and rank
        d_run = np.repeat(np.arange(keys.shape[0]), n_d)
        d_off_run = np.cumsum(n_d) - n_d                 # run start among the kept
        rank = np.arange(d_run.shape[0]) - d_off_run[d_run]
        kept = d0[d_run] + rank                          # grouped detection index
        # flat position of (t, kept j) in its run's [T, D] block
        d_pos = (d_off_run[d_run] * T + rank)[None, :] + np.arange(T)[:, None] * n_d[d_run][None, :]
        g_run = np.repeat(np.arange(keys.shape[0]), n_g)
        dt_id_l = dt_ids[kept].tolist()
        dt_score_l = dt_scores[kept].tolist()
        base = ((keys // I) * (A * I) + keys % I).tolist()
        img_l = [p.imgIds[i] for i in (keys % I).tolist()]
        cat_l = [cat_list[k] for k in (keys // I).tolist()]
        g0_l, g1_l, ng_l = g0.tolist(), g1.tolist(), n_g.tolist()
        ds_l = d_off_run.tolist()
        de_l = (d_off_run + n_d).tolist()
        nd_l = n_d.tolist()
        runs = list(zip(base, img_l, cat_l, ds_l, de_l, nd_l, g0_l, g1_l, ng_l))
        # the dicts hold no reference cycles: the cyclic GC, which would otherwise run
        # every 700 new containers and walk every object of the process (a training
        # process holds millions), is paused while they are made (4x faster for 8 images)
        import gc
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            for a in range(A):
                # ground truths in pycocotools' order: by run, then not ignored before ignored (stable)
                ign = gt_ign[a, :n_gt]
                order = np.lexsort((ign, g_run))
                where = np.empty(n_gt, np.int64)
                where[order] = np.arange(n_gt)
                gt_id_l = gt_ids[order].tolist()
                ign_sorted = ign[order].astype(int)
                m = dt_match[a][:, kept]                     # [T, n_kept] grouped gt index or -1
                hit = m >= 0
                dtm = np.zeros(T * kept.shape[0])
                dtm[d_pos[hit]] = gt_ids[m[hit]]
                dtig = np.empty(T * kept.shape[0], bool)
                dtig[d_pos] = dt_ign[a][:, kept]
                # gtMatches: run block at g0 * T, [T, G]; a crowd matched by several
                # detections keeps the last one's id (pycocotools' loop order)
                t_hit, j_hit = np.nonzero(hit)
                gm = m[hit]
                pos = g0[g_run[gm]] * T + t_hit * n_g[g_run[gm]] + (where[gm] - g0[g_run[gm]])
                rev = pos[::-1]
                last, first = np.unique(rev, return_index=True)
                gtm = np.zeros(T * n_gt)
                gtm[last] = dt_ids[kept[j_hit[::-1][first]]]
                aRng = p.areaRng[a]
                for b, img_id, cat_id, ds, de, D, gs, ge, G in runs:
                    out[b + a * I] = {
                        'image_id': img_id,
                        'category_id': cat_id,
                        'aRng': aRng,
                        'maxDet': cut,
                        'dtIds': dt_id_l[ds:de],
                        'gtIds': gt_id_l[gs:ge],
                        'dtMatches': dtm[ds * T:de * T].reshape(T, D),
                        'gtMatches': gtm[gs * T:ge * T].reshape(T, G),
                        'dtScores': dt_score_l[ds:de],
                        'gtIgnore': ign_sorted[gs:ge] if G else np.array([]),
                        'dtIgnore': dtig[ds * T:de * T].reshape(T, D),
                    }
        finally:
            if gc_was_on:
                gc.enable()
        return out
