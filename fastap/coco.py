"""Drop-in replacements for pycocotools' ``COCO`` and ``COCOeval`` (iouType "bbox",
"segm" and "keypoints"; also boundary-iou-api's "boundary" and detectron2's rotated boxes,
"rotated").

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
``useCats=0``: the categories pooled in the listed       :func:`fastap.tables.build_tables`
order (not sorted); a category listed twice is
refused (pycocotools would count its objects twice)
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
``evalImgs`` / ``ious`` / ``_gts`` / ``_dts`` of the C   :meth:`COCOeval._build_eval_imgs`, ``_PassIous``,
pass, built when read                                   :func:`_gather_annotations` (here)
pycocotools' per-image methods (``_prepare``,           :class:`COCOeval` (here; mask IoU and box IoU
``computeIoU``, ``computeOks``, ``evaluateImg``) for    with crowds through :func:`fastap.mask.iou`;
subclasses and DETR-style flows                         greedy matching in :func:`_match`)
a subclass overriding a per-image method gets           :meth:`COCOeval.evaluate` (``_python_flow``)
pycocotools' evaluate() flow calling it
``accumulate()`` of assigned / Python-flow ``evalImgs``  :func:`accumulate_eval_imgs` (here, NumPy: the
(torchvision / DETR merges): pycocotools' arithmetic,   same eps, monotone precision and searchsorted
``_paramsEval`` for the layout, ``params`` for output   as ``csrc/coco.c``)
======================================================  ===============================================

Where pycocotools crashes, fastap answers: ``loadRes([])`` gives an empty result set that
evaluates cleanly; a ground truth without ``iscrowd`` counts as not crowd; images need no
``width``/``height``. Where pycocotools silently gives wrong numbers, fastap raises:
duplicate annotation ids (pycocotools evaluates the last one twice;
:func:`fastap.evalpass.check_unique_gt_ids`); with ``useCats=0``, a category listed
twice in ``params.catIds`` (pycocotools gathers the objects of every listed category,
counting that category's twice; :func:`fastap.columns.refuse_repeated_pooled`); ids
beyond int64 (:func:`fastap.columns.id_column`: converting them would wrap 2**64 - 1
onto -1) and NaN ids (:func:`fastap.adapters.records.check_record_ids`). Datasets
pycocotools' ``createIndex`` cannot index (an image without ``id``, ``"annotations":
null``, ...) raise :class:`fastap.errors.InvalidAnnotationError` naming the record and
the field (:func:`fastap.adapters.records.index_by_id`). String ids used throughout
load, as in pycocotools, but fastap evaluates integer ids only.

The object model (pycocotools' attributes, and which code fills them):

* ``evaluate()`` of a plain ``COCOeval`` runs the C pass (:func:`fastap.evalpass.run_pass`);
  ``evalImgs``, ``ious``, ``_gts`` and ``_dts`` are then built from it (or from the
  COCO objects, for ``_gts`` / ``_dts``) only when read, and ``accumulate()`` runs in C.
* A subclass that overrides ``_prepare``, ``evaluateImg`` or the IoU method of its
  ``iouType`` (``computeIoU``: bbox / segm; ``computeOks``: keypoints) -- detectron2's
  RotatedCOCOeval, mmdetection's COCOevalMP -- gets pycocotools' own ``evaluate()``
  flow, calling its methods: ``_prepare()``, ``self.ious = {...}``, ``self.evalImgs =
  [evaluateImg(...) ...]``, ``_paramsEval``. The base methods it calls are exact
  re-implementations of pycocotools' (NumPy, mask IoU by :mod:`fastap.mask`).
* ``accumulate()`` accumulates the ``evalImgs`` dicts (:func:`accumulate_eval_imgs`,
  pycocotools' arithmetic in NumPy, vectorised per (category, area range)) whenever
  they were assigned (torchvision's / DETR's merge of per-batch and per-rank
  ``evalImgs``), produced by the Python flow, or when ``params`` / ``_paramsEval`` no
  longer describe the C pass; it reads ``_paramsEval`` for the evaluated layout and
  ``params`` (or its argument) for the output, as pycocotools does. Index sets that
  pycocotools would read at the wrong place (``params`` and ``_paramsEval`` that
  disagree, entries whose category / image / area range is not where the layout puts
  them) raise :class:`fastap.errors.InvalidAnnotationError` instead of giving numbers.
* ``ious`` is a dict (after the C pass, a dict that computes its values when read);
  assigning it, or any pycocotools attribute, sticks.
"""
from __future__ import annotations

import copy
import datetime
import gc
import time
from collections import defaultdict
from itertools import chain
from operator import is_, itemgetter

import numpy as np

from . import mask as maskUtils
from ._core import (accumulate_blocks, area_eval_img_dicts, box_iou, gather_eval_imgs, gather_layout,
                    rle_set_boundary, rle_set_from_objects)
from .adapters.cocodata import COCO, columns_of, iou_attacher, rotated_pass_inputs
from .rotated import rotated_iou
from .threads import fresh_memory
from .checks import warn_empty
from .columns import param_ids, refuse_repeated_pooled, sorted_ids_list, unique_ids
from .errors import InvalidAnnotationError, InvalidOptionError
from .evalpass import run_pass
from .geometry import DILATION_RATIO
from .params import Params, check_iou_type
from .protocols.coco import check_params, coco_match, per_class_table, summarize
from .reports.orchestrate import ReportMethods

__all__ = ["COCO", "COCOeval", "Params", "accumulate_eval_imgs", "maskUtils"]


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


def _layout_key(p):
    """What decides the layout and meaning of evalImgs: (useCats, catIds or None,
    imgIds, areaRng, maxDets, number of IoU thresholds)."""
    use = bool(p.useCats)
    return (use, tuple(p.catIds) if use else None, tuple(p.imgIds),
            tuple(tuple(float(x) for x in r) for r in p.areaRng), tuple(int(m) for m in p.maxDets),
            len(p.iouThrs))


