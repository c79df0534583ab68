"""The PASCAL VOC protocol: per-category AP with the devkit's rules (``csrc/voc.c``).

Detections are kept in input order inside each category (the devkit sorts them by score
itself, stably); ``difficult`` ground truth is neither a hit nor a miss; VOC2010+ AP is
the area under the monotone precision envelope, VOC2007 AP the 11-point mean.
"""
from __future__ import annotations

import numpy as np

from .. import _core

__all__ = ["voc_ap", "voc_map"]


def voc_ap(tables, iou_threshold=0.5, use_11_point=False, plus_one=True, difficult=None,
           num_threads=None):
    """PASCAL VOC AP per category (see csrc/voc.c for the devkit rules).

    ``difficult``: uint8 [n_gt] in the input order of the ground truth, or None (use
    the crowd flags). Returns (ap float64 [K] with NaN where a category has no
    non-difficult ground truth, n_pos int64 [K])."""
    d = None
    if difficult is not None:
        d = np.ascontiguousarray(np.asarray(difficult, dtype=np.uint8)[tables.gt_index])
    return _core.voc_evaluate(tables.core, d, float(iou_threshold), plus_one=plus_one,
                              use_11_point=use_11_point, num_threads=num_threads)



def voc_map(ap, n_pos):
    """Mean of the per-category APs over the categories with ground truth (n_pos > 0),
    summed left to right as :mod:`fastap.reference` sums (NaN when none has any)."""
    valid = np.asarray(ap)[np.asarray(n_pos) > 0].tolist()
    total = 0.0
    for v in valid:
        total += v
    return total / len(valid) if valid else float("nan")
