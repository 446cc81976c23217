"""The figures of Hagen et al. (2022, PLOS Comput Biol 18:e1010353) for a study's results.

:mod:`~lfpk.paper.framework` holds the pieces every figure uses (:class:`PaperFigure` with
lettered panels recorded in the files' metadata, stacked traces, colours); one module per figure
(``fig02`` ... ``fig09``; ``fig02`` also draws Fig S1) takes the study's netCDF outputs and writes
``FigNN.png`` / ``FigNN.pdf``. The workflow calls them through :func:`make`, one rule per figure
(``workflow/rules/paper.smk``); ``docs/figures.md`` maps each figure to its inputs.
"""

from lfpk.paper.framework import PaperFigure, read_panels, stacked_traces

__all__ = ["PaperFigure", "read_panels", "stacked_traces"]
