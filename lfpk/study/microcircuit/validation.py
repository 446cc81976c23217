"""Validation of the microcircuit's kernels against lfpk's own hybrid scheme (issue 27).

The point network's spikes (NEST, ``spikes.nc``) are replayed into the multicompartment network of
the same config (:class:`lfpk.engines.network.replay.ReplayNetwork`: each gid its own cell type,
somata placed by the layers, synapses placed by the layer-specificity tables, the config's current
synapses ``Exp2SynI`` with their weights in nA, passive cells), which gives the ground-truth LFP,
CSD and dipole moment; the kernels of the same config convolved with the same spikes give the
prediction; :func:`lfpk.engines.compare.compare` gives R^2 and r_STD per channel, per population
and for the total. This is the scheme of hybridLFPy (Hagen et al. 2016, Cereb Cortex 26:4461):
the multicompartment cells only receive the network's spikes, they do not spike, and neither the
background Poisson input nor the DC current of the point neurons reaches them; the kernel
prediction has neither, so the two compare like with like.

What the ground truth has and the kernels average over (the differences measured here):

* its own draw of the connectivity from the config (pair probability C f_y per cell type,
  multapses, segments by the layer tables, delays, weights ``N(w, (0.1 |w|)^2)``), not NEST's
  connections: every spike reaches its gid's actual targets, the kernel's spike the expected
  number of synapses at the expected places;
* somata at their drawn positions (the kernel's LFP and CSD probes average over a Gaussian depth
  distribution of the population, ``lfpk.engines.kernel.engine.probe_population``);
* each cell type's actual share of the cells (largest-remainder counts) where the kernel weighs
  the types by their occurrences.

With passive cells and current synapses both are linear in the spikes and these are the only
differences.
"""

from __future__ import annotations

import json
import logging
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lfpk.base.files import check_output
from lfpk.base.io import read_dataset, to_json
from lfpk.engines.compare import compare_files
from lfpk.engines.network.datasets import streamed_outputs
from lfpk.engines.network.replay import ReplayNetwork
from lfpk.engines.prediction.predict import predict_files
from lfpk.figures.metrics import metrics_figure
from lfpk.figures.profiles import depth_profiles_figure
from lfpk.figures.traces import prediction_traces_figure
from lfpk.model import from_config
from lfpk.model.connectivity import place_cells
from lfpk.model.recording import buffer_steps
from lfpk.model.times import check_times
from lfpk.study.stages import write_kernel_set

log = logging.getLogger("lfpk.microcircuit")

#: Files a validation writes in its folder.
OUTPUTS = {"signals": "signals.nc", "kernels": "kernels.nc", "prediction": "prediction.nc",
           "comparison": "comparison.nc", "summary": "comparison.csv", "channels": "channels.csv",
           "traces": "traces.png", "metrics": "metrics.png", "profiles": "profiles.png"}


def spike_gids(cfg, spikes, what="spikes"):
    """The spikes of a microcircuit ``spikes.nc`` as ``(time (ms), gid)`` of the config's network.

    NEST numbers the neurons 1..N in population order; lfpk's gids are 0..N-1 in the config's
    population order. The unit at position i of the file's ``unit`` coordinate is gid i, which
    holds if the file's populations, in order, have the config's sizes (checked).

    Raises
    ------
    ValueError
        Naming ``what``: population sizes or order that differ from the config's.
    """
    pops = [str(p) for p in spikes["unit_population"].values]
    expect = [name for name, p in cfg["populations"].items() for _ in range(int(p["size"]))]
    if pops != expect:
        have = {p: pops.count(p) for p in dict.fromkeys(pops)}
        want = {n: int(p["size"]) for n, p in cfg["populations"].items()}
        raise ValueError(f"{what}: populations {have} (in unit order); expected the config's {want} in this order")
    units = np.asarray(spikes["unit"].values)
    su = np.asarray(spikes["spike_unit"].values)
    gid = np.searchsorted(units, su)
    if len(units) and (np.any(np.diff(units) <= 0) or np.any(gid >= len(units)) or np.any(units[np.minimum(
            gid, len(units) - 1)] != su)):
        raise ValueError(f"{what}: spike_unit values not among the sorted unit ids")
    st = np.asarray(spikes["spike_time"].values, dtype=float)
    order = np.lexsort((gid, st))
    return st[order], gid[order].astype(np.int64)


