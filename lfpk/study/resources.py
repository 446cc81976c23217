"""Memory estimates of the study's stages, checked before anything runs.

A configuration whose sizes cannot fit (``populations.*.size: 1000000000``, ``simulation.tstop:
1.0e12``, ``simulation.dt: 1.0e-9``, ``kernel.tau: 1.0e9``, a tiny ``d_lambda``) would otherwise run
for minutes at gigabytes or die inside numpy. :func:`estimate_memory` gives the peak memory of one
process of each stage from the configuration alone (no NEURON); :func:`memory_errors`, part of
:func:`lfpk.api.config.validate_config`, refuses a configuration whose estimate exceeds the memory
limit: ``LFPK_MEMORY_LIMIT`` (e.g. ``64G``, ``512M``, bytes; set it to the memory of the compute
nodes when jobs run on larger machines than the one that checks the config), else the physical
memory of this machine.

The estimates are upper-end models of what the stages hold at their peak, calibrated on
measured runs (docs/network.md, /work/shared notes): the ground-truth network on 2 ranks peaked at
0.68 GB per rank for the laptop study (1.24 M synapses, 2 s) and 2.8 GB per rank for the paper
network (9.9 M synapses, 0.3 s); a tiny network at 0.14 GB. They are meant to catch sizes that
are off by orders of magnitude, not to size cluster jobs to the last megabyte.
"""

from __future__ import annotations

import os
import re

from lfpk.base.io import BLOCK_BUFFER_BYTES
from lfpk.engines.network import DEFAULT_BLOCK
from lfpk.model.connectivity import multapse_mean
from lfpk.model.morphology import SECTIONS, BallAndStick

#: Interpreter, NEURON, numpy/scipy/xarray loaded (bytes; a 20-cell network peaks at 0.14 GB).
BASE = 150e6
#: Per synapse of the ground truth (NetCon, weight and delay; measured 0.53-0.85 kB on 2 ranks).
PER_SYNAPSE = 900.0
#: Per segment of a ground-truth cell (NEURON section data, channels, lumped synapses, sources).
PER_SEGMENT = 2000.0
#: Segments assumed for a population whose morphology the estimate cannot count.
DEFAULT_SEGMENTS = 200


def memory_limit():
    """(bytes, description) of the memory limit: ``LFPK_MEMORY_LIMIT`` or the physical memory."""
    text = os.environ.get("LFPK_MEMORY_LIMIT", "").strip()
    if text:
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)i?[bB]?", text)
        if not m:
            raise ValueError(f"LFPK_MEMORY_LIMIT: {text!r} is not a memory size; expected e.g. 64G, 512M or bytes")
        scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[m.group(2).lower()]
        return float(m.group(1)) * scale, f"LFPK_MEMORY_LIMIT={text}"
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return float("inf"), "unknown"
    return float(total), "the memory of this machine"


def _segments(name, pop):
    """Segments of one cell of population ``name`` (d_lambda rule of its morphology)."""
    try:
        m = BallAndStick.from_config(name, pop)
        return sum(m.nseg(s) for s in SECTIONS)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError):
        return DEFAULT_SEGMENTS


def _channels(cfg):
    """Signal channels of one population's prediction (lfp, csd, cdm, eeg, meg, extra models)."""
    nz = len(cfg["probes"]["channel_z"])
    return 2 * nz + 3 + 1 + 3 + nz * len(cfg["probes"].get("models") or {})


