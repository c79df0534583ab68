"""Readers for ground truth and detections beyond COCO JSON: YOLO txt label folders and
PASCAL VOC (XML annotations, the devkit's per-class detection files).

Every reader returns :class:`Columns`, a dict of NumPy columns that
:func:`fastap.evaluate` takes as it is (ground truth: ``image_id``, ``category_id``,
``bbox`` float64 [N, 4] xywh in pixels, ``iscrowd``, ``ignore``; detections: the same
plus ``score``), with the image list (``images``: file stems, ``images[i]`` is image id
``i``), the image sizes and the class names as attributes. Image ids are the positions
of the sorted stems, so ground truth and detections line up by stem: read the ground
truth first and pass it as ``images=`` when reading the detections.

Box conventions (the one place each rule lives):

* YOLO: a line is ``class cx cy w h`` (ground truth) or ``class cx cy w h conf``
  (predictions, ultralytics' ``save_txt`` with ``save_conf``), normalised by the image
  width ``W`` and height ``H``. The pixel corners are computed as ultralytics'
  ``xywhn2xyxy`` does, ``x1 = W * (cx - w / 2)``, ``x2 = W * (cx + w / 2)`` (same for
  y with ``H``), and the box is ``[x1, y1, x2 - x1, y2 - y1]``. With a power-of-two
  image size and boxes on whole pixels the round trip COCO -> YOLO -> pixels is exact;
  otherwise it is exact to about 1e-13 pixel. Values must be finite, ``w`` and ``h``
  non-negative, and ``cx cy w h`` within ``[-0.05, 1.05]`` (:data:`YOLO_TOLERANCE`: real boxes
  overrun the image border by a few pixels; values far outside mean pixel coordinates
  were written where normalised ones belong); anything else is an error, not clipped.
* YOLO OBB (ultralytics): a line is ``class x1 y1 x2 y2 x3 y3 x4 y4`` (``conf`` after it
  for predictions), the corners normalised by ``W`` and ``H``: pixel ``x = W * xn``,
  ``y = H * yn``; the same [-0.05, 1.05] tolerance. Read into ``poly`` float64 [N, 8].
* DOTA (task 1): label files ``x1 y1 x2 y2 x3 y3 x4 y4 class difficult`` in pixels, with
  optional header lines ``imagesource:...`` and ``gsd:...``; a line without ``difficult``
  means 0, as in the devkit's parse_gt. Results: one file per class
  ``Task1_<class>.txt`` with lines ``image_id score x1 y1 ... x4 y4``. Read into
  ``poly`` float64 [N, 8] (:func:`fastap.evaluate_dota`'s input).
* VOC: ``<bndbox>`` holds 1-based inclusive pixel corners; the box is
  ``[xmin, ymin, xmax - xmin, ymax - ymin]``. ``protocol="voc"`` (``plus_one=True``)
  adds the devkit's +1 to widths and heights, which reproduces the devkit's numbers;
  ``protocol="coco"`` sees the same boxes as a VOC-to-COCO JSON conversion with
  ``w = xmax - xmin``. ``<difficult>1</difficult>`` sets ``ignore``: VOC AP leaves those
  objects out; under the COCO protocol ``ignore`` has no effect (pycocotools replaces it
  by ``iscrowd``), as for a COCO JSON holding ``"ignore": 1``.

Errors name the file, the line (text files) or object (XML; both counted from 1) and
the field: :class:`~fastap.errors.InvalidAnnotationError` for bad values,
:class:`~fastap.errors.InvalidFileError` for files that cannot be read.

Text is parsed in bulk: all label files are read, joined, and parsed by one
``np.fromstring`` call with a sentinel marking each line end, so the per-line field
count is checked without a Python loop per line; a file that fails the bulk checks is
re-read line by line to report the exact line and field.
"""
from __future__ import annotations

import os
import struct

import numpy as np

from .errors import InvalidAnnotationError, InvalidFileError
from .adapters.jsonfile import load_json_bytes, read_bytes

__all__ = ["Columns", "read_yolo", "read_yolo_obb", "read_voc_xml", "read_voc_results", "read_dota",
           "read_dota_results", "read_image_size",
           "read_image_sizes", "read_class_names", "YOLO_TOLERANCE", "IMAGE_EXTENSIONS"]

#: How far outside [0, 1] a normalised YOLO value may lie before it is an error.
YOLO_TOLERANCE = 0.05

#: Image file extensions looked for in an images folder (ultralytics' list).
IMAGE_EXTENSIONS = (".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp",
                    ".pfm", ".heic", ".gif")

_YOLO_FIELDS = ("class", "cx", "cy", "w", "h", "conf")
_VOC_RESULT_FIELDS = ("image_id", "score", "xmin", "ymin", "xmax", "ymax")
_QUAD_FIELDS = ("x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4")
_DOTA_FIELDS = _QUAD_FIELDS + ("class", "difficult")
_DOTA_RESULT_FIELDS = ("image_id", "score") + _QUAD_FIELDS
_OBB_FIELDS = ("class",) + _QUAD_FIELDS + ("conf",)
_DOTA_HEADERS = (b"imagesource:", b"gsd:")


class Columns(dict):
    """Columns for :func:`fastap.evaluate` (a dict of NumPy arrays), with

    ``images``: list of str, the image names (file stems); image id ``i`` is
    ``images[i]``; ``image_sizes``: int64 [I, 2] (width, height) or None when unknown;
    ``class_names``: list of str (category id ``k`` is ``class_names[k]``) or None.
    """

    def __init__(self, columns, images, image_sizes=None, class_names=None):
        super().__init__(columns)
        self.images = list(images)
        self.image_sizes = image_sizes
        self.class_names = None if class_names is None else list(class_names)

    @property
    def image_ids(self):
        """int64 [I]: the ids of every image, with or without records (0..I-1)."""
        return np.arange(len(self.images), dtype=np.int64)

    def __repr__(self):
        n = len(self.get("image_id", ()))
        return "Columns(%d records, %d images, %s)" % (
            n, len(self.images), "no class names" if self.class_names is None
            else "%d classes" % len(self.class_names))


