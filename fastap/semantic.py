"""Semantic segmentation metrics: a K x K confusion matrix counted in C, and the numbers
derived from it.

Definitions (mmsegmentation's ``IoUMetric``, dataset level: intersections and unions are
summed over every pixel of every image before any division). With ``C`` the confusion
matrix (int64 [K, K], rows = ground truth, columns = prediction, over the pixels whose
ground truth is not ``ignore_index``), ``I = diag(C)``, ``G = C.sum(1)`` (ground-truth
pixels per class), ``P = C.sum(0)`` (predicted pixels per class):

* ``iou = I / (G + P - I)``; ``miou`` = the mean over the classes whose IoU is not NaN;
* ``dice = 2 I / (G + P)`` (the Dice coefficient ``2|A n B| / (|A| + |B|)``; mmsegmentation's
  ``mDice``); ``mdice`` likewise;
* ``acc = I / G`` (per-class accuracy, i.e. recall); ``macc`` likewise;
* ``aacc = sum(I) / sum(G)`` (pixel accuracy, mmsegmentation's ``aAcc``);
* ``fwiou = sum(G / sum(G) * iou)`` over the classes with an IoU (frequency-weighted IoU).

A class absent from both the ground truth and the prediction (``G + P == 0``) has a NaN IoU
and Dice and is left out of the means (``np.nanmean``); a class absent from the ground
truth alone has a NaN accuracy and an IoU of 0. ``reduce_zero_label`` is mmsegmentation's:
ground-truth label 0 becomes 255 and every other label ``v`` becomes ``v - 1`` (254 -> 255),
before ``ignore_index`` is applied.

``average="per_sample"`` gives instead the per-image averaging of torchmetrics'
``MeanIoU``: each image's IoU (and Dice) per class, over the classes with a non-zero union
in that image; ``iou[k]`` (``dice[k]``) is the mean over the images where class k occurs
(torchmetrics ``MeanIoU(per_class=True)``), and ``miou`` (``mdice``) the mean over every
(image, class) pair with a non-zero union (``MeanIoU()``, its default). Accuracies and
``fwiou`` stay dataset-level. The per-image counts are kept (3 K integers per image), so
memory grows with the number of images in that mode only; sums over images use
``math.fsum``, so a merge in any order gives the same number.

Inputs: NumPy arrays or torch tensors (converted when given; torch is never imported here),
any integer dtype (bool for binary masks: ``num_classes=2``), one map ``[H, W]`` or a batch
``[N, H, W]``; predictions as labels of the same shape, or as logits / probabilities
``[C, H, W]`` / ``[N, C, H, W]`` (float16/32/64) whose argmax over C (the first maximum,
as ``np.argmax``) is the label. Counting is one pass over the pixels in C, in parallel.
"""
from __future__ import annotations

import math
import os
import warnings

import numpy as np

from . import _core
from .errors import FastapWarning, InvalidAnnotationError, InvalidFileError, InvalidOptionError, InvalidTypeError

__all__ = ["SemanticEvaluator", "SemanticResult", "evaluate_semantic", "metrics_from_confusion",
           "read_label_map", "evaluate_folders"]

AVERAGES = ("dataset", "per_sample")


def _as_numpy(x, name):
    """A NumPy view of x: ndarray as is, a torch tensor through .numpy() (on the CPU),
    bool as uint8, float16 as float32."""
    if type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach"):
        x = x.detach()
        if x.dtype.is_floating_point and x.element_size() < 4:        # float16, bfloat16
            x = x.float()
        x = x.cpu().numpy()
    elif not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as e:
            raise InvalidTypeError("%s should be an array (NumPy or torch), got %s" % (name, type(x).__name__)) from e
    if not x.dtype.isnative:
        x = x.astype(x.dtype.newbyteorder("="))          # big-endian arrays, e.g. read from a file
    if x.dtype == np.bool_:
        x = x.view(np.uint8)
    elif x.dtype == np.float16:
        x = x.astype(np.float32)
    return x


