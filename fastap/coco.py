"""Drop-in replacements for pycocotools' ``COCO`` and ``COCOeval`` (iouType "bbox",
"segm" and "keypoints").

The object model is pycocotools' own, because frameworks use it, not only its numbers:
``params`` is edited in place after construction; ``coco.dataset = d;
coco.createIndex()`` re-indexes; ``evalImgs`` and ``ious`` can be read after
``evaluate()``; ``summarize()`` prints through ``sys.stdout``; ``accumulate()`` with
``useCats=0`` leaves ``params.catIds == [-1]``. The numbers come from the array engine
(:mod:`fastap.engine`) and are bit-identical to pycocotools'.

pycocotools quirks reproduced on purpose (each tested against pycocotools):

* ``summarize()``'s first line (``stats[0]``) uses ``maxDets=100`` whatever
  ``params.maxDets`` is, and gives -1 when 100 is not among them;
* an annotation's ``ignore`` field is replaced by its ``iscrowd`` flag, so ``ignore``
  alone never ignores a ground truth;
* a detection matched to a ground truth whose ``id`` is 0 counts as unmatched in
  ``accumulate()`` (pycocotools stores the matched id and tests it for non-zero);
* ``params.imgIds``/``catIds`` are made sorted-unique and ``maxDets`` sorted by
  ``evaluate()``;
* ``iouType="keypoints"`` with ``useCats=0`` matches nothing (pycocotools' computeOks
  looks the ground truth up under category -1 and finds none);
* results are read by the branch of ``loadRes`` that their first record picks: with a
  non-empty ``bbox`` their area is ``w*h`` even for segm or keypoints evaluation
  (detectron2's results take this branch), else a mask's area or the keypoints' box.

Where pycocotools crashes, fastap answers: ``loadRes([])`` gives an empty result set that
evaluates cleanly; a ground truth without ``iscrowd`` counts as not crowd; images need no
``width``/``height``. Where pycocotools silently gives wrong numbers, fastap raises:
duplicate annotation ids (pycocotools evaluates the last one twice).
"""
from __future__ import annotations

import copy
import datetime
import mmap
import os
import time
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from . import _core, engine
from .errors import InvalidAnnotationError, InvalidFileError, InvalidTypeError
from .io import _first_keypoints_len, load_json_bytes, load_results_columns, read_private
from .params import Params

__all__ = ["COCO", "COCOeval"]


def _is_array_like(obj):
    return hasattr(obj, "__iter__") and hasattr(obj, "__len__")


def _field(anns, key, what, default=None, required=True):
    """[ann[key] for ann in anns], with a clear error for the first record lacking it."""
    try:
        if required:
            return [a[key] for a in anns]
        return [a.get(key, default) for a in anns]
    except (KeyError, TypeError, AttributeError):
        for i, a in enumerate(anns):
            if not isinstance(a, Mapping):
                raise InvalidTypeError("%s record %d should be a dict, got %s" % (what, i, type(a).__name__)) from None
            if required and key not in a:
                rid = " (id %s)" % (a["id"],) if "id" in a else ""
                raise InvalidAnnotationError("%s record %d%s: missing field '%s'" % (what, i, rid, key)) from None
        raise


def columns_from_records(anns, kind, what=None, with_ids=True, box_area=False):
    """Columns (see :func:`fastap.engine.gt_columns` / ``dt_columns``) from a list of
    COCO annotation dicts. kind: "gt" or "dt" (results: ``score`` required; with
    ``with_ids`` their ``id`` is taken when every record has one, else 1..N; with
    ``box_area`` their area is w*h whatever the records say, as loadRes sets it).

    Regular records are read by a C loop (``_core.records_to_columns``); anything
    irregular takes the general path below, whose errors name the record and field."""
    what = what or ("annotations" if kind == "gt" else "results")
    n = len(anns)
    fast = _core.records_to_columns(anns, kind == "gt") if isinstance(anns, list) and n else None
    if kind == "gt":
        if fast is not None:
            return engine.gt_columns(fast, what=what)
        d = {"id": _field(anns, "id", what), "image_id": _field(anns, "image_id", what),
             "category_id": _field(anns, "category_id", what), "bbox": _field(anns, "bbox", what),
             "area": _field(anns, "area", what, required=False),
             "iscrowd": _field(anns, "iscrowd", what, 0, required=False)}
        if any(a is None for a in d["area"]):
            i = next(i for i, a in enumerate(d["area"]) if a is None)
            raise InvalidAnnotationError("%s record %d (id %s): missing field 'area'" % (what, i, d["id"][i]))
        if not n:
            d = {k: np.zeros((0, 4) if k == "bbox" else 0) for k in d}
        return engine.gt_columns(d, what=what)
    if fast is not None:
        d = fast if fast.pop("has_area") and not box_area else \
            {k: fast[k] for k in ("image_id", "category_id", "bbox", "score")}
    elif n:
        d = {"image_id": _field(anns, "image_id", what), "category_id": _field(anns, "category_id", what),
             "bbox": _field(anns, "bbox", what), "score": _field(anns, "score", what)}
        areas = _field(anns, "area", what, required=False)
        if not box_area and not any(a is None for a in areas):
            d["area"] = areas
    else:
        d = {k: np.zeros((0, 4) if k == "bbox" else 0) for k in ("image_id", "category_id", "bbox", "score")}
    cols = engine.dt_columns(d, what=what)
    cols["id"] = np.arange(1, n + 1, dtype=np.int64)
    if with_ids and n:
        ids = _field(anns, "id", what, required=False)
        if not any(i is None for i in ids):
            cols["id"] = engine._ids(what, "id", ids, n)
    return cols


