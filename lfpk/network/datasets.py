"""Labelled netCDF outputs of a ground-truth run (spikes, membrane, signals) and their writer."""

from __future__ import annotations

import logging
import time

import numpy as np

from lfpk.model import rules
from lfpk.network.simulation import Network, scaled_probabilities

log = logging.getLogger("lfpk.network")


def _attrs(net, timings, extra=None):
    from lfpk.io import software_versions, to_json

    a = {
        "dt": net.dt, "tstop": net.tstop, "transient": net.transient, "seed": int(net.seed),
        "dt_units": "ms", "tstop_units": "ms", "transient_units": "ms",
        "population_sizes": to_json(net.layout.sizes),
        "connection_probabilities": to_json({f"{c['pre']}->{c['post']}": c["C"] for c in net.conn.conns}),
        "biophysics": net.biophysics, "lumped": int(net.lump), "n_ranks": net.nhost,
        "extrinsic_drive": net.extrinsic_drive,
        "spike_threshold": net.spike_threshold,
        "parameters": to_json(net.cfg), "timings": to_json(timings),
        "software": to_json(software_versions()),
    }
    a.update(extra or {})
    return a


def datasets(net, res, timings=None):
    """``spikes``, ``signals``, ``membrane`` xarray Datasets from gathered results (rank 0)."""
    import xarray as xr

    from lfpk.io import to_json

    timings = dict(timings or {})
    names = net.layout.names
    n = net.layout.n_cells
    nt = net.nstep + 1
    time_ = np.arange(nt) * net.dt
    attrs = _attrs(net, timings, {"counts": to_json(res["counts"])})
    st, su = res["spike_time"], res["spike_unit"]
    pop_of = net.layout.population_of
    unit_pop = np.array([names[i] for i in pop_of], dtype=str)
    counts = np.zeros((len(names), nt), dtype=np.int32)
    if len(st):
        np.add.at(counts, (pop_of[su], rules.bin_index(st, net.dt, nt)), 1)
    pos = net.layout.positions
    spikes = xr.Dataset(
        {
            "spike_time": ("spike", st, {"units": "ms", "long_name": "spike time"}),
            "spike_unit": ("spike", su, {"units": "1", "long_name": "gid of the spiking unit"}),
            "unit_population": ("unit", unit_pop, {"units": "1", "long_name": "population of the unit"}),
            "x": ("unit", pos[:, 0], {"units": "um", "long_name": "soma x position"}),
            "y": ("unit", pos[:, 1], {"units": "um", "long_name": "soma y position"}),
            "z": ("unit", pos[:, 2], {"units": "um", "long_name": "soma z position (depth)"}),
            "population_count": (("population", "time"), counts,
                                 {"units": "1", "long_name": "spikes per time bin [time, time + dt)"}),
        },
        coords={"unit": np.arange(n), "population": names,
                "time": ("time", time_, {"units": "ms", "long_name": "bin start time"})},
        attrs={**attrs, "title": "ground-truth network spikes"},
    )
    # membrane
    after = np.arange(net.n_vt) * net.membrane_every * net.dt >= net.transient
    nseg = np.array([net._nseg(p) for p in names])
    vseg = np.full((len(names), nseg.max()), np.nan)
    vsoma = np.full(len(names), np.nan)
    nsamp = max(1, max(len(res["sample"][p][0]) for p in names))
    trace = np.full((len(names), nsamp, net.n_vt), np.nan)
    sample_unit = np.full((len(names), nsamp), -1, dtype=np.int64)
    rate = np.zeros(len(names))
    dur = (net.tstop - net.transient) / 1000.0
    for i, p in enumerate(names):
        gids, v = res["sample"][p]
        isoma = net.layout.model.populations[p].soma_index  # the segment at the soma centre
        if len(gids) and after.any():
            va = v[after]
            vseg[i, : nseg[i]] = np.median(va.reshape(-1, nseg[i]), axis=0)
            vsoma[i] = np.median(va[:, :, isoma])
        trace[i, : len(gids)] = v[:, :, isoma].T
        sample_unit[i, : len(gids)] = gids
        k = np.isin(su, net.layout.gids(p)) & (st >= net.transient)
        rate[i] = k.sum() / (net.layout.sizes[p] * dur) if dur > 0 else np.nan
    membrane = xr.Dataset(
        {
            "v_soma": ("population", vsoma, {"units": "mV", "long_name": "median somatic membrane potential after the transient"}),
            "v_segment": (("population", "segment"), vseg, {"units": "mV", "long_name": "median membrane potential per segment after the transient (NaN beyond nseg)"}),
            "nseg": ("population", nseg, {"units": "1", "long_name": "number of segments of the population's cell"}),
            "rate": ("population", rate, {"units": "1/s", "long_name": "mean firing rate after the transient"}),
            "sample_unit": (("population", "sample"), sample_unit, {"units": "1", "long_name": "gid of the sampled cell (-1: none)"}),
            "v_soma_trace": (("population", "sample", "membrane_time"), trace, {"units": "mV", "long_name": "somatic membrane potential of the sampled cells"}),
        },
        coords={"population": names, "segment": np.arange(nseg.max()), "sample": np.arange(nsamp),
                "membrane_time": ("membrane_time", np.arange(net.n_vt) * net.membrane_every * net.dt,
                                  {"units": "ms", "long_name": "time of the membrane potential samples"})},
        attrs={**attrs, "membrane_dt": net.membrane_every * net.dt, "membrane_sample": net.membrane_sample,
               "title": "ground-truth membrane potentials and rates"},
    )
    out = {"spikes": spikes, "membrane": membrane}
    if "signal" in res:
        from lfpk.recording import COMPONENTS, probe_settings

        rows = net.rows
        sig = res["signal"]
        sources = ["total", *names]

        def stack(key):
            parts = [sig[p][rows[key]] for p in names]
            return np.stack([sum(parts), *parts])

        cz = probe_settings(net.cfg)["channel_z"]
        out["signals"] = xr.Dataset(
            {
                "lfp": (("source", "channel", "time"), stack("lfp"), {"units": "mV", "long_name": "extracellular potential (disc-averaged line source)"}),
                "csd": (("source", "channel", "time"), stack("csd"), {"units": "uA/mm3", "long_name": "laminar current source density"}),
                "cdm": (("source", "component", "time"), stack("cdm"), {"units": "nA um", "long_name": "current dipole moment"}),
            },
            coords={"source": sources, "channel": np.arange(len(cz)),
                    "channel_z": ("channel", cz, {"units": "um", "long_name": "contact depth"}),
                    "component": list(COMPONENTS),
                    "time": ("time", time_, {"units": "ms", "long_name": "time"})},
            attrs={**attrs, "probes": to_json(net.cfg["probes"]),
                   "title": "ground-truth extracellular signals"},
        )
    return out


