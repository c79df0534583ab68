"""``fastap.lvis``: a drop-in for lvis-api 0.5.3 (``LVIS``, ``LVISResults``, ``LVISEval``).

The same classes, attribute names and numbers as lvis-api (its ``lvis`` package on PyPI),
on fastap's pipeline: the annotation file and results files are read by fastap's C
scanner into columns, the evaluation is :mod:`fastap.protocols.lvis` (the COCO matching
and accumulation kernels in C), and no dict per record is built unless someone reads
one::

    from fastap.lvis import LVIS, LVISResults, LVISEval
    gt = LVIS("lvis_v1_val.json")
    dt = LVISResults(gt, "results.json")          # a path, a list of dicts or columns
    ev = LVISEval(gt, dt, iou_type="bbox")        # or "segm"
    ev.run()
    ev.print_results()
    ev.get_results()["AP"]

``fastap.init_as_lvis()`` makes ``import lvis`` give these classes (see
:mod:`fastap.compat`).

Differences from lvis-api, all outside its numbers:

* dicts are built when first read: ``dataset``, ``anns``, ``img_ann_map`` and
  ``cat_img_map`` of an annotation file, and the result dicts of ``LVISResults``
  (lvis-api's ``id``, ``area`` and box ``segmentation`` are written into them then,
  into a results list's own dicts too, as lvis-api writes them at construction);
* evaluation reads results as ``LVISResults`` loaded them (edits to result dicts made
  afterwards are not seen); ground-truth dicts, once read, are read again at every
  ``evaluate()`` (edits count, as in lvis-api), but lvis-api's ``_prepare`` writes
  ``ignore = 0`` into them, fastap does not;
* ``eval_imgs`` (lvis-api's per (category, area range, image) dicts, equal to its
  own) is built only when read (a second matching pass, then a Python loop per
  evaluated (image, category): slow at LVIS scale, as in lvis-api); ``ious``, ``_gts``
  and ``_dts`` stay empty and ``eval`` has no ``dt_pointers``;
* errors are fastap's (naming the record and field) where lvis-api fails with a
  ``KeyError`` or an ``AssertionError``; empty results evaluate to no detections
  (lvis-api fails on them); ``params.use_cats = 0`` is refused (lvis-api evaluates
  nothing with it and then fails in ``summarize()``);
* messages go to the ``logging`` logger ``fastap.lvis`` (lvis-api's go to ``lvis.*``).
"""
from __future__ import annotations

import contextlib
import functools
import copy
import datetime
import io
import logging
import mmap
import os
from collections import OrderedDict, defaultdict
from collections.abc import Mapping

import numpy as np

from . import mask as mask_utils
from .adapters.cocodata import COCO, columns_of, rles_of
from .adapters.jsonfile import load_json
from .columns import dt_columns, sorted_ids_list, sorted_image_ids
from . import _core
from .errors import FastapError, InvalidAnnotationError, InvalidOptionError, InvalidTypeError
from .geometry import rles_from_objects, segm_result_boxes
from .protocols.lvis import (LVISParams, cap_per_image, capped_order, freq_groups, list_pairs,
                             lvis_accumulate, lvis_pass, per_class_table, result_lines, summarize)
from .protocols.coco import coco_accumulate
from .tables import Tables
from .threads import fresh_memory

__all__ = ["LVIS", "LVISResults", "LVISEval", "LVISEvaluator", "LVISStreamResult", "Params", "lvis_inputs",
           "file_mentions"]

#: lvis-api's ``Params`` (``fastap.protocols.lvis.LVISParams``)
Params = LVISParams

_LOG = logging.getLogger(__name__)


def _fresh(fn):
    """Run ``fn`` inside :func:`fastap.threads.fresh_memory` (large one-pass arrays)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with fresh_memory():
            return fn(*args, **kwargs)
    return run


@contextlib.contextmanager
def _quiet():
    """fastap's COCO prints pycocotools' progress lines; lvis-api prints none."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def file_mentions(path, needle):
    """Whether the file's bytes hold ``needle`` (a memory map: no copy)."""
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return False
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                return m.find(needle) >= 0
    except (OSError, ValueError):
        return True          # cannot tell: read the dicts


