"""Connecting the network on this rank: every local cell's incoming synapses as NetCons from the
presynaptic gids, with quantised weights and their delays (:class:`Wiring`, a part of
:class:`lfpk.engines.network.Network`)."""

from __future__ import annotations

import time

from lfpk.engines.network.cells import quantise_weights
from lfpk.model.connectivity import synapse_type


class Wiring:
    """Creating the synapses onto the local cells (:meth:`connect`); the hybrid scheme's replay
    replaces :meth:`_incoming`, :meth:`_synapse_types` and :meth:`_weights`."""

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
