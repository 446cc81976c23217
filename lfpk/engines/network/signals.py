"""Recording on this rank: transmembrane currents read after every time step, mapped to the probes
every block of steps in int64 fixed point (kept in memory, or reduced over ranks and handed to a
sink block by block), and the membrane potentials of the sampled cells (:class:`Recorder`, a part
of :class:`lfpk.engines.network.Network`)."""

from __future__ import annotations

import logging
import time

import numpy as np

from lfpk.engines.network.currents import SegmentReader
from lfpk.engines.network.results import reduce_exact
from lfpk.model import segment_positions
from lfpk.model.recording import (
    cell_matrices,
    cell_sums,
    probe_matrix,
    probe_settings,
    row_quanta,
    to_float,
)

log = logging.getLogger("lfpk.network")


class Recorder:
    """Probe signals and membrane potential samples of the local cells during :meth:`simulate`."""

    def _setup_recording(self):
        self.names = self.layout.names
        # local cells grouped by population and cell type (gid order within), one block of cells of
        # one segment count each
        segs, self.blocks = [], {}
        types = self.layout.type_of
        for name in self.names:
            self.blocks[name] = []
            for t, ctype in enumerate(self.layout.model.populations[name].cell_types):
                start = len(segs)
                xs, ys, zs, ds = [], [], [], []
                st = ctype.segments
                for gid in self.local_gids:
                    if self.layout.population(gid) != name or (types is not None and types[gid] != t):
                        continue
                    segs += self.cells[gid].segments
                    x, y, z = segment_positions(st, self.layout.positions[gid], float(self.layout.angles[gid]),
                                                self.layout.angle_x(gid))
                    xs.append(x)
                    ys.append(y)
                    zs.append(z)
                    ds.append(st["diam"])
                block = slice(start, len(segs))
                if self.record_signals:
                    cat = (lambda a, shape: np.concatenate(a) if a else np.zeros(shape))
                    M, self.rows = probe_matrix(cat(xs, (0, 2)), cat(ys, (0, 2)), cat(zs, (0, 2)),
                                                cat(ds, (0,)), probe_settings(self.cfg))
                    block = (block, cell_matrices(M, ctype.n_segments))
                self.blocks[name].append(block)
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
        # membrane potential sample: first `membrane_sample` gids of each population (of its first
        # cell type: the per-segment medians are of one cell)
        self.sample = {}
        vsegs = []
        for name in self.names:
            gids = self.layout.gids(name)
            if types is not None:
                gids = gids[types[gids] == 0]
            gids = gids[: self.membrane_sample]
            local = [g for g in gids if g % self.nhost == self.rank]
            self.sample[name] = (np.array(local, dtype=int), len(vsegs))
            for g in local:
                vsegs += self.cells[g].segments
        self.n_vt = self.nstep // self.membrane_every + 1
        self._vbuf = np.zeros((self.n_vt, len(vsegs)))
        self._voltages = SegmentReader(vsegs, "v")
        self._n_vsegs = len(vsegs)

    def _allocate_signals(self, nrow, nt):
        """int64 fixed-point signal arrays (quanta of :mod:`lfpk.model.recording`): ``{population: rows
        x time}``, of every time step, or of one block when streaming (one contiguous array
        ``self._iblock`` (population, rows, block) so a flush reduces it in one call)."""
        if self._streaming:
            self._iblock = np.zeros((len(self.names), nrow, self.block), dtype=np.int64)
            self.isignal = dict(zip(self.names, self._iblock))
        else:
            self.isignal = {n: np.zeros((nrow, nt), dtype=np.int64) for n in self.names}

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

    def _flush(self):
        j = self._nbuf
        if j == 0:
            return
        t0 = time.perf_counter()
        off = 0 if self._streaming else self._base  # streaming: the arrays hold one block
        self._currents.verify()
        for name in self.names:
            for sl, Mc in self.blocks[name]:
                if Mc.shape[0]:
                    cell_sums(Mc, self._buf[:j, sl], self.quanta, self.isignal[name][:, off:off + j])
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

    def _emit(self, j):
        """Streaming: sum the block's first ``j`` steps over ranks onto rank 0, hand them to the
        sink there, and clear the block (all ranks call this at the same steps)."""
        t0 = time.perf_counter()
        reduce_exact([self._iblock], self.nhost, self.rank, root=0)
        if self._sink is not None:
            self._sink(self._base, {n: a[:, :j] for n, a in self.isignal.items()})
        self._iblock[...] = 0
        self.timings["stream"] = self.timings.get("stream", 0.0) + time.perf_counter() - t0

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

    @property
    def signal(self):
        """This rank's partial signals (float64, signal units; population -> rows x time)."""
        if self._streaming:
            raise RuntimeError("the signals were streamed (Network.stream_signals) and are not kept in memory")
        return {n: to_float(v, self.quanta) for n, v in self.isignal.items()}

    def _nseg(self, name):
        return len(self.layout.segtables[name]["area"])
