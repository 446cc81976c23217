"""Single-cell checks of an active cell: somatic step-current firing and the back-propagating AP.

Hay et al. (2011, PLoS Comput Biol 7:e1002107, Fig 4 and its ModelDB code 139653) constrained
their layer 5b pyramidal cell by (i) regular firing under prolonged somatic current steps
(0.619, 0.793 and 1.507 nA for 2 s from 700 ms, ``v_init`` -80 mV), with a rate that grows with
the current, and (ii) an action potential elicited at the soma by a brief pulse (1.9 nA for 5 ms
at 295 ms) that propagates back into the apical dendrite, attenuating and arriving later with
distance (their recording sites at 400 and 620 um from the soma). These qualitative features are
the first things a user checks of a reconstructed cell with these channels; this module simulates
both protocols on a population's active cell -- the same morphology and biophysics the network
builds -- and writes the responses as one labelled dataset (:func:`simulate`) with a figure
(:func:`figure`).

Definitions: spikes are upward crossings of ``threshold`` (mV) by the somatic potential; the rate
of a step is its spike count over the step duration (1/s). For the back-propagating AP each apical
segment's *amplitude* is its peak potential minus its potential just before the pulse (mV) and
its *latency* the time of that peak after the soma's peak (ms). A recording site at path distance
``d`` is, as in Hay et al.'s ``locateSites``, the segment of largest diameter among the apical
segments spanning ``d`` (nearest segment if none does).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from lfpk.base.io import write_dataset
from lfpk.figures.style import STYLE, pyplot, save
from lfpk.model import from_config
from lfpk.model.biophysics import apply
from lfpk.model.description import population_biophysics
from lfpk.model.times import time_errors
from lfpk.study.stages import morphology_parameters

#: Defaults of the protocols (Hay et al. 2011, ModelDB 139653: Step_current_firing.hoc,
#: BAC_firing.hoc with experiment "BAP").
DEFAULTS = {
    "v_init": -80.0,
    "threshold": -10.0,
    "steps": {"amplitudes": [0.619, 0.793, 1.507], "delay": 700.0, "duration": 2000.0, "tstop": 3000.0},
    "bap": {"amplitude": 1.9, "delay": 295.0, "duration": 5.0, "tstop": 600.0, "sites": [400.0, 620.0]},
}


@dataclass
class Protocols:
    """Settings of the two protocols (config ``cell_check``; defaults :data:`DEFAULTS`).

    Attributes
    ----------
    v_init : float
        Initial potential (mV).
    threshold : float
        Spike threshold on the somatic potential (mV).
    steps : dict
        ``amplitudes`` (nA), ``delay``, ``duration``, ``tstop`` (ms).
    bap : dict
        ``amplitude`` (nA), ``delay``, ``duration``, ``tstop`` (ms), ``sites`` (um).
    """

    v_init: float = DEFAULTS["v_init"]
    threshold: float = DEFAULTS["threshold"]
    steps: dict = field(default_factory=lambda: dict(DEFAULTS["steps"]))
    bap: dict = field(default_factory=lambda: dict(DEFAULTS["bap"]))

    @classmethod
    def from_config(cls, block):
        block = block or {}
        return cls(float(block.get("v_init", DEFAULTS["v_init"])), float(block.get("threshold", DEFAULTS["threshold"])),
                   {**DEFAULTS["steps"], **(block.get("steps") or {})}, {**DEFAULTS["bap"], **(block.get("bap") or {})})


def config_errors(cfg) -> list[str]:
    """Cross-field errors of the config's ``cell_check`` block (one message per problem)."""
    block = cfg.get("cell_check")
    if not block:
        return []
    errors = []
    pops = cfg.get("populations") or {}
    for i, name in enumerate(block.get("populations") or []):
        if name not in pops:
            errors.append(f"cell_check.populations[{i}]: population {name!r} is not declared "
                          f"(populations: {', '.join(pops)})")
    p = Protocols.from_config(block)
    for key, prot in (("steps", p.steps), ("bap", p.bap)):
        problems = time_errors(cfg["simulation"]["dt"], tstop=prot["tstop"], names={"tstop": f"cell_check.{key}.tstop"})
        if problems:
            errors += problems
        elif prot["delay"] + prot["duration"] > prot["tstop"]:
            errors.append(f"cell_check.{key}: delay + duration ({prot['delay'] + prot['duration']:g} ms) exceeds "
                          f"tstop ({prot['tstop']:g} ms)")
    return errors


