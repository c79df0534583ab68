"""The array API: :func:`evaluate` and its result, :class:`EvalResult`.

Columns in (mappings of arrays, or :class:`fastap.COCO` objects), metrics out:
columns (:mod:`fastap.columns`) -> tables (:mod:`fastap.tables`) -> geometry for masks
and keypoints (:mod:`fastap.geometry`) -> the protocol (:mod:`fastap.protocols`) ->
an :class:`EvalResult`. The :class:`fastap.COCOeval` facade, the CLI, the streaming
:class:`fastap.Evaluator` and the benchmarks are thin layers over the same pipeline.
"""
from __future__ import annotations

import csv
from collections.abc import Mapping

import numpy as np

from .adapters.cocodata import COCO, columns_of, iou_attacher, rotated_pass_inputs
from .checks import check_arrays_pass, check_arrays_voc, warn, warn_empty
from .columns import (box_column, check_box_format, dt_columns, float_column, gt_columns, param_ids, rotated_dt_columns,
                      rotated_gt_columns, sorted_ids_list, unique_ids)
from .errors import FastapWarning, IgnoredArgumentWarning, InvalidAnnotationError, InvalidOptionError, InvalidTypeError
from .evalpass import run_pass
from .geometry import DILATION_RATIO, attach_boundary_iou, attach_oks, attach_rle_iou, attach_rotated_iou, keypoint_result_boxes, rles_from_objects, segm_result_boxes
from .params import Params, check_iou_type
from .protocols.coco import (KPT_STAT_NAMES, STAT_NAMES, check_params, per_class_means, per_class_table,
                             resolve_params, summarize)
from .protocols import lvis as lvis_protocol
from .protocols.dota import dota_ap, dota_columns
from .protocols.voc import voc_ap, voc_map
from .reports.orchestrate import ReportMethods
from .tables import build_tables

__all__ = ["evaluate", "evaluate_pass", "accumulate", "EvalResult", "make_coco_result", "table_to_csv",
           "evaluate_dota"]


class EvalResult(ReportMethods):
    """Result of :func:`evaluate`.

    COCO protocol: ``precision`` float64 [T, R, K, A, M], ``recall`` float64
    [T, K, A, M], ``scores`` float64 [T, R, K, A, M] (pycocotools' ``eval`` arrays),
    ``stats`` float64[12] (pycocotools' ``stats``), the named metrics ``map``,
    ``map50``, ``map75``, ``map_small``, ``map_medium``, ``map_large``, ``ar_1``,
    ``ar_10``, ``ar_100``, ``ar_small``, ``ar_medium``, ``ar_large`` (as attributes and
    in ``metrics``), ``per_class_ap`` / ``per_class_ar`` (dict category id -> AP over the
    IoU thresholds, area "all", the last maxDets; NaN where the category has no ground
    truth) and ``summary`` (the summarize() lines).

    VOC protocols: ``map`` (mean over categories with ground truth), ``per_class_ap``,
    ``ap`` float64 [K], ``n_pos`` int64 [K], ``cat_ids``.

    Reports of the same pass (COCO protocol): :meth:`operating_points`,
    :meth:`confusion_matrix`, :meth:`error_analysis`, :meth:`plot`; the pass itself is
    ``eval_pass`` (:class:`fastap.evalpass.EvalPass`).
    """

    def __init__(self, protocol, **fields):
        self.protocol = protocol
        self.__dict__.update(fields)

    def __getattr__(self, name):
        metrics = self.__dict__.get("metrics", {})
        if name in metrics:
            return metrics[name]
        raise AttributeError(name)

    def per_class(self):
        """COCO protocol: per-category metrics as a structured array (see
        :func:`fastap.protocols.coco.per_class_table`); sort it with ``np.sort(t, order="ap")``."""
        p = self.params
        if self.protocol == "lvis":
            return lvis_protocol.per_class_table(self.precision, self.recall, self.cat_ids, self.frequency,
                                                 p["iouThrs"], p["areaRngLbl"])
        return per_class_table(self.precision, self.recall, self.cat_ids, p["iouThrs"], p["areaRngLbl"],
                               p["maxDets"])

    def to_csv(self, path):
        """Write :meth:`per_class` as CSV."""
        table_to_csv(self.per_class(), path)

    def to_dict(self):
        """JSON-ready dict of the scalar metrics and per-class APs."""
        d = {"protocol": self.protocol, "metrics": {k: float(v) for k, v in self.metrics.items()},
             "per_class_ap": {str(k): (None if np.isnan(v) else float(v)) for k, v in self.per_class_ap.items()}}
        if self.protocol == "coco":
            d["stats"] = [float(x) for x in self.stats]
            d["per_class_ar"] = {str(k): (None if np.isnan(v) else float(v)) for k, v in self.per_class_ar.items()}
        return d

    def __repr__(self):
        m = ", ".join("%s=%.4f" % (k, v) for k, v in list(self.metrics.items())[:4])
        return "EvalResult(protocol=%r, %s)" % (self.protocol, m)



