"""fastap's exceptions: a small hierarchy, so callers can catch what they mean.

``FastapError`` is the base. Bad input raises ``InvalidAnnotationError`` (a
``ValueError``) or ``InvalidTypeError`` (a ``TypeError``), each naming the field and the
record (index, and id when there is one) that caused it.
"""

__all__ = ["FastapError", "InvalidAnnotationError", "InvalidTypeError", "InvalidFileError", "DeviceError"]


class FastapError(Exception):
    """Base class of every exception fastap raises on purpose."""


class InvalidAnnotationError(FastapError, ValueError):
    """A ground-truth annotation or a detection has a bad value."""


class InvalidTypeError(FastapError, TypeError):
    """An argument or a field has the wrong type."""


class InvalidFileError(InvalidAnnotationError):
    """A file could not be read as the expected JSON; the message names the file."""


class DeviceError(FastapError, ValueError):
    """Arrays on different devices: CUDA and host arrays mixed, or two CUDA devices."""
