"""The Potjans & Diesmann (2014) microcircuit in NEST: build, simulate, spikes and rates.

:class:`MicrocircuitNetwork` builds the network of
:class:`lfpk.study.microcircuit.parameters.MicrocircuitParameters` as NEST's example
``pynest/examples/Potjans_2014`` does (populations, optional DC, background Poisson generators,
fixed-total-number recurrent connections with redrawn normal weights and delays, optional
thalamic parrot neurons) and inherits simulation and spike collection from
:class:`lfpk.study.pointnet.network.LIFNetwork` (one ``nest.Simulate`` or whole ``min_delay``
chunks; the spikes do not depend on the chunking). The eight neuron populations are created first,
so their NEST node ids are 1..N in population order, the unit ids of the spike file
(:func:`lfpk.study.pointnet.network.spikes_dataset`, the layout ``lfpk predict`` reads).

Reproducibility: the network and its spikes are determined by the parameters, including NEST's
``rng_seed`` and ``local_num_threads`` (one random stream per thread).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from lfpk.base.io import to_json
from lfpk.study.microcircuit.parameters import (
    BACKGROUND_DELAY,
    BACKGROUND_RATE,
    DELAY_REL_SD,
    NEST_FULL_SCALE_RATES,
    NEURON,
    POPULATIONS,
    THALAMUS,
    V0,
    WEIGHT_REL_SD,
    delay_matrix,
)
from lfpk.study.pointnet.features import window_counts
from lfpk.study.pointnet.network import LIFNetwork, spikes_dataset, tics_per_ms


class MicrocircuitNetwork(LIFNetwork):
    """The microcircuit in NEST (module docstring).

    Parameters
    ----------
    params : MicrocircuitParameters

    Attributes
    ----------
    node_ids : dict
        Population -> NEST node ids of its neurons.
    n_connections : int
        NEST's ``num_connections`` after building (recurrent, background, thalamic, recorders).
    """

    def _build(self):
        nest = self.nest
        p = self.params
        nest.ResetKernel()
        nest.SetKernelStatus({"resolution": p.dt, "tics_per_ms": tics_per_ms(p.dt), "rng_seed": int(p.seed),
                              "local_num_threads": int(p.threads), "print_time": False})
        dc = p.dc_amplitudes()
        v0 = V0[p.initial_voltage]
        sizes = p.sizes
        self.neurons, self.recorders, self.node_ids = {}, {}, {}
        for i, name in enumerate(POPULATIONS):
            pop = nest.Create("iaf_psc_exp", sizes[name], {
                "C_m": NEURON["C_m"], "tau_m": NEURON["tau_m"], "E_L": NEURON["E_L"], "V_th": NEURON["V_th"],
                "V_reset": NEURON["V_reset"], "t_ref": NEURON["t_ref"], "tau_syn_ex": NEURON["tau_syn"],
                "tau_syn_in": NEURON["tau_syn"], "I_e": float(dc[i])})
            pop.V_m = nest.random.normal(mean=float(v0["mean"][i]), std=float(v0["sd"][i]))
            self.neurons[name] = pop
            self.node_ids[name] = np.asarray(pop.tolist(), dtype=np.int64)
        for name in POPULATIONS:
            self.recorders[name] = nest.Create("spike_recorder", 1, {"record_to": "memory"})
        W, w_ext = p.weights()
        delays = delay_matrix()
        counts = p.synapse_numbers()
        for i, post in enumerate(POPULATIONS):
            for j, pre in enumerate(POPULATIONS):
                if counts[i, j] > 0:
                    nest.Connect(self.neurons[pre], self.neurons[post],
                                 {"rule": "fixed_total_number", "N": int(counts[i, j])},
                                 {"synapse_model": "static_synapse", "weight": self._weight(W[i, j]),
                                  "delay": self._delay(delays[i, j])})
        if p.background == "poisson":
            rates = BACKGROUND_RATE * p.external_indegrees()
            for i, name in enumerate(POPULATIONS):
                gen = nest.Create("poisson_generator", 1, {"rate": float(rates[i])})
                nest.Connect(gen, self.neurons[name], "all_to_all",
                             {"synapse_model": "static_synapse", "weight": float(w_ext), "delay": BACKGROUND_DELAY})
        if p.thalamus:
            self._build_thalamus()
        for name in POPULATIONS:
            nest.Connect(self.neurons[name], self.recorders[name])
        self.n_connections = int(nest.GetKernelStatus("num_connections"))
        self.time = 0.0

    def _build_thalamus(self):
        """902 parrot neurons relaying one Poisson generator (independent trains per parrot)."""
        nest = self.nest
        p = self.params
        th = p.thalamus
        parrots = nest.Create("parrot_neuron", THALAMUS["neurons"])
        gen = nest.Create("poisson_generator", 1, {"rate": th["rate"], "start": th["start"],
                                                   "stop": th["start"] + th["duration"]})
        nest.Connect(gen, parrots, "all_to_all")
        counts = p.thalamic_synapses()
        w = p.thalamic_weight()
        for i, name in enumerate(POPULATIONS):
            if counts[i] > 0:
                nest.Connect(parrots, self.neurons[name], {"rule": "fixed_total_number", "N": int(counts[i])},
                             {"synapse_model": "static_synapse", "weight": self._weight(w),
                              "delay": self._delay(THALAMUS["delay"], THALAMUS["delay_rel_sd"])})

    def _weight(self, J):
        """N(J, (0.1 J)^2) redrawn until it has the sign of J (pA) ([NEST] ``weight_rel_std``)."""
        nest = self.nest
        lo, hi = (0.0, np.inf) if J > 0 else (-np.inf, 0.0)
        return nest.math.redraw(nest.random.normal(mean=float(J), std=abs(float(J)) * WEIGHT_REL_SD), min=lo, max=hi)

    def _delay(self, d, rel_sd=DELAY_REL_SD):
        """N(d, (rel_sd d)^2) redrawn below the time step (ms) ([NEST] ``delay_rel_std``)."""
        nest = self.nest
        return nest.math.redraw(nest.random.normal(mean=float(d), std=float(d) * rel_sd),
                                min=float(self.params.dt), max=np.inf)


def microcircuit_spikes_dataset(params, spikes, tstop, transient):
    """The spikes in the ``spikes.nc`` layout (:func:`lfpk.study.pointnet.network.spikes_dataset`)
    with the microcircuit's title and model."""
    return spikes_dataset(params, spikes, tstop, transient, attrs={
        "title": "cortical microcircuit spikes (NEST)",
        "model": "Potjans & Diesmann (2014) Cereb Cortex 24:785, as NEST's pynest/examples/Potjans_2014 "
                 f"(scale {params.scale:g}, in-degree scale {params.indegree_scale:g})"})


