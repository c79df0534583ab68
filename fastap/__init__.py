"""fastap: fast, exact object-detection evaluation."""
from ._version import __version__
__all__ = ["__version__"]