def spike_times(t, v, threshold):
    """Times (ms) of upward crossings of ``threshold`` by ``v`` (linear interpolation)."""
    t, v = np.asarray(t, float), np.asarray(v, float)
    k = np.flatnonzero((v[:-1] < threshold) & (v[1:] >= threshold))
    return t[k] + (threshold - v[k]) * (t[k + 1] - t[k]) / (v[k + 1] - v[k])


def recording_sites(segments, distances):
    """Segment index per site distance (um): the widest apical segment spanning it (else nearest)."""
    apic = np.flatnonzero(np.asarray(segments["group"]).astype(str) == "apic")
    if not len(apic):
        raise ValueError("the cell has no apical dendrite (section group apic): no back-propagation sites")
    d = np.asarray(segments["path_distance"], float)[apic]
    half = 0.5 * np.asarray(segments["length"], float)[apic]
    diam = np.asarray(segments["diam"], float)[apic]
    out = []
    for site in distances:
        span = np.flatnonzero((d - half <= site) & (site <= d + half))
        out.append(int(apic[span[np.argmax(diam[span])]] if len(span) else apic[np.argmin(np.abs(d - site))]))
    return np.array(out, dtype=int)


class _Cell:
    """One active cell of a population with a somatic current clamp."""

    def __init__(self, population, celsius, dt, prefix):
        # NEURON on first use: importing it starts its interpreter
        from neuron import h

        h.load_file("stdrun.hoc")
        self.h = h
        self.sections = population.morphology.build(prefix=prefix)
        apply("active", self.sections, population.cell_biophysics)
        self.stim = h.IClamp(self.sections.soma)
        self.celsius, self.dt = float(celsius), float(dt)

    def run(self, amplitude, delay, duration, tstop, v_init, record):
        h = self.h
        self.stim.amp, self.stim.delay, self.stim.dur = float(amplitude), float(delay), float(duration)
        cvode = h.CVode()
        cvode.active(0)
        h.celsius, h.dt = self.celsius, self.dt
        h.steps_per_ms = 1.0 / self.dt
        vecs = [h.Vector().record(self.sections.segments[i]._ref_v) for i in record]
        t = h.Vector().record(h._ref_t)
        h.finitialize(float(v_init))
        h.continuerun(float(tstop))
        return np.array(t), np.array([np.asarray(x) for x in vecs])

    def delete(self):
        # NEURON on first use: importing it starts its interpreter
        from neuron import h

        self.stim = None
        for sec in list(self.sections.values()):
            h.delete_section(sec=sec)


