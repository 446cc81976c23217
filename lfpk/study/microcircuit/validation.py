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
from lfpk.figures.traces import prediction_traces_figure
from lfpk.model import from_config
from lfpk.model.times import check_times
from lfpk.study.stages import write_kernel_set

log = logging.getLogger("lfpk.microcircuit")

#: Files a validation writes in its folder.
OUTPUTS = {"signals": "signals.nc", "kernels": "kernels.nc", "prediction": "prediction.nc",
           "comparison": "comparison.nc", "summary": "comparison.csv", "channels": "channels.csv",
           "traces": "traces.png", "metrics": "metrics.png"}


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
                sel = dict(signal=sig, source=src, approximation=ap, band=band)
                r2, rs = comparison["r2"].sel(sel).values, comparison["r_std"].sel(sel).values
                for i in range(int(nch[str(sig)])):
                    rows.append({"signal": str(sig), "source": str(src), "band": str(band), "channel": i,
                                 "z": float(zs[i]), "r2": float(r2[i]), "r_std": float(rs[i])})
    return pd.DataFrame(rows)


def validate(cfg, spikes, outdir, tstop=None, transient=None, pc=None):
    """Hybrid replay of the microcircuit's spikes versus the kernel prediction (all ranks call this).

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
        (:func:`channel_table`) and two figures in the workflow's style: ``traces.png`` (replay in
        black against the kernel prediction: LFP on every channel and dipole z, total and per
        population; :func:`lfpk.figures.traces.prediction_traces_figure`) and ``metrics.png`` (R^2
        and r_STD against depth, spectra; :func:`lfpk.figures.metrics.metrics_figure`).
    tstop, transient : float, optional
        ms; default the spike file's. Spikes at or after ``tstop`` are not replayed.
    pc : ParallelContext, optional
        NEURON's (MPI runs of the replay); the kernels, prediction and comparison run on rank 0.

    Returns
    -------
    dict on rank 0 (``paths``, ``summary`` and ``channels`` tables, ``timings`` in s), None elsewhere.
    """
    sp = read_dataset(spikes, kind="spikes")
    tstop, transient = validation_times(cfg, sp, tstop, transient)
    st, gid = spike_gids(cfg, sp, str(spikes))
    keep = st < tstop
    st, gid = st[keep], gid[keep]
    kern = cfg["kernel"]
    if kern.get("g_eff"):
        raise ValueError("kernel.g_eff: true; the validation replays current synapses: expected false")
    outdir = Path(outdir)
    paths = {k: outdir / v for k, v in OUTPUTS.items()}
    for p in paths.values():
        check_output(p, inputs=[spikes], create_parent=True)
    timings = {}
    t0 = time.perf_counter()
    from_config(cfg).load_mechanisms()  # the package's compiled mechanisms and the config's extra folders
    V_rest = {p: float(kern.get("V_rest", -65.0)) for p in cfg["populations"]}
    net = ReplayNetwork(cfg, st, gid, V_rest, form=kern.get("biophysics", "passive"), g_eff=False, extrinsic=False,
                        tstop=tstop, transient=transient, pc=pc)
    attrs = {"title": "hybrid scheme: the microcircuit's spikes replayed into its multicompartment cells",
             "hybrid_mode": "reconstruction", "spikes": str(spikes), "n_replayed_spikes": int(len(st)),
             "synapses": "current based (Exp2SynISum): the config's weights (nA)",
             "V_rest_used": to_json(V_rest), "replay_g_eff": 0,
             "replay_delay_lead_ms": float(net.delay_lead)}
    with streamed_outputs(net, outdir, names=("signals",), attrs=attrs) as finish:
        net.run()
        res = net.gather()
        if net.rank == 0:
            finish(res)
    net.close()
    timings["replay"] = time.perf_counter() - t0
    if net.rank != 0:
        return None
    t1 = time.perf_counter()
    write_kernel_set(cfg, paths["kernels"])
    timings["kernels"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    predict_files(str(spikes), paths["kernels"], paths["prediction"], tstop=tstop)
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
    timings["figures"] = time.perf_counter() - t1
    log.info("validation: %d spikes replayed over %g ms; timings %s", len(st), tstop,
             json.dumps({k: round(v, 1) for k, v in timings.items()}))
    return {"paths": paths, "summary": summary, "channels": channels, "timings": timings}


__all__ = ["OUTPUTS", "channel_table", "spike_gids", "validate", "validation_times"]
