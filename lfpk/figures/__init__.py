"""Figure layer: one style (:mod:`~lfpk.figures.style`) for the study's figures
(:mod:`~lfpk.figures.study`) and the paper's (:mod:`~lfpk.figures.paper`). Reads the engines'
netCDF files; matplotlib is imported only when a figure is drawn. See ``docs/architecture.md``.
"""
