"""Ground-truth network: conductance-based ball-and-stick E/I network simulated with NEURON.

The network of Hagen et al. (2022) built directly on NEURON (no ``LFPy.Network``), MPI-parallel
and reproducible for any number of ranks:

* cells distributed round-robin by gid over the ranks of a ``ParallelContext``;
* placement, connectivity and extrinsic synapse counts from per-cell random streams keyed by
  (seed, gid) (:mod:`lfpk.connectivity`); extrinsic Poisson trains from Random123 streams keyed
  by (gid, segment, seed) (``NetStim.noiseFromRandom123``);
* exact lumping: one ``Exp2SynSum`` (``mod/exp2synsum.mod``: Exp2Syn summing the weights of the
  events of a time step before applying them, so the state does not depend on their delivery
  order) per (cell, segment, synapse type (tau1, tau2, e)) fed by one ``NetCon`` per synapse (own
  weight, quantised to multiples of :data:`WEIGHT_QUANTUM` so all sums of weights are exact, and
  delay); the extrinsic drive of one segment is one Poisson ``NetStim`` at the summed rate
  ``count * rate`` (a sum of independent Poisson processes is Poisson) on the same lumped synapse;
* transmembrane currents (``cvode.use_fast_imem``) of all local segments gathered after every
  time step into a preallocated block buffer by one ``PtrVector.gather`` call
  (``CVode.extra_scatter_gather`` callback), mapped to the probes every block per cell with a
  fixed operation order, rounded to int64 fixed point and summed exactly over cells and ranks
  (:func:`lfpk.recording.cell_sums`); per-segment currents are never stored beyond one block;
* outputs (spikes, signals, membrane potentials) bitwise identical for any number of ranks;
* spikes of every cell, membrane potentials of ``recording.membrane_sample`` cells per
  population (every segment, sampled every ``recording.membrane_dt`` ms, default 1 ms).

Run ``python -m lfpk.network --config config/config.yaml --outdir results/laptop/network/default``
or under MPI ``mpiexec -n 2 python -m lfpk.network ...``; see :func:`main` for the options.
Outputs (``spikes.nc``, ``signals.nc``, ``membrane.nc``) follow ``docs/network.md``.
"""

from __future__ import annotations

import argparse
import gc
import glob
import logging
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from lfpk.connectivity import Connectivity, extrinsic_counts, place_cells, synapse_type

log = logging.getLogger("lfpk.network")

#: Spike detection threshold on the somatic potential (mV), as LFPy's NetworkCell.
DEFAULT_SPIKE_THRESHOLD = -10.0
#: Time steps of transmembrane currents buffered before mapping them to the probes.
DEFAULT_BLOCK = 256
#: Number of progress reports per run (every 5 %).
PROGRESS_CHUNKS = 20
#: Synapse weights (uS) are rounded to multiples of this (relative change <= 2e-11 at 1e-4 uS) so
#: that any sum of them is exact in float64 (below 2**53 quanta = 32 uS) and independent of order.
WEIGHT_QUANTUM = 2.0**-48
#: Order-independent point process used for each synapse model of the config.
SUMMING_MODELS = {"Exp2Syn": "Exp2SynSum"}
MPI_ENV_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


# ---------------------------------------------------------------------------------------------
# MPI
# ---------------------------------------------------------------------------------------------


def find_libmpi():
    """Path of the MPI shared library of the ``mpich`` wheel in this environment, or None.

    The wheel's ``lib/libmpi.so`` is a linker script (text), which NEURON cannot ``dlopen``; the
    real ELF library is ``libmpi.so.12``.
    """
    for d in (os.path.join(sys.prefix, "lib"), os.path.join(os.path.dirname(sys.executable), "..", "lib")):
        for cand in sorted(glob.glob(os.path.join(d, "libmpi.so*")), key=len, reverse=True):
            try:
                with open(cand, "rb") as f:
                    if f.read(4) == b"\x7fELF":
                        return os.path.realpath(cand)
            except OSError:
                continue
    return None


def find_mpiexec():
    """``mpiexec`` next to the interpreter (mpich wheel), else on PATH, else None."""
    import shutil

    local = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return local if os.path.exists(local) else shutil.which("mpiexec")


