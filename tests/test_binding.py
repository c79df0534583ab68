"""The Cython binding's own surface: CocoTables' named columns and the thresholds that
decide when a pass runs on threads."""
import numpy as np
import pytest

from fastap import _core
from fastap.columns import dt_columns, gt_columns
from fastap.tables import build_tables

DTYPES = {"gt_off": np.int64, "gt_img": np.int32, "gt_box": np.float64, "gt_area": np.float64,
          "gt_crowd": np.uint8, "gt_id_zero": np.uint8, "dt_off": np.int64, "dt_img": np.int32,
          "dt_box": np.float64, "dt_area": np.float64, "dt_score": np.float64}


def _tables(n_gt, n_dt, img_ids=(1, 2, 3), cat_ids=(7, 9), dt_boxes=True, seed=0):
    rng = np.random.default_rng(seed)
    img_ids, cat_ids = np.asarray(img_ids, np.int64), np.asarray(cat_ids, np.int64)
    pick = lambda ids, n: ids[rng.integers(0, ids.shape[0], n)] if ids.shape[0] else np.zeros(n, np.int64)
    gt = gt_columns({
        "id": np.arange(n_gt, dtype=np.int64),                 # id 0: gt_id_zero set once
        "image_id": pick(img_ids, n_gt), "category_id": pick(cat_ids, n_gt),
        "bbox": rng.uniform(1, 50, (n_gt, 4)), "iscrowd": rng.integers(0, 2, n_gt),
        "area": rng.uniform(1, 2500, n_gt)})
    dt = dt_columns({
        "image_id": pick(img_ids, n_dt), "category_id": pick(cat_ids, n_dt),
        "bbox": rng.uniform(1, 50, (n_dt, 4)), "score": rng.random(n_dt).round(2)})
    return build_tables(gt, dt, img_ids, cat_ids, dt_boxes=dt_boxes), gt, dt


@pytest.mark.parametrize("n_gt, n_dt", [(12, 30), (0, 0), (0, 5), (4, 0), (1, 1)])
def test_named_columns_shapes_dtypes_values(n_gt, n_dt):
    t, gt, dt = _tables(n_gt, n_dt)
    core = t.core
    K = core.n_cat
    assert (core.n_gt, core.n_dt) == (n_gt, n_dt)
    assert isinstance(core.n_gt, int) and isinstance(core.n_dt, int)
    shapes = {"gt_off": (K + 1,), "dt_off": (K + 1,), "gt_box": (n_gt, 4), "dt_box": (n_dt, 4)}
    for name, dtype in DTYPES.items():
        a = getattr(core, name)
        n = n_gt if name.startswith("gt") else n_dt
        assert a.dtype == dtype, name
        assert a.shape == shapes.get(name, (n,)), name
        assert a.flags.c_contiguous and not a.flags.writeable, name
    # values: the input columns in grouped order
    np.testing.assert_array_equal(core.gt_box, gt["bbox"][t.gt_index])
    np.testing.assert_array_equal(core.gt_area, gt["area"][t.gt_index])
    np.testing.assert_array_equal(core.gt_crowd, gt["iscrowd"][t.gt_index])
    np.testing.assert_array_equal(core.gt_id_zero, (gt["id"][t.gt_index] == 0).astype(np.uint8))
    np.testing.assert_array_equal(core.gt_img, t.gt_img)
    np.testing.assert_array_equal(core.dt_box, dt["bbox"][t.dt_index])
    np.testing.assert_array_equal(core.dt_area, dt["area"][t.dt_index])
    np.testing.assert_array_equal(core.dt_score, dt["score"][t.dt_index])
    np.testing.assert_array_equal(core.dt_img, t.dt_img)
    assert core.gt_off[0] == 0 and core.gt_off[-1] == n_gt
    assert core.dt_off[0] == 0 and core.dt_off[-1] == n_dt
    # offsets delimit the categories: every record of run k has category k
    cats = np.asarray(t.cat_ids)
    for k in range(K):
        g = slice(core.gt_off[k], core.gt_off[k + 1])
        d = slice(core.dt_off[k], core.dt_off[k + 1])
        assert (gt["category_id"][t.gt_index[g]] == cats[k]).all()
        assert (dt["category_id"][t.dt_index[d]] == cats[k]).all()
    assert not hasattr(core, "arrays")        # no positional list of the columns


def test_no_categories():
    t, _, _ = _tables(0, 0, cat_ids=())
    core = t.core
    assert core.n_cat == 0 and core.n_gt == 0 and core.n_dt == 0
    assert core.gt_off.tolist() == [0] and core.dt_off.tolist() == [0]
    assert core.gt_box.shape == (0, 4) and core.dt_score.shape == (0,)


def test_dt_box_none_without_detection_boxes():
    t, _, _ = _tables(5, 9, dt_boxes=False)
    assert t.core.has_dt_box is False
    assert t.core.dt_box is None
    assert t.core.dt_score.shape == (9,)
    assert t.dt_box().shape == (9, 4)          # Tables gathers them from its input


def test_properties_are_read_only():
    t, _, _ = _tables(3, 3)
    with pytest.raises(AttributeError):
        t.core.gt_box = np.zeros((3, 4))
    with pytest.raises(ValueError):
        t.core.dt_score[0] = 1.0


def test_thresholds_public():
    assert _core.SERIAL_BELOW == 20000
    assert _core.PAIRS_SERIAL_BELOW == 200000
    assert _core.MATCH_SPLIT_MIN == 4096
    assert _core._MATCH_SPLIT_MIN == _core.MATCH_SPLIT_MIN


@pytest.mark.parametrize("n", [_core.SERIAL_BELOW - 1, _core.SERIAL_BELOW])
def test_same_answer_either_side_of_serial_below(n):
    """The threshold only picks the thread count: the order is the same serially."""
    rng = np.random.default_rng(1)
    score = rng.random(n).round(3)
    off = np.array([0, n // 3, n], np.int64)
    a = _core.sort_runs_desc(off, score, num_threads=2)
    b = _core.sort_runs_desc(off, score, num_threads=1)
    np.testing.assert_array_equal(a, b)
    for lo, hi in ((0, n // 3), (n // 3, n)):
        np.testing.assert_array_equal(a[lo:hi], lo + np.argsort(-score[lo:hi], kind="stable"))


def test_max_threads_honours_environment(monkeypatch):
    monkeypatch.setenv("FASTAP_NUM_THREADS", "3")
    assert _core.max_threads() == 3
    monkeypatch.setenv("FASTAP_NUM_THREADS", "zero")
    with pytest.raises(ValueError, match="FASTAP_NUM_THREADS"):
        _core.max_threads()
    monkeypatch.delenv("FASTAP_NUM_THREADS")
    assert _core.max_threads() >= 1
