"""Plots of the reports (needs matplotlib: ``pip install fastap[plot]``).

The four figures are rasterised directly with Pillow (which matplotlib depends on),
in matplotlib's own DejaVu Sans font, by the small renderer below: matplotlib itself
is never imported. At COCO val2017 scale, importing matplotlib alone takes longer
than the whole evaluation, and its artist machinery spends about a second on these
four figures; this renderer draws and writes all four in a few tens of milliseconds
(``python -m bench.reports``). Nothing here touches pyplot's global state or the
user's interactive backend.

* :func:`plot_pr_curves` -- precision-recall curves (COCO's interpolated envelope) of
  the most frequent categories and the mean over all categories;
* :func:`plot_operating_points` -- precision, recall and F1 against the score
  threshold, with the best-F1 threshold marked;
* :func:`plot_confusion_matrix` -- the confusion matrix as a heatmap (row-normalised);
* :func:`plot_error_breakdown` -- TIDE-style dAP bars per error type;
* :func:`draw_reports` -- all four from computed reports, into a directory
  (:func:`fastap.reports.plot_all` computes them from one evaluation).
"""
from __future__ import annotations

import math
import os

import numpy as np

from .compute import ERROR_TYPES, SPECIAL_ERROR_TYPES, measure_name

__all__ = ["plot_pr_curves", "plot_operating_points", "plot_confusion_matrix", "plot_error_breakdown",
           "draw_reports", "require_deps", "warm_fonts", "PLOT_FILES"]

PLOT_FILES = {"pr": "pr_curves.png", "operating_points": "operating_points.png",
              "confusion": "confusion_matrix.png", "errors": "error_breakdown.png"}

_TIDE_COLORS = {"Cls": "#9c6ec2", "Loc": "#d2a15e", "Both": "#5d9fcf", "Dupe": "#79b473", "Bkg": "#d65f5f",
                "Miss": "#8c8c8c", "FalsePos": "#4a4a9c", "FalseNeg": "#c77b2e"}
# matplotlib's "tab10" / "tab20" qualitative palettes and the 9 anchors of its "Blues"
_TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf"]
_TAB20 = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd",
          "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d",
          "#17becf", "#9edae5"]
_BLUES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"]
_SS = 1                     # supersampling factor (1: lines aliased, text antialiased; 2 costs ~2x)

_MISSING = ("fastap's plots need matplotlib: pip install fastap[plot] (or pip install matplotlib)")


# ----------------------------------------------------------------------------- renderer

_state = {}


def require_deps():
    """(PIL.Image, PIL.ImageDraw, PIL.ImageFont, font directory); ImportError with the
    install hint when matplotlib (for its fonts, and Pillow with it) is missing."""
    import importlib.util
    try:                                # looked up on every call (cheap; nothing imported)
        spec = importlib.util.find_spec("matplotlib")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(_MISSING)
    if "deps" not in _state:
        try:
            from PIL import Image, ImageDraw, ImageFont
        except ImportError:
            raise ImportError(_MISSING) from None
        fonts = os.path.join(list(spec.submodule_search_locations)[0], "mpl-data", "fonts", "ttf")
        _state["deps"] = (Image, ImageDraw, ImageFont, fonts)
    return _state["deps"]


def warm_fonts():
    """Load Pillow and the fonts the plots use (a background thread of the CLI does
    this while the evaluation runs); errors are left to the plots that need them."""
    try:
        require_deps()
        for px in (10, 11, 13, 14):
            _font(px)
    except Exception:
        pass