def _batch(pred, target, num_classes):
    """(pred, target) shaped for the binding: target [N, H, W]; pred [N, H, W] labels or
    [N, C, H, W] scores."""
    t = _as_numpy(target, "target")
    p = _as_numpy(pred, "pred")
    if t.ndim not in (2, 3):
        raise InvalidAnnotationError("target should be a label map [H, W] or a batch [N, H, W], got shape %s"
                                     % (t.shape,))
    single = t.ndim == 2
    if single:
        t = t[None]
        p = p[None]
    if p.ndim == t.ndim + 1:
        if p.dtype.kind != "f":
            raise InvalidTypeError("pred with a class axis ([N, C, H, W] or [C, H, W]) should hold float scores "
                                   "(logits or probabilities), got dtype %s" % p.dtype)
        if p.shape[1] != num_classes:
            raise InvalidAnnotationError("pred scores have %d classes (axis C of %s), num_classes is %d"
                                         % (p.shape[1], "[C, H, W]" if single else "[N, C, H, W]", num_classes))
    elif p.ndim == t.ndim and p.dtype.kind == "f":
        raise InvalidTypeError("pred of the target's shape should hold integer labels, got dtype %s (scores need "
                               "a class axis: [N, C, H, W] or [C, H, W])" % p.dtype)
    return p, t


def _check_options(num_classes, ignore_index, average):
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise InvalidOptionError("num_classes should be an integer >= 1, got %r" % (num_classes,))
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise InvalidOptionError("ignore_index should be an integer, got %r" % (ignore_index,))
    if average not in AVERAGES:
        raise InvalidOptionError("average should be one of %s, got %r" % (", ".join(AVERAGES), average))


