"""A drop-in for ``CocoEvaluator`` of torchvision's detection references
(``references/detection/coco_eval.py``, copied by DETR, Deformable DETR, DINO, RT-DETR,
...), with the numbers of the reference running pycocotools, bit for bit::

    from fastap.integrations.torchvision import CocoEvaluator

    coco_evaluator = CocoEvaluator(coco_gt, ["bbox", "segm"])     # coco_gt: a COCO object
    for images, targets in data_loader:
        outputs = model(images)
        coco_evaluator.update({t["image_id"]: o for t, o in zip(targets, outputs)})
    coco_evaluator.synchronize_between_processes()    # all ranks, when torch.distributed runs
    coco_evaluator.accumulate()
    coco_evaluator.summarize()                        # "IoU metric: bbox" + the 12 lines
    coco_evaluator.coco_eval["bbox"].stats            # pycocotools' 12 floats

``update(predictions)`` takes ``{image_id: {"boxes": [N, 4] xyxy, "scores": [N],
"labels": [N], "masks": [N, 1, H, W] probabilities (segm), "keypoints": [N, K, 3]
(keypoints)}}`` of torch tensors (NumPy arrays work too), as torchvision's models
return them. The conversion is the reference's: boxes to xywh by a subtraction in the
tensor's own dtype, masks thresholded at ``> 0.5`` and run-length encoded, keypoints
flattened.

How the state is kept and merged:

* ``bbox``: a streaming :class:`fastap.Evaluator` -- per detection its image, category,
  rank, score and match bits (about 60 bytes), no boxes and no per-image dicts.
  ``synchronize_between_processes()`` all-gathers these compact states
  (``torch.distributed.all_gather_object``, when a process group with more than one
  rank is initialised) and merges them; ``coco_eval["bbox"]`` is a
  :class:`fastap.COCOeval` whose ``accumulate()`` accumulates the merged state and
  fills ``eval`` (``precision``, ``recall``, ``scores``, ``params``, ``counts``), so
  ``summarize()`` and ``stats`` are pycocotools'. It keeps no ``evalImgs``
  (``eval_imgs["bbox"]`` stays empty).
* ``segm`` and ``keypoints``: the reference's flow on fastap's ``COCOeval``: per batch
  ``loadRes`` + ``evaluate()`` and the batch's ``evalImgs`` as a
  [K, A, images] object array (``eval_imgs[iou_type]``); the synchronisation
  all-gathers them and assigns the merged ``evalImgs``, ``params.imgIds`` and
  ``_paramsEval``, which ``accumulate()`` reads.

Images are counted once: the reference keeps the first occurrence of an image id
(``np.unique(..., return_index=True)`` over the merged ids), so an image that
``DistributedSampler`` pads onto two ranks, or that comes twice to one rank, is
evaluated with the detections of its first occurrence (lowest rank, earliest batch);
later ones are skipped before they are evaluated on the rank that sees them twice, and
dropped from the merged state across ranks. As in the reference, the evaluated images
are the images of the predictions (an image given with no detections counts, with its
ground truth), not every image of the ground truth.

Bad input raises fastap's errors: :class:`fastap.InvalidAnnotationError` (a
``ValueError``) for an unknown iou type, an image id that the ground truth does not
have, a missing key or a wrong shape (naming the image and the key);
:class:`fastap.InvalidTypeError` (a ``TypeError``) for arguments of the wrong type.

PyTorch is imported only when tensors are converted or ranks are merged; torchvision
is never needed.
"""
from __future__ import annotations

import contextlib
import copy
import datetime
import io
import time

import numpy as np

from .. import mask as mask_utils
from ..coco import COCO, COCOeval
from ..errors import InvalidAnnotationError, InvalidOptionError, InvalidTypeError
from ..evaluator import Evaluator

__all__ = ["CocoEvaluator", "StreamingCOCOeval"]