# -- ious: a dict, filled from the C pass when read ------------------------------------------
class _PassIous:
    """The IoU blocks of an EvalPass, as pycocotools' computeIoU / computeOks return
    them: float64 [D, G] (detections by descending score, cut to maxDets[-1]; ground
    truth in annotation order), or [] when either side is empty."""

    def __init__(self, ps, pe):
        self.ps = ps
        self.img_ids = list(pe.imgIds)
        self.cats = [int(c) for c in ps.tables.cat_ids.tolist()]
        self.cut = int(ps.max_dets[-1])
        self.none = ps.iou_type == "keypoints" and not ps.use_cats   # see geometry.attach_oks

    def _block(self, k, img):
        """IoU block of category index k and image index img."""
        t = self.ps.tables
        core = t.core
        gs, ge = int(core.gt_off[k]), int(core.gt_off[k + 1])
        ds, de = int(core.dt_off[k]), int(core.dt_off[k + 1])
        g0 = gs + int(np.searchsorted(t.gt_img[gs:ge], img, "left"))
        g1 = gs + int(np.searchsorted(t.gt_img[gs:ge], img, "right"))
        d0 = ds + int(np.searchsorted(t.dt_img[ds:de], img, "left"))
        d1 = ds + int(np.searchsorted(t.dt_img[ds:de], img, "right"))
        return self._value(g0, g1, d0, min(d1, d0 + self.cut))

    def _value(self, g0, g1, d0, d1):
        if g1 <= g0 or d1 <= d0 or self.none:
            return []
        t, ps = self.ps.tables, self.ps
        G, D = g1 - g0, d1 - d0
        if "iou" in t.core.extra:            # segm / keypoints: the block matching used
            ps.exact_ious()
            start = int(t.core.extra["dt_iou_off"][d0])
            return t.core.extra["iou"][start:start + D * G].reshape(D, G).copy()
        gsel, dsel = t.gt_index[g0:g1], t.dt_index[d0:d1]
        return box_iou(ps.dt["bbox"][dsel], ps.gt["bbox"][gsel], ps.gt["iscrowd"][gsel], fmt="xywh")

    def one(self, key):
        img, cat = key
        t = self.ps.tables
        if cat not in self.cats:
            raise KeyError(key)
        i = int(np.searchsorted(t.img_ids, img))
        if i >= t.img_ids.shape[0] or t.img_ids[i] != img:
            raise KeyError(key)
        return self._block(self.cats.index(cat), i)

    def all(self):
        """{key: value} for every key, in pycocotools' order (images, then categories)."""
        t = self.ps.tables
        core = t.core
        found = {}
        if not self.none:
            for k in range(int(core.n_cat)):
                gs, ge = int(core.gt_off[k]), int(core.gt_off[k + 1])
                ds, de = int(core.dt_off[k]), int(core.dt_off[k + 1])
                gimg, dimg = t.gt_img[gs:ge], t.dt_img[ds:de]
                both = np.intersect1d(gimg, dimg)
                g0 = gs + np.searchsorted(gimg, both, "left")
                g1 = gs + np.searchsorted(gimg, both, "right")
                d0 = ds + np.searchsorted(dimg, both, "left")
                d1 = ds + np.searchsorted(dimg, both, "right")
                for j, img in enumerate(both.tolist()):
                    a = int(d0[j])
                    found[img, k] = self._value(int(g0[j]), int(g1[j]), a, min(int(d1[j]), a + self.cut))
        out = {}
        for n, i in enumerate(self.img_ids):
            for k, c in enumerate(self.cats):
                v = found.get((n, k))
                out[i, c] = [] if v is None else v
        return out


class _IouDict(dict):
    """``COCOeval.ious``: a dict of {(imgId, catId): IoU array [D, G] or []}. Built by
    ``type(ious)(mapping)`` it is a plain dict; after fastap's own ``evaluate()`` its
    values are computed from the pass when read (one key by ``ious[key]``, all of them by
    anything else: iteration, ``len``, ``items()``, ...)."""

    def __init__(self, *args, **kw):
        dict.__init__(self, *args, **kw)
        self._src = None

    @classmethod
    def from_pass(cls, src):
        d = cls()
        d._src = src
        return d

    def _fill(self):
        src, self._src = self._src, None
        if src is not None:
            mine = dict(dict.items(self))
            dict.clear(self)
            dict.update(self, src.all())
            dict.update(self, mine)           # values read or assigned so far stay

    def __getitem__(self, key):
        if self._src is not None and not dict.__contains__(self, key):
            v = self._src.one(key)
            dict.__setitem__(self, key, v)
            return v
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key):
        self._fill()
        return dict.__contains__(self, key)

    def __iter__(self):
        self._fill()
        return dict.__iter__(self)

    def __len__(self):
        self._fill()
        return dict.__len__(self)

    def __repr__(self):
        self._fill()
        return dict.__repr__(self)

    def __eq__(self, other):
        self._fill()
        return dict.__eq__(self, other)

    def __ne__(self, other):
        self._fill()
        return dict.__ne__(self, other)

    __hash__ = None

    def __reduce__(self):
        self._fill()
        return (type(self), (dict(dict.items(self)),))

    def __delitem__(self, key):
        self._fill()
        dict.__delitem__(self, key)


def _filled(name):
    base = getattr(dict, name)

    def method(self, *args, **kw):
        self._fill()
        return base(self, *args, **kw)
    method.__name__ = name
    return method


for _name in ("keys", "values", "items", "copy", "pop", "popitem", "setdefault", "__reversed__", "__or__",
              "__ior__"):
    setattr(_IouDict, _name, _filled(_name))


# -- pycocotools' per-image primitives -----------------------------------------------------
def _ann_to_rle(coco, ann, gt_coco):
    """pycocotools' ``COCO.annToRLE``, with fastap.mask: polygons merged into one RLE,
    uncompressed RLE compressed, compressed RLE as it is. Image sizes from ``coco``'s
    images, else the ground truth's."""
    own = getattr(type(coco), "annToRLE", None)
    if own is not None and own is not getattr(COCO, "annToRLE", None):
        return coco.annToRLE(ann)              # a COCO class of its own (pycocotools', a subclass)
    if "segmentation" not in ann:
        raise InvalidAnnotationError("segm evaluation: annotation %s has no 'segmentation'"
                                     % (ann.get("id", "?"),))
    segm = ann["segmentation"]
    if isinstance(segm, dict) and not isinstance(segm.get("counts"), list):
        return segm
    img = getattr(coco, "imgs", {}).get(ann["image_id"]) or getattr(gt_coco, "imgs", {}).get(ann["image_id"])
    if img is None or "height" not in img or "width" not in img:
        raise InvalidAnnotationError(
            "segm evaluation: annotation %s: rasterising its polygons needs the height and width of "
            "image %r, which the ground truth's 'images' do not give" % (ann.get("id", "?"), ann["image_id"]))
    h, w = img["height"], img["width"]
    if isinstance(segm, list):
        return maskUtils.merge(maskUtils.frPyObjects(segm, h, w))
    return maskUtils.frPyObjects(segm, h, w)


def _gather_annotations(ev, p):
    """pycocotools' _prepare without its resets: (gts, dts) lists of the annotation dicts
    (segmentations turned into RLE for segm, ``ignore`` set, as pycocotools does)."""
    gt_coco, dt_coco = ev.cocoGt, ev.cocoDt
    for name, c in (("cocoGt", gt_coco), ("cocoDt", dt_coco)):
        if c is None:
            raise InvalidAnnotationError("COCOeval.%s is None: assign a COCO object (e.g. cocoGt.loadRes(results)) "
                                         "before evaluate()" % name)
    if p.useCats:
        gts = gt_coco.loadAnns(gt_coco.getAnnIds(imgIds=p.imgIds, catIds=p.catIds))
        dts = dt_coco.loadAnns(dt_coco.getAnnIds(imgIds=p.imgIds, catIds=p.catIds))
    else:
        gts = gt_coco.loadAnns(gt_coco.getAnnIds(imgIds=p.imgIds))
        dts = dt_coco.loadAnns(dt_coco.getAnnIds(imgIds=p.imgIds))
    if p.iouType in ("segm", "boundary"):
        for anns, coco in ((gts, gt_coco), (dts, dt_coco)):
            for ann in anns:
                ann["segmentation"] = _ann_to_rle(coco, ann, gt_coco)
    for gt in gts:
        # pycocotools: 'ignore' is replaced by iscrowd (keypoints: or no visible keypoint)
        gt["ignore"] = gt["ignore"] if "ignore" in gt else 0
        gt["ignore"] = "iscrowd" in gt and gt["iscrowd"]
        if p.iouType == "keypoints":
            if "num_keypoints" not in gt:
                raise InvalidAnnotationError("keypoints evaluation: annotation %s has no 'num_keypoints'"
                                             % (gt.get("id", "?"),))
            gt["ignore"] = (gt["num_keypoints"] == 0) or gt["ignore"]
    g, d = defaultdict(list), defaultdict(list)
    for gt in gts:
        g[gt["image_id"], gt["category_id"]].append(gt)
    for dt in dts:
        d[dt["image_id"], dt["category_id"]].append(dt)
    return g, d