class COCO:
    """pycocotools' COCO: annotations in memory with lookup indices.

    ``COCO(annotation_file)`` takes a path or a dataset dict. Box results loaded by
    :meth:`loadRes` are kept as columns; their dicts (``dataset['annotations']``,
    ``anns``, ``imgToAnns``) are built only when read.
    """

    def __init__(self, annotation_file=None):
        self._dataset, self._anns, self.cats, self.imgs = dict(), dict(), dict(), dict()
        self._imgToAnns, self._catToImgs = defaultdict(list), defaultdict(list)
        self._cols = None            # cached columns of the annotations
        self._pending = None         # results columns whose dicts are not built yet
        self._index_stale = False    # anns / imgToAnns / catToImgs not built yet
        self._raw_anns = None        # (file bytes, start, end) of annotations not parsed yet
        self._raw_geom = None        # their segmentation / keypoint spans and num_keypoints
        self._res_kind = "bbox"      # loadRes: which of pycocotools' branches built the results
        self._geom = {}              # loadRes: keypoints / masks of the results, as arrays, and
                                     # ("text") the results file's text and path
        if annotation_file is not None:
            raw = cols = None
            if isinstance(annotation_file, Mapping):
                dataset = annotation_file
            else:
                print('loading annotations into memory...')
                tic = time.time()
                dataset, raw, cols = _load_annotation_file(annotation_file)
                print('Done (t={:0.2f}s)'.format(time.time() - tic))
            self.dataset = dataset
            self.createIndex()
            if raw is not None:
                # the annotations' dicts are parsed from the file when first read; until
                # then evaluation uses the columns the C scanner read from it
                self._raw_anns = raw
                self._raw_geom = cols.pop("_geom")
                self._cols = ("gt", cols)
                self._read_gt_keypoints()

    def _read_gt_keypoints(self):
        """Check the ground-truth keypoints the annotations scan read (as many per record
        as the first record has) now, and keep them: the load is where a file is read,
        and evaluations then find them. Problems are left to the evaluation, which names
        them."""
        g = self._raw_geom
        stride = g["kpt_values"].shape[1] if g and "kpt_values" in g else 0
        if stride and stride % 3 == 0:
            try:
                _gt_keypoints(self, stride // 3)
            except ValueError:            # InvalidAnnotationError is a ValueError
                pass

    def _check_results_text(self):
        """Masks and keypoints of a results file are read from its text in place (a
        memory map of the file) when evaluation or the result dicts need them. A file
        rewritten in place since loadRes would make those reads fail (a shorter file: a
        bus error that ends the interpreter) or read other results: refused instead,
        with an error naming the file. (A file replaced by a new one, written elsewhere
        and renamed, leaves the mapped text as it was.)"""
        text = self._geom.get("text")
        if text is None or not isinstance(text[0], mmap.mmap):
            return
        m, path = text
        try:
            size = m.size()          # the mapped file's size now (fstat of its descriptor)
        except (OSError, ValueError):
            size = -1
        if size != len(m):
            raise InvalidFileError(
                "%s: the results file changed on disk since loadRes read it (%d bytes then, %d now); "
                "its masks and keypoints are read from the file's text: load it again" % (path, len(m), size))

    # -- lazily built members -----------------------------------------------------------
    def _materialize(self):
        self._check_results_text()
        cols, anns = self._pending
        self._pending = None
        if anns is None and "text" in self._geom:      # read from the file's text
            anns = load_json_bytes(self._geom["text"][0][:], "results")
        if anns is None:
            b = cols["bbox"].tolist()
            anns = [{"image_id": i, "category_id": c, "bbox": bb, "score": s}
                    for i, c, bb, s in zip(cols["image_id"].tolist(), cols["category_id"].tolist(),
                                           b, cols["score"].tolist())]
        area = cols["area"].tolist()
        kind = self._res_kind
        boxes = cols["bbox"].tolist() if kind == "keypoints" else None
        for n, ann in enumerate(anns):
            if kind == "bbox":
                bb = ann["bbox"]
                if "segmentation" not in ann:
                    x1, x2, y1, y2 = bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]
                    ann["segmentation"] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
            elif kind == "keypoints":
                ann["bbox"] = boxes[n]
            elif "bbox" not in ann:          # segm: the mask's box unless one is given
                ann["bbox"] = cols["bbox"][n].tolist()
            ann["area"] = area[n]
            ann["id"] = n + 1
            if kind != "keypoints":
                ann["iscrowd"] = 0
        self._dataset["annotations"] = anns
        self._build_ann_index()

    def _ensure(self):
        if self._raw_anns is not None:
            data, start, end = self._raw_anns
            self._raw_anns = None
            self._dataset["annotations"] = load_json_bytes(data[start:end], "annotations")
            self._cols = None        # the dicts may now be edited: columns follow them
            self._index_stale = True
        if self._pending is not None:
            self._materialize()
        elif self._index_stale:
            self._index_stale = False
            self._build_ann_index()

    @property
    def dataset(self):
        self._ensure()
        return self._dataset

    @dataset.setter
    def dataset(self, value):
        self._dataset = value
        self._raw_anns = None
        self._pending = None
        self._index_stale = False
        self._cols = None
        self._geom = {}

    @property
    def anns(self):
        self._ensure()
        return self._anns

    @anns.setter
    def anns(self, value):
        self._ensure()
        self._anns = value

    @property
    def imgToAnns(self):
        self._ensure()
        return self._imgToAnns

    @imgToAnns.setter
    def imgToAnns(self, value):
        self._ensure()
        self._imgToAnns = value

    @property
    def catToImgs(self):
        self._ensure()
        return self._catToImgs

    @catToImgs.setter
    def catToImgs(self, value):
        self._ensure()
        self._catToImgs = value

    # -- pycocotools API -------------------------------------------------------------------
    def _build_ann_index(self):
        anns, imgToAnns, catToImgs = {}, defaultdict(list), defaultdict(list)
        ds = self._dataset
        if "annotations" in ds:
            for ann in ds["annotations"]:
                imgToAnns[ann["image_id"]].append(ann)
                anns[ann["id"]] = ann
            if "categories" in ds:
                for ann in ds["annotations"]:
                    catToImgs[ann["category_id"]].append(ann["image_id"])
        self._anns, self._imgToAnns, self._catToImgs = anns, imgToAnns, catToImgs

    def createIndex(self):
        """Build anns, imgs, cats, imgToAnns and catToImgs from ``dataset``."""
        print('creating index...')
        self._cols = None if self._pending is None else self._cols
        self._geom = {} if self._pending is None else self._geom
        ds = self._dataset
        self.imgs = {img["id"]: img for img in ds.get("images", [])}
        self.cats = {cat["id"]: cat for cat in ds.get("categories", [])}
        # the annotation index is built when first read: evaluation works on columns
        self._index_stale = self._pending is None
        print('index created!')

    def __getstate__(self):
        """Pickled with the file texts it keeps (memory maps: the results file's pages,
        the annotation file's private copy) as bytes, so that a COCO goes to another
        process as pycocotools' does."""
        state = self.__dict__.copy()
        memo = {}
        for k in ("_raw_anns", "_geom"):
            state[k] = _maps_as_bytes(state[k], memo)
        return state

    def info(self):
        for key, value in self._dataset['info'].items():
            print('{}: {}'.format(key, value))

    def getAnnIds(self, imgIds=[], catIds=[], areaRng=[], iscrowd=None):
        imgIds = imgIds if _is_array_like(imgIds) else [imgIds]
        catIds = catIds if _is_array_like(catIds) else [catIds]
        if len(imgIds) == len(catIds) == len(areaRng) == 0:
            anns = self.dataset['annotations']
        else:
            if len(imgIds):
                anns = [a for i in imgIds if i in self.imgToAnns for a in self.imgToAnns[i]]
            else:
                anns = self.dataset['annotations']
            if len(catIds):
                anns = [a for a in anns if a['category_id'] in catIds]
            if len(areaRng):
                anns = [a for a in anns if areaRng[0] < a['area'] < areaRng[1]]
        if iscrowd is not None:
            return [a['id'] for a in anns if a['iscrowd'] == iscrowd]
        return [a['id'] for a in anns]

    def getCatIds(self, catNms=[], supNms=[], catIds=[]):
        catNms = catNms if _is_array_like(catNms) else [catNms]
        supNms = supNms if _is_array_like(supNms) else [supNms]
        catIds = catIds if _is_array_like(catIds) else [catIds]
        cats = self._dataset.get('categories', [])
        if len(catNms):
            cats = [c for c in cats if c['name'] in catNms]
        if len(supNms):
            cats = [c for c in cats if c['supercategory'] in supNms]
        if len(catIds):
            cats = [c for c in cats if c['id'] in catIds]
        return [c['id'] for c in cats]

    def getImgIds(self, imgIds=[], catIds=[]):
        imgIds = imgIds if _is_array_like(imgIds) else [imgIds]
        catIds = catIds if _is_array_like(catIds) else [catIds]
        if len(imgIds) == len(catIds) == 0:
            return list(self.imgs.keys())
        ids = set(imgIds)
        for i, catId in enumerate(catIds):
            if i == 0 and len(ids) == 0:
                ids = set(self.catToImgs[catId])
            else:
                ids &= set(self.catToImgs[catId])
        return list(ids)

    def _load(self, table, ids):
        if _is_array_like(ids):
            return [table[i] for i in ids]
        if isinstance(ids, (int, np.integer)):
            return [table[ids]]
        return None

    def loadAnns(self, ids=[]):
        return self._load(self.anns, ids)

    def loadCats(self, ids=[]):
        return self._load(self.cats, ids)

    def loadImgs(self, ids=[]):
        return self._load(self.imgs, ids)

    def loadNumpyAnnotations(self, data):
        """Results from an [N, 7] array of (image_id, x, y, w, h, score, category_id)
        rows, as a list of dicts (pycocotools' conversion, ids truncated with int())."""
        data = np.asarray(data)
        if data.ndim != 2 or data.shape[1] != 7:
            raise InvalidAnnotationError("results array should have shape (N, 7) "
                                         "(image_id, x, y, w, h, score, category_id), got %s" % (data.shape,))
        return [{'image_id': int(r[0]), 'bbox': [r[1], r[2], r[3], r[4]], 'score': r[5],
                 'category_id': int(r[6])} for r in data]

    def _results_from_array(self, data):
        try:
            data = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidTypeError("results array should be numeric") from None
        if data.ndim != 2 or data.shape[1] != 7:
            raise InvalidAnnotationError("results array should have shape (N, 7) "
                                         "(image_id, x, y, w, h, score, category_id), got %s" % (data.shape,))
        bad = ~np.isfinite(data[:, [0, 6]]).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidAnnotationError("results row %d: image_id and category_id should be finite, got %r"
                                         % (i, data[i].tolist()))
        return engine.dt_columns({"image_id": np.trunc(data[:, 0]).astype(np.int64), "bbox": data[:, 1:5],
                                  "score": data[:, 5], "category_id": np.trunc(data[:, 6]).astype(np.int64)},
                                 what="results")

    def loadRes(self, resFile):
        """Load detections (a results file path, a list of dicts, or an [N, 7] array)
        into a new COCO sharing this one's images and categories. Box results get
        ``area = w*h``, ``id`` 1..N and ``iscrowd = 0``, as in pycocotools."""
        res = COCO()
        res._dataset['info'] = copy.deepcopy(self._dataset.get('info', {}))
        res._dataset['images'] = [img for img in self._dataset.get('images', [])]
        print('Loading and preparing results...')
        tic = time.time()
        anns, cols = None, None
        if isinstance(resFile, (str, os.PathLike)):
            kind, val = load_results_columns(resFile)
            if kind == "columns":
                cols = val
                cols.pop("has_area", None)
                cols = engine.dt_columns({k: cols[k] for k in ("image_id", "category_id", "bbox", "score")},
                                         what="results file %s" % os.fspath(resFile))
            elif kind == "geometry":
                cols = self._results_with_geometry(res, *val, what="results file %s" % os.fspath(resFile))
                res._geom["text"] = (val[0], os.fspath(resFile))     # see _check_results_text
            else:
                anns = val
        elif isinstance(resFile, np.ndarray):
            cols = self._results_from_array(resFile)
        else:
            anns = resFile
        if anns is not None:
            if not isinstance(anns, list):
                raise InvalidTypeError("results should be a list of objects, got %s" % type(anns).__name__)
            res._res_kind = kind = _results_kind(anns)
            if kind == "bbox":
                cols = columns_from_records(anns, "dt", with_ids=False, box_area=True)   # loadRes: area = w*h
            elif kind == "keypoints":
                from .geometry import keypoint_arrays, keypoint_result_boxes
                what = "results"
                n_kpt = len(anns[0]["keypoints"]) // 3 if isinstance(anns[0].get("keypoints"), (list, tuple)) else 0
                kpt = keypoint_arrays(anns, n_kpt, what, gt=False)
                bbox, area = keypoint_result_boxes(kpt)
                cols = engine.dt_columns({"image_id": _field(anns, "image_id", what),
                                          "category_id": _field(anns, "category_id", what),
                                          "score": _field(anns, "score", what), "bbox": bbox, "area": area},
                                         what=what)
                res._geom["keypoints"] = kpt
            else:
                from .geometry import segm_results_columns
                cols, rles = segm_results_columns(anns, self)
                res._geom["rle"] = rles
        cols["id"] = np.arange(1, cols["image_id"].shape[0] + 1, dtype=np.int64)
        img_ids = _sorted_image_ids(self.imgs)
        _, ok = engine._index_of(img_ids, cols["image_id"])
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise InvalidAnnotationError(
                "results record %d: image_id %d is not an image of the ground truth "
                "(%d of %d results are on unknown images)" % (i, cols["image_id"][i], int((~ok).sum()), ok.shape[0]))
        res._dataset['categories'] = copy.deepcopy(self._dataset.get('categories', []))
        res._cols = ("dt", cols)
        res._pending = (cols, anns)
        print('DONE (t={:0.2f}s)'.format(time.time() - tic))
        res.createIndex()
        return res

    def _results_with_geometry(self, res, data, g, what):
        """loadRes of a results file with masks or keypoints read by the C scanner:
        pycocotools' branch by the first record, without building any dict."""
        from .geometry import keypoint_result_boxes, rles_from_spans, rows_all_nan, segm_result_boxes
        n = g["image_id"].shape[0]
        base = {k: g[k] for k in ("image_id", "category_id", "score")}
        seg, kpt = g["seg_span"], g["kpt_span"]
        if n == 0 or not rows_all_nan(g["bbox"][:1])[0]:      # the first record decides
            kind = "bbox"
            has_bbox = ~rows_all_nan(g["bbox"])
            if not has_bbox.all():
                i = int(np.flatnonzero(~has_bbox)[0])
                raise InvalidAnnotationError("%s: record %d: missing field 'bbox' (record 0 has one, so "
                                             "every record needs one, as in pycocotools)" % (what, i))
            cols = engine.dt_columns({**base, "bbox": g["bbox"]}, what=what)
            res._geom["raw"] = (data, seg if (seg[:, 0] >= 0).any() else None,
                                kpt if (kpt[:, 0] >= 0).any() else None)
        elif seg[0, 0] >= 0:
            kind = "segm"
            try:
                rles = rles_from_spans(data, seg, g["image_id"], self.imgs, "results", lazy=True,
                                       rle_fields=g.get("seg_rle"))
            except InvalidAnnotationError as e:
                raise InvalidAnnotationError("%s: %s" % (what, e)) from None
            bbox, area = segm_result_boxes(rles, g["bbox"])
            cols = engine.dt_columns({**base, "bbox": bbox, "area": area}, what=what)
            res._geom["rle"] = rles
        elif kpt[0, 0] >= 0:
            kind = "keypoints"
            first = load_json_bytes(data[kpt[0, 0]:kpt[0, 1]], what)
            n_values = len(first) if isinstance(first, list) else 0
            kbox, xy = None, False
            scanned = g.get("kpt_values")
            if scanned is not None and (g["kpt_count"] == n_values).all():
                # parsed during the scan, boxes too; (x, y) pairs only when the scan kept those
                xy = n_values % 3 == 0 and scanned.shape[1] == n_values // 3 * 2
                if xy or scanned.shape[1] == n_values:
                    kp, kbox = scanned, g["kpt_box"]
            if kbox is None:
                try:
                    kp = _core.parse_keypoint_spans(data, kpt, n_values, "results")
                except ValueError as e:
                    raise InvalidAnnotationError("%s: %s" % (what, e)) from None
            # a box is NaN (all four) where the record's numbers are not all finite
            bad = np.isnan(kbox[:, 0]) if kbox is not None else ~np.isfinite(kp).all(axis=1)
            if bad.any():
                raise InvalidAnnotationError("%s: results record %d: keypoints should be finite numbers"
                                             % (what, int(np.flatnonzero(bad)[0])))
            bbox, area = (kbox, kbox[:, 2] * kbox[:, 3]) if kbox is not None else keypoint_result_boxes(kp)
            cols = engine.dt_columns({**base, "bbox": bbox, "area": area}, what=what)
            res._geom["keypoints"] = kp
            res._geom["keypoints_xy"] = xy
        else:
            raise InvalidAnnotationError("%s: record 0: needs 'bbox', 'segmentation' or 'keypoints'" % what)
        res._res_kind = kind
        return cols

    def _columns(self, kind=None):
        """The annotations as columns (cached until ``createIndex``/``dataset`` change)."""
        if self._cols is not None and (kind is None or self._cols[0] == kind):
            return self._cols[1]
        if kind is None:
            anns = self.dataset.get("annotations", [])
            kind = "dt" if anns and isinstance(anns[0], Mapping) and "score" in anns[0] else "gt"
        cols = columns_from_records(self.dataset.get("annotations", []), kind)
        self._cols = (kind, cols)
        return cols