def _divide(a, b):
    """a / b in float64, NaN where b == 0 (0 / 0), without a warning."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.full(np.broadcast(a, b).shape, np.nan)
    np.divide(a, b, out=out, where=b != 0)
    return out


def _nanmean(x):
    x = np.asarray(x, dtype=np.float64)
    return float(np.nanmean(x)) if np.any(~np.isnan(x)) else float("nan")


def metrics_from_confusion(confusion):
    """The dataset-level metrics of a confusion matrix (int [K, K], rows = ground truth,
    columns = prediction), as a dict: per-class ``iou``, ``dice``, ``acc`` (float64 [K]),
    ``gt_pixels``, ``pred_pixels`` (int64 [K]), and ``miou``, ``mdice``, ``macc``, ``aacc``,
    ``fwiou`` (floats). mmsegmentation ``IoUMetric`` definitions (see the module's
    docstring); NaN for a class without pixels, left out of the means."""
    c = np.asarray(confusion, dtype=np.int64)
    inter = np.diagonal(c).copy()
    gt = c.sum(axis=1)
    pr = c.sum(axis=0)
    iou = _divide(inter, gt + pr - inter)
    dice = _divide(2 * inter, gt + pr)
    acc = _divide(inter, gt)
    total = gt.sum()
    aacc = float(inter.sum() / total) if total else float("nan")
    has = ~np.isnan(iou)
    fwiou = float(np.sum(gt[has] / total * iou[has])) if total else float("nan")
    return {"iou": iou, "dice": dice, "acc": acc, "gt_pixels": gt, "pred_pixels": pr,
            "miou": _nanmean(iou), "mdice": _nanmean(dice), "macc": _nanmean(acc), "aacc": aacc, "fwiou": fwiou}


def _per_sample(counts):
    """torchmetrics' per-image averaging from int64 [N, 3, K] (intersection, ground-truth
    and predicted pixels per image and class): (iou [K], dice [K], miou, mdice)."""
    K = counts.shape[2]
    inter, gt, pr = counts[:, 0].astype(np.float64), counts[:, 1], counts[:, 2]
    union = gt + pr - counts[:, 0]
    valid = union > 0
    iou_img = _divide(inter, union)
    dice_img = _divide(2 * inter, gt + pr)
    iou = np.full(K, np.nan)
    dice = np.full(K, np.nan)
    for k in np.flatnonzero(valid.any(axis=0)).tolist():
        v = valid[:, k]
        iou[k] = math.fsum(iou_img[v, k].tolist()) / int(v.sum())
        dice[k] = math.fsum(dice_img[v, k].tolist()) / int(v.sum())
    n = int(valid.sum())
    miou = math.fsum(iou_img[valid].tolist()) / n if n else float("nan")
    mdice = math.fsum(dice_img[valid].tolist()) / n if n else float("nan")
    return iou, dice, miou, mdice


class SemanticResult:
    """Semantic segmentation metrics (see :mod:`fastap.semantic` for each definition).

    Attributes: ``confusion`` int64 [K, K] (rows = ground truth, columns = prediction);
    per class (float64 [K], NaN where undefined): ``iou``, ``dice``, ``acc``; int64 [K]:
    ``gt_pixels``, ``pred_pixels``; means: ``miou``, ``mdice``, ``macc``, ``aacc`` (pixel
    accuracy), ``fwiou``; ``average`` ("dataset": mmsegmentation's ``IoUMetric``, or
    "per_sample": torchmetrics' ``MeanIoU`` for iou/dice/miou/mdice); ``class_names``.
    """

    def __init__(self, confusion, average="dataset", per_image=None, class_names=None):
        self.confusion = np.asarray(confusion, dtype=np.int64)
        self.average = average
        m = metrics_from_confusion(self.confusion)
        if average == "per_sample":
            m["iou"], m["dice"], m["miou"], m["mdice"] = _per_sample(per_image)
        for k, v in m.items():
            setattr(self, k, v)
        K = self.confusion.shape[0]
        self.class_names = [str(i) for i in range(K)] if class_names is None else [str(n) for n in class_names]

    def table(self):
        """Per-class rows as a structured array: class (index), name, iou, dice, acc,
        gt_pixels, pred_pixels."""
        K = len(self.iou)
        width = max([1] + [len(n) for n in self.class_names])
        t = np.zeros(K, dtype=[("class", np.int64), ("name", "U%d" % width), ("iou", np.float64),
                               ("dice", np.float64), ("acc", np.float64), ("gt_pixels", np.int64),
                               ("pred_pixels", np.int64)])
        t["class"] = np.arange(K)
        t["name"] = self.class_names
        for f in ("iou", "dice", "acc", "gt_pixels", "pred_pixels"):
            t[f] = getattr(self, f)
        return t

    def to_dict(self):
        """JSON-ready: the means, the per-class rows (NaN as None) and the confusion matrix."""
        def num(v):
            return None if isinstance(v, float) and math.isnan(v) else v
        rows = [{k: num(r[k].item()) for k in r.dtype.names} for r in self.table()]
        return {"average": self.average, "miou": num(self.miou), "mdice": num(self.mdice), "macc": num(self.macc),
                "aacc": num(self.aacc), "fwiou": num(self.fwiou), "per_class": rows,
                "confusion": self.confusion.tolist()}

    def format(self):
        """The per-class table (IoU, Dice, Acc in percent) and the means, as text."""
        w = max(5, max(len(n) for n in self.class_names))
        lines = ["%-*s %8s %8s %8s %12s" % (w, "class", "IoU", "Dice", "Acc", "gt_pixels")]
        for r in self.table():
            lines.append("%-*s %8s %8s %8s %12d" % (w, r["name"], _pct(r["iou"]), _pct(r["dice"]),
                                                     _pct(r["acc"]), r["gt_pixels"]))
        lines.append("mIoU %s  mDice %s  mAcc %s  aAcc %s  fwIoU %s  (average: %s)"
                     % (_pct(self.miou), _pct(self.mdice), _pct(self.macc), _pct(self.aacc), _pct(self.fwiou),
                        self.average))
        return "\n".join(lines)

    def __repr__(self):
        return "SemanticResult(K=%d, miou=%.4f, mdice=%.4f, aacc=%.4f, average=%r)" % (
            len(self.iou), self.miou, self.mdice, self.aacc, self.average)


def _pct(v):
    return "nan" if math.isnan(v) else "%.2f" % (100.0 * v)


class SemanticEvaluator:
    """Streaming semantic segmentation evaluation: ``update(pred, target)`` per batch,
    ``compute()`` -> :class:`SemanticResult`.

    num_classes: K; labels are 0 .. K-1. ignore_index (default 255): ground-truth value
    whose pixels are not counted. reduce_zero_label: mmsegmentation's (ground truth 0 ->
    255, v -> v - 1). average: "dataset" (default; mmsegmentation's ``IoUMetric``: sums
    over the whole dataset, then ratios) or "per_sample" (torchmetrics' ``MeanIoU``: IoU
    per image, then averaged; see :mod:`fastap.semantic`). class_names: optional, for the
    table. num_threads: threads of the C counting (default: fastap's policy).

    The state is integer counts (the K x K confusion matrix, and per-image counts for
    "per_sample"), so ``merge()`` of partial evaluators is exact in any order; pickles.
    """

    def __init__(self, num_classes, ignore_index=255, reduce_zero_label=False, average="dataset",
                 class_names=None, num_threads=None):
        _check_options(num_classes, ignore_index, average)
        if not 1 <= num_classes <= _core.SEMANTIC_MAX_CLASSES:
            raise InvalidOptionError("num_classes should be an integer in [1, %d], got %d"
                                     % (_core.SEMANTIC_MAX_CLASSES, num_classes))
        if class_names is not None and len(class_names) != num_classes:
            raise InvalidOptionError("class_names has %d names, num_classes is %d" % (len(class_names), num_classes))
        self.num_classes = int(num_classes)
        self.ignore_index = int(ignore_index)
        self.reduce_zero_label = bool(reduce_zero_label)
        self.average = average
        self.class_names = None if class_names is None else list(class_names)
        self.num_threads = num_threads
        self.reset()

    def reset(self):
        """Forget every update."""
        self.confusion = np.zeros((self.num_classes, self.num_classes), np.int64)
        self.num_images = 0
        self._image_counts = []          # per_sample: int64 [n, 3, K] per update

    def update(self, pred, target):
        """Count one batch: target [N, H, W] or [H, W] integer labels (bool: 0/1); pred
        labels of the same shape, or scores [N, C, H, W] / [C, H, W] (argmax over C).
        Raises InvalidAnnotationError naming the image and pixel of a label outside
        [0, K) (that is not ignore_index) or a NaN score; nothing is counted then."""
        p, t = _batch(pred, target, self.num_classes)
        per = self.average == "per_sample"
        conf, images = _core.semantic_confusion(t, p, self.num_classes, self.ignore_index, self.reduce_zero_label,
                                                per, self.num_threads)
        if per:
            self._image_counts.append(np.stack([np.diagonal(images, axis1=1, axis2=2), images.sum(axis=2),
                                                images.sum(axis=1)], axis=1))
        self.confusion += conf
        self.num_images += t.shape[0]
        return self

    def _same_setup(self, other):
        if not isinstance(other, SemanticEvaluator):
            raise InvalidTypeError("merge() takes a SemanticEvaluator, got %s" % type(other).__name__)
        mine = (self.num_classes, self.ignore_index, self.reduce_zero_label, self.average)
        theirs = (other.num_classes, other.ignore_index, other.reduce_zero_label, other.average)
        if mine != theirs:
            raise InvalidOptionError("merge() of evaluators with different settings (num_classes, ignore_index, "
                                     "reduce_zero_label, average): %s and %s" % (mine, theirs))

    def merge(self, other):
        """Add another evaluator's counts (same settings). Exact: integer sums. Returns self."""
        self._same_setup(other)
        self.confusion += other.confusion
        self.num_images += other.num_images
        self._image_counts.extend(other._image_counts)
        return self

    @classmethod
    def merge_all(cls, evaluators):
        """A new evaluator holding the counts of all of them (none is modified)."""
        evaluators = list(evaluators)
        if not evaluators:
            raise InvalidOptionError("merge_all() needs at least one SemanticEvaluator")
        first = evaluators[0]
        out = cls(first.num_classes, first.ignore_index, first.reduce_zero_label, first.average,
                  first.class_names, first.num_threads)
        for e in evaluators:
            out.merge(e)
        return out

    def compute(self):
        """The metrics of everything counted so far, a :class:`SemanticResult`."""
        per = None
        if self.average == "per_sample":
            per = (np.concatenate(self._image_counts) if self._image_counts
                   else np.zeros((0, 3, self.num_classes), np.int64))
        return SemanticResult(self.confusion, self.average, per, self.class_names)

    def __getstate__(self):
        st = dict(self.__dict__)
        st["_image_counts"] = [np.concatenate(self._image_counts)] if self._image_counts else []
        return st

    def __repr__(self):
        return "SemanticEvaluator(num_classes=%d, ignore_index=%d, reduce_zero_label=%s, average=%r, images=%d)" % (
            self.num_classes, self.ignore_index, self.reduce_zero_label, self.average, self.num_images)


def evaluate_semantic(pred, target, num_classes, ignore_index=255, reduce_zero_label=False, average="dataset",
                      class_names=None, num_threads=None):
    """One call: :class:`SemanticEvaluator` updated with (pred, target), computed."""
    ev = SemanticEvaluator(num_classes, ignore_index, reduce_zero_label, average, class_names, num_threads)
    return ev.update(pred, target).compute()


def read_label_map(path):
    """A PNG (or any single-channel image Pillow reads) as an integer label map [H, W]:
    palette ("P") images give their indices, "L" uint8, "I;16" uint16, "I" int32."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading label maps needs Pillow: pip install pillow") from None
    try:
        with Image.open(path) as im:
            if im.mode not in ("P", "L", "I;16", "I;16B", "I;16L", "I", "1"):
                raise InvalidFileError("%s: a label map should be a single-channel image (mode P, L, I;16 or I), "
                                       "got mode %s" % (path, im.mode))
            a = np.array(im)
    except (OSError, SyntaxError) as e:
        raise InvalidFileError("%s: cannot be read as an image (%s)" % (path, e)) from None
    return a.astype(np.uint8) if a.dtype == np.bool_ else a


def _label_files(directory, what):
    if not os.path.isdir(directory):
        raise InvalidFileError("%s: the %s folder does not exist" % (directory, what))
    return sorted(f for f in os.listdir(directory) if f.lower().endswith(".png"))


def evaluate_folders(gt_dir, pred_dir, num_classes, ignore_index=255, reduce_zero_label=False,
                     average="dataset", class_names=None, num_threads=None):
    """Evaluate the PNG label maps of pred_dir against those of gt_dir, matched by file
    name (each ground-truth file needs a prediction of the same name). One image at a time
    (memory: one pair of maps). Returns a :class:`SemanticResult`; a prediction without a
    ground truth gets a FastapWarning."""
    gts = _label_files(gt_dir, "ground-truth")
    preds = set(_label_files(pred_dir, "prediction"))
    if not gts:
        raise InvalidFileError("%s: no PNG label maps in the ground-truth folder" % gt_dir)
    missing = [f for f in gts if f not in preds]
    if missing:
        raise InvalidFileError("%s: no prediction for %d ground-truth file(s), e.g. %s"
                               % (pred_dir, len(missing), missing[0]))
    extra = sorted(preds.difference(gts))
    if extra:
        warnings.warn(FastapWarning("%s: %d prediction file(s) without a ground truth are not evaluated, e.g. %s"
                                    % (pred_dir, len(extra), extra[0]), records=len(extra)), stacklevel=2)
    ev = SemanticEvaluator(num_classes, ignore_index, reduce_zero_label, average, class_names, num_threads)
    for name in gts:
        g = read_label_map(os.path.join(gt_dir, name))
        p = read_label_map(os.path.join(pred_dir, name))
        if g.shape != p.shape:
            raise InvalidFileError("%s: prediction size %s differs from the ground truth's %s"
                                   % (os.path.join(pred_dir, name), p.shape, g.shape))
        try:
            ev.update(p, g)
        except InvalidAnnotationError as e:
            raise InvalidFileError("%s (ground truth %s): %s" % (os.path.join(pred_dir, name),
                                                                os.path.join(gt_dir, name),
                                                                str(e).replace("image 0, ", ""))) from None
    return ev.compute()
