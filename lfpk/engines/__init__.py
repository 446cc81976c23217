"""Engine layer: the computations of the method, each from the model description below.

Kernels of linearised cells (:mod:`~lfpk.engines.kernel`), the ground-truth network
(:mod:`~lfpk.engines.network`), spike input (:mod:`~lfpk.engines.spikes`), signals predicted from
spikes and kernels, offline, streamed or online (:mod:`~lfpk.engines.prediction`), and prediction
against ground truth (:mod:`~lfpk.engines.compare`). See ``docs/architecture.md``.
"""