def _maps_as_bytes(x, memo):
    """x with every mmap inside its dicts, lists and tuples replaced by its bytes (one
    copy per map)."""
    if isinstance(x, mmap.mmap):
        if id(x) not in memo:
            memo[id(x)] = x[:]
        return memo[id(x)]
    if isinstance(x, dict):
        return {k: _maps_as_bytes(v, memo) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_maps_as_bytes(v, memo) for v in x)
    return x


def _sorted_int_ids(ids):
    """int64 array of the sorted ids when every one is a Python int within int64 (5x
    faster than sorted() for many images), else None."""
    if ids and set(map(type, ids)) == {int}:
        try:
            return np.sort(np.fromiter(ids, np.int64, len(ids)))
        except OverflowError:
            return None
    return None


def _sorted_ids_list(ids):
    """sorted(ids) for a list of ids."""
    a = _sorted_int_ids(ids) if len(ids) > 64 else None
    return a.tolist() if a is not None else sorted(ids)


def _sorted_image_ids(imgs):
    """int64 sorted ids of an imgs dict."""
    a = _sorted_int_ids(list(imgs))
    return a if a is not None else np.array(sorted(imgs.keys()) if imgs else [], dtype=np.int64)


def _results_kind(anns):
    """pycocotools' loadRes branch, decided by the first record: "bbox" when it has a
    non-empty bbox, else "segm" when it has a segmentation, else "keypoints"."""
    if not anns:
        return "bbox"
    a = anns[0]
    if not isinstance(a, Mapping):
        raise InvalidTypeError("results record 0 should be a dict, got %s" % type(a).__name__)
    if "caption" in a:
        raise NotImplementedError("caption results are not detections; fastap evaluates bbox, segm "
                                  "and keypoints results")
    if "bbox" in a and not (isinstance(a["bbox"], (list, tuple)) and len(a["bbox"]) == 0):
        return "bbox"
    if "segmentation" in a:
        return "segm"
    if "keypoints" in a:
        return "keypoints"
    raise InvalidAnnotationError("results record 0: needs 'bbox', 'segmentation' or 'keypoints', has %s"
                                 % sorted(a.keys()))


