"""Small calls: the per-batch loop of a training process (torchvision's CocoEvaluator).

- evalImgs exactly pycocotools' (keys, key order, types, dtypes, shapes, values), also
  built batch by batch as torchvision does;
- the same results on one thread and on several for small inputs;
- a small call starts no OpenMP team, and leaves no thread spinning after it;
- fastap's default thread count is capped by torch.get_num_threads() once torch is imported.
"""
import contextlib
import copy
import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import run_fastap, run_pycocotools
from fastap.synthetic import make_coco

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def assert_same_dicts(ref_imgs, got_imgs):
    """Every evalImgs entry as pycocotools makes it: None where it has None; the same keys
    in the same order; lists as lists, arrays with the same dtype, shape and values."""
    assert len(ref_imgs) == len(got_imgs)
    n = 0
    for a, b in zip(ref_imgs, got_imgs):
        assert (a is None) == (b is None)
        if a is None:
            continue
        n += 1
        assert list(a.keys()) == list(b.keys())
        for key, va in a.items():
            vb = b[key]
            if key in ("image_id", "category_id"):
                # pycocotools' np.int64 (from np.unique of params); fastap's evaluate()
                # keeps params ids as Python ints: equal values, integer types
                assert isinstance(vb, (int, np.integer)) and not isinstance(vb, bool), key
            else:
                assert type(va) is type(vb), (key, type(va), type(vb))
            if isinstance(va, np.ndarray):
                assert va.dtype == vb.dtype, (key, va.dtype, vb.dtype)
                assert va.shape == vb.shape, (key, va.shape, vb.shape)
                assert np.array_equal(va, vb), key
            else:
                assert va == vb, key
    assert n > 0


@pytest.mark.parametrize("set_params", [
    None,
    lambda p: setattr(p, "maxDets", [1, 3, 7]),                        # cut inside images
    lambda p: setattr(p, "useCats", 0),
    lambda p: (setattr(p, "areaRng", [[0, 1e10], [0, 400], [400, 3000]]),
               setattr(p, "areaRngLbl", ["all", "small", "medium"])),
    lambda p: setattr(p, "iouThrs", np.linspace(0.3, 0.95, 40)),      # two 32-threshold chunks
], ids=["default", "maxdets", "usecats0", "arearng", "40thr"])
def test_eval_imgs_exactly_pycocotools(set_params):
    d, r = make_coco(seed=11, edge_cases=True, n_images=30, n_categories=4, gt_per_image=6,
                     dets_per_image=20)
    ref, _ = run_pycocotools(d, r, set_params)
    ev, _ = run_fastap(d, r, set_params)
    assert_same_dicts(ref.evalImgs, ev.evalImgs)


def _per_batch(COCO, COCOeval, dataset, results, batch, num_threads=None):
    """torchvision's CocoEvaluator.update per batch; returns the evalImgs arrays."""
    kw = {} if num_threads is None else {"num_threads": num_threads}
    out = []
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(dataset)
        gt.createIndex()
        ev = COCOeval(gt, iouType="bbox", **kw)
        ids = sorted(gt.getImgIds())
        for i in range(0, len(ids), batch):
            b = ids[i:i + batch]
            res = [copy.deepcopy(x) for x in results if x["image_id"] in b]
            dt = COCO.loadRes(gt, res) if res else COCO()
            ev.cocoDt = dt
            ev.params.imgIds = list(b)
            ev.evaluate()
            out.append((list(ev.evalImgs), np.asarray(ev.evalImgs).reshape(-1, len(ev.params.areaRng), len(b))))
    return out


@pytest.mark.parametrize("batch", [1, 4])
def test_per_batch_loop_exactly_pycocotools(batch):
    from pycocotools.coco import COCO as PC
    from pycocotools.cocoeval import COCOeval as PE
    import fastap
    d, r = make_coco(seed=5, edge_cases=True, n_images=12, n_categories=3, gt_per_image=4,
                     dets_per_image=10)
    ref = _per_batch(PC, PE, d, r, batch)
    got = _per_batch(fastap.COCO, fastap.COCOeval, d, r, batch)
    for (ra, rarr), (ga, garr) in zip(ref, got):
        assert_same_dicts(ra, ga) if any(x is not None for x in ra) else None
        assert rarr.shape == garr.shape