def _error(path, where, field, message):
    loc = "" if where is None else " %s:" % where
    return InvalidAnnotationError("%s:%s field '%s' %s" % (os.fspath(path), loc, field, message))


def _fields_error(path, line, n, field_names):
    """A line with the wrong number of fields: name the first missing field, or say
    how many there are too many."""
    want = "expected %d fields (%s), got %d" % (len(field_names), " ".join(field_names), n)
    if n < len(field_names):
        return _error(path, "line %d" % line, field_names[n], "is missing: " + want)
    return InvalidAnnotationError("%s: line %d: %d extra field(s): %s" % (os.fspath(path), line,
                                                                      n - len(field_names), want))


def _listdir(path, what):
    try:
        return sorted(os.listdir(path))
    except OSError as e:
        raise InvalidFileError("%s: cannot list the %s folder (%s)" % (os.fspath(path), what, e.strerror or e)) \
            from None


# ----------------------------------------------------------------------------- class names

def read_class_names(source):
    """Class names from a list, a ``classes.txt`` (one name per line) or a YOLO
    ``data.yaml`` (its ``names:`` as a flow list ``[a, b]``, a block list ``- a`` or a
    mapping ``0: a``; PyYAML is used when installed, a small reader of those forms
    otherwise). Returns a list of str (category id = position)."""
    if source is None:
        return None
    if not isinstance(source, (str, bytes, os.PathLike)):
        names = [str(n) for n in source]
        return names
    path = os.fspath(source)
    text = read_bytes(path).decode("utf-8", errors="replace")
    if path.lower().endswith((".yaml", ".yml")):
        return _yaml_names(text, path)
    names = [ln.strip() for ln in text.splitlines()]
    while names and not names[-1]:
        names.pop()
    for i, n in enumerate(names):
        if not n:
            raise _error(path, "line %d" % (i + 1), "name", "is empty")
    return names


def _yaml_names(text, path):
    try:
        import yaml  # optional
    except ImportError:
        yaml = None
    if yaml is not None:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise InvalidFileError("%s: not a valid YAML file (%s)" % (path, str(e).replace("\n", " "))) from None
        names = data.get("names") if isinstance(data, dict) else None
    else:
        names = _simple_yaml_names(text)
    if isinstance(names, dict):
        keys = sorted(names)
        if keys != list(range(len(keys))):
            raise _error(path, None, "names", "should map 0..%d to names, got keys %r" % (len(keys) - 1, keys))
        names = [names[k] for k in keys]
    if not isinstance(names, list):
        raise _error(path, None, "names", "is missing (expected a list or a mapping index: name)")
    return [str(n) for n in names]


def _unquote(s):
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


def _simple_yaml_names(text):
    """The ``names:`` entry of a data.yaml in the three forms YOLO datasets use."""
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if not ln.startswith("names:"):
            continue
        rest = ln[len("names:"):].split(" #")[0].strip()
        if rest.startswith("["):
            j = i
            while "]" not in rest and j + 1 < len(lines):
                j += 1
                rest += " " + lines[j].strip()
            body = rest[1:rest.index("]")] if "]" in rest else rest[1:]
            return [_unquote(x) for x in body.split(",") if x.strip()]
        items, mapping = [], {}
        for ln2 in lines[i + 1:]:
            s = ln2.split(" #")[0]
            if not s.strip():
                continue
            if not s[0].isspace() and not s.startswith("-"):
                break
            s = s.strip()
            if s.startswith("- "):
                items.append(_unquote(s[2:]))
            elif ":" in s:
                k, v = s.split(":", 1)
                try:
                    mapping[int(k.strip())] = _unquote(v)
                except ValueError:
                    break
        return mapping if mapping else items
    return None


# ----------------------------------------------------------------------------- image sizes