def validation_times(cfg, spikes, tstop=None, transient=None):
    """Simulated time and transient (ms) of a validation: default the spike file's; checked by the
    one rule for times (:func:`lfpk.model.times.check_times`) on ``simulation.dt``."""
    tstop = float(spikes.attrs["tstop"] if tstop is None else tstop)
    transient = float(spikes.attrs.get("transient", 0.0) if transient is None else transient)
    if tstop > float(spikes.attrs["tstop"]):
        raise ValueError(f"tstop: {tstop} ms; expected at most the spike file's tstop ({spikes.attrs['tstop']} ms)")
    check_times(cfg["simulation"]["dt"], tstop=tstop, transient=transient,
                names={"tstop": "tstop", "transient": "transient"})
    return tstop, transient


def channel_table(comparison):
    """R^2 and r_STD of every channel: one row per signal x source x band x channel (the kernel
    prediction has one approximation), with the channel's depth (um) where known.

    Returns
    -------
    pandas.DataFrame
        Columns ``signal, source, band, channel, z, r2, r_std``.
    """
    rows = []
    ap = comparison["approximation"].values[0]
    nch = dict(zip([str(s) for s in comparison["signal"].values], comparison["n_channels"].values))
    for sig in comparison["signal"].values:
        zs = (comparison["channel_z"].sel(signal=sig).values if "channel_z" in comparison.coords
              else np.full(comparison.sizes["channel"], np.nan))
        for src in comparison["source"].values:
            for band in comparison["band"].values:
                sel = {"signal": sig, "source": src, "approximation": ap, "band": band}
                r2, rs = comparison["r2"].sel(sel).values, comparison["r_std"].sel(sel).values
                for i in range(int(nch[str(sig)])):
                    rows.append({"signal": str(sig), "source": str(src), "band": str(band), "channel": i,
                                 "z": float(zs[i]), "r2": float(r2[i]), "r_std": float(rs[i])})
    return pd.DataFrame(rows)


def prepare(cfg, spikes, outdir, tstop=None, transient=None):
    """The checked inputs of a validation: what every rank computes alike before the replay.

    The command line calls this on every rank before MPI starts (bad input ends in one line from
    rank 0, and no rank builds a network), :func:`validate` again on every rank.

    Returns
    -------
    dict
        ``spike_time`` (ms), ``gid`` (the spikes before ``tstop``, sorted by time then gid),
        ``tstop``, ``transient`` (ms), ``paths`` (:data:`OUTPUTS` in ``outdir``, which is
        created if missing), ``silent`` (populations without a spike before ``tstop``: they add
        nothing to the replay and nothing to the prediction, which is told so).

    Raises
    ------
    ValueError
        Naming the file or key: a missing morphology file, spikes of another network, times that
        break the one rule for times, ``kernel.g_eff`` on, an output that is an input or cannot be
        written.
    """
    from_config(cfg)  # the model: every cell type's morphology file present and pinned (no NEURON yet)
    sp = read_dataset(spikes, kind="spikes")
    tstop, transient = validation_times(cfg, sp, tstop, transient)
    st, gid = spike_gids(cfg, sp, str(spikes))
    keep = st < tstop
    if cfg["kernel"].get("g_eff"):
        raise ValueError("kernel.g_eff: true; the validation replays current synapses: expected false")
    outdir = Path(outdir)
    paths = {k: outdir / v for k, v in OUTPUTS.items()}
    for p in paths.values():  # every rank: mkdir(exist_ok) does not race
        check_output(p, inputs=[spikes], create_parent=True)
    names = list(cfg["populations"])
    fired = set(np.unique(np.asarray(sp["unit_population"].values)[gid[keep]]).tolist()) if keep.any() else set()
    silent = [p for p in names if p not in fired]
    return {"spike_time": st[keep], "gid": gid[keep], "tstop": tstop, "transient": transient, "paths": paths,
            "silent": silent}


