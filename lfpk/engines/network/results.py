"""This rank's results (spikes, signals, membrane samples) and their combination over ranks: the
signals by an exact int64 MPI reduction, the rest by ``py_gather`` (:class:`Results`, a part of
:class:`lfpk.engines.network.Network`)."""

from __future__ import annotations

import numpy as np

from lfpk.model.recording import to_float


class Results:
    """This rank's results after :meth:`simulate` and their combination on rank 0."""

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

    def gather(self):
        """Combine every rank's results on rank 0 (None elsewhere): signals by an exact MPI
        reduction (:meth:`reduce_signals`), spikes and membrane samples by ``py_gather``."""
        isignal = self.reduce_signals(0)
        parts = self.pc.py_gather(self.local_results(), 0)
        if self.rank != 0:
            return None
        return combine(parts, self, isignal)


def reduce_exact(arrays, nhost, rank, root=0):
    """Sum int64 arrays over all MPI ranks onto ``root``, in place (one ``MPI_Reduce`` each).

    Integer addition is exact and associative, so the result does not depend on how MPI
    combines the ranks: the signals are bitwise the same for any rank count. Each array must be
    C-contiguous and of the same shape on every rank; on ``root`` it then holds the sum, on the
    other ranks it is unchanged. A single process (``nhost == 1``) returns at once.
    """
    if nhost <= 1:
        return
    # deferred: importing mpi4py starts MPI; only runs on several ranks need it
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
