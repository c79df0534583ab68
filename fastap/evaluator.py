"""Streaming, mergeable evaluation: :class:`Evaluator`.

Two ways to feed it:

* **dataset mode** — the ground truth is known up front (a COCO file, dict or
  :class:`fastap.COCO`); ``update(results)`` takes COCO results for any subset of the
  images (a list of dicts, an (N, 7) array, a path, or columns). All detections of an
  image must come in the same ``update`` (an image seen twice is an error: its greedy
  matching needs all of them at once).
* **free mode** (the torchmetrics shape) — no dataset; ``update(preds, target)`` per
  batch with one dict per image (``boxes``, ``scores``, ``labels``; ``boxes``,
  ``labels`` and optionally ``iscrowd``/``area``), NumPy arrays or torch tensors.

The state is compact: per detection, its category and image, its rank in the image,
its score and its true/false-positive bits per area range and IoU threshold (about 40
bytes with the default 4 area ranges), plus the counts of non-ignored ground truths.
Raw inputs are buffered only until ``flush_images`` images are pending, then matched.

States merge exactly: ``compute()`` orders the stored results by (category, image,
rank) before accumulating, so any split of the images, merged in any order, gives the
bitwise identical arrays of a single-process evaluation (and of pycocotools).
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import zipfile
import zlib

import numpy as np

from . import _core
from .adapters.cocodata import COCO, columns_of
from .adapters.records import result_columns, to_numpy
from .api import make_coco_result
from .checks import declared_ids, warn_empty, warn_orphan_categories, warn_unknown_categories
from .columns import IdIndex, check_box_format, dt_columns, gt_columns, id_column, index_of, param_ids, unique_ids
from .errors import InvalidAnnotationError, InvalidFileError, InvalidTypeError
from .params import Params, check_iou_type
from .protocols.coco import check_params, coco_accumulate, coco_match, threshold_chunks
from .tables import Tables, build_tables

__all__ = ["Evaluator"]

BYTES_PER_DETECTION_NOTE = (
    "per stored detection: image id 8 B, category id 8 B, score 8 B, rank 4 B, and a "
    "4-byte true-positive and false-positive mask per area range and block of 32 IoU "
    "thresholds (32 B with 4 area ranges): 60 B with the defaults")


def _fingerprint(gt):
    h = hashlib.sha256()
    for k in ("id", "image_id", "category_id", "bbox", "area", "iscrowd"):
        h.update(np.ascontiguousarray(gt[k]).tobytes())
    return h.hexdigest()[:32]


_PARAM_KEYS = ("iouThrs", "recThrs", "maxDets", "areaRng", "areaRngLbl", "useCats")


class Evaluator:
    """Streaming COCO (bbox) evaluation whose partial states merge exactly.

    Parameters
    ----------
    gt : path, dict, fastap.COCO, mapping of arrays, or None
        Ground truth (dataset mode): a COCO file or dataset, or columns
        (``image_id``, ``category_id``, ``bbox`` [G, 4] in ``box_format``, optional
        ``iscrowd``, ``area``, ``id``; the evaluated images and categories then default
        to those present). None for free mode.
    iou_type : {"bbox"}, optional
    params : fastap.Params, optional
        COCOeval parameters (copied); otherwise pycocotools' defaults, with
        ``imgIds``/``catIds`` from the ground truth. Also editable as ``ev.params``
        before the first ``update``.
    box_format : {"xywh", "xyxy", "cxcywh"}, optional
        "xywh" (COCO) | "xyxy" | "cxcywh" — free mode inputs and columnar ground truth.
    num_threads : int, optional
        Threads for the C kernels (default: all cores).
    flush_images : int, optional
        Images buffered before matching (bounds the memory of raw inputs).
    """

    def __init__(self, gt=None, iou_type="bbox", params=None, box_format="xywh",
                 num_threads=None, flush_images=16384):
        check_iou_type(iou_type, "iou_type")
        if iou_type != "bbox":
            raise NotImplementedError("fastap.Evaluator evaluates iou_type='bbox' for now, got %r" % (iou_type,))
        check_box_format(box_format)
        self.iou_type = iou_type
        self.box_format = box_format
        self.num_threads = num_threads
        self.flush_images = int(flush_images)
        self.params = copy.deepcopy(params) if params is not None else Params("bbox")
        self._gt = None
        self._gt_cats = None        # the ground truth's categories (results of others are warned about)
        self.dataset_mode = gt is not None
        if gt is not None and hasattr(gt, "keys") and "image_id" in gt:
            # columnar ground truth (see fastap.columns.gt_columns)
            self._gt = gt_columns({k: to_numpy(v) for k, v in gt.items()}, self.box_format)
            self._gt_fp = _fingerprint(self._gt)
            self._gt_cats = unique_ids(self._gt["category_id"])
            if not len(self.params.imgIds):
                self.params.imgIds = np.unique(self._gt["image_id"]).tolist()
            if not len(self.params.catIds):
                self.params.catIds = np.unique(self._gt["category_id"]).tolist()
        elif gt is not None:
            if not isinstance(gt, COCO) and not hasattr(gt, "dataset"):
                with contextlib.redirect_stdout(io.StringIO()):
                    gt = COCO(gt)
            # like COCOeval: the evaluated images and categories default to the dataset's
            if params is None or not len(self.params.imgIds):
                self.params.imgIds = sorted(gt.getImgIds())
            if params is None or not len(self.params.catIds):
                self.params.catIds = sorted(gt.getCatIds())
            self._gt = columns_of(gt, "gt", iou_type="bbox")
            self._gt_fp = _fingerprint(self._gt)
            self._gt_cats = declared_ids(getattr(gt, "cats", None))
        self.reset()

    # -- state ------------------------------------------------------------------------
    def reset(self):
        """Forget every update (keeps the ground truth and the parameters)."""
        self._parts = []            # list of dicts of per-detection arrays
        self._images = []           # arrays of the image ids evaluated, per part
        self._npig = {}             # free mode: category id -> int64 [A]
        self._buf_dt = []
        self._buf_gt = []
        self._buf_ids = []          # image ids of the buffered updates
        self._buf_imgs = 0
        self._next_image = 0
        self._auto_ids = None       # free mode: images numbered by the Evaluator (True) or given
        self._frozen = None         # parameters fixed at the first update

    def _freeze(self):
        if self._frozen is None:
            p = self.params
            iou, rec, md, ar = check_params(p.iouThrs, p.recThrs, p.maxDets, p.areaRng)
            self._frozen = {"iouThrs": iou, "recThrs": rec, "maxDets": md, "areaRng": ar,
                            "areaRngLbl": list(p.areaRngLbl), "useCats": int(bool(p.useCats))}
            if self.dataset_mode:
                self._frozen["imgIds"] = np.unique(param_ids("params", "imgIds", p.imgIds))
                cats = param_ids("params", "catIds", p.catIds)
                self._frozen["catIds"] = np.unique(cats) if p.useCats else cats
                self._frozen["npig"] = self._dataset_npig()
        return self._frozen

    # -- updates ----------------------------------------------------------------------
    def update(self, preds, target=None, image_ids=None):
        """Add results.

        Dataset mode: ``update(results)`` — COCO results (path, list of dicts, (N, 7)
        array or mapping of arrays) for a set of complete images.

        Free mode: ``update(preds, target)`` — lists with one dict per image:
        ``preds[i]`` with ``boxes`` [D, 4], ``scores`` [D], ``labels`` [D];
        ``target[i]`` with ``boxes`` [G, 4], ``labels`` [G] and optional ``iscrowd``,
        ``area``; boxes in ``box_format``. ``image_ids`` (optional, one per image)
        gives the images' ids; by default images are numbered in the order they come.
        """
        f = self._freeze()
        if self.dataset_mode:
            if target is not None:
                raise InvalidTypeError("Evaluator(gt) takes update(results); the ground truth is known")
            if self._gt is None:
                raise InvalidAnnotationError(
                    "this Evaluator was unpickled without its ground truth; create Evaluator(gt) "
                    "and merge() this one into it")
            cols = result_columns(preds)
            imgs = np.unique(cols["image_id"])
            if f.get("img_index") is None:
                f["img_index"] = IdIndex(f["imgIds"])
            pos, ok = f["img_index"](imgs)
            if not ok.all():
                i = int(np.flatnonzero(cols["image_id"] == imgs[~ok][0])[0])
                raise InvalidAnnotationError("results record %d: image_id %d is not an evaluated image of the "
                                             "ground truth" % (i, cols["image_id"][i]))
            self._warn_unknown_categories(cols["category_id"], f)
            self._check_new_images(imgs, pos)
            self._buf_dt.append(cols)
            self._buf_ids.append(imgs)
            self._images.append(imgs)
            self._buf_imgs += imgs.shape[0]
        else:
            self._update_free(preds, target, image_ids)
        if self._buf_imgs >= self.flush_images:
            self.flush()
        return self

    def _warn_unknown_categories(self, cat, f):
        """Results whose categories are neither the ground truth's nor listed in
        ``params.catIds``: an UnknownIdsWarning, once per Evaluator."""
        gt_cats = getattr(self, "_gt_cats", None)
        if gt_cats is None:
            return
        if f.get("known_cats") is None:
            f["known_cats"] = unique_ids(np.concatenate([gt_cats, f["catIds"]]))
        warn_unknown_categories(cat, f["known_cats"], "results", owner=self)

    def _check_new_images(self, imgs, pos=None):
        if self.dataset_mode:
            # a flag per evaluated image: O(batch) per update
            f = self._freeze()
            if f.get("img_index") is None:
                f["img_index"] = IdIndex(f["imgIds"])
            if f.get("seen") is None:
                f["seen"] = np.zeros(f["imgIds"].shape[0], bool)
                for im in self._images:
                    f["seen"][f["img_index"](im)[0]] = True
            ok = None
            if pos is None:
                pos, ok = f["img_index"](imgs)
                pos = pos[ok]
            if f["seen"][pos].any():
                dup = (imgs if ok is None else imgs[ok])[f["seen"][pos]]
                raise InvalidAnnotationError(
                    "image %d was already evaluated by an earlier update or merge; all detections of "
                    "an image must come in one update" % dup[0])
            f["seen"][pos] = True
            return
        if self._images:
            seen = np.concatenate(self._images)
            dup = np.intersect1d(seen, imgs)
            if dup.shape[0]:
                raise InvalidAnnotationError(
                    "image %d was already evaluated by an earlier update or merge; all detections of "
                    "an image must come in one update" % dup[0])

    def _update_free(self, preds, target, image_ids):
        if target is None:
            raise InvalidTypeError("free mode: update(preds, target) needs the targets "
                                   "(or create Evaluator(gt) for a known dataset)")
        if hasattr(preds, "keys") and hasattr(target, "keys") and "image_id" in preds and "image_id" in target:
            return self._update_flat(preds, target)
        if hasattr(preds, "keys") and hasattr(target, "keys"):        # one image
            preds, target = [preds], [target]
            image_ids = None if image_ids is None else np.atleast_1d(to_numpy(image_ids))
        if not isinstance(preds, (list, tuple)) or not isinstance(target, (list, tuple)):
            raise InvalidTypeError("preds and target should be lists with one dict per image, got %s and %s"
                                   % (type(preds).__name__, type(target).__name__))
        if len(preds) != len(target):
            raise InvalidAnnotationError("preds and target should have one entry per image: %d vs %d"
                                         % (len(preds), len(target)))
        n = len(preds)
        if self._auto_ids is not None and self._auto_ids != (image_ids is None):
            raise InvalidAnnotationError("give image_ids in every update or in none")
        self._auto_ids = image_ids is None
        if image_ids is None:
            ids = np.arange(self._next_image, self._next_image + n, dtype=np.int64)
            self._next_image += n
        else:
            ids = id_column("update", "image_ids", to_numpy(image_ids).reshape(-1), n)
            if np.unique(ids).shape[0] != n:
                raise InvalidAnnotationError("image_ids should be unique within an update")
            self._next_image = max(self._next_image, int(ids.max()) + 1) if n else self._next_image
        self._check_new_images(ids)

        def cat(items, key, i_what, required=True, dtype=None, shape=None):
            out = []
            for i, d in enumerate(items):
                if not hasattr(d, "keys"):
                    raise InvalidTypeError("%s[%d] should be a dict, got %s" % (i_what, i, type(d).__name__))
                if key not in d:
                    if required:
                        raise InvalidAnnotationError("%s[%d]: missing key '%s'" % (i_what, i, key))
                    return None
                v = to_numpy(d[key])
                if shape == 4:
                    v = v.reshape(-1, 4) if v.size or v.ndim != 2 else v.reshape(0, 4)
                out.append(v.reshape(-1) if shape is None else v)
            if not out:
                return np.zeros((0, 4)) if shape == 4 else np.zeros(0)
            return np.concatenate(out)

        pb = cat(preds, "boxes", "preds", shape=4)
        counts_d = [int(to_numpy(p["boxes"]).reshape(-1, 4).shape[0]) for p in preds]
        counts_g = [int(to_numpy(t["boxes"]).reshape(-1, 4).shape[0]) for t in target]
        dt = {"image_id": np.repeat(ids, counts_d), "bbox": pb, "score": cat(preds, "scores", "preds"),
              "category_id": cat(preds, "labels", "preds")}
        gt = {"image_id": np.repeat(ids, counts_g), "bbox": cat(target, "boxes", "target", shape=4),
              "category_id": cat(target, "labels", "target")}
        crowd = cat(target, "iscrowd", "target", required=False)
        if crowd is not None:
            gt["iscrowd"] = crowd
        area = cat(target, "area", "target", required=False)
        if area is not None:
            gt["area"] = area
        self._buf_dt.append(dt_columns(dt, self.box_format, what="preds"))
        self._buf_gt.append(gt_columns(gt, self.box_format, what="target"))
        self._buf_ids.append(ids)
        self._images.append(ids)
        self._buf_imgs += n

    def _update_flat(self, preds, target):
        """Free mode with flat arrays: preds {image_id, boxes | bbox, scores | score,
        labels | category_id}, target {image_id, boxes | bbox, labels | category_id,
        optional iscrowd, area}; the images are those named in either."""
        def pick(d, *names, required=True):
            for n in names:
                if n in d:
                    return to_numpy(d[n])
            if required:
                raise InvalidAnnotationError("missing key %s" % " / ".join(repr(n) for n in names))
            return None
        dt = {"image_id": pick(preds, "image_id"), "bbox": pick(preds, "boxes", "bbox"),
              "score": pick(preds, "scores", "score"), "category_id": pick(preds, "labels", "category_id")}
        gt = {"image_id": pick(target, "image_id"), "bbox": pick(target, "boxes", "bbox"),
              "category_id": pick(target, "labels", "category_id"),
              "iscrowd": pick(target, "iscrowd", required=False), "area": pick(target, "area", required=False)}
        dtc = dt_columns(dt, self.box_format, what="preds")
        gtc = gt_columns(gt, self.box_format, what="target")
        if self._auto_ids:
            raise InvalidAnnotationError("give image_ids in every update or in none")
        self._auto_ids = False
        ids = np.union1d(dtc["image_id"], gtc["image_id"])
        self._check_new_images(ids)
        self._next_image = max(self._next_image, int(ids.max()) + 1) if ids.shape[0] else self._next_image
        self._buf_dt.append(dtc)
        self._buf_gt.append(gtc)
        self._buf_ids.append(ids)
        self._images.append(ids)
        self._buf_imgs += ids.shape[0]

    # -- matching ---------------------------------------------------------------------
    def flush(self):
        """Match the buffered updates now (``update`` does it every ``flush_images``
        images; ``compute``, ``merge`` and pickling do it first)."""
        if not self._buf_ids:
            return
        f = self._freeze()
        dt = _concat_cols(self._buf_dt, ("image_id", "category_id", "bbox", "score", "area"))
        imgs = np.concatenate(self._buf_ids)
        if self.dataset_mode:
            gt = self._gt
            cats = f["catIds"]
        else:
            gt = _concat_cols(self._buf_gt, ("id", "image_id", "category_id", "bbox", "area", "iscrowd", "ignore"))
            gt["id"] = np.arange(1, gt["image_id"].shape[0] + 1, dtype=np.int64)
            cats = np.union1d(gt["category_id"], dt["category_id"])
        tables = build_tables(gt, dt, imgs, cats, bool(f["useCats"]))
        matches = coco_match(tables, f["iouThrs"], f["maxDets"], f["areaRng"],
                                    num_threads=self.num_threads)
        # the matched tables are already in (category, image, rank) order: keep their
        # arrays as the part, without gathering anything
        n = tables.dt_index.shape[0]
        off = tables.core.dt_off
        part = {"image_id": np.take(tables.img_ids, tables.dt_img),
                "category_id": np.repeat(tables.cat_ids if f["useCats"] else np.array([-1], np.int64),
                                         np.diff(off)) if n else np.zeros(0, np.int64),
                "rank": matches[0]["dt_rank"],
                "score": tables.core.dt_score,
                "tp": matches[0]["dt_tp"] if len(matches) == 1 else np.concatenate([m["dt_tp"] for m in matches]),
                "fp": matches[0]["dt_fp"] if len(matches) == 1 else np.concatenate([m["dt_fp"] for m in matches])}
        cut = part["rank"] >= f["maxDets"][-1]
        if cut.any():          # detections past the per-image cut are never evaluated
            keep = ~cut
            part = {k: v[..., keep] for k, v in part.items()}
        self._parts.append(part)
        if not self.dataset_mode:
            npig = matches[0]["npig"]
            for k, c in enumerate(tables.cat_ids.tolist()):
                self._npig[c] = self._npig.get(c, 0) + npig[k]
        self._buf_dt, self._buf_gt, self._buf_ids, self._buf_imgs = [], [], [], 0

    def fresh(self):
        """A new, empty Evaluator with this one's ground truth and parameters (for a
        worker or a shard); cheap: the ground-truth columns are shared."""
        ev = Evaluator.__new__(Evaluator)
        ev.__dict__.update(self.__dict__)
        ev.params = copy.deepcopy(self.params)
        ev.reset()
        return ev

    # -- merging ----------------------------------------------------------------------
    def _comparable(self, other):
        if not isinstance(other, Evaluator):
            raise InvalidTypeError("merge() takes an Evaluator, got %s" % type(other).__name__)
        if self.dataset_mode != other.dataset_mode:
            raise InvalidAnnotationError("cannot merge a dataset-mode Evaluator with a free-mode one")
        if self.dataset_mode and self._gt_fp != other._gt_fp:
            raise InvalidAnnotationError("cannot merge Evaluators over different ground truths")
        a, b = self._freeze(), other._freeze()
        for k in _PARAM_KEYS + (("imgIds", "catIds") if self.dataset_mode else ()):
            if not np.array_equal(np.asarray(a[k], dtype=object if k == "areaRngLbl" else None),
                                  np.asarray(b[k], dtype=object if k == "areaRngLbl" else None)):
                raise InvalidAnnotationError("cannot merge Evaluators with different params.%s" % k)

    def merge(self, other):
        """Add another Evaluator's results (same ground truth and parameters, other
        images). Returns self.

        In free mode with images numbered by the Evaluators (no ``image_ids``), the
        other's images are renumbered to follow this one's, as if its updates had come
        after; give ``image_ids`` (e.g. dataset indices) for a result that does not
        depend on the merge order."""
        self._comparable(other)
        self.flush()
        other.flush()
        images, parts = other._images, other._parts
        if not self.dataset_mode and self._auto_ids and other._auto_ids:
            shift = self._next_image
            images = [im + shift for im in images]
            parts = [{**p, "image_id": p["image_id"] + shift} for p in parts]
            self._next_image += other._next_image
        elif not self.dataset_mode and None not in (self._auto_ids, other._auto_ids) \
                and self._auto_ids != other._auto_ids:
            raise InvalidAnnotationError("cannot merge an Evaluator with given image_ids and one without")
        else:
            self._next_image = max(self._next_image, other._next_image)
        if self._auto_ids is None:
            self._auto_ids = other._auto_ids
        for imgs in images:
            self._check_new_images(imgs)
            self._images.append(imgs)
        self._parts.extend(dict(p) for p in parts)     # own dicts: compute() edits them
        for c, v in other._npig.items():
            self._npig[c] = self._npig.get(c, 0) + v
        return self

    def without_images(self, img_ids):
        """A new Evaluator (dataset mode) holding this one's results except those on the
        images ``img_ids`` (int [n]); it still evaluates over the same images (see
        :meth:`evaluated_on`). For merging states that evaluated some images twice (a
        ``DistributedSampler`` pads the last batch with repeats): drop them from all but
        one. This Evaluator is not changed."""
        if not self.dataset_mode:
            raise InvalidAnnotationError("without_images() needs a dataset-mode Evaluator (in free mode the "
                                         "ground truth of each image is not kept apart)")
        drop = np.asarray(img_ids, dtype=np.int64).reshape(-1)
        st = self.__getstate__()
        keep = ~np.isin(st["part"]["image_id"], drop)
        st["part"] = {k: v[..., keep] for k, v in st["part"].items()}
        st["images"] = st["images"][~np.isin(st["images"], drop)]
        return self._from_state(st)

    def evaluated_on(self, img_ids):
        """A new Evaluator (dataset mode) holding this one's results, evaluated over the
        images ``img_ids`` (pycocotools' ``params.imgIds``: the ground truth of exactly
        these images counts, whether results came for them or not). This Evaluator is
        not changed."""
        if not self.dataset_mode:
            raise InvalidAnnotationError("evaluated_on() needs a dataset-mode Evaluator")
        if self._gt is None:
            raise InvalidAnnotationError("evaluated_on() counts the ground truth of the images: give this "
                                         "unpickled Evaluator its ground truth first (attach())")
        sub = self.fresh()
        sub.params.imgIds = np.asarray(img_ids, dtype=np.int64).reshape(-1).tolist()
        frozen = sub._freeze()
        st = self.__getstate__()
        st["frozen"] = dict(st["frozen"], imgIds=frozen["imgIds"], npig=frozen["npig"])
        st["params"] = copy.deepcopy(sub.params)
        return self._from_state(st)

    def _from_state(self, st):
        out = Evaluator.__new__(Evaluator)
        out.__setstate__(st)
        out._gt = self._gt
        return out

    @classmethod
    def merge_all(cls, states):
        """Merge a sequence of Evaluators into a new one (the first is not modified)."""
        states = list(states)
        if not states:
            raise InvalidAnnotationError("merge_all() needs at least one Evaluator")
        out = copy.copy(states[0])
        out.__setstate__(states[0].__getstate__())
        out._gt = states[0]._gt
        for s in states[1:]:
            out.merge(s)
        return out

    # -- results ----------------------------------------------------------------------
    def _npig_array(self, cat_ids):
        f = self._freeze()
        A = f["areaRng"].shape[0]
        if not self.dataset_mode:
            return np.array([self._npig.get(c, np.zeros(A, np.int64)) for c in cat_ids.tolist()],
                            dtype=np.int64).reshape(-1, A)
        return f["npig"]

    def _dataset_npig(self):
        """Non-ignored ground truths per (category, area range) over every evaluated
        image, as pycocotools counts them, whether or not results come for an image:
        the counts of a matching of the ground truth against no detection (the ignore
        rule is applied where it lives, in the C matching)."""
        f, gt = self._frozen, self._gt
        none = dt_columns({"image_id": np.zeros(0, np.int64), "category_id": np.zeros(0, np.int64),
                           "bbox": np.zeros((0, 4)), "score": np.zeros(0)})
        tables = build_tables(gt, none, f["imgIds"], f["catIds"], bool(f["useCats"]))
        return coco_match(tables, f["iouThrs"][:1], f["maxDets"], f["areaRng"],
                          num_threads=self.num_threads)[0]["npig"].astype(np.int64)

    def compute(self):
        """Accumulate everything added so far; returns an :class:`fastap.EvalResult`
        (``stats``, named metrics, ``precision``/``recall``/``scores``, per-class AP)."""
        self.flush()
        f = self._freeze()
        part = self._all_parts()
        n = part["image_id"].shape[0]
        if self.dataset_mode:
            img_ids = f["imgIds"]
            cat_ids = f["catIds"] if f["useCats"] else np.array([-1], np.int64)
        else:
            img_ids = np.unique(np.concatenate(self._images)) if self._images else np.zeros(0, np.int64)
            cat_ids = np.array(sorted(set(self._npig) | set(np.unique(part["category_id"]).tolist())), np.int64)
            if not f["useCats"]:
                cat_ids = np.array([-1], np.int64)
        npig = self._npig_array(cat_ids)
        K = cat_ids.shape[0]
        ip = index_of(np.unique(img_ids), part["image_id"])[0].astype(np.int32)
        kp = index_of(np.sort(cat_ids), part["category_id"])[0]
        if K:
            kp = np.argsort(cat_ids, kind="stable").astype(np.int32)[kp]
        kp = kp.astype(np.int32, copy=False)
        self._check_compute(n, npig, cat_ids, kp)
        key = kp.astype(np.int64) * max(img_ids.shape[0], 1) + ip
        if n < 2 or bool((key[1:] >= key[:-1]).all()):
            # already in (category, image, rank) order (one flush, or computed before)
            off = np.searchsorted(kp, np.arange(K + 1, dtype=np.int32)).astype(np.int64)
            dt_img = ip
        else:
            order, off = _core.group(kp, K, ip, max(img_ids.shape[0], 1), None)
            dt_img = np.take(ip, order)
            # put the stored results in (category, image, rank) order, in place: one
            # field at a time, so the peak is the state plus one field (and later
            # computes find them in order)
            for k in ("image_id", "category_id", "rank", "score", "tp", "fp"):
                part[k] = np.take(part[k], order, axis=-1)
            del order
        del kp, ip, key
        tables = _core.CocoTables(K, np.zeros(K + 1, np.int64), np.zeros(0, np.int32), np.zeros((0, 4)),
                                  np.zeros(0), np.zeros(0, np.uint8), np.zeros(0, np.uint8),
                                  off, dt_img, np.zeros((n, 4)), np.zeros(n), part["score"])
        A = f["areaRng"].shape[0]
        npig = np.ascontiguousarray(npig, dtype=np.int64)
        matches = [{"dt_tp": part["tp"][c * A:(c + 1) * A], "dt_fp": part["fp"][c * A:(c + 1) * A],
                    "dt_rank": part["rank"], "npig": npig}
                   for c in range(len(threshold_chunks(f["iouThrs"].shape[0])))]
        wrapper = Tables(tables, None, None, None, None, img_ids, cat_ids, cat_ids)
        precision, recall, scores = coco_accumulate(wrapper, matches, f["iouThrs"], f["recThrs"],
                                                           f["maxDets"], f["areaRng"],
                                                           num_threads=self.num_threads)
        return make_coco_result(precision, recall, scores, f, cat_ids, img_ids)

    def _check_compute(self, n, npig, cat_ids, kp):
        """The warnings of a computation (fastap.checks): no detections at all; in free
        mode, detections whose categories no target has (from the counts per category;
        the detections are counted per category only when some category has none)."""
        if not npig.any():
            return
        if n == 0:
            warn_empty("results" if self.dataset_mode else "preds")
            return
        has_gt = npig.max(axis=1) > 0
        if not self.dataset_mode and self._frozen["useCats"] and not has_gt.all():
            warn_orphan_categories(cat_ids, has_gt.astype(np.int64), np.bincount(kp, minlength=cat_ids.shape[0]),
                                   "preds")

    def _all_parts(self):
        f = self._freeze()
        rows = f["areaRng"].shape[0] * len(threshold_chunks(f["iouThrs"].shape[0]))
        if not self._parts:
            return {"image_id": np.zeros(0, np.int64), "category_id": np.zeros(0, np.int64),
                    "rank": np.zeros(0, np.int32), "score": np.zeros(0),
                    "tp": np.zeros((rows, 0), np.uint32), "fp": np.zeros((rows, 0), np.uint32)}
        if len(self._parts) > 1:
            # one field at a time, dropping the pieces of a field once it is joined:
            # the peak is the state plus one field, not twice the state
            out = {}
            for k in ("image_id", "category_id", "rank", "score", "tp", "fp"):
                out[k] = np.concatenate([p[k] for p in self._parts], axis=1 if k in ("tp", "fp") else 0)
                for p in self._parts:
                    del p[k]
            self._parts = [out]
        return self._parts[0]

    # -- persistence ------------------------------------------------------------------
    def __getstate__(self):
        self.flush()
        part = self._all_parts()
        f = self._freeze()
        return {"version": 1, "dataset_mode": self.dataset_mode, "iou_type": self.iou_type,
                "box_format": self.box_format, "num_threads": self.num_threads,
                "flush_images": self.flush_images, "params": self.params,
                "frozen": {k: v for k, v in f.items() if k not in ("seen", "img_index", "known_cats")},
                "gt_fingerprint": getattr(self, "_gt_fp", None),
                "part": part,
                "images": np.concatenate(self._images) if self._images else np.zeros(0, np.int64),
                "npig": {int(k): np.asarray(v) for k, v in self._npig.items()},
                "next_image": self._next_image, "auto_ids": self._auto_ids}

    def __setstate__(self, st):
        self.dataset_mode = st["dataset_mode"]
        self.iou_type = st["iou_type"]
        self.box_format = st["box_format"]
        self.num_threads = st["num_threads"]
        self.flush_images = st["flush_images"]
        self.params = st["params"]
        self._gt = None
        self._gt_fp = st["gt_fingerprint"]
        self.reset()
        self._frozen = dict(st["frozen"])
        self._parts = [dict(st["part"])] if st["part"]["image_id"].shape[0] else []
        self._images = [st["images"]] if st["images"].shape[0] else []
        self._npig = dict(st["npig"])
        self._next_image = st["next_image"]
        self._auto_ids = st.get("auto_ids")

    def detach(self):
        """Drop the ground truth (a state to send elsewhere, which :meth:`attach` can
        give it back); the results stay. Returns self."""
        self._gt = None
        return self

    def attach(self, gt_evaluator):
        """Give an unpickled dataset-mode Evaluator the ground truth of another one
        over the same data, so that it can take updates again."""
        if gt_evaluator._gt_fp != self._gt_fp:
            raise InvalidAnnotationError("different ground truth")
        self._gt = gt_evaluator._gt
        return self

    def save(self, path):
        """Write the state to an ``.npz`` file (arrays + parameters as JSON)."""
        st = self.__getstate__()
        f = st["frozen"]
        meta = {"version": 1, "dataset_mode": st["dataset_mode"], "iou_type": st["iou_type"],
                "box_format": st["box_format"], "flush_images": st["flush_images"],
                "gt_fingerprint": st["gt_fingerprint"], "next_image": st["next_image"],
                "auto_ids": st["auto_ids"],
                "areaRngLbl": f["areaRngLbl"], "useCats": f["useCats"],
                "npig_cats": sorted(st["npig"])}
        arrays = {"iouThrs": f["iouThrs"], "recThrs": f["recThrs"], "maxDets": np.asarray(f["maxDets"]),
                  "areaRng": f["areaRng"], "images": st["images"],
                  "npig": np.array([st["npig"][c] for c in meta["npig_cats"]], np.int64).reshape(
                      len(meta["npig_cats"]), f["areaRng"].shape[0])}
        if st["dataset_mode"]:
            arrays["imgIds"], arrays["catIds"] = f["imgIds"], f["catIds"]
            arrays["dataset_npig"] = f["npig"]
        for k, v in st["part"].items():
            arrays["part_" + k] = v
        np.savez(path, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path):
        """Read a state written by :meth:`save` (never unpickles: ``allow_pickle=False``).
        A file that is not such a state -- another format, a damaged ``.npz``, an array
        or a field missing or of the wrong shape -- raises
        :class:`~fastap.errors.InvalidFileError` naming the file and what is wrong."""
        ev = cls.__new__(cls)
        ev.__setstate__(_read_state(path))
        return ev

    def nbytes(self):
        """Bytes held by the stored per-detection results (not counting buffers)."""
        return sum(a.nbytes for p in self._parts for a in p.values())


_PART_FIELDS = (("image_id", "i", 1), ("category_id", "i", 1), ("rank", "i", 1), ("score", "f", 1),
                ("tp", "u", 2), ("fp", "u", 2))
_PART_DTYPES = {"image_id": np.int64, "category_id": np.int64, "rank": np.int32, "score": np.float64,
                "tp": np.uint32, "fp": np.uint32}
_META_KEYS = ("version", "dataset_mode", "iou_type", "box_format", "flush_images", "gt_fingerprint", "next_image",
              "areaRngLbl", "useCats", "npig_cats")


def _npz_arrays(path, name):
    """Every array of an ``.npz`` file, read without unpickling; InvalidFileError
    naming the file otherwise."""
    what = "not a fastap Evaluator state (an .npz file written by Evaluator.save)"
    try:
        z = np.load(path, allow_pickle=False)
    except FileNotFoundError as e:
        raise InvalidFileError("%s: cannot read the file (%s)" % (name, e.strerror or e)) from None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, NotImplementedError) as e:
        reason = "it holds pickled data or is not NumPy's format" if "pickle" in str(e) else str(e) or type(e).__name__
        raise InvalidFileError("%s: %s: %s" % (name, what, reason)) from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise InvalidFileError("%s: %s: it holds a single array (.npy), not the arrays of a state" % (name, what))
    with z:
        out = {}
        for k in z.files:
            try:
                out[k] = z[k]
            except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error, NotImplementedError) as e:
                raise InvalidFileError("%s: %s: array '%s' cannot be read (%s)"
                                       % (name, what, k, str(e) or type(e).__name__)) from None
    return out


def _state_array(z, name, key, kind, ndim, dtype=None):
    """Array ``key`` of a state file, checked: present, of dtype kind ``kind`` (one of
    "i", "u", "f"; "i" also takes "u"), with ``ndim`` dimensions."""
    if key not in z:
        raise InvalidFileError("%s: not a complete fastap Evaluator state: missing array '%s' (a state written by "
                               "Evaluator.save has %s)" % (name, key, ", ".join(sorted(z))))
    a = z[key]
    kinds = "iu" if kind == "i" else kind
    if a.dtype.kind not in kinds or a.ndim != ndim:
        raise InvalidFileError("%s: Evaluator state: array '%s' should be a %dd %s array, got %s %s"
                               % (name, key, ndim, {"i": "integer", "u": "unsigned integer", "f": "float"}[kind],
                                  a.dtype, a.shape))
    return np.ascontiguousarray(a, dtype=dtype) if dtype is not None else a


def _read_state(path):
    """The state dict (see Evaluator.__getstate__) of a file written by Evaluator.save."""
    name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
    z = _npz_arrays(path, name)
    if "meta" not in z:
        raise InvalidFileError("%s: not a fastap Evaluator state: no 'meta' array (arrays: %s)"
                               % (name, ", ".join(sorted(z)) or "none"))
    try:
        meta = json.loads(str(z["meta"]))
    except ValueError as e:
        raise InvalidFileError("%s: Evaluator state: array 'meta' should hold JSON (%s)" % (name, e)) from None
    if not isinstance(meta, dict) or meta.get("version") != 1:
        raise InvalidFileError("%s: not a fastap Evaluator state of a version this fastap reads (version %r; "
                               "this fastap reads version 1)"
                               % (name, meta.get("version") if isinstance(meta, dict) else None))
    missing = [k for k in _META_KEYS if k not in meta]
    if missing:
        raise InvalidFileError("%s: Evaluator state: 'meta' lacks field '%s'" % (name, missing[0]))
    if meta["iou_type"] != "bbox" or not isinstance(meta["npig_cats"], list):
        raise InvalidFileError("%s: Evaluator state: 'meta' should have iou_type 'bbox' and a list npig_cats"
                               % name)
    iou = _state_array(z, name, "iouThrs", "f", 1, np.float64)
    rec = _state_array(z, name, "recThrs", "f", 1, np.float64)
    md = _state_array(z, name, "maxDets", "i", 1)
    if md.shape[0] < 1 or (md < 0).any() or (np.diff(md) < 0).any():
        raise InvalidFileError("%s: Evaluator state: array 'maxDets' should be non-negative and ascending, got %s"
                               % (name, md.tolist()[:20]))
    ar = _state_array(z, name, "areaRng", "f", 2, np.float64)
    A = ar.shape[0]
    rows = A * len(threshold_chunks(iou.shape[0]))
    part = {k: _state_array(z, name, "part_" + k, kind, nd, _PART_DTYPES[k]) for k, kind, nd in _PART_FIELDS}
    n = part["image_id"].shape[0]
    for k, _, nd in _PART_FIELDS:
        want = (rows, n) if nd == 2 else (n,)
        if part[k].shape != want:
            raise InvalidFileError("%s: Evaluator state: array 'part_%s' should have shape %s (%d stored detections, "
                                   "%d area ranges x blocks of IoU thresholds), got %s"
                                   % (name, k, want, n, rows, part[k].shape))
    npig = _state_array(z, name, "npig", "i", 2, np.int64)
    if npig.shape != (len(meta["npig_cats"]), A):
        raise InvalidFileError("%s: Evaluator state: array 'npig' should have shape %s, got %s"
                               % (name, (len(meta["npig_cats"]), A), npig.shape))
    p = Params("bbox")
    p.iouThrs, p.recThrs, p.maxDets, p.areaRng = iou, rec, md.tolist(), ar.tolist()
    p.areaRngLbl, p.useCats = meta["areaRngLbl"], meta["useCats"]
    frozen = {"iouThrs": iou, "recThrs": rec, "maxDets": md.tolist(), "areaRng": ar,
              "areaRngLbl": meta["areaRngLbl"], "useCats": meta["useCats"]}
    if meta["dataset_mode"]:
        frozen["imgIds"] = _state_array(z, name, "imgIds", "i", 1, np.int64)
        frozen["catIds"] = _state_array(z, name, "catIds", "i", 1, np.int64)
        frozen["npig"] = _state_array(z, name, "dataset_npig", "i", 2, np.int64)
        K = frozen["catIds"].shape[0] if meta["useCats"] else 1
        if frozen["npig"].shape not in ((K, A), (max(K, 1), A)):
            raise InvalidFileError("%s: Evaluator state: array 'dataset_npig' should have shape %s, got %s"
                                   % (name, (K, A), frozen["npig"].shape))
        p.imgIds, p.catIds = frozen["imgIds"].tolist(), frozen["catIds"].tolist()
    return {"dataset_mode": meta["dataset_mode"], "iou_type": meta["iou_type"], "box_format": meta["box_format"],
            "num_threads": None, "flush_images": meta["flush_images"], "params": p, "frozen": frozen,
            "gt_fingerprint": meta["gt_fingerprint"], "part": part,
            "images": _state_array(z, name, "images", "i", 1, np.int64),
            "npig": {c: npig[i] for i, c in enumerate(meta["npig_cats"])},
            "next_image": meta["next_image"], "auto_ids": meta.get("auto_ids")}


def _concat_cols(parts, keys, axis1=()):
    """Concatenate dicts of arrays along records (axis 1 for the keys in axis1)."""
    if len(parts) == 1:
        return {k: parts[0][k] for k in keys}
    return {k: np.concatenate([p[k] for p in parts], axis=1 if k in axis1 else 0) for k in keys}