IOU_TYPES = ("bbox", "segm", "keypoints")
# the keys each iou type reads from one image's prediction (the reference's prepare_*)
REQUIRED_KEYS = {"bbox": ("boxes", "scores", "labels"),
                 "segm": ("scores", "labels", "masks"),
                 "keypoints": ("scores", "labels", "keypoints")}


def _quiet():
    return contextlib.redirect_stdout(io.StringIO())


class StreamingCOCOeval(COCOeval):
    """``coco_eval["bbox"]`` of :class:`CocoEvaluator`: a :class:`fastap.COCOeval` whose
    ``accumulate()`` reads the merged streaming state (a :class:`fastap.Evaluator`)
    instead of ``evalImgs``; ``eval``, ``params``, ``summarize()`` and ``stats`` are
    pycocotools'. ``stream`` holds the Evaluator, set by the CocoEvaluator."""

    def __init__(self, cocoGt=None, cocoDt=None, iouType="bbox", num_threads=None):
        super().__init__(cocoGt, cocoDt, iouType=iouType, num_threads=num_threads)
        self.stream = None

    def accumulate(self, p=None):
        """pycocotools' accumulate() of the images given to the CocoEvaluator."""
        if self.stream is None:
            return super().accumulate(p)
        print('Accumulating evaluation results...')
        tic = time.time()
        res = self.stream.compute()
        if p is None:
            p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        T, R, K, A, M = (int(n) for n in res.precision.shape)
        self.eval = {
            'params': p,
            'counts': [T, R, K, A, M],
            'date': datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S'),
            'precision': res.precision,
            'recall': res.recall,
            'scores': res.scores,
        }
        print('DONE (t={:0.2f}s).'.format(time.time() - tic))


def _as_tensor(value, image_id, key):
    import torch
    if isinstance(value, torch.Tensor):
        return value.detach()
    try:
        return torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError, RuntimeError):
        raise InvalidTypeError("predictions[%r][%r] should be a tensor, got %s"
                               % (image_id, key, type(value).__name__)) from None


def _check_rows(t, n, image_id, key, shape):
    if t.ndim != len(shape) or t.shape[0] != n or any(s is not None and t.shape[i] != s
                                                      for i, s in enumerate(shape) if i):
        want = "[%s]" % ", ".join("N" if i == 0 else ("*" if s is None else str(s)) for i, s in enumerate(shape))
        raise InvalidAnnotationError("predictions[%r][%r] should have shape %s with N = %d (the number of "
                                     "scores), got %s" % (image_id, key, want, n, list(t.shape)))


