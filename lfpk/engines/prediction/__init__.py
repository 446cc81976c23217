"""Signals predicted from spikes and kernels: phi(t) = sum_X sum_Y (nu_X * H_YX)(t).

Offline from spike counts (:mod:`~lfpk.engines.prediction.predict`), streamed block by block
(:mod:`~lfpk.engines.prediction.streaming`), online while a simulation runs
(:mod:`~lfpk.engines.prediction.online`), one file layout and writer
(:mod:`~lfpk.engines.prediction.file`).
"""
