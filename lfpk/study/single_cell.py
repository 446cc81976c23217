"""Step responses of one population's cell in its active and linearised forms (Figs 2 and S1).

Hagen et al. (2022, PLOS Comput Biol 18:e1010353; ``Figure02.ipynb``, ``FigureS1.ipynb``) check
the linearisation on single cells before any network: a current step is injected at the soma
(Fig 2) or into the apical dendrite 200 um above the soma (Fig S1), with several amplitudes, into
the active cell and into its quasi-linear and frozen forms linearised at the active cell's resting
potential; the somatic potential shows how far each form follows the active cell (traces, and the
steady-state potential against the stimulus).

Protocol (the study's): the active cell starts at ``simulation.v_init`` and settles for
``settle`` ms (1100) without input; its somatic potential at the end of the settling is V_rest. A
step of amplitude I (``amplitudes`` values evenly spaced in ``[-I_max, I_max]``, the study: 10)
starts at ``settle`` and lasts ``duration`` ms (100); the somatic potential at its end is the
steady state. The linear forms (``quasi_linear``, ``frozen``, and ``passive`` with
``kernel.passive_g_pas``, :mod:`lfpk.model.biophysics.linear`) are uniform at V_rest (scalar, as the
study's ``make_cell_uniform``) and start at rest. Any population's cell works (ball-and-stick or a
reconstructed morphology with its own channels), through its model description
(:class:`lfpk.model.Population`).

Sign: a positive amplitude is a depolarising current injected into the cell (NEURON's IClamp);
the study passes ``amp=-I`` to LFPy and labels the axis with I, so its curves are mirrored.
"""

from __future__ import annotations

import gc
import itertools
import logging
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from lfpk.base.files import check_output
from lfpk.base.io import to_json, write_dataset
from lfpk.model import biophysics, from_config
from lfpk.model.description import population_biophysics
from lfpk.model.times import time_errors
from lfpk.study.stages import morphology_parameters

log = logging.getLogger("lfpk.single_cell")

#: Forms simulated, in the order of the figures' rows.
FORMS = ("active", "quasi_linear", "frozen", "passive")
#: Stimulation sites: soma (Fig 2) and apical dendrite (Fig S1).
SITES = ("soma", "dendrite")
#: The study's protocol (Figure02.ipynb) and dendritic site (FigureS1.ipynb).
DEFAULTS = {"amplitudes": 10, "settle": 1100.0, "duration": 100.0, "dendrite": {"group": "apic", "z": 200.0}}
#: Time shown before the step (ms), as the study's figures (from 1075 ms).
PRE = 25.0
#: Somatic deflection (mV) the default largest amplitude aims at, on the frozen cell at rest.
TARGET_DEFLECTION = 10.0
#: Amplitude of the input-resistance probe (nA).
PROBE_AMPLITUDE = 0.01

_count = itertools.count()


def settings(cfg) -> dict:
    """The config's ``single_cell`` block with :data:`DEFAULTS` filled in."""
    s = {**DEFAULTS, **(cfg.get("single_cell") or {})}
    s["dendrite"] = {**DEFAULTS["dendrite"], **(s.get("dendrite") or {})}
    s["max_amplitude"] = dict(s.get("max_amplitude") or {})
    return s


def config_errors(cfg) -> list[str]:
    """Problems of the ``single_cell`` block's times, one line each naming the key: the step starts
    after :data:`PRE` ms of settling and both ``settle`` and ``settle + duration`` follow the one
    time rule (:func:`lfpk.model.times.time_errors`: whole steps of ``simulation.dt``), so the
    figures' window ``[settle - PRE, settle + duration]`` falls on the time grid."""
    s = settings(cfg)
    dt = cfg["simulation"]["dt"]
    settle, duration = float(s["settle"]), float(s["duration"])
    if not settle > PRE:
        return [f"single_cell.settle: {settle:g} ms; expected more than {PRE:g} ms (the time shown before the step)"]
    errors = time_errors(dt, tstop=settle, names={"tstop": "single_cell.settle"})
    errors += time_errors(dt, tstop=settle + duration,
                          names={"tstop": f"single_cell.duration (settle + duration = {settle + duration:g} ms)"})
    return errors


