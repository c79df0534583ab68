"""fastap's exceptions: a small hierarchy, so callers can catch what they mean.

``FastapError`` is the base. Bad input raises ``InvalidAnnotationError`` (a
``ValueError``) or ``InvalidTypeError`` (a ``TypeError``), each naming the field and the
record (index, and id when there is one) that caused it. An option outside its choices
(``iouType``, ``box_format``, ``protocol``, ``num_threads`` or the ``FASTAP_NUM_THREADS``
environment variable) raises ``InvalidOptionError``, which names the option and its valid
values.

Input that is valid but looks like a mistake gives a warning of a ``FastapWarning``
class (a ``UserWarning``) through Python's :mod:`warnings`: it says what looks wrong and
how many records it affects (``records``); the numbers are those pycocotools gives.
"""

__all__ = ["FastapError", "InvalidAnnotationError", "InvalidTypeError", "InvalidFileError", "InvalidOptionError",
           "DeviceError", "FastapWarning", "UnknownIdsWarning", "EmptyResultsWarning", "BoxesAsMasksWarning",
           "IgnoredArgumentWarning"]


class FastapError(Exception):
    """Base class of every exception fastap raises on purpose."""


class InvalidAnnotationError(FastapError, ValueError):
    """A ground-truth annotation or a detection has a bad value."""


class InvalidTypeError(FastapError, TypeError):
    """An argument or a field has the wrong type."""


class InvalidFileError(InvalidAnnotationError):
    """A file could not be read as the expected JSON; the message names the file."""


class InvalidOptionError(InvalidAnnotationError):
    """An option, parameter or environment variable outside its valid values (``iouType``,
    ``box_format``, ``protocol``, ``num_threads``, ``FASTAP_NUM_THREADS``); the message
    names it and the values it takes. A ``ValueError`` (and an ``InvalidAnnotationError``,
    which fastap raised for some of these before)."""


class DeviceError(FastapError, ValueError):
    """Arrays on different devices: CUDA and host arrays mixed, or two CUDA devices."""


class FastapWarning(UserWarning):
    """Base class of fastap's warnings: input that is valid but looks like a mistake.
    ``records`` is the number of records it affects (None where it is not about
    records)."""

    def __init__(self, message, records=None):
        super().__init__(message)
        self.records = records


class UnknownIdsWarning(FastapWarning):
    """Detections whose category ids (or image ids) are not those of the ground truth:
    shifted ids, 0-based class indices against 1-based category ids, contiguous indices
    against COCO's sparse ids. They can match nothing."""


class EmptyResultsWarning(FastapWarning):
    """An evaluation without a single detection: every AP and AR is 0."""


class BoxesAsMasksWarning(FastapWarning):
    """A mask evaluation (iouType "segm") of results without a ``segmentation``: their
    masks are their boxes' rectangles (as pycocotools' loadRes makes them)."""


class IgnoredArgumentWarning(FastapWarning):
    """An argument that has no effect with the chosen protocol (``iou_threshold`` under
    the COCO protocol, the COCO parameters under VOC)."""
