"""Plots of the reports (needs matplotlib: ``pip install fastap[plot]``).

matplotlib is imported when a plot is drawn, never at ``import fastap``. Figures are
drawn with the Agg canvas directly (``matplotlib.figure.Figure``), so nothing here
touches pyplot's global state or the user's interactive backend.

* :func:`plot_pr_curves` -- precision-recall curves (COCO's interpolated envelope) of
  the most frequent categories and the mean over all categories;
* :func:`plot_operating_points` -- precision, recall and F1 against the score
  threshold, with the best-F1 threshold marked;
* :func:`plot_confusion_matrix` -- the confusion matrix as a heatmap (row-normalised);
* :func:`plot_error_breakdown` -- TIDE-style dAP bars per error type;
* :func:`plot_all` -- all four from one evaluation, into a directory.
"""
from __future__ import annotations

import os

import numpy as np

__all__ = ["plot_pr_curves", "plot_operating_points", "plot_confusion_matrix", "plot_error_breakdown",
           "plot_all", "PLOT_FILES"]

PLOT_FILES = {"pr": "pr_curves.png", "operating_points": "operating_points.png",
              "confusion": "confusion_matrix.png", "errors": "error_breakdown.png"}

_TIDE_COLORS = {"Cls": "#9c6ec2", "Loc": "#d2a15e", "Both": "#5d9fcf", "Dupe": "#79b473", "Bkg": "#d65f5f",
                "Miss": "#8c8c8c", "FalsePos": "#4a4a9c", "FalseNeg": "#c77b2e"}


def _figure(w, h, constrained=True):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("fastap's plots need matplotlib: pip install fastap[plot] "
                          "(or pip install matplotlib)") from None
    fig = Figure(figsize=(w, h), dpi=100, layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    d = os.path.dirname(os.fspath(path))
    if d:
        os.makedirs(d, exist_ok=True)
    fig.savefig(path, format="png", pil_kwargs={"compress_level": 3})
    return os.fspath(path)


def _name(names, cid):
    if names and cid in names:
        return str(names[cid])
    return str(cid)


def _short(s, n=18):
    return s if len(s) <= n else s[:n - 1] + "\u2026"


def _top(op, top):
    """Indices of the `top` categories with the most ground truth (ties: lower index)."""
    n = np.asarray(op.n_gt)
    k = np.flatnonzero(n > 0)
    return k[np.lexsort((k, -n[k]))][:top]


def _thin(n, most=1500):
    """Indices of at most `most` points of a curve of n (ends kept): enough to draw it."""
    if n <= most:
        return slice(None)
    return np.unique(np.linspace(0, n - 1, most).round().astype(np.int64))


def _envelope_at(recall, precision, rec_grid):
    """COCO's interpolated precision (max precision at recall >= r) sampled on
    `rec_grid` with searchsorted 'left'; 0 past the end of the curve."""
    out = np.zeros(rec_grid.shape[0])
    if recall.size == 0:
        return out
    env = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, rec_grid, side="left")
    ok = idx < recall.size
    out[ok] = env[idx[ok]]
    return out


def plot_pr_curves(op, path, top=10, names=None):
    """Precision-recall curves at ``op.iou_threshold`` (``op``: an
    :class:`~fastap.report.OperatingPoints`): the interpolated envelope of the ``top``
    categories with the most ground truth, and the mean over every category with
    ground truth (whose area is mAP at that IoU). Legend: AP per curve (101-point
    interpolation, as COCO). Writes a PNG; returns its path."""
    names = names if names is not None else getattr(op, "names", None)
    grid = np.linspace(0.0, 1.0, 101)
    fig = _figure(8.5, 6.0)
    ax = fig.add_subplot(1, 1, 1)
    sampled = []
    for k in range(len(op.cat_ids)):
        if op.n_gt[k] <= 0:
            continue
        s = slice(int(op.offsets[k]), int(op.offsets[k + 1]))
        sampled.append(_envelope_at(op.recall[s], op.precision[s], grid))
    sel = _top(op, top)
    cmap = _colors(len(sel))
    for j, k in enumerate(sel):
        s = slice(int(op.offsets[k]), int(op.offsets[k + 1]))
        r, p = op.recall[s], op.precision[s]
        ap = float(np.mean(_envelope_at(r, p, grid)))
        env = np.maximum.accumulate(p[::-1])[::-1] if p.size else p
        th = _thin(r.size)
        r, env = r[th], env[th]
        ax.step(np.concatenate([[0.0], r]), np.concatenate([env[:1] if env.size else [0.0], env]),
                where="post", lw=1.3, color=cmap[j], alpha=0.85,
                label="%s  AP %.3f  (n=%d)" % (_short(_name(names, int(op.cat_ids[k]))), ap, op.n_gt[k]))
    if sampled:
        mean = np.mean(sampled, axis=0)
        ax.plot(grid, mean, color="black", lw=3.0,
                label="all %d classes  mAP %.3f" % (len(sampled), float(np.mean(mean))))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Recall", fontsize=11)
    ax.set_ylabel("Precision", fontsize=11)
    ax.grid(True, alpha=0.3)
    shown = "" if len(sel) == int((op.n_gt > 0).sum()) else " (the %d classes with most ground truth)" % len(sel)
    ax.set_title("Precision-recall at IoU=%.2f, area=%s, maxDets=%d%s"
                 % (op.iou_threshold, op.area, op.max_dets, shown), fontsize=11)
    ax.legend(loc="lower left", fontsize=8, framealpha=0.85)
    return _save(fig, path)


