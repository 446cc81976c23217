"""Labelled netCDF outputs of a ground-truth run (spikes, membrane, signals) and their writer."""

from __future__ import annotations

import logging
import resource
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from lfpk.base.files import atomic_paths, deferred_signals
from lfpk.base.io import BlockWriter, check_dataset, dataset_to_netcdf, software_versions, to_json
from lfpk.engines.network.simulation import Network, scaled_probabilities
from lfpk.model import rules
from lfpk.model.recording import COMPONENTS, probe_settings, row_slices, to_float

log = logging.getLogger("lfpk.network")


def _attrs(net, timings, extra=None):
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
        template = signals_template(net, attrs)
        values = signal_values(net, res["signal"])
        out["signals"] = xr.Dataset({k: (dims, values[k], a) for k, (dims, a) in SIGNAL_VARIABLES.items()},
                                    coords=template.coords, attrs=template.attrs)
    return out


#: Variables of signals.nc: name -> (dims, attributes); their rows of the probe matrix are
#: :func:`lfpk.model.recording.row_slices`.
SIGNAL_VARIABLES = {
    "lfp": (("source", "channel", "time"), {"units": "mV", "long_name": "extracellular potential (disc-averaged line source)"}),
    "csd": (("source", "channel", "time"), {"units": "uA/mm3", "long_name": "laminar current source density"}),
    "cdm": (("source", "component", "time"), {"units": "nA um", "long_name": "current dipole moment"}),
}


def signals_template(net, attrs=None):
    """signals.nc without its variables (:data:`SIGNAL_VARIABLES`): coordinates (sources
    ``total`` and each population, channels and their depths, dipole components, time) and global
    attributes (``attrs`` of :func:`_attrs` plus the probes and the title)."""
    cz = probe_settings(net.cfg)["channel_z"]
    time_ = np.arange(net.nstep + 1) * net.dt
    return xr.Dataset(
        coords={"source": ["total", *net.layout.names], "channel": np.arange(len(cz)),
                "channel_z": ("channel", cz, {"units": "um", "long_name": "contact depth"}),
                "component": list(COMPONENTS),
                "time": ("time", time_, {"units": "ms", "long_name": "time"})},
        attrs={**(attrs or {}), "probes": to_json(net.cfg["probes"]), "title": "ground-truth extracellular signals"},
    )


def signal_values(net, signal):
    """The variables of signals.nc from per-population signals.

    Parameters
    ----------
    signal : dict
        ``{population: float64 rows x time}`` (signal units, summed over ranks; any stretch of
        time steps: the whole run or one block).

    Returns
    -------
    dict
        ``{name: (source, channel or component, time)}``, source ``total`` (the float64 sum of
        the populations, in population order) then each population.
    """
    names = net.layout.names
    rows = row_slices(len(net.cfg["probes"]["channel_z"]))
    out = {}
    for key in SIGNAL_VARIABLES:
        parts = [signal[p][rows[key]] for p in names]
        out[key] = np.stack([sum(parts), *parts])
    return out


class SignalsWriter:
    """signals.nc written block by block as the run goes (rank 0's sink of
    :meth:`lfpk.engines.network.Network.stream_signals`), through :class:`lfpk.base.io.BlockWriter`.

    The blocks (int64 fixed point, summed over ranks) are converted and stacked as
    :func:`datasets` does for a whole run (:func:`signal_values`), so the file's data are bitwise
    those of the in-memory path.
    """

    def __init__(self, net, path):
        self.net = net
        streamed = {k: (dims, np.float64, a) for k, (dims, a) in SIGNAL_VARIABLES.items()}
        template = signals_template(net)
        template.attrs = {}  # all at close, in the order of the in-memory path
        self.writer = BlockWriter(path, template, streamed, dim="time")

    def __call__(self, start, blocks):
        sig = {p: to_float(b, self.net.quanta) for p, b in blocks.items()}
        self.writer.write(start, signal_values(self.net, sig))

    def close(self, attrs):
        self.writer.close(attrs)

    def abort(self):
        self.writer.abort()


OUTPUTS = ("spikes", "membrane", "signals")


def _run_timings(res):
    """Timings (s) of the run for the attrs: build / connect / simulate of the slowest rank, CPU
    seconds summed over ranks, each rank's peak resident memory (MB)."""
    timings = {k: max(t.get(k, 0.0) for t in res["timings_by_rank"]) for k in ("build", "connect", "simulate")}
    for k in ("integrate", "integrate_cpu", "simulate_cpu"):  # wall: slowest rank; CPU: sum over ranks
        vals = [t.get(k, 0.0) for t in res["timings_by_rank"]]
        timings[k if k == "integrate" else f"{k}_total"] = max(vals) if k == "integrate" else sum(vals)
    for k in ("setup", "recording_setup", "initialise", "probes"):  # parts of simulate, slowest rank
        if any(k in t for t in res["timings_by_rank"]):
            timings[k] = max(t.get(k, 0.0) for t in res["timings_by_rank"])
    if any("stream" in t for t in res["timings_by_rank"]):  # per-flush reduction and write of signals.nc
        timings["stream"] = max(t.get("stream", 0.0) for t in res["timings_by_rank"])
    if "peak_memory_mb" in res:
        timings["peak_memory_mb"] = [round(float(p), 1) for p in res["peak_memory_mb"]]
    return timings


