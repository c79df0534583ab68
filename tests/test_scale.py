"""Scale-out: Dask (a LocalCluster with worker processes) and torch.distributed (gloo,
2 processes on the CPU) give exactly the single-process result."""
import copy
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import fastap
from fastap.synthetic import make_coco

HERE = os.path.dirname(__file__)


@pytest.fixture(scope="module")
def case():
    d, r = make_coco(seed=21, edge_cases=True, n_images=60, n_categories=5)
    ev = fastap.Evaluator(copy.deepcopy(d))
    ev.update(r)
    return d, r, ev.compute()


def _same(a, b):
    for k in ("precision", "recall", "scores", "stats"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k


# the local-scheduler tests run before the module's LocalCluster client exists
def test_dask_local_scheduler(case):
    pytest.importorskip("dask")
    import fastap.dask
    d, r, want = case
    _same(fastap.dask.evaluate(d, r, npartitions=4), want)


def test_dask_progress_bar(case, capsys):
    pytest.importorskip("dask")
    import fastap.dask
    d, r, want = case
    _same(fastap.dask.evaluate(d, r, npartitions=2, progress=True), want)
    out = capsys.readouterr()
    assert "Completed" in out.out + out.err or "%" in out.out + out.err


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_local_cluster_processes(case, client, tmp_path):
    import fastap.dask
    d, r, want = case
    gt_path = tmp_path / "gt.json"
    gt_path.write_text(json.dumps(d))
    res = fastap.dask.evaluate(str(gt_path), r, npartitions=5, client=client, split_every=2)
    _same(res, want)
    # a dict ground truth is scattered to the workers
    _same(fastap.dask.evaluate(d, r, npartitions=3, client=client), want)


def test_dask_bag_and_dataframe(case, client, tmp_path):
    import dask.bag as db
    import fastap.dask
    d, r, want = case
    gt_path = tmp_path / "gt.json"
    gt_path.write_text(json.dumps(d))
    by_img = {}
    for x in r:
        by_img.setdefault(x["image_id"], []).append(x)
    bag = db.from_sequence(list(by_img.values()), npartitions=4)      # per-image records
    _same(fastap.dask.evaluate(str(gt_path), bag, client=client), want)
    import pandas as pd
    import dask.dataframe as dd
    frame = pd.DataFrame({"image_id": [x["image_id"] for x in r], "category_id": [x["category_id"] for x in r],
                          "x": [x["bbox"][0] for x in r], "y": [x["bbox"][1] for x in r],
                          "w": [x["bbox"][2] for x in r], "h": [x["bbox"][3] for x in r],
                          "score": [x["score"] for x in r]})
    imgs = sorted(by_img)
    frame["part"] = np.searchsorted(imgs, frame["image_id"]) * 3 // len(imgs)
    parts = [frame[frame["part"] == i].drop(columns="part") for i in range(3)]
    ddf = dd.concat([dd.from_pandas(p, npartitions=1) for p in parts])
    _same(fastap.dask.evaluate(str(gt_path), ddf, client=client), want)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torch_distributed_gloo_two_ranks(case, tmp_path):
    pytest.importorskip("torch.distributed")
    d, r, want = case
    data = tmp_path / "case.json"
    data.write_text(json.dumps({"gt": d, "results": r}))
    out = str(tmp_path / "rank%d.npz")
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), WORLD_SIZE="2",
               OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([os.path.dirname(HERE)] + sys.path))
    procs = [subprocess.Popen([sys.executable, os.path.join(HERE, "_ddp_worker.py"), str(data), out],
                              env=dict(env, RANK=str(k)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for k in range(2)]
    for p in procs:
        o, _ = p.communicate(timeout=120)
        assert p.returncode == 0, o.decode()
    for k in range(2):
        z = np.load(out % k)
        for key in ("precision", "recall", "scores", "stats"):
            assert np.array_equal(z[key], getattr(want, key)), (k, key)