class LVIS:
    """lvis-api's ``LVIS``: an LVIS annotation file (a path, or a dataset dict) with
    lvis-api's lookups (``get_ann_ids``, ``get_cat_ids``, ``get_img_ids``, ``load_anns``,
    ``load_cats``, ``load_imgs``, ``ann_to_rle``, ``ann_to_mask``) and indices
    (``dataset``, ``anns``, ``cats``, ``imgs``, ``img_ann_map``, ``cat_img_map``; the
    annotation ones built when first read)."""

    def __init__(self, annotation_path):
        self.logger = _LOG
        self.logger.info("Loading annotations.")
        if isinstance(annotation_path, Mapping):
            self._ignore_in_file, self._dicts_seen = True, True
        elif isinstance(annotation_path, (str, os.PathLike)):
            self._ignore_in_file, self._dicts_seen = file_mentions(annotation_path, b'"ignore"'), False
        else:
            raise InvalidTypeError("LVIS: expected the path of an annotation file or a dataset dict, got %s"
                                   % type(annotation_path).__name__)
        with _quiet():
            self._coco = COCO(annotation_path)
        self._create_index()

    def _load_json(self, path):
        return load_json(path)

    def _create_index(self):
        """Rebuild the indices from ``dataset`` (the annotation ones when first read)."""
        self.logger.info("Creating index.")
        if self._coco is not None:
            with _quiet():
                self._coco.createIndex()
        self._index = None

    # -- dicts ---------------------------------------------------------------------------
    @property
    def dataset(self):
        self._dicts_seen = True
        return self._coco.dataset

    @dataset.setter
    def dataset(self, value):
        self._dicts_seen = True
        self._coco.dataset = value
        self._index = None

    @property
    def imgs(self):
        return self._coco.imgs

    @imgs.setter
    def imgs(self, value):
        self._coco.imgs = value

    @property
    def cats(self):
        return self._coco.cats

    @cats.setter
    def cats(self, value):
        self._coco.cats = value

    def _ann_index(self):
        if self._index is None:
            anns, img_ann_map, cat_img_map = {}, defaultdict(list), defaultdict(list)
            for ann in self.dataset["annotations"]:
                img_ann_map[ann["image_id"]].append(ann)
                anns[ann["id"]] = ann
            for ann in self.dataset["annotations"]:
                cat_img_map[ann["category_id"]].append(ann["image_id"])
            self._index = {"anns": anns, "img_ann_map": img_ann_map, "cat_img_map": cat_img_map}
        return self._index

    def _index_member(name):    # noqa: N805 -- a property factory used in the class body
        def get(self):
            return self._ann_index()[name]

        def set_(self, value):
            self._ann_index()[name] = value
        return property(get, set_, doc="lvis-api's ``%s`` (built when first read)." % name)

    anns = _index_member("anns")
    img_ann_map = _index_member("img_ann_map")
    cat_img_map = _index_member("cat_img_map")
    del _index_member

    # -- lvis-api's lookups ------------------------------------------------------------------
    def _all_ann_ids(self):
        if not self._dicts_seen:
            return columns_of(self._coco, "gt")["id"].tolist()
        return [a["id"] for a in self.dataset["annotations"]]

    def get_ann_ids(self, img_ids=None, cat_ids=None, area_rng=None):
        """Ids of the annotations on ``img_ids`` (default all) of ``cat_ids`` with an
        area strictly inside ``area_rng`` (default (0, inf) when ``cat_ids`` is given)."""
        if img_ids is None and cat_ids is None and area_rng is None:
            return self._all_ann_ids()
        if img_ids is not None:
            anns = [a for i in img_ids for a in self.img_ann_map[i]]
        else:
            anns = self.dataset["annotations"]
        if cat_ids is None and area_rng is None:
            return [a["id"] for a in anns]
        cat_ids = set(cat_ids)
        lo, hi = (0, float("inf")) if area_rng is None else area_rng
        return [a["id"] for a in anns if a["category_id"] in cat_ids and a["area"] > lo and a["area"] < hi]

    def get_cat_ids(self):
        return list(self.cats.keys())

    def get_img_ids(self):
        return list(self.imgs.keys())

    def _load_helper(self, table, ids):
        if ids is None:
            return list(table.values())
        return [table[i] for i in ids]

    def load_anns(self, ids=None):
        return self._load_helper(self.anns, ids)

    def load_cats(self, ids):
        return self._load_helper(self.cats, ids)

    def load_imgs(self, ids):
        return self._load_helper(self.imgs, ids)

    def download(self, save_dir, img_ids=None):
        """Fetch the images' ``coco_url`` files into ``save_dir`` (skipping those there)."""
        imgs = self.load_imgs(img_ids)
        os.makedirs(save_dir, exist_ok=True)
        for img in imgs:
            _fetch_url(img, save_dir)

    def ann_to_rle(self, ann):
        """The compressed RLE of an annotation (polygons and uncompressed RLE converted
        at its image's size)."""
        return self._coco.annToRLE(ann)

    def ann_to_mask(self, ann):
        return mask_utils.decode(self.ann_to_rle(ann))


def _fetch_url(img, save_dir):
    import urllib.request
    file_name = os.path.join(save_dir, img["coco_url"].split("/")[-1])
    if not os.path.exists(file_name):
        urllib.request.urlretrieve(img["coco_url"], file_name)


