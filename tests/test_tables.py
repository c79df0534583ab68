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