def _colors(n):
    from matplotlib import colormaps
    cm = colormaps["tab10" if n <= 10 else "tab20"]
    return [cm(i % cm.N) for i in range(max(n, 1))]


def plot_operating_points(op, path, top=10, names=None):
    """Precision, recall and F1 against the score threshold: one panel each; the
    ``top`` categories with most ground truth (thin) and all detections pooled (micro,
    thick), the best-F1 threshold marked. Writes a PNG; returns its path."""
    names = names if names is not None else getattr(op, "names", None)
    fig = _figure(18.0, 5.2)
    axes = [fig.add_subplot(1, 3, i + 1) for i in range(3)]
    sel = _top(op, top)
    cmap = _colors(len(sel))
    ov, ob = op.overall, op.overall_best
    for ax, f, title in zip(axes, ("precision", "recall", "f1"), ("Precision", "Recall", "F1")):
        for j, k in enumerate(sel):
            s = slice(int(op.offsets[k]), int(op.offsets[k + 1]))
            th = _thin(s.stop - s.start)
            ax.plot(op.threshold[s][th], getattr(op, f)[s][th], lw=1.0, color=cmap[j], alpha=0.8,
                    label=_short(_name(names, int(op.cat_ids[k]))) if f == "f1" else None)
        th = _thin(ov["threshold"].size, 4000)
        ax.plot(ov["threshold"][th], ov[f][th], color="black", lw=2.6,
                label=("all classes (micro)\nbest F1 %.3f at score %.3g" % (ob["f1"], ob["threshold"])
                       if f == "f1" else None))
        if not np.isnan(ob["threshold"]):
            ax.axvline(ob["threshold"], color="red", ls="--", lw=1.2)
            ax.plot([ob["threshold"]], [ob[f]], "o", color="red", ms=7)
        ax.set_xlabel("Score threshold", fontsize=11)
        ax.set_ylabel(title, fontsize=11)
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        ax.set_title("%s vs score (IoU=%.2f)" % (title, op.iou_threshold), fontsize=11)
    axes[2].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, framealpha=0.85)
    return _save(fig, path)


def plot_confusion_matrix(cm, path, normalize=True, names=None, max_annotated=25):
    """Heatmap of a :class:`~fastap.report.ConfusionMatrix`: rows = true class, columns
    = predicted, background last. ``normalize``: each row divided by its sum (what each
    true class became; the background row by its own sum). Cells are annotated when
    there are at most ``max_annotated`` classes; label sizes shrink with the number of
    classes (80 COCO classes stay legible). Writes a PNG; returns its path."""
    names = names if names is not None else getattr(cm, "names", None)
    m = cm.normalized(axis=1) if normalize else cm.matrix.astype(np.float64)
    n = m.shape[0]
    labels = [_short(_name(names, int(c)), 16) for c in cm.cat_ids] + ["background"]
    side = min(max(6.0, 0.2 * n + 2.5), 24.0)
    # fixed margins (no constrained layout: it would lay out 2n tick labels twice)
    fig = _figure(side + 1.6, side + 0.6, constrained=False)
    fs = 10 if n <= 15 else 8 if n <= 35 else 7 if n <= 60 else 6.5 if n <= 100 else 4.5
    margin = (0.2 + 0.0105 * fs * max(len(x) for x in labels)) + 0.5    # inches for the tick labels
    W, H = side + 1.6, side + 0.6
    ax = fig.add_axes([margin / W, margin / H, (side - margin) / W, (side - margin - 0.1) / H])
    cax = fig.add_axes([(side + 0.35) / W, 0.25, 0.22 / W, 0.5])
    shown = np.where(m > 0, m, np.nan)          # empty cells stay white
    im = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=1.0 if normalize else None, interpolation="nearest", interpolation_stage="rgba",
                   aspect="auto")
    ax.set_xticks(np.arange(n))
    ax.set_yticks(np.arange(n))
    ax.set_xticklabels(labels, rotation=90, fontsize=fs)
    ax.set_yticklabels(labels, fontsize=fs)
    ax.set_xlabel("Predicted class", fontsize=12)
    ax.set_ylabel("True class", fontsize=12)
    edges = np.arange(-0.5, n, 1)
    ax.hlines(edges, -0.5, n - 0.5, color="#e4e4e4", lw=0.3)
    ax.vlines(edges, -0.5, n - 0.5, color="#e4e4e4", lw=0.3)
    ax.axhline(n - 1.5, color="gray", lw=0.8)
    ax.axvline(n - 1.5, color="gray", lw=0.8)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    if n - 1 <= max_annotated:
        for i in range(n):
            for j in range(n):
                v = m[i, j]
                if v > 0:
                    ax.text(j, i, ("%.2f" % v) if normalize else "%d" % v, ha="center", va="center",
                            fontsize=max(fs - 1, 5), color="white" if v > 0.5 * np.nanmax(shown) else "black")
    cb = fig.colorbar(im, cax=cax)
    cb.set_label("fraction of the true class's row" if normalize else "count", fontsize=10)
    ax.set_title("Confusion matrix (IoU > %.2f, score > %.2f%s)"
                 % (cm.iou_threshold, cm.score_threshold, ", row-normalised" if normalize else ""), fontsize=12)
    return _save(fig, path)


