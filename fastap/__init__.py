"""fastap: fast, exact object-detection evaluation.

COCO mAP bit-identical to pycocotools, PASCAL VOC AP, computed by C kernels.

Public API
----------
COCO, COCOeval
    Drop-ins for pycocotools' classes (iouType="bbox").
evaluate(gt, dt, protocol="coco"|"voc"|"voc07", ...) -> EvalResult
    The array API: columnar NumPy inputs, named metrics and the precision/recall arrays.
box_iou(a, b, fmt="xyxy"|"xywh"|"cxcywh", iscrowd=None) -> float64 [n, m]
Evaluator(gt=None, ...)
    Streaming evaluation: update() per batch, merge() partial states, compute().
Params
    pycocotools-compatible evaluation parameters.
mask
    COCO run-length encoded masks, a drop-in for pycocotools.mask (encode, decode, area,
    toBbox, iou, merge, frPyObjects).
"""
from ._version import __version__
from .errors import FastapError, InvalidAnnotationError, InvalidFileError, InvalidTypeError
from .params import Params
from .engine import EvalResult, evaluate
from .iou import box_iou
from .coco import COCO, COCOeval
from .evaluator import Evaluator
from . import mask

__all__ = ["__version__", "COCO", "COCOeval", "Params", "evaluate", "EvalResult", "box_iou", "Evaluator",
           "FastapError", "InvalidAnnotationError", "InvalidTypeError", "InvalidFileError", "mask"]