def launched_by_mpi():
    """True if this process was started by an MPI launcher (mpiexec, srun with PMI)."""
    return any(k in os.environ for k in MPI_ENV_VARS)


def init_parallel(mpi=None):
    """Start NEURON's MPI (if launched by MPI or ``mpi=True``) and return the ``ParallelContext``.

    Must run before NEURON's mechanisms are loaded. Raises ``RuntimeError`` if NEURON does not see
    the same number of ranks as MPI (the silent failure mode where every rank simulates the whole
    network).
    """
    if mpi is None:
        mpi = launched_by_mpi()
    size = 1
    if mpi:
        lib = find_libmpi()
        if lib and "MPI_LIB_NRN_PATH" not in os.environ:
            os.environ["MPI_LIB_NRN_PATH"] = lib
        from mpi4py import MPI

        size = MPI.COMM_WORLD.Get_size()
    # srun with a PMI the MPI library does not speak (e.g. --mpi=none) starts N unconnected
    # single-rank processes that would each simulate the whole network into the same files
    step_tasks = int(os.environ.get("SLURM_STEP_NUM_TASKS", "1"))
    if step_tasks > 1 and size != step_tasks:
        raise RuntimeError(
            f"srun started {step_tasks} tasks but MPI sees {size} rank(s): launch with a PMI this "
            "MPI speaks (srun --mpi=pmi2 for MPICH)"
        )
    from neuron import h

    if mpi:
        h.nrnmpi_init()
    pc = h.ParallelContext()
    if mpi and int(pc.nhost()) != size:
        raise RuntimeError(
            f"NEURON sees {int(pc.nhost())} rank(s) but MPI has {size}: set MPI_LIB_NRN_PATH to the "
            f"MPI library mpi4py uses (found: {find_libmpi()})"
        )
    return pc


# ---------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------


def poisson_source(rate, ids, start=0.0):
    """A ``NetStim`` emitting a Poisson train of ``rate`` (1/s) from ``start`` (ms).

    The train is drawn from the Random123 stream ``ids`` (three integers < 2**32; the network
    uses (gid, segment, seed)), so it does not depend on the rank or on other streams.
    """
    from neuron import h

    stim = h.NetStim()
    stim.start = float(start)
    stim.number = 1e9
    stim.noise = 1.0
    stim.interval = 1000.0 / float(rate)
    stim.noiseFromRandom123(*(int(i) for i in ids))
    return stim


def quantise_weights(w):
    """Weights (uS) rounded to multiples of :data:`WEIGHT_QUANTUM` (array or float)."""
    return np.rint(np.asarray(w, dtype=float) / WEIGHT_QUANTUM) * WEIGHT_QUANTUM


@dataclass
class _Cell:
    gid: int
    population: str
    sections: dict
    segments: list
    synapses: dict  # (segment, type) -> Exp2SynSum


def scaled_probabilities(cfg, sizes):
    """Connection probabilities keeping every in-degree ``C * N_pre`` of the config (capped at 1).

    Parameters
    ----------
    cfg : dict
        Config (its ``populations[].size`` and ``connections[].probability`` are the reference).
    sizes : dict
        New population sizes.

    Returns
    -------
    dict
        ``{(pre, post): C}``.
    """
    out = {}
    for c in cfg["connections"]:
        n0 = cfg["populations"][c["pre"]]["size"]
        n1 = sizes.get(c["pre"], n0)
        out[(c["pre"], c["post"])] = min(1.0, float(c["probability"]) * n0 / n1)
    return out


