"""fastap: fast, exact object-detection evaluation.

COCO mAP bit-identical to pycocotools, PASCAL VOC AP, computed by C kernels.

Public API
----------
COCO, COCOeval
    Drop-ins for pycocotools' classes (iouType "bbox", "segm", "keypoints").
evaluate(gt, dt, protocol="coco"|"voc"|"voc07", ...) -> EvalResult
    The array API: columnar NumPy inputs, named metrics and the precision/recall arrays.
box_iou(a, b, fmt="xyxy"|"xywh"|"cxcywh", iscrowd=None, out=None) -> float64 [n, m]
    On CUDA arrays (CuPy, torch) it runs on the GPU: see fastap.cuda. kind="giou"|"diou"|
    "ciou" and aligned=True (elementwise, [n]) for the IoU family; also as
    generalized_box_iou, distance_box_iou, complete_box_iou (torchvision's names).
rotated_iou(boxes1, boxes2, angle_unit="deg") / quad_iou(q1, q2) -> float64 [n, m]
    Exact IoU of rotated boxes (detectron2's XYWHA) and of DOTA quadrilaterals, CPU and
    CUDA (fastap.rotated).
Evaluator(gt=None, ...)
    Streaming evaluation: update() per batch, merge() partial states, compute().
Params
    pycocotools-compatible evaluation parameters.
read_yolo, read_voc_xml, read_voc_results
    YOLO txt label folders and PASCAL VOC files into columns for evaluate()
    (fastap.formats).
evaluate_dota(gt, dt); read_dota, read_dota_results, read_yolo_obb
    The DOTA devkit's task-1 AP on quadrilaterals (fastap.protocols.dota), and the
    readers of DOTA labels / Task1 results and ultralytics OBB labels. Rotated boxes
    under the COCO protocol: COCOeval(gt, dt, iouType="rotated").
operating_points / confusion_matrix / error_analysis(result, ...)
    Reports from one evaluation pass (also methods of EvalResult and COCOeval);
    ``plot_all(result, dir)`` / ``result.plot(dir)`` draws them (needs ``fastap[plot]``).
mask
    COCO run-length encoded masks, a drop-in for pycocotools.mask (encode, decode, area,
    toBbox, iou, merge, frPyObjects).
semantic (SemanticEvaluator, SemanticResult, evaluate_semantic)
    Semantic segmentation: per-class IoU, mIoU, Dice, pixel and class accuracy, fwIoU
    from a confusion matrix counted in C (mmsegmentation's IoUMetric definitions; the
    per-image averaging of torchmetrics' MeanIoU as an option); ``fastap segeval``.
panoptic (PanopticEvaluator, PanopticResult, evaluate_panoptic, pq_from_segment_maps)
    Panoptic quality (PQ, SQ, RQ; All / Things / Stuff and per class) of COCO panoptic PNGs
    and JSON, by panopticapi's pq_compute rules; the (gt, pred) pair counts in C.
FastapError (InvalidAnnotationError, InvalidTypeError, InvalidFileError, DeviceError)
    The exceptions fastap raises on bad input (fastap.errors).
FastapWarning (UnknownIdsWarning, EmptyResultsWarning, BoxesAsMasksWarning, IgnoredArgumentWarning)
    The warnings on input that is valid but looks like a mistake.
init_as_pycocotools() / restore_pycocotools()
    ``import pycocotools`` (coco, cocoeval, mask, _mask) gives fastap's drop-ins, for
    frameworks imported afterwards; a context manager too (fastap.compat).
lvis (LVIS, LVISResults, LVISEval), init_as_lvis() / restore_lvis()
    A drop-in for lvis-api 0.5.3 (federated LVIS evaluation, bit-identical); ``import lvis``
    gives it after init_as_lvis().

Layers (each module imports only from the layers above it in this list)
-----------------------------------------------------------------------
errors                              the leaf
params, _core                       pycocotools' parameters; the binding to the C kernels (csrc/)
threads, columns, tables, checks    thread policy; validated columns; grouped tables; the
                                    checks behind the warnings on suspicious input
protocols.coco / .voc, geometry     the protocols' steps; mask IoU and OKS for the tables
evalpass                            one evaluation pass (tables, IoUs, matches) with named fields
adapters.*, formats, reports.*      JSON files, COCO datasets, YOLO/VOC; reports and plots of a pass
api                                 evaluate() and EvalResult
coco, lvis, evaluator, dask, ...    the pycocotools and lvis-api facades; streaming and scale-out
compat                              pycocotools' module names for the facade
cli                                 the command line
(iou, rotated, cuda, mask, semantic, panoptic, reference and synthetic stand beside them: box
IoU and rotated / quadrilateral IoU on CPU and GPU, the pycocotools.mask drop-in, semantic
segmentation and panoptic metrics, the plain-Python reference, generated data.)
"""
from ._version import __version__
from .errors import (BoxesAsMasksWarning, DeviceError, EmptyResultsWarning, FastapError, FastapWarning,
                     IgnoredArgumentWarning, InvalidAnnotationError, InvalidFileError, InvalidOptionError,
                     InvalidTypeError, UnknownIdsWarning)
from .params import Params
from .api import EvalResult, evaluate, evaluate_dota
from .iou import assign, box_iou, complete_box_iou, distance_box_iou, generalized_box_iou
from .rotated import quad_iou, rotated_iou
from . import cuda
from .coco import COCO, COCOeval
from .evaluator import Evaluator
from . import mask
from .formats import read_dota, read_dota_results, read_voc_results, read_voc_xml, read_yolo, read_yolo_obb
from .compat import init_as_lvis, init_as_pycocotools, restore_lvis, restore_pycocotools
from . import lvis
from . import semantic
from .semantic import SemanticEvaluator, SemanticResult, evaluate_semantic
from . import panoptic
from .panoptic import PanopticResult, evaluate_panoptic
from .reports import (ConfusionMatrix, ErrorAnalysis, OperatingPoints, confusion_matrix, error_analysis,
                      operating_points, plot_all)

__all__ = ["__version__", "COCO", "COCOeval", "Params", "evaluate", "EvalResult", "box_iou", "assign", "Evaluator",
           "generalized_box_iou", "distance_box_iou", "complete_box_iou",
           "FastapError", "InvalidAnnotationError", "InvalidTypeError", "InvalidFileError", "InvalidOptionError",
           "DeviceError", "FastapWarning", "UnknownIdsWarning", "EmptyResultsWarning", "BoxesAsMasksWarning",
           "IgnoredArgumentWarning",
           "mask", "read_yolo", "read_voc_xml", "read_voc_results", "read_dota", "read_dota_results", "read_yolo_obb",
           "operating_points", "confusion_matrix", "error_analysis", "OperatingPoints", "ConfusionMatrix",
           "ErrorAnalysis", "plot_all", "init_as_pycocotools", "restore_pycocotools", "init_as_lvis", "restore_lvis",
           "lvis", "semantic", "SemanticEvaluator", "SemanticResult", "evaluate_semantic",
           "panoptic", "PanopticResult", "evaluate_panoptic", "rotated_iou", "quad_iou", "evaluate_dota"]
