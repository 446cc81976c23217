"""Stages of the point-neuron network (called by ``lfpk pointnet ...`` and the workflow scripts).

* :func:`fit_files` -- ground-truth ``spikes.nc`` -> ``fit.nc`` (:mod:`lfpk.study.pointnet.fit`);
* :func:`simulate_files` -- the fitted (or configured) network simulated for ``simulation.tstop``
  -> its ``spikes.nc`` and, given kernels, the prediction made while NEST runs (``online.nc``):
  after every chunk of ``pointnet.online.chunk`` ms of simulation the chunk's spikes are fed to
  :class:`lfpk.engines.prediction.online.OnlinePredictor`, which writes the samples that are complete, so the
  signals never sit in memory beyond one chunk;
* :func:`rates_files` -- rates and rate spectra of the ground truth and the LIF network (``rates.nc``).

The offline prediction of the same spikes is ``lfpk predict`` (:func:`lfpk.engines.prediction.predict.predict_files`);
it equals the online one to rounding.
"""

from __future__ import annotations

import contextlib
import logging
import time

import numpy as np
import xarray as xr

from lfpk.base.files import atomic_path, check_output
from lfpk.base.io import check_dataset, dataset_to_netcdf, read_dataset, to_json, write_dataset
from lfpk.engines.prediction.online import OnlinePredictor
from lfpk.engines.spikes import read_spikes
from lfpk.model.times import check_times
from lfpk.study.pointnet.features import mean_rates, rate_features, sizes_of, times_by_population
from lfpk.study.pointnet.fit import FitSettings, fit_dataset, fit_network, fitted_values
from lfpk.study.pointnet.network import LIFNetwork, spikes_dataset
from lfpk.study.pointnet.parameters import LIFParameters, spike_memory_errors

log = logging.getLogger("lfpk.pointnet")


def ground_truth_features(cfg, spikes, settings_spectrum, tstop=None):
    """Rates and rate spectra of a ground-truth spike file over ``[transient, tstop)``.

    The file's population sizes must be the configuration's (the LIF network has them).

    Returns
    -------
    (RateFeatures, SpikeData)
    """
    sp = read_spikes(spikes)
    sizes = sizes_of(sp)
    want = {p: int(cfg["populations"][p]["size"]) for p in cfg["populations"]}
    if sizes != want:
        raise ValueError(f"{spikes}: populations {sizes} differ from the configuration's {want}; expected the "
                         "ground truth of this configuration")
    stop = float(sp.tstop if tstop is None else tstop)
    transient = float(cfg["simulation"]["transient"])
    times = times_by_population(sp)
    times = {p: times[p] for p in cfg["populations"]}
    try:
        return rate_features(times, want, float(cfg["simulation"]["dt"]), transient, stop, settings_spectrum), sp
    except ValueError as exc:
        raise ValueError(f"{spikes}: {exc}") from None


def fit_files(cfg, ground_truth, output):
    """Fit the LIF network of ``cfg`` to the ground truth's spikes; write ``output`` (fit.nc).

    Returns
    -------
    FitResult
    """
    check_output(output, inputs=[ground_truth])
    params = LIFParameters.from_config(cfg)
    settings = FitSettings.from_config(cfg)
    target, _ = ground_truth_features(cfg, ground_truth, settings.spectrum)
    log.info("ground truth %s: rates %s /s", ground_truth, _fmt(target.populations, target.rates))
    log.info("fit: NSGA-II, population %d, %d generations, %g ms per evaluation, %d NEST thread(s), free parameters %s",
             settings.population, settings.generations, settings.tstop, params.threads, ", ".join(params.free_names))

    def progress(gen, F):
        rate_error = F[:, : len(params.populations)].sum(axis=1)
        i = int(np.argmin(rate_error))
        log.info("generation %d/%d: smallest summed rate error %.3g /s (objectives %s)", gen, settings.generations,
                 float(rate_error[i]), np.array2string(F[i], precision=4))

    result = fit_network(params, target, settings, progress=progress)
    ds = fit_dataset(result, attrs={"ground_truth": str(ground_truth)})
    write_dataset(ds, output, inputs=[ground_truth])
    log.info("fit done in %.1f s (%d network simulations): %s", result.wall_time, result.evaluations,
             ", ".join(f"{n} = {v:.4g} {u}" for n, v, u in zip(result.params.free_names, result.params.values(),
                                                            [f.units for f in result.params.free])))
    log.info("rates ground truth %s /s, fitted %s /s", _fmt(target.populations, target.rates),
             _fmt(target.populations, result.fitted.rates))
    return result


def _fmt(names, values):
    return ", ".join(f"{n} {v:.3f}" for n, v in zip(names, values))