def replay(cfg, spikes, prepared, pc=None):
    """The hybrid replay of a validation and its ``signals.nc`` (all ranks call this).

    The cells are distributed over the ranks as the ground-truth network's (gid ``i`` on rank
    ``i mod n``, :class:`lfpk.engines.network.Network`); each rank maps its cells' currents to the
    probes in int64 fixed point and the blocks are summed onto rank 0 by an exact integer
    reduction as the run goes (:meth:`lfpk.engines.network.Network.stream_signals`), so the sum
    does not depend on the order in which MPI combines the ranks: ``signals.nc``'s data are
    bitwise the same for any number of ranks (its attributes ``n_ranks`` and ``timings`` are not).

    After the run every rank is its own NEURON world (``pc.subworlds(1)``), so rank 0 alone can
    simulate the kernels' cells; the other ranks have nothing left to do.

    Parameters
    ----------
    cfg : dict
        Validated microcircuit config.
    spikes : path-like
        The point network's ``spikes.nc`` (named in the attributes).
    prepared : dict
        :func:`prepare` of the same inputs.
    pc : ParallelContext, optional
        NEURON's (:func:`lfpk.base.mpi.init_parallel`); default a single process.

    Returns
    -------
    dict on rank 0, None elsewhere
        The run's timings (s; build, connect, simulate of the slowest rank, CPU seconds summed
        over ranks, write) with ``peak_memory_mb`` (MB, each rank's peak resident memory) and
        ``n_ranks``, ``n_cells``, ``n_segments`` (the network's compartments) and
        ``n_replayed_spikes``.
    """
    from_config(cfg).load_mechanisms()  # the package's compiled mechanisms and the config's extra folders
    kern = cfg["kernel"]
    st, gid = prepared["spike_time"], prepared["gid"]
    V_rest = {p: float(kern.get("V_rest", -65.0)) for p in cfg["populations"]}
    # membrane_sample=0: the validation writes only signals.nc, so no membrane potentials are
    # sampled (the network's default, every segment of 50 cells per population every 1 ms, fills
    # 7.2 GB over the laptop file's 5.5 s at scale 0.1: 163,135 segments x 5,501 samples).
    # block: the currents buffered between probe mappings within 1 GiB over all ranks (the
    # network's default of 256 steps held 7.6 GB at scale 0.1: 3.72e6 compartments), chosen from
    # the whole network's compartments so the products are the same for any rank count.
    block = buffer_steps(place_cells(cfg).n_segments)
    net = ReplayNetwork(cfg, st, gid, V_rest, form=kern.get("biophysics", "passive"), g_eff=False, extrinsic=False,
                        tstop=prepared["tstop"], transient=prepared["transient"], pc=pc, membrane_sample=0,
                        block=block)
    if net.rank == 0:
        log.info("replay: %d cells on %d rank(s), %d spikes, %.1f ms; currents mapped every %d steps",
                 net.layout.n_cells, net.nhost, len(st), net.tstop, block)
    attrs = {"title": "hybrid scheme: the microcircuit's spikes replayed into its multicompartment cells",
             "hybrid_mode": "reconstruction", "spikes": str(spikes), "n_replayed_spikes": len(st),
             "synapses": "current based (Exp2SynISum): the config's weights (nA)",
             "V_rest_used": to_json(V_rest), "replay_g_eff": 0,
             "replay_delay_lead_ms": float(net.delay_lead), "probe_block_steps": int(block)}
    with streamed_outputs(net, prepared["paths"]["signals"].parent, names=("signals",), attrs=attrs) as finish:
        net.run()
        res = net.gather()
        nseg = sum(len(cell.segments) for cell in net.cells.values())  # this rank's compartments
        peak = net.pc.py_gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 0)
        nseg = net.pc.py_gather(nseg, 0)
        if net.rank == 0:
            res["peak_memory_mb"] = peak
            _, timings = finish(res)
    rank, nhost, ncells = net.rank, net.nhost, net.layout.n_cells
    net.close()
    if nhost > 1:
        # Every rank its own NEURON world from here on: under MPI each finitialize and time step
        # of NEURON exchanges spikes with every rank (a collective), so the kernel cells that rank
        # 0 simulates alone would wait forever for ranks that have ended (measured: a hang).
        # subworlds(1) splits the communicator (collective, once) into single-rank worlds.
        net.pc.subworlds(1)
    if rank != 0:
        return None
    return {**timings, "n_ranks": nhost, "n_cells": ncells, "n_segments": int(sum(nseg)), "block_steps": int(block),
            "n_replayed_spikes": len(st)}


def spikes_before(spikes, tstop, folder):
    """The spike file to predict from over ``tstop`` (ms): ``spikes`` itself when it ends there, else
    a copy in ``folder`` holding only its spikes before ``tstop`` (those the replay replays), with
    ``tstop`` in its attributes (the prediction refuses spikes after its stop time)."""
    sp = read_dataset(spikes)
    t = np.asarray(sp["spike_time"].values, dtype=float)
    if not (t >= tstop).any() and float(sp.attrs.get("tstop", tstop)) <= tstop:
        return str(spikes)
    dim = sp["spike_time"].dims[0]
    cut = sp.isel({dim: np.flatnonzero(t < tstop)}).load()
    cut.attrs["tstop"] = float(tstop)
    out = Path(folder) / "spikes.nc"
    cut.to_netcdf(out)
    return str(out)


