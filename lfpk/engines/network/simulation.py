"""The ground-truth network on this process's share of the cells (build, connect, record, simulate)."""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass

import numpy as np

from lfpk.model.connectivity import Connectivity, extrinsic_counts, place_cells, synapse_type
from lfpk.engines.network.currents import SegmentReader
from lfpk.base.errors import Stopped
from lfpk.base.io import deferred_signals, raise_deferred

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
#: Order-independent point process used for each synapse model of the config (conductance based
#: ``Exp2Syn`` and current based ``Exp2SynI``, the latter for the hybrid scheme's replay).
SUMMING_MODELS = {"Exp2Syn": "Exp2SynSum", "Exp2SynI": "Exp2SynISum"}
#: Synapse models without a reversal potential.
CURRENT_MODELS = ("Exp2SynI",)
#: ways of delivering the extrinsic Poisson drive (:meth:`Network._drive`)
EXTRINSIC_DRIVES = ("mechanism", "netstim")


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
        Membrane form (:data:`lfpk.model.biophysics.FORMS`; ``active`` is the ground truth).
    record_signals : bool
        Map transmembrane currents to the probes.
    membrane_sample : int, optional
        Cells per population with recorded membrane potentials (default
        ``recording.membrane_sample``).
    pc : ParallelContext, optional
        From :func:`init_parallel` (default ``h.ParallelContext()``).
    extrinsic_drive : {"mechanism", "netstim"}
        Extrinsic Poisson drive drawn inside the lumped synapse (default; no event-queue
        traffic) or by one NetStim + NetCon per segment (the former implementation, kept for
        benchmarks and checks). The same Random123 streams give the same trains, bitwise.
    """

    def __init__(self, cfg, sizes=None, probabilities=None, tstop=None, seed=None, lump=True,
                 biophysics="active", record_signals=True, membrane_sample=None, pc=None,
                 block=DEFAULT_BLOCK, transient=None, extrinsic_drive="mechanism"):
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
        self.counts = {"netcons": 0, "synapses": 0, "point_processes": 0, "netstims": 0, "drives": 0}
        if extrinsic_drive not in EXTRINSIC_DRIVES:
            raise ValueError(f"extrinsic_drive: expected one of {', '.join(EXTRINSIC_DRIVES)}, got {extrinsic_drive!r}")
        self.extrinsic_drive = extrinsic_drive
        self._callback = None
        self._built = self._connected = self._simulated = False
        self._streaming, self._sink = False, None

    # --- construction ---------------------------------------------------------------------

    def _biophysics_kwargs(self):
        if self.biophysics == "active":
            return {}
        k = self.cfg.get("kernel", {})
        return {"V_rest": float(k.get("V_rest", -65.0)), "passive_g_pas": k.get("passive_g_pas", 3e-4)}

    def _linear_parameters(self, pop, V_rest):
        """Frozen / quasi-linear parameters of a population's cell (measured once per population)."""
        from lfpk.model import biophysics

        if self.biophysics not in ("frozen", "quasi_linear"):
            return None
        model = self.layout.model
        return biophysics.measure(pop.morphology, pop.cell_biophysics, V_rest, self.biophysics, self.celsius,
                                  model.mod_dirs, model.quasi_linear)

    def build(self):
        """Create the local cells, their spike detectors and extrinsic Poisson drive."""
        h, pc, t0 = self.h, self.pc, time.perf_counter()
        pc.gid_clear()
        h.celsius = self.celsius
        model = self.layout.model
        bkw = self._biophysics_kwargs()
        linear = {n: self._linear_parameters(model.populations[n], bkw.get("V_rest")) for n in self.layout.names}
        seed32 = self.seed % (2**32)
        self.tvec, self.idvec = h.Vector(), h.Vector()
        for gid in self.local_gids:
            pop = self.layout.population(gid)
            population = model.populations[pop]
            x, y, z = self.layout.positions[gid]
            secs = population.morphology.build(prefix=f"{pop}_{gid}", x_offset=x, y_offset=y, z_offset=z,
                                               angle_z=float(self.layout.angles[gid]))
            self._membrane(gid, population, secs, linear[pop], bkw)
            cell = _Cell(gid, pop, secs, secs.segments, {})
            self._spike_output(gid, secs)
            self.cells[gid] = cell
            # extrinsic Poisson drive: one source per segment at the summed rate
            ext = population.extrinsic
            counts = extrinsic_counts(self.layout, gid, ext["count"])
            if not self._extrinsic_on():
                continue
            key, w = self._extrinsic_synapse(population)
            for iseg in np.flatnonzero(counts):
                syn = self._synapse(cell, int(iseg), key, ("ext",) if not self.lump else ())
                self._drive(syn, counts[iseg] * float(ext["rate"]), (gid, int(iseg), seed32), w)
        pc.spike_record(-1, self.tvec, self.idvec)
        self.timings["build"] = time.perf_counter() - t0
        self._built = True
        return self

    def _drive(self, syn, rate, ids, weight):
        """Poisson arrivals at ``rate`` (1/s) of ``weight`` (uS) on ``syn`` from Random123 stream ``ids``.

        With ``extrinsic_drive="mechanism"`` the synapse draws the train itself (``Exp2SynSum``'s
        built-in drive, no event-queue traffic); otherwise, or for a synapse model without a
        built-in drive, a NetStim (:func:`poisson_source`) and a NetCon deliver it. Both give the
        same train from the same stream, bitwise (tests/test_network.py).
        """
        if self.extrinsic_drive == "mechanism" and hasattr(syn, "drive_interval"):
            if syn.drive_interval > 0:
                raise RuntimeError("a lumped synapse received two extrinsic drives")
            syn.drive_interval = 1000.0 / float(rate)
            syn.drive_weight = weight
            syn.drive_stream.set_ids(*(int(i) for i in ids))
            self.counts["drives"] += 1
            return
        h = self.h
        stim = poisson_source(rate, ids)
        enc = h.NetCon(stim, syn)
        enc.weight[0] = weight
        enc.delay = 0.0
        self.stims.append(stim)
        self.netcons.append(enc)
        self.counts["netstims"] += 1

    # Steps of build/connect/simulate that the hybrid scheme's replay mode
    # (:class:`lfpk.engines.network.replay.ReplayNetwork`) replaces; here those of the ground truth.

    def _membrane(self, gid, population, secs, linear, bkw):
        """Give cell ``gid`` its membrane (the config's biophysics in ``self.biophysics`` form)."""
        from lfpk.model import biophysics

        biophysics.apply(self.biophysics, secs, population.cell_biophysics, linear=linear, **bkw)

    def _spike_output(self, gid, secs):
        """Register ``gid`` on this rank with a spike detector at the soma centre."""
        h, pc = self.h, self.pc
        pc.set_gid2node(gid, self.rank)
        soma = secs.soma  # the segment at the soma centre
        nc = h.NetCon(soma._ref_v, None, sec=soma.sec)
        nc.threshold = self.spike_threshold
        pc.cell(gid, nc)

    def _extrinsic_on(self):
        """Whether cells receive the extrinsic Poisson drive."""
        return True

    def _extrinsic_synapse(self, population):
        """Synapse type key and (quantised) weight of a population's extrinsic drive."""
        ext = population.extrinsic
        return synapse_type(ext["synapse"]), float(quantise_weights(float(ext["synapse"]["weight"])))

    def _incoming(self, gid):
        """Synapses onto cell ``gid`` (:meth:`lfpk.model.connectivity.Connectivity.incoming`)."""
        return self.conn.incoming(gid)

    def _synapse_types(self):
        """Synapse type key of every connection (config order)."""
        return [synapse_type(c["synapse"]) for c in self.cfg["connections"]]

    def _weights(self, gid, inc):
        """NetCon weights of the synapses ``inc`` onto ``gid``: conductances (uS) quantised to
        :data:`WEIGHT_QUANTUM`."""
        return quantise_weights(inc.weight)

    def _initialise(self):
        """``finitialize`` at ``simulation.v_init`` (the replay sets every segment to its V_rest)."""
        self.h.finitialize(self.v_init)
        self.h.fcurrent()

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
        syn.tau1, syn.tau2 = tau1, tau2
        if model not in CURRENT_MODELS:
            syn.e = e
        self.counts["point_processes"] += 1
        if self.lump or tag:
            cell.synapses[k] = syn
        else:
            cell.synapses[(iseg, key, len(cell.synapses))] = syn
        return syn

    def connect(self):
        """Create every local cell's incoming synapses (NetCons from presynaptic gids)."""
        pc, t0 = self.pc, time.perf_counter()
        types = self._synapse_types()
        for gid in self.local_gids:
            cell = self.cells[gid]
            inc = self._incoming(gid)
            for pre, seg, d, w, ci in zip(inc.pre.tolist(), inc.segment.tolist(), inc.delay.tolist(),
                                          self._weights(gid, inc).tolist(), inc.connection.tolist()):
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
        from lfpk.model import segment_positions
        from lfpk.model.recording import cell_matrices, probe_matrix, probe_settings, row_quanta

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
                x, y, z = segment_positions(st, self.layout.positions[gid], float(self.layout.angles[gid]))
                xs.append(x)
                ys.append(y)
                zs.append(z)
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
            # int64 fixed point (quanta of lfpk.model.recording.QUANTA); self.signal (float) after the run
            self._allocate_signals(nrow, nt)
            self._currents = SegmentReader(segs, "i_membrane_")
            self._buf = np.zeros((self.block, max(1, len(segs))))
            self._base = 0  # index of the buffered block's first time step
            self._nbuf = 0  # time steps in the buffer
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
        self._voltages = SegmentReader(vsegs, "v")
        self._n_vsegs = len(vsegs)

    def _flush(self):
        j = self._nbuf
        if j == 0:
            return
        from lfpk.model.recording import cell_sums

        t0 = time.perf_counter()
        off = 0 if self._streaming else self._base  # streaming: the arrays hold one block
        self._currents.verify()
        for name in self.names:
            sl, Mt = self.blocks[name]
            if Mt.shape[2]:
                cell_sums(Mt, self._buf[:j, sl], self.quanta, self.isignal[name][:, off:off + j])
        self.timings["probes"] = self.timings.get("probes", 0.0) + time.perf_counter() - t0
        if self._streaming:
            self._emit(j)
        self._base += j
        self._nbuf = 0

    def stream_signals(self, sink=None):
        """Hand the signals over block by block during :meth:`simulate` instead of keeping them.

        Every rank must call this before :meth:`simulate` (the blocks are summed over ranks by a
        collective MPI reduction at every flush, :func:`reduce_exact`). After each block of
        :attr:`block` time steps, ``sink(start, blocks)`` is called on rank 0 with ``start`` the
        index of the block's first time step and ``blocks`` ``{population: int64 rows x steps}``
        (fixed point, :func:`lfpk.model.recording.to_float` with :attr:`quanta`), summed over all ranks;
        ``sink`` is ignored on the other ranks. No rank then holds more than one block of
        signals (:attr:`signal` and :meth:`reduce_signals` have nothing to return), whatever the
        simulated time: the path of the command line and the workflow
        (:func:`lfpk.engines.network.run_network`); without it the full-length signals stay in memory
        (library use, tests).
        """
        if self._simulated:
            raise RuntimeError("stream_signals: call it before simulate()")
        self._streaming = True
        self._sink = sink if self.rank == 0 else None
        return self

    def _allocate_signals(self, nrow, nt):
        """int64 fixed-point signal arrays (quanta of :mod:`lfpk.model.recording`): ``{population: rows
        x time}``, of every time step, or of one block when streaming (one contiguous array
        ``self._iblock`` (population, rows, block) so a flush reduces it in one call)."""
        if self._streaming:
            self._iblock = np.zeros((len(self.names), nrow, self.block), dtype=np.int64)
            self.isignal = dict(zip(self.names, self._iblock))
        else:
            self.isignal = {n: np.zeros((nrow, nt), dtype=np.int64) for n in self.names}

    def _emit(self, j):
        """Streaming: sum the block's first ``j`` steps over ranks onto rank 0, hand them to the
        sink there, and clear the block (all ranks call this at the same steps)."""
        t0 = time.perf_counter()
        reduce_exact([self._iblock], self.nhost, self.rank, root=0)
        if self._sink is not None:
            self._sink(self._base, {n: a[:, :j] for n, a in self.isignal.items()})
        self._iblock[...] = 0
        self.timings["stream"] = self.timings.get("stream", 0.0) + time.perf_counter() - t0

    def _gather(self, idx):
        if self.record_signals:
            j = idx - self._base
            if j >= self.block:
                self._flush()
                j = idx - self._base
            self._currents.read(self._buf[j])
            self._nbuf = j + 1
        if self._n_vsegs and idx % self.membrane_every == 0:
            self._voltages.read(self._vbuf[idx // self.membrane_every])

    def _step_callback(self):
        # called after every fixed step (h.t is not updated inside pc.psolve, so count the steps)
        try:
            raise_deferred()  # SIGINT / SIGTERM received during this step (deferred by _psolve)
            self._step += 1
            if self.nhost > 1 and self._step % self.block == 0 and self._stop_vote():
                return  # every rank stops here, before the collective reduction of a flush
            if self._failure is None:
                self._gather(self._step)
        except BaseException as exc:
            # NEURON would report an exception as an error of its own (a single process) or abort
            # every rank without clean-up (MPI): keep it, and under MPI carry on without recording
            # until all ranks stop together at the next vote
            self._failure = exc
            if self.nhost == 1:
                raise

    def _stop_vote(self):
        """Whether any rank failed or was interrupted (a collective every :attr:`block` steps, at
        the steps where a flush reduces the signals over ranks); if so, stop ``psolve`` here."""
        failed = int(self._failure is not None)
        if self.pc.allreduce(failed, 2) > 0:  # 2: maximum over ranks
            self._stopped = True
            self.h.stoprun = 1
        return self._stopped

    def _psolve(self, t):
        """``pc.psolve(t)``; an exception of the step callback (a failing write of a streamed
        block, :class:`lfpk.base.io.Interrupted` of SIGINT / SIGTERM) is re-raised as itself.

        SIGINT / SIGTERM are deferred to the next step's callback (:func:`lfpk.base.io.deferred_signals`),
        so they interrupt the run within one time step (MPI: within :attr:`block` steps, when
        all ranks agree to stop, :meth:`_stop_vote`) and never inside NEURON's or the netCDF
        library's C code. Under MPI the ranks without a failure of their own raise
        :class:`lfpk.base.errors.Stopped` (rank 0 removes its temporary outputs either way).
        """
        try:
            with deferred_signals():
                self.pc.psolve(t)
        except RuntimeError:
            if self._failure is not None:
                raise self._failure from None
            raise
        finally:
            self.h.stoprun = 0
        if self._failure is not None:
            raise self._failure
        if self._stopped:
            raise Stopped(f"at step {self._step}, because another rank failed or was interrupted (rank 0 "
                          "reports why)")

    # --- simulation -----------------------------------------------------------------------

    def simulate(self):
        """Initialise and run to ``tstop``, logging progress every 5 % of the run."""
        h, pc = self.h, self.pc
        t0 = time.perf_counter()
        c0 = time.process_time()
        # Free unreachable NEURON objects of earlier models in this process now, and keep the
        # garbage collector off while simulating: deleting sections mid-run changes NEURON's
        # node arrays under the readers of i_membrane_ and v (lfpk.engines.network.currents).
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
            self._initialise()
            self._step = 0
            self._failure, self._stopped = None, False
            self._bind_readers()
            self._gather(0)
            w0, c1 = time.perf_counter(), time.process_time()
            for k in range(1, PROGRESS_CHUNKS + 1):
                self._psolve(self.tstop * k / PROGRESS_CHUNKS)
                if self.rank == 0:
                    wall = time.perf_counter() - t0
                    log.info("simulated %.1f / %.1f ms (%3.0f %%), wall %.1f s (%.3g s per simulated s)",
                             h.t, self.tstop, 100.0 * k / PROGRESS_CHUNKS, wall,
                             wall / max(h.t, 1e-9) * 1000.0)
            # the time steps alone (without the set-up of the recording), wall and this rank's CPU
            self.timings["integrate"] = time.perf_counter() - w0
            self.timings["integrate_cpu"] = time.process_time() - c1
            if self._step != self.nstep:
                raise RuntimeError(f"ran {self._step} steps, expected {self.nstep}")
            if self.record_signals:
                self._flush()
                if self._base != self.nstep + 1:
                    raise RuntimeError(f"{self.nstep + 1 - self._base} time steps were not recorded")
        finally:
            cvode.extra_scatter_gather_remove(self._callback)
            if gc_enabled:
                gc.enable()
        self.timings["simulate"] = time.perf_counter() - t0
        self.timings["simulate_cpu"] = time.process_time() - c0  # CPU seconds of this rank
        # NEURON's own accounting of this rank's run (s): integration incl. event delivery, MPI
        # spike exchange, waiting for other ranks
        for k in ("step_time", "send_time", "wait_time", "event_time"):
            self.timings[f"neuron_{k}"] = float(getattr(pc, k)())
        self._simulated = True
        return self

    def _bind_readers(self):
        """Locate the recorded currents and potentials in NEURON's storage (after
        ``finitialize``, which sorts it); :class:`lfpk.engines.network.currents.SegmentReader` checks its
        view against NEURON's data handles here and at every block."""
        modes = {}
        if self.record_signals:
            modes["i_membrane_"] = self._currents.bind()
        if self._n_vsegs:
            modes["v"] = self._voltages.bind()
        self.reader_modes = modes
        if self.rank == 0:
            log.info("per-step reading: %s", ", ".join(f"{k} by {v}" for k, v in modes.items()) or "none")

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
        return out

    @property
    def signal(self):
        """This rank's partial signals (float64, signal units; population -> rows x time)."""
        from lfpk.model.recording import to_float

        if self._streaming:
            raise RuntimeError("the signals were streamed (Network.stream_signals) and are not kept in memory")
        return {n: to_float(v, self.quanta) for n, v in self.isignal.items()}

    def reduce_signals(self, root=0):
        """Sum the ranks' int64 fixed-point signals onto rank ``root`` by an MPI reduction.

        Integer sums are exact and do not depend on the order in which MPI combines the ranks,
        so the total is bitwise the same for any rank count. The reduction runs in place, one
        signal row (time series) at a time, so no rank holds more than its own signals plus one
        row: the memory per rank does not grow with the rank count (the former ``py_gather`` put
        every rank's full-length signals on rank 0). Returns ``{population: int64 rows x time}``
        on ``root`` and None elsewhere; the other ranks' arrays are released. None with
        :meth:`stream_signals` (the blocks were reduced, by the same :func:`reduce_exact`, as
        the run went).
        """
        if not self.record_signals or self._streaming:
            return None
        if self.nhost > 1:
            reduce_exact([a[r] for a in self.isignal.values() for r in range(a.shape[0])], self.nhost, self.rank,
                         root)
            if self.rank != root:
                self.isignal = {n: a[:, :0] for n, a in self.isignal.items()}
                return None
        return self.isignal

    def _nseg(self, name):
        return len(self.layout.segtables[name]["area"])

    def gather(self):
        """Combine every rank's results on rank 0 (None elsewhere): signals by an exact MPI
        reduction (:meth:`reduce_signals`), spikes and membrane samples by ``py_gather``."""
        isignal = self.reduce_signals(0)
        parts = self.pc.py_gather(self.local_results(), 0)
        if self.rank != 0:
            return None
        return combine(parts, self, isignal)

    def close(self):
        """Release NEURON objects and gids so another network can be built in this process."""
        self.pc.gid_clear()
        self.netcons.clear()
        self.stims.clear()
        self.cells.clear()
        for a in ("_currents", "_voltages"):
            if hasattr(self, a):
                getattr(self, a).close()
        for a in ("_currents", "_voltages", "tvec", "idvec"):
            if hasattr(self, a):
                delattr(self, a)
def reduce_exact(arrays, nhost, rank, root=0):
    """Sum int64 arrays over all MPI ranks onto ``root``, in place (one ``MPI_Reduce`` each).

    Integer addition is exact and associative, so the result does not depend on how MPI
    combines the ranks: the signals are bitwise the same for any rank count. Each array must be
    C-contiguous and of the same shape on every rank; on ``root`` it then holds the sum, on the
    other ranks it is unchanged. A single process (``nhost == 1``) returns at once.
    """
    if nhost <= 1:
        return
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    for a in arrays:
        if not a.flags.c_contiguous or a.dtype != np.int64:
            raise ValueError("reduce_exact: expected C-contiguous int64 arrays")
        if rank == root:
            comm.Reduce(MPI.IN_PLACE, a, op=MPI.SUM, root=root)
        else:
            comm.Reduce(a, None, op=MPI.SUM, root=root)


def combine(parts, net, isignal=None):
    """Merge the per-rank results: spikes sorted by (time, gid), membrane samples ordered by
    gid, and the fixed-point signals ``isignal`` (int64, already summed over ranks by
    :meth:`Network.reduce_signals`) converted to float64."""
    t = np.concatenate([p["spike_time"] for p in parts])
    u = np.concatenate([p["spike_unit"] for p in parts])
    order = np.lexsort((u, t))
    res = {"spike_time": t[order], "spike_unit": u[order]}
    if isignal is not None:
        from lfpk.model.recording import to_float

        res["signal"] = {n: to_float(isignal[n], net.quanta) for n in net.layout.names}
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