def write_outputs(net, res, outdir, names=None, attrs=None):
    """Write spikes.nc, membrane.nc, signals.nc (or those of ``names``) to ``outdir``, all or none
    (through :func:`lfpk.io.atomic_paths`); timings (incl. write) and ``attrs`` in attrs."""
    from pathlib import Path

    import netCDF4

    from lfpk.io import atomic_paths, check_dataset, dataset_to_netcdf, deferred_signals, to_json

    t0 = time.perf_counter()
    timings = {k: max(t.get(k, 0.0) for t in res["timings_by_rank"]) for k in ("build", "connect", "simulate")}
    # core-seconds of the simulate phase summed over ranks, and each rank's peak resident memory (MB)
    for k in ("integrate", "integrate_cpu", "simulate_cpu"):  # wall: slowest rank; CPU: sum over ranks
        vals = [t.get(k, 0.0) for t in res["timings_by_rank"]]
        timings[k if k == "integrate" else f"{k}_total"] = max(vals) if k == "integrate" else sum(vals)
    if "peak_memory_mb" in res:
        timings["peak_memory_mb"] = [round(float(p), 1) for p in res["peak_memory_mb"]]
    dsets = datasets(net, res, timings)
    if names is not None:
        dsets = {k: v for k, v in dsets.items() if k in names}
    for ds in dsets.values():
        ds.attrs.update(attrs or {})
    paths = {name: Path(outdir) / f"{name}.nc" for name in dsets}
    for name, ds in dsets.items():
        check_dataset(ds, paths[name])
    with atomic_paths(list(paths.values())) as tmps:
        for tmp, ds in zip(tmps, dsets.values()):
            dataset_to_netcdf(ds, tmp)
        timings["write"] = time.perf_counter() - t0
        if "peak_memory_mb" in timings:  # rank 0's peak including the write
            import resource

            timings["peak_memory_mb"][0] = round(max(timings["peak_memory_mb"][0],
                                                     resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0), 1)
        timings["total"] = sum(v for k, v in timings.items() if k in ("build", "connect", "simulate", "write"))
        with deferred_signals():
            for tmp in tmps:  # record the write phase too (attribute only)
                with netCDF4.Dataset(tmp, "a") as f:
                    f.setncattr("timings", to_json(timings))
    log.info("write: %.2f s (%s)", timings["write"], ", ".join(str(p) for p in paths.values()))
    return paths, timings


def run_network(cfg, outdir, sizes=None, tstop=None, seed=None, scale_probabilities=True,
                lump=True, biophysics="active", membrane_sample=None, pc=None, transient=None,
                extrinsic_drive="mechanism"):
    """Build, connect, simulate and write one ground-truth run (all ranks call this).

    Returns ``(paths, timings, rates)`` on rank 0 and ``(None, None, None)`` elsewhere.
    """
    import resource

    probs = scaled_probabilities(cfg, sizes) if (sizes and scale_probabilities) else None
    net = Network(cfg, sizes=sizes, probabilities=probs, tstop=tstop, seed=seed, lump=lump,
                  biophysics=biophysics, membrane_sample=membrane_sample, pc=pc, transient=transient,
                  extrinsic_drive=extrinsic_drive)
    if net.rank == 0:
        log.info("network: %s cells on %d rank(s), tstop %.1f ms, dt %g ms, seed %d, C %s",
                 net.layout.sizes, net.nhost, net.tstop, net.dt, net.seed,
                 {f"{c['pre']}->{c['post']}": round(c["C"], 4) for c in net.conn.conns})
    net.run()
    res = net.gather()
    peak = net.pc.py_gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 0)
    if net.rank != 0:
        net.close()
        return None, None, None
    res["peak_memory_mb"] = peak
    log.info("synapses %d, NetCons %d, point processes %d, NetStims %d, in-mechanism Poisson drives %d",
             res["counts"]["synapses"], res["counts"]["netcons"], res["counts"]["point_processes"],
             res["counts"]["netstims"], res["counts"]["drives"])
    paths, timings = write_outputs(net, res, outdir)
    rates = dict(zip(net.layout.names, datasets_rates(net, res)))
    log.info("rates after the transient (1/s): %s; peak memory per rank (MB): %s",
             {k: round(float(v), 3) for k, v in rates.items()}, [round(p) for p in peak])
    net.close()
    return paths, timings, rates


def datasets_rates(net, res):
    dur = (net.tstop - net.transient) / 1000.0
    out = []
    for p in net.layout.names:
        k = np.isin(res["spike_unit"], net.layout.gids(p)) & (res["spike_time"] >= net.transient)
        out.append(k.sum() / (net.layout.sizes[p] * dur) if dur > 0 else float("nan"))
    return out


