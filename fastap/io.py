"""Reading COCO-format JSON: annotation files and results files.

Results files (a JSON array of ``{"image_id", "category_id", "bbox", "score"}``
records, 500k of them at COCO val2017 scale) are parsed by a C scanner straight into
columns (``fastap._core.parse_results_json``); files whose records carry masks or
keypoints fall back to the general parser. Annotation files are parsed with orjson when
it is installed, the standard library otherwise. Errors name the file.
"""
from __future__ import annotations

import json
import mmap
import os

from .errors import InvalidFileError

__all__ = ["read_bytes", "load_json", "load_json_bytes", "load_results_columns"]


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise InvalidFileError("%s: cannot read the file (%s)" % (path, e.strerror or e)) from None


def _loads(data, path):
    try:
        import orjson  # optional: 2-3x faster than json for annotation files
    except ImportError:
        orjson = None
    try:
        if orjson is not None:
            return orjson.loads(data)
        return json.loads(data)
    except ValueError as e:
        raise InvalidFileError("%s: not a valid JSON file (%s)" % (path, e)) from None


def load_json(path):
    """Parse a JSON file; InvalidFileError naming the file if it is not JSON."""
    return _loads(read_bytes(path), path)


def load_json_bytes(data, name):
    """Parse JSON text (bytes); InvalidFileError naming `name` if it is not JSON."""
    return _loads(data, name)


def load_results_columns(path):
    """Parse a COCO results file.

    Returns ``("columns", dict)`` for box results parsed by the C scanner (keys
    ``image_id``, ``category_id`` int64, ``bbox`` float64 [N, 4], ``score`` float64);
    ``("geometry", (bytes, dict))`` when the records carry masks or keypoints (the dict
    also has ``seg_span`` / ``kpt_span``, byte ranges of those values in the bytes, and
    NaN boxes where a record has none); ``("records", list)`` for anything the scanner
    does not take (parsed by the general JSON parser)."""
    from . import _core
    try:
        f = open(path, "rb")
    except OSError as e:
        raise InvalidFileError("%s: cannot read the file (%s)" % (path, e.strerror or e)) from None
    with f:
        try:   # scan the page cache in place: no copy of a file of tens of MB
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):          # empty file, or not mappable
            data = f.read()
        try:
            cols = _core.parse_results_json(data)
        except NotImplementedError as e:
            if "segmentation" not in str(e) and "keypoints" not in str(e):
                return "records", _loads(bytes(data), path)
            # masks / keypoints: columns plus the byte spans of those values, which are
            # converted later straight from the text (kept as bytes)
            raw = bytes(data)
            try:
                return "geometry", (raw, _core.parse_results_json(raw, geometry=True))
            except NotImplementedError:
                return "records", _loads(raw, path)
            except ValueError:
                return "records", _loads(raw, path)     # e.g. "bbox": []: pycocotools' rules apply
        except ValueError as e:
            raise InvalidFileError("%s: %s" % (os.fspath(path), e)) from None
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
    return "columns", cols