def simulate(population, protocols=None, celsius=34.0, dt=2**-4):
    """Both protocols on the active cell of ``population`` (an :class:`lfpk.model.Population`).

    Returns
    -------
    xarray.Dataset
        ``v_step`` (amplitude, time_step) somatic potential (mV) under each step, ``rate`` (1/s),
        ``spikes`` (count) and ``first_spike`` (ms after step onset) per step; ``v_bap`` (site,
        time_bap) potential at the soma and the recording sites (mV); per apical segment
        ``bap_distance`` (um), ``bap_amplitude`` (mV) and ``bap_latency`` (ms); ``v_rest_soma``
        (mV, just before the step / pulse).
    """
    p = protocols or Protocols()
    seg = population.segments
    soma = population.soma_index
    cell = _Cell(population, celsius, dt, prefix=f"cellcheck.{population.name}")
    try:
        st = p.steps
        traces, rates, counts, first = [], [], [], []
        for amp in st["amplitudes"]:
            t, v = cell.run(amp, st["delay"], st["duration"], st["tstop"], p.v_init, [soma])
            sp = spike_times(t, v[0], p.threshold)
            on = sp[(sp >= st["delay"]) & (sp < st["delay"] + st["duration"])]
            traces.append(v[0])
            counts.append(len(on))
            rates.append(1e3 * len(on) / float(st["duration"]))
            first.append(on[0] - st["delay"] if len(on) else np.nan)
        t_step = t
        v_rest = float(traces[0][np.searchsorted(t_step, st["delay"]) - 1])
        b = p.bap
        sites = recording_sites(seg, b["sites"])
        apic = np.flatnonzero(np.asarray(seg["group"]).astype(str) == "apic")
        t_bap, v = cell.run(b["amplitude"], b["delay"], b["duration"], b["tstop"], p.v_init,
                            [soma, *sites.tolist(), *apic.tolist()])
    finally:
        cell.delete()
    k0 = np.searchsorted(t_bap, b["delay"]) - 1
    window = (t_bap >= b["delay"]) & (t_bap <= b["delay"] + b["duration"] + 50.0)
    base = v[:, k0]
    peak_idx = np.argmax(np.where(window, v, -np.inf), axis=1)
    amplitude = v[np.arange(len(v)), peak_idx] - base
    latency = t_bap[peak_idx] - t_bap[peak_idx[0]]
    n_sites = 1 + len(sites)
    site_names = ["soma"] + [f"apic {d:g} um" for d in b["sites"]]
    ds = xr.Dataset(
        {
            "v_step": (("amplitude", "time_step"), np.array(traces), {"units": "mV", "long_name": "somatic potential under a step current"}),
            "rate": ("amplitude", np.array(rates), {"units": "1/s", "long_name": "firing rate during the step"}),
            "spikes": ("amplitude", np.array(counts), {"units": "1", "long_name": "spikes during the step"}),
            "first_spike": ("amplitude", np.array(first), {"units": "ms", "long_name": "first spike after step onset"}),
            "v_bap": (("site", "time_bap"), v[:n_sites], {"units": "mV", "long_name": "potential after a brief somatic pulse"}),
            "site_distance": ("site", np.r_[0.0, np.asarray(seg["path_distance"], float)[sites]],
                              {"units": "um", "long_name": "path distance of the recording site from the soma centre"}),
            "site_segment": ("site", np.r_[soma, sites].astype(int), {"units": "1", "long_name": "segment index"}),
            "bap_distance": ("apical_segment", np.asarray(seg["path_distance"], float)[apic],
                             {"units": "um", "long_name": "path distance from the soma centre"}),
            "bap_amplitude": ("apical_segment", amplitude[n_sites:],
                              {"units": "mV", "long_name": "back-propagating AP: peak minus pre-pulse potential"}),
            "bap_latency": ("apical_segment", latency[n_sites:],
                            {"units": "ms", "long_name": "back-propagating AP: peak time after the somatic peak"}),
        },
        coords={
            "amplitude": ("amplitude", np.asarray(st["amplitudes"], float), {"units": "nA", "long_name": "step current"}),
            "time_step": ("time_step", t_step, {"units": "ms"}),
            "time_bap": ("time_bap", t_bap, {"units": "ms"}),
            "site": ("site", site_names),
            "apical_segment": ("apical_segment", apic),
        },
        attrs={
            "title": f"single-cell check of population {population.name}: step-current firing and back-propagating AP",
            "population": population.name,
            "v_rest_soma": v_rest, "v_rest_soma_units": "mV",
            "soma_amplitude_bap": float(amplitude[0]), "soma_amplitude_bap_units": "mV",
            "celsius": float(celsius), "dt": float(dt), "v_init": p.v_init, "threshold": p.threshold,
            "steps_delay": float(st["delay"]), "steps_duration": float(st["duration"]),
            "bap_pulse_amplitude": float(b["amplitude"]), "bap_delay": float(b["delay"]),
            "bap_duration": float(b["duration"]),
            "reference": "protocols of Hay et al. (2011) PLoS Comput Biol 7:e1002107 (ModelDB 139653)",
        },
    )
    return ds


def summary(ds) -> str:
    """One paragraph of the check's numbers."""
    rates = ", ".join(f"{a:g} nA: {r:.1f}/s" for a, r in zip(ds["amplitude"].values, ds["rate"].values))
    sites = ", ".join(f"{str(s)} ({d:.0f} um): {a:.1f} mV"
                      for s, d, a in zip(ds["site"].values[1:], ds["site_distance"].values[1:],
                                         _site_amplitudes(ds)[1:]))
    return (f"population {ds.attrs['population']}: V_rest {ds.attrs['v_rest_soma']:.2f} mV at the soma; step "
            f"firing {rates}; back-propagating AP amplitude at the soma {ds.attrs['soma_amplitude_bap']:.1f} mV, "
            f"{sites}")


def _site_amplitudes(ds):
    v = ds["v_bap"].values
    t = ds["time_bap"].values
    k0 = np.searchsorted(t, ds.attrs["bap_delay"]) - 1
    return v.max(axis=1) - v[:, k0]


