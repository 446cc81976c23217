"""Membrane forms of a cell -- active, passive, frozen, quasi-linear -- for any set of mechanisms.

``active``
    The mechanisms and values of the biophysics block (:func:`lfpk.model.biophysics.insert.insert_active`):
    the ground truth.
``passive``
    Uniform leak ``g_pas = passive_g_pas`` reversing at ``V_rest``.
``frozen``
    Every conductance fixed at its steady state at the segment's linearisation potential
    ``V_rest`` (Hagen et al. 2022, Methods), for any NMODL mechanism and with no per-channel code:
    the active cell is initialised with every segment at its ``V_rest`` (each mechanism's INITIAL
    block puts its states at their steady state there), and the slope of the segment's total
    ionic current with the states held fixed,

        g_i = (I_i(V_rest,i + dV) - I_i(V_rest,i - dV)) / (2 dV),   dV = 0.01 mV,

    is its frozen conductance (for an ohmic current ``g (V - E)`` this is exactly ``g``); ``I_i``
    sums the ion currents (``ina``, ``ik``, ...) and every mechanism's ``NONSPECIFIC_CURRENT``
    (:mod:`lfpk.model.biophysics.nmodl`), evaluated by NEURON's ``fcurrent()``. The frozen cell is one
    leak ``g_i`` per segment reversing at ``V_rest,i``, so it rests exactly at a uniform
    ``V_rest``.
``quasi_linear``
    The mechanisms of the block's ``quasi_linear`` list -- by default those of
    :data:`DEFAULT_QUASI_LINEAR` (the study's: ``Ih`` and ``Nap_Et2``) and of the config's
    ``mechanisms.quasi_linear`` -- replaced by their quasi-linear counterparts (:data:`QUASI_LINEAR`;
    Remme & Rinzel 2011, Ness et al. 2016) with the original's parameters of the same name and
    ``V_r = V_rest``, and every other conductance frozen as above. ``SKv3_1`` has a counterpart too,
    used only when listed. A mechanism named in ``quasi_linear`` without a counterpart is an error
    naming it.

Concentration-dependent conductances (e.g. the calcium-gated ``SK_E2``) are frozen at the
concentrations at rest: when a mechanism of the cell writes an ion concentration (``cai``, ...;
``CaDynamics_E2``), the copy is first held at ``V_rest`` -- every segment's capacitance raised to
:data:`HOLD_CM`, so its potential cannot move -- and run until the concentrations and every gate
have settled (the frozen conductances change by less than :data:`RELAX_TOL` relative per
:data:`RELAX_CHUNK`; error after :data:`RELAX_MAX`). The calcium of Hay et al.'s cell thus reaches
the steady state of its shell at ``V_rest`` (:func:`lfpk.model.biophysics.calcium.resting_calcium`),
whatever concentration the mechanisms' INITIAL blocks start from.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from lfpk.model.biophysics import nmodl
from lfpk.model.biophysics.insert import MechanismError, insert_active, mechanism_parameters, sections_of, strip

#: Quasi-linear counterpart of each mechanism that has one (mod/QuasiIh.mod, QuasiNap_Et2.mod, QuasiSKv3_1.mod).
QUASI_LINEAR = {"Ih": "QuasiIh", "Nap_Et2": "QuasiNap_Et2", "SKv3_1": "QuasiSKv3_1"}
#: Mechanisms the quasi_linear form linearises when a block does not list them: the study's
#: (Hagen et al. 2022: Ih in Model A; Ih and Nap_Et2 in Model B).
DEFAULT_QUASI_LINEAR = ("Ih", "Nap_Et2")
#: Cell forms.
FORMS = ("active", "passive", "frozen", "quasi_linear")
#: Voltage step of the central difference (mV).
DV = 0.01
#: Capacitance (uF/cm2) that holds a segment at its potential while concentrations settle.
HOLD_CM = 1e12
#: Time step (ms), convergence check interval (ms), relative tolerance and time limit (ms) of
#: the relaxation of concentrations at V_rest.
RELAX_DT, RELAX_CHUNK, RELAX_TOL, RELAX_MAX = 1.0, 200.0, 1e-10, 120000.0

_count = itertools.count()


@dataclass
class LinearParameters:
    """Per-segment values that make a cell frozen or quasi-linear (reusable on every copy of it).

    Attributes
    ----------
    form : str
    V_rest : ndarray (n,)
        Linearisation potential per segment (mV).
    g_frozen : ndarray (n,)
        Frozen conductance of every non-linearised mechanism (S/cm2).
    quasi : dict
        Quasi-linear mechanism -> ``(mask (n,), {parameter: ndarray (n,)})``.
    ions : dict
        Ion variables (e.g. ``ena``) -> (n,) values read from the active cell (NaN where absent).
    """

    form: str
    V_rest: np.ndarray
    g_frozen: np.ndarray
    quasi: dict
    ions: dict


def linearised(bio, registry=None):
    """``{mechanism: quasi-linear mechanism}`` the quasi_linear form uses for ``bio``.

    Raises
    ------
    MechanismError
        A mechanism listed in the block's ``quasi_linear`` has no quasi-linear counterpart.
    """
    extra = dict(registry or {})
    registry = {**QUASI_LINEAR, **extra}
    if bio.quasi_linear is None:
        default = set(DEFAULT_QUASI_LINEAR) | set(extra)
        return {m: registry[m] for m in bio.mechanisms if m in default}
    missing = [m for m in bio.quasi_linear if m not in registry]
    if missing:
        raise MechanismError(
            f"{bio.what}.quasi_linear: mechanism(s) {', '.join(missing)} have no quasi-linear "
            f"version (known: {', '.join(f'{k} -> {v}' for k, v in registry.items())}; add one with "
            "mechanisms.quasi_linear)")
    return {m: registry[m] for m in bio.quasi_linear}


def _ions(sec):
    return [m.name()[:-4] for m in sec(0.5) if m.is_ion()]


class _SegmentCurrents:
    """Every segment's potential and total ionic membrane current density through NEURON's data
    handles (one ``PtrVector`` gather or scatter instead of a Python attribute access per segment,
    ion and current).

    The total of a segment adds its terms in the order of the loop it replaces: ``0.0``, then
    each ion current (``ina``, ``ik``, ... in the order of the section's ions), then each
    mechanism's nonspecific currents in the section's mechanism order, so it is the same number
    to the bit (the padding of segments with fewer terms adds +0.0, which leaves any sum that
    starts from +0.0 unchanged).
    """

    def __init__(self, h, cell, info):
        refs, rows = [], []  # term pointers; per segment, the indices of its terms in order
        for sec in cell.values():
            ions = _ions(sec)
            mechs = [(m.name(), info[m.name()].nonspecific) for m in sec(0.5) if not m.is_ion()]
            for seg in sec:
                row = []
                for ion in ions:
                    row.append(len(refs))
                    refs.append(getattr(seg, f"_ref_i{ion}"))
                for mech, currents in mechs:
                    obj = getattr(seg, mech)
                    for c in currents:
                        row.append(len(refs))
                        refs.append(getattr(obj, f"_ref_{c}"))
                rows.append(row)
        n_terms = max((len(r) for r in rows), default=0)
        # (term, segment) indices into the gathered values; len(refs) is the padding +0.0
        self.index = np.full((n_terms, len(rows)), len(refs), dtype=np.intp)
        for i, row in enumerate(rows):
            self.index[: len(row), i] = row
        self.terms = h.PtrVector(max(1, len(refs)))
        for k, ref in enumerate(refs):
            self.terms.pset(k, ref)
        self.n_refs = len(refs)
        self.values = h.Vector(max(1, len(refs)))
        self.potentials = h.PtrVector(len(cell.segments))
        for k, seg in enumerate(cell.segments):
            self.potentials.pset(k, seg._ref_v)
        self.h = h

    def total(self):
        """Total ionic membrane current density (mA/cm2) of every segment at its present v."""
        if self.n_refs:
            self.terms.gather(self.values)
        vals = np.append(np.array(self.values)[: self.n_refs], 0.0)
        out = np.zeros(self.index.shape[1])
        for row in self.index:
            out += vals[row]
        return out

    def set_v(self, V):
        """Set every segment's potential to ``V`` (mV, one value per segment)."""
        self.potentials.scatter(self.h.Vector(np.asarray(V, dtype=float)))


def _total_ionic_current(cell, info):
    """Total ionic membrane current density (mA/cm2) of every segment at its present v."""
    # NEURON on first use: importing it starts its interpreter
    from neuron import h

    return _SegmentCurrents(h, cell, info).total()


def _mechanism_info(mod_dirs, mechanisms, what):
    info = nmodl.scan(mod_dirs)
    missing = [m for m in mechanisms if m not in info]
    if missing:
        raise MechanismError(f"{what}: no NMODL source of mechanism(s) {', '.join(missing)} in "
                             f"{', '.join(map(str, mod_dirs))} (needed to know their currents)")
    return info


def concentration_writers(info, mechanisms):
    """Mechanisms among ``mechanisms`` that write an ion concentration (e.g. ``cai``)."""
    out = []
    for m in mechanisms:
        ions = info[m].ions if m in info else {}
        if any(name in (f"{ion}i", f"{ion}o") for ion, io in ions.items() for name in io["write"]):
            out.append(m)
    return out


def _frozen_slope(h, cell, V, info, currents=None):
    """Slope (S/cm2) of each segment's total ionic current at ``V`` with the states held
    (``currents``: the cell's :class:`_SegmentCurrents`, made here if not given)."""
    currents = currents or _SegmentCurrents(h, cell, info)
    V = np.asarray(V, dtype=float)
    totals = []
    for sign in (1.0, -1.0):
        currents.set_v(V + sign * DV)
        h.fcurrent()
        totals.append(currents.total())
    currents.set_v(V)
    return (totals[0] - totals[1]) / (2.0 * DV)  # (mA/cm2)/mV = S/cm2


def _relax_at(h, cell, V, info, what):
    """Hold every segment at ``V`` (capacitance :data:`HOLD_CM`) and integrate until the frozen
    conductances settle; returns them (S/cm2)."""
    cvode = h.CVode()
    was_active, dt0 = int(cvode.active()), float(h.dt)
    cms = [(sec, sec.cm) for sec in cell.values()]
    try:
        cvode.active(0)
        for sec in cell.values():
            sec.cm = HOLD_CM
        h.dt = RELAX_DT
        currents = _SegmentCurrents(h, cell, info)
        g = _frozen_slope(h, cell, V, info, currents)
        steps = int(round(RELAX_CHUNK / RELAX_DT))
        t = 0.0
        while True:
            for _ in range(steps):
                h.fadvance()
            currents.set_v(V)
            t += RELAX_CHUNK
            g_new = _frozen_slope(h, cell, V, info, currents)
            change = np.abs(g_new - g)
            g = g_new
            if np.all(change <= RELAX_TOL * np.abs(g)):
                return g
            if t >= RELAX_MAX:
                raise MechanismError(
                    f"{what}: the ion concentrations did not settle at V_rest within {RELAX_MAX:g} ms "
                    f"(relative change of the frozen conductance {np.max(change / np.abs(g)):.2g} per "
                    f"{RELAX_CHUNK:g} ms)")
    finally:
        for sec, cm in cms:
            sec.cm = cm
        h.dt = dt0
        cvode.active(was_active)


def measure(morphology, bio, V_rest, form, celsius, mod_dirs, registry=None):
    """Frozen conductances and quasi-linear parameters at ``V_rest`` (:class:`LinearParameters`).

    A temporary copy of the cell is built from ``morphology``, measured and deleted.

    Parameters
    ----------
    morphology : BallAndStick or FileMorphology
    bio : CellBiophysics
        Evaluated on ``morphology.segments()``.
    V_rest : float or ndarray
        Linearisation potential (mV), scalar or per segment.
    form : str
        ``frozen`` or ``quasi_linear``.
    celsius : float
        Temperature (degC).
    mod_dirs : list of path
        Folders of the ``.mod`` sources of the loaded mechanisms.
    registry : dict, optional
        Extra ``{mechanism: quasi-linear mechanism}`` (config ``mechanisms.quasi_linear``).
    """
    # NEURON on first use: importing it starts its interpreter
    from neuron import h

    if form not in ("frozen", "quasi_linear"):
        raise ValueError(f"form: expected frozen or quasi_linear, got {form!r}")
    quasi = linearised(bio, registry) if form == "quasi_linear" else {}
    n = len(morphology.segments()["area"])
    V = np.broadcast_to(np.asarray(V_rest, dtype=float), (n,)).copy()
    h.celsius = float(celsius)
    cell = morphology.build(prefix=f"lfpk_linearise{next(_count)}")
    try:
        # quasi-linear parameters and ion variables, read from the full active cell
        insert_active(cell, bio)
        info = _mechanism_info(mod_dirs, [m for m in bio.mechanisms if m not in quasi], bio.what)
        qparams = {}
        for mech, qmech in quasi.items():
            mask = bio.inserted[mech]
            names = [p for p in _parameters(qmech) if p in _parameters(mech)]
            qparams[qmech] = (mask, {p: np.array([getattr(getattr(s, mech), p) if m else np.nan
                                                  for s, m in zip(cell.segments, mask)]) for p in names})
        ion_names = sorted({ion for sec in cell.values() for ion in _ions(sec)})
        ions = {}
        for ion in ion_names:
            vals = []
            for sec in cell.values():
                has = ion in _ions(sec)
                vals += [getattr(seg, f"e{ion}") if has else np.nan for seg in sec]
            ions[f"e{ion}"] = np.array(vals)
        # frozen conductance of everything that is not linearised, concentrations at rest
        strip(cell)
        insert_active(cell, bio, exclude=quasi)
        for seg, v in zip(cell.segments, V):
            seg.v = v
        h.finitialize()
        frozen = [m for m in bio.mechanisms if m not in quasi]
        if concentration_writers(info, frozen):
            g = _relax_at(h, cell, V, info, bio.what)
            for name in ions:  # reversal potentials at the settled concentrations (e.g. eca)
                i = 0
                for sec in cell.values():
                    if name[1:] in _ions(sec):
                        for k, seg in enumerate(sec):
                            ions[name][i + k] = getattr(seg, name)
                    i += sec.nseg
        else:
            g = _frozen_slope(h, cell, V, info)
    finally:
        for sec in list(cell.values()):
            h.delete_section(sec=sec)
    return LinearParameters(form, V, g, qparams, ions)


def _parameters(mech):
    try:
        return mechanism_parameters(mech)
    except RuntimeError:
        raise MechanismError(f"mechanism {mech!r} is not loaded in NEURON") from None


def _per_segment(value, n, what, units):
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{what}: expected a scalar or {n} per-segment values ({units}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: values must be finite")
    return arr


def _set_leak(cell, g, e):
    for sec in cell.values():
        sec.insert("pas")
    for seg, gi, ei in zip(cell.segments, g, e):
        seg.pas.g = gi
        seg.pas.e = ei


def combine_leak(g_pas, e_pas, extra_leak, V_rest):
    """One linear leak equivalent to ``g_pas`` at ``e_pas`` plus ``extra_leak`` at ``V_rest``."""
    if extra_leak is None:
        return g_pas, e_pas
    g = g_pas + extra_leak
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.where(g > 0, (g_pas * e_pas + extra_leak * V_rest) / np.where(g > 0, g, 1.0), e_pas)
    return g, e


def apply(form, cell, bio, V_rest=None, passive_g_pas=None, extra_leak=None, linear=None):
    """Give a built cell membrane form ``form``.

    Parameters
    ----------
    form : str
        ``active``, ``passive``, ``frozen`` or ``quasi_linear``.
    cell : lfpk.model.morphology.CellSections
        Built cell (its current mechanisms are removed first).
    bio : CellBiophysics
        Evaluated biophysics of the cell.
    V_rest : float or ndarray, optional
        Linearisation potential (mV); required except for ``active`` without ``extra_leak``.
    passive_g_pas : float or ndarray, optional
        Leak of ``passive`` (S/cm2).
    extra_leak : ndarray, optional
        Additional leak (S/cm2) reversing at ``V_rest`` (g_eff), merged into the ``pas`` leak.
    linear : LinearParameters, optional
        From :func:`measure` (required for ``frozen`` and ``quasi_linear``).

    Returns
    -------
    dict
        ``name``, ``g_leak`` and ``e_leak`` (n,) of the ``pas`` leak (S/cm2, mV), ``V_rest``.
    """
    if form not in FORMS:
        raise ValueError(f"name: unknown biophysics {form!r}; known: {sorted(FORMS)}")
    n = len(cell.segments)
    if V_rest is None and (form != "active" or extra_leak is not None):
        raise ValueError(f"V_rest: required by biophysics {form!r}" + (" with extra_leak" if form == "active" else "")
                         + " (mV)")
    V = None if V_rest is None else _per_segment(V_rest, n, "V_rest", "mV")
    extra = None
    if extra_leak is not None:
        extra = _per_segment(extra_leak, n, "extra_leak", "S/cm2")
        if np.any(extra < 0):
            raise ValueError("extra_leak: conductances must be >= 0 (S/cm2)")
    strip(cell)
    if form == "active":
        insert_active(cell, bio)
        if extra is None:
            return {"name": form, "g_leak": None, "e_leak": None, "V_rest": V}
        if "pas" not in bio.inserted:
            g_pas, e_pas = np.zeros(n), V.copy()
        else:
            g_pas = np.array([seg.pas.g for seg in cell.segments])
            e_pas = np.array([seg.pas.e for seg in cell.segments])
        g, e = combine_leak(g_pas, e_pas, extra, V)
        _set_leak(cell, g, e)
        return {"name": form, "g_leak": g, "e_leak": e, "V_rest": V}
    if form == "passive":
        if passive_g_pas is None:
            raise ValueError("passive_g_pas: required by biophysics 'passive' (S/cm2, e.g. config "
                             "kernel.passive_g_pas)")
        g = _per_segment(passive_g_pas, n, "passive_g_pas", "S/cm2")
        if extra is not None:
            g = g + extra
        _set_leak(cell, g, V)
        return {"name": form, "g_leak": g, "e_leak": V.copy(), "V_rest": V}
    if linear is None or linear.form != form:
        raise ValueError(f"linear: the measured parameters of form {form!r} are required (lfpk.model.biophysics.measure)")
    if not np.array_equal(linear.V_rest, V):
        raise ValueError("linear: measured at a different V_rest")
    g = linear.g_frozen if extra is None else linear.g_frozen + extra
    _set_leak(cell, g, V)
    segs = cell.segments
    for qmech, (mask, params) in linear.quasi.items():
        for sec in sections_of(cell, mask):
            sec.insert(qmech)
        for i in np.flatnonzero(mask):
            obj = getattr(segs[i], qmech)
            for p, vals in params.items():
                setattr(obj, p, float(vals[i]))
            obj.V_r = float(V[i])
    for name, vals in linear.ions.items():
        for i in np.flatnonzero(~np.isnan(vals)):
            try:
                setattr(segs[i], name, float(vals[i]))
            except (AttributeError, NameError, LookupError):
                pass  # the ion is not used by the linear cell's mechanisms here
    return {"name": form, "g_leak": g, "e_leak": V.copy(), "V_rest": V}