def isi_cv(times, units, min_spikes=3):
    """Coefficient of variation of the inter-spike intervals of each unit.

    Parameters
    ----------
    times, units : ndarray
        Spike times (ms) and unit ids, any order.
    min_spikes : int
        Units with fewer spikes are left out.

    Returns
    -------
    ndarray
        CV (std / mean of the ISIs, population SD) of each unit with at least ``min_spikes`` spikes.
    """
    times = np.asarray(times, float)
    units = np.asarray(units)
    if times.size < 2:
        return np.zeros(0)
    order = np.lexsort((times, units))
    t, u = times[order], units[order]
    same = u[1:] == u[:-1]
    isi, owner = np.diff(t)[same], u[1:][same]
    ids, idx, n = np.unique(owner, return_inverse=True, return_counts=True)
    mean = np.bincount(idx, weights=isi) / n
    var = np.bincount(idx, weights=isi**2) / n - mean**2
    keep = n >= (min_spikes - 1)
    return np.sqrt(np.maximum(var[keep], 0.0)) / mean[keep]


def rates_dataset(params, spikes, tstop, transient, wall_time=None):
    """Rates and ISI irregularity per population after the transient (``rates.nc``).

    Returns
    -------
    xarray.Dataset
        ``rate`` (1/s, spikes after ``transient`` / (neurons x duration)), ``rate_sd`` (1/s, SD over
        neurons), ``cv_isi`` (mean CV of the neurons with >= 3 spikes), ``cv_units`` (their number),
        ``rate_nest_full_scale`` (1/s, NEST's documented full-scale rates).
    """
    sizes = params.sizes
    span = (float(tstop) - float(transient)) / 1000.0
    rate, sd, cv, ncv = [], [], [], []
    first = 1
    for name in POPULATIONS:
        t, u = spikes[name]
        t, u = np.asarray(t, float), np.asarray(u, np.int64)
        keep = (t >= transient) & (t < tstop)
        per_unit = np.bincount(u[keep] - first, minlength=sizes[name])[: sizes[name]] / span
        rate.append(float(window_counts(t, params.dt, transient, tstop).sum()) / sizes[name] / span)
        sd.append(float(per_unit.std()))
        c = isi_cv(t[keep], u[keep])
        cv.append(float(c.mean()) if c.size else np.nan)
        ncv.append(int(c.size))
        first += sizes[name]
    attrs = {"title": "microcircuit rates and irregularity", "tstop": float(tstop), "transient": float(transient),
             "parameters": to_json(params.as_dict())}
    if wall_time is not None:
        attrs["wall_time_s"] = float(wall_time)
    return xr.Dataset(
        {"rate": ("population", rate, {"units": "1/s", "long_name": "mean rate per neuron after the transient"}),
         "rate_sd": ("population", sd, {"units": "1/s", "long_name": "SD of the neurons' rates"}),
         "cv_isi": ("population", cv, {"units": "1", "long_name": "mean ISI CV of neurons with >= 3 spikes"}),
         "cv_units": ("population", ncv, {"units": "1", "long_name": "neurons in cv_isi"}),
         "rate_nest_full_scale": ("population", NEST_FULL_SCALE_RATES, {
             "units": "1/s", "long_name": "full-scale rates documented by NEST's Potjans_2014 example"})},
        coords={"population": ("population", list(POPULATIONS), {"long_name": "neuron population"})},
        attrs=attrs)