def read_image_size(path):
    """(width, height) of an image from its header, in pure Python: PNG, JPEG (with
    the EXIF orientation applied: 5-8 swap width and height), GIF, BMP, WebP; other
    formats through Pillow when it is installed. InvalidFileError naming the file if
    the header cannot be read."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(32)
            if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
                return struct.unpack(">II", head[16:24])
            if head[:6] in (b"GIF87a", b"GIF89a"):
                return struct.unpack("<HH", head[6:10])
            if head[:2] == b"BM" and len(head) >= 26:
                w, h = struct.unpack("<ii", head[18:26])
                return w, abs(h)
            if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
                return _webp_size(head + f.read(32), path)
            if head[:2] == b"\xff\xd8":
                f.seek(2)
                return _jpeg_size(f, path)
    except OSError as e:
        raise InvalidFileError("%s: cannot read the image (%s)" % (path, e.strerror or e)) from None
    except struct.error:
        raise InvalidFileError("%s: truncated image header" % path) from None
    try:
        from PIL import Image  # optional, for TIFF, DNG, HEIC, ...
    except ImportError:
        raise InvalidFileError("%s: cannot read the image size: not a PNG, JPEG, GIF, BMP or WebP header "
                               "(pip install pillow for other formats)" % path) from None
    try:
        with Image.open(path) as im:
            w, h = im.size
            if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                w, h = h, w
            return w, h
    except Exception as e:
        raise InvalidFileError("%s: cannot read the image size (%s)" % (path, e)) from None


def _webp_size(b, path):
    kind = b[12:16]
    if kind == b"VP8 " and len(b) >= 30:
        w, h = struct.unpack("<HH", b[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if kind == b"VP8L" and len(b) >= 25:
        bits = int.from_bytes(b[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X" and len(b) >= 30:
        return int.from_bytes(b[24:27], "little") + 1, int.from_bytes(b[27:30], "little") + 1
    raise InvalidFileError("%s: unreadable WebP header" % path)


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(f, path):
    orientation = 1
    while True:
        b = f.read(1)
        while b == b"\xff":
            b = f.read(1)
        if not b:
            raise InvalidFileError("%s: JPEG without a frame header (SOF)" % path)
        marker = b[0]
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            continue
        if marker in (0xD9, 0xDA):
            raise InvalidFileError("%s: JPEG without a frame header (SOF)" % path)
        (length,) = struct.unpack(">H", f.read(2))
        if length < 2:
            raise InvalidFileError("%s: corrupt JPEG segment length" % path)
        if marker in _SOF:
            h, w = struct.unpack(">HH", f.read(5)[1:5])
            return (h, w) if orientation in (5, 6, 7, 8) else (w, h)
        data = f.read(length - 2)
        if marker == 0xE1 and data[:6] == b"Exif\x00\x00":
            orientation = _exif_orientation(data[6:])


def _exif_orientation(t):
    """EXIF tag 0x0112 from a TIFF block; 1 if absent or unreadable."""
    try:
        end = {b"II": "<", b"MM": ">"}[t[:2]]
        (ifd,) = struct.unpack(end + "I", t[4:8])
        (n,) = struct.unpack(end + "H", t[ifd:ifd + 2])
        for i in range(n):
            e = ifd + 2 + 12 * i
            tag, typ = struct.unpack(end + "HH", t[e:e + 4])
            if tag == 0x0112:
                return struct.unpack(end + "H", t[e + 8:e + 10])[0]
    except (KeyError, struct.error):
        pass
    return 1


def read_image_sizes(source):
    """Image sizes as a dict stem -> (width, height) from

    * a mapping ``{name: (w, h)}`` (names may carry an extension, it is dropped);
    * a JSON file: such a mapping, a list of ``{"file_name"|"name", "width", "height"}``
      records, or a COCO annotation file (its ``images``);
    * a CSV / text file of ``name,width,height`` lines (a header line is skipped; commas
      or whitespace separate the fields);
    * a folder of images: each image's header (:func:`read_image_size`).
    """
    if isinstance(source, dict):
        return {_stem(k): _size_pair(v, "<mapping>", k) for k, v in source.items()}
    path = os.fspath(source)
    if os.path.isdir(path):
        out = {}
        for name in _listdir(path, "images"):
            if name.lower().endswith(IMAGE_EXTENSIONS):
                stem = _stem(name)
                if stem in out:
                    raise InvalidFileError("%s: two images named %r (a stem names one image)" % (path, stem))
                out[stem] = read_image_size(os.path.join(path, name))
        return out
    data = read_bytes(path)
    if path.lower().endswith(".json"):
        obj = load_json_bytes(data, path)
        if isinstance(obj, dict) and isinstance(obj.get("images"), list):
            obj = obj["images"]
        if isinstance(obj, dict):
            return {_stem(k): _size_pair(v, path, k) for k, v in obj.items()}
        if not isinstance(obj, list):
            raise InvalidFileError("%s: expected a mapping name -> [width, height] or a list of "
                                   "{file_name, width, height} records" % path)
        out = {}
        for i, r in enumerate(obj):
            if not isinstance(r, dict):
                raise _error(path, "record %d" % i, "file_name", "should be in a JSON object, got %r" % (r,))
            name = r.get("file_name", r.get("name"))
            if not isinstance(name, str):
                raise _error(path, "record %d" % i, "file_name", "is missing or not a string")
            for k in ("width", "height"):
                if not _positive(r.get(k)):
                    raise _error(path, "record %d" % i, k, "should be a positive number, got %r" % (r.get(k),))
            out[_stem(name)] = (r["width"], r["height"])
        return out
    out = {}
    for i, ln in enumerate(data.decode("utf-8", errors="replace").splitlines()):
        parts = ln.replace(",", " ").split()
        if not parts:
            continue
        if len(parts) != 3:
            raise _error(path, "line %d" % (i + 1), "name,width,height", "expected 3 fields, got %d" % len(parts))
        try:
            w, h = float(parts[1]), float(parts[2])
        except ValueError:
            if not out:        # a header line
                continue
            raise _error(path, "line %d" % (i + 1), "width", "should be a number, got %r" % parts[1]) from None
        if not (_positive(w) and _positive(h)):
            raise _error(path, "line %d" % (i + 1), "width" if not _positive(w) else "height",
                         "should be a positive number, got %r" % (parts[1] if not _positive(w) else parts[2]))
        out[_stem(parts[0])] = (w, h)
    return out


def _stem(name):
    base = os.path.basename(str(name))
    root, ext = os.path.splitext(base)
    return root if ext else base


def _positive(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and 0 < v < float("inf")


def _size_pair(v, path, key):
    if (not isinstance(v, (list, tuple)) or len(v) != 2 or not all(_positive(x) for x in v)):
        raise _error(path, "image %r" % (key,), "size", "should be [width, height] (positive numbers), got %r" % (v,))
    return v[0], v[1]


# ----------------------------------------------------------------------------- bulk text rows

def _parse_rows(paths, blobs, n_fields, field_names):
    """Parse whitespace-separated numeric rows of exactly ``n_fields`` numbers.

    Returns (values float64 [R, n_fields], file index int64 [R], line number int64 [R]
    counted from 1). Blank lines are skipped. One ``np.fromstring`` over all files: a
    sentinel (``nan``) ends each line, so the field count of every line is checked from
    the sentinel positions; files that fail are re-parsed line by line for the error."""
    ends = [b if not b or b.endswith(b"\n") else b + b"\n" for b in blobs]
    n_lines = np.fromiter((b.count(b"\n") for b in ends), np.int64, len(ends))
    text = b"".join(ends).replace(b"\n", b" nan\n")
    values = None
    try:
        values = np.fromstring(text, sep=" ")
    except ValueError:
        pass
    if values is not None:
        sent = np.flatnonzero(np.isnan(values))
        if sent.shape[0] == int(n_lines.sum()):
            counts = np.diff(sent, prepend=-1) - 1
            ok = (counts == 0) | (counts == n_fields)
            if ok.all():
                rows = values[~np.isnan(values)].reshape(-1, n_fields)
                line_file = np.repeat(np.arange(len(ends), dtype=np.int64), n_lines)
                line_start = np.cumsum(n_lines) - n_lines
                keep = np.flatnonzero(counts)
                f = line_file[keep]
                return rows, f, keep - line_start[f] + 1
    # slow path: find the first bad file and line (or accept what float() accepts)
    rows, files, lines = [], [], []
    for fi, (path, b) in enumerate(zip(paths, blobs)):
        try:
            text = b.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InvalidFileError("%s: not a UTF-8 text file (byte %d)" % (path, e.start)) from None
        for li, ln in enumerate(text.split("\n")):
            parts = ln.split()
            if not parts:
                continue
            if len(parts) != n_fields:
                raise _fields_error(path, li + 1, len(parts), field_names)
            vals = []
            for name, p in zip(field_names, parts):
                try:
                    v = float(p)
                except ValueError:
                    raise _error(path, "line %d" % (li + 1), name, "should be a number, got %r" % p) from None
                if v != v:
                    raise _error(path, "line %d" % (li + 1), name, "should be finite, got %r" % p)
                vals.append(v)
            rows.append(vals)
            files.append(fi)
            lines.append(li + 1)
    return (np.asarray(rows, np.float64).reshape(-1, n_fields), np.asarray(files, np.int64),
            np.asarray(lines, np.int64))


def _first_bad(mask, paths, files, lines, field, message, values):
    i = int(np.flatnonzero(mask)[0])
    v = float(values[i])
    return _error(paths[files[i]], "line %d" % lines[i], field, message % (int(v) if v == int(v) else v,))


# ----------------------------------------------------------------------------- YOLO

def _yolo_files(labels_dir, image_sizes, images_dir, class_names, images):
    """The label files of a YOLO folder and what fixes their ids (read_yolo's parameters):
    (class names or None, paths, their stems, all image stems, stem -> image id, image
    sizes [I, 2] or None)."""
    if isinstance(images, Columns):
        if image_sizes is None and images_dir is None and images.image_sizes is not None:
            image_sizes = dict(zip(images.images, map(tuple, images.image_sizes.tolist())))
        if class_names is None:
            class_names = images.class_names
        images = images.images
    names = read_class_names(class_names)
    if isinstance(labels_dir, (list, tuple)):
        paths = [os.fspath(p) for p in labels_dir]
    else:
        d = os.fspath(labels_dir)
        paths = [os.path.join(d, n) for n in _listdir(d, "labels")
                 if n.endswith(".txt") and n != "classes.txt"]
    stems = [_stem(p) for p in paths]
    if len(set(stems)) != len(stems):
        raise InvalidFileError("%s: two label files for one image stem" % os.fspath(labels_dir))
    sizes = None
    if images_dir is not None:
        sizes = read_image_sizes(images_dir)
    elif image_sizes is not None:
        sizes = read_image_sizes(image_sizes)
    if images is None:
        all_stems = sorted(set(stems) | set(sizes or ()))
    else:
        all_stems = [str(s) for s in images]
    index = {s: i for i, s in enumerate(all_stems)}
    for p, s in zip(paths, stems):
        if s not in index:
            raise InvalidFileError("%s: image %r is not among the %d images (no such ground-truth image)"
                                   % (p, s, len(all_stems)))
        if sizes is not None and s not in sizes:
            raise _error(p, None, "size", "is missing: no image size for %r (give it in the image sizes "
                         "or put the image in the images folder)" % s)
    if sizes is None and paths:
        raise _error(paths[0], None, "size", "is missing: YOLO boxes are normalised to the image size; pass "
                     "image_sizes= (a file or a mapping) or images_dir= (from the command line: --image-sizes "
                     "FILE or --images DIR)")
    size_arr = None
    if sizes is not None:
        size_arr = np.array([sizes.get(s, (0, 0)) for s in all_stems], np.float64).reshape(-1, 2)
        if (size_arr == np.round(size_arr)).all():
            size_arr = size_arr.astype(np.int64)

    return names, paths, stems, all_stems, index, size_arr


def read_yolo(labels_dir, image_sizes=None, images_dir=None, class_names=None, predictions=False,
              images=None):
    """Read a YOLO label folder (one ``<stem>.txt`` per image).

    Parameters
    ----------
    labels_dir : path or list of paths
        Folder of ``*.txt`` files (a ``classes.txt`` in it is skipped), or a list of such
        files.
    image_sizes : mapping or path, optional
        The images' (width, height): a mapping stem -> (w, h) or a file (see
        :func:`read_image_sizes`). Or ``images_dir``:
    images_dir : path, optional
        A folder of images whose headers give the sizes.
    class_names : list of str or path, optional
        List of names, or a ``classes.txt`` / ``data.yaml`` path: class indices must then
        be < len(names). Without it any non-negative index is accepted.
    predictions : bool, optional
        Lines are ``class cx cy w h conf`` (ultralytics ``save_txt`` + ``save_conf``) and
        the result has a ``score`` column.
    images : Columns or list of str, optional
        The image list that fixes the ids: the :class:`Columns` of the ground truth (its
        image sizes and class names are then the defaults too) or a list of stems. Label
        files of other images are an error. Default: the sorted union of the label files'
        stems and the images with a size (from ``image_sizes`` or ``images_dir``): images
        without a label file, or with an empty one, are images without objects.

    Returns
    -------
    Columns
        ``image_id`` int64 [N], ``category_id`` int64 [N] (the class index), ``bbox``
        float64 [N, 4] pixel xywh (see the module docstring for the formula),
        ``iscrowd``/``ignore`` uint8 zeros (ground truth) or ``score`` float64 [N]
        (predictions); records in file order, files in stem order.
    """
    fields = _YOLO_FIELDS if predictions else _YOLO_FIELDS[:5]
    names, paths, stems, all_stems, index, size_arr = _yolo_files(labels_dir, image_sizes, images_dir,
                                                                   class_names, images)
    blobs = [read_bytes(p) for p in paths]
    rows, files, lines = _parse_rows(paths, blobs, len(fields), fields)
    cls = rows[:, 0]
    bad = ~np.isfinite(rows)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise _error(paths[files[r]], "line %d" % lines[r], fields[c], "should be finite, got %r" % float(rows[r, c]))
    bad = (cls != np.floor(cls)) | (cls < 0)
    if bad.any():
        raise _first_bad(bad, paths, files, lines, "class", "should be a non-negative integer, got %r", cls)
    if names is not None:
        bad = cls >= len(names)
        if bad.any():
            raise _first_bad(bad, paths, files, lines, "class",
                             "is out of range: %%r, with %d class names" % len(names), cls)
    for c in range(1, 5):
        v = rows[:, c]
        bad = (v < (0 if c >= 3 else -YOLO_TOLERANCE)) | (v > 1 + YOLO_TOLERANCE)
        if bad.any():
            raise _first_bad(bad, paths, files, lines, fields[c], "should be normalised to [0, 1] "
                             "(tolerance %g; w and h >= 0), got %%r" % YOLO_TOLERANCE, v)
    file_img = np.array([index[s] for s in stems], np.int64)
    image_id = file_img[files]
    wh = (np.zeros((0, 2)) if size_arr is None else np.asarray(size_arr, np.float64))[image_id]
    W, H = wh[:, 0], wh[:, 1]
    cx, cy, w, h = rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4]
    x1 = W * (cx - w / 2)          # ultralytics' xywhn2xyxy
    y1 = H * (cy - h / 2)
    x2 = W * (cx + w / 2)
    y2 = H * (cy + h / 2)
    bbox = np.ascontiguousarray(np.stack([x1, y1, x2 - x1, y2 - y1], axis=1))
    cols = {"image_id": image_id, "category_id": cls.astype(np.int64), "bbox": bbox}
    n = rows.shape[0]
    if predictions:
        conf = rows[:, 5]
        cols["score"] = np.ascontiguousarray(conf)
    else:
        cols["iscrowd"] = np.zeros(n, np.uint8)
        cols["ignore"] = np.zeros(n, np.uint8)
    return Columns(cols, all_stems, size_arr, names)


# ----------------------------------------------------------------------------- VOC

def read_voc_xml(annotations, class_names=None):
    """Read PASCAL VOC XML annotations (one file per image, e.g. ``Annotations/``).

    Parameters
    ----------
    annotations : path or list of paths
        A folder of ``*.xml`` files, or a list of files. The image name is the file stem
        (as in the devkit's ``ImageSets`` lists and result files).
    class_names : list of str or path, optional
        List of names or a names file (see :func:`read_class_names`); an object of another
        class is an error. Default: the sorted names found.

    Returns
    -------
    Columns
        ``image_id`` int64 [N] (position of the stem in ``images``), ``category_id``
        int64 [N] (position in ``class_names``), ``bbox`` float64 [N, 4] =
        ``[xmin, ymin, xmax - xmin, ymax - ymin]``, ``iscrowd`` uint8 zeros,
        ``ignore`` uint8 (``<difficult>``), ``truncated`` uint8; ``image_sizes`` from
        ``<size>`` (0 where absent).
    """
    import xml.etree.ElementTree as ET
    if isinstance(annotations, (list, tuple)):
        paths = sorted(os.fspath(p) for p in annotations)
    else:
        d = os.fspath(annotations)
        paths = [os.path.join(d, n) for n in _listdir(d, "annotations") if n.lower().endswith(".xml")]
    stems = [_stem(p) for p in paths]
    if len(set(stems)) != len(stems):
        raise InvalidFileError("%s: two annotation files for one image stem" % os.fspath(annotations))
    img, names_s, boxes, diff, trunc, sizes = [], [], [], [], [], []
    for i, p in enumerate(paths):
        try:
            root = ET.fromstring(read_bytes(p))
        except (ET.ParseError, LookupError, ValueError) as e:     # LookupError: an unknown declared encoding
            raise InvalidFileError("%s: not a valid XML file (%s)" % (p, e)) from None
        size = root.find("size")
        wh = (0, 0)
        if size is not None:
            wh = tuple(_xml_number(size, k, p, "size", positive=True) for k in ("width", "height"))
        sizes.append(wh)
        for j, obj in enumerate(root.iter("object")):
            where = "object %d" % (j + 1)
            name = obj.findtext("name")
            if name is None or not name.strip():
                raise _error(p, where, "name", "is missing")
            bb = obj.find("bndbox")
            if bb is None:
                raise _error(p, where, "bndbox", "is missing")
            b = [_xml_number(bb, k, p, where) for k in ("xmin", "ymin", "xmax", "ymax")]
            for lo, hi in (("xmin", "xmax"), ("ymin", "ymax")):
                a, c = b[("xmin", "ymin", "xmax", "ymax").index(lo)], b[("xmin", "ymin", "xmax", "ymax").index(hi)]
                if c < a:
                    raise _error(p, where, hi, "is smaller than %s: %r < %r" % (lo, c, a))
            flags = []
            for k in ("difficult", "truncated"):
                t = obj.findtext(k)
                t = "0" if t is None or not t.strip() else t.strip()
                if t not in ("0", "1"):
                    raise _error(p, where, k, "should be 0 or 1, got %r" % t)
                flags.append(int(t))
            img.append(i)
            names_s.append(name.strip())
            boxes.append(b)
            diff.append(flags[0])
            trunc.append(flags[1])
    names = read_class_names(class_names)
    if names is None:
        names = sorted(set(names_s))
    cat_of = {n: k for k, n in enumerate(names)}
    cats = []
    if len(names_s):
        for n, i in zip(names_s, img):
            if n not in cat_of:
                k = names_s.index(n)
                obj_no = img[:k].count(img[k]) + 1
                raise _error(paths[img[k]], "object %d" % obj_no, "name",
                             "is %r, not one of the %d class names" % (n, len(names)))
            cats.append(cat_of[n])
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    bbox = np.ascontiguousarray(np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1))
    n = b.shape[0]
    size_arr = np.asarray(sizes, np.float64).reshape(-1, 2)
    if (size_arr == np.round(size_arr)).all():
        size_arr = size_arr.astype(np.int64)
    cols = {"image_id": np.asarray(img, np.int64), "category_id": np.asarray(cats, np.int64).reshape(n),
            "bbox": bbox, "iscrowd": np.zeros(n, np.uint8), "ignore": np.asarray(diff, np.uint8),
            "truncated": np.asarray(trunc, np.uint8)}
    return Columns(cols, stems, size_arr, names)


def _xml_number(elem, key, path, where, positive=False):
    t = elem.findtext(key)
    if t is None or not t.strip():
        raise _error(path, where, key, "is missing")
    try:
        v = float(t)
    except ValueError:
        raise _error(path, where, key, "should be a number, got %r" % t.strip()) from None
    if not np.isfinite(v) or (positive and v <= 0):
        raise _error(path, where, key, "should be a %s number, got %r" % ("positive" if positive else "finite",
                                                                          t.strip()))
    return int(v) if v == int(v) else v


def _class_of_file(path, names):
    """Class of a devkit result file ``..._det_<set>_<class>.txt`` / ``<class>.txt``:
    the longest class name the file stem ends with (after ``_`` or alone)."""
    stem = _stem(path)
    if names is None:
        return stem.rsplit("_", 1)[-1]
    best = None
    for n in names:
        if stem == n or stem.endswith("_" + n):
            if best is None or len(n) > len(best):
                best = n
    if best is None:
        raise InvalidFileError("%s: the file name names none of the %d classes (expected "
                               "comp4_det_test_<class>.txt or <class>.txt)" % (path, len(names)))
    return best



def _result_paths(results):
    """The per-class results files: a list of paths, a folder's ``.txt`` files, or one
    path."""
    if isinstance(results, (list, tuple)):
        return [os.fspath(p) for p in results]
    if os.path.isdir(results):
        d = os.fspath(results)
        return [os.path.join(d, n) for n in _listdir(d, "results") if n.endswith(".txt")]
    return [os.fspath(results)]

def read_voc_results(results, images, class_names=None):
    """Read detections in the VOC devkit's per-class format: one file per class
    (``comp4_det_test_<class>.txt``, or ``<class>.txt``), lines
    ``<image stem> <score> <xmin> <ymin> <xmax> <ymax>``.

    Parameters
    ----------
    results : path or list of paths
        A folder of such ``*.txt`` files, one file, or a list of files.
    images : Columns or list of str
        The ground truth's :class:`Columns` (image ids and class names come from it) or a
        list of image stems. A line naming another image is an error.
    class_names : list of str or path, optional
        Names (default: those of ``images`` when it is a Columns; else the file name's
        last ``_``-separated part).

    Returns
    -------
    Columns
        ``image_id``, ``category_id`` int64 [N], ``bbox`` float64 [N, 4] =
        ``[xmin, ymin, xmax - xmin, ymax - ymin]``, ``score`` float64 [N]; files in
        class order, lines in file order.
    """
    if isinstance(images, Columns):
        if class_names is None:
            class_names = images.class_names
        sizes = images.image_sizes
        images = images.images
    else:
        sizes = None
    names = read_class_names(class_names)
    paths = _result_paths(results)
    file_cls = [_class_of_file(p, names) for p in paths]
    if names is None:
        names = sorted(set(file_cls))
    cat_of = {n: k for k, n in enumerate(names)}
    order = sorted(range(len(paths)), key=lambda i: (cat_of[file_cls[i]], paths[i]))
    index = {str(s): i for i, s in enumerate(images)}
    ids, cats, vals = [], [], []
    for fi in order:
        p = paths[fi]
        b = read_bytes(p)
        marked = (b if not b or b.endswith(b"\n") else b + b"\n").replace(b"\n", b" \x01\n")
        toks = np.array(marked.split())
        n_lines = b.count(b"\n") + (0 if not b or b.endswith(b"\n") else 1)
        if toks.shape[0] == 0:
            continue
        sent = np.flatnonzero(toks == b"\x01")
        counts = np.diff(sent, prepend=-1) - 1
        bad = (counts != 0) & (counts != 6)
        if sent.shape[0] != n_lines:
            raise InvalidFileError("%s: not a text file of detections (control characters)" % p)
        if bad.any():
            li = int(np.flatnonzero(bad)[0])
            raise _fields_error(p, li + 1, int(counts[li]), _VOC_RESULT_FIELDS)
        rows = toks[toks != b"\x01"].reshape(-1, 6)
        line_no = np.flatnonzero(counts) + 1
        try:
            num = rows[:, 1:].astype(np.float64)
        except ValueError:
            for r in range(rows.shape[0]):
                for c in range(1, 6):
                    try:
                        float(rows[r, c])
                    except ValueError:
                        raise _error(p, "line %d" % line_no[r], _VOC_RESULT_FIELDS[c], "should be a number, got %r"
                                     % rows[r, c].decode("utf-8", "replace")) from None
            raise
        bad = ~np.isfinite(num).all(axis=1)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            c = int(np.flatnonzero(~np.isfinite(num[r]))[0])
            raise _error(p, "line %d" % line_no[r], _VOC_RESULT_FIELDS[c + 1], "should be finite, got %r"
                         % float(num[r, c]))
        for lo, hi in ((1, 3), (2, 4)):
            bad = num[:, hi] < num[:, lo]
            if bad.any():
                r = int(np.flatnonzero(bad)[0])
                raise _error(p, "line %d" % line_no[r], _VOC_RESULT_FIELDS[hi + 1], "is smaller than %s: %r < %r"
                             % (_VOC_RESULT_FIELDS[lo + 1], float(num[r, hi]), float(num[r, lo])))
        uniq, inv = np.unique(rows[:, 0], return_inverse=True)
        uid = np.empty(uniq.shape[0], np.int64)
        for k, u in enumerate(uniq.tolist()):
            s = u.decode("utf-8", "replace")
            if s not in index:
                r = int(np.flatnonzero(inv == k)[0])
                raise _error(p, "line %d" % line_no[r], "image_id", "is %r, not one of the %d images" % (s, len(index)))
            uid[k] = index[s]
        ids.append(uid[inv.reshape(-1)])
        cats.append(np.full(rows.shape[0], cat_of[file_cls[fi]], np.int64))
        vals.append(num)
    num = np.concatenate(vals) if vals else np.zeros((0, 5))
    bbox = np.ascontiguousarray(np.stack([num[:, 1], num[:, 2], num[:, 3] - num[:, 1], num[:, 4] - num[:, 2]],
                                         axis=1))
    cols = {"image_id": np.concatenate(ids) if ids else np.zeros(0, np.int64),
            "category_id": np.concatenate(cats) if cats else np.zeros(0, np.int64),
            "bbox": bbox, "score": np.ascontiguousarray(num[:, 0])}
    return Columns(cols, [str(s) for s in images], sizes, names)



# ----------------------------------------------------------------------------- YOLO OBB, DOTA

def read_yolo_obb(labels_dir, image_sizes=None, images_dir=None, class_names=None, predictions=False,
                  images=None):
    """Read an ultralytics OBB label folder (one ``<stem>.txt`` per image, lines ``class x1
    y1 x2 y2 x3 y3 x4 y4``, corners normalised to [0, 1]; ``conf`` last for predictions).

    Parameters are :func:`read_yolo`'s (the image sizes are needed: pixel ``x = W * xn``,
    ``y = H * yn``). Returns :class:`Columns` with ``image_id``, ``category_id`` int64
    [N], ``poly`` float64 [N, 8] in pixels and ``difficult`` uint8 zeros (ground truth)
    or ``score`` float64 [N] (predictions): :func:`fastap.evaluate_dota`'s input."""
    fields = _OBB_FIELDS if predictions else _OBB_FIELDS[:9]
    names, paths, stems, all_stems, index, size_arr = _yolo_files(labels_dir, image_sizes, images_dir,
                                                                   class_names, images)
    blobs = [read_bytes(p) for p in paths]
    rows, files, lines = _parse_rows(paths, blobs, len(fields), fields)
    bad = ~np.isfinite(rows)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise _error(paths[files[r]], "line %d" % lines[r], fields[c], "should be finite, got %r" % float(rows[r, c]))
    cls = rows[:, 0]
    bad = (cls != np.floor(cls)) | (cls < 0)
    if bad.any():
        raise _first_bad(bad, paths, files, lines, "class", "should be a non-negative integer, got %r", cls)
    if names is not None and (cls >= len(names)).any():
        raise _first_bad(cls >= len(names), paths, files, lines, "class",
                         "is out of range: %%r, with %d class names" % len(names), cls)
    for c in range(1, 9):
        v = rows[:, c]
        bad = (v < -YOLO_TOLERANCE) | (v > 1 + YOLO_TOLERANCE)
        if bad.any():
            raise _first_bad(bad, paths, files, lines, fields[c], "should be normalised to [0, 1] "
                             "(tolerance %g), got %%r" % YOLO_TOLERANCE, v)
    image_id = np.array([index[s] for s in stems], np.int64)[files]
    wh = (np.zeros((0, 2)) if size_arr is None else np.asarray(size_arr, np.float64))[image_id]
    poly = np.ascontiguousarray(rows[:, 1:9] * np.tile(wh, 4))
    cols = {"image_id": image_id, "category_id": cls.astype(np.int64), "poly": poly}
    if predictions:
        cols["score"] = np.ascontiguousarray(rows[:, 9])
    else:
        cols["difficult"] = np.zeros(rows.shape[0], np.uint8)
    return Columns(cols, all_stems, size_arr, names)