class LVISResults(LVIS):
    """lvis-api's ``LVISResults``: results (a path, a list of dicts, an (N, 7) array or
    a mapping of arrays) on an LVIS ground truth, each image cut to its ``max_dets``
    highest-scoring results (``-1``: no cut)."""

    @_fresh
    def __init__(self, lvis_gt, results, max_dets=300):
        if isinstance(lvis_gt, LVIS):
            gt = lvis_gt
        elif isinstance(lvis_gt, (str, os.PathLike)):
            gt = LVIS(lvis_gt)
        else:
            raise TypeError("Unsupported type {} of lvis_gt.".format(lvis_gt))
        self.logger = _LOG
        self.logger.info("Loading and preparing results.")
        self._gt, self._source, self._max_dets = gt, results, int(max_dets)
        self._ignore_in_file, self._dicts_seen, self._index, self._dicts = False, False, None, None
        self._res, self._rles = None, None
        if isinstance(results, Mapping):
            cols = self._columns_given(results)
        else:
            if not isinstance(results, (str, os.PathLike, np.ndarray)):
                if not isinstance(results, list):
                    raise InvalidTypeError("results should be a path or a list of dicts, got %s"
                                           % type(results).__name__)
                self.logger.warning("Assuming user provided the results in correct format.")
            with _quiet():
                self._res = gt._coco.loadRes(results)
            cols = columns_of(self._res, "dt")
        self._coco = None
        self._keep = cap_per_image(cols["image_id"], cols["score"], self._max_dets,
                                   img_ids=sorted_image_ids(gt.imgs) if cols["image_id"].shape[0] > len(gt.imgs)
                                   else None)
        self._cols = cols

    def _columns_given(self, results):
        """Columns of results given as a mapping of arrays (``segmentation``: masks in
        any of pycocotools' forms, then the area is the mask's)."""
        segs = results.get("segmentation")
        d = dict(results)
        if segs is not None:
            sizes = {i: img for i, img in self._gt.imgs.items()}
            self._rles = rles_from_objects(segs, d.get("image_id"), sizes, "results")
            given = None if d.get("bbox") is None else np.asarray(d["bbox"], dtype=np.float64).reshape(-1, 4)
            bbox, area = segm_result_boxes(self._rles, given)
            d["bbox"], d["area"] = bbox, (bbox[:, 2] * bbox[:, 3] if given is not None else area)
            d.pop("segmentation")
        cols = dt_columns(d, what="results")
        known = np.isin(cols["image_id"], np.fromiter(self._gt.imgs.keys(), np.int64, len(self._gt.imgs)))
        if not known.all():
            i = int(np.flatnonzero(~known)[0])
            raise InvalidAnnotationError("results record %d: image_id %d is not an image of the ground truth"
                                         % (i, cols["image_id"][i]))
        return cols

    def _eval_rles(self):
        """The results' masks as an RLE set, in column order."""
        if self._rles is None:
            self._rles = rles_of(self._res, self._gt._coco, "dt")
        return self._rles

    # -- lvis-api's dicts, built when first read ---------------------------------------------
    def _records(self):
        src = self._source
        if isinstance(src, list):
            return src
        if isinstance(src, (str, os.PathLike)):
            return load_json(src)
        c = self._cols
        return [{"image_id": i, "category_id": k, "bbox": b, "score": s}
                for i, k, b, s in zip(c["image_id"].tolist(), c["category_id"].tolist(), c["bbox"].tolist(),
                                      c["score"].tolist())]

    def _materialize(self):
        if self._dicts is not None:
            return self._dicts
        recs = self._records()
        order = capped_order(self._cols["image_id"], self._cols["score"], self._max_dets)
        anns = [recs[i] for i in order.tolist()]
        if anns and "bbox" in anns[0]:
            for n, ann in enumerate(anns):
                x1, y1, w, h = ann["bbox"]
                if "segmentation" not in ann:
                    ann["segmentation"] = [[x1, y1, x1, y1 + h, x1 + w, y1 + h, x1 + w, y1]]
                ann["area"] = w * h
                ann["id"] = n + 1
        elif anns and "segmentation" in anns[0]:
            for n, ann in enumerate(anns):
                ann["area"] = mask_utils.area(ann["segmentation"])
                if "bbox" not in ann:
                    ann["bbox"] = mask_utils.toBbox(ann["segmentation"])
                ann["id"] = n + 1
        base = self._gt.dataset if self._gt._dicts_seen else None
        ds = {}
        if base is not None:
            ds = {k: copy.deepcopy(v) for k, v in base.items() if k != "annotations"}
        else:
            ds = {"images": copy.deepcopy(list(self._gt.imgs.values())),
                  "categories": copy.deepcopy(list(self._gt.cats.values()))}
        ds["annotations"] = anns
        self._dicts = {"dataset": ds, "imgs": {img["id"]: img for img in ds.get("images", [])},
                       "cats": {c["id"]: c for c in ds.get("categories", [])}}
        return self._dicts

    @property
    def dataset(self):
        self._dicts_seen = True
        return self._materialize()["dataset"]

    @dataset.setter
    def dataset(self, value):
        self._materialize()["dataset"] = value
        self._index = None

    @property
    def imgs(self):
        return self._materialize()["imgs"]

    @imgs.setter
    def imgs(self, value):
        self._materialize()["imgs"] = value

    @property
    def cats(self):
        return self._materialize()["cats"]

    @cats.setter
    def cats(self, value):
        self._materialize()["cats"] = value

    def _all_ann_ids(self):
        if self._dicts is None:
            return list(range(1, int(self._keep.sum()) + 1))
        return [a["id"] for a in self.dataset["annotations"]]

    def _create_index(self):
        self._index = None

    def get_img_ids(self):
        return list(self._gt.imgs.keys()) if self._dicts is None else list(self.imgs.keys())

    def get_cat_ids(self):
        return list(self._gt.cats.keys()) if self._dicts is None else list(self.cats.keys())

    def ann_to_rle(self, ann):
        return self._gt._coco.annToRLE(ann)

    def limit_dets_per_image(self, anns, max_dets):
        """lvis-api's cut of a list of result dicts: each image's ``max_dets`` highest
        scores (stable), images in the order of their first result."""
        if not anns:
            return []
        img = np.asarray([a["image_id"] for a in anns], dtype=np.int64)
        score = np.asarray([a["score"] for a in anns], dtype=np.float64)
        return [anns[i] for i in capped_order(img, score, max_dets).tolist()]

    def get_top_results(self, img_id, score_thrs):
        anns = self.load_anns(self.get_ann_ids(img_ids=[img_id]))
        return list(filter(lambda ann: ann["score"] > score_thrs, anns))