def test_small_inputs_same_on_one_and_many_threads():
    import fastap
    d, r = make_coco(seed=3, edge_cases=True, n_images=8, n_categories=3, gt_per_image=5,
                     dets_per_image=15)
    one = _per_batch(fastap.COCO, fastap.COCOeval, d, r, 4, num_threads=1)
    many = _per_batch(fastap.COCO, fastap.COCOeval, d, r, 4, num_threads=4)
    for (a, _), (b, _) in zip(one, many):
        assert_same_dicts(a, b) if any(x is not None for x in a) else None
    e1, _ = run_fastap(d, r, num_threads=1)
    e4, _ = run_fastap(d, r, num_threads=4)
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(e1.eval[key], e4.eval[key])


def _child(code, **env):
    """Run `code` in a fresh interpreter (a fresh OpenMP runtime), with the user's
    OpenMP and fastap thread settings removed; returns its stdout."""
    e = {k: v for k, v in os.environ.items()
         if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "FASTAP_NUM_THREADS")}
    e["PYTHONPATH"] = REPO + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env)
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=e, cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout


_SMALL_EVAL = """
    import contextlib, io, os, time
    import numpy as np
    import fastap
    from fastap.synthetic import make_coco
    d, r = make_coco(seed=1, n_images=8, n_categories=5, gt_per_image=6, dets_per_image=50)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = fastap.COCO(); gt.dataset = d; gt.createIndex()
        def once():
            ev = fastap.COCOeval(gt, gt.loadRes(list(r)), "bbox", num_threads=2)
            ev.evaluate(); ev.accumulate(); ev.evalImgs
        once()                                  # imports and first-call work
        before = len(os.listdir("/proc/self/task"))
        once()
        after = len(os.listdir("/proc/self/task"))
    t0 = time.process_time()
    time.sleep(0.5)
    print(before, after, time.process_time() - t0)
"""


def test_small_call_starts_no_team_and_nothing_spins():
    """A per-batch evaluate() asked for two threads runs on the calling thread: no
    thread is started, and the process uses (almost) no CPU while it sleeps afterwards.
    With the default wait policy a team's idle workers would spin for some ms after each
    parallel region (OMP_WAIT_POLICY=active: all of the 0.5 s)."""
    before, after, cpu = _child(_SMALL_EVAL).split()
    assert int(after) == int(before)
    assert float(cpu) < 0.05, "CPU time during a 0.5 s sleep after a small call: %s s" % cpu
    # even under the active wait policy nothing spins, since no team was started
    before, after, cpu = _child(_SMALL_EVAL, OMP_WAIT_POLICY="active").split()
    assert float(cpu) < 0.05, "CPU time during a 0.5 s sleep (OMP_WAIT_POLICY=active): %s s" % cpu


def test_big_call_spins_briefly_at_most():
    """After a call that does use two threads, libgomp's default wait policy lets idle
    workers spin only briefly (a few ms measured), not through the 0.5 s sleep."""
    out = _child("""
        import time
        import numpy as np
        from fastap import _core
        a = np.random.default_rng(0).random((2000, 4)) * 100
        _core.box_iou(a, a, num_threads=2)
        t0 = time.process_time()
        time.sleep(0.5)
        print(time.process_time() - t0)
    """)
    assert float(out) < 0.15, "CPU time during a 0.5 s sleep after a two-thread call: %s s" % out


def test_torch_thread_cap():
    torch = pytest.importorskip("torch")
    del torch
    out = _child("""
        import threading
        import torch
        import fastap.threads as th
        torch.set_num_threads(1)
        got = []
        t = threading.Thread(target=lambda: got.append(th.thread_count()))
        t.start(); t.join()
        print(th.thread_count(), got[0], th.thread_count(3))
    """, OMP_NUM_THREADS="2")
    here, other_thread, explicit = map(int, out.split())
    assert here == 1 and other_thread == 1      # torch's cap, on every thread
    assert explicit == 3                        # an explicit num_threads wins
    out = _child("""
        import torch
        import fastap.threads as th
        torch.set_num_threads(1)
        print(th.thread_count())
    """, FASTAP_NUM_THREADS="2")
    assert int(out) == 2                        # so does FASTAP_NUM_THREADS