def _by_score(dts, cut):
    """Detections by descending score (stable, pycocotools' mergesort), the first cut."""
    neg = [-d["score"] for d in dts]
    if all(type(x) is float and x == x for x in neg):
        # Python floats without NaN: sorted() is the same stable order, without NumPy's overhead
        inds = sorted(range(len(neg)), key=neg.__getitem__)
    else:
        inds = np.argsort(neg, kind="mergesort")
    return [dts[i] for i in inds[:cut]]


def _match(ious, gt_ignore, crowd, iou_thrs, dt_ids, gt_ids):
    """pycocotools' greedy matching of one (image, category, area range): for each IoU
    threshold and each detection in score order, the unmatched (or crowd) ground truth
    of highest IoU >= min(t, 1 - 1e-10), ties to the later one; once a detection holds a
    non-ignored match it never moves to an ignored one (ground truth: ignored last).
    Returns (dtm, gtm, dt_ignored) float64 [T, D], [T, G], [T, D]."""
    D, G = ious.shape
    T = len(iou_thrs)
    gtm = np.zeros((T, G))
    dtm = np.zeros((T, D))
    dtig = np.zeros((T, D))
    gi = [int(x) for x in gt_ignore]
    cr = [bool(c) for c in crowd]
    thrs = [min([t, 1 - 1e-10]) for t in iou_thrs]
    lowest = min(thrs)
    if np.isnan(ious).any():
        rows = [list(range(G))] * D          # NaN IoUs: every pair, as pycocotools walks them
    else:
        rows = [[] for _ in range(D)]        # pairs below every threshold never match
        rr, gg = np.nonzero(ious >= lowest)
        for r, g in zip(rr.tolist(), gg.tolist()):
            rows[r].append(g)
    iv = ious.tolist()
    for t, thr in enumerate(thrs):
        taken = [False] * G                  # pycocotools: gtm[t, g] > 0 (a positive dt id)
        gm, dm, di = gtm[t], dtm[t], dtig[t]
        for d, cand in enumerate(rows):
            if not cand:
                continue
            best, m = thr, -1
            row = iv[d]
            for g in cand:
                if taken[g] and not cr[g]:
                    continue
                if m > -1 and gi[m] == 0 and gi[g] == 1:
                    break
                if row[g] < best:
                    continue
                best, m = row[g], g
            if m == -1:
                continue
            di[d] = gi[m]
            dm[d] = gt_ids[m]
            gm[m] = dt_ids[d]
            taken[m] = gm[m] > 0
    return dtm, gtm, dtig


# -- accumulate() from evalImgs dicts --------------------------------------------------------
_FIELDS = itemgetter("dtScores", "dtMatches", "dtIgnore", "gtIgnore")


def _entries(eval_imgs, base, i_list, contiguous, where):
    """[(position, image index, entry)] of the non-None evalImgs entries base + i."""
    n = len(eval_imgs)
    if contiguous and isinstance(eval_imgs, (list, tuple, np.ndarray)) and base + i_list[-1] < n:
        chunk = eval_imgs[base:base + len(i_list)]
        return [(base + i, i, e) for i, e in enumerate(chunk) if e is not None]
    ents = []
    for i in i_list:
        j = base + i
        try:
            e = eval_imgs[j]
        except (IndexError, KeyError):
            raise InvalidAnnotationError(
                "accumulate(): evalImgs has no entry %d (%d entries); its layout is (category, area range, "
                "image) over _paramsEval (%s): assign evalImgs and _paramsEval of the same evaluation"
                % (j, n, where)) from None
        if e is not None:
            ents.append((j, i, e))
    return ents


def _gather_blocks(block_ents, eval_imgs, T):
    """The detections of every block's entries (``block_ents``: per block, the
    [(position, image index, entry)] of :func:`_entries`), concatenated for
    :func:`fastap._core.accumulate_blocks`: (det_off int64 [B+1], npig int64 [B], scores
    float64 [N], rank int64 [N] (position in its dict), flags uint8 [T, N] (bit 0 true
    positive: dtMatches truthy and not dtIgnore; bit 1 false positive: neither))."""
    ents = [e for blk in block_ents for _, _, e in blk]
    B = len(block_ents)
    n_ent = np.fromiter(map(len, block_ents), np.int64, B)
    if not ents:
        return np.zeros(B + 1, np.int64), np.zeros(B, np.int64), np.zeros(0), np.zeros(0, np.int64), \
            np.zeros((T, 0), np.uint8)
    fast = gather_eval_imgs(ents, T)
    if fast is not None:                 # dicts as evaluate() makes them: read in C
        nd, npig_e, scores, flags = fast
        ent_block = np.repeat(np.arange(B, dtype=np.int64), n_ent)
        npig = np.bincount(ent_block, weights=npig_e, minlength=B).astype(np.int64)
        ent_off = np.concatenate([[0], np.cumsum(nd)])
        det_off = ent_off[np.concatenate([[0], np.cumsum(n_ent)])].astype(np.int64)
        rank = np.arange(ent_off[-1], dtype=np.int64) - np.repeat(ent_off[:-1], nd)
        return det_off, npig, scores, rank, flags
    try:
        # one list per field: no per-entry tuple (53k new containers for 256 images
        # would set off the cyclic GC over every object of the process)
        sc, dm, di, gi = (list(map(itemgetter(f), ents)) for f in ("dtScores", "dtMatches", "dtIgnore", "gtIgnore"))
    except (KeyError, TypeError, IndexError):
        j = next(j for blk in block_ents for j, _, e in blk if not hasattr(e, "keys") or
                 not {"dtScores", "dtMatches", "dtIgnore", "gtIgnore"} <= set(e.keys()))
        raise InvalidAnnotationError(
            "accumulate(): evalImgs[%d] should be None or a dict with dtScores, dtMatches, dtIgnore and "
            "gtIgnore (pycocotools' evaluateImg), got %r" % (j, type(eval_imgs[j]).__name__)) from None
    nd = np.fromiter(map(len, sc), np.int64, len(sc))
    want = [(T, n) for n in nd.tolist()]
    try:
        ok = [x.shape for x in dm] == want and [y.shape for y in di] == want
    except AttributeError:
        ok = False
    if not ok:
        pos = [j for blk in block_ents for j, _, _ in blk]
        for j, x, y, w in zip(pos, dm, di, want):
            if np.shape(x) != w or np.shape(y) != w:
                raise InvalidAnnotationError(
                    "accumulate(): evalImgs[%d]: dtMatches and dtIgnore should be arrays of shape %s (IoU "
                    "thresholds x detections), got %s and %s; params.iouThrs must be the thresholds evaluate() "
                    "used" % (j, w, np.shape(x), np.shape(y)))
        dm = [np.asarray(x) for x in dm]
        di = [np.asarray(y) for y in di]
    N = int(nd.sum())
    scores = np.fromiter(chain.from_iterable(sc), np.float64, N)
    if N:
        matched = np.concatenate(dm, axis=1) != 0           # pycocotools: truthy dtMatches
        kept = np.concatenate(di, axis=1) == 0
        flags = ((matched & kept).view(np.uint8) | ((~matched & kept).view(np.uint8) << 1)).astype(np.uint8)
    else:
        flags = np.zeros((T, 0), np.uint8)
    try:
        gt_ig = np.concatenate(gi)
    except ValueError:
        gt_ig = np.concatenate([np.asarray(g, dtype=np.float64).reshape(-1) for g in gi])
    n_g = np.fromiter(map(len, gi), np.int64, len(gi))
    ent_block = np.repeat(np.arange(B, dtype=np.int64), n_ent)
    npig = np.bincount(np.repeat(ent_block, n_g)[gt_ig.reshape(-1) == 0], minlength=B).astype(np.int64)
    ent_off = np.concatenate([[0], np.cumsum(nd)])
    det_off = ent_off[np.concatenate([[0], np.cumsum(n_ent)])].astype(np.int64)
    rank = np.arange(N, dtype=np.int64) - np.repeat(ent_off[:-1], nd)
    return det_off, npig, scores, rank, np.ascontiguousarray(flags)