class Network:
    """The ground-truth network of one config on this process's share of the cells.

    Parameters
    ----------
    cfg : dict
        Validated config.
    sizes : dict, optional
        Population sizes overriding the config's.
    probabilities : dict, optional
        ``{(pre, post): C}`` overriding the connection probabilities (see
        :func:`scaled_probabilities`).
    tstop : float, optional
        Simulated time (ms) overriding ``simulation.tstop``.
    seed : int, optional
        Overrides ``cfg["seed"]``.
    lump : bool
        Exact synapse lumping (default). ``False`` creates one point process per synapse (and one
        per extrinsic source), for the exactness test.
    biophysics : str
        Name in :data:`lfpk.biophysics.BIOPHYSICS` (``active`` is the ground truth).
    record_signals : bool
        Map transmembrane currents to the probes.
    membrane_sample : int, optional
        Cells per population with recorded membrane potentials (default
        ``recording.membrane_sample``).
    pc : ParallelContext, optional
        From :func:`init_parallel` (default ``h.ParallelContext()``).
    """

    def __init__(self, cfg, sizes=None, probabilities=None, tstop=None, seed=None, lump=True,
                 biophysics="active", record_signals=True, membrane_sample=None, pc=None,
                 block=DEFAULT_BLOCK, transient=None):
        from neuron import h

        self.h = h
        self.cfg = cfg
        sim = cfg["simulation"]
        self.dt = float(sim["dt"])
        self.tstop = float(sim["tstop"] if tstop is None else tstop)
        self.nstep = int(round(self.tstop / self.dt))
        self.tstop = self.nstep * self.dt
        self.transient = min(float(sim["transient"] if transient is None else transient), self.tstop)
        self.celsius = float(sim["celsius"])
        self.v_init = float(sim["v_init"])
        self.spike_threshold = float(sim.get("spike_threshold", DEFAULT_SPIKE_THRESHOLD))
        self.layout = place_cells(cfg, sizes, seed)
        self.seed = self.layout.seed
        self.probabilities = probabilities
        self.conn = Connectivity(cfg, self.layout, probabilities)
        self.lump = bool(lump)
        self.biophysics = biophysics
        self.record_signals = record_signals
        rec = cfg.get("recording", {})
        self.membrane_sample = int(rec.get("membrane_sample", 50) if membrane_sample is None else membrane_sample)
        self.membrane_dt = float(rec.get("membrane_dt", 1.0))
        self.membrane_every = max(1, int(round(self.membrane_dt / self.dt)))
        self.block = int(block)
        self.pc = pc if pc is not None else h.ParallelContext()
        self.rank = int(self.pc.id())
        self.nhost = int(self.pc.nhost())
        self.local_gids = list(range(self.rank, self.layout.n_cells, self.nhost))
        self.cells = {}
        self.netcons = []
        self.stims = []
        self.timings = {}
        self.counts = {"netcons": 0, "synapses": 0, "point_processes": 0, "netstims": 0}
        self._callback = None
        self._built = self._connected = self._simulated = False

    # --- construction ---------------------------------------------------------------------

    def _biophysics_kwargs(self):
        if self.biophysics == "active":
            return {}
        k = self.cfg.get("kernel", {})
        return {"V_rest": float(k.get("V_rest", -65.0)), "passive_g_pas": k.get("passive_g_pas", 3e-4)}

    def build(self):
        """Create the local cells, their spike detectors and extrinsic Poisson drive."""
        from lfpk import biophysics
        from lfpk.morphology import BallAndStick

        h, pc, t0 = self.h, self.pc, time.perf_counter()
        pc.gid_clear()
        h.celsius = self.celsius
        morphs = {n: BallAndStick.from_config(n, self.cfg["populations"][n]) for n in self.layout.names}
        bkw = self._biophysics_kwargs()
        seed32 = self.seed % (2**32)
        self.tvec, self.idvec = h.Vector(), h.Vector()
        for gid in self.local_gids:
            pop = self.layout.population(gid)
            x, y, z = self.layout.positions[gid]
            secs = morphs[pop].build(prefix=f"{pop}_{gid}", x_offset=x, y_offset=y, z_offset=z)
            biophysics.apply(self.biophysics, secs, self.cfg["biophysics"], celsius=self.celsius, **bkw)
            cell = _Cell(gid, pop, secs, biophysics.segments(secs), {})
            pc.set_gid2node(gid, self.rank)
            soma = secs["soma"]
            nc = h.NetCon(soma(0.5)._ref_v, None, sec=soma)
            nc.threshold = self.spike_threshold
            pc.cell(gid, nc)
            self.cells[gid] = cell
            # extrinsic Poisson drive: one source per segment at the summed rate
            ext = self.cfg["populations"][pop]["extrinsic"]
            counts = extrinsic_counts(self.layout, gid, ext["count"])
            key = synapse_type(ext["synapse"])
            w = float(quantise_weights(float(ext["synapse"]["weight"])))
            for iseg in np.flatnonzero(counts):
                stim = poisson_source(counts[iseg] * float(ext["rate"]), (gid, int(iseg), seed32))
                syn = self._synapse(cell, int(iseg), key, ("ext",) if not self.lump else ())
                enc = h.NetCon(stim, syn)
                enc.weight[0] = w
                enc.delay = 0.0
                self.stims.append(stim)
                self.netcons.append(enc)
            self.counts["netstims"] += int(np.count_nonzero(counts))
        pc.spike_record(-1, self.tvec, self.idvec)
        self.timings["build"] = time.perf_counter() - t0
        self._built = True
        return self

    def _synapse(self, cell, iseg, key, tag=()):
        """The (lumped) synapse of ``key`` on segment ``iseg``; a new one per call if not lumping.

        Exp2Syn is created as its order-independent equivalent ``Exp2SynSum``.
        """
        h = self.h
        k = (iseg, key) + tuple(tag)
        if self.lump or tag:
            syn = cell.synapses.get(k)
            if syn is not None:
                return syn
        model, tau1, tau2, e = key
        syn = getattr(h, SUMMING_MODELS.get(model, model))(cell.segments[iseg])
        syn.tau1, syn.tau2, syn.e = tau1, tau2, e
        self.counts["point_processes"] += 1
        if self.lump or tag:
            cell.synapses[k] = syn
        else:
            cell.synapses[(iseg, key, len(cell.synapses))] = syn
        return syn

    def connect(self):
        """Create every local cell's incoming synapses (NetCons from presynaptic gids)."""
        pc, t0 = self.pc, time.perf_counter()
        types = [synapse_type(c["synapse"]) for c in self.cfg["connections"]]
        for gid in self.local_gids:
            cell = self.cells[gid]
            inc = self.conn.incoming(gid)
            for pre, seg, d, w, ci in zip(inc.pre.tolist(), inc.segment.tolist(), inc.delay.tolist(),
                                          quantise_weights(inc.weight).tolist(), inc.connection.tolist()):
                nc = pc.gid_connect(pre, self._synapse(cell, seg, types[ci]))
                nc.weight[0] = w
                nc.delay = d
                self.netcons.append(nc)
            self.counts["synapses"] += len(inc)
        self.counts["netcons"] = len(self.netcons)
        self.timings["connect"] = time.perf_counter() - t0
        self._connected = True
        return self

    # --- recording ------------------------------------------------------------------------

    def _setup_recording(self):
        from lfpk.recording import cell_matrices, probe_matrix, probe_settings, row_quanta

        h = self.h
        self.names = self.layout.names
        # local cells are in gid order, hence grouped by population
        segs, self.blocks = [], {}
        for name in self.names:
            start = len(segs)
            xs, ys, zs, ds = [], [], [], []
            st = self.layout.segtables[name]
            for gid in self.local_gids:
                if self.layout.population(gid) != name:
                    continue
                segs += self.cells[gid].segments
                x0, y0, z0 = self.layout.positions[gid]
                xs.append(st["x"] + x0)
                ys.append(st["y"] + y0)
                zs.append(st["z"] + z0)
                ds.append(st["diam"])
            self.blocks[name] = slice(start, len(segs))
            if self.record_signals:
                cat = (lambda a, shape: np.concatenate(a) if a else np.zeros(shape))
                M, self.rows = probe_matrix(cat(xs, (0, 2)), cat(ys, (0, 2)), cat(zs, (0, 2)),
                                            cat(ds, (0,)), probe_settings(self.cfg))
                self.blocks[name] = (self.blocks[name], cell_matrices(M, self._nseg(name)))
        self.n_local_segments = len(segs)
        nt = self.nstep + 1
        if self.record_signals:
            nrow = self.rows["cdm"].stop
            self.quanta = row_quanta(self.rows["lfp"].stop)
            # int64 fixed point (quanta of lfpk.recording.QUANTA); self.signal (float) after the run
            self.isignal = {n: np.zeros((nrow, nt), dtype=np.int64) for n in self.names}
            self._pv = h.PtrVector(max(1, len(segs)))
            for i, seg in enumerate(segs):
                self._pv.pset(i, seg._ref_i_membrane_)
            self._hv = h.Vector(max(1, len(segs)))
            self._buf = np.zeros((self.block, max(1, len(segs))))
            self._base = 0
            self._filled = np.zeros(nt, dtype=bool)
            self._segs_check = segs[: min(len(segs), 200)]
        # membrane potential sample: first `membrane_sample` gids of each population
        self.sample = {}
        vsegs = []
        for name in self.names:
            gids = self.layout.gids(name)[: self.membrane_sample]
            local = [g for g in gids if g % self.nhost == self.rank]
            self.sample[name] = (np.array(local, dtype=int), len(vsegs))
            for g in local:
                vsegs += self.cells[g].segments
        self.n_vt = self.nstep // self.membrane_every + 1
        self._vbuf = np.zeros((self.n_vt, len(vsegs)))
        self._vpv = h.PtrVector(max(1, len(vsegs)))
        for i, seg in enumerate(vsegs):
            self._vpv.pset(i, seg._ref_v)
        self._vhv = h.Vector(max(1, len(vsegs)))
        self._n_vsegs = len(vsegs)

    def _flush(self):
        j = int(self._filled[self._base:self._base + self.block].sum())
        if j == 0:
            return
        from lfpk.recording import cell_sums

        t0 = time.perf_counter()
        for name in self.names:
            sl, Mt = self.blocks[name]
            if Mt.shape[2]:
                cell_sums(Mt, self._buf[:j, sl], self.quanta, self.isignal[name][:, self._base:self._base + j])
        self._base += j
        self.timings["probes"] = self.timings.get("probes", 0.0) + time.perf_counter() - t0

    def _gather(self, idx):
        if self.record_signals:
            j = idx - self._base
            if j >= self.block:
                self._flush()
                j = idx - self._base
            self._pv.gather(self._hv)
            self._buf[j] = self._hv.as_numpy()[: self._buf.shape[1]]
            self._filled[idx] = True
        if self._n_vsegs and idx % self.membrane_every == 0:
            self._vpv.gather(self._vhv)
            self._vbuf[idx // self.membrane_every] = self._vhv.as_numpy()[: self._n_vsegs]

    def _step_callback(self):
        # called after every fixed step (h.t is not updated inside pc.psolve, so count the steps)
        self._step += 1
        self._gather(self._step)

    # --- simulation -----------------------------------------------------------------------

    def simulate(self):
        """Initialise and run to ``tstop``, logging progress every 5 % of the run."""
        h, pc = self.h, self.pc
        t0 = time.perf_counter()
        # Free unreachable NEURON objects of earlier models in this process now, and keep the
        # garbage collector off while simulating: deleting sections mid-run changes NEURON's
        # node arrays and would leave the PtrVector pointers into i_membrane_ dangling.
        gc.collect()
        gc_enabled = gc.isenabled()
        gc.disable()
        cvode = h.CVode()
        cvode.active(0)
        cvode.use_fast_imem(1)
        self._setup_recording()
        h.dt = self.dt
        h.celsius = self.celsius
        pc.set_maxstep(10)
        self._callback = self._step_callback
        cvode.extra_scatter_gather(0, self._callback)
        try:
            h.finitialize(self.v_init)
            h.fcurrent()
            self._step = 0
            self._gather(0)
            self._check_pointers()
            for k in range(1, PROGRESS_CHUNKS + 1):
                pc.psolve(self.tstop * k / PROGRESS_CHUNKS)
                if self.rank == 0:
                    wall = time.perf_counter() - t0
                    log.info("simulated %.1f / %.1f ms (%3.0f %%), wall %.1f s (%.3g s per simulated s)",
                             h.t, self.tstop, 100.0 * k / PROGRESS_CHUNKS, wall,
                             wall / max(h.t, 1e-9) * 1000.0)
            if self._step != self.nstep:
                raise RuntimeError(f"ran {self._step} steps, expected {self.nstep}")
            if self.record_signals:
                self._flush()
                if not self._filled.all():
                    raise RuntimeError(f"{int((~self._filled).sum())} time steps were not recorded")
                from lfpk.recording import to_float

                self.signal = {n: to_float(v, self.quanta) for n, v in self.isignal.items()}
        finally:
            cvode.extra_scatter_gather_remove(self._callback)
            if gc_enabled:
                gc.enable()
        self.timings["simulate"] = time.perf_counter() - t0
        self._simulated = True
        return self

    def _check_pointers(self):
        """The gathered currents must be the segments' i_membrane_ (guards against stale pointers)."""
        if not self.record_signals or not self._segs_check:
            return
        self._pv.gather(self._hv)
        got = self._hv.as_numpy()[: len(self._segs_check)]
        want = np.array([s.i_membrane_ for s in self._segs_check])
        if not np.array_equal(got, want):
            raise RuntimeError("PtrVector gather does not match i_membrane_ (stale pointers)")

    def run(self):
        """build + connect + simulate."""
        for phase in ("build", "connect", "simulate"):
            getattr(self, phase)()
            if self.rank == 0:
                log.info("%s: %.2f s", phase, self.timings[phase])
        if self.rank == 0 and "probes" in self.timings:
            log.info("probe mapping (part of simulate): %.2f s", self.timings["probes"])
        return self

    # --- results --------------------------------------------------------------------------

    def local_results(self):
        """This rank's spikes, partial signals and membrane samples (picklable)."""
        out = {
            "spike_time": np.array(self.tvec.as_numpy(), copy=True),
            "spike_unit": np.array(self.idvec.as_numpy(), copy=True).astype(np.int64),
            "sample": {n: (g, self._vbuf[:, off:off + len(g) * self._nseg(n)]) for n, (g, off)
                       in self.sample.items()},
            "timings": dict(self.timings),
            "counts": dict(self.counts),
        }
        if self.record_signals:
            out["signal"] = self.isignal  # int64 fixed point: summed exactly over ranks
        return out

    def _nseg(self, name):
        return len(self.layout.segtables[name]["area"])

    def gather(self):
        """Combine every rank's results on rank 0 (None elsewhere)."""
        parts = self.pc.py_gather(self.local_results(), 0)
        if self.rank != 0:
            return None
        return combine(parts, self)

    def close(self):
        """Release NEURON objects and gids so another network can be built in this process."""
        self.pc.gid_clear()
        self.netcons.clear()
        self.stims.clear()
        self.cells.clear()
        for a in ("_pv", "_vpv", "_hv", "_vhv", "tvec", "idvec"):
            if hasattr(self, a):
                delattr(self, a)


def combine(parts, net):
    """Merge the per-rank results: spikes sorted by (time, gid), fixed-point signals summed
    exactly (int64) and converted to float64, membrane samples ordered by gid."""
    t = np.concatenate([p["spike_time"] for p in parts])
    u = np.concatenate([p["spike_unit"] for p in parts])
    order = np.lexsort((u, t))
    res = {"spike_time": t[order], "spike_unit": u[order]}
    if "signal" in parts[0]:
        from lfpk.recording import to_float

        res["signal"] = {n: to_float(sum(p["signal"][n] for p in parts), net.quanta) for n in net.layout.names}
    res["sample"] = {}
    for n in net.layout.names:
        gids = np.concatenate([p["sample"][n][0] for p in parts])
        nseg = net._nseg(n)
        v = [p["sample"][n][1].reshape(net.n_vt, -1, nseg) for p in parts]
        v = np.concatenate(v, axis=1) if v else np.zeros((net.n_vt, 0, nseg))
        o = np.argsort(gids)
        res["sample"][n] = (gids[o], v[:, o, :])  # (time, cell, segment)
    res["timings_by_rank"] = [p["timings"] for p in parts]
    res["counts"] = {k: int(sum(p["counts"][k] for p in parts)) for k in parts[0]["counts"]}
    return res


# ---------------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------------


def _attrs(net, timings, extra=None):
    from lfpk.io import software_versions, to_json

    a = {
        "dt": net.dt, "tstop": net.tstop, "transient": net.transient, "seed": int(net.seed),
        "dt_units": "ms", "tstop_units": "ms", "transient_units": "ms",
        "population_sizes": to_json(net.layout.sizes),
        "connection_probabilities": to_json({f"{c['pre']}->{c['post']}": c["C"] for c in net.conn.conns}),
        "biophysics": net.biophysics, "lumped": int(net.lump), "n_ranks": net.nhost,
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
        b = np.clip(np.floor(st / net.dt + 1e-6).astype(int), 0, nt - 1)
        np.add.at(counts, (pop_of[su], b), 1)
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
        nsoma = int((net.layout.segtables[p]["section"] == "soma").sum())
        isoma = nsoma // 2
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


def write_outputs(net, res, outdir):
    """Write spikes.nc, membrane.nc, signals.nc to ``outdir``, all three or none (through
    :func:`lfpk.io.atomic_paths`); timings (incl. write) in attrs."""
    from pathlib import Path

    import netCDF4

    from lfpk.io import atomic_paths, check_dataset, dataset_to_netcdf, deferred_signals, to_json

    t0 = time.perf_counter()
    timings = {k: max(t.get(k, 0.0) for t in res["timings_by_rank"]) for k in ("build", "connect", "simulate")}
    dsets = datasets(net, res, timings)
    paths = {name: Path(outdir) / f"{name}.nc" for name in dsets}
    for name, ds in dsets.items():
        check_dataset(ds, paths[name])
    with atomic_paths(list(paths.values())) as tmps:
        for tmp, ds in zip(tmps, dsets.values()):
            dataset_to_netcdf(ds, tmp)
        timings["write"] = time.perf_counter() - t0
        timings["total"] = sum(timings.values())
        with deferred_signals():
            for tmp in tmps:  # record the write phase too (attribute only)
                with netCDF4.Dataset(tmp, "a") as f:
                    f.setncattr("timings", to_json(timings))
    log.info("write: %.2f s (%s)", timings["write"], ", ".join(str(p) for p in paths.values()))
    return paths, timings


def run_network(cfg, outdir, sizes=None, tstop=None, seed=None, scale_probabilities=True,
                lump=True, biophysics="active", membrane_sample=None, pc=None, transient=None):
    """Build, connect, simulate and write one ground-truth run (all ranks call this).

    Returns ``(paths, timings, rates)`` on rank 0 and ``(None, None, None)`` elsewhere.
    """
    import resource

    probs = scaled_probabilities(cfg, sizes) if (sizes and scale_probabilities) else None
    net = Network(cfg, sizes=sizes, probabilities=probs, tstop=tstop, seed=seed, lump=lump,
                  biophysics=biophysics, membrane_sample=membrane_sample, pc=pc, transient=transient)
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
    log.info("synapses %d, NetCons %d, point processes %d, NetStims %d", res["counts"]["synapses"],
             res["counts"]["netcons"], res["counts"]["point_processes"], res["counts"]["netstims"])
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


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _parse_sizes(text):
    if not text:
        return None
    out = {}
    for item in text.split(","):
        k, _, v = item.partition("=")
        try:
            out[k.strip()] = int(v)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected NAME=N[,NAME=N] with integer N, got {text!r}") from None
    return out


def build_parser():
    from lfpk.cli import Parser

    p = Parser(
        prog="lfpk network",
        description="Simulate the ground-truth multicompartment network (run under mpiexec for MPI).",
    )
    p.add_argument("--config", default="config/config.yaml", help="configuration file (YAML)")
    p.add_argument("--outdir", required=True,
                   help="output folder (created if missing) for spikes.nc, signals.nc, membrane.nc")
    p.add_argument("--tstop", type=float, default=None, help="simulated time (ms), overrides simulation.tstop")
    p.add_argument("--transient", type=float, default=None, help="transient (ms), overrides simulation.transient")
    p.add_argument("--population-sizes", type=_parse_sizes, default=None, metavar="E=N,I=M",
                   help="population sizes; connection probabilities are scaled to keep the config's "
                        "in-degrees (capped at 1) unless --keep-probabilities")
    p.add_argument("--keep-probabilities", action="store_true",
                   help="with --population-sizes: keep the config's connection probabilities")
    p.add_argument("--seed", type=int, default=None, help="overrides the config seed")
    p.add_argument("--J", type=float, default=None, help="overrides weight_scaling.J")
    p.add_argument("--biophysics", default="active", choices=["active", "passive", "frozen", "quasi_linear"],
                   help="active (ground truth, default), passive, frozen, quasi_linear")
    p.add_argument("--no-lump", action="store_true", help="one synapse point process per synapse (slow; for checks)")
    p.add_argument("--membrane-sample", type=int, default=None, help="overrides recording.membrane_sample")
    p.add_argument("--mechanisms", default=None, help="folder of the compiled mechanisms (default $LFPK_BUILD_DIR, else the per-user cache; see lfpk.mechanisms)")
    p.add_argument("--log", default=None, help="log file (default: stderr)")
    return p


OUTPUT_FILES = ("spikes.nc", "signals.nc", "membrane.nc")


def checked_config(args):
    """The config of ``args.config`` with the command-line overrides applied, validated.

    Every override is a config key (``--tstop`` simulation.tstop, ``--transient``
    simulation.transient, ``--population-sizes`` populations.<name>.size, ``--seed``, ``--J``
    weight_scaling.J, ``--membrane-sample`` recording.membrane_sample), so the config's rules
    (finite positive tstop, transient < tstop, sizes >= 1, memory estimate) apply to the run as
    given. Raises ``ValueError`` / ``ConfigError`` naming the option or key.
    """
    import copy

    from lfpk.config import ConfigError, load_config, validate_config

    cfg = load_config(args.config)
    run = copy.deepcopy(cfg)
    given = []
    for name, n in (args.population_sizes or {}).items():
        if name not in run["populations"]:
            raise ValueError(f"--population-sizes: population {name!r} is not in {args.config} "
                             f"(populations: {', '.join(run['populations'])})")
        run["populations"][name]["size"] = n
        given.append(f"--population-sizes {name}={n}")
    for opt, keys, value in (("--tstop", ("simulation", "tstop"), args.tstop),
                             ("--transient", ("simulation", "transient"), args.transient),
                             ("--J", ("weight_scaling", "J"), args.J),
                             ("--membrane-sample", ("recording", "membrane_sample"), args.membrane_sample)):
        if value is not None:
            run[keys[0]][keys[1]] = value
            given.append(f"{opt} {value:g}")
    if args.seed is not None:
        run["seed"] = args.seed
        given.append(f"--seed {args.seed}")
    launched = [os.environ.get(k) for k in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE") if os.environ.get(k)]
    run.setdefault("network", {})["tasks"] = int(launched[0]) if launched else 1  # memory per rank
    try:
        validate_config(run)
    except ConfigError as exc:
        raise ConfigError(f"{args.config} with {' '.join(given)}: {exc}" if given else f"{args.config}: {exc}") from None
    return cfg


def _main(argv):
    from lfpk.cli import report_from_every_rank
    from lfpk.io import check_output, output_folder
    from lfpk.logs import log_to
    from lfpk.mechanisms import load

    args = build_parser().parse_args(argv)
    cfg = checked_config(args)  # every rank checks the same input before MPI starts
    output_folder(args.outdir, inputs=[args.config])
    for name in OUTPUT_FILES:
        check_output(os.path.join(args.outdir, name), inputs=[args.config])
    try:
        pc = init_parallel()
    except RuntimeError as exc:  # a launch that cannot work (ranks NEURON and MPI disagree on)
        raise ValueError(f"MPI launch: {exc}") from None
    report_from_every_rank()
    rank = int(pc.id())
    logpath = args.log if rank == 0 else None
    level = logging.INFO if rank == 0 else logging.WARNING
    with log_to(logpath, level=level) as logger:
        load(build_dir=args.mechanisms)
        if args.J is not None:
            cfg["weight_scaling"]["J"] = float(args.J)
        paths, timings, rates = run_network(
            cfg, args.outdir, sizes=args.population_sizes, tstop=args.tstop, seed=args.seed,
            scale_probabilities=not args.keep_probabilities, lump=not args.no_lump,
            biophysics=args.biophysics, membrane_sample=args.membrane_sample, pc=pc,
            transient=args.transient)
        if rank == 0:
            logger.info("done: timings (s) %s", {k: round(v, 2) for k, v in timings.items()})
    pc.barrier()
    pc.done()
    return 0


def main(argv=None):
    """Entry point: ``[mpiexec -n N] python -m lfpk.network --config C --outdir D [options]``
    (also ``lfpk network ...``), inside the CLI's error boundary (:func:`lfpk.cli.run_command`):
    bad input ends in one line and exit status 2."""
    from lfpk.cli import run_command

    return run_command("lfpk network", _main, sys.argv[1:] if argv is None else list(argv))


if __name__ == "__main__":
    raise SystemExit(main())
