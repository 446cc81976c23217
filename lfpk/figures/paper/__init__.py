"""The figures of Hagen et al. (2022, PLOS Comput Biol 18:e1010353) for a study's results.

:mod:`~lfpk.figures.paper.framework` holds the pieces every figure uses (:class:`PaperFigure` with
lettered panels recorded in the files' metadata, stacked traces, colours); one module per figure
(``fig02`` ... ``fig09``; ``fig02`` also draws Fig S1) takes the study's netCDF outputs and writes
``FigNN.png`` / ``FigNN.pdf``. The workflow calls them through :func:`make`, one rule per figure
(``workflow/rules/paper.smk``); ``docs/figures.md`` maps each figure to its inputs.
"""

from lfpk.figures.paper.data import TRACE_WINDOW
from lfpk.figures.paper.fig02 import single_cell_figure_files
from lfpk.figures.paper.fig03 import network_figure_files
from lfpk.figures.paper.fig04 import comparison_figure_files
from lfpk.figures.paper.fig05 import kernels_figure_files
from lfpk.figures.paper.fig07 import metrics_figure_files
from lfpk.figures.paper.fig08 import sensitivity_figure_files
from lfpk.figures.paper.fig09 import jscan_figure_files
from lfpk.figures.paper.figs3 import vrest_jscan_figure_files
from lfpk.figures.paper.framework import (
    PaperFigure,
    footnote,
    read_panels,
    stacked_traces,
)

#: The paper figures of Model A lfpk makes, with what each shows.
FIGURES = {
    "Fig02": "single-cell step responses at the soma (active, quasi-linear, frozen, passive)",
    "FigS1": "single-cell step responses to dendritic stimulation",
    "Fig03": "the ground-truth network",
    "Fig04": "ground truth vs the hybrid scheme's reconstructions",
    "Fig05": "hybrid-scheme and direct kernels",
    "Fig06": "ground truth vs hybrid-kernel and direct-kernel predictions",
    "Fig07": "R^2, r_STD, spectra and coherence of the eight approximations",
    "Fig08": "sensitivity of the dipole prediction to rates and V_rest",
    "Fig09": "the weight-scaling scan J",
}

#: The paper figures of Model B (the Hay et al. 2011 cell as E; compared on the E cells'
#: contribution), with the Model A layout each reuses (``None``: its own).
MODEL_B_FIGURES = {
    "Fig10": ("Fig06", "ground truth vs hybrid-scheme reconstructions and kernel predictions, E contribution"),
    "Fig11": ("Fig05", "hybrid-scheme and direct kernels onto the E cells"),
    "Fig12": ("Fig07", "R^2, r_STD, spectra and coherence of every approximation, E contribution"),
    "Fig13": ("Fig09", "the weight-scaling scan J (frozen kernels, g_eff), E contribution"),
    "FigS2": ("Fig08", "sensitivity of the E cells' dipole prediction to rates and V_rest (+-15 mV)"),
    "FigS3": (None, "the J scan with scalar vs per-segment V_rest, E contribution"),
}


def _paths(v):
    return [str(v)] if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__") else [str(x) for x in v]


def make(figure, inputs, outputs, params):
    """Draw paper figure ``figure`` (a key of :data:`FIGURES`, or a name of the same layout given by
    ``params['layout']``) from the workflow's ``inputs`` (name -> path or paths) into ``outputs``.

    ``params['citation']`` (optional): the cell models' citation, printed at the figure's bottom
    edge and recorded in its metadata (:func:`lfpk.figures.paper.framework.footnote`). Returns the panel
    list written into the files (:meth:`PaperFigure.describe`).
    """
    params = dict(params)
    with footnote(params.pop("citation", "")):
        return _make(figure, {k: _paths(v) for k, v in dict(inputs).items()}, _paths(outputs), params)


def _make(figure, inputs, outputs, params):
    layout = params.get("layout", figure)
    window = float(params.get("window", 0) or 0) or None
    if layout in ("Fig02", "FigS1"):
        return single_cell_figure_files(inputs["cells"], params["config"], outputs,
                                        site="soma" if layout == "Fig02" else "dendrite", name=figure)
    if layout == "Fig03":
        return network_figure_files(inputs["spikes"][0], inputs["signals"][0], inputs["membrane"][0], outputs,
                                    window=window or 400.0, name=figure)
    if layout in ("Fig04", "Fig06"):
        return comparison_figure_files(inputs["signals"][0], params["labels"], inputs["approximations"], outputs,
                                       figure, params["title"], window=window or TRACE_WINDOW,
                                       source=params.get("source", "total"),
                                       color_offset=int(params.get("color_offset", 0)))
    if layout == "Fig05":
        return kernels_figure_files(params["hybrid_labels"], inputs["hybrid"], params["direct_labels"],
                                    inputs["direct"], outputs, name=figure, posts=params.get("posts"))
    if layout == "Fig07":
        return metrics_figure_files(inputs["comparison"][0], outputs, source=params.get("source", "total"),
                                    name=figure)
    if layout == "Fig08":
        return sensitivity_figure_files(inputs["sensitivity"][0], outputs, name=figure)
    if layout == "Fig09":
        return jscan_figure_files(params["J"], inputs["spikes"], inputs["signals"], inputs["predictions"],
                                  inputs["comparisons"], outputs, variant=params.get("variant", ""),
                                  window=window or TRACE_WINDOW, name=figure, source=params.get("source", "total"))
    if layout == "FigS3":
        n = len(params["J"])
        files = inputs["comparisons"]
        groups = [files[i * n:(i + 1) * n] for i in range(len(params["labels"]))]  # per V_rest form, runs in J order
        return vrest_jscan_figure_files(params["J"], params["labels"], groups, outputs,
                                        source=params.get("source", "E"), name=figure)
    raise ValueError(f"figure {figure!r}: unknown layout {layout!r} (known: {', '.join(FIGURES)})")


__all__ = ["FIGURES", "MODEL_B_FIGURES", "PaperFigure", "make", "read_panels", "stacked_traces"]
