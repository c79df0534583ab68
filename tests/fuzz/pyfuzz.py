"""Python-level fuzz targets of fastap, and the deterministic mutation driver that runs them.

Each target feeds one untrusted input -- the bytes of a file, or Python objects written as
JSON -- through a public entry point (``fastap.mask``, ``fastap.evaluate``, ``COCO(dict)``
and ``loadRes(list)``, results / annotation files, ``Evaluator.load``, the YOLO and VOC
readers) and through what a user does next (an evaluation). Every exception is sorted:

  (a) the interpreter dies (a signal, a sanitizer report), an input runs longer than the
      per-input limit, or a self-check fails (e.g. decode(encode(m)) != m): a failure;
  (b) a fastap error (``fastap.FastapError``) or one of ``ALLOWED`` (MemoryError): fine;
  (c) any other Python exception: "unclear", reported (type, place and message) with the
      input that raised it. ``tests/test_fuzz_python.py`` fails on (a), and on (c) too
      when its ``UNCLEAR_FAILS`` is true.

Inputs are the committed corpus (``tests/fuzz/corpus/<target>/``), replayed first, then
mutations of it: input ``i`` of a run with seed ``s`` is a function of ``(s, i)`` alone,
so a run can go on after a crash (the driver restarts the child at ``i + 1``) and every
input can be made again. JSON targets are mutated on their structure (hostile values,
deleted / duplicated / spliced members, counts strings edited) and sometimes as text;
file targets byte by byte (bit flips, tokens, deletions, duplicated ranges, splices);
``.npz`` states array by array (dtype, shape, values, a member dropped) or as bytes.

The child (``python pyfuzz.py child ...``) runs the inputs; the parent (:func:`run_target`)
starts it, restarts it after a crash, and collects the findings. In a JSON input,
``{"$b": "..."}`` is a bytes object (latin-1), ``{"$nd": [dtype, shape, values]}`` a NumPy
array and ``{"$t": [...]}`` a tuple.
"""
import base64
import contextlib
import faulthandler
import hashlib
import io
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
ROOT = os.path.dirname(os.path.dirname(HERE))

ALLOWED = ("MemoryError",)          # documented: a memory limit gives a clean MemoryError
INPUT_TIMEOUT = 60.0                # seconds per input (with the sanitizers, on a loaded machine)
MAX_ALLOC_MB = 512                  # larger allocations fail (MemoryError), as under a memory limit


class Reject(Exception):
    """The harness could not make an input of this target from the bytes (not a finding)."""


class CheckFailed(Exception):
    """A self-check of a target failed: a wrong result, class (a)."""


# ----------------------------------------------------------------------------- JSON inputs

def revive(x):
    """The Python objects a JSON input stands for ($b bytes, $nd arrays, $t tuples)."""
    import numpy as np
    if isinstance(x, list):
        return [revive(v) for v in x]
    if isinstance(x, dict):
        if len(x) == 1 and "$b" in x and isinstance(x["$b"], str):
            return x["$b"].encode("latin-1", "replace")
        if len(x) == 1 and "$t" in x and isinstance(x["$t"], list):
            return tuple(revive(v) for v in x["$t"])
        if len(x) == 1 and "$nd" in x:
            try:
                dtype, shape, values = x["$nd"]
                a = np.array(values, dtype=dtype)
                return a.reshape(shape) if shape is not None else a
            except Exception as e:  # a mutated spec: not an input of the target
                raise Reject("bad $nd: %s" % e)
        return {k: revive(v) for k, v in x.items()}
    return x


def _spec(data, target):
    """The Python objects of a JSON input (an object)."""
    try:
        spec = revive(json.loads(data.decode("utf-8")))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise Reject("not JSON: %s" % type(e).__name__)
    if not isinstance(spec, dict):
        raise Reject("a %s input is a JSON object" % target)
    return spec


@contextlib.contextmanager
def _quiet():
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ----------------------------------------------------------------------------- targets
# Each target: run(data, work) -> yields (step name, callable); the driver calls each
# callable and sorts what it raises. A step may use what an earlier one returned through
# the state dict the target keeps.

def _t_mask(data, work):
    import numpy as np
    from fastap import mask
    spec = _spec(data, "mask")
    rles, st = spec.get("rles"), {}
    yield "decode", lambda: st.__setitem__("dec", mask.decode(rles))
    yield "area", lambda: st.__setitem__("area", mask.area(rles))
    yield "toBbox", lambda: mask.toBbox(rles)
    if "dec" in st and "area" in st:
        yield "area == decode().sum()", lambda: _check_area(st["dec"], st["area"])
    if isinstance(rles, list):
        yield "merge", lambda: mask.merge(rles, spec.get("intersect", 0))
    if "rles2" in spec or "iscrowd" in spec:
        yield "iou", lambda: mask.iou(rles, spec.get("rles2"), spec.get("iscrowd"))
    if "poly" in spec:
        yield "frPyObjects", lambda: st.__setitem__("fr", mask.frPyObjects(spec["poly"], spec.get("h"),
                                                                            spec.get("w")))
        if "fr" in st:
            yield "decode(frPyObjects)", lambda: mask.decode(st["fr"])
    if "mask" in spec:
        yield "encode", lambda: st.__setitem__("enc", mask.encode(spec["mask"]))
        if "enc" in st:
            yield "decode(encode(m)) == m", lambda: _check_roundtrip(spec["mask"], mask.decode(st["enc"]))


