"""Inputs the fuzz targets (tests/fuzz/pyfuzz.py, tools/fuzz_campaign.py) found crashing the
interpreter, each kept in the committed corpus (tests/fuzz/corpus/<target>/regress_*) and
checked here in a child interpreter: it must end in a fastap error, not a dead process."""
import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz", "corpus")


def _in_child(code):
    """Run code in a child interpreter; it prints 'ERROR <class> <message>' or 'NO ERROR'."""
    wrapped = ("import contextlib, io, sys, fastap\n"
               "try:\n" + textwrap.indent(textwrap.dedent(code), "    ") +
               "except fastap.FastapError as e:\n"
               "    print('ERROR', type(e).__name__, e)\n"
               "else:\n"
               "    print('NO ERROR')\n")
    proc = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, "the interpreter died (%d): %s" % (proc.returncode, proc.stderr[-3000:])
    return proc.stdout


def _state_with(tmp_path, **changes):
    """The committed dataset-mode state (tests/fuzz/corpus/npz/state.npz) with some arrays
    replaced, written to tmp_path."""
    with np.load(os.path.join(CORPUS, "npz", "state.npz")) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    path = str(tmp_path / "state.npz")
    np.savez(path, **arrays)
    return path


def _load_compute(path):
    return _in_child("""
        ev = fastap.Evaluator.load(%r)
        with contextlib.redirect_stdout(io.StringIO()):
            ev.compute()
    """ % path)


@pytest.mark.parametrize("name", ["regress_tp_bits_beyond_iou_thrs.npz", "regress_tp_all_bits.npz"])
def test_state_with_true_positive_bits_beyond_the_thresholds(name):
    """A state whose per-detection true-positive bits name IoU thresholds it does not have
    (iouThrs cut to 6 entries; a bitmask 0xFFFFFFFF): accumulate() wrote past its scratch
    (SEGV in walk_maxdet, found by the npz target)."""
    out = _load_compute(os.path.join(CORPUS, "npz", name))
    assert out.startswith("ERROR "), out


def test_state_with_more_true_positives_than_ground_truths(tmp_path):
    """Every detection a true positive at the first threshold while each category has one
    ground truth per area range: more true positives than the accumulation's room for them."""
    with np.load(os.path.join(CORPUS, "npz", "state.npz")) as z:
        tp, npig = z["part_tp"], z["dataset_npig"]
    path = _state_with(tmp_path, part_tp=np.ones_like(tp), part_fp=np.zeros_like(tp),
                       dataset_npig=np.ones_like(npig))
    out = _load_compute(path)
    # InvalidAnnotationError, or its subclass InvalidFileError should Evaluator.load check it
    assert out.startswith(("ERROR InvalidAnnotationError", "ERROR InvalidFileError")), out
    assert "true positive" in out, out


def test_state_with_fewer_thresholds_names_them(tmp_path):
    with np.load(os.path.join(CORPUS, "npz", "state.npz")) as z:
        thr = z["iouThrs"]
    out = _load_compute(_state_with(tmp_path, iouThrs=thr[:6]))
    assert out.startswith(("ERROR InvalidAnnotationError", "ERROR InvalidFileError")), out
    assert "threshold" in out or "iouThrs" in out, out


# fastap.mask: exceptions other than fastap's (the mask target's "unclear" findings)
MASK_CASES = {
    # an uncompressed RLE whose 'size' is a dict: KeyError 0
    "frPyObjects size dict": lambda m: m.frPyObjects([{"size": {"h": 4, "w": 4}, "counts": [16]}], 4, 4),
    # h or w None: TypeError from operator.index
    "frPyObjects h None": lambda m: m.frPyObjects([[1, 1, 3, 1, 3, 3]], None, 4),
    "frPyObjects boxes w str": lambda m: m.frPyObjects([[0, 0, 2, 2]], 4, "4"),
    # ragged uncompressed counts: NumPy's ValueError (inhomogeneous shape)
    "frPyObjects ragged counts": lambda m: m.frPyObjects({"size": [4, 4], "counts": [1, [2, 3]]}, 4, 4),
    # a size of 2**64: OverflowError converting to uint64
    "decode size 2**64": lambda m: m.decode({"size": [2 ** 64, 1], "counts": "0"}),
    "area size 2**70 x 0": lambda m: m.area([{"size": [0, 2 ** 70], "counts": ""}]),
    "toBbox size -2**64": lambda m: m.toBbox([{"size": [-2 ** 64, 1], "counts": "0"}]),
    "frPyObjects h 2**64": lambda m: m.frPyObjects([[1, 1, 3, 1, 3, 3]], 2 ** 64, 4),
}