def table_to_csv(table, path_or_file):
    """Write a structured array (e.g. :func:`per_class_table`) as CSV with a header;
    NaN is written as an empty cell."""
    close = isinstance(path_or_file, (str, bytes)) or hasattr(path_or_file, "__fspath__")
    f = open(path_or_file, "w", newline="") if close else path_or_file
    try:
        w = csv.writer(f)
        w.writerow(table.dtype.names)
        for row in table.tolist():
            w.writerow(["" if isinstance(v, float) and np.isnan(v) else repr(v) if isinstance(v, float) else v
                        for v in row])
    finally:
        if close:
            f.close()


def evaluate(gt, dt, protocol="coco", iou_thresholds=None, rec_thresholds=None, max_dets=None,
             area_ranges=None, area_labels=None, img_ids=None, cat_ids=None, use_cats=True,
             box_format="xywh", iou_threshold=None, plus_one=None, num_threads=None,
             iou_type="bbox", image_sizes=None, kpt_oks_sigmas=None, dilation_ratio=None):
    """Evaluate detections against ground truth given as NumPy arrays.

    The COCO protocol is :func:`evaluate_pass` (pycocotools' ``evaluate()``) followed by
    :func:`accumulate` (``accumulate()`` and ``summarize()``).

    Parameters
    ----------
    gt : mapping of arrays
        ``image_id`` int[G], ``category_id`` int[G], ``bbox`` float[G, 4],
        optional ``iscrowd`` [G], ``area`` float[G] (default w*h), ``id`` int[G],
        ``ignore`` [G] (COCO: no effect, pycocotools replaces it by iscrowd; VOC:
        marks "difficult" together with iscrowd). Also accepted: a ``fastap.COCO``.
    dt : mapping of arrays
        ``image_id`` int[D], ``category_id`` int[D], ``bbox`` float[D, 4],
        ``score`` float[D]. Also accepted: a ``fastap.COCO`` from ``loadRes``.
    protocol : {"coco", "lvis", "voc", "voc07"}, optional
        "coco" (pycocotools' numbers, bit for bit), "lvis" (lvis-api 0.5.3's federated
        evaluation, bit for bit), "voc" (VOC2010+ all-point AP at ``iou_threshold``) or
        "voc07" (VOC2007 11-point AP).
        "lvis": ``gt`` also holds ``neg_category_ids`` and ``not_exhaustive_category_ids``
        (mappings image id -> list of category ids; their keys are the evaluated images
        unless ``img_ids`` is given) and ``frequency`` (category id -> "r", "c" or "f";
        its keys are the evaluated categories unless ``cat_ids`` is given); ``ignore``
        [G] marks ignored ground truths (no crowd rule); ``max_dets`` (default 300, -1:
        none) cuts each image's results to its highest scores first. The result has
        ``precision`` [T, R, K, A], ``recall`` [T, K, A], ``results`` (lvis-api's
        OrderedDict: AP, AP50, ..., ARl@300), ``metrics``, ``stats`` (the 13 values),
        ``summary`` (lvis-api's printed lines), ``frequency`` and :meth:`per_class`.
    iou_thresholds : array-like of float, optional
        COCO parameter (default: pycocotools' ``iouThrs``).
    rec_thresholds : array-like of float, optional
        COCO parameter (default: pycocotools' ``recThrs``).
    max_dets : list of int, optional
        COCO parameter (default: pycocotools' ``maxDets``).
    area_ranges : array-like of float [A, 2], optional
        COCO parameter (default: pycocotools' ``areaRng``).
    area_labels : list of str, optional
        COCO parameter (default: pycocotools' ``areaRngLbl``).
    img_ids, cat_ids : array-like of int, optional
        Evaluated ids (default: every image / category that appears in ``gt`` or ``dt``).
    use_cats : bool, optional
        False pools all categories (pycocotools' ``useCats=0``).
    box_format : {"xywh", "xyxy", "cxcywh"}, optional
        "xywh" (COCO), "xyxy" or "cxcywh": the layout of ``bbox`` in both.
    iou_threshold : float, optional
        VOC only: the IoU a match needs (default 0.5). The COCO protocol averages over
        ``iou_thresholds`` instead: given with it, this argument has no effect and
        gives an :class:`~fastap.errors.IgnoredArgumentWarning` (for AP at one IoU, pass
        ``iou_thresholds=[t]``, or read ``map50`` / ``map75``).
    plus_one : bool, optional
        VOC only: the devkit's +1 pixel IoU convention (default True).
    num_threads : int, optional
        Threads for the C kernels (default: all cores / OMP_NUM_THREADS).
    iou_type : {"bbox", "segm", "boundary", "rotated", "keypoints"}, optional
        "bbox", "segm" (mask IoU), "boundary" (Boundary IoU: the masks of "segm", matched by
        min(mask IoU, IoU of their boundaries), the mask IoU against crowd ground truth, as
        boundary-iou-api), "rotated" (rotated boxes: ``bbox`` float[n, 5] holds x_ctr, y_ctr,
        w, h, angle in degrees counter-clockwise, detectron2's XYWHA, matched by their exact
        rotated IoU, crowd ground truth by the intersection over the detection's area;
        detections' ``area`` defaults to w*h, as pycocotools' loadRes sets it) or
        "keypoints" (OKS), COCO protocol only.
        segm: ``gt["segmentation"]`` and ``dt["segmentation"]`` hold one mask per record
        in any of pycocotools' forms (polygon lists, RLE dicts with ``counts`` as
        bytes / str / list); detections' ``area`` is the mask's area and their ``bbox``
        may be left out (the mask's box). ``image_sizes``: {image_id: (height, width)},
        needed for polygons. keypoints: ``gt["keypoints"]`` float[G, 3K] and
        ``dt["keypoints"]`` float[D, 3K] ((x, y, v) triples), ``gt["num_keypoints"]``
        [G] (default: the visible count); detections' ``bbox`` and ``area`` default to
        the keypoints' box as pycocotools' loadRes makes them; ``kpt_oks_sigmas``
        float[K] (default COCO's 17). Defaults change as pycocotools' Params do
        (keypoints: ``max_dets=[20]``, areas all/medium/large).
    dilation_ratio : float, optional
        iou_type "boundary" only: the boundary's width as a fraction of the image diagonal
        (default 0.02, boundary-iou-api's COCO setting; its LVIS setting is 0.008).

    Returns
    -------
    EvalResult

    Warns
    -----
    FastapWarning
        Input that looks like a mistake (the numbers stay those of pycocotools): no
        detections (``EmptyResultsWarning``); detections whose categories or images have
        no ground truth at all, or whose category ids look shifted
        (``UnknownIdsWarning``); an argument the protocol does not use
        (``IgnoredArgumentWarning``).
    """
    _check_protocol(protocol)
    check_iou_type(iou_type, "iou_type", boundary=True)
    check_box_format(box_format)
    _check_arguments(protocol, iou_threshold, plus_one, iou_thresholds=iou_thresholds,
                     rec_thresholds=rec_thresholds, max_dets=max_dets, area_ranges=area_ranges,
                     area_labels=area_labels, kpt_oks_sigmas=kpt_oks_sigmas, image_sizes=image_sizes)
    if protocol == "lvis":
        return _evaluate_lvis(gt, dt, iou_thresholds, rec_thresholds, 300 if max_dets is None else max_dets,
                              area_ranges, area_labels, img_ids, cat_ids, box_format, num_threads, iou_type,
                              image_sizes)
    if protocol in ("voc", "voc07") and iou_type == "bbox":
        coco_objects = isinstance(gt, COCO)
        gt, dt = _box_columns(gt, box_format), _box_columns(dt, box_format, "dt")
        if img_ids is None:
            img_ids = np.union1d(gt["image_id"], dt["image_id"])
        if cat_ids is None:
            cat_ids = np.unique(gt["category_id"])
        res = _evaluate_voc(gt, dt, img_ids, cat_ids, use_cats, protocol, 0.5 if iou_threshold is None else
                            iou_threshold, True if plus_one is None else plus_one, num_threads)
        if coco_objects:
            if dt["image_id"].shape[0] == 0 and gt["image_id"].shape[0]:
                warn_empty("results")
        else:
            check_arrays_voc(gt, dt, res.ap, "detections")
        return res
    return accumulate(evaluate_pass(gt, dt, iou_thresholds, rec_thresholds, max_dets, area_ranges, area_labels,
                                    img_ids, cat_ids, use_cats, box_format, num_threads, iou_type, image_sizes,
                                    kpt_oks_sigmas, protocol=protocol, dilation_ratio=dilation_ratio))