def _check_area(dec, area):
    import numpy as np
    area = np.asarray(area).reshape(-1)
    got = dec.reshape(-1, area.size).sum(axis=0, dtype=np.int64) if dec.size else np.zeros(area.size, np.int64)
    if got.tolist() != area.tolist():
        raise CheckFailed("area() %s != decode().sum() %s" % (area.tolist()[:8], got.tolist()[:8]))


def _check_roundtrip(m, back):
    import numpy as np
    m = np.asarray(m)
    if back.shape != m.shape or not np.array_equal(back != 0, m != 0):
        raise CheckFailed("decode(encode(m)) != m (shape %s, dtype %s)" % (m.shape, m.dtype))


_EVAL_KW = ("protocol", "iou_thresholds", "rec_thresholds", "max_dets", "area_ranges", "area_labels",
            "img_ids", "cat_ids", "use_cats", "box_format", "iou_threshold", "plus_one", "iou_type",
            "image_sizes", "kpt_oks_sigmas")


def _t_evaluate(data, work):
    import fastap
    spec = _spec(data, "evaluate")
    kw = {k: v for k, v in spec.get("kw", {}).items() if k in _EVAL_KW} \
        if isinstance(spec.get("kw"), dict) else {}
    if isinstance(kw.get("image_sizes"), list):       # JSON keys are strings: pairs [id, [h, w]]
        try:
            kw["image_sizes"] = {p[0]: p[1] for p in kw["image_sizes"]}
        except (TypeError, IndexError, KeyError):
            raise Reject("image_sizes pairs")
    yield "evaluate", lambda: fastap.evaluate(spec.get("gt"), spec.get("dt"), **kw)


def _coco_eval(gt, dt, iou_type):
    import fastap
    ev = fastap.COCOeval(gt, dt, iou_type)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()


def _t_coco_objects(data, work):
    import fastap
    spec = _spec(data, "coco_objects")
    st = {}
    yield "COCO(dict)", lambda: st.__setitem__("gt", fastap.COCO(spec.get("gt")))
    if "gt" in st:
        yield "loadRes(list)", lambda: st.__setitem__("dt", st["gt"].loadRes(spec.get("dt")))
    if "dt" in st:
        yield "COCOeval", lambda: _coco_eval(st["gt"], st["dt"], spec.get("iou_type", "bbox"))


def _gt_for_results(data):
    """A ground truth whose images and categories are those the results name (so that
    a results file reaches the evaluation): 640 x 480 images, one box, polygon and set of
    17 keypoints per image and category."""
    try:
        recs = json.loads(data.decode("utf-8"))
    except Exception:
        recs = []
    ids = lambda key: sorted({r[key] for r in recs if isinstance(r, dict) and type(r.get(key)) is int
                              and -2 ** 63 <= r[key] < 2 ** 63})[:50] if isinstance(recs, list) else []
    imgs, cats = ids("image_id") or [1], ids("category_id") or [1]
    kp = [v for k in range(17) for v in (10 + 5 * k, 20 + 3 * k, 2)]
    anns = [{"id": 1 + i * len(cats) + j, "image_id": im, "category_id": c, "iscrowd": 0, "area": 1600.0,
             "bbox": [10.0, 20.0, 40.0, 40.0], "segmentation": [[10, 20, 50, 20, 50, 60, 10, 60]],
             "keypoints": kp, "num_keypoints": 17}
            for i, im in enumerate(imgs) for j, c in enumerate(cats)]
    return {"images": [{"id": i, "height": 480, "width": 640} for i in imgs],
            "categories": [{"id": c, "name": "c%d" % c, "keypoints": ["k%d" % k for k in range(17)],
                            "skeleton": []} for c in cats],
            "annotations": anns}


def _t_results_file(data, work):
    import fastap
    path = os.path.join(work, "results.json")
    with open(path, "wb") as f:
        f.write(data)
    st = {}
    with _quiet():
        gt = fastap.COCO(_gt_for_results(data))
    yield "loadRes(file)", lambda: st.__setitem__("dt", gt.loadRes(path))
    if "dt" in st:
        kind = "keypoints" if b'"keypoints"' in data else "segm" if b'"segmentation"' in data else "bbox"
        yield "COCOeval " + kind, lambda: _coco_eval(gt, st["dt"], kind)


def _t_annotations_file(data, work):
    import fastap
    path = os.path.join(work, "annotations.json")
    with open(path, "wb") as f:
        f.write(data)
    st = {}
    yield "COCO(file)", lambda: st.__setitem__("gt", fastap.COCO(path))
    if "gt" not in st:
        return
    gt = st["gt"]

    def dets():
        anns = gt.loadAnns(gt.getAnnIds())[:200]
        st["dt"] = gt.loadRes([dict(a, score=0.5) for a in anns]) if anns else None
    yield "loadRes(own annotations)", dets
    if st.get("dt") is not None:
        kind = "segm" if b'"segmentation"' in data else "bbox"
        yield "COCOeval " + kind, lambda: _coco_eval(gt, st["dt"], kind)


def _t_npz(data, work):
    from fastap import Evaluator
    path = os.path.join(work, "state.npz")
    with open(path, "wb") as f:
        f.write(data)
    st = {}
    yield "Evaluator.load", lambda: st.__setitem__("ev", Evaluator.load(path))
    if "ev" in st:
        yield "compute", lambda: st["ev"].compute()