def stimulation_site(population, site, group="apic", z=200.0) -> int:
    """Segment index of a stimulation site of a population's cell.

    ``soma``: the segment at the soma centre. ``dendrite``: the segment of section group ``group``
    whose centre is closest to the point ``z`` um above the soma centre (the study's
    ``get_closest_idx(0, 0, 200, 'apic')``; coordinates of the rotated cell, soma centre at the
    origin).
    """
    if site == "soma":
        return int(population.soma_index)
    if site != "dendrite":
        raise ValueError(f"site: {site!r} is not one of {SITES}")
    seg = population.segments
    mask = population.group_mask(group, "single_cell.dendrite.group")
    if not mask.any():
        raise ValueError(f"single_cell.dendrite.group: group {group!r} has no segment on the cell of population "
                         f"{population.name}")
    centre = np.column_stack([seg[k].mean(axis=1) for k in ("x", "y", "z")])
    d = np.linalg.norm(centre - np.array([0.0, 0.0, float(z)]), axis=1)
    d[~mask] = np.inf
    return int(np.argmin(d))


class _Cell:
    """One built cell of a population in one form, with a current clamp (IClamp) at each
    stimulated segment and the somatic potential recorded.

    Every run of a cell starts the same way: the active cell from ``v_init``, the linear forms at
    rest, without input until the step. :meth:`prefix` runs that common start once and keeps its
    end state (NEURON's ``SaveState``); :meth:`step` continues from the kept state with one step, so
    the steps of all amplitudes and sites share one start. The clamps of every site exist from the
    start (0 nA before the step, so they add exactly nothing), and each step gives the same
    numbers as a run from the start with that step alone (bitwise: ``benchmarks/bench_hay_jobs.py``).

    NEURON advances every cell that exists, so :func:`step_responses` keeps one cell at a time; the
    active cell's settled state is written to a file (:meth:`write_state`) and read into the same
    cell built again (:meth:`read_state`).
    """

    def __init__(self, population, form, V_rest, celsius, passive_g_pas, mod_dirs, quasi_linear, segments):
        # NEURON on first use: importing it starts its interpreter
        from neuron import h

        h.load_file("stdrun.hoc")
        self.h = h
        h.celsius = float(celsius)
        linear = None
        if form in ("frozen", "quasi_linear"):  # measured on a copy, before this cell exists
            linear = biophysics.measure(population.morphology, population.cell_biophysics, V_rest, form,
                                        celsius, mod_dirs, quasi_linear)
        self.secs = population.morphology.build(prefix=f"lfpk_step{next(_count)}.{population.name}")
        if form == "active":
            biophysics.apply("active", self.secs, population.cell_biophysics)
        else:
            biophysics.apply(form, self.secs, population.cell_biophysics, V_rest=V_rest,
                             passive_g_pas=passive_g_pas, linear=linear)
        self.form = form
        self.V_rest = V_rest
        self.stims = {}
        for segment in sorted({int(k) for k in segments}):
            stim = h.IClamp(self.secs.segments[segment])
            stim.dur, stim.amp = 1e9, 0.0
            self.stims[segment] = stim
        # the one recording of the cell's life: a SaveState holds the recordings that existed
        # when it was made (reading it with one deleted crashes NEURON)
        self.v_soma = h.Vector().record(self.secs.soma._ref_v)
        self.state = None  # the end state of the prefix (h.SaveState)
        self.onset = None  # the prefix's end, the steps' onset (ms)
        self.rest = None  # the prefix's somatic potential (mV)

    def _start(self, onset, dt, v_init, amplitude=0.0, segment=None):
        """A fresh start (the linear forms at V_rest, the active cell at ``v_init`` mV; the
        recording emptied), a step of ``amplitude`` nA at ``segment`` from ``onset`` ms."""
        h = self.h
        for k, stim in self.stims.items():
            stim.delay = float(onset)
            stim.amp = float(amplitude) if k == segment else 0.0
        h.CVode().active(0)
        h.dt = float(dt)
        h.steps_per_ms = 1.0 / float(dt)
        if self.form == "active":
            h.finitialize(float(v_init))
        else:
            h.finitialize(float(self.V_rest))
            for seg in self.secs.segments:
                seg.v = float(self.V_rest)
            h.fcurrent()

    def prefix(self, onset, dt, v_init):
        """Run without input from the start to the steps' ``onset`` (ms; time step ``dt`` ms) and
        keep the end state; returns the somatic potential (mV) at every step 0..onset (kept as
        :attr:`rest`)."""
        self._start(onset, dt, v_init)
        self.h.continuerun(float(onset))
        self.state = self.h.SaveState()
        self.state.save()
        self.onset, self.rest = float(onset), np.array(self.v_soma)
        return self.rest

    def step(self, segment, amplitude, tstop, dt, v_init):
        """Continue from the kept state with a step of ``amplitude`` (nA) at ``segment`` from the
        prefix's onset to ``tstop`` (ms); returns the somatic potential (mV) at every step after
        the onset up to ``tstop``."""
        self._start(self.onset, dt, v_init, amplitude, int(segment))
        self.state.restore()
        self.h.continuerun(float(tstop))
        return np.array(self.v_soma)[1:]  # [0] is the fresh start's, then the kept state

    def write_state(self, path):
        """Write the kept state to ``path`` (NEURON's binary SaveState file)."""
        f = self.h.File()
        f.wopen(str(path))
        self.state.fwrite(f)
        f.close()

    def read_state(self, path, onset, rest):
        """Keep the state written by :meth:`write_state` of the same cell built before, with that
        prefix's ``onset`` (ms) and somatic potential ``rest`` (mV)."""
        f = self.h.File()
        f.ropen(str(path))
        self.state = self.h.SaveState()
        self.state.fread(f)
        f.close()
        self.onset, self.rest = float(onset), rest

    def close(self):
        self.stims, self.state, self.v_soma = {}, None, None
        for sec in list(self.secs.values()):
            self.h.delete_section(sec=sec)
        self.secs = None


