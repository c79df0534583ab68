"""Input that is valid but looks like a mistake: the checks behind fastap's warnings.

pycocotools evaluates such input without a word and gives numbers that look real: AP
0.000 for results whose category ids are shifted, for an empty results file, for
detections on images of another numbering. fastap gives the same numbers, and a
:class:`~fastap.errors.FastapWarning` that says what looks wrong and how many records
it affects (see :mod:`fastap.errors`).

The checks cost next to nothing on the valid path: a lookup of the detections'
category ids in the ground truth's (one vectorised pass, where results meet a ground
truth that declares its categories), counts per category that the grouped tables
already hold, and whether any detection matched at all; anything more is computed
only once something already looks wrong.
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np

from .columns import IdIndex, unique_ids
from .errors import EmptyResultsWarning, UnknownIdsWarning

__all__ = ["warn", "warn_once", "ids_text", "category_hint", "declared_ids", "warn_unknown_categories",
           "warn_empty", "warn_orphan_categories", "check_arrays_pass", "check_arrays_voc"]

_PKG = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(category, message, records=None):
    """Issue ``category(message, records)`` through :func:`warnings.warn`, attributed to
    the first caller outside fastap (the user's line that called into it)."""
    level, f = 1, sys._getframe(0)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_PKG):
        f = f.f_back
        level += 1
    warnings.warn(category(message, records=records), stacklevel=level)


def warn_once(owner, key, category, message, records=None):
    """:func:`warn` unless ``owner`` (a ground truth, an Evaluator) already gave a
    warning under ``key``: a per-batch loop over one ground truth warns once, not once
    per batch."""
    done = getattr(owner, "_fa_warned", None)
    if done is None:
        done = set()
        try:
            owner._fa_warned = done
        except AttributeError:           # an object that takes no attributes: warn each time
            pass
    if key in done:
        return
    done.add(key)
    warn(category, message, records)


def ids_text(ids, limit=5):
    """'1001, 1002, 1003' or '1001, 1002, 1003, 1004, 1005 and 75 more'."""
    ids = [int(i) for i in ids]
    s = ", ".join(str(i) for i in ids[:limit])
    return s + (" and %d more" % (len(ids) - limit) if len(ids) > limit else "")


def _range_text(ids):
    """The sorted unique ids in a few words: '1..80', '80 ids from 1 to 90', '7'."""
    n = ids.shape[0]
    if n == 0:
        return "none"
    lo, hi = int(ids[0]), int(ids[-1])
    if n == 1:
        return str(lo)
    return "%d..%d" % (lo, hi) if hi - lo + 1 == n else "%d ids from %d to %d" % (n, lo, hi)


