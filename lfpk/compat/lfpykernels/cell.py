"""The representative cell of ``KernelApprox``: an LFPy template cell built as LFPykernels builds it,
kept between calls, and its response to one synchronous activation of all synapses.

Building: ``LFPy.TemplateCell(**cellParameters, dt=dt, tstop=t_X + tau)`` (template file and
name, template arguments, morphology, ``custom_fun`` with ``custom_fun_args`` and every other LFPy
cell parameter), then ``set_rotation(**rotationParameters)`` and ``set_pos(z=loc)``, all by LFPy
itself. One difference: LFPykernels forces ``delete_sections=True``, which deletes every NEURON
section of the process; here the cell is built with ``delete_sections=False`` so it survives
between calls (other cells of the process are left alone and cost only their simulation time).

Simulating: LFPykernels simulates with fixed steps from ``t = 0`` (membrane at ``v_init``) to
``t_X + tau`` and keeps the samples around ``t_X``. Here the input-free start ``[0, t_X - tau]`` is
integrated by NEURON's variable-step method (CVODE, tight tolerances) and ``[t_X, t_X + tau]``
with fixed steps ``dt`` exactly as LFPy does; the input-free samples before ``t_X`` (which
LFPykernels uses only through the delay convolution) are the value at ``t_X``. That is exact when the
cell has settled by ``t_X - tau``; :meth:`RepresentativeCell.respond` checks it (the input-free
current may not change by more than :data:`SETTLED` of the response's peak over ``[t_X - tau,
t_X)``) and otherwise repeats the run with fixed steps from 0, as LFPykernels does; so does a cell
with a mechanism CVODE refuses (e.g. lfpk's ``Ih``).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from lfpk.base import mechanisms

#: Largest drift (relative to the response's peak) of the input-free current over [t_X - tau, t_X).
SETTLED = 1e-6
#: CVODE tolerances of the input-free start (mV and relative).
CVODE_ATOL, CVODE_RTOL = 1e-9, 1e-9


def freeze(value):
    """Hashable fingerprint of a parameter structure (functions by identity, files with mtime)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), freeze(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(freeze(v) for v in value))
    if isinstance(value, np.ndarray):
        return ("ndarray", value.shape, value.dtype.str, value.tobytes())
    if isinstance(value, str):
        if os.path.isfile(value):
            st = os.stat(value)
            return ("file", value, st.st_mtime_ns, st.st_size)
        return value
    if value is None or isinstance(value, (bool, int, float, complex, np.number)):
        return value
    return ("object", id(value), type(value).__qualname__)


def cell_key(cellParameters, dt, rotation, loc):
    return freeze(cellParameters), float(dt), freeze(rotation), float(loc)


def check_cell_parameters(cellParameters):
    """Refuse cell parameters LFPy would fail on, naming the key."""
    if not isinstance(cellParameters, dict):
        raise TypeError(f"cellParameters: expected a dict of LFPy.TemplateCell arguments, got "
                        f"{type(cellParameters).__name__}")
    morphology = cellParameters.get("morphology")
    if isinstance(morphology, str) and not os.path.isfile(morphology):
        raise ValueError(f"cellParameters['morphology']: no such file {morphology!r}")
    if morphology is None:
        raise ValueError("cellParameters['morphology']: required (a morphology file LFPy can load)")
    funs = cellParameters.get("custom_fun")
    args = cellParameters.get("custom_fun_args")
    if funs is not None:
        if not isinstance(funs, (list, tuple)) or not all(callable(f) for f in funs):
            raise TypeError("cellParameters['custom_fun']: expected a list of functions f(cell, **args)")
        if not isinstance(args, (list, tuple)) or len(args) != len(funs) or not all(isinstance(a, dict) for a in args):
            raise ValueError("cellParameters['custom_fun_args']: expected a list of dicts, one per custom_fun")


def _template_files(cellParameters):
    files = cellParameters.get("templatefile", "LFPyCellTemplate.hoc")
    return [files] if isinstance(files, str) else list(files or [])