def network_parameters(cfg, fit=None):
    """The LIF parameters of ``cfg``, with the fitted values of ``fit`` (path or dataset) if given."""
    params = LIFParameters.from_config(cfg)
    if fit is None:
        return params
    ds = fit if hasattr(fit, "data_vars") else read_dataset(fit)
    if "fitted" not in ds or "parameter" not in ds.coords:
        raise ValueError(f"{fit}: not a pointnet fit (fit.nc of lfpk pointnet fit: 'fitted' by 'parameter')")
    values = fitted_values(ds)
    if sorted(values) != sorted(params.free_names):
        raise ValueError(f"{fit}: fitted parameters {sorted(values)} differ from the configuration's free parameters "
                         f"{sorted(params.free_names)}; expected a fit of this configuration")
    return params.with_values(values)


def simulate_files(cfg, output, fit=None, kernels=None, online=None, tstop=None, chunk=None, contributions=True,
                   names=None):
    """Simulate the LIF network; write its spikes (``output``) and, with ``kernels``, the online
    prediction (``online``).

    Parameters
    ----------
    cfg : dict
        Validated configuration.
    output : path-like
        ``spikes.nc`` of the LIF network.
    fit : path-like, optional
        ``fit.nc``: simulate the fitted network (default the configured values).
    kernels : path-like, optional
        Gathered kernels; with ``online``, predict while NEST runs.
    online : path-like, optional
        Online prediction file.
    tstop : float, optional
        Simulated time (ms); default ``simulation.tstop``.
    chunk : float, optional
        ms per chunk of simulation; default ``pointnet.online.chunk``.
    contributions : bool
        Also predict every connection's contribution online.
    names : dict, optional
        Names of ``tstop`` and ``chunk`` in messages (the command's options, e.g. ``{"tstop":
        "--tstop"}``); default the config keys ``simulation.tstop`` and ``pointnet.online.chunk``.

    Returns
    -------
    dict
        ``spikes`` (xarray.Dataset), ``rates`` (population -> 1/s after the transient), ``wall_time`` (s).

    Raises
    ------
    ValueError
        Before any work: times that break the one rule (:func:`lfpk.model.times.check_times`:
        ``tstop`` at least one step of ``simulation.dt`` and at most
        :data:`lfpk.model.times.MAX_STEPS`, ``simulation.transient`` leaving at least one step before
        it, ``chunk`` a positive whole number of steps), or a ``tstop`` whose spikes cannot fit in
        memory (:func:`lfpk.study.pointnet.parameters.spike_memory_errors`), naming the key or option.
    """
    names = {"tstop": "simulation.tstop", "chunk": "pointnet.online.chunk", **(names or {})}
    tstop = float(cfg["simulation"]["tstop"] if tstop is None else tstop)
    transient = float(cfg["simulation"]["transient"])
    chunk = float(cfg["pointnet"]["online"]["chunk"] if chunk is None else chunk)
    check_times(cfg["simulation"]["dt"], tstop=tstop, transient=transient, chunk=chunk, names=names)
    for error in spike_memory_errors(cfg, tstop, names["tstop"]):
        raise ValueError(error)
    if (kernels is None) != (online is None):
        raise ValueError("give both kernels (--kernels) and the online prediction file (--online), or neither")
    inputs = [p for p in (fit, kernels) if p is not None]
    for out in [output] + ([online] if online is not None else []):
        check_output(out, inputs=inputs)
    params = network_parameters(cfg, fit)
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        chunks = ChunkSpikes(params.populations, stack.enter_context(online_predictor(
            kernels, online, params, contributions, f"LIF network simulated by NEST (online, {chunk:g} ms chunks)",
            chunk)) if kernels is not None else None)
        net = LIFNetwork(params)
        log.info("LIF network: %s neurons, %d connections, %d thread(s); simulating %g ms in %g ms chunks%s",
                 params.sizes, net.n_connections, params.threads, tstop, chunk,
                 " with online prediction" if chunks.predictor is not None else "")
        net.simulate(tstop, chunk=chunk, on_chunk=chunks)
        spikes = chunks.finish(tstop)
        ds = spikes_dataset(params, spikes, tstop, transient,
                            attrs={"fit": str(fit) if fit is not None else "none (configured values)"})
        check_dataset(ds, output)
        with atomic_path(output, inputs=inputs) as tmp:
            dataset_to_netcdf(ds, tmp)
    wall = time.perf_counter() - start
    rates = mean_rates({name: spikes[name][0] for name in params.populations}, params.sizes, params.dt, transient,
                       tstop)
    log.info("LIF network simulated in %.1f s: rates after the transient %s /s; spikes %s%s", wall,
             _fmt(list(rates), list(rates.values())), output, f", online prediction {online}" if online else "")
    return {"spikes": ds, "rates": rates, "wall_time": wall}