class _Validation:
    """The whole-document check of an annotation file (``json_object_members``), on a
    second thread when the file is large enough and more than one thread may be used,
    so that it runs while the annotations are read (it costs as much as reading them).
    ``result()`` waits for it and raises its error, named as before."""

    MIN_BYTES = 1 << 20

    def __init__(self, data, name):
        self.data, self.name = data, name
        self.members, self.error, self.thread = None, None, None
        if len(data) >= self.MIN_BYTES and _core.max_threads() > 1:
            import threading
            self.thread = threading.Thread(target=self._run, name="fastap-json-check", daemon=True)
            self.thread.start()

    def _run(self):
        try:
            self.members = _core.json_object_members(self.data)
        except BaseException as e:       # handed to result(), on the caller's thread
            self.error = e

    def result(self):
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        elif self.members is None and self.error is None:
            self._run()
        e = self.error
        if isinstance(e, ValueError):
            if "expected a JSON object at the top level" in str(e):
                raise InvalidFileError("%s: annotation file should hold a JSON object (%s)" % (self.name, e)) from None
            raise InvalidFileError("%s: not a valid JSON file (%s)" % (self.name, e)) from None
        if e is not None:
            raise e
        return self.members


def _load_annotation_file(path):
    """(dataset dict, (bytes, start, end) of the annotations or None, their columns or
    None). The small members are parsed as JSON; the annotations are read by the C
    scanner into columns and kept as text until someone reads their dicts. Files the
    scanner does not take (annotations without bbox or area, ...) are parsed whole.

    The document is validated as a whole (the grammar of json.loads) first, or, for a
    large file on more than one thread, on a second thread while the members found by
    matching brackets (``json_member_spans``) are read; an invalid document then raises
    the same error, whatever the reading of its members ran into."""
    data = read_private(path)
    name = os.fspath(path)
    check = _Validation(data, name)
    members = _core.json_member_spans(data) if check.thread is not None else None
    if members is None:
        members = check.result()
    try:
        out = _read_members(data, name, members)
    except BaseException:
        check.result()            # an invalid document: its error, not what reading met
        raise
    valid = check.result()
    if valid != members:          # cannot happen for a valid document; read it again
        out = _read_members(data, name, valid)
    return out


