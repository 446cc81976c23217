"""Compatibility layer: other packages' kernel APIs translated onto lfpk's engines, so a script
written for them runs with one import line changed. :mod:`~lfpk.compat.lfpykernels` speaks
LFPykernels 0.2 (``KernelApprox``, ``GaussCylinderPotential``, ``KernelApproxCurrentDipoleMoment``).

This layer stands just above ``api``: it may use every floor below it and nothing in lfpk imports
it (only ``entry`` could). See ``docs/architecture.md`` and ``docs/lfpykernels.md``.
"""
