"""fastap.semantic: the C confusion matrix against the plain NumPy definition of
fastap.reference (mmsegmentation's IoUMetric, dataset level: integer matrices equal,
derived floats equal), against torchmetrics where its definition matches, the streaming
evaluator (merge, pickle), the errors, and ``fastap segeval`` on PNGs written here."""
import json
import math
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastap
from fastap import _core, cli, reference
from fastap.errors import InvalidAnnotationError, InvalidFileError, InvalidOptionError, InvalidTypeError
from fastap.semantic import SemanticEvaluator, evaluate_semantic, metrics_from_confusion

INT_DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]
FIELDS = ("iou", "dice", "acc", "miou", "mdice", "macc", "aacc", "fwiou")


def _maps(rng, n, h, w, k, ignore_frac=0.1, ignore=255, absent=()):
    """Ground truth and predictions [n, h, w] in [0, k), some ground truth = ignore, the
    classes of ``absent`` in neither."""
    allowed = np.array([c for c in range(k) if c not in absent])
    gt = allowed[rng.integers(0, len(allowed), (n, h, w))]
    pred = np.where(rng.random((n, h, w)) < 0.6, gt, allowed[rng.integers(0, len(allowed), (n, h, w))])
    gt = np.where(rng.random((n, h, w)) < ignore_frac, ignore, gt)
    return gt, pred


def _same_metrics(res, ref):
    for f in FIELDS:
        a, b = np.asarray(getattr(res, f)), np.asarray(ref[f])
        np.testing.assert_array_equal(a, b, err_msg=f)       # NaN in the same places, floats equal


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_every_integer_dtype_equals_reference(dtype):
    rng = np.random.default_rng(1)
    gt, pred = _maps(rng, 3, 17, 23, 7, ignore=100)
    ref = reference.semantic_confusion(pred, gt, 7, ignore_index=100)
    res = evaluate_semantic(pred.astype(dtype), gt.astype(dtype), 7, ignore_index=100)
    assert res.confusion.dtype == np.int64
    np.testing.assert_array_equal(res.confusion, ref)
    _same_metrics(res, reference.semantic_metrics(ref))
    # gt and prediction of different dtypes
    conf, _ = _core.semantic_confusion(gt.astype(dtype), pred.astype(np.int16), 7, 100)
    np.testing.assert_array_equal(conf, ref)