def _read_members(data, name, members):
    dataset, span = {}, None
    for key, start, end in members:
        if key == "annotations":
            span = (start, end)
            dataset[key] = None                        # keeps the file's member order
        else:
            dataset[key] = load_json_bytes(data[start:end], name)
    if span is None:
        return dataset, None, None
    try:
        # the spans of segmentations and keypoints come along (kept for segm / keypoints
        # evaluation, which then reads those values straight from the text)
        # (keypoints read as they are met, as many per record as the first record has;
        # looked for in the first 64 KB only: a box file is not searched through)
        g = _core.parse_annotations_json(data, *span, geometry=True,
                                         kpt_stride=_first_keypoints_len(data, span[0], min(span[1], span[0] + (1 << 16))))
        cols = engine.gt_columns({k: g[k] for k in ("id", "image_id", "category_id", "bbox", "area", "iscrowd")},
                                 what="annotations")
        cols["_geom"] = {k: g[k] for k in ("seg_span", "kpt_span", "num_keypoints", "kpt_values", "kpt_count")
                         if k in g}
    except (ValueError, TypeError):
        # not plain box annotations: keep pycocotools' behaviour (load anything), and
        # let evaluation report what is wrong with which record
        dataset["annotations"] = load_json_bytes(data[span[0]:span[1]], name)
        return dataset, None, None
    return dataset, (data, span[0], span[1]), cols