def _t_yolo(data, work):
    import fastap
    d = os.path.join(work, "labels")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "img.txt"), "wb") as f:
        f.write(data)
    sizes, st = {"img": (640, 480), "other": (32, 16)}, {}
    yield "read_yolo", lambda: st.__setitem__("gt", fastap.read_yolo(d, image_sizes=sizes))
    yield "read_yolo names", lambda: fastap.read_yolo(d, image_sizes=sizes, class_names=["a", "b", "c"])
    yield "read_yolo predictions", lambda: st.__setitem__(
        "dt", fastap.read_yolo(d, image_sizes=sizes, predictions=True))
    if "gt" in st and "dt" in st:
        yield "evaluate", lambda: fastap.evaluate(st["gt"], st["dt"])


VOC_XML = ("<annotation><filename>%s.jpg</filename><size><width>500</width><height>375</height>"
           "<depth>3</depth></size><object><name>dog</name><difficult>0</difficult><bndbox><xmin>48"
           "</xmin><ymin>240</ymin><xmax>195</xmax><ymax>371</ymax></bndbox></object><object><name>"
           "person</name><difficult>1</difficult><bndbox><xmin>8</xmin><ymin>12</ymin><xmax>352</xmax>"
           "<ymax>498</ymax></bndbox></object></annotation>")


def _t_voc_xml(data, work):
    import fastap
    d = os.path.join(work, "Annotations")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "000001.xml"), "wb") as f:
        f.write(data)
    with open(os.path.join(d, "000002.xml"), "w") as f:
        f.write(VOC_XML % "000002")
    st = {}
    yield "read_voc_xml", lambda: st.__setitem__("gt", fastap.read_voc_xml(d))
    if "gt" in st:
        gt = st["gt"]
        dt = dict(gt, score=[0.5] * len(gt["image_id"]))
        yield "evaluate voc", lambda: fastap.evaluate(gt, dt, protocol="voc")


def _t_voc_results(data, work):
    import fastap
    d = os.path.join(work, "Annotations")
    os.makedirs(d, exist_ok=True)
    for stem in ("000001", "000002"):
        with open(os.path.join(d, stem + ".xml"), "w") as f:
            f.write(VOC_XML % stem)
    path = os.path.join(work, "comp4_det_test_dog.txt")
    with open(path, "wb") as f:
        f.write(data)
    gt, st = fastap.read_voc_xml(d), {}
    yield "read_voc_results", lambda: st.__setitem__("dt", fastap.read_voc_results(path, gt))
    yield "read_voc_results stems", lambda: fastap.read_voc_results([path], ["000001", "000002", "x"])
    if "dt" in st:
        yield "evaluate voc07", lambda: fastap.evaluate(gt, st["dt"], protocol="voc07")


def _t_canary(data, work):
    """The harness's own check (not a fastap target): 'asan' poisons an array with ASan's
    interface and lets fastap's C code read it (a sanitizer report, if the extension is
    instrumented and the runtime preloaded); 'abort' dies (os.abort); 'unclear' raises a
    KeyError; 'closefd' closes stdout; 'check' fails a self-check; anything else passes."""
    import ctypes
    import numpy as np
    import fastap
    if data.startswith(b"asan"):
        a = np.zeros((4, 4))
        poison = ctypes.CDLL(None).__asan_poison_memory_region
        poison.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        poison(a.ctypes.data, a.nbytes)
        yield "asan", lambda: fastap.box_iou(a, a, fmt="xyxy")
    elif data.startswith(b"abort"):
        yield "abort", os.abort
    elif data.startswith(b"unclear"):
        yield "unclear", lambda: {}["x"]
    elif data.startswith(b"closefd"):
        yield "closefd", lambda: os.close(1)
    elif data.startswith(b"check"):
        yield "check", lambda: _check_roundtrip(np.ones((2, 2)), np.zeros((2, 2)))
    else:
        yield "pass", lambda: None


# name -> (run, kind of mutation: "json" | "bytes" | "npz"); FASTAP_TARGETS: those of
# fastap (not the harness's canary)
TARGETS = {
    "_canary": (_t_canary, "bytes"),
    "mask": (_t_mask, "json"),
    "evaluate": (_t_evaluate, "json"),
    "coco_objects": (_t_coco_objects, "json"),
    "results": (_t_results_file, "bytes"),
    "annotations": (_t_annotations_file, "bytes"),
    "npz": (_t_npz, "npz"),
    "yolo": (_t_yolo, "bytes"),
    "voc_xml": (_t_voc_xml, "bytes"),
    "voc_results": (_t_voc_results, "bytes"),
}
FASTAP_TARGETS = sorted(t for t in TARGETS if not t.startswith("_"))


# ----------------------------------------------------------------------------- mutations

