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

from .. import _core
from ..errors import InvalidFileError, InvalidOptionError

__all__ = ["read_bytes", "read_private", "load_json", "load_json_bytes", "load_results_columns",
           "first_keypoints_len"]


def _cannot_read(path, e):
    """The error for a file that cannot be opened or read, naming it."""
    return InvalidFileError("%s: cannot read the file (%s)" % (os.fspath(path), getattr(e, "strerror", None) or e))


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise _cannot_read(path, e) from None


def read_private(path):
    """The file's bytes in private anonymous memory of its own (an ``mmap`` on POSIX,
    ``bytes`` elsewhere or for an empty file): no tie to the file afterwards (it may be
    rewritten), and kept off the malloc heap, where an annotation file of a few MB that
    lives as long as its COCO object would keep the heap from handing freed memory back
    to the next large arrays (a load of 100k keypoint results then faults 27 MB of fresh
    pages: 6 ms)."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise _cannot_read(path, e) from None
    with f:
        try:
            n = os.fstat(f.fileno()).st_size
            if n > 0 and hasattr(mmap, "MAP_ANONYMOUS") and hasattr(mmap, "MAP_PRIVATE"):
                flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)
                data = mmap.mmap(-1, n, flags=flags)
                if f.readinto(data) == n and not f.read(1):
                    return data
                data.close()
                f.seek(0)
            return f.read()
        except (OSError, ValueError) as e:
            raise _cannot_read(path, e) from None


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
    try:
        f = open(path, "rb")
    except OSError as e:
        raise _cannot_read(path, e) from None
    keep = False
    with f:
        try:   # scan the page cache in place: no copy of a file of tens of MB
            data = _map_file(f)
        except (ValueError, OSError):          # empty file, or not mappable
            data = f.read()
        tried = False           # the geometry scan ran and did not take the file
        try:
            head = bytes(data[:1 << 16])
            if b'"segmentation"' in head or b'"keypoints"' in head:
                # masks or keypoints from the first records on (as in every mask or pose
                # results file): the geometry scan straight away, not a box scan that
                # stops at the first record (after counting the file's records: 13 ms
                # at 128 MB)
                geom = _geometry_scan(data, b'"keypoints"' in head)
                if geom is not None:
                    keep = True
                    return "geometry", (data, geom)
                tried = True
            cols = _core.parse_results_json(data)
        except NotImplementedError as e:
            if "segmentation" not in str(e) and "keypoints" not in str(e):
                return "records", _loads(bytes(data), path)
            # masks / keypoints: columns plus the byte spans of those values, which are
            # converted later straight from the text (the mapping is kept open for that);
            # keypoints are parsed during the scan, as many per record as the first has
            g = None if tried else _geometry_scan(data, "keypoints" in str(e))
            if g is None:                  # e.g. "bbox": []: pycocotools' rules apply
                return "records", _loads(bytes(data), path)
            keep = True
            return "geometry", (data, g)
        except InvalidOptionError:             # a bad setting (FASTAP_NUM_THREADS), not the file
            raise
        except ValueError as e:
            raise InvalidFileError("%s: %s" % (os.fspath(path), e)) from None
        finally:
            if isinstance(data, mmap.mmap) and not keep:
                data.close()
    return "columns", cols


def _map_file(f):
    """A read-only mapping of the whole file, its pages mapped up front where the system
    can (MAP_POPULATE: one call instead of a fault per 4 KB page during the scan, which
    the scan's threads would otherwise take at the same time)."""
    populate = getattr(mmap, "MAP_POPULATE", 0)
    if populate and hasattr(mmap, "MAP_SHARED") and hasattr(mmap, "PROT_READ"):
        try:
            return mmap.mmap(f.fileno(), 0, flags=mmap.MAP_SHARED | populate, prot=mmap.PROT_READ)
        except (ValueError, OSError):
            pass
    return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _geometry_scan(data, keypoints):
    """The scan with masks / keypoints (None when it does not take the file; the box
    scan then decides, as when the first records have neither)."""
    stride = first_keypoints_len(data) if keypoints else 0
    try:
        # keypoints: only the x and y of each triple are kept (pycocotools reads no
        # detection's v), when the first record's numbers come in triples
        return _core.parse_results_json(data, geometry=True, kpt_stride=stride,
                                        kpt_xy=stride > 0 and stride % 3 == 0)
    except InvalidOptionError:
        raise
    except (NotImplementedError, ValueError):
        return None


def first_keypoints_len(data, start=0, end=None):
    """Numbers in the first ``"keypoints": [...]`` array of a results file's text, or of
    ``data[start:end]`` (0 when there is none or it does not look like a flat list): a
    guess that the scanner checks record by record."""
    end = len(data) if end is None else end
    i = data.find(b'"keypoints"', start, end)
    if i < 0:
        return 0
    j = data.find(b"[", i, end)
    k = data.find(b"]", j, end)
    if j < 0 or k < 0 or data.find(b"[", j + 1, k) >= 0 or data[i + 11:j].strip(b" \t\r\n:"):
        return 0
    body = data[j + 1:k].strip()
    return body.count(b",") + 1 if body else 0
