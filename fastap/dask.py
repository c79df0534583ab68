"""Evaluation spread over Dask workers (extra ``fastap[dask]``).

    import fastap.dask
    res = fastap.dask.evaluate("instances_val2017.json", "detections.json", npartitions=8)

Images are split into shards; each shard becomes a partial :class:`fastap.Evaluator`
state on a worker (pickled without the ground truth: per detection ~60 bytes), and
the states are merged in a tree (``split_every`` at a time), which is exact: the result
is bit for bit the single-process one. The final accumulation runs where ``evaluate``
is called.

On a real cluster, start a ``dask.distributed`` scheduler and workers
(``dask scheduler`` / ``dask worker tcp://HOST:8786``, or dask-jobqueue / dask-kubernetes),
create ``client = Client("tcp://HOST:8786")`` and pass ``client=client``; give the
ground truth as a path that every worker can read (a shared file system or object
store URL readable by ``open``), or as a dict (it is then scattered to the workers).
Without ``client``, the current Dask scheduler is used (threads by default).
"""
from __future__ import annotations

import numpy as np

from .adapters.records import result_columns
from .evaluator import Evaluator

__all__ = ["evaluate"]

_GT_CACHE = {}


def _require_dask():
    try:
        import dask  # noqa: F401
        import dask.delayed  # noqa: F401
    except ImportError:
        raise ImportError("fastap.dask needs Dask: pip install 'fastap[dask]' (or dask[distributed])") from None


def _evaluator_for(gt, params):
    """A fresh Evaluator over `gt`, loading a path once per worker process."""
    key = gt if isinstance(gt, str) else None
    base = _GT_CACHE.get(key) if key is not None else None
    if base is None:
        base = Evaluator(gt, params=params)
        if key is not None:
            _GT_CACHE.clear()
            _GT_CACHE[key] = base
    ev = base.fresh()
    if params is not None:
        ev.params = params
    return ev


def _shard_state(gt, params, records):
    """The partial state of one shard: an Evaluator updated with its results."""
    ev = _evaluator_for(gt, params)
    if isinstance(records, list) and records and isinstance(records[0], list):
        records = [r for part in records for r in part]          # a bag partition of image lists
    if hasattr(records, "columns") and hasattr(records, "to_dict"):   # a pandas partition
        records = _frame_columns(records)
    ev.update(records)
    ev.flush()
    ev.detach()                # travel light: the ground truth stays on the workers
    return ev


def _frame_columns(df):
    cols = {"image_id": df["image_id"].to_numpy(), "category_id": df["category_id"].to_numpy(),
            "score": df["score"].to_numpy()}
    if "bbox" in df.columns:
        cols["bbox"] = np.array(df["bbox"].tolist(), dtype=np.float64).reshape(-1, 4)
    else:
        cols["bbox"] = df[["x", "y", "w", "h"]].to_numpy(dtype=np.float64)
    return cols


def _merge(states):
    return Evaluator.merge_all(states)


def evaluate(gt, results, npartitions=None, client=None, params=None, split_every=8, progress=False):
    """Evaluate COCO box results against a COCO dataset on Dask.

    Parameters
    ----------
    gt : str or dict
        Ground truth: a path readable on every worker, or a dataset dict.
    results : path, list of dicts, (N, 7) array, mapping of arrays, dask.bag.Bag or dask.dataframe.DataFrame
        Detections. A Bag holds result dicts. A DataFrame has columns ``image_id``,
        ``category_id``, ``score`` and either ``bbox`` (4-lists) or ``x``, ``y``, ``w``,
        ``h``. A Bag or DataFrame must keep all detections of an image in one partition
        (e.g. partition by ``image_id``); an image split across partitions is reported as
        an error.
    npartitions : int, optional
        Shards for in-memory results (default: 2 per worker or core).
    client : dask.distributed.Client, optional
        Default: the current default client, if any, else the local scheduler.
    params : fastap.Params, optional
        Default: pycocotools' bbox defaults.
    split_every : int, optional
        States merged per tree node.
    progress : bool, optional
        Show a progress bar (Dask's own for the local scheduler, ``distributed.progress``
        with a client).

    Returns
    -------
    fastap.EvalResult
    """
    _require_dask()
    import dask
    from dask import delayed

    if client is None:
        try:                        # a dask.distributed Client already set as default
            from dask.distributed import default_client
            client = default_client()
        except (ImportError, ValueError):
            client = None
    if isinstance(gt, dict) and client is not None:
        gt = client.scatter(gt, broadcast=True)
    parts = _partitions(results, npartitions, client)
    states = [delayed(_shard_state)(gt, params, part) for part in parts]
    while len(states) > 1:
        states = [delayed(_merge)(states[i:i + split_every]) for i in range(0, len(states), split_every)]
    final = states[0]
    if client is not None:
        fut = client.compute(final)
        if progress:
            from dask.distributed import progress as dprogress
            dprogress(fut)
        state = fut.result()
    elif progress:
        from dask.diagnostics import ProgressBar
        with ProgressBar(minimum=0):
            state = dask.compute(final)[0]
    else:
        state = dask.compute(final)[0]
    return state.compute()


def _partitions(results, npartitions, client):
    """Dask-delayable partitions of the results, each holding whole images."""
    try:
        import dask.bag as db
    except ImportError:
        db = None
    try:
        import dask.dataframe as dd
    except ImportError:
        dd = None
    if db is not None and isinstance(results, db.Bag):
        return results.to_delayed()
    if dd is not None and isinstance(results, dd.DataFrame):
        return results.to_delayed()
    cols = result_columns(results)
    if npartitions is None:
        if client is not None:
            npartitions = 2 * max(1, len(client.scheduler_info().get("workers", {})))
        else:
            import os
            npartitions = 2 * (os.cpu_count() or 1)
    # contiguous ranges of sorted image ids: whole images per shard
    order = np.argsort(cols["image_id"], kind="stable")
    imgs = cols["image_id"][order]
    uniq = np.unique(imgs)
    bounds = uniq[np.linspace(0, uniq.shape[0], max(1, int(npartitions)) + 1).astype(np.int64)[1:-1]]
    cuts = np.searchsorted(imgs, bounds, side="left")
    out = []
    for sel in np.split(order, cuts):
        if sel.shape[0]:
            sel = np.sort(sel)            # keep the input order inside a shard (score ties)
            out.append({k: cols[k][sel] for k in ("image_id", "category_id", "bbox", "score")})
    return out