# -- evaluation inputs ---------------------------------------------------------------------------
def _gt_ignore(gt, n):
    """uint8 [n]: lvis-api's ``ignore`` field of each annotation (truthy -> 1)."""
    if not gt._dicts_seen and not gt._ignore_in_file:
        return np.zeros(n, np.uint8)
    anns = gt.dataset["annotations"]
    return np.fromiter((1 if a.get("ignore", 0) else 0 for a in anns), np.uint8, len(anns))


def _image_pairs(gt, img_ids, field):
    """(image ids, category ids) int64 pairs of the images' ``field`` lists."""
    imgs = gt.imgs
    try:
        recs = [imgs[i] for i in img_ids]
    except KeyError:
        i = next(i for i in img_ids if i not in imgs)
        raise InvalidAnnotationError("params.img_ids: %r is not an image of the ground truth" % (i,)) from None
    try:
        lsts = [r.get(field) for r in recs]
    except AttributeError:
        lsts = [r.get(field) if isinstance(r, Mapping) else None for r in recs]
    return list_pairs(img_ids, lsts, field)


def lvis_inputs(gt, dt, img_ids, cat_ids, iou_type):
    """The columns and per-image lists one LVIS pass reads (see
    :func:`fastap.protocols.lvis.lvis_pass`): a dict with ``gt``, ``dt`` (the cut
    results), ``neg_pairs``, ``nel_pairs`` and, for ``"segm"``, ``gt_rles`` /
    ``dt_rles``."""
    g = dict(columns_of(gt._coco, "gt", iou_type=iou_type))
    g["ignore"] = _gt_ignore(gt, g["id"].shape[0])
    cols = dt._cols
    d = {k: cols[k] for k in ("image_id", "category_id", "bbox", "area", "score")}
    out = {"gt": g, "dt": d, "dt_keep": None if dt._keep.all() else dt._keep,
           "neg_pairs": _image_pairs(gt, img_ids, "neg_category_ids"),
           "nel_pairs": _image_pairs(gt, img_ids, "not_exhaustive_category_ids")}
    if iou_type == "segm":
        out["gt_rles"] = rles_of(gt._coco, gt._coco, "gt")
        out["dt_rles"] = dt._eval_rles()
    return out