_COCO_ONLY = ("iou_thresholds", "rec_thresholds", "max_dets", "area_ranges", "area_labels", "kpt_oks_sigmas",
              "image_sizes")


def _check_arguments(protocol, iou_threshold, plus_one, **coco_only):
    """Arguments the protocol does not use: an IgnoredArgumentWarning each."""
    if protocol == "coco":
        for name, v in (("iou_threshold", iou_threshold), ("plus_one", plus_one)):
            if v is not None:
                warn(IgnoredArgumentWarning,
                     "%s=%r applies to protocol 'voc' / 'voc07' only and has no effect here: protocol 'coco' "
                     "averages AP over iou_thresholds (default 0.50:0.05:0.95)%s"
                     % (name, v, "; for AP at one IoU pass iou_thresholds=[%r], or read map50 / map75"
                        % (v,) if name == "iou_threshold" else ""))
    elif protocol in ("voc", "voc07"):
        for name in _COCO_ONLY:
            if coco_only[name] is not None:
                warn(IgnoredArgumentWarning,
                     "%s applies to protocol 'coco' only and has no effect with protocol %r (which matches at "
                     "iou_threshold, default 0.5)" % (name, protocol))


def evaluate_pass(gt, dt, iou_thresholds=None, rec_thresholds=None, max_dets=None, area_ranges=None,
                  area_labels=None, img_ids=None, cat_ids=None, use_cats=True, box_format="xywh",
                  num_threads=None, iou_type="bbox", image_sizes=None, kpt_oks_sigmas=None, protocol="coco",
                  dilation_ratio=None):
    """pycocotools' ``evaluate()`` over the inputs of :func:`evaluate` (same
    parameters): returns the :class:`~fastap.evalpass.EvalPass`, which
    :func:`accumulate` turns into an :class:`EvalResult`.

    With a :class:`fastap.COCO` ground truth, its annotation ids must be unique
    (pycocotools would evaluate the last of a duplicated id twice)."""
    check_iou_type(iou_type, "iou_type", boundary=True)
    if dilation_ratio is not None and iou_type != "boundary":
        warn(IgnoredArgumentWarning, "dilation_ratio applies to iou_type 'boundary' only and has no effect with "
                                     "iou_type %r" % (iou_type,))
    dilation_ratio = DILATION_RATIO if dilation_ratio is None else dilation_ratio
    check_box_format(box_format)
    _check_protocol(protocol)
    coco = dict(iou_thresholds=iou_thresholds, rec_thresholds=rec_thresholds, max_dets=max_dets,
                area_ranges=area_ranges, area_labels=area_labels, img_ids=img_ids, cat_ids=cat_ids,
                use_cats=use_cats, num_threads=num_threads)
    if protocol != "coco":
        if iou_type != "bbox":
            raise InvalidOptionError("iou_type=%r is evaluated with the COCO protocol only (protocol='coco'), got "
                                     "protocol=%r" % (iou_type, protocol))
        raise InvalidOptionError("evaluate_pass() is the COCO protocol's pass: protocol should be 'coco', got %r "
                                 "(evaluate() runs protocol='lvis' / 'voc' / 'voc07')" % (protocol,))
    if iou_type != "bbox":
        if isinstance(gt, COCO) or isinstance(dt, COCO):
            if not (isinstance(gt, COCO) and isinstance(dt, COCO)):
                raise InvalidTypeError("for iou_type=%r give both gt and dt as COCO objects, or both as "
                                       "mappings of arrays" % iou_type)
            return _cocos_pass(gt, dt, iou_type, kpt_oks_sigmas, dilation_ratio=dilation_ratio, **coco)
        return _geometry_pass(gt, dt, iou_type, image_sizes, kpt_oks_sigmas, box_format, dilation_ratio=dilation_ratio,
                              **coco)
    default_cats = cat_ids is None
    names = None
    if isinstance(gt, COCO):
        names = {c: v.get("name", c) for c, v in gt.cats.items()} or None
    g, d = _box_columns(gt, box_format), _box_columns(dt, box_format, "dt")
    if img_ids is None:
        coco["img_ids"] = np.union1d(g["image_id"], d["image_id"])
    if cat_ids is None:
        coco["cat_ids"] = np.union1d(g["category_id"], d["category_id"])
    ps = _columns_pass(g, d, Params("bbox"), None, "bbox", names, unique_gt_ids=isinstance(gt, COCO), **coco)
    _check_pass(ps, dt, g, d, default_cats)
    return ps


