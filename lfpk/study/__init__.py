"""Study layer: the Hagen et al. (2022) study built from the engines: its runs, the hybrid scheme,
the sensitivity map, scans, single-cell responses and checks, memory estimates, the workflow's
stage functions and the point-neuron network fitted to the ground truth (:mod:`~lfpk.study.pointnet`).
See ``docs/architecture.md``.
"""