class LVISEval:
    """lvis-api's ``LVISEval``: federated LVIS evaluation of ``lvis_dt`` (an
    :class:`LVISResults`, or a results path or list) against ``lvis_gt`` (an
    :class:`LVIS` or a path), ``iou_type`` "bbox" or "segm".

    ``params`` (:class:`Params`), ``evaluate()``, ``accumulate()`` (``eval`` with
    ``precision`` float64 [T, R, K, A] and ``recall`` [T, K, A]), ``summarize()``
    (``results``, an OrderedDict of AP, AP50, AP75, APs, APm, APl, APr, APc, APf,
    AR@300, ARs@300, ARm@300, ARl@300), ``run()``, ``print_results()``,
    ``get_results()``: lvis-api's numbers, bit for bit."""

    def __init__(self, lvis_gt, lvis_dt, iou_type="segm"):
        self.logger = _LOG
        if iou_type not in ["bbox", "segm"]:
            raise ValueError("iou_type: {} is not supported.".format(iou_type))
        if isinstance(lvis_gt, LVIS):
            self.lvis_gt = lvis_gt
        elif isinstance(lvis_gt, (str, os.PathLike)):
            self.lvis_gt = LVIS(lvis_gt)
        else:
            raise TypeError("Unsupported type {} of lvis_gt.".format(lvis_gt))
        if isinstance(lvis_dt, LVISResults):
            self.lvis_dt = lvis_dt
        elif isinstance(lvis_dt, (str, os.PathLike, list)):
            self.lvis_dt = LVISResults(self.lvis_gt, lvis_dt)
        else:
            raise TypeError("Unsupported type {} of lvis_dt.".format(lvis_dt))
        self._eval_imgs = defaultdict(list)
        self.eval = {}
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        self.params = Params(iou_type=iou_type)
        self.results = OrderedDict()
        self.ious = {}
        self._pass = None
        self.params.img_ids = sorted_ids_list(self.lvis_gt.get_img_ids())
        self.params.cat_ids = sorted(self.lvis_gt.get_cat_ids())

    def _prepare_freq_group(self):
        cats = self.lvis_gt.cats
        freqs = []
        for c in self.params.cat_ids:
            cat = cats.get(c)
            if cat is None:
                raise InvalidAnnotationError("params.cat_ids: %r is not a category of the ground truth" % (c,))
            freqs.append(cat.get("frequency") if isinstance(cat, Mapping) else None)
        return freq_groups(freqs, self.params.img_count_lbl, self.params.cat_ids)

    @_fresh
    def evaluate(self):
        """Match every evaluated (image, category) (lvis-api's ``evaluate()``)."""
        self.logger.info("Running per image evaluation.")
        self.logger.info("Evaluate annotation type *{}*".format(self.params.iou_type))
        p = self.params
        p.img_ids = list(np.unique(p.img_ids))
        if not p.use_cats:
            raise InvalidAnnotationError(
                "params.use_cats = 0 is not supported: lvis-api 0.5.3 evaluates nothing with it (and then fails "
                "in summarize()); LVIS is evaluated per category")
        self.freq_groups = self._prepare_freq_group()
        imgs = self.lvis_gt.imgs
        img_ids = [int(i) for i in p.img_ids]
        self.__dict__.pop("img_nel", None)
        self._img_nel_of = (imgs, img_ids)       # img_nel: lvis-api's dict, made when first read
        inp = lvis_inputs(self.lvis_gt, self.lvis_dt, img_ids, p.cat_ids, p.iou_type)
        self._pass = lvis_pass(inp["gt"], inp["dt"], img_ids, p.cat_ids, inp["neg_pairs"], inp["nel_pairs"],
                               p.iou_thrs, p.area_rng, gt_rles=inp.get("gt_rles"), dt_rles=inp.get("dt_rles"),
                               dt_keep=inp["dt_keep"])
        self._eval_cat_ids = list(p.cat_ids)      # the K axis: lvis-api keeps params.cat_ids' order
        self._inputs = inp                        # for eval_imgs
        self._eval_imgs = None

    @property
    def img_nel(self):
        """lvis-api's ``img_nel`` (set by ``evaluate()``): image id -> its
        ``not_exhaustive_category_ids``."""
        if "img_nel" not in self.__dict__:
            src = getattr(self, "_img_nel_of", None)
            if src is None:
                raise AttributeError("'LVISEval' object has no attribute 'img_nel'")
            imgs, img_ids = src
            self.__dict__["img_nel"] = {i: imgs[i].get("not_exhaustive_category_ids") for i in img_ids if i in imgs}
        return self.__dict__["img_nel"]

    @img_nel.setter
    def img_nel(self, value):
        self.__dict__["img_nel"] = value

    @_fresh
    def accumulate(self):
        """Precision and recall of every (IoU threshold, category, area range) into
        ``eval`` (lvis-api's ``accumulate()``)."""
        self.logger.info("Accumulating evaluation results.")
        if self._pass is None:
            raise FastapError("LVISEval.accumulate(): run evaluate() first")
        p = self.params
        precision, recall = lvis_accumulate(self._pass, p.rec_thrs)
        cats = np.asarray(self._eval_cat_ids, dtype=np.int64).reshape(-1)
        if cats.shape[0] != self._pass.cat_ids.shape[0] or (cats != self._pass.cat_ids).any():
            k = np.searchsorted(self._pass.cat_ids, cats)
            precision, recall = np.ascontiguousarray(precision[:, :, k]), np.ascontiguousarray(recall[:, k])
        T, R, K, A = precision.shape
        self.eval = {
            "params": self.params,
            "counts": [T, R, K, A],
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
        }

    def summarize(self):
        """The 13 numbers into ``results`` (lvis-api's ``summarize()``)."""
        if not self.eval:
            raise RuntimeError("Please run accumulate() first.")
        out = summarize(self.eval["precision"], self.eval["recall"], self.params.iou_thrs,
                        self.params.area_rng_lbl, self.freq_groups, self.params.max_dets)
        for k, v in out.items():
            self.results[k] = v

    def run(self):
        """evaluate(), accumulate(), summarize()."""
        self.evaluate()
        self.accumulate()
        self.summarize()

    def print_results(self):
        """Print the summary in lvis-api's format."""
        for line in result_lines(self.results, self.params.iou_thrs, self.params.max_dets):
            print(line)

    def get_results(self):
        if not self.results:
            self.logger.warning("results is empty. Call run().")
        return self.results

    def per_class(self):
        """fastap only: per-category AP, AP50, AP75, APs/m/l and AR with each category's
        frequency group, as a NumPy structured array (see
        :func:`fastap.protocols.lvis.per_class_table`); after ``accumulate()``."""
        if not self.eval:
            raise RuntimeError("Please run accumulate() first.")
        cats = self.lvis_gt.cats
        return per_class_table(self.eval["precision"], self.eval["recall"], self.params.cat_ids,
                               [cats[c].get("frequency") for c in self.params.cat_ids], self.params.iou_thrs,
                               self.params.area_rng_lbl)

    @property
    def eval_imgs(self):
        """lvis-api's per (category, area range, image) dicts (None where the pair has
        neither ground truth nor detections), built when first read."""
        if self._eval_imgs is None:
            self._eval_imgs = build_eval_imgs(self)
        return self._eval_imgs

    @eval_imgs.setter
    def eval_imgs(self, value):
        self._eval_imgs = value


