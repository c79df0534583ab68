"""fastap's exceptions: a small hierarchy, so callers can catch what they mean.

``FastapError`` is the base. Bad input raises ``InvalidAnnotationError`` (a
``ValueError``) or ``InvalidTypeError`` (a ``TypeError``), each naming the field and the
record (index, and id when there is one) that caused it. An option outside its choices
(``iouType``, ``box_format``, ``protocol``, ``num_threads`` or the ``FASTAP_NUM_THREADS``
environment variable) raises ``InvalidOptionError``, which names the option and its valid
values.
"""

__all__ = ["FastapError", "InvalidAnnotationError", "InvalidTypeError", "InvalidFileError", "InvalidOptionError",
           "DeviceError"]


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