def plot_error_breakdown(ea, path):
    """TIDE-style bars of an :class:`~fastap.report.ErrorAnalysis`: dAP (AP points) per
    main error type with its count, and the special FalsePos / FalseNeg dAP. Writes a
    PNG; returns its path."""
    from .report import ERROR_TYPES, SPECIAL_ERROR_TYPES
    fig = _figure(11.0, 4.8)
    gs = fig.add_gridspec(1, 2, width_ratios=[3, 1.4])
    ax = fig.add_subplot(gs[0, 0])
    vals = [100 * ea.dap[t] for t in ERROR_TYPES]
    top = max(vals + [1.0])
    y = np.arange(len(ERROR_TYPES))[::-1]
    ax.barh(y, vals, color=[_TIDE_COLORS[t] for t in ERROR_TYPES])
    ax.set_yticks(y)
    ax.set_yticklabels(ERROR_TYPES, fontsize=11)
    for yi, v, t in zip(y, vals, ERROR_TYPES):
        ax.text(v + 0.01 * top, yi, "%.2f  (%d)" % (v, ea.counts[t]), va="center", fontsize=10)
    ax.set_xlim(0, top * 1.25)
    ax.set_xlabel("dAP (AP points gained by fixing the error type)", fontsize=10)
    ax.set_title("Main errors  (AP@%.2f = %.2f; count in parentheses)" % (ea.pos_threshold, 100 * ea.ap),
                 fontsize=11)
    ax.grid(True, axis="x", alpha=0.3)
    ax2 = fig.add_subplot(gs[0, 1])
    sv = [100 * ea.special[t] for t in SPECIAL_ERROR_TYPES]
    top = max(sv + [1.0])
    x = np.arange(len(SPECIAL_ERROR_TYPES))
    ax2.bar(x, sv, color=[_TIDE_COLORS[t] for t in SPECIAL_ERROR_TYPES])
    ax2.set_xticks(x)
    ax2.set_xticklabels(SPECIAL_ERROR_TYPES, fontsize=10)
    for xi, v in zip(x, sv):
        ax2.text(xi, v + 0.01 * top, "%.2f" % v, ha="center", fontsize=10)
    ax2.set_ylim(0, top * 1.15)
    ax2.set_ylabel("dAP", fontsize=10)
    ax2.set_title("Special errors", fontsize=11)
    ax2.grid(True, axis="y", alpha=0.3)
    return _save(fig, path)


def plot_all(result, directory, iou_threshold=0.5, score_threshold=0.25, top=10, names=None,
             operating_points=None, confusion_matrix=None, error_analysis=None):
    """Compute the reports of one evaluation (an EvalResult of the COCO protocol or a
    COCOeval after ``evaluate()``) and write the four PNGs of :data:`PLOT_FILES` into
    ``directory`` (created if needed). Reports already computed can be passed in
    (``operating_points``, ``confusion_matrix``, ``error_analysis``) to avoid redoing
    them. ``names``: dict category id -> label (default: the ground truth's category
    names when known, else ids). Returns {kind: path}."""
    from . import report
    _figure(1, 1)                       # fail early, with the install hint, without matplotlib
    op = operating_points or report.operating_points(result, iou_threshold)
    cm = confusion_matrix or report.confusion_matrix(result, iou_threshold, score_threshold)
    ea = error_analysis or report.error_analysis(result, iou_threshold)
    os.makedirs(directory, exist_ok=True)
    j = lambda k: os.path.join(directory, PLOT_FILES[k])  # noqa: E731
    return {"pr": plot_pr_curves(op, j("pr"), top=top, names=names),
            "operating_points": plot_operating_points(op, j("operating_points"), top=top, names=names),
            "confusion": plot_confusion_matrix(cm, j("confusion"), names=names),
            "errors": plot_error_breakdown(ea, j("errors"))}