@pytest.mark.parametrize("name", sorted(MASK_CASES))
def test_mask_bad_objects_are_fastap_errors(name):
    from fastap import FastapError, mask
    with pytest.raises(FastapError) as e:
        MASK_CASES[name](mask)
    assert isinstance(e.value, (TypeError, ValueError))     # pycocotools-compatible bases
    assert any(w in str(e.value) for w in ("size", "h, w", "counts", "pyobj")), str(e.value)


# Issue 16: the "unclear" outcomes of test_fuzz_python (exceptions other than fastap's), each
# input kept as tests/fuzz/corpus/<target>/regress_i16_*; replayed here in a child interpreter
# (pyfuzz's replay prints one line per step: step, outcome, exception).
I16_INPUTS = {
    "annotations/regress_i16_no_annotations_member.json": "loadRes(own annotations)",
    "coco_objects/regress_i16_gt_float.json": "COCO(dict)",
    "coco_objects/regress_i16_gt_list.json": "COCO(dict)",
    "coco_objects/regress_i16_gt_int_fd.json": "COCO(dict)",
    "evaluate/regress_i16_area_ranges_ragged.json": "evaluate",
    "evaluate/regress_i16_image_sizes_entry_list.json": "evaluate",
    "evaluate/regress_i16_image_sizes_int.json": "evaluate",
    "evaluate/regress_i16_image_sizes_str.json": "evaluate",
    "evaluate/regress_i16_keypoints_missing.json": "evaluate",
    "evaluate/regress_i16_segmentation_int.json": "evaluate",
    "mask/regress_i16_merge_intersect_array.json": "merge",
    "npz/regress_i16_zip_compress_flag.npz": "Evaluator.load",
    "npz/regress_i16_zip_version.npz": "Evaluator.load",
    "voc_xml/regress_i16_unknown_encoding.xml": "read_voc_xml",
    # found once the inputs above were in the corpus (the mutations are drawn from it)
    "coco_objects/regress_i16_no_gt_no_dt.json": "loadRes(list)",
    "evaluate/regress_i16_iou_type_array.json": "evaluate",
    "evaluate/regress_i16_image_id_int.json": "evaluate",
    "npz/regress_i16_maxdets_not_ascending.npz": "Evaluator.load",
}


