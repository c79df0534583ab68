"""fastap.reports.drawing: every plot renders to a readable PNG (skipped only without matplotlib)."""
import struct
import sys

import numpy as np
import pytest

import fastap
from fastap import synthetic
from fastap.reports import drawing as plots


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
    big = fastap.reports.ConfusionMatrix(matrix=np.eye(81, dtype=np.int64) * 5, cat_ids=np.arange(1, 81),
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


def test_png_writer_round_trips_through_pillow(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    for h, w in ((1, 1), (7, 13), (120, 333)):
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        a[h // 2:] = 255                      # flat rows too
        p = str(tmp_path / ("x%d.png" % h))
        plots._write_png(p, a)
        with Image.open(p) as im:
            assert im.mode == "RGB" and im.size == (w, h)
            np.testing.assert_array_equal(np.asarray(im), a)


def test_supersampled_canvas_and_background_write_errors(result, tmp_path):
    pytest.importorskip("matplotlib")
    cv = plots._Canvas(300, 200, ss=2)
    cv.line([0, 299], [0, 199], "red", 2)
    cv.text(150, 100, "fastap", 14, anchor="mm")
    w, h = _png_size(cv.save(str(tmp_path / "ss.png")))
    assert (w, h) == (300, 200)
    # background writes: done when _finish returns; a failed one is raised there
    (tmp_path / "f").write_text("a file, not a directory")
    later = []
    plots._Canvas(50, 50).save(str(tmp_path / "d" / "y.png"), later)
    plots._finish(later)
    assert _png_size(str(tmp_path / "d" / "y.png")) == (50, 50)
    cv = plots._Canvas(50, 50)
    later = [plots._Job(cv._write, str(tmp_path / "f" / "z.png"))]
    with pytest.raises(OSError):
        plots._finish(later)
