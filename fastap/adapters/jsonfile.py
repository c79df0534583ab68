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
import stat
import time

import numpy as np

from .. import _core
from ..errors import InvalidFileError, InvalidOptionError, InvalidTypeError

__all__ = ["check_path", "read_bytes", "read_private", "open_json", "MappedText", "FileText", "load_json", "load_json_bytes",
           "load_results_columns", "first_keypoints_len"]


def _cannot_read(path, e):
    """The error for a file that cannot be opened or read, naming it."""
    return InvalidFileError("%s: cannot read the file (%s)" % (os.fspath(path), getattr(e, "strerror", None) or e))


def check_path(path, what="file"):
    """Refuse anything but a path (str, bytes, os.PathLike) with an InvalidTypeError naming
    what was given: ``open()`` would take an int (or a bool) as a file descriptor, read
    from it and close it (the caller's stdout, or block on stdin for 0)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        fd = " (an int is not taken as a file descriptor)" if isinstance(path, (int, np.integer)) else ""
        raise InvalidTypeError("%s should be a path (str, bytes or os.PathLike), got %s %.80r%s"
                               % (what, type(path).__name__, path, fd))


def read_bytes(path):
    check_path(path)
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
    pages: 6 ms). The file must start like a JSON document (see :func:`open_json`):
    anything else is refused before it is copied."""
    f, stream = open_json(path)
    if stream is not None:
        return stream
    with f:
        try:
            n = os.fstat(f.fileno()).st_size
            if n > 0 and hasattr(mmap, "MAP_ANONYMOUS") and hasattr(mmap, "MAP_PRIVATE"):
                flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)
                data = mmap.mmap(-1, n, flags=flags)
                if _read_checked(f, data, n, path) == n and not f.read(1):
                    return data
                data.close()
                f.seek(0)
            data = f.read()
        except InvalidFileError:
            raise
        except (OSError, ValueError) as e:
            raise _cannot_read(path, e) from None
    _check_chunk(data, path, 0)
    return data


def _read_checked(f, buf, n, path):
    """readinto ``buf`` (n bytes) a chunk at a time, each checked for bytes no JSON text
    holds as it arrives (a file of zeros after a valid start is refused at its first
    chunk, not after a copy of all of it). Returns the bytes read."""
    view, got = memoryview(buf), 0
    try:
        while got < n:
            k = f.readinto(view[got:min(n, got + _COPY_CHUNK)])
            if not k:
                break
            _check_chunk(view[got:got + k], path, got)
            got += k
    finally:
        view.release()
    return got


def _check_chunk(b, path, offset):
    """InvalidFileError when the bytes ``b`` (at ``offset`` in the file) hold a byte no
    JSON text holds."""
    i = _core.find_control_byte(b)
    if i >= 0:
        raise InvalidFileError("%s: not a JSON file: byte %d is %r (no JSON text holds NUL or other control "
                               "bytes)" % (os.fspath(path), offset + i, bytes(b[i:i + 1])))


_COPY_CHUNK = 1 << 22    # bytes copied (and checked) at a time
_WS = b" \t\n\r"
_HEAD = 1 << 12          # bytes looked at first
_CHUNK = 1 << 20         # bytes read at a time from a pipe or device


def _start_error(path, head):
    """Why a file whose first bytes are ``head`` (its first non-whitespace byte included,
    or all of it) is not a JSON document fastap reads, or None when it can be one.

    Accepted: UTF-8 (JSON's encoding, RFC 8259, and what pycocotools reads), with or
    without a byte-order mark, whose first non-whitespace byte is ``{`` or ``[`` (COCO
    files are objects or arrays). UTF-16 / UTF-32 (a byte-order mark, or the NUL bytes
    their ASCII characters carry) are refused with a hint to convert, as pycocotools
    refuses them; so are NUL bytes (a file of zeros: a copy or download that did not
    finish) and anything else (an image, an archive, a text file)."""
    name = os.fspath(path)
    text = head[:64].replace(b"\x00", b"")      # UTF-16/32 text of ASCII: a NUL in 2 or 3 of 4 bytes
    if head[:2] in (b"\xfe\xff", b"\xff\xfe") or head[:4] == b"\x00\x00\xfe\xff" or \
            (b"\x00" in head[:4] and text.lstrip(_WS)[:1] in (b"[", b"{") and 4 * len(text) >= len(head[:64])):
        return InvalidFileError(
            "%s: the file is encoded as UTF-16 or UTF-32; COCO JSON files are UTF-8 (the encoding JSON "
            "prescribes and pycocotools reads): convert it, e.g. iconv -f UTF-16 -t UTF-8 (or -f UTF-32)" % name)
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    body = body.lstrip(_WS)
    if not body:
        return None
    c = body[:1]
    if c in (b"[", b"{"):
        return None
    if c == b"\x00":
        return InvalidFileError("%s: not a JSON file: it starts with NUL bytes (a file of zeros, e.g. a copy "
                                "or download that did not finish)" % name)
    return InvalidFileError("%s: not a JSON file: a COCO file starts with '{' (annotations) or '[' (results), "
                            "this one with %r" % (name, bytes(body[:16])))


