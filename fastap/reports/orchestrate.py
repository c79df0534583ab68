"""Running several reports of one evaluation pass together, and drawing them.

The one orchestration of the reports, used by :func:`plot_all`, the methods of
:class:`ReportMethods` (on :class:`fastap.EvalResult` and :class:`fastap.COCOeval`)
and ``fastap eval --f1 --confusion --errors --plots``: the error analysis, the
slowest, runs on a second thread (its C kernels, sorts and array passes release the
GIL) while the confusion matrix and the operating points are computed and drawn; each
side's kernels get half of the threads meanwhile (:func:`fastap.threads.half_of`).
Numbers and output order are those of running them one after the other.
"""
from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor

from ..errors import InvalidAnnotationError
from ..threads import half_of
from . import compute
from .drawing import draw_reports, require_deps

__all__ = ["run_reports", "plot_all", "ReportMethods"]


@contextlib.contextmanager
def _half_threads(ps):
    """Each C kernel of pass ``ps`` gets half of its threads while the block runs."""
    saved = ps.num_threads
    try:
        ps.num_threads = half_of(saved)
    except ValueError:              # a bad setting: let the kernels report it
        pass
    try:
        yield ps
    finally:
        ps.num_threads = saved


def _sorted_then_errors(ps, iou_threshold):
    """The error analysis, the shared accumulation order sorted first (the thread that
    runs this sorts it while the other computes the confusion matrix)."""
    ps.acc_order()
    return compute.error_analysis(ps, iou_threshold)


def run_reports(result, operating_points=False, confusion_matrix=False, error_analysis=False, plot_dir=None,
                iou_threshold=0.5, score_threshold=0.25, top=10, names=None, given=None):
    """Compute the reports asked for (and, with ``plot_dir``, all three and their four
    PNGs) from one evaluation: an :class:`~fastap.EvalResult` of the COCO protocol, a
    :class:`~fastap.COCOeval` after ``evaluate()`` or an :class:`~fastap.evalpass.EvalPass`.

    ``given``: reports already computed ({"operating_points": ..., ...}), not redone.
    Returns a dict with the keys ``operating_points``, ``confusion_matrix``,
    ``error_analysis`` (the report objects) and ``plots`` ({kind: path}) of what was
    asked for."""
    ps = compute.pass_of(result)
    out = dict(given or {})
    if plot_dir is not None:
        require_deps()              # without matplotlib: the install hint, before any work
        operating_points = confusion_matrix = error_analysis = True
    in_thread = error_analysis and "error_analysis" not in out and (operating_points or confusion_matrix)
    with contextlib.ExitStack() as stack:
        future = None
        if in_thread:
            stack.enter_context(_half_threads(ps))
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastap-reports"))
            future = pool.submit(_sorted_then_errors, ps, iou_threshold)
        # the confusion matrix first: it needs no accumulation order, which the error
        # analysis thread sorts first meanwhile (the operating points then find it done)
        if confusion_matrix and "confusion_matrix" not in out:
            out["confusion_matrix"] = compute.confusion_matrix(ps, iou_threshold, score_threshold)
        if operating_points and "operating_points" not in out:
            out["operating_points"] = compute.operating_points(ps, iou_threshold)

        def get_errors():
            if "error_analysis" not in out:
                out["error_analysis"] = (future.result() if future is not None
                                         else compute.error_analysis(ps, iou_threshold))
            return out["error_analysis"]
        if plot_dir is not None:
            out["plots"] = draw_reports(plot_dir, out["operating_points"], out["confusion_matrix"], get_errors,
                                        top, names)
        if error_analysis:
            get_errors()
    return out


def plot_all(result, directory, iou_threshold=0.5, score_threshold=0.25, top=10, names=None,
             operating_points=None, confusion_matrix=None, error_analysis=None):
    """Compute the reports of one evaluation (an EvalResult of the COCO protocol or a
    COCOeval after ``evaluate()``) and write the four PNGs of
    :data:`fastap.reports.drawing.PLOT_FILES` into ``directory`` (created if needed).
    Reports already computed can be passed in (``operating_points``,
    ``confusion_matrix``, ``error_analysis``) to avoid redoing them. ``names``: dict
    category id -> label (default: ids). Returns {kind: path}.

    The error analysis (when not passed in) runs in a second thread while the other
    reports are computed and drawn, and the PNGs are written in background threads;
    everything is written when this returns."""
    given = {k: v for k, v in (("operating_points", operating_points), ("confusion_matrix", confusion_matrix),
                               ("error_analysis", error_analysis)) if v is not None}
    return run_reports(result, plot_dir=directory, iou_threshold=iou_threshold, score_threshold=score_threshold,
                       top=top, names=names, given=given)["plots"]


class ReportMethods:
    """The report methods of an object that keeps its evaluation pass in ``_pass``
    (:class:`fastap.EvalResult`, :class:`fastap.COCOeval`)."""

    _pass = None

    @property
    def eval_pass(self):
        """The :class:`~fastap.evalpass.EvalPass` behind this result (None when there is
        none: a VOC result, or a COCOeval before ``evaluate()``)."""
        return self._pass

    def _missing_pass(self, what):
        return InvalidAnnotationError(
            "%s: reports need the matching results of an evaluation: pass the EvalResult of "
            "fastap.evaluate(..., protocol='coco') or a fastap.COCOeval after evaluate() "
            "(got %s)" % (what, type(self).__name__))

    def _pass_for(self, what):
        if self._pass is None:
            raise self._missing_pass(what)
        return self._pass

    def operating_points(self, iou_threshold=0.5, area="all", max_dets=None):
        """Precision / recall / F1 at every score threshold and the best-F1 point, per
        category and overall: :func:`fastap.reports.operating_points`."""
        return compute.operating_points(self._pass_for("operating_points"), iou_threshold, area, max_dets)

    def confusion_matrix(self, iou_threshold=0.5, score_threshold=0.25):
        """(K+1) x (K+1) confusion matrix with background: :func:`fastap.reports.confusion_matrix`."""
        return compute.confusion_matrix(self._pass_for("confusion_matrix"), iou_threshold, score_threshold)

    def error_analysis(self, pos_threshold=0.5, bg_threshold=0.1, area="all", max_dets=None):
        """TIDE-style error types and dAP: :func:`fastap.reports.error_analysis`."""
        return compute.error_analysis(self._pass_for("error_analysis"), pos_threshold, bg_threshold, area,
                                      max_dets)

    def plot(self, directory, **kw):
        """Write the report PNGs into ``directory``: :func:`fastap.reports.plot_all`
        (needs matplotlib: ``pip install fastap[plot]``). Returns the written paths."""
        return plot_all(self._pass_for("plot"), directory, **kw)