def _gather_slow(eval_imgs, pe, k_list, a_list, i_list, cats_pe, contiguous, where, T):
    """:func:`_gather_blocks` of the layout's blocks, each entry checked in Python (any
    sequence or mapping of entries, any dict types; names what is wrong)."""
    I0, A0 = len(pe.imgIds), len(pe.areaRng)
    block_ents = []
    for k0 in k_list:
        for a0 in a_list:
            ents = _entries(eval_imgs, k0 * A0 * I0 + a0 * I0, i_list, contiguous, where)
            if ents:
                _check_entries(ents, cats_pe[k0], pe.areaRng[a0], pe.imgIds)
            block_ents.append(ents)
    return _gather_blocks(block_ents, eval_imgs, T)


def _check_alignment(p, pe, k_list, a_list, i_list, cats_pe):
    """pycocotools reads evalImgs block k0 / a0 / i (indices into params) as if params
    and _paramsEval listed the same ids there; refuse where they do not."""
    cats_p = p.catIds if p.useCats else [-1]
    for k0 in k_list:
        if k0 >= len(cats_pe) or cats_pe[k0] != cats_p[k0]:
            raise InvalidAnnotationError(
                "accumulate(): params.catIds[%d] is %r but the evaluated categories (_paramsEval.catIds) have %s "
                "there; pycocotools would accumulate another category's results: evaluate() again or make "
                "params.catIds equal _paramsEval.catIds" % (k0, cats_p[k0], "nothing" if k0 >= len(cats_pe)
                                                            else repr(cats_pe[k0])))
    for a0 in a_list:
        if a0 >= len(pe.areaRng) or tuple(pe.areaRng[a0]) != tuple(p.areaRng[a0]):
            raise InvalidAnnotationError(
                "accumulate(): params.areaRng[%d] is %r but _paramsEval.areaRng has %s there; evaluate() again "
                "or make them equal" % (a0, list(p.areaRng[a0]), "nothing" if a0 >= len(pe.areaRng)
                                        else list(pe.areaRng[a0])))
    if i_list:
        ia = np.asarray(i_list, dtype=np.int64)
        n_pe = len(pe.imgIds)
        bad = ia >= n_pe
        if not bad.any():
            pe_ids = np.asarray(pe.imgIds, dtype=object)[ia]
            p_ids = np.asarray(p.imgIds, dtype=object)[ia]
            bad = pe_ids != p_ids
        if bad.any():
            i = int(ia[np.flatnonzero(bad)[0]])
            raise InvalidAnnotationError(
                "accumulate(): params.imgIds[%d] is %r but the evaluated images (_paramsEval.imgIds, %d of them) "
                "have %s there; pycocotools would accumulate another image's results: set params.imgIds to "
                "_paramsEval.imgIds (torchvision's merge sets both)" % (i, p.imgIds[i], n_pe,
                                                                        "nothing" if i >= n_pe else
                                                                        repr(pe.imgIds[i])))


def accumulate_eval_imgs(eval_imgs, p, pe, num_threads=None):
    """pycocotools' ``accumulate()`` of a list of ``evalImgs`` dicts.

    ``eval_imgs``: pycocotools' per-(category, area range, image) dicts (or None), in
    the layout of ``pe`` (``_paramsEval``: catIds, areaRng, imgIds, maxDets); ``p``: the
    parameters of the output (``params``: iouThrs, recThrs, catIds, areaRng, maxDets).
    Returns (precision float64 [T, R, K, A, M], recall float64 [T, K, A, M], scores
    float64 [T, R, K, A, M]), bit-identical to pycocotools: per (category, area range)
    the entries' first maxDet detections are concatenated in image order and stable-sorted
    by descending score (one mergesort, restricted to each maxDet: the restriction of a
    stable sort), cumulative TP / FP as float, ``precision = tp / (tp + fp + eps)``
    (``eps = np.spacing(1)``) made monotone from the right, sampled at ``recThrs`` with
    ``searchsorted(..., 'left')``; -1 where nothing was evaluated or no ground truth is
    non-ignored. Raises InvalidAnnotationError where pycocotools would read entries of
    another category, area range or image, or crash.
    """
    if not all(hasattr(pe, a) for a in ("catIds", "imgIds", "areaRng", "maxDets", "useCats")):
        raise InvalidAnnotationError("accumulate(): _paramsEval should be the Params the evalImgs were evaluated "
                                     "with (copy.deepcopy(params) after evaluate()), got %r" % (type(pe).__name__,))
    T, R = len(p.iouThrs), len(p.recThrs)
    K = len(p.catIds) if p.useCats else 1
    A, M = len(p.areaRng), len(p.maxDets)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    scores = -np.ones((T, R, K, A, M))
    cats_pe = list(pe.catIds) if pe.useCats else [-1]
    setK, setA = set(cats_pe), set(map(tuple, pe.areaRng))
    setM, setI = set(pe.maxDets), set(pe.imgIds)
    k_list = [n for n, k in enumerate(p.catIds) if k in setK]
    m_list = [m for n, m in enumerate(p.maxDets) if m in setM]
    a_list = [n for n, a in enumerate(map(tuple, p.areaRng)) if a in setA]
    i_list = [n for n, i in enumerate(p.imgIds) if i in setI]
    _check_alignment(p, pe, k_list, a_list, i_list, cats_pe)
    I0, A0 = len(pe.imgIds), len(pe.areaRng)
    rec_thrs = np.asarray(p.recThrs)
    where = "%d categories x %d area ranges x %d images" % (len(cats_pe), A0, I0)
    contiguous = bool(i_list) and i_list[-1] - i_list[0] == len(i_list) - 1 and i_list[0] == 0
    if not (m_list and k_list and a_list):
        return precision, recall, scores
    # the gather makes a few containers per entry and holds them: the cyclic GC, which
    # would walk every object of the process each time they pass its threshold (a
    # training process holds millions), is paused meanwhile (they hold no cycles)
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        # evaluate()'s dicts in a list, each where the layout puts it: read in one C pass
        fast = gather_layout(eval_imgs, np.array([k0 * A0 * I0 + a0 * I0 for k0 in k_list for a0 in a_list],
                                                 dtype=np.int64),
                             np.asarray(i_list, dtype=np.int64), [cats_pe[k0] for k0 in k_list for _ in a_list],
                             [pe.areaRng[a0] for _ in k_list for a0 in a_list], [pe.imgIds[i] for i in i_list], T)
        if fast is not None:
            det_off, npig, sc, rank, flags = fast
        else:
            det_off, npig, sc, rank, flags = _gather_slow(eval_imgs, pe, k_list, a_list, i_list, cats_pe,
                                                          contiguous, where, T)
    finally:
        if gc_was_on:
            gc.enable()
    if flags.shape[0] != T:
        flags = np.zeros((T, 0), np.uint8)
    q, rc, ss = accumulate_blocks(det_off, npig, sc, rank, flags, np.asarray(m_list, dtype=np.int64),
                                  np.ascontiguousarray(rec_thrs, dtype=np.float64), num_threads=num_threads)
    nk, na, nm = len(k_list), len(a_list), len(m_list)
    precision[:, :, :nk, :na, :nm] = q.reshape(nk, na, nm, T, R).transpose(3, 4, 0, 1, 2)
    scores[:, :, :nk, :na, :nm] = ss.reshape(nk, na, nm, T, R).transpose(3, 4, 0, 1, 2)
    recall[:, :nk, :na, :nm] = rc.reshape(nk, na, nm, T).transpose(3, 0, 1, 2)
    return precision, recall, scores