def estimate_memory(cfg) -> dict:
    """Peak memory (bytes) of one process of each stage, with what drives it.

    Returns
    -------
    dict
        stage -> (bytes, detail text, config keys that drive it). Stages: ``network`` (per MPI rank,
        ranks = ``network.tasks``, default 2; rank 0, which receives the signals block by block by an
        MPI reduction and writes them as the run goes, and gathers spikes and membrane samples at the
        end), ``kernel`` (one connection),
        ``predict`` and ``compare`` (one run, whole signals in memory).
    """
    sim = cfg["simulation"]
    dt, tstop = float(sim["dt"]), float(sim["tstop"])
    nt = tstop / dt + 1
    pops = cfg["populations"]
    npop = len(pops)
    ranks = max(1, int((cfg.get("network") or {}).get("tasks", 2)))
    sizes = {n: float(p["size"]) for n, p in pops.items()}
    segs = {n: float(_segments(n, p)) for n, p in pops.items()}
    synapses = 0.0
    for c in cfg["connections"]:
        try:
            m = multapse_mean(c["multapses"])
        except ValueError:
            m = 1.0
        synapses += float(c["probability"]) * sizes[c["pre"]] * sizes[c["post"]] * m
    cells = sum(sizes.values())
    segments = sum(sizes[n] * segs[n] for n in pops)
    nz = len(cfg["probes"]["channel_z"])
    rows = 2 * nz + 3  # lfp, csd, cdm rows of the ground-truth probes, per population
    rec = cfg.get("recording", {})
    sample = float(rec.get("membrane_sample", 50))
    n_vt = tstop / float(rec.get("membrane_dt", 1.0)) + 1
    rates = cfg["kernel"].get("rates", {})
    spikes = sum(sizes[n] * float(rates.get(n, 10.0)) * tstop / 1000.0 for n in pops)
    network = (BASE + (PER_SYNAPSE * synapses + PER_SEGMENT * segments) / ranks
               + 8.0 * 6 * npop * rows * min(nt, DEFAULT_BLOCK)  # one block of fixed-point sums, its float
               + BLOCK_BUFFER_BYTES + 17.0 * nt  # and output copies; write buffer, time coordinate, step flags
               + 8.0 * 2 * sum(min(sample, sizes[n]) * segs[n] for n in pops) * n_vt  # sampled potentials
               + 4.0 * 2 * npop * nt + 48.0 * spikes)          # spike counts and spikes
    out = {"network": (network, f"{cells:.3g} cells, {synapses:.3g} synapses, {segments:.3g} segments on "
                                f"{ranks} rank(s); {nt:.3g} time steps, signals streamed in blocks",
                       "populations.*.size, connections[*].probability, simulation.tstop, simulation.dt")}
    kern = cfg["kernel"]
    n_lags = 2.0 * float(kern["tau"]) / dt + 1
    ch = _channels(cfg)
    maxseg = max(segs.values())
    out["kernel"] = (BASE + 8.0 * n_lags * (4 * maxseg + 2 * ch),
                     f"{n_lags:.3g} lags x ({maxseg:.0f} segments + {ch} channels)", "kernel.tau, simulation.dt")
    conns = len(cfg["connections"])
    sources = npop + 1
    nfft = nt + n_lags
    out["predict"] = (BASE + 8.0 * nfft * ch * (4 * conns + sources),
                      f"({nt:.3g} time steps + {n_lags:.3g} kernel lags) x {ch} channels x ({conns} connections "
                      f"+ {sources} sources)", "simulation.tstop, simulation.dt, kernel.tau")
    out["compare"] = (BASE + 8.0 * nt * ch * (conns + 6 * sources),
                      f"{nt:.3g} time steps x {ch} channels x ({conns} connections + {sources} sources)",
                      "simulation.tstop, simulation.dt")
    return out


def format_bytes(n) -> str:
    """``n`` bytes as ``1.2 GB`` / ``340 MB`` (powers of 1000)."""
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n / 1e3:.3g} kB"


def memory_errors(cfg, runs=True) -> list[str]:
    """One message per stage whose estimated memory exceeds :func:`memory_limit`."""
    try:
        limit, what = memory_limit()
    except ValueError as exc:
        return [str(exc)]
    errors = []
    for stage, (need, detail, keys) in estimate_memory(cfg).items():
        if need > limit:
            per = " per rank" if stage == "network" else ""
            errors.append(f"memory: the {stage} stage would need about {format_bytes(need)}{per} ({detail}), more "
                          f"than {format_bytes(limit)} ({what}); reduce {keys} (or set LFPK_MEMORY_LIMIT, e.g. "
                          "LFPK_MEMORY_LIMIT=256G, when the jobs run on machines with more memory)")
    return errors