def validate(cfg, spikes, outdir, tstop=None, transient=None, pc=None):
    """Hybrid replay of the microcircuit's spikes versus the kernel prediction (all ranks call this).

    The replay runs on every rank (:func:`replay`: the cells distributed as the ground-truth
    network's, the signals summed exactly onto rank 0); the kernels, the prediction, the
    comparison and the figures run on rank 0 only. All outputs' data are bitwise the same for any
    number of ranks (tests/test_microcircuit_validation.py: 1 and 2 ranks).

    Parameters
    ----------
    cfg : dict
        Validated microcircuit config (kernels-only, current synapses, ``kernel.g_eff`` off).
    spikes : path-like
        The point network's ``spikes.nc`` (:func:`lfpk.study.microcircuit.simulate_files`).
    outdir : path-like
        Folder of the outputs (:data:`OUTPUTS`): ``signals.nc`` (the replay's ground truth),
        ``kernels.nc``, ``prediction.nc``, ``comparison.nc``, ``comparison.csv`` (summary: channel
        medians and quantiles per signal, source and band), ``channels.csv``
        (:func:`channel_table`) and three figures in the workflow's style: ``traces.png`` (replay
        in black against the kernel prediction: LFP on every channel and dipole z, total and per
        population; :func:`lfpk.figures.traces.prediction_traces_figure`), ``metrics.png`` (R^2
        and r_STD against depth, spectra; :func:`lfpk.figures.metrics.metrics_figure`) and
        ``profiles.png`` (LFP and CSD SD against depth, total and per population, LFP spectra
        against depth and their ratio, with the layers; :func:`lfpk.figures.profiles.depth_profiles_figure`).
    tstop, transient : float, optional
        ms; default the spike file's. Spikes at or after ``tstop`` are not replayed.
    pc : ParallelContext, optional
        NEURON's (:func:`lfpk.base.mpi.init_parallel`, for MPI runs); default a single process.

    Returns
    -------
    dict on rank 0 (``paths``, ``summary`` and ``channels`` tables, ``timings`` in s: ``replay``,
    ``kernels``, ``prediction``, ``compare``, ``figures``; ``replay_run``: :func:`replay`'s),
    None elsewhere.
    """
    prepared = prepare(cfg, spikes, outdir, tstop, transient)
    paths, tstop, transient = prepared["paths"], prepared["tstop"], prepared["transient"]
    timings = {}
    t0 = time.perf_counter()
    run = replay(cfg, spikes, prepared, pc)
    timings["replay"] = time.perf_counter() - t0
    if run is None:
        return None
    t1 = time.perf_counter()
    write_kernel_set(cfg, paths["kernels"])
    timings["kernels"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    if prepared["silent"]:
        log.warning("populations without a spike before %g ms: %s (no input to the replay, none in the "
                    "prediction)", tstop, ", ".join(prepared["silent"]))
    with tempfile.TemporaryDirectory() as tmp:
        predict_files(spikes_before(spikes, tstop, tmp), paths["kernels"], paths["prediction"], tstop=tstop,
                      allow_silent=prepared["silent"] or False)
    timings["prediction"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    comparison, summary = compare_files(paths["signals"], paths["prediction"], paths["comparison"],
                                        summary=paths["summary"], transient=transient)
    channels = channel_table(comparison)
    channels.to_csv(paths["channels"], index=False, float_format="%.6g")
    timings["compare"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    prediction_traces_figure(paths["signals"], {"kernels": paths["prediction"]}, [paths["traces"]])
    metrics_figure([paths["comparison"]], [paths["metrics"]])
    depth_profiles_figure(paths["signals"], paths["prediction"], [paths["profiles"]], transient=transient,
                          layers=cfg.get("layers"))
    timings["figures"] = time.perf_counter() - t1
    log.info("validation: %d spikes replayed over %g ms on %d rank(s); timings %s; replay %s",
             run["n_replayed_spikes"], tstop, run["n_ranks"],
             json.dumps({k: round(v, 1) for k, v in timings.items()}),
             json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in run.items()}))
    return {"paths": paths, "summary": summary, "channels": channels, "timings": {**timings, "replay_run": run}}


__all__ = ["OUTPUTS", "channel_table", "prepare", "replay", "spike_gids", "validate", "validation_times"]