def _columns_of(coco, kind):
    """Columns of a fastap COCO, or of any object with pycocotools' ``dataset``."""
    if isinstance(coco, COCO):
        return coco._columns(kind)
    if coco is None or not hasattr(coco, "dataset"):
        raise InvalidTypeError("expected a COCO object (fastap or pycocotools), got %s" % type(coco).__name__)
    return columns_from_records(coco.dataset.get("annotations", []), kind)


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


def _keypoints_from_spans(data, spans, n_kpt, what):
    try:
        kp = _core.parse_keypoint_spans(data, spans, 3 * n_kpt, what)
    except ValueError as e:
        raise InvalidAnnotationError(str(e)) from None
    return _finite_keypoints(kp, what)


def _finite_keypoints(kp, what):
    if not np.isfinite(kp).all():
        i = int(np.flatnonzero(~np.isfinite(kp).all(axis=1))[0])
        raise InvalidAnnotationError("%s record %d: keypoints should be finite numbers" % (what, i))
    return kp


def _gt_keypoints(coco, n_kpt):
    if isinstance(coco, COCO) and coco._raw_anns is not None:
        # straight from the file's text, which cannot change while it is not parsed:
        # kept for the next evaluation against this ground truth (e.g. every epoch)
        cached = coco._geom.get("gt_kpt")
        if cached is not None and cached[0] == n_kpt:
            return cached[1]
        data = coco._raw_anns[0]
        g = coco._raw_geom
        if "kpt_values" in g and g["kpt_values"].shape[1] == 3 * n_kpt and (g["kpt_count"] == 3 * n_kpt).all():
            kp = _finite_keypoints(g["kpt_values"], "annotations")    # read with the records
        else:
            kp = _keypoints_from_spans(data, g["kpt_span"], n_kpt, "annotations")
        num = g["num_keypoints"]
        if np.isnan(num).any():
            i = int(np.flatnonzero(np.isnan(num))[0])
            raise InvalidAnnotationError("annotations record %d (id %d): missing field 'num_keypoints'"
                                         % (i, coco._columns("gt")["id"][i]))
        coco._geom["gt_kpt"] = (n_kpt, (kp, num))
        return kp, num
    from .geometry import keypoint_arrays
    return keypoint_arrays(coco.dataset.get("annotations", []), n_kpt, "annotations", gt=True)