def _token_lines(path, b, field_names, short_ok=False, headers=()):
    """The lines of a whitespace-separated text file as a token table: (tokens bytes
    [R, n], line numbers [R] from 1), n = len(field_names); blank lines and header lines
    (one token starting with one of ``headers``) skipped. ``short_ok``: a line may lack
    the last field (its token is then b""). A line with another number of fields is an
    InvalidFileError naming the file, the line and the missing field."""
    n = len(field_names)
    marked = (b if not b or b.endswith(b"\n") else b + b"\n").replace(b"\r", b"").replace(b"\n", b" \x01\n")
    toks = np.array(marked.split() + [b"\x01"])[:-1] if marked.strip() else np.zeros(0, "S1")
    if toks.shape[0] == 0:
        return np.zeros((0, n), "S1"), np.zeros(0, np.int64)
    sent = np.flatnonzero(toks == b"\x01")
    n_lines = b.count(b"\n") + (0 if b.endswith(b"\n") else 1)
    if sent.shape[0] != n_lines:
        raise InvalidFileError("%s: not a text file of %s lines (control characters)" % (path, " ".join(field_names)))
    start = np.r_[0, sent[:-1] + 1]
    counts = sent - start
    header = np.zeros(counts.shape[0], bool)
    if headers:
        one = np.flatnonzero(counts == 1)
        first = toks[start[one]]
        header[one] = np.any([np.char.startswith(first, h) for h in headers], axis=0)
    ok = (counts == 0) | header | (counts == n) | ((counts == n - 1) if short_ok else False)
    if not ok.all():
        li = int(np.flatnonzero(~ok)[0])
        e = _fields_error(path, li + 1, int(counts[li]), field_names)
        raise InvalidFileError(str(e))
    keep = np.flatnonzero((counts > 0) & ~header)
    idx = start[keep, None] + np.arange(n)
    full = counts[keep] == n
    out = toks[np.minimum(idx, toks.shape[0] - 1)]
    if short_ok:
        out[~full, n - 1] = b""
    return out, keep + 1