HOSTILE = [None, True, False, 0, 1, -1, 2, 3, 4, 17, 255, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 + 1,
           2 ** 63 - 1, 2 ** 63, 2 ** 64, -2 ** 63, -2 ** 63 - 1, 10 ** 30, 0.5, -0.0, 1e-320, 1e308,
           float("nan"), float("inf"), -float("inf"), "", "0", "1", "abc", "\u00e9", "\x00", "bbox",
           "segm", [], [0], [1], [1, 2], [3, 4], [1, 2, 3], [0, 0, 10, 10], [1, 2, 3, 4, 5],
           [[0, 0, 10, 10]], [[1, 2, 3, 4, 5, 6]], [[]], [None], {}, {"$b": ""}, {"$b": "\xff\x00"},
           {"size": [], "counts": ""}, {"size": [4], "counts": "04"}, {"size": [4, 4], "counts": "04"},
           {"size": [4, 4], "counts": [0, 16]}, {"size": [2 ** 31, 2], "counts": "0"},
           {"$nd": ["float64", [0, 4], []]}, {"$nd": ["uint64", [1], [2 ** 64 - 1]]},
           {"$nd": ["float32", [2, 2], [1, 2, 3, 4]]}, {"$nd": ["int8", [3], [-1, 0, 1]]},
           {"$nd": ["U1", [2], ["a", "b"]]}, {"$nd": ["O", [1], [None]]}]
COUNT_CHARS = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmno"


def _nodes(x):
    """(path, node) of every node of a JSON tree, iteratively (trees may be deep)."""
    stack = [((), x)]
    while stack:
        path, x = stack.pop()
        yield path, x
        if isinstance(x, list):
            stack.extend((path + (i,), v) for i, v in enumerate(x))
        elif isinstance(x, dict):
            stack.extend((path + (k,), v) for k, v in x.items())


def _get(x, path):
    for p in path:
        x = x[p]
    return x


def _set(root, path, value):
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


def _mutate_string(rng, s):
    s = list(s)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(4)
        at = rng.randint(0, len(s))
        if op == 0:
            s.insert(at, rng.choice(COUNT_CHARS + "\x00\\\"\u00ff\ud800 -"))
        elif op == 1 and s:
            del s[min(at, len(s) - 1)]
        elif op == 2 and s:
            s[min(at, len(s) - 1)] = rng.choice(COUNT_CHARS)
        else:
            s = s[:at]
    return "".join(s)


def _mutate_number(rng, v):
    return rng.choice([v + 1, v - 1, -v, v * 2 ** rng.randint(1, 40), v / 3, 0, int(v) if math.isfinite(v)
                       else 0, float(v)])


def _mutate_tree(rng, root, others):
    """One structural mutation of a JSON tree (in place where it can be)."""
    nodes = list(_nodes(root))
    path, node = rng.choice(nodes)
    op = rng.randrange(9)
    if op <= 2:
        return _set(root, path, json.loads(json.dumps(rng.choice(HOSTILE))))
    if op == 3 and isinstance(node, str):
        return _set(root, path, _mutate_string(rng, node))
    if op == 3 and isinstance(node, (int, float)) and not isinstance(node, bool):
        return _set(root, path, _mutate_number(rng, node))
    if op == 4 and isinstance(node, dict) and node:
        del node[rng.choice(list(node))]
    elif op == 4 and isinstance(node, list) and node:
        del node[rng.randrange(len(node))]
    elif op == 5 and isinstance(node, list) and node:
        node.insert(rng.randint(0, len(node)), json.loads(json.dumps(rng.choice(node))))
    elif op == 6:                                          # splice: a node of another input
        _, other = rng.choice(list(_nodes(rng.choice(others))))
        return _set(root, path, json.loads(json.dumps(other)))
    elif op == 7:                                          # nest deeper
        depth = rng.choice([1, 2, 3, 20, 200, 1100])
        for _ in range(depth):
            node = [node]
        return _set(root, path, node)
    elif op == 8 and isinstance(node, dict) and node:      # rename a key
        k = rng.choice(list(node))
        node[rng.choice(["id", "image_id", "category_id", "bbox", "score", "size", "counts", "segmentation",
                         "keypoints", "area", "iscrowd", "", k + "x", k.upper()])] = node.pop(k)
    return root


TOKENS = [b"0", b"-1", b"1e308", b"nan", b"NaN", b"inf", b"-0", b"0x10", b"1_000", b"\x00", b"\xff", b"\xef\xbb\xbf",
          b" ", b"\t", b"\r\n", b"\n", b"\n\n", b",", b".", b"e", b"{", b"}", b"[", b"]", b"\"", b":",
          b"null", b"true", b"99999999999999999999", b"2147483648", b"18446744073709551616", b"1e-400",
          b"<", b">", b"</", b"&amp;", b"&#0;", b"<object>", b"</object>", b"<bndbox>", b"<xmin>",
          b"<size>", b"<!DOCTYPE a [<!ENTITY x \"y\">]>", b"<![CDATA[", b"\"segmentation\":", b"\"counts\":",
          b"\"size\":", b"\"bbox\":", b"\"score\":", b"\"image_id\":", b"\"keypoints\":", b"PK\x03\x04",
          b"\x93NUMPY", b"'descr': '<f8'", b"'shape': (", b"'fortran_order': True"]


