"""Stages of the microcircuit study: run the NEST network of a configuration, write its spikes
(``spikes.nc``, the layout ``lfpk predict`` reads) and rates (``rates.nc``); or convert the spike
files of a user's run of NEST's own example (:func:`nest_example_files`).

:func:`simulate_files` is the one entry point of a run (a CLI command or a workflow rule calls it);
:func:`config_errors` holds the rules of the configuration's ``microcircuit`` block that a schema
cannot express (population sizes of the scaled network, dt representable in NEST).
"""

from __future__ import annotations

import contextlib
import logging
import time

import numpy as np

from lfpk.base.files import atomic_path, check_output
from lfpk.base.io import check_dataset, dataset_to_netcdf, write_dataset
from lfpk.model.times import check_times, time_errors
from lfpk.study.microcircuit.nest_example import nest_example_dataset
from lfpk.study.microcircuit.network import MicrocircuitNetwork, microcircuit_spikes_dataset, rates_dataset
from lfpk.study.microcircuit.parameters import NEST_FULL_SCALE_RATES, POPULATIONS, MicrocircuitParameters
from lfpk.study.pointnet.network import tics_per_ms
from lfpk.study.pointnet.stages import ChunkSpikes, online_predictor
from lfpk.study.resources import format_bytes, memory_limit

log = logging.getLogger("lfpk.microcircuit")

#: Bytes per recorded spike kept in memory (time float64 + node id int64).
BYTES_PER_SPIKE = 16


#: Keys of the ``microcircuit`` block (the schema leaves the block to :func:`config_errors`).
KEYS = {"tstop": "simulated time of the NEST run (ms)", "transient": "initial time the rates leave out (ms)",
        "scale": "N_scaling (0, 1]", "indegree_scale": "K_scaling (0, 1], default scale",
        "threads": "NEST threads (a positive integer)", "background": "poisson or dc",
        "initial_voltage": "optimized or original", "thalamus": "null or {start, duration, rate}"}
REQUIRED = ("tstop", "scale")
THALAMUS_KEYS = ("start", "duration", "rate")