def _numbers(path, rows, lines, field_names, first):
    """float64 [R, k] of the token columns first..first+k-1, finite; a bad token is an
    InvalidFileError naming the file, line and field."""
    try:
        num = rows.astype(np.float64)
    except ValueError:
        num = None
    if num is not None and np.isfinite(num).all():
        return num
    for r in range(rows.shape[0]):
        for c in range(rows.shape[1]):
            try:
                v = float(rows[r, c])
            except ValueError:
                v = None
            if v is None or v != v or v in (float("inf"), float("-inf")):
                raise InvalidFileError("%s: line %d: field '%s' should be a finite number, got %r" % (
                    path, lines[r], field_names[first + c], rows[r, c].decode("utf-8", "replace")))
    raise AssertionError("unreachable")



def _token_ids(path, tokens, lines, table, field, what):
    """int64 [n]: ``table[token]`` of each byte-string token of a text file's lines (one
    lookup per distinct token); a token not in ``table`` is an InvalidFileError naming
    the file, the line (``lines``: the rows' line numbers) and ``field``."""
    u, inv = np.unique(tokens, return_inverse=True)
    ids = np.empty(u.shape[0], np.int64)
    for k, x in enumerate(u.tolist()):
        name = x.decode("utf-8", "replace")
        if name not in table:
            r = int(np.flatnonzero(inv.reshape(-1) == k)[0])
            raise InvalidFileError("%s: line %d: field '%s' is %r, not one of the %d %s"
                                   % (path, lines[r], field, name, len(table), what))
        ids[k] = table[name]
    return ids[inv.reshape(-1)]