def _check_pass(ps, dt_in, g, d, default_cats):
    """The warnings of a pass (fastap.checks): results loaded by ``loadRes`` were checked
    against the ground truth's categories there; columns are checked here."""
    if isinstance(dt_in, COCO):
        if d["image_id"].shape[0] == 0 and ps.n_gt:
            warn_empty(getattr(dt_in, "_fa_what", "results"))
    else:
        check_arrays_pass(ps, g, d, "detections", default_cats)


def _check_protocol(protocol):
    if protocol not in ("coco", "lvis", "voc", "voc07"):
        raise InvalidOptionError("protocol should be 'coco', 'lvis', 'voc' or 'voc07', got %r" % (protocol,))


def _evaluate_lvis(gt, dt, iou_thrs, rec_thrs, max_dets, area_rng, area_lbl, img_ids, cat_ids, box_format,
                   num_threads, iou_type, image_sizes):
    """evaluate() for the LVIS protocol (lvis-api 0.5.3's numbers)."""
    if iou_type not in ("bbox", "segm"):
        raise ValueError("protocol 'lvis' evaluates iou_type 'bbox' or 'segm', got %r" % (iou_type,))
    if not hasattr(gt, "keys") or not hasattr(dt, "keys"):
        raise InvalidTypeError("protocol 'lvis': gt and dt should be mappings of arrays (fastap.lvis reads files)")
    lists = {}
    for field in ("neg_category_ids", "not_exhaustive_category_ids", "frequency"):
        if gt.get(field) is None or not hasattr(gt[field], "get"):
            raise InvalidAnnotationError("protocol 'lvis': gt['%s'] should be a mapping (%s id -> %s)" % (
                field, "category" if field == "frequency" else "image",
                "'r', 'c' or 'f'" if field == "frequency" else "list of category ids"))
        lists[field] = {int(k): v for k, v in gt[field].items()}
    p = lvis_protocol.LVISParams(iou_type)
    iou_thrs = p.iou_thrs if iou_thrs is None else iou_thrs
    area_rng = p.area_rng if area_rng is None else area_rng
    area_lbl = (p.area_rng_lbl if area_rng is p.area_rng else ["all", "small", "medium", "large"][:len(area_rng)]) \
        if area_lbl is None else list(area_lbl)
    gt_in, dt_in = {k: v for k, v in gt.items() if k not in lists}, dict(dt)
    g_rle = d_rle = None
    if iou_type == "segm":
        has_box = dt_in.get("bbox") is not None
        g_rle, d_rle = _segm_inputs(gt_in, dt_in, image_sizes, box_format)
        if has_box:                         # lvis-api: results with a box get its area
            dt_in["area"] = dt_in["bbox"][:, 2] * dt_in["bbox"][:, 3]
    g = gt_columns(gt_in, "xywh" if iou_type == "segm" and gt.get("bbox") is None else box_format)
    d = dt_columns(dt_in, "xywh" if iou_type == "segm" else box_format)
    if img_ids is None:
        img_ids = sorted(lists["neg_category_ids"])
        known = np.isin(d["image_id"], np.asarray(img_ids, dtype=np.int64))
        if not known.all():
            i = int(np.flatnonzero(~known)[0])
            raise InvalidAnnotationError(
                "detections record %d: image_id %d is not an image of the ground truth (not in "
                "gt['neg_category_ids']; %d of %d detections are on such images)"
                % (i, d["image_id"][i], int((~known).sum()), known.shape[0]))
    else:
        img_ids = sorted(set(np.asarray(img_ids).reshape(-1).tolist()))
    cat_ids = sorted(lists["frequency"]) if cat_ids is None else sorted(set(np.asarray(cat_ids).reshape(-1).tolist()))
    keep = lvis_protocol.cap_per_image(d["image_id"], d["score"], int(max_dets))
    groups = lvis_protocol.freq_groups([lists["frequency"].get(c) for c in cat_ids], cat_ids=cat_ids)
    ps = lvis_protocol.lvis_pass(
        g, d, img_ids, cat_ids, lvis_protocol.image_pairs(lists["neg_category_ids"], img_ids, "neg_category_ids"),
        lvis_protocol.image_pairs(lists["not_exhaustive_category_ids"], img_ids, "not_exhaustive_category_ids"),
        iou_thrs, area_rng, gt_rles=g_rle, dt_rles=d_rle, dt_keep=None if keep.all() else keep,
        num_threads=num_threads)
    rec_thrs = p.rec_thrs if rec_thrs is None else rec_thrs
    precision, recall = lvis_protocol.lvis_accumulate(ps, rec_thrs)
    res = lvis_protocol.summarize(precision, recall, ps.iou_thrs, area_lbl, groups, int(max_dets))
    freq = [lists["frequency"][c] for c in cat_ids]
    return EvalResult("lvis", precision=precision, recall=recall, results=res, iou_type=iou_type,
                      metrics={k: float(v) for k, v in res.items()}, stats=np.array([float(v) for v in res.values()]),
                      summary=lvis_protocol.result_lines(res, ps.iou_thrs, int(max_dets)),
                      cat_ids=ps.cat_ids, img_ids=ps.img_ids, frequency=freq,
                      per_class_ap={int(c): _mean_valid(precision[:, :, k, 0]) for k, c in enumerate(ps.cat_ids)},
                      params={"iouThrs": ps.iou_thrs, "recThrs": np.asarray(rec_thrs, dtype=np.float64),
                              "maxDets": int(max_dets), "areaRng": ps.area_rng.tolist(), "areaRngLbl": area_lbl})