def figure(ds, paths, citation=None):
    """Step responses, f-I points, back-propagation traces and amplitude / latency vs distance."""

    plt = pyplot()
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, 3, figsize=(10.0, 5.6), constrained_layout=True)
        amps = ds["amplitude"].values
        t = ds["time_step"].values
        colors = plt.cm.viridis(np.linspace(0.1, 0.85, len(amps)))
        ax = axes[0, 0]
        offset = 140.0  # mV between the stacked traces
        for i, a in enumerate(amps):
            ax.plot(t, ds["v_step"].values[i] + offset * i, color=colors[i], lw=0.5)
            ax.text(t[-1], offset * i - 60.0, f"{a:g} nA", ha="right", va="top", fontsize=6.5, color=colors[i])
        ax.set(xlabel="t (ms)", ylabel=f"V soma (mV; traces offset by {offset:g})", title="A  somatic step currents")
        ax = axes[0, 1]
        ax.plot(amps, ds["rate"].values, "o-", color="k")
        ax.set(xlabel="step current (nA)", ylabel="rate (1/s)", title="B  firing rate vs current")
        ax.set_xlim(0, amps.max() * 1.1)
        ax.set_ylim(bottom=0)
        ax = axes[0, 2]
        tb = ds["time_bap"].values
        d0 = ds.attrs["bap_delay"]
        sel = (tb >= d0 - 5) & (tb <= d0 + 40)
        for i, s in enumerate(ds["site"].values):
            ax.plot(tb[sel] - d0, ds["v_bap"].values[i, sel], lw=0.9, label=str(s))
        ax.set(xlabel="t after pulse onset (ms)", ylabel="V (mV)", title="C  back-propagating AP")
        ax.legend(frameon=False)
        ax = axes[1, 0]
        d = ds["bap_distance"].values
        ax.plot(d, ds["bap_amplitude"].values, ".", ms=2.5, color="tab:red")
        ax.set(xlabel="path distance from soma (um)", ylabel="amplitude (mV)", title="D  bAP amplitude (apical segments)")
        ax = axes[1, 1]
        ax.plot(d, ds["bap_latency"].values, ".", ms=2.5, color="tab:red")
        ax.set(xlabel="path distance from soma (um)", ylabel="latency (ms)", title="E  bAP peak latency")
        ax = axes[1, 2]
        ax.axis("off")
        text = summary(ds).replace("; ", "\n").replace(", ", "\n  ")
        if citation:
            text += f"\n\nmodel: {citation}"
        text += "\nprotocols: Hay et al. (2011), ModelDB 139653"
        ax.text(0.0, 1.0, text, va="top", ha="left", fontsize=6.5, wrap=True, transform=ax.transAxes)
        fig.suptitle(ds.attrs["title"], fontsize=9)
        save(fig, paths)


def parameters(cfg, population):
    """What one population's check depends on, and nothing else (Snakemake params: a change
    elsewhere, e.g. the population's size, extrinsic drive or a connection, does not rerun it).

    Returns
    -------
    dict
        ``cell``: its morphology (:func:`lfpk.study.stages.morphology_parameters`); ``biophysics``:
        its biophysics block (the population's own or the config's); ``simulation``: ``dt`` (ms) and
        ``celsius`` (degC); ``mechanisms``: extra folders and quasi-linear versions; ``citation``:
        the morphology's citation (drawn in the figure); ``cell_check``: the protocols block.
    """
    pop = cfg["populations"][population]
    return {"cell": morphology_parameters(cfg, population),
            "biophysics": population_biophysics(cfg, population)[0],
            "simulation": {k: cfg["simulation"][k] for k in ("dt", "celsius")},
            "mechanisms": cfg.get("mechanisms") or {},
            "citation": (pop.get("morphology") or {}).get("citation"),
            "cell_check": cfg.get("cell_check") or {}}


def run(cfg, population, output, figure_paths=()):
    """Simulate the check of ``population`` of a validated config, write ``output`` (netCDF) and
    the figure; returns the dataset."""
    model = from_config(cfg)
    model.load_mechanisms()
    pop = model.population(population)
    sim = cfg["simulation"]
    ds = simulate(pop, Protocols.from_config(cfg.get("cell_check")), celsius=float(sim["celsius"]),
                  dt=float(sim["dt"]))
    citation = (cfg["populations"][population].get("morphology") or {}).get("citation")
    if citation:
        ds.attrs["morphology_citation"] = citation
    write_dataset(ds, output)
    if figure_paths:
        figure(ds, figure_paths, citation=citation)
    return ds
