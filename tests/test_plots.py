"""fastap.plots: every plot renders to a readable PNG (skipped only without matplotlib)."""
import struct
import sys

import numpy as np
import pytest

import fastap
from fastap import plots, synthetic


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def result():
    _, _, gt, dt = synthetic.make_arrays(n_images=60, n_categories=12, seed=0, dets_per_image=30,
                                         edge_cases=True)
    return fastap.evaluate(gt, dt)


def test_plot_all_writes_every_png(result, tmp_path):
    pytest.importorskip("matplotlib")
    names = {int(c): "class number %d" % c for c in result.cat_ids}
    paths = result.plot(str(tmp_path / "plots"), names=names)
    assert set(paths) == set(plots.PLOT_FILES)
    for kind, path in paths.items():
        w, h = _png_size(path)
        assert 500 <= w <= 4000 and 400 <= h <= 4000, (kind, w, h)
        assert (tmp_path / "plots" / plots.PLOT_FILES[kind]).stat().st_size > 10_000


def test_each_plot_function(result, tmp_path):
    pytest.importorskip("matplotlib")
    op, cm, ea = result.operating_points(), result.confusion_matrix(), result.error_analysis()
    for fn, arg in ((plots.plot_pr_curves, op), (plots.plot_operating_points, op),
                    (plots.plot_confusion_matrix, cm), (plots.plot_error_breakdown, ea)):
        p = fn(arg, str(tmp_path / (fn.__name__ + ".png")))
        assert _png_size(p)[0] > 500
    # 80 classes: the heatmap grows and stays within bounds; raw counts also render
    big = fastap.report.ConfusionMatrix(matrix=np.eye(81, dtype=np.int64) * 5, cat_ids=np.arange(1, 81),
                                        iou_threshold=0.5, score_threshold=0.25, names=None)
    w, h = _png_size(plots.plot_confusion_matrix(big, str(tmp_path / "cm80.png"), normalize=False))
    assert 1500 <= w <= 3000 and 1500 <= h <= 3000


def test_cli_plots(tmp_path):
    pytest.importorskip("matplotlib")
    from fastap.cli import main
    gt_path, dt_path = synthetic.write_coco(str(tmp_path), seed=0, scale="tiny")
    assert main(["eval", gt_path, dt_path, "--quiet", "--plots", str(tmp_path / "p")]) == 0
    for name in plots.PLOT_FILES.values():
        assert _png_size(str(tmp_path / "p" / name))[0] > 500


def test_missing_matplotlib_says_what_to_install(result, tmp_path, monkeypatch):
    for m in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, m)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"fastap\[plot\]"):
        result.plot(str(tmp_path))