def _font(px, bold=False):
    key = ("font", int(round(px)), bold)
    f = _state.get(key)
    if f is None:
        _, _, ImageFont, fonts = _state["deps"]
        path = os.path.join(fonts, "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
        try:
            f = ImageFont.truetype(path, key[1])
        except OSError:                 # no font file: Pillow's own scalable font
            f = ImageFont.load_default(key[1])
        _state[key] = f
    return f


_NAMED = {"black": "#000000", "white": "#ffffff", "red": "#d62728"}


def _rgb(c):
    if isinstance(c, str):
        c = _NAMED.get(c, c).lstrip("#")
        return tuple(int(c[i:i + 2], 16) for i in (0, 2, 4))
    return tuple(int(v) for v in c)


def _mix(c, alpha, bg=(255, 255, 255)):
    """`c` drawn with opacity `alpha` over `bg` (the figures are opaque)."""
    c = _rgb(c)
    return tuple(int(round(alpha * a + (1 - alpha) * b)) for a, b in zip(c, bg))


class _Canvas:
    """An RGB image addressed in output pixels; drawn `ss` times larger and reduced on
    save (antialiasing of lines and text)."""

    def __init__(self, w, h, ss=_SS):
        Image, ImageDraw, _, _ = require_deps()
        self.w, self.h, self.ss = int(w), int(h), int(ss)
        self.img = Image.new("RGB", (self.w * self.ss, self.h * self.ss), "white")
        self.draw = ImageDraw.Draw(self.img)

    def text(self, x, y, s, size=11, anchor="la", fill="black", bold=False):
        k = self.ss
        self.draw.text((x * k, y * k), s, font=_font(size * k, bold), anchor=anchor, fill=_rgb(fill))

    def text_width(self, s, size=11):
        return self.draw.textlength(s, font=_font(size * self.ss)) / self.ss

    def vtext(self, x, y, s, size=11, fill="black"):
        """Text rotated 90 degrees (reading upwards), centred on (x, y)."""
        Image, ImageDraw, _, _ = _state["deps"]
        k = self.ss
        f = _font(size * k)
        w = int(self.draw.textlength(s, font=f)) + 4
        h = int(size * k * 1.4) + 2
        tile = Image.new("L", (w, h), 0)
        ImageDraw.Draw(tile).text((w / 2, h / 2), s, font=f, anchor="mm", fill=255)
        tile = tile.transpose(Image.Transpose.ROTATE_90)
        self.img.paste(_rgb(fill), (int(x * k - h / 2), int(y * k - w / 2)), tile)

    def line(self, xs, ys, fill, width=1.0):
        k = self.ss
        pts = np.empty(2 * len(xs))
        pts[0::2] = np.asarray(xs, np.float64) * k
        pts[1::2] = np.asarray(ys, np.float64) * k
        px = max(1, int(round(width * k)))
        # round joints only where they show (thick lines); they cost a disc per vertex
        self.draw.line(pts.tolist(), fill=_rgb(fill), width=px, joint="curve" if px >= 4 else None)

    def rect(self, x0, y0, x1, y1, fill=None, outline=None, width=1.0):
        k = self.ss
        self.draw.rectangle([x0 * k, y0 * k, x1 * k, y1 * k], fill=None if fill is None else _rgb(fill),
                            outline=None if outline is None else _rgb(outline),
                            width=max(1, int(round(width * k))))

    def dot(self, x, y, r, fill):
        k = self.ss
        self.draw.ellipse([(x - r) * k, (y - r) * k, (x + r) * k, (y + r) * k], fill=_rgb(fill))

    def save(self, path, later=None):
        """Write the PNG; with `later` (a list), in a background thread appended to it
        (the reduction and zlib release the GIL: the next figure is drawn meanwhile;
        :func:`_finish` joins them)."""
        path = os.fspath(path)
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        if later is None:
            self._write(path)
        else:
            later.append(_Job(self._write, path))
        return path

    def _write(self, path):
        img = self.img.reduce(self.ss) if self.ss > 1 else self.img
        _write_png(path, np.asarray(img))


class _Job:
    """fn(*args) in a daemon thread; result() joins it and re-raises its exception."""

    def __init__(self, fn, *args):
        import threading
        self._out = None
        self._err = None

        def run():
            try:
                self._out = fn(*args)
            except BaseException as e:     # handed to result()
                self._err = e
        self._t = threading.Thread(target=run, daemon=True)
        self._t.start()

    def result(self):
        self._t.join()
        if self._err is not None:
            raise self._err
        return self._out


def _finish(later):
    """Wait for the background writes of `later`; the first error is raised."""
    errs = []
    for job in later:
        try:
            job.result()
        except BaseException as e:
            errs.append(e)
    del later[:]
    if errs:
        raise errs[0]


def _png_chunk(kind, data):
    import struct
    import zlib
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _write_png(path, rgb):
    """Write uint8 [H, W, 3] as an 8-bit RGB PNG: every scanline with the "Up" filter
    (the difference to the row above, NumPy), zlib level 1 (which releases the GIL).
    Three times faster than Pillow's writer (adaptive filtering) on these mostly flat
    figures, for files of the same size."""
    import struct
    import zlib
    h, w = rgb.shape[:2]
    rows = np.ascontiguousarray(rgb, dtype=np.uint8).reshape(h, w * 3)
    raw = np.empty((h, w * 3 + 1), np.uint8)
    raw[:, 0] = 2                       # filter type 2, "Up" (the first row: up from zeros)
    raw[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])
    z = zlib.compress(raw, 1)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(struct.pack(">I", len(z)) + b"IDAT")
        f.write(z)
        f.write(struct.pack(">I", zlib.crc32(z, zlib.crc32(b"IDAT")) & 0xFFFFFFFF))
        f.write(_png_chunk(b"IEND", b""))


