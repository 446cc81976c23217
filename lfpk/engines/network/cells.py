"""Building the network's cells on this rank: morphology and membrane, spike detector, extrinsic
Poisson drive and the (lumped, order-independent) synapse point processes (:class:`CellBuilder`, a
part of :class:`lfpk.engines.network.Network`)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lfpk.model import biophysics
from lfpk.model.connectivity import extrinsic_counts, synapse_type

#: Spike detection threshold on the somatic potential (mV), as LFPy's NetworkCell.
DEFAULT_SPIKE_THRESHOLD = -10.0
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
    from neuron import h  # deferred: importing NEURON starts its interpreter

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


class CellBuilder:
    """Creating the local cells (:meth:`build`) and their synapses (:meth:`_synapse`).

    The hybrid scheme's :class:`lfpk.engines.network.replay.ReplayNetwork` replaces the steps
    :meth:`_biophysics_kwargs`, :meth:`_linear_parameters`, :meth:`_membrane`,
    :meth:`_spike_output`, :meth:`_extrinsic_on` and :meth:`_extrinsic_synapse`; here those of the
    ground truth.
    """

    def _biophysics_kwargs(self):
        if self.biophysics == "active":
            return {}
        k = self.cfg.get("kernel", {})
        return {"V_rest": float(k.get("V_rest", -65.0)), "passive_g_pas": k.get("passive_g_pas", 3e-4)}

    def _linear_parameters(self, pop, V_rest):
        """Frozen / quasi-linear parameters of a cell type's cell (measured once per type)."""
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
        linear = {(n, t.index): self._linear_parameters(t, bkw.get("V_rest"))
                  for n in self.layout.names for t in model.populations[n].cell_types}
        seed32 = self.seed % (2**32)
        self.tvec, self.idvec = h.Vector(), h.Vector()
        for gid in self.local_gids:
            pop = self.layout.population(gid)
            population = model.populations[pop]
            ctype = self.layout.cell_type(gid)  # the gid's cell type: morphology, rotation, biophysics
            x, y, z = self.layout.positions[gid]
            secs = ctype.morphology.build(prefix=f"{pop}_{gid}", x_offset=x, y_offset=y, z_offset=z,
                                          angle_z=float(self.layout.angles[gid]), angle_x=self.layout.angle_x(gid))
            self._membrane(gid, ctype, secs, linear[(pop, ctype.index)], bkw)
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

    def _membrane(self, gid, population, secs, linear, bkw):
        """Give cell ``gid`` its membrane (the config's biophysics in ``self.biophysics`` form)."""
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