def _mean_valid(s):
    v = s[s > -1]
    return float(np.mean(v)) if v.size else float("nan")


def _box_columns(x, box_format, kind="gt"):
    """Columns of a COCO object (its annotations) or of a mapping of arrays."""
    if isinstance(x, COCO):
        return columns_of(x, None)
    return gt_columns(x, box_format) if kind == "gt" else dt_columns(x, box_format)


def accumulate(ps):
    """pycocotools' ``accumulate()`` and ``summarize()`` of an evaluation pass
    (:func:`evaluate_pass`): an :class:`EvalResult` whose reports read the same pass."""
    precision, recall, scores = ps.accumulate()
    params = {"iouThrs": ps.iou_thrs, "recThrs": ps.rec_thrs, "maxDets": ps.max_dets, "areaRng": ps.area_rng,
              "areaRngLbl": ps.area_lbl, "useCats": int(ps.use_cats)}
    res = make_coco_result(precision, recall, scores, params, ps.tables.cat_ids, ps.tables.img_ids,
                           iou_type=ps.iou_type)
    res._pass = ps           # for the reports (fastap.reports), which read its tables and match bits
    return res


def evaluate_dota(gt, dt, iou_threshold=0.5, use_07_metric=True, img_ids=None, cat_ids=None, class_names=None,
                  nonconvex="raise", num_threads=None):
    """The DOTA protocol, task 1 (oriented boxes as quadrilaterals): per-class AP at IoU
    0.5, VOC2007 11-point, as the DOTA devkit's ``dota_evaluation_task1.py`` computes it
    (rules and the few stated departures: :mod:`fastap.protocols.dota`).

    Parameters
    ----------
    gt : mapping of arrays
        ``image_id`` int[G], ``category_id`` int[G], ``poly`` float[G, 8] (x1 y1 x2 y2 x3
        y3 x4 y4, any vertex order), optional ``difficult`` [G] (nonzero: difficult).
        :func:`fastap.formats.read_dota` reads DOTA label files into this.
    dt : mapping of arrays
        ``image_id`` int[D], ``category_id`` int[D], ``poly`` float[D, 8], ``score``
        float[D] (:func:`fastap.formats.read_dota_results` reads ``Task1_<class>.txt``).
    iou_threshold : float
        A detection hits its best ground truth when their IoU is strictly greater (the
        devkit's ``ovmax > ovthresh``); default 0.5.
    use_07_metric : bool
        VOC2007 11-point AP (default, the devkit's DOTA setting), else the all-point area.
    img_ids, cat_ids : array-like of int, optional
        The evaluated images and classes (default: every one in gt or dt).
    class_names : sequence of str or mapping, optional
        Names for ``per_class_ap_by_name`` (a list indexed by category id, or a mapping
        id -> name, as the readers return).
    nonconvex : {"raise", "hull"}
        A quad not convex in its given vertex order is refused, naming it (default), or
        replaced by its convex hull.
    num_threads : int, optional
        Threads for the C kernels.

    Returns
    -------
    EvalResult
        ``protocol`` "dota", ``map`` (mean over the classes with non-difficult ground
        truth), ``ap`` float64 [K] (NaN for a class without any), ``n_pos`` int64 [K],
        ``cat_ids``, ``per_class_ap`` {category id: AP} (and ``per_class_ap_by_name``
        with ``class_names``), ``iou_threshold``. Detections with tied scores keep their
        input order (a stable sort; the devkit's quicksort leaves it unspecified).
    """
    g, d = dota_columns(gt, dt)
    img_ids = np.union1d(g["image_id"], d["image_id"]) if img_ids is None else img_ids
    cat_ids = np.union1d(g["category_id"], d["category_id"]) if cat_ids is None else cat_ids
    ap, npos, cats = dota_ap(g, d, img_ids, cat_ids, iou_threshold, use_07_metric, nonconvex, num_threads)
    empty = [int(c) for c, n in zip(cats.tolist(), npos.tolist()) if n == 0]
    if empty:
        warn(FastapWarning, "DOTA: %d class(es) have no non-difficult ground truth (category ids %s): their AP is NaN and mAP "
                            "leaves them out (the DOTA devkit would count them as AP 0)" % (len(empty), empty[:10]),
             records=len(empty))
    check_arrays_voc(g, d, ap, "detections")
    res = EvalResult("dota", metrics={"map": voc_map(ap, npos)}, ap=ap, n_pos=npos, cat_ids=cats,
                     per_class_ap=dict(zip(cats.tolist(), ap.tolist())), iou_threshold=float(iou_threshold))
    if class_names is not None:
        name = class_names.get if hasattr(class_names, "get") else (lambda c: class_names[c])
        res.per_class_ap_by_name = {name(c): v for c, v in res.per_class_ap.items()}
    return res