def _input_resistance(probe, soma_index, V_rest, duration, dt, v_init):
    """Somatic input resistance (MOhm) of the frozen cell ``probe`` (:class:`_Cell`) at ``V_rest``
    (mV): the steady state of a :data:`PROBE_AMPLITUDE` step at segment ``soma_index`` after
    ``max(duration, 200)`` ms (time step ``dt`` ms), from :data:`PRE` ms at rest (this rest is kept
    for the frozen form's responses)."""
    if probe.state is None:
        probe.prefix(PRE, dt, v_init)
    v = probe.step(soma_index, PROBE_AMPLITUDE, PRE + max(duration, 200.0), dt, v_init)
    return (v[-1] - V_rest) / PROBE_AMPLITUDE  # mV / nA = MOhm


def _default_max_amplitude(R_in):
    """Largest amplitude (nA) that moves a cell of input resistance ``R_in`` (MOhm) by
    :data:`TARGET_DEFLECTION` mV, to one significant digit."""
    target = TARGET_DEFLECTION / max(R_in, 1e-9)
    return float(f"{target:.0e}")


def _form_responses(cell, seg_of, sites, amps, settle, duration, dt, v_init):
    """Somatic potential (mV) of one form's cell (:class:`_Cell`) for every site and amplitude
    from :data:`PRE` ms before the step to its end.

    The active cell runs from ``v_init`` (mV), the step at ``settle`` ms after it: its kept
    settling is the part before the step and the start of each step. The linear forms start at
    rest, the step at :data:`PRE` ms, on the same time axis; their rest before the step is run
    once. ``seg_of``: the stimulated segment of each site; ``amps``: step amplitudes (nA);
    ``duration``, ``dt`` ms.

    Returns
    -------
    numpy.ndarray
        ``(site, amplitude, time)``, NaN after the end of a shorter run.
    """
    n_show = int(round((PRE + duration) / dt)) + 1
    if cell.form == "active":  # the settling's last PRE ms, then the step at settle
        before, t_end = cell.rest[int(round((settle - PRE) / dt)):], settle + duration
    else:  # at rest from the start: the step at PRE, on the same time axis
        if cell.state is None:
            cell.prefix(PRE, dt, v_init)
        before, t_end = cell.rest, PRE + duration
    V = np.full((len(sites), len(amps), n_show), np.nan)
    for i, site in enumerate(sites):
        for k, a in enumerate(amps):
            v = np.concatenate([before, cell.step(seg_of[site], a, t_end, dt, v_init)])[:n_show]
            V[i, k, : len(v)] = v
    return V