def test_known_answer():
    gt = np.array([[0, 0, 1, 1], [2, 2, 255, 255]])
    pred = np.array([[0, 1, 1, 1], [2, 0, 0, 3]])
    res = evaluate_semantic(pred, gt, 4)
    np.testing.assert_array_equal(res.confusion, [[1, 1, 0, 0], [0, 2, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    # class 0: I=1, G=2, P=2 -> IoU 1/3; class 1: 2/3; class 2: 1/2; class 3 absent -> NaN
    np.testing.assert_array_equal(res.iou, [1 / 3, 2 / 3, 1 / 2, np.nan])
    np.testing.assert_array_equal(res.dice, [2 / 4, 4 / 5, 2 / 3, np.nan])
    np.testing.assert_array_equal(res.acc, [1 / 2, 1, 1 / 2, np.nan])
    assert res.miou == np.mean([1 / 3, 2 / 3, 1 / 2]) and res.aacc == 4 / 6
    assert res.fwiou == pytest.approx((2 * (1 / 3) + 2 * (2 / 3) + 2 * 0.5) / 6, abs=1e-15)


def test_absent_classes_are_nan_and_left_out():
    rng = np.random.default_rng(2)
    gt, pred = _maps(rng, 2, 20, 20, 6, absent=(1, 4, 5))
    pred[0, 0, 0], gt[0, 0, 0] = 5, 0             # class 5 predicted, never in the ground truth
    res = evaluate_semantic(pred, gt, 6)
    assert np.isnan(res.iou[[1, 4]]).all() and np.isnan(res.dice[[1, 4]]).all()
    assert res.iou[5] == 0 and np.isnan(res.acc[5])
    assert res.miou == np.mean(res.iou[[0, 2, 3, 5]])
    _same_metrics(res, reference.semantic_metrics(reference.semantic_confusion(pred, gt, 6)))


def test_reduce_zero_label_is_mmsegmentations():
    gt = np.array([[0, 1, 2, 255, 256, 3]], np.int64)
    pred = np.array([[5, 0, 1, 0, 0, 2]], np.int64)
    res = evaluate_semantic(pred, gt, 3, reduce_zero_label=True)
    # 0 and 255 ignored, 256 -> 255 ignored; 1 -> 0, 2 -> 1, 3 -> 2
    np.testing.assert_array_equal(res.confusion, np.eye(3, dtype=np.int64))
    rng = np.random.default_rng(3)
    gt, pred = _maps(rng, 4, 16, 16, 9)
    pred = np.minimum(pred, 7)
    ref = reference.semantic_confusion(pred, gt, 8, reduce_zero_label=True)
    for dtype in (np.uint8, np.int32):
        res = evaluate_semantic(pred, gt.astype(dtype), 8, reduce_zero_label=True)
        np.testing.assert_array_equal(res.confusion, ref)
        _same_metrics(res, reference.semantic_metrics(ref))


def test_batch_single_and_streaming_agree():
    rng = np.random.default_rng(4)
    gt, pred = _maps(rng, 5, 13, 11, 5)
    ref = reference.semantic_confusion(pred, gt, 5)
    ev = SemanticEvaluator(5)
    for i in range(5):
        ev.update(pred[i], gt[i])                  # single maps [H, W]
    np.testing.assert_array_equal(ev.compute().confusion, ref)
    np.testing.assert_array_equal(evaluate_semantic(pred, gt, 5).confusion, ref)
    assert ev.num_images == 5


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_logits_argmax(dtype):
    rng = np.random.default_rng(5)
    gt, _ = _maps(rng, 3, 9, 14, 6)
    logits = rng.normal(size=(3, 6, 9, 14)).astype(dtype)
    logits[0, 2, 0, :4] = logits[0, 4, 0, :4] = 50          # ties: the first maximum, as np.argmax
    pred = np.argmax(logits, axis=1)
    ref = reference.semantic_confusion(pred, gt, 6)
    np.testing.assert_array_equal(evaluate_semantic(logits, gt, 6).confusion, ref)
    # single image scores [C, H, W]
    np.testing.assert_array_equal(evaluate_semantic(logits[1], gt[1], 6).confusion,
                                  reference.semantic_confusion(pred[1:2], gt[1:2], 6))


def test_threads_and_pieces_equal_reference():
    """Above the serial threshold: images split into pieces across threads."""
    rng = np.random.default_rng(6)
    gt, pred = _maps(rng, 1, 1024, 700, 19)
    ref = reference.semantic_confusion(pred, gt, 19)
    for nt in (1, 2, 3):
        conf, _ = _core.semantic_confusion(gt.astype(np.uint8), pred.astype(np.uint8), 19, 255, False, False, nt)
        np.testing.assert_array_equal(conf, ref)
    gt2, pred2 = _maps(rng, 3, 256, 700, 19)
    conf, per = _core.semantic_confusion(gt2, pred2, 19, 255, False, True, 2)
    np.testing.assert_array_equal(conf, reference.semantic_confusion(pred2, gt2, 19))
    for i in range(3):
        np.testing.assert_array_equal(per[i], reference.semantic_confusion(pred2[i:i + 1], gt2[i:i + 1], 19))


def test_binary_bool_masks():
    rng = np.random.default_rng(7)
    gt = rng.random((2, 30, 30)) < 0.3
    pred = rng.random((2, 30, 30)) < 0.3
    res = evaluate_semantic(pred, gt, 2)
    ref = reference.semantic_confusion(pred.astype(np.int64), gt.astype(np.int64), 2)
    np.testing.assert_array_equal(res.confusion, ref)
    inter = np.sum(gt & pred)
    assert res.iou[1] == inter / np.sum(gt | pred)
    assert res.dice[1] == 2 * inter / (gt.sum() + pred.sum())


def test_torch_tensors():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    gt, pred = _maps(rng, 2, 12, 12, 4)
    logits = rng.normal(size=(2, 4, 12, 12))
    ref = reference.semantic_confusion(pred, gt, 4)
    np.testing.assert_array_equal(evaluate_semantic(torch.from_numpy(pred), torch.from_numpy(gt), 4).confusion, ref)
    t_logits = torch.from_numpy(logits).to(torch.bfloat16)
    expected = reference.semantic_confusion(t_logits.float().argmax(1).numpy(), gt, 4)
    np.testing.assert_array_equal(evaluate_semantic(t_logits, torch.from_numpy(gt).to(torch.uint8), 4).confusion,
                                  expected)


def test_dataset_level_equals_torchmetrics_jaccard():
    tmc = pytest.importorskip("torchmetrics.classification")
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    gt, pred = _maps(rng, 4, 20, 24, 6, absent=(3,))
    res = evaluate_semantic(pred, gt, 6)
    m = tmc.MulticlassJaccardIndex(num_classes=6, average=None, ignore_index=255)
    for i in range(0, 4, 2):
        m.update(torch.from_numpy(pred[i:i + 2]), torch.from_numpy(gt[i:i + 2]))
    theirs = m.compute().double().numpy()
    present = ~np.isnan(res.iou)
    np.testing.assert_allclose(res.iou[present], theirs[present], rtol=1e-6)   # torchmetrics divides in float32


@pytest.mark.parametrize("per_class", [True, False])
def test_per_sample_equals_torchmetrics_meaniou(per_class):
    seg = pytest.importorskip("torchmetrics.segmentation")
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    gt, pred = _maps(rng, 6, 15, 15, 5, ignore_frac=0, absent=(2,))
    gt[0][gt[0] == 4] = 0                           # class 4 absent from one image
    pred[0][pred[0] == 4] = 0
    m = seg.MeanIoU(num_classes=5, per_class=per_class, input_format="index")
    ev = SemanticEvaluator(5, average="per_sample")
    for i in range(0, 6, 3):
        m.update(torch.from_numpy(pred[i:i + 3]), torch.from_numpy(gt[i:i + 3]))
        ev.update(pred[i:i + 3], gt[i:i + 3])
    res = ev.compute()
    theirs = m.compute().double().numpy()
    if per_class:
        np.testing.assert_allclose(np.nan_to_num(res.iou, nan=-1.0), theirs, rtol=1e-6)
    else:
        assert res.miou == pytest.approx(float(theirs), rel=1e-6)
    assert res.miou != evaluate_semantic(pred, gt, 5).miou     # the two averagings differ here


def test_merge_pickle_exact():
    rng = np.random.default_rng(11)
    gt, pred = _maps(rng, 6, 10, 10, 4)
    for average in ("dataset", "per_sample"):
        whole = SemanticEvaluator(4, average=average).update(pred, gt).compute()
        parts = [SemanticEvaluator(4, average=average).update(pred[i:i + 2], gt[i:i + 2]) for i in (0, 2, 4)]
        merged = SemanticEvaluator.merge_all(parts[::-1]).compute()
        np.testing.assert_array_equal(merged.confusion, whole.confusion)
        _same_metrics(merged, {f: getattr(whole, f) for f in FIELDS})
        again = pickle.loads(pickle.dumps(parts[0].merge(parts[1]).merge(parts[2])))
        _same_metrics(again.compute(), {f: getattr(whole, f) for f in FIELDS})
    with pytest.raises(InvalidOptionError, match="different settings"):
        SemanticEvaluator(4).merge(SemanticEvaluator(5))


def test_table_and_dict():
    res = evaluate_semantic(np.array([[0, 1]]), np.array([[0, 0]]), 3, class_names=["road", "car", "sky"])
    t = res.table()
    assert list(t["name"]) == ["road", "car", "sky"] and t["gt_pixels"].tolist() == [2, 0, 0]
    d = res.to_dict()
    assert d["per_class"][2]["iou"] is None and d["miou"] == 0.25 and json.dumps(d)
    assert "road" in res.format() and "mIoU 25.00" in res.format()


def test_bad_labels_are_named():
    gt = np.zeros((2, 4, 5), np.uint8)
    pred = np.zeros((2, 4, 5), np.int64)
    gt[1, 2, 3] = 7
    with pytest.raises(InvalidAnnotationError, match=r"label 7 at image 1, pixel \(row 2, col 3\) is outside \[0, 3\)"):
        evaluate_semantic(pred, gt, 3)
    gt[1, 2, 3] = 255
    pred[0, 3, 1] = -2
    with pytest.raises(InvalidAnnotationError, match=r"prediction: label -2 at image 0, pixel \(row 3, col 1\)"):
        evaluate_semantic(pred, gt, 3)
    pred[0, 3, 1] = 0
    pred[1, 2, 3] = 99                              # on an ignored pixel: not counted, not an error
    assert evaluate_semantic(pred, gt, 3).confusion.sum() == 39
    gt2 = gt.copy()
    gt2[0, 0, 1] = 5                                # -> 4, outside [0, 3); the zeros are ignored
    with pytest.raises(InvalidAnnotationError, match=r"label 5 \(4 after reduce_zero_label\) at image 0, "
                       r"pixel \(row 0, col 1\)"):
        evaluate_semantic(pred, gt2, 3, reduce_zero_label=True)
    scores = np.zeros((1, 3, 2, 2), np.float32)
    scores[0, 1, 1, 0] = np.nan
    with pytest.raises(InvalidAnnotationError, match=r"score of class 1 at image 0, pixel \(row 1, col 0\) is NaN"):
        evaluate_semantic(scores, np.zeros((1, 2, 2), np.uint8), 3)
    ev = SemanticEvaluator(3)
    with pytest.raises(InvalidAnnotationError):
        ev.update(np.array([[0, 9]]), np.array([[0, 1]]))
    assert ev.confusion.sum() == 0 and ev.num_images == 0      # nothing counted from a refused batch


def test_bad_shapes_dtypes_options():
    g = np.zeros((2, 3, 3), np.uint8)
    with pytest.raises(InvalidAnnotationError, match="does not match"):
        evaluate_semantic(np.zeros((2, 3, 4), np.uint8), g, 2)
    with pytest.raises(InvalidTypeError, match="integer labels"):
        evaluate_semantic(np.zeros((2, 3, 3), np.float32), g, 2)
    with pytest.raises(InvalidTypeError, match="integer labels"):
        evaluate_semantic(np.zeros((2, 3, 3), object), g, 2)
    with pytest.raises(InvalidAnnotationError, match="has 1 classes|have 1 classes"):
        evaluate_semantic(np.zeros((2, 1, 3, 3), np.float32), g, 2)
    with pytest.raises(InvalidTypeError, match="float scores"):
        evaluate_semantic(np.zeros((2, 2, 3, 3), np.int64), g, 2)
    with pytest.raises(InvalidAnnotationError, match="label map"):
        evaluate_semantic(np.zeros(3, np.uint8), np.zeros(3, np.uint8), 2)
    with pytest.raises(InvalidOptionError, match="num_classes"):
        SemanticEvaluator(0)
    with pytest.raises(InvalidOptionError, match="average"):
        SemanticEvaluator(3, average="macro")
    with pytest.raises(InvalidTypeError):
        _core.semantic_confusion([[[0]]], g, 2)
    # views, big-endian, empty batches: converted or counted, never a crash
    big = (np.arange(18).reshape(2, 3, 3) % 2).astype(">i4")          # big-endian, e.g. from a file
    assert not big.dtype.isnative
    assert evaluate_semantic(big, big, 2).confusion.tolist() == [[9, 0], [0, 9]]
    assert evaluate_semantic(np.ones((1, 2, 1, 1), ">f8"), np.zeros((1, 1, 1), np.uint8), 2).confusion[0, 0] == 1
    assert evaluate_semantic(g[:, ::2, ::-1], g[:, ::2, ::-1], 2).confusion[0, 0] == 12
    assert evaluate_semantic(np.zeros((0, 5, 5), np.uint8), np.zeros((0, 5, 5), np.uint8), 2).confusion.sum() == 0
    empty = evaluate_semantic(np.zeros((1, 0, 5), np.int8), np.zeros((1, 0, 5), np.uint8), 2)
    assert math.isnan(empty.miou) and math.isnan(empty.aacc) and empty.confusion.sum() == 0


def test_odd_inputs_do_not_crash_the_interpreter():
    code = textwrap.dedent("""
        import numpy as np, fastap
        from fastap import _core
        g = np.zeros((1, 0, 5), np.uint8)
        print(_core.semantic_confusion(g, g, 2)[0].sum())
        g = np.full((2, 700, 700), 255, np.uint8)
        print(_core.semantic_confusion(g, g, 3, 255, False, False, 4)[0].sum())
        s = np.zeros((1, 3, 4, 4))[:, :, ::2]
        print(_core.semantic_confusion(np.zeros((1, 2, 4), np.int8), s, 3)[0].sum())
        try:
            _core.semantic_confusion(np.zeros((1, 2, 2), np.uint64) + np.uint64(2**63 + 5), np.zeros((1, 2, 2), np.uint8), 3)
        except fastap.InvalidAnnotationError as e:
            print("refused", e)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:3] == ["0", "0", "8"]
    assert "refused ground truth: label 9223372036854775813 at image 0, pixel (row 0, col 0)" in proc.stdout


def _write_png(path, a):
    from PIL import Image
    Image.fromarray(a).save(path)


def test_segeval_cli(tmp_path, capsys):
    pytest.importorskip("PIL")
    rng = np.random.default_rng(12)
    gt, pred = _maps(rng, 3, 8, 10, 4)
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    for i in range(3):
        _write_png(tmp_path / "gt" / ("img%d.png" % i), gt[i].astype(np.uint8))
        _write_png(tmp_path / "pred" / ("img%d.png" % i), pred[i].astype(np.uint8))
    out = tmp_path / "m.json"
    assert cli.main(["segeval", str(tmp_path / "gt"), str(tmp_path / "pred"), "--num-classes", "4",
                     "--json", str(out)]) == 0
    text = capsys.readouterr().out
    ref = reference.semantic_metrics(reference.semantic_confusion(pred, gt, 4))
    assert "mIoU %.2f" % (100 * ref["miou"]) in text and "Dice" in text
    doc = json.loads(out.read_text())
    assert doc["miou"] == ref["miou"] and doc["aacc"] == ref["aacc"]
    assert [r["iou"] for r in doc["per_class"]] == ref["iou"].tolist()
    # --json - (only JSON on stdout), --names, per_sample, a prediction without ground truth (a warning)
    (tmp_path / "names.txt").write_text("road\ncar\nsky\nperson\n")
    (tmp_path / "pred" / "extra.png").write_bytes((tmp_path / "pred" / "img0.png").read_bytes())
    assert cli.main(["segeval", str(tmp_path / "gt"), str(tmp_path / "pred"), "--num-classes", "4", "--json", "-",
                     "--names", str(tmp_path / "names.txt"), "--average", "per_sample"]) == 0
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    assert [r["name"] for r in doc["per_class"]] == ["road", "car", "sky", "person"]
    assert doc["average"] == "per_sample" and doc["aacc"] == ref["aacc"]
    assert "extra.png" in cap.err and "fastap: warning" in cap.err and "extra.png" in doc["warnings"][0]
    (tmp_path / "pred" / "extra.png").unlink()
    # a missing prediction, a bad label: exit 2 with the file named
    (tmp_path / "gt" / "img9.png").write_bytes((tmp_path / "gt" / "img0.png").read_bytes())
    assert cli.main(["segeval", str(tmp_path / "gt"), str(tmp_path / "pred"), "--num-classes", "4"]) == 2
    assert "img9.png" in capsys.readouterr().err
    (tmp_path / "gt" / "img9.png").unlink()
    assert cli.main(["segeval", str(tmp_path / "gt"), str(tmp_path / "pred"), "--num-classes", "3"]) == 2
    err = capsys.readouterr().err
    assert "pred" in err and "img" in err and "outside [0, 3)" in err


def test_segeval_without_pillow(tmp_path, capsys, monkeypatch):
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "a.png").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "PIL", None)
    assert cli.main(["segeval", str(tmp_path / "g"), str(tmp_path / "g"), "--num-classes", "2"]) == 2
    assert "needs Pillow" in capsys.readouterr().err


def test_metrics_from_confusion_matches_reference_on_random_matrices():
    rng = np.random.default_rng(13)
    for _ in range(20):
        c = rng.integers(0, 50, (7, 7)) * (rng.random((7, 7)) < 0.5)
        c[3, :] = 0
        c[:, 3] = 0
        m = metrics_from_confusion(c)
        r = reference.semantic_metrics(c)
        for f in FIELDS:
            np.testing.assert_array_equal(m[f], r[f], err_msg=f)
    assert fastap.SemanticEvaluator is SemanticEvaluator


def test_per_sample_known_answer():
    # image 0: class 0 IoU 1/2, class 1 IoU 0/1 ; image 1: class 0 IoU 1, class 1 absent
    pred = np.array([[[0, 0]], [[0, 0]]])
    gt = np.array([[[0, 1]], [[0, 0]]])
    res = evaluate_semantic(pred, gt, 2, average="per_sample")
    np.testing.assert_array_equal(res.iou, [(0.5 + 1) / 2, 0.0])
    assert res.miou == (0.5 + 0 + 1) / 3
    assert res.aacc == 3 / 4 and res.average == "per_sample"
    assert evaluate_semantic(pred, gt, 2).miou == (3 / 4 + 0) / 2