def build_eval_imgs(ev):
    """lvis-api's ``eval_imgs`` list of an evaluated :class:`LVISEval`: one entry per
    (category, area range, image) in that nesting order, None where the (image,
    category) has neither ground truth nor evaluated results, else lvis-api's dict
    (``dt_ids`` / ``dt_matches`` / ``gt_matches`` with its ids: results numbered in
    ``LVISResults``' list order)."""
    if ev._pass is None:
        return []
    p, inp = ev.params, ev._inputs
    ps = lvis_pass(inp["gt"], inp["dt"], ev._pass.img_ids, ev._pass.cat_ids, inp["neg_pairs"], inp["nel_pairs"],
                   ev._pass.iou_thrs, ev._pass.area_rng, gt_rles=inp.get("gt_rles"), dt_rles=inp.get("dt_rles"),
                   dt_keep=inp["dt_keep"], details=True)
    tb, core = ps.tables, ps.tables.core
    T, A = ps.iou_thrs.shape[0], ps.area_rng.shape[0]
    match = np.concatenate([m["dt_match"] for m in ps.matches], axis=1)           # [A, T, n_dt]
    bits = np.arange(T) % 32
    ign = np.concatenate([((m["dt_ignore"][:, None, :] >> bits[s:e, None]) & 1).astype(bool)
                          for m, (s, e) in zip(ps.matches, _chunks(T))], axis=1)  # [A, T, n_dt]
    gt_ign = ps.matches[0]["gt_ignore"]                                           # [A, n_gt]
    dtr = ev.lvis_dt
    n_keep = int(np.count_nonzero(dtr._keep))
    lvis_id = np.zeros(dtr._keep.shape[0], np.int64)
    lvis_id[capped_order(dtr._cols["image_id"], dtr._cols["score"], dtr._max_dets)] = np.arange(1, n_keep + 1)
    dt_id = np.take(lvis_id, tb.dt_index)
    gt_id = np.take(inp["gt"]["id"], tb.gt_index)
    score = core.dt_score
    I, img_list = len(p.img_ids), list(p.img_ids)
    k_of = {c: k for k, c in enumerate(ps.cat_ids.tolist())}
    out = [None] * (len(ev._eval_cat_ids) * A * I)
    for kk, c in enumerate(ev._eval_cat_ids):
        k = k_of[int(c)]
        for i, g0, g1, d0, d1 in _runs(core, k):
            for a in range(A):
                gi = gt_ign[a, g0:g1]
                go = np.argsort(gi, kind="mergesort")
                gm = match[a, :, d0:d1]
                dt_m = np.where(gm >= 0, np.take(gt_id, np.maximum(gm, 0)), 0).astype(np.float64)
                gt_m = np.zeros((T, g1 - g0))
                t_idx, d_idx = np.nonzero(gm >= 0)
                gt_m[t_idx, gm[t_idx, d_idx] - g0] = dt_id[d0 + d_idx]
                out[(kk * A + a) * I + i] = {
                    "image_id": img_list[i], "category_id": c, "area_rng": p.area_rng[a],
                    "dt_ids": dt_id[d0:d1].tolist(), "gt_ids": gt_id[g0:g1][go].tolist(),
                    "dt_matches": dt_m, "gt_matches": gt_m[:, go], "dt_scores": score[d0:d1].tolist(),
                    "gt_ignore": gi[go].astype(np.int64) if g1 > g0 else np.array([]),
                    "dt_ignore": ign[a, :, d0:d1].copy()}
    return out


def _chunks(T):
    return [(s, min(s + 32, T)) for s in range(0, T, 32)]


def _runs(core, k):
    """(image index, gt begin, gt end, dt begin, dt end) of category k's images that have
    ground truth or results."""
    go, do = core.gt_off, core.dt_off
    gimg, dimg = core.gt_img[go[k]:go[k + 1]], core.dt_img[do[k]:do[k + 1]]
    imgs = np.union1d(gimg, dimg)
    gs, ge = np.searchsorted(gimg, imgs) + go[k], np.searchsorted(gimg, imgs, side="right") + go[k]
    ds, de = np.searchsorted(dimg, imgs) + do[k], np.searchsorted(dimg, imgs, side="right") + do[k]
    return zip(imgs.tolist(), gs.tolist(), ge.tolist(), ds.tolist(), de.tolist())


