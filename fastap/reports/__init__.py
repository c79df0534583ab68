"""Reports from one evaluation pass: operating points, confusion matrix, error
analysis, and their plots.

Three layers, each importing only the one below:

* :mod:`fastap.reports.compute` -- the numbers (NumPy and C, from an
  :class:`~fastap.evalpass.EvalPass`);
* :mod:`fastap.reports.drawing` -- the PNGs (Pillow, matplotlib's fonts);
* :mod:`fastap.reports.orchestrate` -- several reports at once, the slowest on a
  second thread; the report methods of results (:class:`ReportMethods`).
"""
from .compute import (ERROR_TYPES, SPECIAL_ERROR_TYPES, ConfusionMatrix, ErrorAnalysis, OperatingPoints,
                      confusion_matrix, error_analysis, operating_points, pass_of)
from .drawing import (PLOT_FILES, plot_confusion_matrix, plot_error_breakdown, plot_operating_points,
                      plot_pr_curves)
from .orchestrate import ReportMethods, plot_all, run_reports

__all__ = ["operating_points", "confusion_matrix", "error_analysis", "OperatingPoints", "ConfusionMatrix",
           "ErrorAnalysis", "ERROR_TYPES", "SPECIAL_ERROR_TYPES", "pass_of", "plot_all", "run_reports",
           "ReportMethods", "PLOT_FILES", "plot_pr_curves", "plot_operating_points", "plot_confusion_matrix",
           "plot_error_breakdown"]
