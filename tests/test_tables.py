"""fastap.tables: the row gather used to build the grouped tables."""
import numpy as np
import pytest

from fastap.tables import take_rows


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_take_rows_equals_take_along_axis_0(dtype):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 4)).astype(dtype)
    idx = rng.integers(0, 50, 80)
    for src in (a, np.asfortranarray(a), a[::2], a[:0]):
        i = idx % max(src.shape[0], 1) if src.shape[0] else idx[:0]
        got = take_rows(src, i)
        want = np.take(src, i, axis=0)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want)


def test_take_rows_refuses_out_of_range():
    with pytest.raises(IndexError):
        take_rows(np.zeros((3, 4)), np.array([3]))


def test_gather_grouped_checks_positions_and_equals_takes():
    from fastap import _core
    rng = np.random.default_rng(1)
    score, area, box = rng.random(50), rng.random(50), rng.random((50, 4))
    sel = np.sort(rng.choice(50, 20, replace=False)).astype(np.int64)
    img = rng.integers(0, 5, 20).astype(np.int32)
    order = rng.permutation(20).astype(np.int64)
    idx, im, sc, bx, ar = _core.gather_grouped(order, sel, img, score, box, area, num_threads=2)
    assert np.array_equal(idx, sel[order]) and np.array_equal(im, img[order])
    assert np.array_equal(sc, score[sel[order]]) and np.array_equal(ar, area[sel[order]])
    assert np.array_equal(bx, box[sel[order]])
    assert _core.gather_grouped(order, sel, img, score, None, area)[3] is None
    with pytest.raises(ValueError, match="order should be"):
        _core.gather_grouped(np.array([20], np.int64), sel, img, score, box, area)
    with pytest.raises(ValueError, match="sel should be"):
        _core.gather_grouped(order, np.full(20, 50, np.int64), img, score, box, area)
    with pytest.raises(ValueError, match="box should have"):
        _core.gather_grouped(order, sel, img, score, box[:3], area)