class CocoEvaluator:
    """torchvision's ``CocoEvaluator(coco_gt, iou_types)`` computed by fastap.

    Parameters
    ----------
    coco_gt : fastap.COCO or pycocotools.coco.COCO
        The ground truth (copied, as the reference does).
    iou_types : list or tuple of {"bbox", "segm", "keypoints"}

    Attributes (the reference's): ``coco_gt``, ``iou_types``, ``coco_eval`` (iou type ->
    COCOeval; its ``params`` may be edited before the first ``update``), ``img_ids``
    (every image id given, in order, repeats included), ``eval_imgs`` (iou type ->
    per-batch ``evalImgs`` arrays; after ``synchronize_between_processes()`` this rank's
    concatenation; empty for ``bbox``, which keeps a compact state instead).
    """

    def __init__(self, coco_gt, iou_types):
        if not isinstance(iou_types, (list, tuple)):
            raise InvalidTypeError("iou_types should be a list or a tuple, got %s" % type(iou_types).__name__)
        for t in iou_types:
            if t not in IOU_TYPES:
                raise InvalidOptionError("iou_types: unknown iou type %r; expected 'bbox', 'segm' or "
                                         "'keypoints'" % (t,))
        if not hasattr(coco_gt, "getImgIds") or not hasattr(coco_gt, "dataset"):
            raise InvalidTypeError("coco_gt should be a COCO object (fastap.COCO or pycocotools.coco.COCO), "
                                   "got %s" % type(coco_gt).__name__)
        self.coco_gt = copy.deepcopy(coco_gt)
        self.iou_types = iou_types
        # fastap's COCO for loadRes (the reference calls COCO.loadRes(coco_gt, ...) unbound)
        if isinstance(self.coco_gt, COCO):
            self._gt = self.coco_gt
        else:
            with _quiet():
                self._gt = COCO(self.coco_gt.dataset)
        self._gt_img_ids = np.unique(np.asarray(sorted(self.coco_gt.getImgIds()), dtype=np.int64))
        self.coco_eval = {}
        for t in iou_types:
            cls = StreamingCOCOeval if t == "bbox" else COCOeval
            self.coco_eval[t] = cls(self._gt, iouType=t)
        self.img_ids = []
        self.eval_imgs = {k: [] for k in iou_types}
        self._batches = {k: [] for k in iou_types}   # per-batch evalImgs arrays (segm, keypoints)
        self._batch_ids = []                           # per batch: the sorted ids evaluated (repeats skipped)
        self._seen = np.zeros(self._gt_img_ids.shape[0], bool)
        self._stream = None                            # the bbox Evaluator of this rank
        self._synced = False

    # -- update ---------------------------------------------------------------------------
    def update(self, predictions):
        """Evaluate one batch: ``{image_id: {"boxes", "scores", "labels", ...}}``."""
        if not hasattr(predictions, "keys"):
            raise InvalidTypeError("predictions should be a dict {image_id: {'boxes': ..., 'scores': ..., "
                                   "'labels': ...}}, got %s" % type(predictions).__name__)
        keys = list(predictions.keys())
        try:
            ids = np.array([int(k) for k in keys], dtype=np.int64)
        except (TypeError, ValueError):
            raise InvalidTypeError("predictions should be keyed by integer image ids, got %r"
                                   % ([k for k in keys if not isinstance(k, (int, np.integer))][:1],)) from None
        pos = np.searchsorted(self._gt_img_ids, ids)
        known = (pos < self._gt_img_ids.shape[0]) & (self._gt_img_ids[np.minimum(pos, self._gt_img_ids.shape[0] - 1)]
                                                     == ids) if self._gt_img_ids.shape[0] else np.zeros(ids.shape, bool)
        if not known.all():
            bad = ids[~known]
            raise InvalidAnnotationError(
                "predictions: %d image id(s) not in the ground truth (e.g. %d); key the predictions by the "
                "ground truth's image ids (target['image_id'])" % (bad.shape[0], bad[0]))
        # the first occurrence of an image counts (the reference's np.unique(return_index=True))
        _, first_in_batch = np.unique(ids, return_index=True)
        take = np.zeros(ids.shape, bool)
        take[first_in_batch] = True
        take &= ~self._seen[pos]
        items = [(int(ids[i]), predictions[keys[i]]) for i in np.flatnonzero(take)]
        # convert and check every iou type's input before any state changes
        prepared = {t: (self._columns(items) if t == "bbox" else self._results(t, items)) for t in self.iou_types}
        if items:
            batch_ids = np.unique(ids[take])
            if "bbox" in prepared:
                self._evaluator().update(prepared["bbox"])
            for t in self.iou_types:
                if t != "bbox":
                    self._evaluate_batch(t, prepared[t], batch_ids)
            self._batch_ids.append(batch_ids)
            self._seen[pos[take]] = True
        self.img_ids.extend(list(np.unique(ids)))
        self._synced = False

    def _columns(self, items, want_boxes=True):
        """Per image: checked tensors; returns the image ids repeated, labels, scores and
        (xywh float64) boxes as NumPy columns (no Python loop per detection)."""
        import torch
        img, labels, scores, boxes, counts = [], [], [], [], []
        for image_id, pred in items:
            if not hasattr(pred, "keys"):
                raise InvalidTypeError("predictions[%r] should be a dict with 'boxes', 'scores' and 'labels', got %s"
                                       % (image_id, type(pred).__name__))
            if len(pred) == 0:            # the reference skips an empty dict
                continue
            for key in REQUIRED_KEYS["bbox"] if want_boxes else ("scores", "labels"):
                if key not in pred:
                    raise InvalidAnnotationError("predictions[%r]: missing key %r (got %s)"
                                                 % (image_id, key, sorted(map(str, pred.keys()))))
            s = _as_tensor(pred["scores"], image_id, "scores").cpu()
            n = s.shape[0] if s.ndim == 1 else -1
            if n < 0:
                raise InvalidAnnotationError("predictions[%r]['scores'] should be a 1-D tensor [N], got shape %s"
                                             % (image_id, list(s.shape)))
            lab = _as_tensor(pred["labels"], image_id, "labels").cpu()
            _check_rows(lab, n, image_id, "labels", (None,))
            if want_boxes:
                b = _as_tensor(pred["boxes"], image_id, "boxes").cpu()
                _check_rows(b, n, image_id, "boxes", (None, 4))
                # the reference: (x1, y1, x2 - x1, y2 - y1) in the tensor's dtype, then to Python floats
                wh = b[:, 2:] - b[:, :2]
                boxes.append(torch.cat((b[:, :2], wh), dim=1).to(torch.float64).numpy())
            counts.append(n)
            img.append(np.full(n, image_id, np.int64))
            labels.append(lab.to(torch.int64).numpy())
            scores.append(s.to(torch.float64).numpy())
        cols = {"image_id": np.concatenate(img) if img else np.zeros(0, np.int64),
                "category_id": np.concatenate(labels) if labels else np.zeros(0, np.int64),
                "score": np.concatenate(scores) if scores else np.zeros(0)}
        if want_boxes:
            cols["bbox"] = np.concatenate(boxes).reshape(-1, 4) if boxes else np.zeros((0, 4))
        else:
            cols["counts"] = counts      # detections per non-empty image, in order
        return cols

    def _evaluator(self):
        if self._stream is None:
            p = copy.deepcopy(self.coco_eval["bbox"].params)
            p.imgIds = self._gt_img_ids.tolist()
            self._stream = Evaluator(self._gt, params=p)
        return self._stream

    def _results(self, iou_type, items):
        """COCO results (list of dicts) of segm / keypoints predictions, as the reference
        makes them."""
        cols = self._columns(items, want_boxes=False)
        counts = iter(cols["counts"])
        key = "masks" if iou_type == "segm" else "keypoints"
        results = []
        start = 0
        for image_id, pred in items:
            if len(pred) == 0:
                continue
            if key not in pred:
                raise InvalidAnnotationError("predictions[%r]: missing key %r (got %s)"
                                             % (image_id, key, sorted(map(str, pred.keys()))))
            n = next(counts)
            labels = cols["category_id"][start:start + n].tolist()
            scores = cols["score"][start:start + n].tolist()
            start += n
            v = _as_tensor(pred[key], image_id, key).cpu()
            if iou_type == "segm":
                if v.ndim != 4 or v.shape[0] != n or v.shape[1] < 1:
                    raise InvalidAnnotationError("predictions[%r]['masks'] should have shape [N, 1, H, W] with N = %d "
                                                 "(the number of scores), got %s" % (image_id, n, list(v.shape)))
                if n == 0:
                    continue
                # the reference: masks > 0.5, channel 0, as Fortran-ordered uint8 [H, W, N]
                m = (v > 0.5)[:, 0].numpy()
                rles = mask_utils.encode(np.asfortranarray(m.transpose(1, 2, 0).astype(np.uint8)))
                for rle in rles:
                    rle["counts"] = rle["counts"].decode("utf-8")
                results.extend({"image_id": image_id, "category_id": labels[k], "segmentation": rles[k],
                                "score": scores[k]} for k in range(n))
            else:
                if v.ndim != 3 or v.shape[0] != n:
                    raise InvalidAnnotationError("predictions[%r]['keypoints'] should have shape [N, K, 3] with N = %d "
                                                 "(the number of scores), got %s" % (image_id, n, list(v.shape)))
                kps = v.flatten(start_dim=1).tolist() if n else []
                results.extend({"image_id": image_id, "category_id": labels[k], "keypoints": kps[k],
                                "score": scores[k]} for k in range(n))
        return results

    def _evaluate_batch(self, iou_type, results, batch_ids):
        """The reference's flow: loadRes, evaluate(), the batch's evalImgs as [K, A, I]."""
        ev = self.coco_eval[iou_type]
        with _quiet():
            ev.cocoDt = COCO.loadRes(self._gt, results) if results else COCO()
            ev.params.imgIds = list(batch_ids)
            ev.evaluate()
        p = ev.params
        self._batches[iou_type].append(
            np.asarray(ev.evalImgs).reshape(-1, len(p.areaRng), len(p.imgIds)))
        self.eval_imgs[iou_type] = list(self._batches[iou_type])

    # -- merging ----------------------------------------------------------------------------
    def _local_payload(self):
        ids = np.concatenate(self._batch_ids) if self._batch_ids else np.zeros(0, np.int64)
        payload = {"ids": ids}
        for t in self.iou_types:
            if t == "bbox":
                payload[t] = self._evaluator()
            else:
                b = self._batches[t]
                payload[t] = np.concatenate(b, 2) if b else None
        return payload

    def synchronize_between_processes(self):
        """Merge the states of every rank (``torch.distributed.all_gather_object`` when a
        process group of more than one rank is initialised; this process alone
        otherwise). Every rank must call it. Afterwards each rank holds the merged
        evaluation."""
        payload = self._local_payload()
        gathered = [payload]
        try:
            import torch.distributed as dist
        except ImportError:
            dist = None
        if dist is not None and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            gathered = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, payload)
        self._merge(gathered)
        for t in self.iou_types:
            if t != "bbox":
                self.eval_imgs[t] = payload[t] if payload[t] is not None else []
        self._synced = True

    def _merge(self, gathered):
        all_ids = np.concatenate([g["ids"] for g in gathered])
        if all_ids.shape[0] == 0:
            raise InvalidAnnotationError("CocoEvaluator: no predictions were given on any rank; call update() "
                                         "before synchronize_between_processes() / accumulate()")
        img_ids, first = np.unique(all_ids, return_index=True)
        for t in self.iou_types:
            ev = self.coco_eval[t]
            if t == "bbox":
                ev.stream = self._merge_streams([g["bbox"] for g in gathered], [g["ids"] for g in gathered],
                                                img_ids)
            else:
                parts = [g[t] for g in gathered if g[t] is not None]
                merged = np.concatenate(parts, 2)[..., first]
                ev.evalImgs = list(merged.flatten())
            ev.params.imgIds = list(img_ids)
            ev._paramsEval = copy.deepcopy(ev.params)

    def _merge_streams(self, states, ids_per_rank, img_ids):
        """One Evaluator of every rank's results, each image from the first rank that
        evaluated it, over the evaluated images ``img_ids``."""
        earlier = np.zeros(0, np.int64)
        parts = []
        local = self._evaluator()
        for ev, ids in zip(states, ids_per_rank):
            if ev is not local:
                ev.attach(local)                    # unpickled from another rank
            if earlier.shape[0]:
                ev = ev.without_images(earlier)
            if not np.array_equal(img_ids, self._gt_img_ids):
                ev = ev.evaluated_on(img_ids)       # the ground-truth counts of these images
            parts.append(ev)
            earlier = np.union1d(earlier, ids)
        return Evaluator.merge_all(parts)

    # -- results ----------------------------------------------------------------------------
    def accumulate(self):
        """pycocotools' accumulate() of each iou type (of the merged state after
        ``synchronize_between_processes()``; of this process's images otherwise)."""
        if not self._synced:
            self._merge([self._local_payload()])
            self._synced = True
        for coco_eval in self.coco_eval.values():
            coco_eval.accumulate()

    def summarize(self):
        """Print "IoU metric: <type>" and pycocotools' summary of each iou type; sets
        ``coco_eval[iou_type].stats``."""
        for iou_type, coco_eval in self.coco_eval.items():
            print("IoU metric: {}".format(iou_type))
            coco_eval.summarize()