def _nice_ticks(lo, hi, most=7):
    """Round tick values covering [lo, hi] (steps 1, 2, 2.5, 5 x 10^k)."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(most - 1, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw - 1e-12)
    first = math.ceil(lo / step - 1e-9) * step
    n = int(math.floor((hi - first) / step + 1e-9)) + 1
    return [round(first + i * step, 12) for i in range(n)]


def _tick_label(v, step):
    if step >= 1 and float(v).is_integer():
        return "%d" % v
    dec = max(0, -int(math.floor(math.log10(step) + 1e-9))) + (1 if step * 10 ** math.ceil(-math.log10(step)) % 1 else 0)
    return "%.*f" % (min(dec, 6), v)


class _Axes:
    """A plotting box [x0, x1] x [y0, y1] (output pixels) with data limits."""

    def __init__(self, cv, x0, y0, x1, y1, xlim=(0.0, 1.0), ylim=(0.0, 1.0)):
        self.cv, self.box = cv, (x0, y0, x1, y1)
        self.xlim, self.ylim = (float(xlim[0]), float(xlim[1])), (float(ylim[0]), float(ylim[1]))

    def px(self, x):
        x0, _, x1, _ = self.box
        a, b = self.xlim
        return x0 + (np.asarray(x, np.float64) - a) * (x1 - x0) / (b - a)

    def py(self, y):
        _, y0, _, y1 = self.box
        a, b = self.ylim
        return y1 - (np.asarray(y, np.float64) - a) * (y1 - y0) / (b - a)

    def frame(self, xticks=None, yticks=None, xlabels=None, ylabels=None, grid="xy", size=11):
        cv, (x0, y0, x1, y1) = self.cv, self.box
        xticks = _nice_ticks(*self.xlim) if xticks is None else xticks
        yticks = _nice_ticks(*self.ylim) if yticks is None else yticks
        gcol = _mix("#b0b0b0", 0.6)
        for i, v in enumerate(xticks):
            x = float(self.px(v))
            if "x" in grid:
                cv.line([x, x], [y0, y1], gcol, 0.8)
            cv.line([x, x], [y1, y1 + 4], "black", 0.8)
            lab = xlabels[i] if xlabels is not None else _tick_label(v, _step(xticks))
            cv.text(x, y1 + 6, lab, size, anchor="ma")
        for i, v in enumerate(yticks):
            y = float(self.py(v))
            if "y" in grid:
                cv.line([x0, x1], [y, y], gcol, 0.8)
            cv.line([x0 - 4, x0], [y, y], "black", 0.8)
            lab = ylabels[i] if ylabels is not None else _tick_label(v, _step(yticks))
            cv.text(x0 - 7, y, lab, size, anchor="rm")

    def border(self):
        x0, y0, x1, y1 = self.box
        self.cv.rect(x0, y0, x1, y1, outline="black", width=1.0)

    def labels(self, title=None, xlabel=None, ylabel=None, size=13):
        cv, (x0, y0, x1, y1) = self.cv, self.box
        if title:
            cv.text((x0 + x1) / 2, y0 - 8, title, size, anchor="md")
        if xlabel:
            cv.text((x0 + x1) / 2, y1 + 25, xlabel, size, anchor="ma")
        if ylabel:
            cv.vtext(x0 - 48, (y0 + y1) / 2, ylabel, size)

    def plot(self, x, y, color, width=1.5):
        if len(x) == 0:
            return
        if len(x) == 1:
            x, y = [x[0], x[0]], [y[0], y[0]]
        xs = np.clip(self.px(x), self.box[0], self.box[2])
        ys = np.clip(self.py(y), self.box[1], self.box[3])
        self.cv.line(xs, ys, color, width)

    def step_post(self, x, y, color, width=1.5):
        """Steps: y[i] holds from x[i] to x[i + 1] (matplotlib's where='post')."""
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if x.size == 0:
            return
        xs = np.repeat(x, 2)[1:]
        ys = np.repeat(y, 2)[:-1]
        self.plot(xs, ys, color, width)


def _step(ticks):
    return abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0


def _legend(cv, x, y, entries, size=9, anchor="lower left"):
    """A framed legend whose corner `anchor` is at (x, y); entries: (label, color,
    line width); a label may hold newlines."""
    lines = [(lab.split("\n"), col, w) for lab, col, w in entries]
    lh = size * 1.45
    tw = max((cv.text_width(s, size) for ls, _, _ in lines for s in ls), default=0)
    W = 10 + 26 + 8 + tw + 8
    H = 6 + lh * sum(len(ls) for ls, _, _ in lines) + 6
    x0 = x if "left" in anchor else x - W
    y0 = y - H if "lower" in anchor else y
    cv.rect(x0, y0, x0 + W, y0 + H, fill=_mix("white", 0.85, (235, 235, 235)), outline="#cccccc", width=1.0)
    yy = y0 + 6
    for ls, col, w in lines:
        cv.line([x0 + 10, x0 + 36], [yy + lh / 2, yy + lh / 2], col, w)
        for s in ls:
            cv.text(x0 + 44, yy + lh / 2, s, size, anchor="lm")
            yy += lh


# ----------------------------------------------------------------------------- helpers

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


def _colors(n):
    pal = _TAB10 if n <= 10 else _TAB20
    return [pal[i % len(pal)] for i in range(max(n, 1))]


# ----------------------------------------------------------------------------- the figures

def plot_pr_curves(op, path, top=10, names=None, *, _later=None):
    """Precision-recall curves at ``op.iou_threshold`` (``op``: an
    :class:`~fastap.reports.OperatingPoints`): the interpolated envelope of the ``top``
    categories with the most ground truth, and the mean over every category with
    ground truth (whose area is mAP at that IoU). Legend: AP per curve (101-point
    interpolation, as COCO). Writes a PNG (850 x 600); returns its path."""
    names = names if names is not None else getattr(op, "names", None)
    grid = np.linspace(0.0, 1.0, 101)
    sampled = []
    for k in range(len(op.cat_ids)):
        if op.n_gt[k] <= 0:
            continue
        s = slice(int(op.offsets[k]), int(op.offsets[k + 1]))
        sampled.append(_envelope_at(op.recall[s], op.precision[s], grid))
    sel = _top(op, top)
    cmap = _colors(len(sel))
    cv = _Canvas(850, 600)
    ax = _Axes(cv, 70, 40, 830, 545, (0.0, 1.0), (0.0, 1.02))
    ax.frame(xticks=_nice_ticks(0, 1, 6), yticks=_nice_ticks(0, 1, 6))
    legend = []
    for j, k in enumerate(sel):
        s = slice(int(op.offsets[k]), int(op.offsets[k + 1]))
        r, p = op.recall[s], op.precision[s]
        ap = float(np.mean(_envelope_at(r, p, grid)))
        env = np.maximum.accumulate(p[::-1])[::-1] if p.size else p
        th = _thin(r.size)
        r, env = r[th], env[th]
        col = _mix(cmap[j], 0.85)
        ax.step_post(np.concatenate([[0.0], r]), np.concatenate([env[:1] if env.size else [0.0], env]), col, 1.4)
        legend.append(("%s  AP %.3f  (n=%d)" % (_short(_name(names, int(op.cat_ids[k]))), ap, op.n_gt[k]), col, 1.4))
    if sampled:
        mean = np.mean(sampled, axis=0)
        ax.plot(grid, mean, "black", 3.0)
        legend.append(("all %d classes  mAP %.3f" % (len(sampled), float(np.mean(mean))), "black", 3.0))
    ax.border()
    shown = "" if len(sel) == int((op.n_gt > 0).sum()) else " (the %d classes with most ground truth)" % len(sel)
    ax.labels("%s precision-recall at %s=%.2f, area=%s, maxDets=%d%s"
              % (op.iou_type, measure_name(op.iou_type), op.iou_threshold, op.area, op.max_dets, shown),
              "Recall", "Precision")
    if legend:
        _legend(cv, 78, 537, legend, 11, "lower left")
    return cv.save(path, _later)


def plot_operating_points(op, path, top=10, names=None, *, _later=None):
    """Precision, recall and F1 against the score threshold: one panel each; the
    ``top`` categories with most ground truth (thin) and all detections pooled (micro,
    thick), the best-F1 threshold marked. Writes a PNG (1800 x 520); returns its path."""
    names = names if names is not None else getattr(op, "names", None)
    sel = _top(op, top)
    cmap = [_mix(c, 0.8) for c in _colors(len(sel))]
    ov, ob = op.overall, op.overall_best
    allth = ov["threshold"]
    lo = min(0.0, float(allth.min())) if allth.size else 0.0
    hi = max(1.0, float(allth.max())) if allth.size else 1.0
    xt = _nice_ticks(lo, hi, 6)
    lo, hi = min(lo, xt[0]), max(hi, xt[-1])
    cv = _Canvas(1800, 520)
    legend = []
    for i, (f, title) in enumerate(zip(("precision", "recall", "f1"), ("Precision", "Recall", "F1"))):
        x0 = 75 + i * 500
        ax = _Axes(cv, x0, 40, x0 + 410, 460, (lo, hi), (0.0, 1.02))
        ax.frame(xticks=xt, yticks=_nice_ticks(0, 1, 6))
        for j, k in enumerate(sel):
            s = slice(int(op.offsets[k]), int(op.offsets[k + 1]))
            th = _thin(s.stop - s.start)
            ax.plot(op.threshold[s][th], getattr(op, f)[s][th], cmap[j], 1.0)
            if f == "f1":
                legend.append((_short(_name(names, int(op.cat_ids[k]))), cmap[j], 1.0))
        th = _thin(allth.size, 4000)
        ax.plot(allth[th], ov[f][th], "black", 2.6)
        if not np.isnan(ob["threshold"]):
            x = float(ax.px(ob["threshold"]))
            cv.line([x, x], [40, 460], "red", 1.2)
            cv.dot(x, float(ax.py(ob[f])), 4.5, "red")
        ax.border()
        ax.labels("%s vs score (%s=%.2f)" % (title, measure_name(op.iou_type), op.iou_threshold), "Score threshold",
                  title)
    legend.append(("all classes (micro)\nbest F1 %.3f at score %.3g" % (ob["f1"], ob["threshold"]), "black", 2.6))
    _legend(cv, 1495, 250 - 8 * len(legend), legend, 11, "upper left")
    return cv.save(path, _later)


def _blues(v):
    """matplotlib's "Blues" colormap (its 9 anchors, linear) of v in [0, 1]: uint8 [..., 3]."""
    anchors = np.array([_rgb(c) for c in _BLUES], np.float64)
    t = np.clip(v, 0.0, 1.0) * (len(_BLUES) - 1)
    i = np.minimum(t.astype(np.int64), len(_BLUES) - 2)
    w = (t - i)[..., None]
    return np.round(anchors[i] * (1 - w) + anchors[i + 1] * w).astype(np.uint8)


def plot_confusion_matrix(cm, path, normalize=True, names=None, max_annotated=25, *, _later=None):
    """Heatmap of a :class:`~fastap.reports.ConfusionMatrix`: rows = true class, columns
    = predicted, background last. ``normalize``: each row divided by its sum (what each
    true class became; the background row by its own sum). Cells are annotated when
    there are at most ``max_annotated`` classes; cells and labels shrink with the
    number of classes (80 COCO classes stay legible). Writes a PNG; returns its path."""
    Image, ImageDraw, _, _ = require_deps()
    names = names if names is not None else getattr(cm, "names", None)
    m = cm.normalized(axis=1) if normalize else cm.matrix.astype(np.float64)
    n = m.shape[0]
    labels = [_short(_name(names, int(c)), 16) for c in cm.cat_ids] + ["background"]
    # at least 300 px of matrix (a one-class keypoint evaluation: 2 x 2), cells of 18 to 150 px
    cell = int(min(max(60, 300 // max(n, 1)), max(18, 1460 // max(n, 1))))
    fs = 12 if cell >= 40 else 11 if cell >= 24 else 10
    cv = _Canvas(10, 10, ss=1)              # for text measurement only
    lab_w = int(max(cv.text_width(s, fs) for s in labels)) + 10
    title = "Confusion matrix (%s > %.2f, score > %.2f%s)" % (
        measure_name(cm.iou_type), cm.iou_threshold, cm.score_threshold, ", row-normalised" if normalize else "")
    title_w = int(cv.text_width(title, 14)) + 20
    left = lab_w + 34
    top = 40
    side = n * cell
    W = max(left + side + 130, left + side // 2 + title_w // 2)
    H = top + side + lab_w + 34
    cv = _Canvas(W, H, ss=1)
    vmax = 1.0 if normalize else max(float(m.max()), 1.0)
    rgb = _blues(m / vmax)
    rgb[m <= 0] = 255                        # empty cells stay white
    heat = Image.fromarray(rgb, "RGB").resize((side, side), Image.Resampling.NEAREST)
    cv.img.paste(heat, (left, top))
    d = cv.draw
    gcol = (228, 228, 228)
    for i in range(n + 1):
        d.line([left + i * cell, top, left + i * cell, top + side], fill=gcol, width=1)
        d.line([left, top + i * cell, left + side, top + i * cell], fill=gcol, width=1)
    sep = left + (n - 1) * cell
    d.line([sep, top, sep, top + side], fill=(128, 128, 128), width=1)
    d.line([left, top + (n - 1) * cell, left + side, top + (n - 1) * cell], fill=(128, 128, 128), width=1)
    d.rectangle([left, top, left + side, top + side], outline=(0, 0, 0), width=1)
    f = _font(fs)
    for i, s in enumerate(labels):          # y tick labels, right-aligned
        d.text((left - 6, top + (i + 0.5) * cell), s, font=f, anchor="rm", fill=(0, 0, 0))
    # x tick labels: drawn as rows of one strip, rotated once
    strip = Image.new("L", (lab_w, side), 0)
    sd = ImageDraw.Draw(strip)
    for j, s in enumerate(labels):
        sd.text((lab_w - 4, (j + 0.5) * cell), s, font=f, anchor="rm", fill=255)
    strip = strip.transpose(Image.Transpose.ROTATE_90)
    cv.img.paste((0, 0, 0), (left, top + side + 4), strip)
    if n - 1 <= max_annotated:
        fa = _font(max(fs - 1, 8))
        mx = float(np.nanmax(np.where(m > 0, m, np.nan))) if (m > 0).any() else 1.0
        for i in range(n):
            for j in range(n):
                v = m[i, j]
                if v > 0:
                    d.text((left + (j + 0.5) * cell, top + (i + 0.5) * cell),
                           ("%.2f" % v) if normalize else "%d" % v, font=fa, anchor="mm",
                           fill=(255, 255, 255) if v > 0.5 * mx else (0, 0, 0))
    cv.text(left + side / 2, top + side + lab_w + 10, "Predicted class", 13, anchor="ma")
    cv.vtext(14, top + side / 2, "True class", 13)
    cv.text(max(left + side / 2, title_w / 2), top - 10, title, 14, anchor="md")
    # colour bar
    cb_x, cb_h = left + side + 28, int(side * 0.6)
    cb_y = top + (side - cb_h) // 2
    ramp = _blues(np.linspace(1.0, 0.0, cb_h))[:, None, :].repeat(18, axis=1)
    cv.img.paste(Image.fromarray(np.ascontiguousarray(ramp), "RGB"), (cb_x, cb_y))
    d.rectangle([cb_x, cb_y, cb_x + 18, cb_y + cb_h], outline=(0, 0, 0), width=1)
    ticks = _nice_ticks(0.0, vmax, 6)
    for v in ticks:
        y = cb_y + cb_h - v / vmax * cb_h
        d.line([cb_x + 18, y, cb_x + 22, y], fill=(0, 0, 0), width=1)
        d.text((cb_x + 25, y), _tick_label(v, _step(ticks)), font=_font(10), anchor="lm", fill=(0, 0, 0))
    cv.vtext(cb_x + 88, cb_y + cb_h / 2, "fraction of the true class's row" if normalize else "count", 11)
    return cv.save(path, _later)


def plot_error_breakdown(ea, path, *, _later=None):
    """TIDE-style bars of an :class:`~fastap.reports.ErrorAnalysis`: dAP (AP points) per
    main error type with its count, and the special FalsePos / FalseNeg dAP. Writes a
    PNG (1100 x 480); returns its path."""
    cv = _Canvas(1100, 480)
    vals = [100 * ea.dap[t] for t in ERROR_TYPES]
    top = max(vals + [1.0])
    xt = _nice_ticks(0.0, top * 1.25, 7)
    ax = _Axes(cv, 70, 40, 700, 420, (0.0, max(top * 1.25, xt[-1])), (-0.6, len(ERROR_TYPES) - 0.4))
    ax.frame(xticks=xt, yticks=[], grid="x")
    n = len(ERROR_TYPES)
    for i, (t, v) in enumerate(zip(ERROR_TYPES, vals)):
        yc = float(ax.py(n - 1 - i))
        h = 0.4 * (ax.box[3] - ax.box[1]) / (n + 0.2)
        if v > 0:
            cv.rect(70, yc - h, float(ax.px(v)), yc + h, fill=_TIDE_COLORS[t])
        cv.line([66, 70], [yc, yc], "black", 0.8)
        cv.text(62, yc, t, 12, anchor="rm")
        cv.text(float(ax.px(v)) + 6, yc, "%.2f  (%d)" % (v, ea.counts[t]), 11, anchor="lm")
    ax.border()
    ax.labels("Main errors  (%s AP@%s=%.2f: %.2f; count in parentheses)"
              % (ea.iou_type, measure_name(ea.iou_type), ea.pos_threshold, 100 * ea.ap),
              "dAP (AP points gained by fixing the error type)", None)
    sv = [100 * ea.special[t] for t in SPECIAL_ERROR_TYPES]
    top2 = max(sv + [1.0])
    yt = _nice_ticks(0.0, top2 * 1.15, 6)
    ax2 = _Axes(cv, 800, 40, 1080, 420, (-0.6, len(sv) - 0.4), (0.0, max(top2 * 1.15, yt[-1])))
    ax2.frame(xticks=[], yticks=yt, grid="y")
    for i, (t, v) in enumerate(zip(SPECIAL_ERROR_TYPES, sv)):
        xc = float(ax2.px(i))
        w = 0.4 * (ax2.box[2] - ax2.box[0]) / (len(sv) + 0.2)
        if v > 0:
            cv.rect(xc - w, float(ax2.py(v)), xc + w, 420, fill=_TIDE_COLORS[t])
        cv.text(xc, 426, t, 11, anchor="ma")
        cv.text(xc, float(ax2.py(v)) - 4, "%.2f" % v, 11, anchor="md")
    ax2.border()
    ax2.labels("Special errors", None, None)
    cv.vtext(800 - 42, 230, "dAP", 11)
    return cv.save(path, _later)


def draw_reports(directory, op, cm, get_ea, top=10, names=None):
    """The four PNGs of computed reports into `directory`; `get_ea()` gives the error
    analysis (possibly still being computed in another thread: it is asked for last)."""
    os.makedirs(directory, exist_ok=True)
    j = lambda k: os.path.join(directory, PLOT_FILES[k])  # noqa: E731
    later = []
    try:
        out = {"pr": plot_pr_curves(op, j("pr"), top=top, names=names, _later=later),
               "operating_points": plot_operating_points(op, j("operating_points"), top=top, names=names,
                                                         _later=later),
               "confusion": plot_confusion_matrix(cm, j("confusion"), names=names, _later=later)}
        out["errors"] = plot_error_breakdown(get_ea(), j("errors"), _later=later)
    finally:
        _finish(later)
    return out