def _empty(path):
    return InvalidFileError("%s: the file is empty (no JSON document in it)" % os.fspath(path))


def open_json(path):
    """Open a JSON input file after a look at its first bytes: ``(file, None)`` for a
    regular file (open, at offset 0), ``(None, bytes)`` for anything else (a pipe, a
    device, ``/dev/stdin``), read whole. Refused with an :class:`InvalidFileError`
    naming the file, before anything is copied: an empty file, one that does not start
    like a JSON object or array (see :func:`_start_error`: UTF-16/32, NUL bytes, any
    other first byte), and a pipe or device that yields bytes no JSON text holds (NUL
    and other control bytes; ``/dev/zero`` and ``/dev/urandom`` end at the first
    chunk). A stream that keeps looking like JSON is read to its end."""
    check_path(path)
    try:
        f = open(path, "rb")
        st = os.fstat(f.fileno())
    except OSError as e:
        raise _cannot_read(path, e) from None
    try:
        if stat.S_ISREG(st.st_mode):
            _check_regular(f, path, st.st_size)
            return f, None
        with f:
            return None, _read_stream(f, path)
    except BaseException:
        f.close()
        raise


def _pread(fd, n, offset):
    """os.pread where there is one (POSIX); elsewhere a seek and a read (the descriptor's
    own, not shared with a file object that reads meanwhile)."""
    if hasattr(os, "pread"):
        return os.pread(fd, n, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, n)


def _check_regular(f, path, size):
    """Look at a regular file's first bytes (and past any leading whitespace) without
    moving its offset; raise if it cannot be a JSON document."""
    fd, at = f.fileno(), 0
    try:
        head = _pread(fd, _HEAD, 0)
        while True:
            e = _start_error(path, head)
            if e is not None:
                raise e
            rest = (head[3:] if at == 0 and head.startswith(b"\xef\xbb\xbf") else head).lstrip(_WS)
            if rest:
                _check_chunk(head, path, at)
                return
            at += len(head)
            if not head or at >= size:
                raise _empty(path)
            head = _pread(fd, _CHUNK, at)       # whitespace so far: look further
    except OSError as e:
        raise _cannot_read(path, e) from None


def _read_stream(f, path):
    """The whole content of a pipe or device, checked chunk by chunk as it comes."""
    chunks, first, got = [], True, 0
    try:
        while True:
            b = f.read(_CHUNK)
            if not b:
                break
            if first:
                e = _start_error(path, b)
                if e is not None:
                    raise e
                body = (b[3:] if b.startswith(b"\xef\xbb\xbf") else b).lstrip(_WS)
                if not body:             # leading whitespace: dropped (a BOM too)
                    got += len(b)
                    continue
                got += len(b) - len(body)
                first, b = False, body
            _check_chunk(b, path, got)
            got += len(b)
            chunks.append(b)
    except OSError as e:
        raise _cannot_read(path, e) from None
    if not chunks:
        raise _empty(path)
    return b"".join(chunks)