def _evaluate_voc(gt, dt, img_ids, cat_ids, use_cats, protocol, iou_threshold, plus_one, num_threads):
    """evaluate() for the VOC protocols."""
    tables = build_tables(gt, dt, img_ids, cat_ids, use_cats, dt_by_image=False)
    difficult = gt["iscrowd"] | gt.get("ignore", np.zeros_like(gt["iscrowd"]))
    ap, npos = voc_ap(tables, iou_threshold, use_11_point=protocol == "voc07",
                      plus_one=plus_one, difficult=difficult, num_threads=num_threads)
    cats = tables.cat_ids
    return EvalResult(protocol, metrics={"map": voc_map(ap, npos)}, ap=ap, n_pos=npos, cat_ids=cats,
                      per_class_ap=dict(zip(cats.tolist(), ap.tolist())),
                      iou_threshold=float(iou_threshold))


def _columns_pass(gt, dt, p, attach, iou_type, names, iou_thresholds, rec_thresholds, max_dets, area_ranges,
                  area_labels, img_ids, cat_ids, use_cats, num_threads, unique_gt_ids=False):
    """The COCO pass over validated columns (:func:`run_pass`); parameters default to
    those of Params ``p``; ``attach(tables, iou_thrs, max_dets)`` attaches mask or
    keypoint IoUs."""
    iou_thrs, rec_thrs, md, ar, lbl = resolve_params(p, iou_thresholds, rec_thresholds, max_dets,
                                                     area_ranges, area_labels)
    ps = run_pass(gt, dt, img_ids, cat_ids, use_cats, iou_thrs, rec_thrs, md, ar, lbl, iou_type=iou_type,
                  attach=None if attach is None else (lambda tables: attach(tables, iou_thrs, md)),
                  unique_gt_ids=unique_gt_ids, num_threads=num_threads, names=names)
    return ps