def _dt_keypoints(coco, n_kpt):
    """(keypoints float64 [D, 3K], False), or ([D, 2K] (x, y) pairs, True) as the results
    scan keeps them."""
    if isinstance(coco, COCO) and "raw" in coco._geom and coco._geom["raw"][2] is not None:
        coco._check_results_text()
        data, _, spans = coco._geom["raw"]
        return _keypoints_from_spans(data, spans, n_kpt, "results"), False
    if isinstance(coco, COCO) and "keypoints" in coco._geom:
        kpt, xy = coco._geom["keypoints"], coco._geom.get("keypoints_xy", False)
        per = 2 if xy else 3
        if kpt.shape[0] and kpt.shape[1] != per * n_kpt:
            raise InvalidAnnotationError("results keypoints hold %d numbers, but kpt_oks_sigmas has %d sigmas"
                                         % (kpt.shape[1] // per * 3, n_kpt))
        return kpt, xy
    from .geometry import keypoint_arrays
    return keypoint_arrays(coco.dataset.get("annotations", []), n_kpt, "results", gt=False), False


def _rles_of(coco, gt_coco, kind, num_threads=None):
    """Masks of a COCO's annotations as an RLE set (see _core.rle_set_stats), in column
    order; polygons are rasterised at the ground truth's image sizes (pycocotools
    annToRLE). Files read by the C scanner are converted from their text, without
    building the annotation dicts."""
    from .geometry import rles_from_annotations, rles_from_spans
    what = "annotations" if kind == "gt" else "results"
    if isinstance(coco, COCO):
        coco._check_results_text()             # lazy masks read their strings from it
        if "rle" in coco._geom:
            return coco._geom["rle"]
        if "raw" in coco._geom and coco._geom["raw"][1] is not None:
            data, seg_span, _ = coco._geom["raw"]
            return rles_from_spans(data, seg_span, coco._columns(kind)["image_id"], gt_coco.imgs, what,
                                   num_threads, lazy=kind != "gt")
        if kind == "gt" and coco._raw_anns is not None:
            # straight from the file's text, which cannot change while it is not parsed:
            # kept for the next evaluation against this ground truth (e.g. every epoch)
            key = [(i, img.get("height"), img.get("width")) for i, img in gt_coco.imgs.items()]
            cached = coco._geom.get("gt_rle")
            if cached is not None and cached[0] == key:
                return cached[1]
            rles = rles_from_spans(coco._raw_anns[0], coco._raw_geom["seg_span"], coco._columns("gt")["image_id"],
                                   gt_coco.imgs, what, num_threads)
            coco._geom["gt_rle"] = (key, rles)
            return rles
    return rles_from_annotations(coco.dataset.get("annotations", []), gt_coco.imgs,
                                 "annotations" if kind == "gt" else "results")


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
        st = self._ev._state
        if st is None:
            raise KeyError(key)
        p = self._ev._paramsEval
        tables = st["tables"]
        gt, dt = st["gt"], st["dt"]
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
            from .geometry import exact_ious
            exact_ious(tables.core)
            start = int(tables.core.extra["dt_iou_off"][dpos[0]])
            return tables.core.extra["iou"][start:start + len(dpos) * len(gpos)].reshape(len(dpos), len(gpos)).copy()
        from ._core import box_iou
        gsel, dsel = tables.gt_index[gpos], tables.dt_index[dpos]
        return box_iou(dt["bbox"][dsel], gt["bbox"][gsel], gt["iscrowd"][gsel], fmt="xywh")


class COCOeval:
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
        self._state = None
        self.num_threads = num_threads
        if cocoGt is not None:
            self.params.imgIds = _sorted_ids_list(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    @property
    def ious(self):
        return _LazyIous(self) if self._state is not None else {}

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
        img_ids = engine.unique_ids(engine._ids("params", "imgIds", np.asarray(p.imgIds).reshape(-1), len(p.imgIds)))
        p.imgIds = img_ids.tolist()
        cat_ids = engine._ids("params", "catIds", np.asarray(p.catIds).reshape(-1), len(p.catIds))
        if p.useCats:
            cat_ids = engine.unique_ids(cat_ids)
            p.catIds = cat_ids.tolist()
        p.maxDets = sorted(p.maxDets)
        self.params = p
        gt = _columns_of(self.cocoGt, "gt")
        dt = _columns_of(self.cocoDt, "dt")
        iou_thrs, _, md, ar = engine._check_params(p.iouThrs, p.recThrs, p.maxDets, p.areaRng)
        # masks and keypoints are matched by their IoUs: the boxes of the detections are
        # not gathered (a report that needs them gathers them)
        tables = engine.build_tables(gt, dt, img_ids, cat_ids, bool(p.useCats), dt_boxes=p.iouType == 'bbox')
        ids = np.take(gt["id"], tables.gt_index)
        if ids.shape[0] > 1:
            u, c = np.unique(ids, return_counts=True)
            if (c > 1).any():
                dup = u[c > 1][0]
                recs = np.flatnonzero(gt["id"] == dup)[:2].tolist()
                raise InvalidAnnotationError(
                    "annotations: id %d is used by records %d and %d; annotation ids must be unique "
                    "(pycocotools would silently evaluate the last one twice)" % (dup, recs[0], recs[1]))
        if p.iouType == 'keypoints':
            from .geometry import attach_oks
            sig = np.asarray(p.kpt_oks_sigmas, dtype=np.float64).reshape(-1)
            gkp, gnum = _gt_keypoints(self.cocoGt, len(sig))
            dkp, dt_xy = _dt_keypoints(self.cocoDt, len(sig))
            attach_oks(tables, gkp, gnum, gt["iscrowd"], dkp, sig, md[-1], num_threads=self.num_threads,
                       use_cats=bool(p.useCats), iou_thrs=iou_thrs, dt_xy=dt_xy)
        elif p.iouType == 'segm':
            from .geometry import attach_rle_iou
            attach_rle_iou(tables, _rles_of(self.cocoGt, self.cocoGt, "gt", self.num_threads),
                           _rles_of(self.cocoDt, self.cocoGt, "dt", self.num_threads), md[-1],
                           num_threads=self.num_threads)
        matches = engine.coco_match(tables, iou_thrs, md, ar, num_threads=self.num_threads)
        self._state = {"tables": tables, "matches": matches, "gt": gt, "dt": dt,
                       "iou_thrs": iou_thrs, "max_dets": md, "area_rng": ar}
        self._evalImgs = None
        self._paramsEval = _copy_params(self.params)
        print('DONE (t={:0.2f}s).'.format(time.time() - tic))

    def accumulate(self, p=None):
        """Precision/recall curves per (IoU, category, area, maxDets) into ``eval``."""
        print('Accumulating evaluation results...')
        tic = time.time()
        if self._state is None:
            print('Please run evaluate() first')
            raise InvalidAnnotationError("accumulate(): run evaluate() first")
        if p is None:
            p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        st = self._state
        rec_thrs = np.asarray(p.recThrs, dtype=np.float64)
        precision, recall, scores = engine.coco_accumulate(
            st["tables"], st["matches"], st["iou_thrs"], rec_thrs, st["max_dets"], st["area_rng"],
            num_threads=self.num_threads)
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
        stats, lines = engine.summarize(self.eval['precision'], self.eval['recall'], p.iouThrs,
                                        p.areaRngLbl, p.maxDets, p.iouType)
        for line in lines:
            print(line)
        self.stats = stats

    def per_class(self):
        """Per-category AP, AP50, AP75, APs/m/l and AR (at the last maxDets) from
        ``eval``, as a structured array (fastap only; see
        :func:`fastap.engine.per_class_table`)."""
        if not self.eval:
            raise InvalidAnnotationError("per_class(): run accumulate() first")
        p = self.params
        cats = p.catIds if p.useCats else [-1]
        return engine.per_class_table(self.eval['precision'], self.eval['recall'], cats, p.iouThrs,
                                      p.areaRngLbl, p.maxDets)

    # -- reports from the same pass (fastap only; fastap.report, fastap.plots) -----------------
    def _report_pass(self):
        st = self._state
        if st is None:
            return None
        if "_pass" not in st:
            from .report import _Pass
            p = self._paramsEval
            names = None
            cats = getattr(self.cocoGt, "cats", None)
            if cats:
                names = {c: v.get("name", c) for c, v in cats.items()}
            st["_pass"] = _Pass(st["tables"], st["matches"], st["gt"], st["dt"], st["iou_thrs"], p.recThrs,
                                st["max_dets"], st["area_rng"], p.areaRngLbl, p.useCats, self.num_threads, names)
        return st["_pass"]

    def _need_pass(self, what):
        if self._state is None:
            raise InvalidAnnotationError("%s(): run evaluate() first" % what)

    def operating_points(self, iou_threshold=0.5, area="all", max_dets=None):
        """Precision / recall / F1 at every score threshold and the best-F1 point, per
        category and overall (fastap only): :func:`fastap.report.operating_points`."""
        from .report import operating_points
        self._need_pass("operating_points")
        return operating_points(self, iou_threshold, area, max_dets)

    def confusion_matrix(self, iou_threshold=0.5, score_threshold=0.25):
        """(K+1) x (K+1) confusion matrix with background (fastap only):
        :func:`fastap.report.confusion_matrix`."""
        from .report import confusion_matrix
        self._need_pass("confusion_matrix")
        return confusion_matrix(self, iou_threshold, score_threshold)

    def error_analysis(self, pos_threshold=0.5, bg_threshold=0.1, area="all", max_dets=None):
        """TIDE-style error types and dAP (fastap only): :func:`fastap.report.error_analysis`."""
        from .report import error_analysis
        self._need_pass("error_analysis")
        return error_analysis(self, pos_threshold, bg_threshold, area, max_dets)

    def plot(self, directory, **kw):
        """Write the report PNGs into `directory` (fastap only; needs matplotlib:
        ``pip install fastap[plot]``): :func:`fastap.plots.plot_all`. Returns the paths."""
        from .plots import plot_all
        self._need_pass("plot")
        return plot_all(self, directory, **kw)

    def __str__(self):
        self.summarize()
        return ""

    # -- evalImgs, built only when read ---------------------------------------------------
    @property
    def evalImgs(self):
        if self._evalImgs is None:
            self._evalImgs = self._build_eval_imgs() if self._state is not None else []
        return self._evalImgs

    @evalImgs.setter
    def evalImgs(self, value):
        self._evalImgs = value

    def _build_eval_imgs(self):
        """pycocotools' per-(category, area range, image) dicts, in its order."""
        st = self._state
        p = self._paramsEval
        tables, gt, dt = st["tables"], st["gt"], st["dt"]
        details = engine.coco_match(tables, st["iou_thrs"], st["max_dets"], st["area_rng"], details=True,
                                    num_threads=self.num_threads)
        dt_match = np.concatenate([d["dt_match"] for d in details], axis=1)
        T = dt_match.shape[1]
        dt_ign = np.concatenate([((d["dt_ignore"][:, None, :] >> np.arange(min(32, T - 32 * i), dtype=np.uint32)[None, :, None]) & 1)
                                 for i, d in enumerate(details)], axis=1).astype(bool)
        gt_ign = details[0]["gt_ignore"]
        gt_ids = np.take(gt["id"], tables.gt_index)
        dt_ids = np.take(dt["id"], tables.dt_index)
        dt_scores = np.take(dt["score"], tables.dt_index)
        cut = st["max_dets"][-1]
        cat_list = p.catIds if p.useCats else [-1]
        I, A = len(p.imgIds), len(p.areaRng)
        out = [None] * (len(cat_list) * A * I)
        g_off = tables.core.arrays[0]
        d_off = tables.core.arrays[6]
        n_cat = tables.core.n_cat
        for k in range(n_cat):
            gs, ge = int(g_off[k]), int(g_off[k + 1])
            ds_, de = int(d_off[k]), int(d_off[k + 1])
            imgs = np.union1d(tables.gt_img[gs:ge], tables.dt_img[ds_:de])
            g_start = gs + np.searchsorted(tables.gt_img[gs:ge], imgs, "left")
            g_end = gs + np.searchsorted(tables.gt_img[gs:ge], imgs, "right")
            d_start = ds_ + np.searchsorted(tables.dt_img[ds_:de], imgs, "left")
            d_end = ds_ + np.searchsorted(tables.dt_img[ds_:de], imgs, "right")
            for j, img in enumerate(imgs.tolist()):
                g0, g1, d0, d1 = int(g_start[j]), int(g_end[j]), int(d_start[j]), int(d_end[j])
                d1 = min(d1, d0 + cut)
                for a in range(A):
                    ig = gt_ign[a, g0:g1]
                    order = np.argsort(ig, kind="mergesort")
                    gidx = g0 + order
                    gpos = {int(g): n for n, g in enumerate(gidx.tolist())}
                    D, G = d1 - d0, g1 - g0
                    dtm = np.zeros((T, D))
                    gtm = np.zeros((T, G))
                    m = dt_match[a, :, d0:d1]
                    for t in range(T):
                        for r in np.flatnonzero(m[t] >= 0).tolist():
                            g = int(m[t, r])
                            dtm[t, r] = gt_ids[g]
                            gtm[t, gpos[g]] = dt_ids[d0 + r]
                    out[k * A * I + a * I + img] = {
                        'image_id': p.imgIds[img],
                        'category_id': cat_list[k],
                        'aRng': p.areaRng[a],
                        'maxDet': cut,
                        'dtIds': dt_ids[d0:d1].tolist(),
                        'gtIds': gt_ids[gidx].tolist(),
                        'dtMatches': dtm,
                        'gtMatches': gtm,
                        'dtScores': dt_scores[d0:d1].tolist(),
                        'gtIgnore': ig[order].astype(int) if G else np.array([]),
                        'dtIgnore': dt_ign[a, :, d0:d1],
                    }
        return out
