"""Prediction from spikes with kernels computed from a configuration in the same call.

:func:`predict_files` is the ``lfpk predict`` stage (:func:`lfpk.engines.prediction.predict.predict_files`)
plus the ``kernel_config=`` convenience: instead of ready kernels, a configuration (path or dict)
whose kernels are computed at the spikes' measured rates (g_eff) -- the configuration must describe
the spiking network (``docs/library.md``, "Kernels must describe your network"). The engine takes
the kernels as a :class:`lfpk.engines.prediction.predict.KernelFactory`; :func:`kernel_factory`
builds one from a configuration with :func:`lfpk.api.kernels.compute_kernels`.
"""

from __future__ import annotations

from lfpk.api.kernels import compute_kernels, load_kernel_config
from lfpk.engines.prediction import predict as engine
from lfpk.engines.prediction.predict import KernelFactory, PredictionResult

__all__ = ["predict_files", "kernel_factory"]


def kernel_factory(config) -> KernelFactory:
    """Kernels of a configuration at given rates, for :func:`predict_files`.

    Parameters
    ----------
    config : path-like or dict
        Kernel configuration (validated, :func:`lfpk.api.kernels.load_kernel_config`).

    Returns
    -------
    KernelFactory
        ``dt`` (ms) of the configuration's simulation, its presynaptic populations (sorted), their
        sizes, the configuration as the source; called with rates ``{population: 1/s}`` it returns
        :func:`lfpk.api.kernels.compute_kernels` of the configuration at those rates.
    """
    cfg, source = load_kernel_config(config)
    pres = sorted({c["pre"] for c in cfg["connections"]})

    def compute(rates):
        return compute_kernels(cfg, rates=rates)

    return KernelFactory(compute=compute, dt=float(cfg["simulation"]["dt"]), presynaptic=pres,
                         sizes={p: int(cfg["populations"][p]["size"]) for p in pres}, source=source)


def predict_files(spikes, kernels, output, populations=None, tstop=None, dt=None, duplicates="error",
                  kernel_source=None, time_unit=None, nest_resolution=None, unit_offsets=None, allow_silent=False,
                  signals=None, contributions=True, decimate=1, dtype="float64", compress=0, block=None,
                  kernel_config=None, chunk_rows=None, t0=0.0, progress=None) -> PredictionResult:
    """Stage: read spikes and kernels (or compute them from ``kernel_config``), predict, write ``output``.

    Parameters
    ----------
    spikes, output, populations, tstop, dt, duplicates, kernel_source, time_unit, nest_resolution
        As :func:`lfpk.engines.prediction.predict.predict_files` (``tstop`` and ``dt`` in ms).
    unit_offsets, allow_silent, signals, contributions, decimate, dtype, compress, block, chunk_rows
        As :func:`lfpk.engines.prediction.predict.predict_files`.
    t0, progress
        As :func:`lfpk.engines.prediction.predict.predict_files`: the start of the time axis (ms;
        spikes before it refused) and the progress lines (None: on a terminal).
    kernels : path-like or xarray.Dataset or None
        Gathered ``kernels.nc``; None with ``kernel_config``.
    kernel_config : path-like or dict, optional
        Compute the kernels of this configuration at the spikes' measured rates instead of reading
        ``kernels`` (:func:`lfpk.api.kernels.compute_kernels`; rate of a population = its spikes
        after the spike files' transient / (its size in the configuration x (``tstop`` - transient)),
        in 1/s; the whole recording when the files state no transient,
        :func:`lfpk.engines.prediction.predict.analysed_window`).

    Returns
    -------
    lfpk.engines.prediction.predict.PredictionResult
    """
    if (kernels is None) == (kernel_config is None):
        raise ValueError("give either kernels (--kernels) or a kernel configuration (--kernel-config)")
    engine.check_options(dtype, decimate)
    engine.check_output_name(output)
    if kernel_config is not None:
        kernels = kernel_factory(kernel_config)
    return engine.predict_files(
        spikes, kernels, output, populations=populations, tstop=tstop, dt=dt, duplicates=duplicates,
        kernel_source=kernel_source, time_unit=time_unit, nest_resolution=nest_resolution, unit_offsets=unit_offsets,
        allow_silent=allow_silent, signals=signals, contributions=contributions, decimate=decimate, dtype=dtype,
        compress=compress, block=block, chunk_rows=chunk_rows, warn_stacklevel=3, t0=t0, progress=progress)
