"""pytest-benchmark benches: evaluate+accumulate (and end to end from files) per library.

    python -m pytest bench/ --benchmark-only
    FASTAP_BENCH_LARGE=1 python -m pytest bench/ --benchmark-only   # + coco_val2017

Not collected by the project's ``python -m pytest`` (``testpaths = ["tests"]``). Every
library is skipped when it is not importable; pycocotools runs at the ``small`` scale
only (it takes ~45 s per run at coco_val2017). Unlike ``python -m bench`` these run
all libraries in one process, so they measure time, not memory.
"""

import contextlib
import io
import os

import pytest

pytest.importorskip("pytest_benchmark")

from bench import adapters  # noqa: E402
from bench.data import ensure_data  # noqa: E402

LARGE = os.environ.get("FASTAP_BENCH_LARGE", "") not in ("", "0")
SCALES = ["small"] + (["coco_val2017"] if LARGE else [])
LIBS = ["fastap", "pycocotools", "faster_coco_eval", "hotcoco", "ultrafast"]
SLOW_ONLY_AT = {"pycocotools": ("small", "tiny")}
ROUNDS = {"pycocotools": 3}   # pedantic rounds; the others get DEFAULT_ROUNDS
DEFAULT_ROUNDS = 5


@contextlib.contextmanager
def quiet():
    """Drop the libraries' Python-level prints (pytest captures the C-level ones)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


@pytest.fixture(scope="session", params=SCALES)
def data(request):
    gt, dt, meta = ensure_data(request.param)
    return request.param, gt, dt, meta


_ADAPTERS = {}


def adapter(lib, scale):
    if scale not in SLOW_ONLY_AT.get(lib, (scale,)):
        pytest.skip("%s only at scale %s" % (lib, "/".join(SLOW_ONLY_AT[lib])))
    if lib not in _ADAPTERS:
        try:
            _ADAPTERS[lib] = adapters.get_adapter(lib)
        except adapters.NotImportable as e:
            _ADAPTERS[lib] = "not importable: %s" % e
    a = _ADAPTERS[lib]
    if isinstance(a, str):
        pytest.skip(a)
    return a


def _record(benchmark, ad, scale, meta, stats):
    benchmark.extra_info.update(library=adapters.DISPLAY[ad.name], version=ad.version, scale=scale,
                                n_dt=meta["n_dt"], n_gt=meta["n_gt"], AP=stats[0])


@pytest.mark.parametrize("lib", LIBS)
def test_evaluate_accumulate(benchmark, lib, data):
    """COCOeval(gt, dt, 'bbox') + evaluate() + accumulate() on already loaded data."""
    scale, gt_path, dt_path, meta = data
    ad = adapter(lib, scale)
    with quiet():
        gt, dt = ad.load(gt_path, dt_path)

    def run():
        with quiet():
            E = ad.make_eval(gt, dt)
            ad.evaluate(E)
            ad.accumulate(E)
        return E

    benchmark.group = "evaluate+accumulate %s" % scale
    E = benchmark.pedantic(run, rounds=ROUNDS.get(lib, DEFAULT_ROUNDS), iterations=1, warmup_rounds=0)
    with quiet():
        ad.summarize(E)
    stats = ad.stats(E)
    assert len(stats) == 12
    _record(benchmark, ad, scale, meta, stats)


@pytest.mark.parametrize("lib", LIBS)
def test_end_to_end(benchmark, lib, data):
    """COCO(gt.json) + loadRes(results.json) + COCOeval + evaluate() + accumulate()."""
    scale, gt_path, dt_path, meta = data
    ad = adapter(lib, scale)

    def run():
        with quiet():
            gt, dt = ad.load(gt_path, dt_path)
            E = ad.make_eval(gt, dt)
            ad.evaluate(E)
            ad.accumulate(E)
        return E

    benchmark.group = "end to end from files %s" % scale
    E = benchmark.pedantic(run, rounds=ROUNDS.get(lib, DEFAULT_ROUNDS), iterations=1, warmup_rounds=0)
    with quiet():
        ad.summarize(E)
    stats = ad.stats(E)
    assert len(stats) == 12
    _record(benchmark, ad, scale, meta, stats)


def test_mask_table_plain_columns_fit():
    """bench.mask's plain-text table: each column as wide as its widest cell, so a cell
    marked "(differs)" does not run into the next one."""
    from bench.mask import table
    res = {"area 255": {"pycocotools": (0.00247, True), "fastap": (0.00126, True),
                        "faster_coco_eval": (0.0062, False)},
           "iou 300x300": {"pycocotools": (4.079, True), "fastap": (1.75, True),
                           "faster_coco_eval": (3.7, True)}}
    lines = table(res, ["pycocotools", "fastap", "faster_coco_eval"], False).splitlines()
    assert len({len(l) for l in lines}) == 1                   # right-aligned columns
    assert "(0.4x) (differs)" in lines[1] and "  6.20 ms" in lines[1]
    md = table(res, ["pycocotools", "fastap", "faster_coco_eval"], True).splitlines()
    assert md[2] == "| area 255 | 2.47 ms | 1.26 ms (2.0x) | 6.20 ms (0.4x) (differs) |"