class RepresentativeCell:
    """The LFPy template cell of a ``KernelApprox``, built once per cell parameters.

    Parameters
    ----------
    cellParameters : dict
        ``LFPy.TemplateCell`` arguments.
    dt : float
        Time step (ms).
    rotation : dict
        ``LFPy.Cell.set_rotation`` arguments (radians).
    loc : float
        Soma depth (um).
    """

    def __init__(self, cellParameters, dt, rotation, loc):
        import LFPy  # deferred: LFPy loads NEURON
        from neuron import h  # deferred: importing NEURON starts its interpreter

        self.h = h
        check_cell_parameters(cellParameters)
        if not hasattr(h, "Exp2SynI"):  # the kernel needs it; lfpk's library also offers its channels to custom_fun
            try:
                mechanisms.load()
            except Exception:  # noqa: BLE001 - refused with the synapse's name when it is needed
                pass
        name = cellParameters.get("templatename", "LFPyCellTemplate")
        if not hasattr(h, str(name)):
            for f in _template_files(cellParameters):
                if not os.path.isfile(f):
                    raise ValueError(f"cellParameters['templatefile']: no such file {f!r}")
        params = dict(cellParameters, dt=dt, tstop=dt, delete_sections=False)
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*sections detected.*")
                cell = LFPy.TemplateCell(**params)
        except (ValueError, TypeError, AttributeError, RuntimeError, AssertionError) as exc:
            raise ValueError(f"cellParameters: LFPy.TemplateCell failed: {exc}") from None
        if not isinstance(rotation, dict):
            raise TypeError(f"rotationParameters: expected a dict of angles x, y, z (rad), got {rotation!r}")
        try:
            cell.set_rotation(**rotation)
        except TypeError as exc:
            raise ValueError(f"rotationParameters: {exc}") from None
        cell.set_pos(z=loc)
        self.cell = cell
        self.celsius = cellParameters.get("celsius")
        self.segments = [seg for sec in cell.allseclist for seg in sec]
        self.sections = list(cell.allseclist)
        self.g_pas = np.array([seg.g_pas if hasattr(seg, "pas") else np.nan for seg in self.segments])
        self.area = np.asarray(cell.area, dtype=float)
        self.cvode_ok = True

    @property
    def totnsegs(self) -> int:
        return len(self.segments)

    def alive(self) -> bool:
        """False once any section was deleted (e.g. by another ``LFPy.Cell(delete_sections=True)``)."""
        try:
            for sec in self.sections:
                sec.name()
        except ReferenceError:
            return False
        return True

    def set_leak(self, extra):
        """``g_pas`` = the cell's own leak + ``extra`` (S/cm2 per segment; None: own leak only)."""
        if extra is None:
            for seg, g in zip(self.segments, self.g_pas):
                if np.isfinite(g):
                    seg.g_pas = g
            return
        missing = np.flatnonzero(~np.isfinite(self.g_pas))
        if missing.size:
            raise ValueError(f"g_eff: needs the passive mechanism 'pas' in every segment (LFPykernels adds the "
                             f"mean synaptic conductance to g_pas); {missing.size} segments have none, e.g. "
                             f"{self.segments[missing[0]]} -- insert 'pas' in custom_fun or pass g_eff=False")
        for seg, g, x in zip(self.segments, self.g_pas, extra):
            seg.g_pas = g + x

    def _make_synapses(self, syntype, params, weights, where):
        h = self.h
        if not hasattr(h, syntype):
            try:
                mechanisms.load()  # lfpk's library provides Exp2SynI (same definition as LFPykernels')
            except Exception as exc:  # noqa: BLE001 - any failure to load: refuse with the argument's name
                raise ValueError(f"{where}.syntype: NEURON has no point process {syntype!r} and lfpk's mechanisms "
                                 f"could not be loaded ({exc})") from None
            if not hasattr(h, syntype):
                raise ValueError(f"{where}.syntype: NEURON has no point process {syntype!r}; load a mod file "
                                 "defining it (neuron.load_mechanisms)")
        syns, netcons = [], []
        for seg, w in zip(self.segments, weights):
            syn = getattr(h, syntype)(seg)
            for key, value in params.items():
                try:
                    setattr(syn, key, value)
                except (AttributeError, LookupError, TypeError, ValueError, RuntimeError):
                    raise ValueError(f"{where}.{key}: {syntype} has no parameter {key!r} (or it cannot be "
                                     f"{value!r})") from None
            nc = h.NetCon(None, syn)
            nc.weight[0] = w
            syns.append(syn)
            netcons.append(nc)
        return syns, netcons

    def respond(self, syntype, params, weights, t_X, tau, dt, where):
        """Transmembrane currents (nA) on LFPy's time grid ``k dt`` after all synapses fire at ``t_X``.

        One ``syntype`` point process per segment with ``params`` and NetCon ``weights``.

        Returns
        -------
        imem : ndarray, shape (n_segments, n_total - start)
            Samples ``start .. n_total - 1`` of the grid ``0, dt, ..., t_X + tau`` (ms); the input-free
            samples before ``start`` equal the first one.
        start : int
            Index of the first sample: that of ``t_X`` when the cell had settled, else 0.
        """
        syns, netcons = self._make_synapses(syntype, params, weights, where)
        n_total = int(round((t_X + tau) / dt)) + 1
        k_x = int(round(t_X / dt))
        self._prepare()  # fast imem on: i_membrane_ exists
        recs = [self.h.Vector() for _ in self.segments]  # registered before finitialize, as NEURON needs
        for rec, seg in zip(recs, self.segments):
            rec.record(seg._ref_i_membrane_)
        drift = self._settle(t_X - tau, k_x * dt) if self.cvode_ok else np.inf
        self.cvode_ok = bool(np.isfinite(drift))  # a refusal by CVODE is printed by NEURON once per cell
        if np.isfinite(drift):
            imem = self._fixed_steps(recs, netcons, t_X, dt, k_x, n_total, initialise=False)
        if not np.isfinite(drift) or drift > SETTLED * np.abs(imem - imem[:, :1]).max():  # not settled by t_X - tau: LFPykernels' fixed steps from 0
            k_x = 0
            imem = self._fixed_steps(recs, netcons, t_X, dt, 0, n_total, initialise=True)
        del syns, netcons, recs
        return imem, k_x

    def _prepare(self):
        h = self.h
        if self.celsius is not None:
            h.celsius = self.celsius
        cvode = h.CVode()
        cvode.use_fast_imem(1)
        return cvode

    def _imem_now(self):
        return np.array([seg.i_membrane_ for seg in self.segments])

    def _settle(self, t_check, t_end):
        """Input-free start from ``v_init`` at 0 to ``t_end`` (ms) by variable steps; returns the largest
        change of a transmembrane current (nA) between ``t_check`` and ``t_end``."""
        h = self.h
        cvode = self._prepare()
        try:
            cvode.active(1)
            cvode.atol(CVODE_ATOL)
            cvode.rtol(CVODE_RTOL)
            h.finitialize(self.cell.v_init)
            if t_check > 0:
                cvode.solve(t_check)
            before = self._imem_now()
            cvode.solve(t_end)
            after = self._imem_now()
        except RuntimeError:  # a mechanism CVODE refuses (fixed step only): LFPykernels' fixed steps from 0
            return np.inf
        finally:
            cvode.active(0)
        h.t = t_end
        return float(np.abs(after - before).max())

    def _fixed_steps(self, recs, netcons, t_X, dt, k_start, n_total, initialise):
        """Fixed steps ``dt`` from sample ``k_start`` to ``n_total - 1``, recording every segment's
        transmembrane current (nA); the synapses fire at ``t_X``."""
        h = self.h
        cvode = self._prepare()
        cvode.active(0)
        h.dt = dt
        if initialise:  # as LFPy: finitialize, fcurrent
            h.finitialize(self.cell.v_init)
            h.fcurrent()
        # after CVODE the state is kept as is: fcurrent would overwrite i_membrane_ with a value that is
        # not the transmembrane current (with ionic mechanisms), and frecord_init records it as the sample at t_X
        h.frecord_init()
        for nc in netcons:
            nc.event(t_X)
        h(f"for lfpk_compat_i = 1, {n_total - 1 - k_start} {{ fadvance() }}")
        out = np.array([r.as_numpy() for r in recs])
        if out.shape[1] != n_total - k_start:
            raise RuntimeError(f"simulation returned {out.shape[1]} samples, expected {n_total - k_start}")
        return out