# -- streaming ---------------------------------------------------------------------------------
class LVISEvaluator:
    """Streaming LVIS evaluation: lvis-api's numbers for results given in parts (per
    batch, per worker), with exact merging of partial states.

    ``LVISEvaluator(lvis_gt, iou_type="bbox", max_dets=300)`` (``lvis_gt`` an
    :class:`LVIS` or its path); :meth:`update` with the results of some images (a list
    of dicts, an (N, 7) array or a mapping of arrays, as :class:`LVISResults` takes
    them); :meth:`merge` of another state; :meth:`compute` gives an
    :class:`LVISStreamResult` (``results``: lvis-api's 13 numbers, ``eval``: precision
    float64 [T, R, K, A] and recall [T, K, A]), equal to ``LVISEval`` on all the results
    at once. Every image of the ground truth is evaluated, with or without results, as
    in lvis-api.

    Updates hold whole images: lvis-api cuts each image to its ``max_dets``
    highest-scoring results across categories, which needs all of the image's results
    at once, so an image that an earlier update (or a merged state) already had is
    refused with an InvalidAnnotationError naming it, rather than cut or counted twice.
    A state pickles without the ground truth (:meth:`attach` gives it back); what it
    keeps per result is its image, category, score, rank and match bits.
    """

    def __init__(self, lvis_gt, iou_type="bbox", max_dets=300, num_threads=None):
        if iou_type not in ("bbox", "segm"):
            raise InvalidOptionError("iou_type should be 'bbox' or 'segm', got %r" % (iou_type,))
        self.lvis_gt = lvis_gt if isinstance(lvis_gt, LVIS) else LVIS(lvis_gt)
        self.params = LVISParams(iou_type)
        self.params.max_dets = int(max_dets)
        self.params.img_ids = sorted_ids_list(self.lvis_gt.get_img_ids())
        self.params.cat_ids = sorted(self.lvis_gt.get_cat_ids())
        self.num_threads = num_threads
        self._parts = []
        self._images = np.zeros(0, np.int64)

    def _inputs(self, dt, img_ids):
        return lvis_inputs(self.lvis_gt, dt, img_ids, self.params.cat_ids, self.params.iou_type)

    def update(self, results):
        """Match the results of some images (all of each image's results); returns self."""
        if self.lvis_gt is None:
            raise InvalidAnnotationError("LVISEvaluator.update(): this state was unpickled without its ground "
                                         "truth: attach() it first")
        dt = LVISResults(self.lvis_gt, results, max_dets=self.params.max_dets)
        imgs = np.unique(dt._cols["image_id"])
        again = np.intersect1d(imgs, self._images)
        if again.shape[0]:
            raise InvalidAnnotationError(
                "LVISEvaluator.update(): image %d already had results in an earlier update (%d such images): "
                "give all of an image's results in one update (lvis-api cuts each image to its %d best results "
                "across categories)" % (again[0], again.shape[0], self.params.max_dets))
        if imgs.shape[0] == 0:
            return self
        p = self.params
        inp = self._inputs(dt, imgs.tolist())
        ps = lvis_pass(inp["gt"], inp["dt"], imgs, p.cat_ids, inp["neg_pairs"], inp["nel_pairs"], p.iou_thrs,
                       p.area_rng, gt_rles=inp.get("gt_rles"), dt_rles=inp.get("dt_rles"),
                       dt_keep=inp["dt_keep"], num_threads=self.num_threads)
        t, m = ps.tables, ps.matches
        off = np.asarray(t.core.dt_off, dtype=np.int64)
        self._parts.append({
            "image_id": np.take(t.img_ids, t.dt_img), "category_id": np.repeat(t.cat_ids, np.diff(off)),
            "rank": m[0]["dt_rank"], "score": np.asarray(t.core.dt_score, dtype=np.float64),
            "tp": np.concatenate([x["dt_tp"] for x in m]), "fp": np.concatenate([x["dt_fp"] for x in m])})
        self._images = np.union1d(self._images, imgs)
        return self

    def merge(self, other):
        """Add another state's results (same ground truth and parameters, other images);
        returns self."""
        if not isinstance(other, LVISEvaluator):
            raise InvalidTypeError("merge() takes an LVISEvaluator, got %s" % type(other).__name__)
        for k in ("iou_type", "max_dets", "img_ids", "cat_ids"):
            if getattr(self.params, k) != getattr(other.params, k):
                raise InvalidAnnotationError("cannot merge LVISEvaluators with different params.%s" % k)
        again = np.intersect1d(self._images, other._images)
        if again.shape[0]:
            raise InvalidAnnotationError("cannot merge LVISEvaluators that both have results on image %d (%d such "
                                         "images)" % (again[0], again.shape[0]))
        self._parts.extend(dict(x) for x in other._parts)
        self._images = np.union1d(self._images, other._images)
        return self

    def __getstate__(self):
        state = dict(self.__dict__)
        state["lvis_gt"] = None
        return state

    def attach(self, lvis_gt):
        """Give an unpickled state its ground truth (the same :class:`LVIS`); returns self."""
        gt = lvis_gt if isinstance(lvis_gt, LVIS) else LVIS(lvis_gt)
        if sorted_ids_list(gt.get_img_ids()) != self.params.img_ids:
            raise InvalidAnnotationError("attach(): not the ground truth this state was made on (other images)")
        self.lvis_gt = gt
        return self

    def compute(self):
        """lvis-api's ``accumulate()`` and ``summarize()`` of everything added."""
        if self.lvis_gt is None:
            raise InvalidAnnotationError("LVISEvaluator.compute(): attach() the ground truth first")
        p = self.params
        img_ids = np.asarray(p.img_ids, dtype=np.int64)
        cat_ids = np.asarray(p.cat_ids, dtype=np.int64)
        I, K, A = img_ids.shape[0], cat_ids.shape[0], len(p.area_rng)
        # the ground truth of every image counts, with or without results
        g = dict(columns_of(self.lvis_gt._coco, "gt", iou_type=p.iou_type))
        g["ignore"] = _gt_ignore(self.lvis_gt, g["id"].shape[0])
        inp = {"gt": g, "neg_pairs": _image_pairs(self.lvis_gt, p.img_ids, "neg_category_ids"),
               "nel_pairs": _image_pairs(self.lvis_gt, p.img_ids, "not_exhaustive_category_ids")}
        empty = {k: np.zeros((0, 4) if k == "bbox" else 0, np.int64 if k.endswith("_id") else np.float64)
                 for k in ("image_id", "category_id", "bbox", "area", "score")}
        base = lvis_pass(inp["gt"], empty, img_ids, cat_ids, inp["neg_pairs"], inp["nel_pairs"], p.iou_thrs,
                         p.area_rng, num_threads=self.num_threads)
        npig = np.ascontiguousarray(base.matches[0]["npig"], dtype=np.int64)
        rows = A * len(base.matches)
        part = {k: np.concatenate([x[k] for x in self._parts], axis=-1) if self._parts else
                np.zeros((rows, 0) if k in ("tp", "fp") else 0, np.uint32 if k in ("tp", "fp") else
                         np.int32 if k == "rank" else np.float64 if k == "score" else np.int64)
                for k in ("image_id", "category_id", "rank", "score", "tp", "fp")}
        n = part["score"].shape[0]
        ip = np.searchsorted(img_ids, part["image_id"]).astype(np.int32)
        kp = np.searchsorted(cat_ids, part["category_id"]).astype(np.int32)
        order, off = _core.group(kp, K, ip, max(I, 1), None)
        tables = _core.CocoTables(K, np.zeros(K + 1, np.int64), np.zeros(0, np.int32), np.zeros((0, 4)),
                                  np.zeros(0), np.zeros(0, np.uint8), np.zeros(0, np.uint8), off,
                                  np.take(ip, order), np.zeros((n, 4)), np.zeros(n),
                                  np.ascontiguousarray(np.take(part["score"], order)))
        rank = np.ascontiguousarray(np.take(part["rank"], order))
        matches = [{"dt_tp": np.ascontiguousarray(np.take(part["tp"][c * A:(c + 1) * A], order, axis=1)),
                    "dt_fp": np.ascontiguousarray(np.take(part["fp"][c * A:(c + 1) * A], order, axis=1)),
                    "dt_rank": rank, "npig": npig} for c in range(len(base.matches))]
        cut = int(rank.max()) + 1 if n else 1
        wrapper = Tables(tables, None, None, None, None, img_ids, cat_ids, cat_ids)
        precision, recall, _ = coco_accumulate(wrapper, matches, p.iou_thrs, p.rec_thrs, [cut], p.area_rng,
                                               num_threads=self.num_threads)
        precision, recall = np.ascontiguousarray(precision[..., 0]), np.ascontiguousarray(recall[..., 0])
        cats = self.lvis_gt.cats
        groups = freq_groups([cats[c].get("frequency") for c in p.cat_ids], p.img_count_lbl, p.cat_ids)
        results = OrderedDict(summarize(precision, recall, p.iou_thrs, p.area_rng_lbl, groups, p.max_dets))
        return LVISStreamResult(results, {"params": p, "counts": list(precision.shape), "precision": precision,
                                          "recall": recall}, p)


class LVISStreamResult:
    """What :meth:`LVISEvaluator.compute` gives: ``results`` (lvis-api's ``results``,
    the 13 numbers in its order), ``eval`` (``precision`` float64 [T, R, K, A],
    ``recall`` float64 [T, K, A], ``counts``, ``params``); :meth:`print_results` prints
    them as lvis-api does."""

    def __init__(self, results, ev, params):
        self.results, self.eval, self.params = results, ev, params

    def get_results(self):
        return self.results

    def print_results(self):
        for line in result_lines(self.results, self.params.iou_thrs, self.params.max_dets):
            print(line)
