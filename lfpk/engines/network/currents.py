"""Per-step reading of a NEURON quantity (transmembrane current, membrane potential) of many segments.

:class:`SegmentReader` gathers one range variable of a list of segments into a numpy row every
time step. NEURON (>= 9) stores each node quantity of all nodes in one contiguous array, so the
reader views that array with numpy (addresses from ``lfpk/mod/address.mod``) and gathers it with
one vectorised ``np.take``; a ``PtrVector`` (one data-handle dereference per segment, about 8x
slower at paper scale) is the fallback when the addresses do not lie in one array. The view is
checked against NEURON's data handles (the ``PtrVector``) when it is bound and again by
:meth:`SegmentReader.verify` (the network calls it every block of steps), so a moved storage is an
error, never silently stale values.
"""

from __future__ import annotations

import ctypes
from contextlib import contextmanager
from pathlib import Path

import numpy as np

#: Size (bytes) of a NEURON double.
_DOUBLE = 8
#: Largest span (elements) of node storage viewed from numpy (64 GB of doubles): guards against
#: addresses that are not from one array.
_MAX_SPAN = 2**33
#: Segments compared with NEURON's data handles at every :meth:`SegmentReader.verify`.
VERIFY_SAMPLE = 64
#: (get, set) thread-count functions of OpenBLAS builds: plain, and the scipy-openblas wheels' names.
BLAS_THREAD_FUNCTIONS = (("openblas_get_num_threads", "openblas_set_num_threads"),
                         ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                         ("openblas_get_num_threads64_", "openblas_set_num_threads64_"))


def _loaded_openblas():
    """(get, set) thread-count functions of every OpenBLAS library loaded in this process (Linux:
    the mapped files of ``/proc/self/maps``; elsewhere none)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return []
    paths = sorted({line.split()[-1] for line in maps.read_text().splitlines()
                    if "openblas" in line.lower() and line.split()[-1].startswith("/")})
    out = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get, put in BLAS_THREAD_FUNCTIONS:
            if hasattr(lib, get) and hasattr(lib, put):
                f_get, f_set = getattr(lib, get), getattr(lib, put)
                f_get.restype, f_set.argtypes = ctypes.c_int, [ctypes.c_int]
                out.append((f_get, f_set))
                break
    return out


@contextmanager
def single_threaded_blas():
    """Run the block with one OpenBLAS thread in this process, the previous counts restored after.

    Each MPI rank of the network has its core; OpenBLAS's default of one thread per core would
    make the ranks' probe products (:func:`lfpk.model.recording.cell_sums`) compete for the cores,
    and its idle threads spin for a while after each product. The thread count does not change a
    product's result (OpenBLAS splits rows and columns among threads, never a sum).
    """
    libs = _loaded_openblas()
    before = [f_get() for f_get, _ in libs]
    for _, f_set in libs:
        f_set(1)
    try:
        yield
    finally:
        for (_, f_set), n in zip(libs, before):
            f_set(n)


class SegmentReader:
    """Read ``variable`` (e.g. ``"i_membrane_"`` in nA, ``"v"`` in mV) of ``segments`` each step.

    Parameters
    ----------
    segments : list of nrn.Segment
        In output order.
    variable : str
        Range variable with a ``_ref_`` pointer on every segment.

    Call :meth:`bind` after ``finitialize`` (NEURON sorts its storage there) and before the first
    :meth:`read`; building or deleting any section, mechanism or point process afterwards moves
    the storage and needs another :meth:`bind`.
    """

    def __init__(self, segments, variable):
        from neuron import h  # deferred: importing NEURON starts its interpreter

        self.h = h
        self.segments = list(segments)
        self.variable = variable
        self.n = len(self.segments)
        self._pv = h.PtrVector(max(1, self.n))
        for i, seg in enumerate(self.segments):
            self._pv.pset(i, getattr(seg, f"_ref_{variable}"))
        self._hv = h.Vector(max(1, self.n))
        self._hv_np = self._hv.as_numpy()  # once: NEURON 9.0 leaks a memoryview per as_numpy() call
        # created now, before finitialize: a point process created after it makes NEURON re-sort
        # all its storage at the next run (a one-off cost of about 0.3 s per 1000 cells)
        self._address = h.LfpkAddress() if hasattr(h, "LfpkAddress") else None
        self._view = None
        self._index = None
        self.mode = "unbound"

    def _handles(self):
        """Values through NEURON's data handles (the PtrVector)."""
        self._pv.gather(self._hv)
        return self._hv_np[: self.n]

    def bind(self):
        """Locate the values in NEURON's storage; view it from numpy if they lie in one array.

        Returns the mode, ``"view"`` (numpy gather) or ``"handles"`` (PtrVector fallback).
        """
        h = self.h
        self._view = self._index = None
        self.mode = "handles"
        if self.n and self._address is not None:
            addr = np.array([self._address.address(getattr(s, f"_ref_{self.variable}")) for s in self.segments])
            base = addr.min()
            off = addr - base
            span = int(off.max()) // _DOUBLE + 1
            if np.all(off % _DOUBLE == 0) and span <= _MAX_SPAN:
                view = np.ctypeslib.as_array((ctypes.c_double * span).from_address(int(base)))
                index = (off // _DOUBLE).astype(np.intp)
                if np.array_equal(view[index], self._handles()):
                    self._view, self._index = view, index
                    self.mode = "view"
        if self.mode == "view":  # the segments compared at every verify(), with their own handles
            rows = np.unique(np.linspace(0, self.n - 1, min(self.n, VERIFY_SAMPLE)).astype(np.intp))
            self._probe_index = self._index[rows]
            self._probe_pv = h.PtrVector(len(rows))
            for i, k in enumerate(rows):
                self._probe_pv.pset(i, getattr(self.segments[k], f"_ref_{self.variable}"))
            self._probe_hv = h.Vector(len(rows))
            self._probe_np = self._probe_hv.as_numpy()
        return self.mode

    def read(self, out):
        """Current values into ``out`` (float64, at least ``len(segments)``)."""
        if self.mode == "view":
            np.take(self._view, self._index, out=out[: self.n])
        elif self.mode == "handles":
            out[: self.n] = self._handles()
        else:
            raise RuntimeError("SegmentReader.read before bind()")
        return out

    def verify(self):
        """Raise ``RuntimeError`` if the numpy view no longer shows NEURON's values (moved storage)."""
        if self.mode != "view" or not self.n:
            return
        self._probe_pv.gather(self._probe_hv)
        if not np.array_equal(self._view[self._probe_index], self._probe_np):
            raise RuntimeError(f"the view of NEURON's {self.variable} storage is stale (the model "
                               "changed during the run: sections, mechanisms or point processes "
                               "were created or deleted)")

    def close(self):
        """Drop the view (before NEURON objects are freed)."""
        self._view = self._index = self._probe_pv = self._address = None
        self.mode = "unbound"