def read_dota(labels, class_names=None, images=None):
    """Read DOTA label files (one ``<stem>.txt`` per image; task 1's oriented boxes).

    Parameters
    ----------
    labels : path or list of paths
        A ``labelTxt`` folder of ``*.txt`` files, or a list of them. Lines: optional
        headers ``imagesource:...`` / ``gsd:...``, then ``x1 y1 x2 y2 x3 y3 x4 y4 class
        difficult`` (pixels; ``difficult`` may be left out: 0, as the devkit reads it).
    class_names : list of str or path, optional
        The classes (category id ``k`` is ``class_names[k]``); a class outside it is an
        error. Default: the sorted names found (pass
        ``fastap.protocols.dota.DOTA_CLASSES`` for DOTA-v1.0's 15 in the devkit's order).
    images : list of str, optional
        The image stems that fix the ids (default: the label files' stems, sorted).

    Returns
    -------
    Columns
        ``image_id``, ``category_id`` int64 [N], ``poly`` float64 [N, 8], ``difficult``
        uint8 [N] (the file's value != 0); records in file order, files in stem order.
        Errors (:class:`~fastap.errors.InvalidFileError`) name the file, the line and
        the field.
    """
    if isinstance(labels, (list, tuple)):
        paths = [os.fspath(p) for p in labels]
    else:
        d = os.fspath(labels)
        paths = [os.path.join(d, n) for n in _listdir(d, "labels") if n.endswith(".txt")]
    paths.sort(key=_stem)
    stems = [_stem(p) for p in paths]
    if len(set(stems)) != len(stems):
        raise InvalidFileError("%s: two label files for one image stem" % os.fspath(labels))
    all_stems = sorted(stems) if images is None else [str(x) for x in images]
    index = {x: i for i, x in enumerate(all_stems)}
    names = read_class_names(class_names)
    parts = []
    for p, st in zip(paths, stems):
        if st not in index:
            raise InvalidFileError("%s: image %r is not among the %d images" % (p, st, len(all_stems)))
        rows, lines = _token_lines(p, read_bytes(p), _DOTA_FIELDS, short_ok=True, headers=_DOTA_HEADERS)
        num = _numbers(p, rows[:, :8], lines, _DOTA_FIELDS, 0)
        diff_tok = np.where(rows[:, 9] == b"", b"0", rows[:, 9])
        try:
            diff = diff_tok.astype(np.int64)
        except ValueError:
            r = int(np.flatnonzero([not t.lstrip(b"-").isdigit() for t in diff_tok.tolist()])[0])
            raise InvalidFileError("%s: line %d: field 'difficult' should be an integer, got %r"
                                   % (p, lines[r], diff_tok[r].decode("utf-8", "replace"))) from None
        parts.append((p, index[st], num, rows[:, 8], diff, lines))
    found = sorted({c.decode("utf-8", "replace") for *_, cls, _, _ in parts for c in np.unique(cls).tolist()}) \
        if parts else []
    if names is None:
        names = found
    cat_of = {n: k for k, n in enumerate(names)}
    cols = {"image_id": [], "category_id": [], "poly": [], "difficult": []}
    for p, img, num, cls, diff, lines in parts:
        cols["image_id"].append(np.full(num.shape[0], img, np.int64))
        cols["category_id"].append(_token_ids(p, cls, lines, cat_of, "class", "class names"))
        cols["poly"].append(num)
        cols["difficult"].append((diff != 0).astype(np.uint8))
    out = {k: (np.concatenate(v) if v else np.zeros((0, 8) if k == "poly" else 0,
                                                     np.float64 if k == "poly" else np.int64))
           for k, v in cols.items()}
    out["difficult"] = out["difficult"].astype(np.uint8)
    return Columns(out, all_stems, None, names)