def _cocos_pass(gt, dt, iou_type, sigmas, iou_thresholds, rec_thresholds, max_dets, area_ranges, area_labels,
                    img_ids, cat_ids, use_cats, num_threads, dilation_ratio=DILATION_RATIO):
    """The pass of masks or keypoints of two COCO objects: the parameters are made as
    COCOeval makes them (every image and category of the ground truth by default; the
    given ones set on pycocotools' Params), then the pass COCOeval.evaluate() runs."""
    p = Params(iou_type)
    p.imgIds = sorted_ids_list(gt.getImgIds())
    p.catIds = sorted(gt.getCatIds())
    for name, v in (("iouThrs", iou_thresholds), ("recThrs", rec_thresholds), ("maxDets", max_dets),
                    ("areaRng", area_ranges), ("areaRngLbl", area_labels), ("imgIds", img_ids),
                    ("catIds", cat_ids), ("kpt_oks_sigmas", sigmas)):
        if v is not None:
            setattr(p, name, v)
    img = unique_ids(param_ids("params", "imgIds", p.imgIds))
    cat = param_ids("params", "catIds", p.catIds)
    if use_cats:
        cat = unique_ids(cat)
    iou_thrs, rec_thrs, md, ar = check_params(p.iouThrs, p.recThrs, p.maxDets, p.areaRng)
    if iou_type == "rotated":
        g, d, attach = rotated_pass_inputs(gt, dt, md[-1], num_threads)
    else:
        col_type = "segm" if iou_type == "boundary" else iou_type          # the records of segm
        g, d = columns_of(gt, "gt", iou_type=col_type), columns_of(dt, "dt", iou_type=col_type)
        attach = iou_attacher(gt, dt, iou_type, getattr(p, "kpt_oks_sigmas", None), md[-1], iou_thrs, use_cats,
                              g["iscrowd"], num_threads, dilation_ratio=dilation_ratio)
    ps = run_pass(g, d, img, cat, bool(use_cats), iou_thrs, rec_thrs, md, ar, p.areaRngLbl, iou_type=iou_type,
                  attach=attach, unique_gt_ids=True, num_threads=num_threads)
    _check_pass(ps, dt, g, d, False)
    return ps


def _geometry_pass(gt, dt, iou_type, image_sizes, sigmas, box_format, dilation_ratio=DILATION_RATIO, **coco):
    """The pass of masks or keypoints given as mappings of arrays: converted as
    pycocotools' loadRes would, then the same pass as boxes, with their IoUs attached."""
    if not hasattr(gt, "keys") or not hasattr(dt, "keys"):
        raise InvalidTypeError("gt and dt should be mappings of arrays or COCO objects")
    p = Params(iou_type)
    gt_in, dt_in = dict(gt), dict(dt)
    if iou_type == "rotated":
        return _rotated_pass(gt_in, dt_in, p, box_format, **coco)
    masks = iou_type in ("segm", "boundary")
    if masks:
        g_rle, d_rle = _segm_inputs(gt_in, dt_in, image_sizes, box_format)

        def attach(tables, iou_thrs, md):
            if iou_type == "boundary":
                attach_boundary_iou(tables, g_rle, d_rle, g["iscrowd"], md[-1], dilation_ratio,
                                    num_threads=coco["num_threads"])
            else:
                attach_rle_iou(tables, g_rle, d_rle, md[-1], num_threads=coco["num_threads"])
    else:
        sig, gk, dk = _keypoint_inputs(gt_in, dt_in, p, sigmas)
    g = gt_columns(gt_in, "xywh" if masks and gt.get("bbox") is None else box_format)
    d = dt_columns(dt_in, "xywh" if dt.get("bbox") is None or masks else box_format)
    if iou_type == "keypoints":
        num = gt_in.get("num_keypoints")
        num = (gk[:, 2::3] > 0).sum(axis=1) if num is None else float_column("ground truth", "num_keypoints", num,
                                                                             (gk.shape[0],))

        def attach(tables, iou_thrs, md):
            attach_oks(tables, gk, num, g["iscrowd"], dk, sig, md[-1], num_threads=coco["num_threads"],
                       use_cats=coco["use_cats"], iou_thrs=iou_thrs)
    if coco["img_ids"] is None:
        coco["img_ids"] = np.union1d(g["image_id"], d["image_id"])
    default_cats = coco["cat_ids"] is None
    if default_cats:
        coco["cat_ids"] = np.union1d(g["category_id"], d["category_id"])
    ps = _columns_pass(g, d, p, attach, iou_type, None, **coco)
    check_arrays_pass(ps, g, d, "detections", default_cats)
    return ps


def _rotated_pass(gt_in, dt_in, p, box_format, **coco):
    """The pass of rotated boxes given as mappings of arrays (``bbox`` float[n, 5]:
    x_ctr, y_ctr, w, h, angle in degrees counter-clockwise, detectron2's XYWHA)."""
    if box_format != "xywh":
        raise InvalidOptionError("box_format applies to axis-aligned boxes; iou_type 'rotated' reads bbox as "
                                 "(x_ctr, y_ctr, w, h, angle), got box_format=%r" % (box_format,))
    g, d = rotated_gt_columns(gt_in), rotated_dt_columns(dt_in)

    def attach(tables, iou_thrs, md):
        attach_rotated_iou(tables, g["rbox"], d["rbox"], g["iscrowd"], md[-1], num_threads=coco["num_threads"])
    if coco["img_ids"] is None:
        coco["img_ids"] = np.union1d(g["image_id"], d["image_id"])
    default_cats = coco["cat_ids"] is None
    if default_cats:
        coco["cat_ids"] = np.union1d(g["category_id"], d["category_id"])
    ps = _columns_pass(g, d, p, attach, "rotated", None, **coco)
    check_arrays_pass(ps, g, d, "detections", default_cats)
    return ps