def _loads(data, path):
    try:
        import orjson  # optional: 2-3x faster than json for annotation files
    except ImportError:
        orjson = None
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]            # a UTF-8 byte-order mark (orjson refuses it)
    try:
        if orjson is not None:
            return orjson.loads(data)
        return json.loads(data)
    except RecursionError:
        raise InvalidFileError("%s: not a valid JSON file: arrays or objects nested too deeply for the JSON "
                               "reader (Python's json module stops near 1000 levels)" % (path,)) from None
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
    ``("geometry", (data, dict, mapped))`` when the records carry masks or keypoints (the
    dict also has ``seg_span`` / ``kpt_span``, byte ranges of those values in ``data``
    and in ``dict["text"]``, private memory holding their text at those offsets, and NaN
    boxes where a record has none; ``mapped``: the :class:`MappedText` whose mapping
    ``data`` is, which the caller must ``release()`` once it is done with ``data``, or
    None when ``data`` is private bytes); ``("records", list)`` for anything the scanner
    does not take (parsed by the general JSON parser)."""
    f, stream = open_json(path)
    if stream is not None:                  # a pipe or device, read whole
        kind, val = _scan_results(stream, path)
        return kind, (val[0], val[1], None) if kind == "geometry" else val
    with f:
        try:   # scan the page cache in place: no copy of a file of tens of MB
            mapped = MappedText(f, path)
        except (ValueError, OSError):          # not mappable
            try:
                data = f.read()
            except OSError as e:
                raise _cannot_read(path, e) from None
            kind, val = _scan_results(data, path)
            return kind, (val[0], val[1], None) if kind == "geometry" else val
    try:
        kind, val = _scan_results(mapped.data, path, mapped=True)
    except BaseException:
        mapped.release(failing=True)
        raise
    if kind != "geometry":
        mapped.release()
        return kind, val
    return kind, (val[0], val[1], mapped)


def _scan_results(data, path, mapped=False):
    """load_results_columns on the file's content (bytes, or with ``mapped`` the mmap of
    a :class:`MappedText`)."""
    tried = False           # the geometry scan ran and did not take the file
    try:
        head = bytes(data[:1 << 16])
        if b'"segmentation"' in head or b'"keypoints"' in head:
            # masks or keypoints from the first records on (as in every mask or pose
            # results file): the geometry scan straight away, not a box scan that
            # stops at the first record (after counting the file's records: 13 ms
            # at 128 MB)
            geom = _geometry_scan(data, b'"keypoints"' in head, mapped)
            if geom is not None:
                return "geometry", (data, geom)
            tried = True
        return "columns", _core.parse_results_json(data)
    except NotImplementedError as e:
        if "nesting deeper" in str(e):
            raise InvalidFileError("%s: %s: the file nests arrays or objects deeper than JSON readers "
                                   "follow (json.loads and pycocotools stop near 1000 levels too)"
                                   % (os.fspath(path), e)) from None
        if "segmentation" not in str(e) and "keypoints" not in str(e):
            return "records", _loads(bytes(data), path)
        # masks / keypoints: columns plus the byte spans of those values, which are
        # converted later from the text; keypoints are parsed during the scan, as many
        # per record as the first has
        g = None if tried else _geometry_scan(data, "keypoints" in str(e), mapped)
        if g is None:                  # a value the geometry scan does not take
            return "records", _loads(bytes(data), path)
        return "geometry", (data, g)
    except InvalidOptionError:             # a bad setting (FASTAP_NUM_THREADS), not the file
        raise
    except ValueError as e:
        if "bbox must have 4 numbers, got 5" in str(e):
            # rotated boxes (x_ctr, y_ctr, w, h, angle): the general parser, then loadRes's
            # rotated columns (pycocotools' loadRes takes any bbox of 4 values or more)
            return "records", _loads(bytes(data), path)
        raise InvalidFileError("%s: %s" % (os.fspath(path), e)) from None


class MappedText:
    """A results file read in place: a read-only shared mapping of its pages (``data``),
    so that a file of hundreds of MB is scanned without being copied.

    Why this cannot end the interpreter: the mapping lives only while ``loadRes`` reads
    it; what the results keep (the text of segmentations and keypoints) is copied out by
    the scan itself (its ``shadow``), and a later need of the whole text (the result
    dicts) reads the file again through :class:`FileText`, checked. While it is
    mapped, a truncation of the file by another process (which would make a read past
    the new end raise SIGBUS) is caught by a guard (``_core.map_guard_add``,
    csrc/textfile.c): the missing pages read as zeros, and :meth:`release` reports the
    file as changed. The file's size and change time are compared too, so a file
    rewritten while it was read is refused as well."""

    # A file last changed this long before it was read cannot be changed again with the
    # same modification time (a later write stamps a later time): its size and time tell
    # whether it changed. One changed more recently (a coarse clock, or a filesystem
    # with 2-second times, could give a rewrite the same time) is digested.
    RECENT_NS = 3 * 10 ** 9

    def __init__(self, f, path):
        self.path = os.fspath(path)
        self.now_ns = time.time_ns()
        self.stat = os.fstat(f.fileno())
        self.data = _map_file(f)
        self.fd = os.dup(f.fileno())
        self.slot = _core.map_guard_add(self.data)

    def file_text(self):
        """A :class:`FileText` of the file as it is mapped: its size and modification
        time, and its digest (taken now, a pass over the pages) if it changed recently."""
        st = self.stat
        recent = st.st_mtime_ns >= self.now_ns - self.RECENT_NS
        return FileText(self.fd, self.path, len(self.data), st.st_mtime_ns,
                        _core.text_digest(self.data, release_pages=True) if recent else None)

    def release(self, failing=False):
        """Unmap the file. Raise InvalidFileError if it changed while it was read (then
        whatever the reads met is moot); with ``failing`` (an error is on its way) only
        in that case."""
        hits = _core.map_guard_remove(self.slot)
        self.slot = -1
        self.data.close()
        try:
            st = os.fstat(self.fd)
            same = (st.st_size, st.st_mtime_ns) == (self.stat.st_size, self.stat.st_mtime_ns)
        except OSError:
            same = False
        finally:
            os.close(self.fd)
        if hits or not same:
            raise InvalidFileError("%s: the results file changed on disk while loadRes read it%s: load it again "
                                   "once it is completely written" % (self.path, " (it was truncated)" if hits else ""))


class FileText:
    """The text of a file loadRes read, kept as an open descriptor of that file (not a
    mapping, not a copy): :meth:`read` reads it again with plain reads (a file truncated
    meanwhile gives a short read, never a bus error) and checks it against what loadRes
    saw -- its size, its modification time and, for a file changed shortly before it
    was read, its digest (see :attr:`MappedText.RECENT_NS`) -- so it returns the same
    bytes or raises InvalidFileError naming the file. The descriptor keeps the file
    that was read: removing it, or replacing it by renaming another file over it,
    changes nothing; rewriting it in place does. (A rewrite of the same size that also
    sets the modification time back to the very nanosecond is not seen.)"""

    def __init__(self, fd, path, size, mtime_ns, digest):
        self.path, self.size, self.mtime_ns, self.digest = path, size, mtime_ns, digest
        self._fd = os.dup(fd)

    def read(self):
        """The file's bytes, as they were when loadRes read them (or InvalidFileError)."""
        chunks, got = [], 0
        try:
            st = os.fstat(self._fd)
            while got <= self.size:
                b = _pread(self._fd, self.size + 1 - got, got)
                if not b:
                    break
                chunks.append(b)
                got += len(b)
        except OSError as e:
            raise _cannot_read(self.path, e) from None
        data = b"".join(chunks)
        changed = len(data) != self.size or (
            _core.text_digest(data) != self.digest if self.digest is not None else st.st_mtime_ns != self.mtime_ns)
        if changed:
            raise InvalidFileError(
                "%s: the results file changed on disk since loadRes read it (%d bytes then, %s now): its records "
                "are read from the file again when their dicts are built (dataset, anns, pickling); load it again"
                % (self.path, self.size, len(data) if len(data) <= self.size else "more"))
        return data

    def __del__(self):
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

    def __reduce__(self):           # pickled (or deep-copied) as its bytes
        return (bytes, (self.read(),))


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


def _geometry_scan(data, keypoints, mapped=False):
    """The scan with masks / keypoints (None when it does not take the file; the box
    scan then decides, as when the first records have neither)."""
    stride = first_keypoints_len(data) if keypoints else 0
    # a file's mapping: the text of the values is copied as the scan passes it into an
    # array of the same length (only the pages written are used), read from instead of
    # the mapping afterwards (see MappedText); the mapping's pages leave the process's
    # memory part by part as they are scanned (release_pages): a mask file's text is
    # nearly all values, and the mapping and the shadow resident together took twice
    # the file's size (peak memory of loadRes)
    shadow = np.empty(len(data), np.uint8) if mapped else None
    try:
        # keypoints: only the x and y of each triple are kept (pycocotools reads no
        # detection's v), when the first record's numbers come in triples
        g = _core.parse_results_json(data, geometry=True, kpt_stride=stride,
                                     kpt_xy=stride > 0 and stride % 3 == 0, shadow=shadow,
                                     release_pages=mapped)
    except NotImplementedError as e:
        if "nesting deeper" in str(e):
            raise                          # refused, whoever reads the file
        return None
    except InvalidOptionError:
        raise
    except ValueError:
        return None
    g["text"] = shadow if shadow is not None else data
    return g


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
