"""Memory estimates of the study's stages, checked before anything runs.

A configuration whose sizes cannot fit (``populations.*.size: 1000000000``, ``simulation.tstop:
1.0e12``, ``simulation.dt: 1.0e-9``, ``kernel.tau: 1.0e9``, a tiny ``d_lambda``) would otherwise run
for minutes at gigabytes or die inside numpy. :func:`estimate_memory` gives the peak memory of one
process of each stage from the configuration alone (no NEURON); :func:`memory_errors`, part of
:func:`lfpk.api.config.validate_config`, refuses a configuration whose estimate exceeds the memory
of the machine a job runs on: ``LFPK_MEMORY_LIMIT`` (e.g. ``64G``, ``512M``, bytes; set it to the
memory of the compute nodes when jobs run on larger machines than the one that checks the config),
else the memory available on this machine now (``MemAvailable``, else the physical memory).

The network's ranks (``network.tasks``) all run on that machine (the local ``mpiexec``), each with
the estimated memory per rank (its own interpreter, NEURON and mechanisms, measured at 0.17-0.20
GB before any cell: the RSS of ``python`` after ``import neuron, lfpk``, the mechanisms, the
network engine and ``mpi4py``), so the limit applies to ranks x memory per rank; on a cluster
whose scheduler spreads the ranks over nodes (``srun``, ``profiles/slurm``), ``LFPK_RANKS_PER_NODE``
says how many share one node's ``LFPK_MEMORY_LIMIT``. (Before, the estimate of one rank was
compared with the whole machine: 400 local ranks passed at "158 MB per rank" though they need
about 63 GB.)

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
from lfpk.study.runs import kernels_only

#: Environment variable: MPI ranks of the network sharing one node (default: all on this machine).
ENV_RANKS_PER_NODE = "LFPK_RANKS_PER_NODE"

#: Interpreter, NEURON, mechanisms, numpy/scipy/xarray and mpi4py loaded (bytes): measured RSS 0.17
#: GB after ``import neuron, lfpk`` and the mechanisms, 0.20 GB with the network engine and MPI;
#: a 10-cell network peaks at 0.19 GB per rank.
BASE = 200e6
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
        with open("/proc/meminfo") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return float(fields["MemAvailable"].split()[0]) * 1024, "the available memory of this machine"
    except (OSError, KeyError, ValueError, IndexError):
        pass
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return float("inf"), "unknown"
    return float(total), "the memory of this machine"


def network_ranks(cfg):
    """(ranks of the network, ranks on one machine, description): ``network.tasks`` (default 2),
    all on one machine unless ``LFPK_RANKS_PER_NODE`` says how many share a node."""
    ranks = max(1, int((cfg.get("network") or {}).get("tasks", 2)))
    text = os.environ.get(ENV_RANKS_PER_NODE, "").strip()
    if not text:
        return ranks, ranks, f"network.tasks = {ranks} ranks on this machine"
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"LFPK_RANKS_PER_NODE: {text!r} is not a positive whole number of MPI ranks per node")
    here = min(ranks, int(text))
    return ranks, here, f"{here} of network.tasks = {ranks} ranks on one node (LFPK_RANKS_PER_NODE={text})"


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


def _network_estimate(cfg):
    """(rank 0, any other rank, detail) of the ground-truth network's peak memory (bytes): every
    rank holds its interpreter and NEURON (:data:`BASE`), its share of synapses and segments and
    one block of its signal sums; rank 0 also the reduced block's copies, the write buffer, the
    time coordinate, the gathered membrane samples and spikes."""
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
    block = 8.0 * npop * rows * min(nt, DEFAULT_BLOCK)
    other = (BASE + (PER_SYNAPSE * synapses + PER_SEGMENT * segments) / ranks
             + 2 * block)  # one block of fixed-point sums and its float
    rank0 = (other + 4 * block  # the reduced block and its output copies
             + BLOCK_BUFFER_BYTES + 17.0 * nt  # write buffer, time coordinate, step flags
             + 8.0 * 2 * sum(min(sample, sizes[n]) * segs[n] for n in pops) * n_vt  # sampled potentials
             + 4.0 * 2 * npop * nt + 48.0 * spikes)          # spike counts and spikes
    detail = (f"{cells:.3g} cells, {synapses:.3g} synapses, {segments:.3g} segments on {ranks} rank(s); "
              f"{nt:.3g} time steps, signals streamed in blocks")
    return rank0, other, detail


def estimate_memory(cfg) -> dict:
    """Peak memory (bytes) of one process of each stage, with what drives it.

    Returns
    -------
    dict
        stage -> (bytes, detail text, config keys that drive it). Stages: ``network`` (per MPI rank,
        ranks = ``network.tasks``, default 2; rank 0, which receives the signals block by block by an
        MPI reduction and writes them as the run goes, and gathers spikes and membrane samples at the
        end), ``kernel`` (one connection),
        ``predict`` and ``compare`` (one run, whole signals in memory). A kernels-only file
        (``scope: kernels``) has the ``kernel`` stage only.
    """
    sim = cfg["simulation"]
    dt = float(sim["dt"])
    pops = cfg["populations"]
    npop = len(pops)
    segs = {n: float(_segments(n, p)) for n, p in pops.items()}
    out = {}
    if not kernels_only(cfg):
        network, _, detail = _network_estimate(cfg)
        out["network"] = (network, detail,
                          "populations.*.size, connections[*].probability, simulation.tstop, simulation.dt")
    kern = cfg["kernel"]
    n_lags = 2.0 * float(kern["tau"]) / dt + 1
    ch = _channels(cfg)
    maxseg = max(segs.values())
    out["kernel"] = (BASE + 8.0 * n_lags * (4 * maxseg + 2 * ch),
                     f"{n_lags:.3g} lags x ({maxseg:.0f} segments + {ch} channels)", "kernel.tau, simulation.dt")
    if kernels_only(cfg):
        return out
    nt = float(sim["tstop"]) / dt + 1
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


def machine_memory(cfg):
    """(bytes, text) of the network's ranks on one machine (:func:`network_ranks`): rank 0's
    estimate plus every other rank's there.

    Raises
    ------
    ValueError
        ``LFPK_RANKS_PER_NODE`` is not a positive whole number.
    """
    rank0, other, _ = _network_estimate(cfg)
    _, here, ranks_text = network_ranks(cfg)
    return (rank0 + (here - 1) * other,
            f"{ranks_text}: {format_bytes(rank0)} on rank 0, {format_bytes(other)} on each other rank")


def format_bytes(n) -> str:
    """``n`` bytes as ``1.2 GB`` / ``340 MB`` (powers of 1000)."""
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n / 1e3:.3g} kB"


def memory_errors(cfg, runs=True, stages=None) -> list[str]:
    """One message per stage whose estimated memory exceeds :func:`memory_limit` (the network: all
    the ranks on one machine, :func:`network_ranks`).

    Parameters
    ----------
    cfg : dict
        Configuration (schema-valid).
    runs : bool
        Unused (kept for callers that pass it).
    stages : iterable of str, optional
        Only these stages of :func:`estimate_memory` (default all).
    """
    try:
        limit, what = memory_limit()
    except ValueError as exc:
        return [str(exc)]
    try:
        network_ranks(cfg)
    except ValueError as exc:
        return [str(exc)]
    errors = []
    for stage, (need, detail, keys) in estimate_memory(cfg).items():
        if stages is not None and stage not in stages:
            continue
        if stage == "network":  # every rank on the machine has its own interpreter and NEURON
            need, text = machine_memory(cfg)
            detail = f"{text}; {detail}"
            keys += ", network.tasks"
        if need > limit:
            nodes = ", and LFPK_RANKS_PER_NODE when a scheduler spreads the ranks over nodes" if stage == "network" else ""
            errors.append(f"memory: the {stage} stage would need about {format_bytes(need)} ({detail}), more "
                          f"than {format_bytes(limit)} ({what}); reduce {keys} (or set LFPK_MEMORY_LIMIT, e.g. "
                          f"LFPK_MEMORY_LIMIT=256G, when the jobs run on machines with more memory{nodes})")
    return errors