def _image_sizes_arg(image_sizes):
    """{image_id: {"height", "width"}} of the ``image_sizes`` argument ({image_id: (height,
    width)}); anything else is an error naming the argument and the entry."""
    if image_sizes is None:
        return {}
    if not isinstance(image_sizes, Mapping):
        raise InvalidTypeError("image_sizes should be a dict {image_id: (height, width)}, got %s"
                               % type(image_sizes).__name__)
    sizes = {}
    for k, v in image_sizes.items():
        try:
            if len(v) != 2:
                raise ValueError
            sizes[int(k)] = {"height": int(v[0]), "width": int(v[1])}
        except (ValueError, TypeError, OverflowError):
            raise InvalidAnnotationError("image_sizes[%r]: should be an integer image id -> (height, width), "
                                         "got %r" % (k, v)) from None
    return sizes


def _segm_inputs(gt_in, dt_in, image_sizes, box_format):
    """RLE sets of both sides (``image_sizes``: {image_id: (height, width)}, for
    polygons); fills in the areas and boxes pycocotools' loadRes would give."""
    sizes = _image_sizes_arg(image_sizes)
    for name, d in (("ground truth", gt_in), ("detections", dt_in)):
        if d.get("segmentation") is None:
            raise InvalidAnnotationError("%s: missing field 'segmentation'" % name)
    g_rle = rles_from_objects(gt_in["segmentation"], gt_in.get("image_id"), sizes, "ground truth")
    d_rle = rles_from_objects(dt_in["segmentation"], dt_in.get("image_id"), sizes, "detections")
    if gt_in.get("area") is None:
        gt_in["area"] = g_rle["area"]
    if gt_in.get("bbox") is None:
        gt_in["bbox"] = g_rle["bbox"]
    n_dt = len(dt_in.get("image_id", []))
    given = None if dt_in.get("bbox") is None else box_column("detections", dt_in["bbox"], n_dt, None, box_format)
    dt_in["bbox"], dt_in["area"] = segm_result_boxes(d_rle, given)
    return g_rle, d_rle


def _n_records(d, what):
    """Number of records of a column dict: the length of its ``image_id`` column."""
    ids = d.get("image_id", [])
    try:
        return len(ids)
    except TypeError:
        raise InvalidTypeError("%s: field 'image_id' should be a list of one id per record, got %s"
                               % (what, type(ids).__name__)) from None


def _keypoint_inputs(gt_in, dt_in, p, sigmas):
    """(sigmas float64 [K], gt keypoints [G, 3K], dt keypoints [D, 3K]); detections
    without boxes get the keypoints' box, as pycocotools' loadRes gives them."""
    sig = np.asarray(p.kpt_oks_sigmas if sigmas is None else sigmas, dtype=np.float64).reshape(-1)
    K = sig.shape[0]
    n_dt = _n_records(dt_in, "detections")
    gk = float_column("ground truth", "keypoints", gt_in.get("keypoints"), (_n_records(gt_in, "ground truth"), 3 * K))
    dk = float_column("detections", "keypoints", dt_in.get("keypoints"), (n_dt, 3 * K))
    if dt_in.get("bbox") is None:
        dt_in["bbox"], dt_in["area"] = keypoint_result_boxes(dk)
    return sig, gk, dk


def make_coco_result(precision, recall, scores, params, cat_ids, img_ids, iou_type="bbox"):
    """EvalResult from accumulated COCO arrays; params: iouThrs, recThrs, maxDets,
    areaRng, areaRngLbl, useCats."""
    md, lbl = params["maxDets"], params["areaRngLbl"]
    stats, lines = (np.full(12, -1.0), [])
    names = STAT_NAMES
    if iou_type == "keypoints":
        stats, lines = summarize(precision, recall, params["iouThrs"], lbl, md, "keypoints")
        names = KPT_STAT_NAMES
    elif len(md) >= 3:
        stats, lines = summarize(precision, recall, params["iouThrs"], lbl, md)
    return EvalResult("coco", precision=precision, recall=recall, scores=scores, stats=stats,
                      metrics=dict(zip(names, stats.tolist())), summary=lines, iou_type=iou_type,
                      cat_ids=cat_ids, img_ids=img_ids,
                      per_class_ap=per_class_means(precision, cat_ids),
                      per_class_ar=per_class_means(recall, cat_ids, recall=True),
                      params={"iouThrs": params["iouThrs"], "recThrs": params["recThrs"], "maxDets": md,
                              "areaRng": np.asarray(params["areaRng"]).tolist(), "areaRngLbl": lbl,
                              "useCats": params["useCats"]})
