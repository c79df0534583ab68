"""pycocotools-compatible evaluation parameters.

The defaults are built with exactly pycocotools' ``np.linspace`` calls: their rounding
is part of the numbers (``iouThrs[1]`` is 0.55 only up to that rounding, and
``summarize()`` looks thresholds up by exact equality).
"""
import numpy as np

from .errors import InvalidOptionError

__all__ = ["Params", "COCO_KPT_SIGMAS", "IOU_TYPES", "check_iou_type"]

IOU_TYPES = ("bbox", "segm", "keypoints")


def check_iou_type(iou_type, name="iouType", boundary=False):
    """Refuse an iouType other than "bbox", "segm" or "keypoints" (with ``boundary``: also
    "boundary", Boundary IoU, and "rotated", rotated boxes: the COCOeval and array API
    extensions) (InvalidOptionError, a ValueError, naming the choices)."""
    ok = IOU_TYPES + (("boundary", "rotated") if boundary else ())
    if not isinstance(iou_type, str) or iou_type not in ok:
        raise InvalidOptionError("%s should be %s, got %r" % (
            name, "'bbox', 'segm', 'boundary', 'rotated' or 'keypoints'" if boundary
            else "'bbox', 'segm' or 'keypoints'", iou_type))
    return iou_type

COCO_KPT_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62,
                            1.07, 1.07, .87, .87, .89, .89]) / 10.0


def default_iou_thrs():
    return np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)


def default_rec_thrs():
    return np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)


class Params:
    """Parameters of COCOeval, with pycocotools' attribute names and defaults.

    Attributes: ``imgIds``, ``catIds`` (lists, filled from the ground truth by
    COCOeval), ``iouThrs`` float64[T], ``recThrs`` float64[R], ``maxDets`` list[M],
    ``areaRng`` list of [lo, hi] (inclusive), ``areaRngLbl`` list[str], ``useCats``
    (1 or 0), ``iouType``, ``useSegm`` (deprecated, as in pycocotools) and, for
    keypoints, ``kpt_oks_sigmas``.
    """

    def setDetParams(self):
        self.imgIds = []
        self.catIds = []
        self.iouThrs = default_iou_thrs()
        self.recThrs = default_rec_thrs()
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
        self.areaRngLbl = ['all', 'small', 'medium', 'large']
        self.useCats = 1

    def setKpParams(self):
        self.imgIds = []
        self.catIds = []
        self.iouThrs = default_iou_thrs()
        self.recThrs = default_rec_thrs()
        self.maxDets = [20]
        self.areaRng = [[0 ** 2, 1e5 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
        self.areaRngLbl = ['all', 'medium', 'large']
        self.useCats = 1
        self.kpt_oks_sigmas = COCO_KPT_SIGMAS.copy()

    def __init__(self, iouType='segm'):
        if iouType in ('segm', 'bbox', 'boundary', 'rotated'):
            self.setDetParams()
        elif iouType == 'keypoints':
            self.setKpParams()
        else:
            check_iou_type(iouType, boundary=True)
        self.iouType = iouType
        # deprecated in pycocotools, kept for code that still sets it
        self.useSegm = None