def _finish(net, res, paths, tmps, t0, attrs=None, stream=None):
    """Write the outputs ``paths`` (name -> path) into their temporaries ``tmps`` (rank 0): the
    datasets of ``res``, and close the streamed signals.nc (``stream``, a :class:`SignalsWriter`)
    with the same attributes. The caller's :func:`lfpk.base.files.atomic_paths` renames them."""
    timings = _run_timings(res)
    dsets = {k: v for k, v in datasets(net, res, timings).items() if k in paths}
    for name, ds in dsets.items():
        ds.attrs.update(attrs or {})
        check_dataset(ds, paths[name])
        dataset_to_netcdf(ds, tmps[name])
    if stream is not None:
        sig_attrs = signals_template(net, _attrs(net, timings, {"counts": to_json(res["counts"])})).attrs
        stream.close({**sig_attrs, **(attrs or {})})
    timings["write"] = time.perf_counter() - t0
    if "peak_memory_mb" in timings:  # rank 0's peak including the write

        timings["peak_memory_mb"][0] = round(max(timings["peak_memory_mb"][0],
                                                 resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0), 1)
    timings["total"] = sum(v for k, v in timings.items() if k in ("build", "connect", "simulate", "write"))
    with deferred_signals():
        for tmp in tmps.values():  # record the write phase too (attribute only)
            with netCDF4.Dataset(tmp, "a") as f:
                f.setncattr("timings", to_json(timings))
    log.info("write: %.2f s (%s)", timings["write"], ", ".join(str(p) for p in paths.values()))
    return timings


def write_outputs(net, res, outdir, names=None, attrs=None):
    """Write spikes.nc, membrane.nc, signals.nc (or those of ``names``) to ``outdir`` from a run
    gathered in memory (:meth:`lfpk.engines.network.Network.gather`), all or none (through
    :func:`lfpk.base.files.atomic_paths`); timings (incl. write) and ``attrs`` in attrs."""
    t0 = time.perf_counter()
    names = [n for n in OUTPUTS if n in (names or OUTPUTS)]
    paths = {name: Path(outdir) / f"{name}.nc" for name in names}
    with atomic_paths(list(paths.values())) as tmps:
        timings = _finish(net, res, paths, dict(zip(paths, tmps)), t0, attrs)
    return paths, timings


@contextmanager
def streamed_outputs(net, outdir, names=OUTPUTS, attrs=None):
    """Outputs of a run whose signals.nc is written as it goes (all ranks enter this).

    On rank 0 the outputs' temporaries are opened (:func:`lfpk.base.files.atomic_paths`) before the run,
    the network streams its signals block by block into signals.nc's temporary
    (:meth:`lfpk.engines.network.Network.stream_signals`, :class:`SignalsWriter`), and the block yields
    ``finish(res)``, which writes the other outputs from the gathered results ``res`` and returns
    ``(paths, timings)``; they are renamed into place together when the block ends, all or none:
    an error, SIGINT or SIGTERM leaves no output and no temporary file. On the other ranks the
    network streams (its share of every block goes into the MPI reduction) and ``finish`` is None.
    """
    names = [n for n in OUTPUTS if n in names]
    if net.rank != 0:
        net.stream_signals(None)
        yield None
        return
    paths = {name: Path(outdir) / f"{name}.nc" for name in names}
    with atomic_paths(list(paths.values())) as tmp_list:
        tmps = dict(zip(paths, tmp_list))
        stream = SignalsWriter(net, tmps["signals"]) if "signals" in tmps else None
        net.stream_signals(stream)

        def finish(res):
            return paths, _finish(net, res, paths, tmps, time.perf_counter(), attrs, stream)

        try:
            yield finish
        except BaseException:
            if stream is not None:
                stream.abort()
            raise


def run_network(cfg, outdir, sizes=None, tstop=None, seed=None, scale_probabilities=True,
                lump=True, biophysics="active", membrane_sample=None, pc=None, transient=None,
                extrinsic_drive="mechanism", stream=True):
    """Build, connect, simulate and write one ground-truth run (all ranks call this).

    With ``stream`` (default; the command line and the workflow) signals.nc is written block by
    block as the run goes (:func:`streamed_outputs`), so no rank holds more than one block of
    signals; ``stream=False`` keeps them in memory and writes them at the end (for checks).
    Returns ``(paths, timings, rates)`` on rank 0 and ``(None, None, None)`` elsewhere.
    """
    probs = scaled_probabilities(cfg, sizes) if (sizes and scale_probabilities) else None
    net = Network(cfg, sizes=sizes, probabilities=probs, tstop=tstop, seed=seed, lump=lump,
                  biophysics=biophysics, membrane_sample=membrane_sample, pc=pc, transient=transient,
                  extrinsic_drive=extrinsic_drive)
    if net.rank == 0:
        log.info("network: %s cells on %d rank(s), tstop %.1f ms, dt %g ms, seed %d, C %s",
                 net.layout.sizes, net.nhost, net.tstop, net.dt, net.seed,
                 {f"{c['pre']}->{c['post']}": round(c["C"], 4) for c in net.conn.conns})
    with (streamed_outputs(net, outdir) if stream else nullcontext()) as finish:
        net.run()
        res = net.gather()
        peak = net.pc.py_gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 0)
        if net.rank == 0:
            res["peak_memory_mb"] = peak
            log.info("synapses %d, NetCons %d, point processes %d, NetStims %d, in-mechanism Poisson drives %d",
                     res["counts"]["synapses"], res["counts"]["netcons"], res["counts"]["point_processes"],
                     res["counts"]["netstims"], res["counts"]["drives"])
            paths, timings = finish(res) if stream else write_outputs(net, res, outdir)
    if net.rank != 0:
        net.close()
        return None, None, None
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