def config_errors(cfg):
    """Rules of the ``microcircuit`` block; one message per problem, naming the key.

    * only the keys of :data:`KEYS`, with ``tstop`` and ``scale``; ``threads`` a positive integer;
      ``thalamus`` null or ``{start >= 0, duration > 0, rate > 0}``;
    * ``scale``, ``indegree_scale``, ``background``, ``initial_voltage`` valid
      (:class:`MicrocircuitParameters`);
    * ``tstop`` and ``transient`` valid times on ``simulation.dt`` (:func:`lfpk.model.times.time_errors`);
    * ``populations`` are the eight of the model, in order, each of ``round(scale N)`` cells
      (the multicompartment description and the point network have the same cells);
    * ``simulation.dt`` a whole number of NEST tics (1000 per step).
    """
    mc = cfg.get("microcircuit")
    if mc is None:
        return []
    if not isinstance(mc, dict):
        return [f"microcircuit: expected a mapping of {', '.join(KEYS)}, got {type(mc).__name__}"]
    errors = [f"microcircuit.{k}: unknown key; allowed: {', '.join(KEYS)}" for k in mc if k not in KEYS]
    errors += [f"microcircuit.{k}: missing ({KEYS[k]})" for k in REQUIRED if k not in mc]
    threads = mc.get("threads", 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        errors.append(f"microcircuit.threads: {threads!r}; expected a positive integer (NEST threads)")
    thal = mc.get("thalamus")
    if thal is not None:
        if not isinstance(thal, dict) or sorted(thal) != sorted(THALAMUS_KEYS):
            errors.append(f"microcircuit.thalamus: {thal!r}; expected null or {{start, duration, rate}} (ms, ms, 1/s)")
        elif not (thal["start"] >= 0 and thal["duration"] > 0 and thal["rate"] > 0):
            errors.append(f"microcircuit.thalamus: {thal}; expected start >= 0, duration > 0 and rate > 0")
    for k in ("tstop", "transient", "scale", "indegree_scale"):
        if k in mc and (isinstance(mc[k], bool) or not isinstance(mc[k], (int, float))):
            errors.append(f"microcircuit.{k}: {mc[k]!r}; expected a number ({KEYS[k]})")
    if errors:
        return errors
    try:
        params = MicrocircuitParameters.from_config(cfg)
    except ValueError as exc:
        return [str(exc)]
    errors += time_errors(params.dt, tstop=float(mc["tstop"]), transient=float(mc.get("transient", 0.0)),
                          names={"tstop": "microcircuit.tstop", "transient": "microcircuit.transient"})
    pops = list(cfg.get("populations", {}))
    if pops != list(POPULATIONS):
        errors.append(f"populations: {pops}; the microcircuit needs exactly {list(POPULATIONS)} in this order")
    else:
        for name, n in params.sizes.items():
            size = cfg["populations"][name].get("size")
            if size != n:
                errors.append(f"populations.{name}.size: {size}; expected {n} = round(microcircuit.scale "
                              f"{params.scale:g} x the full-scale size)")
    try:
        tics_per_ms(params.dt)
    except ValueError as exc:
        errors.append(str(exc))
    return errors


def _memory_error(params, tstop, name):
    """A message naming ``name`` if the spikes of ``tstop`` ms at NEST's full-scale rates cannot
    be kept in memory, else None."""
    limit, what = memory_limit()
    spikes = float(sum(params.sizes[p] * r for p, r in zip(POPULATIONS, NEST_FULL_SCALE_RATES))) * tstop / 1000.0
    need = 2 * BYTES_PER_SPIKE * spikes  # recorder events and their sorted copy
    if need <= limit:
        return None
    return (f"{name}: {tstop:g} ms of the microcircuit would record about {spikes:.3g} spikes, about "
            f"{format_bytes(need)} in memory, more than {format_bytes(limit)} ({what}); expected a shorter time")


def simulate_files(cfg, output, rates=None, tstop=None, chunk=None, names=None, kernels=None, online=None,
                   contributions=True):
    """Simulate the configuration's microcircuit in NEST; write its spikes and rates and, with
    ``kernels``, the signals predicted online while NEST runs.

    Parameters
    ----------
    cfg : dict
        Validated configuration with a ``microcircuit`` block.
    output : path-like
        ``spikes.nc`` (:func:`lfpk.study.pointnet.network.spikes_dataset` layout).
    rates : path-like, optional
        ``rates.nc`` (:func:`lfpk.study.microcircuit.network.rates_dataset`).
    tstop : float, optional
        Simulated time (ms); default ``microcircuit.tstop`` (a kernels-only configuration has no
        ``simulation.tstop``).
    chunk : float, optional
        ms per ``nest.Simulate`` call (whole ``min_delay`` slices; the spikes do not depend on it);
        default one call.
    names : dict, optional
        Names of ``tstop`` and ``chunk`` in messages (the command's options).
    kernels : path-like, optional
        Gathered kernels of the eight populations (``lfpk kernel`` / the workflow's kernels of the
        config, at the network's dt); with ``online``, every chunk's spikes are convolved with them
        as NEST runs (:class:`lfpk.engines.prediction.online.OnlinePredictor`: the same
        phi = sum_X sum_Y nu_X * H_YX as the offline prediction, in the same file layout), so no
        spike file is needed for the signals. Needs ``chunk``.
    online : path-like, optional
        The online prediction file.
    contributions : bool
        Also predict every connection's contribution online.

    Returns
    -------
    dict
        ``spikes`` and ``rates`` (xarray.Dataset), ``build_time`` and ``simulate_time`` (s),
        ``connections`` (NEST's number).

    Raises
    ------
    ValueError
        Before any work: times that break :func:`lfpk.model.times.check_times`, a run whose
        spikes cannot fit in memory, a configuration that breaks :func:`config_errors`.
    """
    names = {"tstop": "microcircuit.tstop", "transient": "microcircuit.transient", "chunk": "--chunk", **(names or {})}
    for error in config_errors(cfg):
        raise ValueError(error)
    params = MicrocircuitParameters.from_config(cfg)
    mc = cfg["microcircuit"]
    tstop = float(mc["tstop"] if tstop is None else tstop)
    transient = float(mc.get("transient", 0.0))
    check_times(params.dt, tstop=tstop, transient=transient, chunk=chunk, names=names)
    error = _memory_error(params, tstop, names["tstop"])
    if error:
        raise ValueError(error)
    if (kernels is None) != (online is None):
        raise ValueError("give both kernels (--kernels) and the online prediction file (--online), or neither")
    if online is not None and chunk is None:
        raise ValueError(f"{names['chunk']}: an online prediction needs chunks of simulation (ms between "
                         "predictor updates); expected a positive number of ms, e.g. 100")
    inputs = [kernels] if kernels is not None else []
    outputs = [output] + [p for p in (rates, online) if p is not None]
    for out in outputs:
        check_output(out, inputs=inputs)
    with contextlib.ExitStack() as stack:
        predictor = None
        if kernels is not None:
            predictor = stack.enter_context(online_predictor(
                kernels, online, params, contributions,
                f"Potjans & Diesmann microcircuit simulated by NEST (online, {chunk:g} ms chunks)", chunk,
                network="the microcircuit"))
        start = time.perf_counter()
        net = MicrocircuitNetwork(params)
        built = time.perf_counter()
        log.info("microcircuit: %d neurons (scale %g, in-degree scale %g), %d connections, %d thread(s), built in "
                 "%.1f s; simulating %g ms%s", sum(params.sizes.values()), params.scale, params.indegree_scale,
                 net.n_connections, params.threads, built - start, tstop,
                 " with online prediction" if predictor is not None else "")
        if predictor is None:
            spikes = net.simulate(tstop, chunk=chunk)
        else:
            chunks = ChunkSpikes(POPULATIONS, predictor)
            net.simulate(tstop, chunk=chunk, on_chunk=chunks)
            spikes = chunks.finish(tstop)
        done = time.perf_counter()
    ds = microcircuit_spikes_dataset(params, spikes, tstop, transient)
    ds.attrs["build_time_s"] = built - start
    ds.attrs["simulate_time_s"] = done - built
    rds = rates_dataset(params, spikes, tstop, transient, wall_time=done - start)
    check_dataset(ds, output)
    with atomic_path(output, inputs=inputs) as tmp:
        dataset_to_netcdf(ds, tmp)
    if rates is not None:
        write_dataset(rds, rates)
    log.info("microcircuit simulated in %.1f s: rates after the transient %s /s (NEST full scale %s)",
             done - built, ", ".join(f"{p} {r:.3f}" for p, r in zip(POPULATIONS, rds["rate"].values)),
             ", ".join(f"{r:g}" for r in NEST_FULL_SCALE_RATES))
    return {"spikes": ds, "rates": rds, "build_time": built - start, "simulate_time": done - built,
            "connections": net.n_connections, "n_spikes": int(np.sum([len(spikes[p][0]) for p in POPULATIONS]))}


def nest_example_files(folder, output, tstop=1500.0, transient=500.0, dt=0.1):
    """The spikes of a run of NEST's ``Potjans_2014`` example (its ``data_path`` ``folder``, ASCII
    recorders) as ``output`` (``spikes.nc``) for ``lfpk predict``; times in ms (the example's
    defaults: t_presim + t_sim = 1500, t_presim = 500, resolution 0.1).

    Returns
    -------
    xarray.Dataset
    """
    check_times(dt, tstop=tstop, transient=transient, names={"tstop": "--tstop", "transient": "--transient",
                                                              "dt": "--dt"})
    check_output(output)
    ds = nest_example_dataset(folder, tstop, transient, dt)
    write_dataset(ds, output)
    log.info("NEST example spikes: %s -> %s (%d spikes)", folder, output, ds.sizes["spike"])
    return ds