class ChunkSpikes:
    """``on_chunk`` of :meth:`lfpk.study.pointnet.network.LIFNetwork.simulate`: keeps each chunk's
    spikes per population and, with a ``predictor`` (:class:`OnlinePredictor`), feeds them to it
    and advances it to the chunk's end."""

    def __init__(self, populations, predictor=None):
        self.kept = {name: ([], []) for name in populations}
        self.predictor = predictor

    def __call__(self, spikes, t):
        for name, (tt, uu) in spikes.items():
            self.kept[name][0].append(tt)
            self.kept[name][1].append(uu)
            if self.predictor is not None and len(tt):
                self.predictor.add_spikes(tt, population=name)
        if self.predictor is not None:
            self.predictor.advance(t)

    def finish(self, tstop):
        """Close the prediction at ``tstop`` (ms); every spike as population -> (times, node ids),
        in chunk order (each chunk sorted by time and id)."""
        if self.predictor is not None:
            self.predictor.close(tstop)
        return {name: (np.concatenate(t) if t else np.zeros(0), np.concatenate(u) if u else np.zeros(0, np.int64))
                for name, (t, u) in self.kept.items()}


def online_predictor(kernels, online, params, contributions, source, chunk, network="the LIF network",
                     dt_key="simulation.dt"):
    """The :class:`OnlinePredictor` of a NEST run writing ``online``, from the kernel file
    ``kernels`` checked against the network (:func:`check_kernels`)."""
    kern = read_dataset(kernels, kind="kernels")
    check_kernels(kern, params, kernels, network=network, dt_key=dt_key)
    return OnlinePredictor(kern, contributions=contributions, output=online, keep=False,
                           attrs={"spike_source": source, "kernel_source": str(kernels), "online_chunk": chunk})


def check_kernels(kern, params, path, network="the LIF network", dt_key="simulation.dt"):
    """Kernels for an online prediction of a NEST network: on the network's time step
    (``params.dt``, ms) and covering its populations (``params.populations``) as presynaptic ones;
    else ``ValueError`` naming the file."""
    dt = float(kern.attrs.get("dt", np.nan))
    if not np.isclose(dt, params.dt, rtol=1e-9):
        raise ValueError(f"{path}: kernels have dt = {dt} ms but {network} runs at {dt_key} = {params.dt} ms")
    pres = [str(p) for p in kern["pre"].values]
    missing = [p for p in params.populations if p not in pres]
    if missing:
        raise ValueError(f"{path}: no kernels of presynaptic population(s) {missing} of {network}")


def rates_dataset(target, lif, attrs=None):
    """Rates and rate spectra of the ground truth and the LIF network (``rates.nc``)."""

    return xr.Dataset(
        {
            "rate_ground_truth": ("population", target.rates, {
                "units": "1/s", "long_name": "ground truth's mean rate per neuron after the transient"}),
            "rate_lif": ("population", lif.rates, {
                "units": "1/s", "long_name": "LIF network's mean rate per neuron after the transient"}),
            "rate_relative_error": ("population", lif.rates / target.rates - 1.0, {
                "units": "1", "long_name": "LIF rate / ground-truth rate - 1"}),
            "spectrum_ground_truth": (("population", "frequency"), target.spectra, {
                "units": "(1/s)^2/Hz", "long_name": "rate spectrum of the ground truth's population rate"}),
            "spectrum_lif": (("population", "frequency"), lif.spectra, {
                "units": "(1/s)^2/Hz", "long_name": "rate spectrum of the LIF network's population rate"}),
        },
        coords={"population": ("population", list(target.populations), {"long_name": "neuron population"}),
                "frequency": ("frequency", target.frequency, {"units": "Hz", "long_name": "frequency"})},
        attrs={"title": "rates and rate spectra: ground truth versus the LIF network",
               "definitions": "mean rate: spikes after the transient / (neurons x duration); rate spectrum: Welch "
                              "estimate of the population rate (spikes per second in bins of dt), see "
                              "lfpk.study.pointnet.features",
               **{k: (to_json(v) if isinstance(v, dict) else v) for k, v in (attrs or {}).items()}},
    )


def rates_files(cfg, ground_truth, spikes, output):
    """Compare rates and rate spectra of the ground truth and the LIF network; write ``output``."""
    check_output(output, inputs=[ground_truth, spikes])
    spectrum = dict(cfg["pointnet"]["fit"]["spectrum"])
    target, gt = ground_truth_features(cfg, ground_truth, spectrum)
    lif, _ = ground_truth_features(cfg, spikes, spectrum, tstop=gt.tstop)
    ds = rates_dataset(target, lif, attrs={"ground_truth": str(ground_truth), "lif_spikes": str(spikes),
                                           "transient": float(cfg["simulation"]["transient"]),
                                           "tstop": float(gt.tstop), "spectrum": spectrum})
    write_dataset(ds, output, inputs=[ground_truth, spikes])
    log.info("rates (1/s): ground truth %s; LIF %s", _fmt(target.populations, target.rates),
             _fmt(lif.populations, lif.rates))
    return ds