@pytest.mark.parametrize("name", sorted(I16_INPUTS))
def test_i16_fuzz_inputs_end_in_fastap_errors(name):
    target = name.split("/")[0]
    pyfuzz = os.path.join(os.path.dirname(CORPUS), "pyfuzz.py")
    proc = subprocess.run([sys.executable, pyfuzz, "replay", target, os.path.join(CORPUS, name)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = {line[:28].strip(): line[28:].split(None, 1) for line in proc.stdout.splitlines()}
    assert I16_INPUTS[name] in steps, proc.stdout
    assert steps[I16_INPUTS[name]][0] in ("fastap", "ok"), proc.stdout
    assert not any(v[0] == "unclear" for v in steps.values()), proc.stdout


def test_coco_refuses_a_non_path_and_never_closes_a_descriptor():
    """COCO(1) took 1 as a file descriptor (open() does), read the caller's stdout and closed
    it; COCO(0) blocked on stdin. pycocotools opens them too (``with open(annotation_file)``
    closes the descriptor); fastap refuses anything but a path or a Mapping."""
    out = _in_child("""
        import os
        for arg in (0, 1, True, 7.5, [1, 2], None.__class__):
            try:
                fastap.COCO(arg)
            except fastap.InvalidTypeError as e:
                assert "COCO(annotation_file)" in str(e) and type(arg).__name__ in str(e), str(e)
            else:
                raise AssertionError(arg)
        os.fstat(0), os.fstat(1)        # both still open
    """)
    assert out.strip() == "NO ERROR", out


def test_coco_without_annotations_member_has_no_annotation_ids():
    """A dataset without 'annotations' (pycocotools: KeyError in getAnnIds) has none."""
    import fastap
    gt = fastap.COCO({"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}]})
    assert gt.getAnnIds() == [] and gt.getAnnIds(catIds=[1]) == []


def _eval_bbox(**kw):
    import fastap
    gt = {"image_id": [1], "category_id": [1], "bbox": [[0, 0, 10, 10]]}
    dt = {"image_id": [1], "category_id": [1], "bbox": [[0, 0, 10, 10]], "score": [0.9]}
    return fastap.evaluate(gt, dt, **kw)


@pytest.mark.parametrize("kw, cls, words", [
    ({"area_ranges": [[0, 1e10], 3]}, "InvalidAnnotationError", "areaRng"),
    ({"iou_thresholds": [0.5, [0.7]]}, "InvalidAnnotationError", "iouThrs"),
    ({"rec_thresholds": ["a"]}, "InvalidAnnotationError", "recThrs"),
    ({"max_dets": [1, None]}, "InvalidAnnotationError", "maxDets"),
    ({"max_dets": 5}, "InvalidAnnotationError", "maxDets"),
])
def test_evaluate_bad_parameters_name_them(kw, cls, words):
    import fastap
    with pytest.raises(getattr(fastap, cls)) as e:
        _eval_bbox(**kw)
    assert words in str(e.value)


def _segm_gt_dt():
    rle = {"size": [10, 10], "counts": "f037000`1"}
    gt = {"image_id": [1], "category_id": [1], "segmentation": [[[0, 0, 5, 0, 5, 5, 0, 5]]]}
    dt = {"image_id": [1], "category_id": [1], "score": [0.9], "segmentation": [rle]}
    return gt, dt


@pytest.mark.parametrize("sizes, cls, words", [
    (2 ** 31, "InvalidTypeError", "image_sizes should be a dict"),
    ("segm", "InvalidTypeError", "image_sizes should be a dict"),
    ({1: [[0, 0, 10, 10], 10]}, "InvalidAnnotationError", "image_sizes[1]"),
    ({1: 10}, "InvalidAnnotationError", "image_sizes[1]"),
    ({"x": (10, 10)}, "InvalidAnnotationError", "image_sizes['x']"),
])
def test_evaluate_bad_image_sizes_name_the_entry(sizes, cls, words):
    import fastap
    gt, dt = _segm_gt_dt()
    with pytest.raises(getattr(fastap, cls)) as e:
        fastap.evaluate(gt, dt, iou_type="segm", image_sizes=sizes)
    assert words in str(e.value)


def test_evaluate_segm_image_sizes_still_work():
    """The same numbers with image_sizes as a dict of tuples, lists or arrays."""
    import fastap
    gt, dt = _segm_gt_dt()
    ref = fastap.evaluate(gt, dt, iou_type="segm", image_sizes={1: (10, 10)})
    for sizes in ({1: [10, 10]}, {np.int64(1): np.array([10, 10])}, {"1": ("10", 10)}):
        got = fastap.evaluate(gt, dt, iou_type="segm", image_sizes=sizes)
        assert np.array_equal(got.stats, ref.stats, equal_nan=True)


def test_evaluate_segmentation_not_a_list():
    import fastap
    gt, dt = _segm_gt_dt()
    with pytest.raises(fastap.InvalidTypeError) as e:
        fastap.evaluate(gt, dict(dt, segmentation=2 ** 64), iou_type="segm", image_sizes={1: (10, 10)})
    assert "detections" in str(e.value) and "'segmentation'" in str(e.value) and "int" in str(e.value)


def test_evaluate_keypoints_missing_or_not_a_list():
    import fastap
    kp = [[10 + k, 20 + k, 2] for k in range(17)]
    gt = {"image_id": [1], "category_id": [1], "bbox": [[5, 5, 40, 60]], "area": [2400]}
    dt = {"image_id": [1], "category_id": [1], "score": [0.8], "keypoints": [sum(kp, [])]}
    with pytest.raises(fastap.InvalidAnnotationError) as e:
        fastap.evaluate(gt, dt, iou_type="keypoints")
    assert str(e.value) == "ground truth: missing field 'keypoints'"
    with pytest.raises(fastap.InvalidTypeError) as e:
        fastap.evaluate(dict(gt, keypoints=3), dt, iou_type="keypoints")
    assert "ground truth: field 'keypoints'" in str(e.value) and "int" in str(e.value)


@pytest.mark.parametrize("name", ["regress_i16_zip_compress_flag.npz", "regress_i16_zip_version.npz"])
def test_state_zip_features_zipfile_does_not_take(name):
    """A zip member with a flag or version zipfile does not implement: NotImplementedError."""
    import fastap
    path = os.path.join(CORPUS, "npz", name)
    with pytest.raises(fastap.InvalidFileError) as e:
        fastap.Evaluator.load(path)
    assert path in str(e.value)


def test_voc_xml_unknown_encoding(tmp_path):
    import fastap
    d = tmp_path / "Annotations"
    d.mkdir()
    (d / "000001.xml").write_bytes(b"<?xml version='1.0' encoding='utf-1e4008'?><annotation/>")
    with pytest.raises(fastap.InvalidFileError) as e:
        fastap.read_voc_xml(str(d))
    assert "000001.xml" in str(e.value) and "utf-1e4008" in str(e.value)


def test_mask_merge_intersect_must_be_a_truth_value():
    """pycocotools' intersect is a C int; fastap takes what bool() takes and names the
    argument otherwise (an array of several values)."""
    from fastap import mask
    from pycocotools import mask as pm
    a = np.zeros((6, 5), np.uint8, order="F")
    b = a.copy(order="F")
    a[1:4, 1:3] = 1
    b[2:5, 2:4] = 1
    rles = mask.encode(np.asfortranarray(np.stack([a, b], axis=2)))
    from fastap import InvalidTypeError
    with pytest.raises(InvalidTypeError) as e:
        mask.merge(rles, intersect=np.array([1, 0]))
    assert "intersect" in str(e.value)
    for flag in (0, 1, np.int64(1), True):
        got, ref = mask.merge(rles, intersect=flag), pm.merge(pm.encode(np.asfortranarray(np.stack([a, b], 2))),
                                                              intersect=int(flag))
        assert got["counts"] == ref["counts"] and list(got["size"]) == list(ref["size"])


def test_load_res_of_none():
    import fastap
    with pytest.raises(fastap.InvalidTypeError) as e:
        fastap.COCO().loadRes(None)
    assert "results should be" in str(e.value) and "NoneType" in str(e.value)


def test_evaluate_iou_type_array_and_image_id_int():
    import fastap
    with pytest.raises(fastap.InvalidOptionError) as e:
        _eval_bbox(iou_type=np.array([-1, 0, 1]))
    assert "iou_type" in str(e.value)
    kp = sum([[10 + k, 20 + k, 2] for k in range(17)], [])
    gt = {"image_id": 255, "category_id": [1], "bbox": [[5, 5, 40, 60]], "area": [2400], "keypoints": [kp]}
    dt = {"image_id": [255], "category_id": [1], "score": [0.8], "keypoints": [kp]}
    with pytest.raises(fastap.InvalidTypeError) as e:
        fastap.evaluate(gt, dt, iou_type="keypoints")
    assert "ground truth: field 'image_id'" in str(e.value)


def test_state_with_max_dets_not_ascending(tmp_path):
    import fastap
    path = _state_with(tmp_path, maxDets=np.array([100, 1, 10]))
    with pytest.raises(fastap.InvalidFileError) as e:
        fastap.Evaluator.load(path)
    assert path in str(e.value) and "'maxDets'" in str(e.value)
