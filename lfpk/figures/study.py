"""Figures of the study from cached netCDF, one module per kind, gathered here:

* :mod:`lfpk.figures.network` -- overview of a ground-truth run (:func:`network_overview`);
* :mod:`lfpk.figures.traces` -- ground truth against the kernel predictions (:func:`prediction_traces`);
* :mod:`lfpk.figures.metrics` -- R^2, r_STD, spectra, coherence (:func:`metrics`) and the
  plain-text metrics table (:func:`format_metrics_table`);
* :mod:`lfpk.figures.jscan` -- the weight-scaling scan (:func:`jscan`);
* :mod:`lfpk.figures.kernels` -- the kernels of a run and variant.

Each figure has a function taking already-loaded datasets and a thin file-level wrapper taking
paths (``*_figure``) for the workflow scripts. All figures use :mod:`lfpk.figures.style` (rcParams,
colours, scale bars) and are written by :func:`lfpk.figures.style.save` (PNG and/or PDF by suffix,
atomically, without timestamps). Inputs are checked first (:func:`lfpk.figures.inputs.require`): a
missing variable raises ``ValueError`` naming the dataset and the variable.
"""

from lfpk.figures.inputs import run_config
from lfpk.figures.jscan import jscan, jscan_figure
from lfpk.figures.kernels import kernels
from lfpk.figures.metrics import format_metrics_table, metrics, metrics_figure
from lfpk.figures.network import network_overview, network_overview_figure
from lfpk.figures.traces import prediction_traces, prediction_traces_figure

__all__ = ["format_metrics_table", "jscan", "jscan_figure", "kernels", "metrics", "metrics_figure",
           "network_overview", "network_overview_figure", "prediction_traces", "prediction_traces_figure",
           "run_config"]