def _check_entries(ents, cat, area, img_ids):
    """Entries that name their category / area range / image must sit where the
    layout puts them (a misordered merge would accumulate them under another one)."""
    want_area = tuple(area)
    es = [e for _, _, e in ents]
    try:
        # the common case at C speed: one list per field, compared as a whole
        cats = list(map(itemgetter("category_id"), es))
        imgs = list(map(itemgetter("image_id"), es))
        rngs = list(map(itemgetter("aRng"), es))
        if cats.count(cat) == len(cats) and imgs == [img_ids[i] for _, i, _ in ents] and \
                rngs.count(area) == len(rngs):
            return
    except (KeyError, TypeError, ValueError):
        pass
    try:
        named = [(e["category_id"], e["aRng"], e["image_id"]) for e in es]
    except (KeyError, TypeError):
        named = [(e.get("category_id", cat), e.get("aRng", area), e.get("image_id", img_ids[i]))
                 if hasattr(e, "get") else (cat, area, img_ids[i]) for _, i, e in ents]
    for (j, i, _), (c, r, img) in zip(ents, named):
        if c != cat or img != img_ids[i] or (r is not area and tuple(r) != want_area):
            raise InvalidAnnotationError(
                "accumulate(): evalImgs[%d] is for (image %r, category %r, area %r) but its place in the layout "
                "(category, area range, image) of _paramsEval is (image %r, category %r, area %r): merge per-batch "
                "evalImgs along the image axis in _paramsEval.imgIds order (torchvision: np.concatenate(..., 2), "
                "then np.unique of the image ids)" % (j, img, c, list(r), img_ids[i], cat, list(area)))



_PER_IMAGE = ("_prepare", "evaluateImg")


def _boundary_rles(rles, dilation_ratio):
    """Compressed RLE dicts of the boundaries of compressed RLE dicts (geometry.attach_boundary_iou's rule)."""
    n = len(rles)
    st = rle_set_from_objects(rles, np.full(n, -1, np.int64), np.full(n, -1, np.int64))
    b = rle_set_boundary(st, float(dilation_ratio))
    off, cnts, hw = b["off"], b["cnts"], b["hw"]
    return [maskUtils.frPyObjects({"size": [int(hw[i, 0]), int(hw[i, 1])], "counts": cnts[off[i]:off[i + 1]].tolist()},
                                  int(hw[i, 0]), int(hw[i, 1])) for i in range(n)]


def _boundary_ious(d, g, crowd, dilation_ratio):
    """boundary-iou-api's computeBoundaryIoU: float64 [D, G] min(mask IoU, boundary IoU),
    the mask IoU against crowd ground truth; [] when either side is empty."""
    m = maskUtils.iou(d, g, crowd)
    if not len(d) or not len(g):
        return m
    b = maskUtils.iou(_boundary_rles(d, dilation_ratio), _boundary_rles(g, dilation_ratio), crowd)
    keep = np.asarray(crowd) == 0
    m[:, keep] = np.minimum(m[:, keep], b[:, keep])
    return m


def _python_flow(cls, iou_type):
    """True when cls overrides a per-image method evaluate() would call (then
    pycocotools' own evaluate() flow runs, calling them)."""
    names = _PER_IMAGE + (("computeOks",) if iou_type == "keypoints" else ("computeIoU",))
    return any(getattr(cls, n) is not getattr(COCOeval, n) for n in names)