def read_dota_results(results, images, class_names=None):
    """Read DOTA task-1 results: one file per class, ``Task1_<class>.txt``, lines
    ``image_id score x1 y1 x2 y2 x3 y3 x4 y4`` (``image_id``: the image's stem).

    Parameters
    ----------
    results : path or list of paths
        A folder of such files (every ``*.txt`` in it), one file, or a list of files.
    images : Columns or list of str
        The ground truth's :class:`Columns` (:func:`read_dota`; its image ids and class
        names are used) or a list of image stems. A line naming another image is an error.
    class_names : list of str or path, optional
        Default: those of ``images``; else the file name's part after ``Task1_``.

    Returns
    -------
    Columns
        ``image_id``, ``category_id`` int64 [N], ``poly`` float64 [N, 8], ``score``
        float64 [N]; files in class order, lines in file order (the order that decides
        between tied scores). Errors name the file, the line and the field.
    """
    if isinstance(images, Columns):
        if class_names is None:
            class_names = images.class_names
        images = images.images
    names = read_class_names(class_names)
    paths = _result_paths(results)
    if names is None:
        file_cls = [_stem(p)[len("Task1_"):] if _stem(p).startswith("Task1_") else _stem(p) for p in paths]
        names = sorted(set(file_cls))
    else:
        file_cls = [_class_of_file(p, names) for p in paths]
    cat_of = {n: k for k, n in enumerate(names)}
    order = sorted(range(len(paths)), key=lambda i: (cat_of[file_cls[i]], paths[i]))
    index = {str(x): i for i, x in enumerate(images)}
    ids, cats, vals = [], [], []
    for fi in order:
        p = paths[fi]
        rows, lines = _token_lines(p, read_bytes(p), _DOTA_RESULT_FIELDS)
        num = _numbers(p, rows[:, 1:], lines, _DOTA_RESULT_FIELDS, 1)
        ids.append(_token_ids(p, rows[:, 0], lines, index, "image_id", "images"))
        cats.append(np.full(rows.shape[0], cat_of[file_cls[fi]], np.int64))
        vals.append(num)
    num = np.concatenate(vals) if vals else np.zeros((0, 9))
    cols = {"image_id": np.concatenate(ids) if ids else np.zeros(0, np.int64),
            "category_id": np.concatenate(cats) if cats else np.zeros(0, np.int64),
            "poly": np.ascontiguousarray(num[:, 1:]), "score": np.ascontiguousarray(num[:, 0])}
    return Columns(cols, [str(x) for x in images], None, names)