def _step_dataset(population, V, amps, seg_of, sites, forms, V_rest, R_in, protocol_attrs):
    """The labelled dataset of :func:`step_responses` from the responses ``V`` (mV; site, form,
    amplitude, time) to the steps ``amps`` (nA).

    ``protocol_attrs``: ``settle``, ``duration``, ``dt`` (ms), ``v_init`` (mV), ``celsius`` (degC)
    and ``passive_g_pas`` (S/cm2), written as attributes in that order after ``V_rest`` (mV) and
    ``R_in`` (MOhm).
    """
    settle, dt = protocol_attrs["settle"], protocol_attrs["dt"]
    t = settle - PRE + np.arange(V.shape[-1]) * dt
    stim = np.where(t[None, :] >= settle, amps[:, None], 0.0)
    seg = population.segments
    return xr.Dataset(
        {
            "v_soma": (("site", "form", "amplitude", "time"), V, {
                "units": "mV", "long_name": "somatic membrane potential"}),
            "v_final": (("site", "form", "amplitude"), V[..., -1], {
                "units": "mV", "long_name": "somatic membrane potential at the end of the step (steady state)"}),
            "stimulus": (("amplitude", "time"), stim, {
                "units": "nA", "long_name": "injected current (positive: depolarising)"}),
            "site_segment": ("site", [seg_of[s] for s in sites], {"units": "1", "long_name": "stimulated segment"}),
            "site_x": ("site", [float(seg["x"][seg_of[s]].mean()) for s in sites], {
                "units": "um", "long_name": "x of the stimulated segment's centre (soma centre at 0)"}),
            "site_z": ("site", [float(seg["z"][seg_of[s]].mean()) for s in sites], {
                "units": "um", "long_name": "z of the stimulated segment's centre (soma centre at 0)"}),
        },
        coords={
            "site": ("site", list(sites)),
            "form": ("form", list(forms), {"long_name": "membrane form of the cell"}),
            "amplitude": ("amplitude", amps, {"units": "nA", "long_name": "step amplitude"}),
            "time": ("time", t, {"units": "ms", "long_name": "time"}),
        },
        attrs={
            "title": f"step responses of the cell of population {population.name}",
            "population": population.name,
            "V_rest": V_rest,
            "V_rest_units": "mV",
            "input_resistance": float(R_in),
            "input_resistance_units": "MOhm",
            **protocol_attrs,
            "method": "IClamp step after the active cell settled from v_init; linear forms uniform at V_rest "
                      "(Hagen et al. 2022, Figs 2 and S1)",
        },
    )