class COCOeval(ReportMethods):
    """pycocotools' COCOeval (``iouType`` "bbox", "segm" or "keypoints"), computed by
    fastap's C kernels: box IoU, mask IoU on RLE (csrc/rle.c) or OKS (csrc/keypoints.c),
    then the same matching and accumulation.

    ``COCOeval(cocoGt, cocoDt, iouType="bbox")`` then ``evaluate()``, ``accumulate()``,
    ``summarize()``; results in ``eval['precision']`` float64 [T, R, K, A, M],
    ``eval['recall']`` [T, K, A, M], ``eval['scores']`` [T, R, K, A, M] and ``stats``
    float64[12]. ``num_threads`` (fastap only) limits the threads used.

    ``iouType="boundary"`` is boundary-iou-api's Boundary AP (its COCOeval's
    ``computeBoundaryIoU``): the masks of "segm", matched by min(mask IoU, IoU of their
    boundaries) against non-crowd ground truth and by the mask IoU against crowd ground
    truth; a boundary is the mask minus its erosion by a 3x3 square repeated
    max(1, round(``dilation_ratio`` x image diagonal)) times, the image border eroding it
    too (``dilation_ratio`` 0.02, boundary-iou-api's COCO setting; 0.008 for LVIS).

    ``iouType="rotated"`` is detectron2's RotatedCOCOeval: ``bbox`` holds 5 values
    (x_ctr, y_ctr, w, h, angle in degrees counter-clockwise, XYWHA), matched by their
    exact rotated IoU (``fastap.rotated_iou``); crowd ground truth takes pycocotools'
    crowd rule (intersection over the detection's area; detectron2 asserts there is
    none); the rest is pycocotools' (docs/guide/rotated.md).

    The object model is pycocotools': ``cocoDt`` may be given later (``COCOeval(gt)``,
    then ``ev.cocoDt = ...``); ``cocoDt``, ``cocoGt`` and ``params`` may change between
    evaluations; ``_prepare()``, ``computeIoU()``, ``computeOks()``, ``evaluateImg()``
    fill and read ``_gts``, ``_dts`` and ``ious`` exactly as pycocotools'.

    * ``evaluate()`` runs the C pass, unless the class overrides ``_prepare``,
      ``evaluateImg`` or its IoU method (``computeIoU``; keypoints: ``computeOks``):
      then pycocotools' own flow runs, calling those methods.
    * ``accumulate()`` runs in C on the pass of the last ``evaluate()``, or accumulates
      the ``evalImgs`` dicts (:func:`accumulate_eval_imgs`) when ``evalImgs`` was
      assigned (torchvision / DETR merge per-batch results and assign ``evalImgs``,
      ``params.imgIds`` and ``_paramsEval``), built by the Python flow, edited in
      place (an entry of the list replaced, added or removed), or when ``params`` /
      ``_paramsEval`` no longer describe the pass. (Edits inside an entry's dict are
      not seen: assign ``evalImgs`` after such edits.)
    * ``evalImgs``, ``ious``, ``_gts`` and ``_dts`` of the C pass are built when read.
    """

    def __init__(self, cocoGt=None, cocoDt=None, iouType='segm', num_threads=None, dilation_ratio=DILATION_RATIO):
        if not iouType:
            print('iouType not specified. use default iouType segm')
        if isinstance(num_threads, float) and not num_threads.is_integer():
            # boundary-iou-api's COCOeval(cocoGt, cocoDt, iouType, dilation_ratio)
            raise InvalidOptionError("COCOeval: the 4th argument is num_threads, got %r; boundary-iou-api's "
                                     "dilation_ratio is given by name here: COCOeval(cocoGt, cocoDt, 'boundary', "
                                     "dilation_ratio=%r)" % (num_threads, num_threads))
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self._fa_eimgs = defaultdict(list)   # evalImgs (see the evalImgs property)
        self._fa_eimgs_mode = "none"         # "none", "pass" (built from _pass when read), "dicts"
        self._fa_eimgs_built = None          # the list built from the pass, as built
        self._fa_gd = None                   # params of a C pass whose _gts / _dts are built when read
        self._fa_pass_key = None             # _layout_key of the pass's parameters
        self._fa_pass_pe = None              # the pass's parameters (a copy)
        self.eval = {}
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        self.params = Params(iouType=iouType)
        self._paramsEval = {}
        self.stats = []
        self.ious = {}
        self._pass = None            # the EvalPass of the last evaluate() (fastap.evalpass)
        self.num_threads = num_threads
        self.dilation_ratio = dilation_ratio    # iouType "boundary" (boundary-iou-api's; LVIS: 0.008)
        if cocoGt is not None:
            self.params.imgIds = sorted_ids_list(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    # -- pycocotools' attributes that fastap builds when read -----------------------------
    @property
    def evalImgs(self):
        if self._fa_eimgs_mode == "pass" and self._fa_eimgs is None:
            # tens of thousands of small dicts: the cyclic GC would scan them again and
            # again while they are made (they hold no cycles)
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                self._fa_eimgs = self._build_eval_imgs()
                self._fa_eimgs_built = list(self._fa_eimgs)    # to see in-place edits of the list
            finally:
                if was_enabled:
                    gc.enable()
        return self._fa_eimgs

    @evalImgs.setter
    def evalImgs(self, value):
        self._fa_eimgs = value
        self._fa_eimgs_mode = "dicts"        # accumulate() reads these dicts

    @property
    def _gts(self):
        if self._fa_gd is not None:
            self._fill_gts_dts()
        return self._fa_gts

    @_gts.setter
    def _gts(self, value):
        if self._fa_gd is not None:
            self._fill_gts_dts()
        self._fa_gts = value

    @property
    def _dts(self):
        if self._fa_gd is not None:
            self._fill_gts_dts()
        return self._fa_dts

    @_dts.setter
    def _dts(self, value):
        if self._fa_gd is not None:
            self._fill_gts_dts()
        self._fa_dts = value

    def _fill_gts_dts(self):
        p, self._fa_gd = self._fa_gd, None
        g, d = _gather_annotations(self, p)
        # pycocotools' computeIoU / computeOks / evaluateImg read every (image, category)
        # of its defaultdicts, which adds the empty ones, in this order
        cats = list(p.catIds)
        if p.iouType == 'keypoints' or p.useCats:
            keys = [(i, c) for i in p.imgIds for c in (cats if p.useCats else [-1])]
        else:
            keys = []
        if not p.useCats:
            keys += [(i, c) for i in p.imgIds for c in cats]
        for key in keys:
            g[key]
            d[key]
        self._fa_gts, self._fa_dts = g, d

    def __getstate__(self):
        """Pickled (and deep-copied) as pycocotools' COCOeval: what is built from the C
        pass when read (``evalImgs``, ``ious``, ``_gts``, ``_dts``) is built now and the
        pass itself stays behind; ``accumulate()`` of the copy accumulates its evalImgs."""
        if self._fa_gd is not None:
            self._fill_gts_dts()
        state = self.__dict__.copy()
        if self._pass is not None:
            state["_fa_eimgs"] = self.evalImgs
            state["_fa_eimgs_mode"] = "dicts"
        if isinstance(self.ious, _IouDict):
            state["ious"] = _IouDict(self.ious.items())
        state["_pass"] = None
        state["_fa_pass_key"] = state["_fa_pass_pe"] = None
        return state

    # -- evaluate -----------------------------------------------------------------------------
    def _normalize_params(self):
        p = self.params
        if p.useSegm is not None:
            p.iouType = 'segm' if p.useSegm == 1 else 'bbox'
            print('useSegm (deprecated) is not None. Running {} evaluation'.format(p.iouType))
        print('Evaluate annotation type *{}*'.format(p.iouType))
        check_iou_type(p.iouType, "params.iouType", boundary=True)
        # pycocotools: p.imgIds = list(np.unique(p.imgIds)); the same ids as Python ints
        # (10x faster to make for 100k images), checked as one array
        img_ids = unique_ids(param_ids("params", "imgIds", p.imgIds))
        p.imgIds = img_ids.tolist()
        cat_ids = param_ids("params", "catIds", p.catIds)
        if p.useCats:
            cat_ids = unique_ids(cat_ids)
            p.catIds = cat_ids.tolist()
        else:
            refuse_repeated_pooled(cat_ids, "params", "catIds")
        p.maxDets = sorted(p.maxDets)
        self.params = p
        return p, img_ids, cat_ids

    @fresh_memory()
    def evaluate(self):
        """Match detections to ground truth on every image (pycocotools' evaluate())."""
        tic = time.time()
        print('Running per image evaluation...')
        if _python_flow(type(self), self.params.iouType if self.params.useSegm is None else "segm"):
            self._evaluate_python()
            print('DONE (t={:0.2f}s).'.format(time.time() - tic))
            return
        p, img_ids, cat_ids = self._normalize_params()
        for name in ("cocoGt", "cocoDt"):
            if getattr(self, name) is None:
                raise InvalidAnnotationError("COCOeval.%s is None: assign a COCO object (e.g. cocoGt.loadRes(results)) "
                                             "before evaluate()" % name)
        iou_thrs, rec_thrs, md, ar = check_params(p.iouThrs, p.recThrs, p.maxDets, p.areaRng)
        if p.iouType == "rotated":
            gt, dt, attach = rotated_pass_inputs(self.cocoGt, self.cocoDt, md[-1], self.num_threads)
        else:
            col_type = "segm" if p.iouType == "boundary" else p.iouType     # the same records as segm
            gt = columns_of(self.cocoGt, "gt", iou_type=col_type, img_ids=img_ids)
            dt = columns_of(self.cocoDt, "dt", iou_type=col_type, img_ids=img_ids)
            attach = iou_attacher(self.cocoGt, self.cocoDt, p.iouType, getattr(p, "kpt_oks_sigmas", None), md[-1],
                                  iou_thrs, p.useCats, gt["iscrowd"], self.num_threads,
                                  dilation_ratio=getattr(self, "dilation_ratio", DILATION_RATIO))
        cats = getattr(self.cocoGt, "cats", None)
        names = {c: v.get("name", c) for c, v in cats.items()} if cats else None
        ps = run_pass(gt, dt, img_ids, cat_ids, bool(p.useCats), iou_thrs, rec_thrs, md, ar, p.areaRngLbl,
                      iou_type=p.iouType, attach=attach, unique_gt_ids=True, num_threads=self.num_threads,
                      names=names)
        if dt["image_id"].shape[0] == 0 and ps.n_gt and img_ids.shape[0] >= len(getattr(self.cocoGt, "imgs", ())):
            # no detections on the whole ground truth (a batch of a per-batch loop may have none)
            warn_empty(getattr(self.cocoDt, "_fa_what", "results"))
        self._pass = ps
        self._paramsEval = pe = _copy_params(self.params)
        self._fa_pass_key = _layout_key(pe)
        self._fa_pass_pe = _copy_params(pe)
        self._fa_eimgs, self._fa_eimgs_mode = None, "pass"
        self.ious = _IouDict.from_pass(_PassIous(ps, pe))
        self._fa_gd = pe                     # _gts / _dts: built from the COCO objects when read
        self.eval = {}
        print('DONE (t={:0.2f}s).'.format(time.time() - tic))

    def _evaluate_python(self):
        """pycocotools' evaluate() flow, calling this object's (overridden) methods."""
        p, _, _ = self._normalize_params()
        self._prepare()
        cat_ids = p.catIds if p.useCats else [-1]
        compute = self.computeOks if p.iouType == 'keypoints' else self.computeIoU
        self.ious = {(i, c): compute(i, c) for i in p.imgIds for c in cat_ids}
        evaluate_img = self.evaluateImg
        max_det = p.maxDets[-1]
        self.evalImgs = [evaluate_img(i, c, a, max_det) for c in cat_ids for a in p.areaRng for i in p.imgIds]
        self._paramsEval = copy.deepcopy(self.params)

    def _prepare(self):
        """pycocotools' _prepare(): ``_gts`` / ``_dts`` {(imgId, catId): [annotation
        dicts]} of the evaluated images (and categories), segmentations turned into RLE
        for segm, ``ignore`` set from ``iscrowd`` (keypoints: or ``num_keypoints == 0``);
        resets ``evalImgs`` and ``eval``."""
        self._fa_gd = None
        self._pass = None                    # a Python-flow evaluation starts
        self._gts, self._dts = _gather_annotations(self, self.params)
        self.evalImgs = defaultdict(list)
        self.eval = {}

    def computeIoU(self, imgId, catId):
        """pycocotools' computeIoU: float64 [D, G] IoU of the detections (descending
        score, the first maxDets[-1]) with the ground truth of (imgId, catId) in
        ``_gts`` / ``_dts`` (all categories with useCats=0); [] when either is empty."""
        p = self.params
        if p.useCats:
            gt = self._gts[imgId, catId]
            dt = self._dts[imgId, catId]
        else:
            gt = [g for c in p.catIds for g in self._gts[imgId, c]]
            dt = [d for c in p.catIds for d in self._dts[imgId, c]]
        if len(gt) == 0 and len(dt) == 0:
            return []
        dt = _by_score(dt, p.maxDets[-1])
        if p.iouType == 'boundary':
            crowd = [int(o.get('iscrowd', 0)) for o in gt]
            return _boundary_ious([o['segmentation'] for o in dt], [o['segmentation'] for o in gt], crowd,
                                  getattr(self, "dilation_ratio", DILATION_RATIO))
        if p.iouType == 'rotated':
            # detectron2's RotatedCOCOeval (its crowd assertion replaced by the crowd rule)
            crowd = [int(o.get('iscrowd', 0)) for o in gt]
            return rotated_iou(np.asarray([o['bbox'] for o in dt], np.float64).reshape(-1, 5),
                               np.asarray([o['bbox'] for o in gt], np.float64).reshape(-1, 5), iscrowd=crowd)
        if p.iouType == 'segm':
            g = [o['segmentation'] for o in gt]
            d = [o['segmentation'] for o in dt]
        elif p.iouType == 'bbox':
            g = [o['bbox'] for o in gt]
            d = [o['bbox'] for o in dt]
        else:
            raise InvalidOptionError("computeIoU: iouType should be 'bbox', 'segm', 'boundary' or 'rotated', got %r "
                                     "(keypoints use computeOks)" % (p.iouType,))
        crowd = [int(o.get('iscrowd', 0)) for o in gt]
        return maskUtils.iou(d, g, crowd)

    def computeOks(self, imgId, catId):
        """pycocotools' computeOks: float64 [D, G] object keypoint similarity of the
        detections (descending score, the first maxDets[-1]) with the ground truth of
        (imgId, catId); [] when either is empty. Per pair: ``e = (dx**2 + dy**2) / vars /
        (area + eps) / 2`` over the visible keypoints (none visible: distances to the box
        doubled around the ground truth's), ``sum(exp(-e)) / len(e)``."""
        p = self.params
        gts = self._gts[imgId, catId]
        dts = _by_score(self._dts[imgId, catId], p.maxDets[-1])
        if len(gts) == 0 or len(dts) == 0:
            return []
        ious = np.zeros((len(dts), len(gts)))
        sigmas = p.kpt_oks_sigmas
        var = (sigmas * 2) ** 2
        k = len(sigmas)
        d = np.array([o['keypoints'] for o in dts])
        xd, yd = d[:, 0::3], d[:, 1::3]
        for j, gt in enumerate(gts):
            g = np.array(gt['keypoints'])
            xg, yg, vg = g[0::3], g[1::3], g[2::3]
            k1 = np.count_nonzero(vg > 0)
            bb = gt['bbox']
            x0 = bb[0] - bb[2]
            x1 = bb[0] + bb[2] * 2
            y0 = bb[1] - bb[3]
            y1 = bb[1] + bb[3] * 2
            if k1 > 0:
                dx = xd - xg
                dy = yd - yg
            else:
                z = np.zeros((k))
                dx = np.maximum(z, x0 - xd) + np.maximum(z, xd - x1)
                dy = np.maximum(z, y0 - yd) + np.maximum(z, yd - y1)
            e = (dx ** 2 + dy ** 2) / var / (gt['area'] + np.spacing(1)) / 2
            if k1 > 0:
                e = e[:, vg > 0]
            # one contiguous row per detection: NumPy sums each row as pycocotools' 1-D sum
            ious[:, j] = np.sum(np.ascontiguousarray(np.exp(-e)), axis=1) / e.shape[1]
        return ious

    def evaluateImg(self, imgId, catId, aRng, maxDet):
        """pycocotools' evaluateImg: the dict of one (image, category, area range), or
        None when it has neither ground truth nor detections. Reads ``_gts`` / ``_dts``
        and ``ious[imgId, catId]``; sets each ground truth's ``_ignore``."""
        p = self.params
        if p.useCats:
            gt = self._gts[imgId, catId]
            dt = self._dts[imgId, catId]
        else:
            gt = [g for c in p.catIds for g in self._gts[imgId, c]]
            dt = [d for c in p.catIds for d in self._dts[imgId, c]]
        if len(gt) == 0 and len(dt) == 0:
            return None
        lo, hi = aRng[0], aRng[1]
        for g in gt:
            g['_ignore'] = 1 if (g['ignore'] or (g['area'] < lo or g['area'] > hi)) else 0
        gtind = sorted(range(len(gt)), key=[g['_ignore'] for g in gt].__getitem__)   # stable: mergesort's order
        gt = [gt[i] for i in gtind]
        dt = _by_score(dt, maxDet)
        crowd = [int(o.get('iscrowd', 0)) for o in gt]
        ious = self.ious[imgId, catId]
        ious = ious[:, gtind] if len(ious) > 0 else ious
        T, G, D = len(p.iouThrs), len(gt), len(dt)
        gt_ig = np.array([g['_ignore'] for g in gt])
        dt_ids = [d['id'] for d in dt]
        gt_ids = [g['id'] for g in gt]
        if not len(ious) == 0:
            dtm, gtm, dtig = _match(np.asarray(ious, dtype=np.float64)[:D], gt_ig, crowd, p.iouThrs, dt_ids, gt_ids)
        else:
            dtm, gtm, dtig = np.zeros((T, D)), np.zeros((T, G)), np.zeros((T, D))
        # unmatched detections outside the area range are ignored
        a = np.array([d['area'] < lo or d['area'] > hi for d in dt]).reshape((1, D))
        dtig = np.logical_or(dtig, np.logical_and(dtm == 0, np.repeat(a, T, 0)))
        return {
            'image_id': imgId,
            'category_id': catId,
            'aRng': aRng,
            'maxDet': maxDet,
            'dtIds': dt_ids,
            'gtIds': gt_ids,
            'dtMatches': dtm,
            'gtMatches': gtm,
            'dtScores': [d['score'] for d in dt],
            'gtIgnore': gt_ig,
            'dtIgnore': dtig,
        }

    def _eval_imgs_untouched(self):
        """True unless the evalImgs list built from the pass was edited in place (an
        entry replaced, added or removed: then accumulate() reads the list)."""
        cur = self._fa_eimgs
        if cur is None:
            return True
        built = self._fa_eimgs_built
        return len(cur) == len(built) and all(map(is_, cur, built))

    # -- accumulate / summarize ---------------------------------------------------------------
    @fresh_memory()
    def accumulate(self, p=None):
        """Precision/recall curves per (IoU, category, area, maxDets) into ``eval``: in C
        from the pass of the last ``evaluate()``, or from the ``evalImgs`` dicts (see the
        class docstring)."""
        print('Accumulating evaluation results...')
        tic = time.time()
        mode = self._fa_eimgs_mode
        if mode == "none" or (mode == "pass" and self._pass is None):
            print('Please run evaluate() first')
            raise InvalidAnnotationError("accumulate(): run evaluate() first")
        if mode == "dicts":
            e = self._fa_eimgs
            if isinstance(e, np.ndarray) and e.ndim != 1:
                raise InvalidAnnotationError(
                    "accumulate(): evalImgs should be a flat list of dicts in (category, area range, image) order, "
                    "got an array of shape %s (torchvision assigns list(merged.flatten()))" % (e.shape,))
            if len(e) == 0:
                print('Please run evaluate() first')
        if p is None:
            p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        pe = self._paramsEval
        if mode == "pass" and hasattr(pe, "imgIds") and \
                _layout_key(p) == self._fa_pass_key == _layout_key(pe) and self._eval_imgs_untouched():
            precision, recall, scores = self._pass.accumulate(p.recThrs)
        else:
            precision, recall, scores = accumulate_eval_imgs(self.evalImgs, p, pe, num_threads=self.num_threads)
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
        if self._fa_eimgs_mode == "dicts":
            return InvalidAnnotationError(
                "%s(): reports read fastap's own evaluation pass, and this evaluation's results are evalImgs "
                "dicts (assigned, or made by pycocotools' evaluate() flow because %s overrides a per-image "
                "method); run evaluate() of a COCOeval that overrides none of _prepare, computeIoU, computeOks, "
                "evaluateImg" % (what, type(self).__name__))
        return InvalidAnnotationError("%s(): run evaluate() first" % what)

    def __str__(self):
        self.summarize()
        return ""

    # -- evalImgs of the C pass, built when read ------------------------------------------
    def _build_eval_imgs(self):
        """pycocotools' per-(category, area range, image) dicts, in its order.

        Vectorised over all (category, image) runs: the matrices of every dict of an area
        range are written into one flat buffer, each dict's block laid out [T, D] (or
        [T, G]) row-major, and each dict gets a reshaped slice of it; ground truths are
        put in pycocotools' order (non-ignored first, stable) by one stable sort per area
        range. The Python loop left runs once per dict and only slices.
        """
        ps = self._pass
        p = self._fa_pass_pe
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
        details = ps.matches if "dt_match" in ps.matches[0] else \
            coco_match(tables, ps.iou_thrs, ps.max_dets, ps.area_rng, details=True, num_threads=self.num_threads)
        dt_match = details[0]["dt_match"] if len(details) == 1 else \
            np.concatenate([d["dt_match"] for d in details], axis=1)            # [A, T, n_dt]
        T = dt_match.shape[1]
        dt_ign = np.concatenate([((d["dt_ignore"][:, None, :]
                                   >> np.arange(min(32, T - 32 * i), dtype=np.uint32)[None, :, None]) & 1)
                                 for i, d in enumerate(details)], axis=1).astype(bool)   # [A, T, n_dt]
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
        n_d, n_g = d1 - d0, g1 - g0
        # the detections kept (the first maxDets[-1] of each run), their run and rank
        d_run = np.repeat(np.arange(keys.shape[0]), n_d)
        d_off_run = np.cumsum(n_d) - n_d                 # run start among the kept
        rank = np.arange(d_run.shape[0]) - d_off_run[d_run]
        kept = d0[d_run] + rank                          # grouped detection index
        # per run: evalImgs position of area range 0, image index, category index, kept
        # detections [ds, de), ground truths [gs, ge)
        runs = np.ascontiguousarray(np.stack([(keys // I) * (A * I) + keys % I, keys % I, keys // I,
                                              d_off_run, d_off_run + n_d, g0, g1], axis=1), dtype=np.int64)
        rows = {"T": T, "I": I, "cut": cut, "kept": kept, "g0": g0, "n_g": n_g,
                "g_run": np.repeat(np.arange(keys.shape[0]), n_g),
                # flat position of (t, kept j) in its run's [T, D] block
                "d_pos": (d_off_run[d_run] * T + rank)[None, :] + np.arange(T)[:, None] * n_d[d_run][None, :],
                "gt_ids": np.take(gt["id"], tables.gt_index), "dt_ids": np.take(dt["id"], tables.dt_index),
                "dt_id_l": np.take(dt["id"], tables.dt_index)[kept].tolist(),
                "dt_score_l": np.take(dt["score"], tables.dt_index)[kept].tolist(),
                "img_ids": list(p.imgIds), "cat_ids": list(cat_list)}
        # the dicts hold no reference cycles: the cyclic GC, which would otherwise run
        # every 700 new containers and walk every object of the process (a training
        # process holds millions), is paused while they are made (4x faster for 8 images)
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            for a in range(A):
                _area_eval_imgs(out, a, p.areaRng[a], details[0]["gt_ignore"][a, :n_gt], dt_match[a],
                                dt_ign[a], runs, rows)
        finally:
            if gc_was_on:
                gc.enable()
        return out


def _area_eval_imgs(out, a, a_rng, ign, m_all, ign_dt, runs, rows):
    """The evalImgs dicts of area range ``a`` into ``out`` (see
    :meth:`COCOeval._build_eval_imgs`): ``ign`` uint8 [n_gt] ground-truth ignore flags,
    ``m_all`` [T, n_dt] matched grouped ground truth (-1: none), ``ign_dt`` bool [T, n_dt]."""
    T, I, kept, g0, n_g, g_run = rows["T"], rows["I"], rows["kept"], rows["g0"], rows["n_g"], rows["g_run"]
    gt_ids, dt_ids, d_pos = rows["gt_ids"], rows["dt_ids"], rows["d_pos"]
    n_gt = ign.shape[0]
    # ground truths in pycocotools' order: by run, then not ignored before ignored (stable)
    order = np.lexsort((ign, g_run))
    where = np.empty(n_gt, np.int64)
    where[order] = np.arange(n_gt)
    gt_id_l = gt_ids[order].tolist()
    ign_sorted = ign[order].astype(int)
    m = m_all[:, kept]                               # [T, n_kept] grouped gt index or -1
    hit = m >= 0
    dtm = np.zeros(T * kept.shape[0])
    dtm[d_pos[hit]] = gt_ids[m[hit]]
    dtig = np.empty(T * kept.shape[0], bool)
    dtig[d_pos] = ign_dt[:, kept]
    # gtMatches: run block at g0 * T, [T, G]; a crowd matched by several detections
    # keeps the last one's id (pycocotools' loop order)
    t_hit, j_hit = np.nonzero(hit)
    gm = m[hit]
    pos = g0[g_run[gm]] * T + t_hit * n_g[g_run[gm]] + (where[gm] - g0[g_run[gm]])
    last, first = np.unique(pos[::-1], return_index=True)
    gtm = np.zeros(T * n_gt)
    gtm[last] = dt_ids[kept[j_hit[::-1][first]]]
    dt_id_l, dt_score_l, cut = rows["dt_id_l"], rows["dt_score_l"], rows["cut"]
    area_eval_img_dicts(out, a, I, a_rng, cut, T, dtm, gtm, dtig, ign_sorted, gt_id_l, dt_id_l, dt_score_l,
                        rows["img_ids"], rows["cat_ids"], runs)
