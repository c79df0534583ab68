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