def step_responses(population, sim, protocol, passive_g_pas, mod_dirs, quasi_linear=None, max_amplitude=None,
                   forms=FORMS, sites=SITES):
    """Step responses of a population's cell (the module's protocol).

    Parameters
    ----------
    population : lfpk.model.Population
    sim : dict
        ``simulation`` block (``dt`` ms, ``celsius`` degC, ``v_init`` mV).
    protocol : dict
        :func:`settings` (``amplitudes``, ``settle``, ``duration`` ms, ``dendrite``).
    passive_g_pas : float
        Leak of the passive form (S/cm2).
    mod_dirs : list of path
        Folders of the mechanisms' sources (:attr:`lfpk.model.NetworkModel.mod_dirs`).
    quasi_linear : dict, optional
        Extra ``{mechanism: quasi-linear mechanism}``.
    max_amplitude : float, optional
        Largest amplitude (nA); default ``10 mV / R_in`` of the frozen cell at rest, to one
        significant digit.

    Returns
    -------
    xarray.Dataset
        ``v_soma (site, form, amplitude, time)`` mV from ``PRE`` ms before the step to its end,
        ``v_final (site, form, amplitude)`` mV (end of the step), ``stimulus (amplitude, time)`` nA;
        ``V_rest`` mV, ``input_resistance`` MOhm (frozen cell, soma), ``site_segment``,
        ``site_x``, ``site_z (site)`` um.
    """
    dt, v_init = float(sim["dt"]), float(sim["v_init"])
    celsius = float(sim["celsius"])
    settle, duration = float(protocol["settle"]), float(protocol["duration"])
    if not settle > PRE:
        raise ValueError(f"single_cell.settle: {settle} ms must exceed {PRE} ms")
    seg_of = {s: stimulation_site(population, s, protocol["dendrite"]["group"], protocol["dendrite"]["z"])
              for s in sites}

    segments = [*seg_of.values(), population.soma_index]  # stimulated: the sites and the probe's

    def build(form, V_rest):
        return _Cell(population, form, V_rest, celsius, passive_g_pas, mod_dirs, quasi_linear, segments)

    # one cell at a time (NEURON advances every cell there is): the active cell settles, its state
    # is written; the frozen cell gives R_in (hence the default amplitudes); each form's responses;
    # the active cell built again continues from its settled state
    n_show = int(round((PRE + duration) / dt)) + 1
    cell = None
    # a kept state fits only the cells that existed when it was kept: collect the garbage of
    # earlier cells now, so none of them is deleted between keeping and restoring
    gc.collect()
    try:
        with tempfile.TemporaryDirectory(prefix="lfpk-single-cell-") as tmp:
            settled = Path(tmp) / "settled.dat"
            cell = build("active", None)
            rest = cell.prefix(settle, dt, v_init)
            V_rest = float(rest[-1])
            cell.write_state(settled)
            cell.close()
            cell = build("frozen", V_rest)
            R_in = _input_resistance(cell, population.soma_index, V_rest, duration, dt, v_init)
            if max_amplitude is None:
                max_amplitude = _default_max_amplitude(R_in)
            amps = np.linspace(-float(max_amplitude), float(max_amplitude), int(protocol["amplitudes"]))
            V = np.full((len(sites), len(forms), len(amps), n_show), np.nan)
            if "frozen" not in forms:
                cell.close()
                cell = None
            for form in sorted(forms, key=lambda f: (f != "frozen", f == "active")):  # frozen first, active last
                if cell is None:
                    cell = build(form, None if form == "active" else V_rest)
                    if form == "active":
                        cell.read_state(settled, settle, rest)
                V[:, list(forms).index(form)] = _form_responses(cell, seg_of, sites, amps, settle, duration, dt,
                                                                v_init)
                cell.close()
                cell = None
    finally:
        if cell is not None and cell.secs is not None:
            cell.close()
    return _step_dataset(population, V, amps, seg_of, sites, forms, V_rest, R_in, {
        "settle": settle, "duration": duration, "dt": dt, "v_init": v_init, "celsius": celsius,
        "passive_g_pas": float(passive_g_pas)})


def single_cell_parameters(cfg, population):
    """What one population's step responses depend on, and nothing else (Snakemake params: a
    change elsewhere, e.g. the population's size or extrinsic drive, does not rerun them).

    Parameters
    ----------
    cfg : dict
        Validated configuration.
    population : str
        Population name.

    Returns
    -------
    dict
        ``cell``: its morphology (:func:`lfpk.study.stages.morphology_parameters`);
        ``biophysics``: its biophysics block (the population's own or the config's);
        ``simulation``: ``dt`` (ms), ``celsius`` (degC), ``v_init`` (mV); ``passive_g_pas`` (S/cm2);
        ``single_cell``: :func:`settings` with ``max_amplitude`` of this population only (nA);
        ``mechanisms``: extra folders and quasi-linear versions.
    """
    protocol = settings(cfg)
    protocol["max_amplitude"] = {k: v for k, v in protocol["max_amplitude"].items() if k == population}
    return {"cell": morphology_parameters(cfg, population),
            "biophysics": population_biophysics(cfg, population)[0],
            "simulation": {k: cfg["simulation"][k] for k in ("dt", "celsius", "v_init")},
            "passive_g_pas": cfg["kernel"]["passive_g_pas"], "single_cell": protocol,
            "mechanisms": cfg.get("mechanisms") or {}}


def single_cell_files(cfg, population, output):
    """Stage: step responses of ``population``'s cell written to ``output`` (netCDF)."""
    check_output(output)
    model = from_config(cfg)
    model.load_mechanisms()
    pop = model.population(population)
    s = settings(cfg)
    ds = step_responses(pop, cfg["simulation"], s, float(cfg["kernel"]["passive_g_pas"]), model.mod_dirs,
                        model.quasi_linear, s["max_amplitude"].get(population))
    ds.attrs["parameters"] = to_json(single_cell_parameters(cfg, population))
    write_dataset(ds, output)
    return ds