def _mutate_bytes(rng, b, others):
    b = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        op, n = rng.randrange(8), len(b)
        at = rng.randint(0, n)
        if op == 0 and n:
            b[min(at, n - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and n:
            b[min(at, n - 1)] = rng.randrange(256)
        elif op == 2:
            b[at:at] = rng.choice(TOKENS)
        elif op == 3:
            del b[at:at + rng.choice([1, 2, 4, 16, rng.randint(0, n + 1)])]
        elif op == 4 and n:
            lo = rng.randrange(n)
            b[at:at] = b[lo:lo + rng.randint(1, 64)]
        elif op == 5:
            del b[rng.randint(0, n):]
        elif op == 6 and others:                        # splice with another input
            o = rng.choice(others)
            cut = rng.randint(0, len(o))
            b = b[:at] + o[cut:]
        elif op == 7 and n:                             # an ASCII number made bigger / negative
            m = re.search(rb"\d+", bytes(b[at:]))
            if m:
                s, e = at + m.start(), at + m.end()
                b[s:e] = rng.choice([b"-", b"9" * 20, b"0." + b"0" * 30 + b"1", b"1e400", b""]) + b[s:e]
    return bytes(b)


def _mutate_npz(rng, data, others):
    import numpy as np
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception:
        return _mutate_bytes(rng, data, others)
    if not arrays or rng.random() < 0.25:
        return _mutate_bytes(rng, data, others)
    k = rng.choice(sorted(arrays))
    a, op = arrays[k], rng.randrange(7)
    if op == 0:
        del arrays[k]
    elif op == 1 and a.dtype.kind in "US":               # the JSON meta: mutate its tree
        try:
            tree = json.loads(str(a))
            tree = _mutate_tree(rng, tree, [tree])
            arrays[k] = np.array(json.dumps(tree))
        except ValueError:
            arrays[k] = np.array(_mutate_string(rng, str(a)))
    elif op == 2:
        arrays[k] = a.astype(rng.choice(["int8", "uint64", "float32", "float64", "bool", "U3", "int64"]),
                             copy=True) if a.dtype.kind != "U" else np.array([1, 2])
    elif op == 3:
        arrays[k] = a.reshape(-1)[: rng.randint(0, a.size)] if a.size else np.zeros((2, 3))
    elif op == 4:
        arrays[k] = np.concatenate([a.reshape(-1)] * 2) if a.size else np.ones(rng.randint(1, 5))
    elif op == 5 and a.size and a.dtype.kind in "iuf":
        flat = a.reshape(-1).copy()
        v = rng.choice([-1, 0, 2 ** 31, -2 ** 40, 1e300, float("nan")]) if a.dtype.kind == "f" else \
            rng.choice([-1, 0, 2 ** 31 - 1, 2 ** 40, np.iinfo(a.dtype).min, np.iinfo(a.dtype).max])
        flat[rng.randrange(flat.size)] = np.array(v).astype(a.dtype)    # wraps around, as C would
        arrays[k] = flat.reshape(a.shape)
    else:
        other = rng.choice(sorted(arrays))
        arrays[k] = arrays[other]
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def make_input(target, corpus, seed, i):
    """Input i of a run (the corpus files first, then mutations of them)."""
    if i < len(corpus):
        return corpus[i]
    rng = random.Random("%s:%s:%d" % (target, seed, i))
    base = rng.choice(corpus)
    kind = TARGETS[target][1]
    if kind == "npz":
        return _mutate_npz(rng, base, corpus)
    if kind == "json" and rng.random() < 0.85:
        try:
            tree = json.loads(base.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _mutate_bytes(rng, base, corpus)
        trees = None
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.2 and trees is None:
                trees = [json.loads(c.decode("utf-8")) for c in corpus]
            tree = _mutate_tree(rng, tree, trees or [tree])
        try:
            return json.dumps(tree).encode("utf-8")
        except (RecursionError, ValueError):
            return base
    return _mutate_bytes(rng, base, corpus)


def load_corpus(target, extra_dirs=()):
    """The committed corpus of a target (sorted by name), plus files of extra_dirs."""
    out = []
    for d in (os.path.join(CORPUS, target),) + tuple(extra_dirs):
        if os.path.isdir(d):
            for name in sorted(os.listdir(d)):
                p = os.path.join(d, name)
                if os.path.isfile(p) and not name.startswith("."):
                    with open(p, "rb") as f:
                        out.append(f.read())
    return out


# ----------------------------------------------------------------------------- the child

def _where(tb):
    """file:line of the innermost frame in fastap (else the innermost frame)."""
    import traceback
    frames = traceback.extract_tb(tb)
    inner = [f for f in frames if "fastap" in f.filename.replace("\\", "/").split("/tests/")[0]
             and "pyfuzz" not in f.filename]
    f = (inner or frames or [None])[-1]
    return "?" if f is None else "%s:%d" % ("/".join(f.filename.replace("\\", "/").split("/")[-2:]), f.lineno)


def classify(exc):
    """'fastap' | 'allowed' | 'unclear' for an exception a step raised."""
    from fastap import FastapError
    if isinstance(exc, FastapError):
        return "fastap"
    if type(exc).__name__ in ALLOWED:
        return "allowed"
    return "unclear"


def run_one(target, data, work):
    """Run every step of a target on one input: a list of (step, outcome, exception)."""
    out, gen = [], TARGETS[target][0](data, work)
    while True:
        try:
            step, fn = next(gen)
        except StopIteration:
            return out
        except Reject as e:
            return out + [("input", "reject", e)]
        try:
            with _quiet():
                fn()
            out.append((step, "ok", None))
        except Reject as e:
            return out + [(step, "reject", e)]
        except CheckFailed as e:
            out.append((step, "check", e))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # noqa: B036 -- sorting every exception is the point
            out.append((step, classify(e), e))


SAVED_FD = 1020       # fds 0, 1, 2 are kept as 1020..1022: an input may make fastap close them
_events = None        # the child's event stream (a copy of its stdout, out of the inputs' reach)


def _emit(**kw):
    out = _events or sys.__stdout__
    out.write(json.dumps(kw) + "\n")
    out.flush()


def _keep_std_fds():
    """Copies of fds 0-2 (restored after each input, see _restore_std_fds); events go to
    the copy of stdout. (COCO(1) once read and closed fd 1: an int is a file descriptor
    to open().)"""
    global _events
    for fd in (0, 1, 2):
        os.dup2(fd, SAVED_FD + fd)
    _events = os.fdopen(SAVED_FD + 1, "w")


def _restore_std_fds():
    """The standard fds an input closed (restored from their copies)."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.dup2(SAVED_FD + fd, fd)
            closed.append(fd)
    return closed


def _limit_memory():
    if "asan" in os.environ.get("LD_PRELOAD", "") or not sys.platform.startswith("linux"):
        return                      # ASan: max_allocation_size_mb does it (RLIMIT_AS breaks its shadow)
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def child(target, seed, start, count, seconds, current, extra, report_new):
    """Run inputs start, start+1, ... of a target; one JSON line per finding, then 'done'."""
    import fastap
    _limit_memory()
    _keep_std_fds()
    sys.setrecursionlimit(3000)
    corpus = load_corpus(target, extra)
    if not corpus:
        raise SystemExit("no corpus for %s in %s" % (target, CORPUS))
    t0, seen, counts = time.monotonic(), set(), {}
    work = tempfile.mkdtemp(prefix="fastap-fuzz-")
    i = start
    try:
        while (count is None or i < start + count) and (seconds is None or time.monotonic() - t0 < seconds):
            with open(current, "wb") as f:         # the index first: a harness error is seen
                f.write(b"%d\n" % i)
            try:
                data = make_input(target, corpus, seed, i)
            except Exception:                       # a bug of the harness: reported, the run goes on
                import traceback
                _emit(ev="harness", i=i, msg=traceback.format_exc()[-3000:])
                i += 1
                continue
            with open(current, "wb") as f:
                f.write(b"%d\n" % i + data)
            wd = os.path.join(work, str(i))
            os.mkdir(wd)
            faulthandler.dump_traceback_later(INPUT_TIMEOUT, exit=True)
            try:
                outcomes = run_one(target, data, wd)
            finally:
                faulthandler.cancel_dump_traceback_later()
            outcomes += [("std fds", "unclear", OSError("the input made fastap close file descriptor %d "
                                                        "(stdin/stdout/stderr)" % fd)) for fd in _restore_std_fds()]
            shutil.rmtree(wd, ignore_errors=True)
            _report(outcomes, i, data, seen, counts, report_new)
            i += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _emit(ev="done", next=i, executed=i - start, counts=counts, core=fastap._core.__file__)


def _report(outcomes, i, data, seen, counts, report_new):
    sig = []
    for step, kind, e in outcomes:
        counts[kind] = counts.get(kind, 0) + 1
        where = "" if e is None else "%s@%s" % (type(e).__name__, _where(e.__traceback__))
        sig.append("%s:%s:%s" % (step, kind, where))
        if kind in ("unclear", "check") and (kind, step, where) not in seen:
            seen.add((kind, step, where))
            _emit(ev=kind, i=i, step=step, sig="%s %s" % (step, where), msg=str(e)[:400],
                  input=base64.b64encode(data).decode("ascii"))
    sig = "|".join(sig)
    if report_new and sig not in seen:
        seen.add(sig)
        _emit(ev="new", i=i, sig=sig, input=base64.b64encode(data).decode("ascii"))


# ----------------------------------------------------------------------------- the parent

def _sha(data):
    return hashlib.sha1(data).hexdigest()[:16]


def _save(out_dir, sub, target, data):
    if out_dir is None:
        return None
    d = os.path.join(out_dir, sub, target)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, _sha(data) + ".bin")
    with open(p, "wb") as f:
        f.write(data)
    return p


_REPORT_START = re.compile(r"ERROR: AddressSanitizer|runtime error:|Fatal Python error|Traceback \(most recent|"
                           r"Timeout \(|ERROR: LeakSanitizer")


def _excerpt(err, n=40):
    """The lines of a child's stderr that tell what happened (from the report's start)."""
    lines = err.splitlines()
    for k, line in enumerate(lines):
        if _REPORT_START.search(line):
            return "\n".join(lines[k:k + n])
    return "\n".join(lines[-n:])


def _crash_kind(rc, err):
    if "AddressSanitizer: SEGV" in err:
        return "crash (SEGV, seen by ASan)"
    if "Sanitizer" in err or "runtime error:" in err:
        return "sanitizer report"
    if "Timeout (" in err:
        return "timeout (%gs)" % INPUT_TIMEOUT
    return "crash (exit status %d)" % rc


def run_target(target, count=None, seconds=None, seed=0, env=None, out_dir=None, extra=(), report_new=False,
               python=None, max_restarts=50):
    """Run a target in child interpreters: ``count`` inputs (corpus first) or for ``seconds``.

    Returns a dict: executed, counts (outcome -> steps), failures (crashes, sanitizer
    reports, timeouts, failed checks: each with the input and its index), unclear
    (signature -> first input, message, number of children that saw it), new (outcome
    signatures seen for the first time: inputs worth adding to the corpus), core (the
    extension the child imported)."""
    if env is None:                     # the fastap this interpreter imports (not the child's sys.path[0])
        import fastap
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(os.path.abspath(fastap.__file__)))] +
                                            [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    res = {"target": target, "executed": 0, "counts": {}, "failures": [], "unclear": {}, "new": 0, "core": None}
    start, t0 = 0, time.monotonic()
    fd, current = tempfile.mkstemp(prefix="fastap-fuzz-current-")
    os.close(fd)
    try:
        for _ in range(max_restarts):
            left_n = None if count is None else count - start
            left_t = None if seconds is None else seconds - (time.monotonic() - t0)
            if (left_n is not None and left_n <= 0) or (left_t is not None and left_t <= 0):
                break
            done = _run_child(res, target, seed, start, left_n, left_t, current, env, out_dir, extra,
                              report_new, python)
            if done is None:
                break
            start = done
    finally:
        os.unlink(current)
    return res


def _run_child(res, target, seed, start, count, seconds, current, env, out_dir, extra, report_new, python):
    """One child; returns the index to go on from after a crash, None when it finished."""
    cmd = [python or sys.executable, os.path.abspath(__file__), "child", "--target", target, "--seed", str(seed),
           "--start", str(start), "--current", current]
    cmd += ["--count", str(count)] if count is not None else []
    cmd += ["--seconds", str(seconds)] if seconds is not None else []
    cmd += ["--report-new"] if report_new else []
    for d in extra:
        cmd += ["--extra", d]
    with open(current, "wb"):
        pass
    limit = (seconds or 0) + (count or 0) * INPUT_TIMEOUT + 120
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True)
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    done = None
    for line in out.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        done = ev if ev.get("ev") == "done" else done
        _collect(res, target, ev, out_dir)
    if done is not None and proc.returncode == 0:
        return None
    with open(current, "rb") as f:
        head, _, data = f.read().partition(b"\n")
    if not head:
        raise RuntimeError("the %s fuzz child failed before its first input (%d): %s"
                           % (target, proc.returncode, err[-3000:]))
    i = int(head)
    res["executed"] += i - start + 1
    res["failures"].append({"kind": _crash_kind(proc.returncode, err), "i": i, "input": data,
                            "saved": _save(out_dir, "crashes", target, data), "stderr": _excerpt(err)})
    return i + 1


def _collect(res, target, ev, out_dir):
    kind = ev.get("ev")
    if kind == "done":
        res["executed"] += ev["executed"]
        res["core"] = ev["core"]
        for k, v in ev["counts"].items():
            res["counts"][k] = res["counts"].get(k, 0) + v
    elif kind == "new":
        res["new"] += 1
        _save(out_dir, "new", target, base64.b64decode(ev["input"]))
    elif kind == "check":
        data = base64.b64decode(ev["input"])
        res["failures"].append({"kind": "failed check: %s: %s" % (ev["step"], ev["msg"]), "i": ev["i"],
                                "input": data, "saved": _save(out_dir, "crashes", target, data), "stderr": ""})
    elif kind == "harness":
        res["failures"].append({"kind": "harness error (a bug of tests/fuzz/pyfuzz.py, not of fastap)",
                                "i": ev["i"], "input": b"", "saved": None, "stderr": ev["msg"]})
    elif kind == "unclear":
        u = res["unclear"].setdefault(ev["sig"], {"i": ev["i"], "msg": ev["msg"], "children": 0,
                                                   "input": base64.b64decode(ev["input"])})
        u["children"] += 1
        if u["children"] == 1:
            u["saved"] = _save(out_dir, "unclear", target, u["input"])


def format_report(res, limit=20):
    """Lines for a person: counts, failures, unclear exceptions."""
    lines = ["%s: %d inputs, outcomes %s, %d failures, %d unclear signatures"
             % (res["target"], res["executed"], json.dumps(res["counts"], sort_keys=True), len(res["failures"]),
                len(res["unclear"]))]
    for f in res["failures"][:limit]:
        lines.append("  FAILURE %s at input %d: %r%s" % (f["kind"], f["i"], f["input"][:200],
                                                         " (saved %s)" % f["saved"] if f["saved"] else ""))
        lines += ["    " + s for s in f["stderr"].strip().splitlines()]
    for sig, u in sorted(res["unclear"].items())[:limit]:
        lines.append("  unclear %s: %s -- input %d: %r" % (sig, u["msg"][:200], u["i"], u["input"][:160]))
    return lines


# ----------------------------------------------------------------------------- sanitizer build

SAN_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer", "-g"]
ASAN_OPTIONS = ("detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=%d:abort_on_error=0:"
                "halt_on_error=1:detect_stack_use_after_return=0" % MAX_ALLOC_MB)


class Unavailable(Exception):
    """No sanitizer build here (the reason is the message)."""


def _source_root():
    for root in (ROOT, os.environ.get("FASTAP_SOURCE_ROOT", "")):
        if root and os.path.isfile(os.path.join(root, "setup.py")) and \
                os.path.isfile(os.path.join(root, "fastap", "_core.pyx")):
            return root
    raise Unavailable("no fastap sources (setup.py, fastap/_core.pyx) to build a sanitizer build from")


def _runtimes(cc):
    """The ASan and UBSan shared runtimes of the compiler, to LD_PRELOAD into Python."""
    if not sys.platform.startswith("linux"):
        raise Unavailable("sanitizer runtimes are preloaded on Linux only (this is %s)" % sys.platform)
    if not shutil.which(cc):
        raise Unavailable("no C compiler %r on PATH" % cc)
    libs = []
    for name in ("libasan.so", "libubsan.so"):
        r = subprocess.run([cc, "-print-file-name=" + name], capture_output=True, text=True)
        path = r.stdout.strip()
        if r.returncode != 0 or not os.path.isabs(path) or not os.path.exists(path):
            raise Unavailable("%s has no %s (gcc's ASan/UBSan runtime)" % (cc, name))
        libs.append(os.path.realpath(path))
    return libs


def _build_key(root, flags):
    h = hashlib.sha1(repr((sys.version, flags)).encode())
    for pat in ("setup.py", "csrc", "fastap"):
        for dirpath, _, files in sorted(os.walk(os.path.join(root, pat))) if pat != "setup.py" else [(root, 0, [pat])]:
            for f in sorted(files):
                if f.endswith((".c", ".h", ".pyx", ".pxi", ".pxd", ".py")) and f != "_core.c":
                    with open(os.path.join(dirpath, f), "rb") as fh:
                        h.update(f.encode() + fh.read())
    try:
        import numpy
        h.update(numpy.__version__.encode())
    except ImportError:
        pass
    return h.hexdigest()[:16]


def sanitized_env(cache_dir, opt="-O1", log=None):
    """Build fastap with ASan+UBSan into cache_dir (once per source state) and return the
    environment that runs a child on it: PYTHONPATH, LD_PRELOAD of the runtimes,
    PYTHONMALLOC=malloc, ASAN_OPTIONS / UBSAN_OPTIONS. Raises Unavailable with the reason."""
    cc = os.environ.get("CC", "gcc")
    libs = _runtimes(cc)
    root = _source_root()
    flags = [opt] + SAN_FLAGS
    dest = os.path.join(cache_dir, "fastap-asan-" + _build_key(root, flags))
    if not os.path.isdir(dest):
        _build(root, dest, cc, flags, log)
    env = dict(os.environ, PYTHONPATH=dest, LD_PRELOAD=" ".join(libs), PYTHONMALLOC="malloc",
               ASAN_OPTIONS=ASAN_OPTIONS, UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1",
               PYTHONDONTWRITEBYTECODE="1")
    return env, dest


def _build(root, dest, cc, flags, log):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(dest) + ".tmp-", dir=os.path.dirname(dest))
    try:
        for f in ("setup.py", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "NOTICE"):
            if os.path.isfile(os.path.join(root, f)):
                shutil.copy2(os.path.join(root, f), tmp)
        ignore = shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", "build")
        shutil.copytree(os.path.join(root, "csrc"), os.path.join(tmp, "csrc"), ignore=ignore)
        shutil.copytree(os.path.join(root, "fastap"), os.path.join(tmp, "fastap"), ignore=ignore)
        env = dict(os.environ, CC=cc, FASTAP_DEBUG="1", FASTAP_EXTRA_CFLAGS=" ".join(flags),
                   FASTAP_EXTRA_LDFLAGS="-fsanitize=address,undefined")
        r = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "-j", "2"], cwd=tmp, env=env,
                           capture_output=True, text=True)
        if log:
            with open(log, "w") as f:
                f.write(r.stdout + r.stderr)
        if r.returncode != 0:
            raise RuntimeError("the sanitizer build failed:\n" + (r.stdout + r.stderr)[-5000:])
        try:
            os.rename(tmp, dest)            # atomic: a parallel build of the same key may win
        except OSError:
            if not os.path.isdir(dest):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------- main

def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("child", help="run inputs (used by run_target)")
    c.add_argument("--target", required=True, choices=sorted(TARGETS))
    c.add_argument("--seed", default="0")
    c.add_argument("--start", type=int, default=0)
    c.add_argument("--count", type=int)
    c.add_argument("--seconds", type=float)
    c.add_argument("--current", required=True)
    c.add_argument("--extra", action="append", default=[])
    c.add_argument("--report-new", action="store_true")
    r = sub.add_parser("run", help="run targets here (no sanitizers unless the environment has them)")
    r.add_argument("targets", nargs="*", default=FASTAP_TARGETS)
    r.add_argument("-n", "--count", type=int, default=500)
    r.add_argument("--seed", default="0")
    p = sub.add_parser("replay", help="run one input file through a target, in this interpreter")
    p.add_argument("target", choices=sorted(TARGETS))
    p.add_argument("path")
    a = ap.parse_args(argv)
    import glob
    if a.cmd != "child" and glob.glob(os.path.join(ROOT, "fastap", "_core*")):
        sys.path.insert(0, ROOT)        # run / replay: this checkout's fastap, where it is built in place
    if a.cmd == "child":
        child(a.target, a.seed, a.start, a.count, a.seconds, a.current, a.extra, a.report_new)
    elif a.cmd == "run":
        for t in a.targets:
            print("\n".join(format_report(run_target(t, count=a.count, seed=a.seed))), flush=True)
    else:
        with open(a.path, "rb") as f:
            data = f.read()
        work = tempfile.mkdtemp(prefix="fastap-fuzz-replay-")
        try:
            for step, kind, e in run_one(a.target, data, work):
                print("%-28s %-8s %s" % (step, kind, "" if e is None else "%s: %s" % (type(e).__name__, e)))
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