def category_hint(dt_cats, gt_cats):
    """What a set of detection category ids (sorted unique int64) looks like next to the
    ground truth's: '' when nothing simple explains them (or too few ids to tell)."""
    k = gt_cats.shape[0]
    if dt_cats.shape[0] < max(2, k // 2) or k == 0:
        return ""
    lo, hi = int(gt_cats[0]), int(gt_cats[-1])
    if hi - lo + 1 != k:                          # sparse ids (COCO's 80 ids in 1..90)
        for base in (0, 1):
            if int(dt_cats[0]) >= base and int(dt_cats[-1]) <= k - 1 + base:
                return ("; the detections' ids lie in %d..%d, and the ground truth has %d categories with ids from "
                        "%d to %d: contiguous %d-based class indices against its category ids? Map index i to the "
                        "i-th category id in sorted order" % (base, k - 1 + base, k, lo, hi, base))
    for shift, what in ((1, "0-based class indices against 1-based category ids?"),
                        (-1, "ids shifted by one?")):
        if np.isin(dt_cats + shift, gt_cats).all():
            return "; every detection category id %s 1 is a ground-truth category id: %s" % (
                "plus" if shift == 1 else "minus", what)
    return ""


def warn_unknown_categories(dt_cat, known, what, owner=None, deliberate=None):
    """Warn when detections' category ids (int64 [n]) are not among ``known`` (the
    ground truth's declared categories, sorted unique int64); they are left out of the
    evaluation, as pycocotools leaves them out. ``deliberate()``: True when the ground
    truth's categories were narrowed on purpose (its ``cats`` assigned a subset of the
    categories its annotations have): then results of the others are expected; asked
    only once some id is unknown. ``owner``: warn once per that object. Returns the
    number of such detections (0 when deliberate)."""
    n = dt_cat.shape[0]
    if known.shape[0] == 0 or n == 0:
        return 0
    bad = ~IdIndex(known, n)(dt_cat)[1]
    k = int(np.count_nonzero(bad))
    if k and deliberate is not None and deliberate():
        return 0
    if k:
        unknown = unique_ids(dt_cat[bad])
        msg = ("%s: %d of %d records have a category_id that is not a category of the ground truth (%s; the "
               "ground truth's are %s): they match nothing and are left out of the evaluation%s"
               % (what, k, n, ids_text(unknown), _range_text(known),
                  category_hint(unique_ids(dt_cat), known)))
        if owner is None:
            warn(UnknownIdsWarning, msg, k)
        else:
            warn_once(owner, "unknown categories", UnknownIdsWarning, msg, k)
    return k


def warn_empty(what, owner=None):
    """An evaluation without a single detection, against ground truth."""
    msg = "%s: no detections at all: every AP and AR is 0" % what
    if owner is None:
        warn(EmptyResultsWarning, msg, 0)
    else:
        warn_once(owner, "empty", EmptyResultsWarning, msg, 0)


def warn_orphan_categories(cats, n_gt, n_dt, what):
    """Detections of categories that have no ground truth, from counts per category
    (``cats`` int64 [K], ``n_gt`` / ``n_dt`` [K]): warned when they are all the
    detections, or when the detection ids look like the ground truth's shifted (0-based
    labels against 1-based ids); a few detections of a category without ground truth
    can be right. True if warned."""
    orphan = (n_dt > 0) & (n_gt == 0)
    n_orphan, n = int(n_dt[orphan].sum()), int(n_dt.sum())
    if n_orphan == 0 or not n_gt.any():
        return False
    order = np.argsort(cats, kind="stable")
    cats, n_gt, n_dt, orphan = cats[order], n_gt[order], n_dt[order], orphan[order]
    hint = category_hint(cats[n_dt > 0], cats[n_gt > 0])
    if n_orphan < n and not hint:
        return False
    warn(UnknownIdsWarning,
         "%s: %d of %d detections have a category_id that no ground truth has (%s; the ground truth's are %s): "
         "they can only be false positives%s" % (what, n_orphan, n, ids_text(cats[orphan]), _range_text(cats[n_gt > 0]),
                                                 hint), n_orphan)
    return True


def declared_ids(table):
    """The int64 sorted ids of a ``cats`` / ``imgs`` dict, or None when it is empty or
    its keys are not all integers (its problems are reported where they matter)."""
    if not table:
        return None
    keys = list(table)
    if not all(type(k) is int or isinstance(k, np.integer) for k in keys):
        return None
    try:
        ids = np.array(keys, dtype=np.int64)
    except OverflowError:
        return None
    ids.sort()
    return ids


def _disjoint_images(gt_img, dt_img, what):
    """Warn when no detection is on an image that has ground truth. True if warned."""
    n = dt_img.shape[0]
    gi = unique_ids(gt_img)
    on = IdIndex(gi, n)(dt_img)[1]
    if on.any():
        return False
    di = unique_ids(dt_img)
    warn(UnknownIdsWarning,
         "%s: %d of %d detections are on images without any ground truth (the detections' image ids: %s; the "
         "ground truth's: %s): image ids of another numbering?" % (what, n, n, ids_text(di), ids_text(gi)), n)
    return True


def _disjoint_categories(gt_cat, dt_cat, what):
    """Warn when no detection is of a category that has ground truth. True if warned."""
    n = dt_cat.shape[0]
    gc = unique_ids(gt_cat)
    if IdIndex(gc, n)(dt_cat)[1].any():
        return False
    dc = unique_ids(dt_cat)
    warn(UnknownIdsWarning,
         "%s: %d of %d detections have a category_id that no ground truth has (%s; the ground truth's are %s): "
         "they can only be false positives%s" % (what, n, n, ids_text(dc), _range_text(gc), category_hint(dc, gc)), n)
    return True


def _nothing_else(gt, dt, what):
    """True when there is nothing more to check: no ground truth, or no detections (then
    an EmptyResultsWarning)."""
    if gt["image_id"].shape[0] == 0:
        return True
    if dt["image_id"].shape[0] == 0:
        warn_empty(what)
        return True
    return False


def check_arrays_pass(ps, gt, dt, what, default_cats):
    """The checks of a COCO evaluation of columns (no declared images or categories):
    no detections; detections in categories without ground truth (``default_cats``:
    the evaluated categories are those of both sides); and, when no detection matched
    anything, detections on images without ground truth."""
    if _nothing_else(gt, dt, what):
        return
    core = ps.tables.core
    if default_cats and ps.use_cats and warn_orphan_categories(ps.tables.cat_ids, np.diff(core.gt_off),
                                                               np.diff(core.dt_off), what):
        return
    if ps.n_dt and any(m["dt_tp"].any() for m in ps.matches):
        return                # something matched: the ids line up
    _disjoint_images(gt["image_id"], dt["image_id"], what)


def check_arrays_voc(gt, dt, ap, what):
    """The checks of a VOC evaluation of columns: no detections; or, when no class has
    a true positive, detections in categories, or on images, without ground truth."""
    if _nothing_else(gt, dt, what):
        return
    if (np.asarray(ap) > 0).any():
        return
    if not _disjoint_categories(gt["category_id"], dt["category_id"], what):
        _disjoint_images(gt["image_id"], dt["image_id"], what)
