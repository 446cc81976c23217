"""Facts of the cortical microcircuit of Potjans & Diesmann (2014) and its down-scaling rule.

Sources (cited at each value):

* [PD14] Potjans TC, Diesmann M (2014) The cell-type specific cortical microcircuit: relating
  structure and activity in a full-scale spiking network model. Cereb Cortex 24:785-806,
  doi:10.1093/cercor/bhs358 (Tables 4 and 5, Eq. 1).
* [NEST] NEST's PyNEST example ``pynest/examples/Potjans_2014`` (``network_params.py``,
  ``stimulus_params.py``, ``sim_params.py``, ``network.py``, ``helpers.py``; NEST 3.x, authors
  H. Rothe, H. Bos, S. van Albada, J. Senk et al.), which implements [PD14] and documents the
  down-scaling with weight and DC compensation (van Albada, Helias, Diesmann 2015, PLoS Comput
  Biol 11:e1004490).

The model: eight populations of ``iaf_psc_exp`` neurons (E and I in layers 2/3, 4, 5, 6),
connected by the fixed-total-number rule (the number of synapses K_YX of Eq. 1 of [PD14] drawn
between random pairs, multapses and autapses allowed), exponential current synapses of mean peak
current J (pA) from the mean PSP (0.15 mV, inhibitory -4 times that, L4E -> L23E doubled) with
10 % relative SD, normally distributed delays (E 1.5 ms, I 0.75 ms, SD half the mean) redrawn below
the time step, Poisson background of 8 /s per external synapse (K_ext per neuron), optional
thalamic volley.

Down-scaling ([NEST] ``network.py``, ``helpers.adjust_weights_and_input_to_synapse_scaling``):
neuron numbers round(N_scale N), synapse numbers round(N_scale K_scale K_YX) (in-degrees K_scale
times the full ones), external in-degrees round(K_scale K_ext); with K_scale < 1 every weight is
divided by sqrt(K_scale) (keeping the input variance) and a DC current
0.001 tau_syn (1 - sqrt(K_scale)) (sum_X J_YX k_YX nu_X + J_ext K_ext nu_bg) pA restores the mean
input, with k_YX the full-scale in-degrees and nu_X the full-scale rates (:data:`NEST_FULL_SCALE_RATES`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfpk.study.pointnet.parameters import derived_seed

#: Population names in the order of [PD14] Table 5 / [NEST] (E, I of L2/3, L4, L5, L6).
POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
#: Layer of each population (the names of :data:`lfpk.study.microcircuit.tables.LAYERS`).
POPULATION_LAYER = {"L23E": "L23", "L23I": "L23", "L4E": "L4", "L4I": "L4", "L5E": "L5", "L5I": "L5",
                    "L6E": "L6", "L6I": "L6"}

#: Full-scale neuron numbers under 1 mm^2 of surface ([PD14] Table 5; [NEST] ``full_num_neurons``).
FULL_SIZES = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])

#: Connection probabilities C_YX, rows post-synaptic Y, columns pre-synaptic X, order
#: :data:`POPULATIONS` ([PD14] Table 5; [NEST] ``conn_probs``).
CONNECTION_PROBABILITIES = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443]])

#: External (background) in-degrees K_ext per neuron ([PD14] Table 5; [NEST] ``K_ext``).
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
#: Rate of each background Poisson input (1/s) ([PD14] Table 5; [NEST] ``bg_rate``).
BACKGROUND_RATE = 8.0
#: Delay of the background input (ms) ([NEST] ``delay_poisson``).
BACKGROUND_DELAY = 1.5

#: Mean excitatory PSP amplitude (mV) ([PD14] Table 5; [NEST] ``PSP_exc_mean``).
PSP_EXC_MEAN = 0.15
#: Relative inhibitory strength g ([PD14] Table 5; [NEST] ``g``).
G = -4.0
#: Factor of the L4E -> L23E mean PSP ([PD14] Table 5 footnote; [NEST] ``PSP_matrix_mean[0, 2]``).
L4E_TO_L23E_FACTOR = 2.0
#: Relative SD of the weights ([PD14] Table 5; [NEST] ``weight_rel_std``).
WEIGHT_REL_SD = 0.1
#: Mean delays (ms) of excitatory and inhibitory connections and their relative SD ([PD14] Table 5;
#: [NEST] ``delay_exc_mean``, ``delay_inh_mean``, ``delay_rel_std``).
DELAY_EXC_MEAN = 1.5
DELAY_INH_MEAN = 0.75
DELAY_REL_SD = 0.5

#: ``iaf_psc_exp`` parameters ([PD14] Table 5; [NEST] ``neuron_params``): C_m pF, tau_m ms, E_L mV,
#: V_th mV, V_reset mV, t_ref ms, tau_syn ms (excitatory and inhibitory alike).
NEURON = {"C_m": 250.0, "tau_m": 10.0, "E_L": -65.0, "V_th": -50.0, "V_reset": -65.0, "t_ref": 2.0,
          "tau_syn": 0.5}

#: Initial membrane potentials (mV): ``original`` N(-58, 10) for all ([PD14]); ``optimized``
#: population-specific means and SDs that reduce the initial burst ([NEST] ``V0_mean``, ``V0_std``,
#: default since 2019, H.-J. Jiang).
V0 = {"original": {"mean": np.full(8, -58.0), "sd": np.full(8, 10.0)},
      "optimized": {"mean": np.array([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]),
                    "sd": np.array([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48])}}

#: Mean rates (1/s) of the full-scale network, order :data:`POPULATIONS`, as NEST documents them
#: ([NEST] ``network_params.py`` ``full_mean_rates``: "obtained by running this PyNEST microcircuit
#: with 12 MPI processes and both N_scaling and K_scaling set to 1"). They enter the DC
#: compensation of a down-scaled network and are the reference of the rate checks. [PD14] shows
#: the full-scale rates as a bar chart (Fig. 6) without a table of numbers.
NEST_FULL_SCALE_RATES = np.array([0.943, 3.026, 4.368, 5.882, 7.733, 8.664, 1.096, 7.851])
#: The same, as the earlier NEST example (2016, SLI-derived) documented them (``full_mean_rates``).
NEST_FULL_SCALE_RATES_2016 = np.array([0.971, 2.868, 4.746, 5.396, 8.142, 9.078, 0.991, 7.523])

#: Optional thalamic volley ([PD14] "Response to transient thalamic input"; [NEST]
#: ``stimulus_params.py``): 902 thalamic neurons (not scaled), Poisson at 120 /s from 700 ms for
#: 10 ms, connection probabilities to L4E, L4I, L6E, L6I, PSP 0.15 mV (weight SD as the network's),
#: delays 1.5 ms with relative SD 0.5.
THALAMUS = {"neurons": 902, "rate": 120.0, "start": 700.0, "duration": 10.0,
            "probabilities": np.array([0.0, 0.0, 0.0983, 0.0619, 0.0, 0.0, 0.0512, 0.0196]),
            "psp": 0.15, "delay": 1.5, "delay_rel_sd": 0.5}

#: Stream number of the NEST seed derived from the configuration's master seed.
SEED_STREAM_NEST = 27001


def synapse_numbers(probabilities, n_post, n_pre):
    """Total synapse numbers K_YX of the fixed-total-number rule ([PD14] Eq. 1).

    ``K = log(1 - C) / log(1 - 1 / (N_Y N_X))``: drawing K synapses between random pairs of
    the N_Y N_X possible ones (with replacement) leaves a pair unconnected with probability
    ``(1 - 1/(N_Y N_X))^K = 1 - C``.

    Parameters
    ----------
    probabilities : array_like
        C_YX (rows post Y, columns pre X), dimensionless.
    n_post, n_pre : array_like
        Neuron numbers N_Y and N_X.

    Returns
    -------
    ndarray
        K_YX (float; not rounded).
    """
    pairs = np.outer(np.asarray(n_post, float), np.asarray(n_pre, float))
    return np.log1p(-np.asarray(probabilities, float)) / np.log1p(-1.0 / pairs)


def psc_over_psp(C_m, tau_m, tau_syn):
    """Peak current (pA) of an exponential current synapse per mV of PSP peak.

    A current ``J exp(-t / tau_syn)`` into a leaky membrane (``C_m`` pF, ``tau_m`` ms) gives
    ``V(t) = J tau_m tau_syn / (C_m (tau_m - tau_syn)) (exp(-t / tau_m) - exp(-t / tau_syn))``
    (mV for pA), which peaks at ``t* = tau_m tau_syn ln(tau_m / tau_syn) / (tau_m - tau_syn)``;
    the factor is ``J / V(t*)``. For the microcircuit's neuron (250 pF, 10 ms, 0.5 ms) it is
    585.4 pA/mV, so 0.15 mV needs 87.8 pA (as [NEST] ``postsynaptic_potential_to_current``).
    """
    t_peak = tau_m * tau_syn * np.log(tau_m / tau_syn) / (tau_m - tau_syn)
    v_per_pA = tau_m * tau_syn / (C_m * (tau_m - tau_syn)) * (np.exp(-t_peak / tau_m) - np.exp(-t_peak / tau_syn))
    return 1.0 / v_per_pA


def psp_matrix():
    """Mean PSP amplitudes (mV), rows post Y, columns pre X: 0.15 from E, -0.6 from I, 0.3 for
    L4E -> L23E ([PD14] Table 5)."""
    psp = np.tile(np.array([PSP_EXC_MEAN, G * PSP_EXC_MEAN]), (8, 4))
    psp[0, 2] = L4E_TO_L23E_FACTOR * PSP_EXC_MEAN
    return psp


def delay_matrix():
    """Mean delays (ms), rows post, columns pre: 1.5 from E, 0.75 from I ([PD14] Table 5)."""
    return np.tile(np.array([DELAY_EXC_MEAN, DELAY_INH_MEAN]), (8, 4))


def pair_statistics(scale, indegree_scale):
    """Connection probability and multapse mean per pair of the down-scaled network.

    With neuron numbers ``scale`` N and synapse numbers ``scale indegree_scale`` K_YX drawn
    between random pairs, the synapses of a pair are (to O(1/N^2)) Poisson with mean
    ``lambda = -log(1 - C) indegree_scale / scale``: the pair is connected with probability
    ``1 - exp(-lambda)`` (C when ``indegree_scale == scale``), and a connected pair has a
    zero-truncated Poisson(lambda) number of synapses (scipy.stats ``poisson(mu=lambda)`` on 1..99,
    :func:`lfpk.model.rules.multapse_pmf`).

    Returns
    -------
    probability, mu : ndarray
        8 x 8 (rows post, columns pre); ``mu`` is 0 where C is 0.
    """
    mu = -np.log1p(-CONNECTION_PROBABILITIES) * float(indegree_scale) / float(scale)
    return -np.expm1(-mu), mu


@dataclass(frozen=True)
class MicrocircuitParameters:
    """The microcircuit at a scale, and everything NEST needs to build it.

    Attributes
    ----------
    scale : float
        N_scaling: neuron numbers are ``round(scale * FULL_SIZES)``.
    indegree_scale : float
        K_scaling: in-degrees (recurrent and external) are ``indegree_scale`` times the full ones,
        weights divided by its square root and DC added (module docstring).
    background : str
        ``poisson`` (K_ext Poisson inputs of 8 /s) or ``dc`` (their mean as a DC current, [NEST]
        ``poisson_input = False``).
    initial_voltage : str
        ``optimized`` or ``original`` (:data:`V0`).
    thalamus : dict or None
        ``start``, ``duration`` (ms), ``rate`` (1/s) of the thalamic volley; None: off.
    dt : float
        Time step (ms).
    seed : int
        NEST ``rng_seed``.
    threads : int
        NEST ``local_num_threads`` (part of the model: one random stream per thread).
    """

    scale: float = 0.1
    indegree_scale: float = 0.1
    background: str = "poisson"
    initial_voltage: str = "optimized"
    thalamus: dict | None = None
    dt: float = 0.1
    seed: int = 55
    threads: int = 1

    def __post_init__(self):
        if not (0.0 < self.scale <= 1.0):
            raise ValueError(f"microcircuit.scale: {self.scale} is not in (0, 1]")
        if not (0.0 < self.indegree_scale <= 1.0):
            raise ValueError(f"microcircuit.indegree_scale: {self.indegree_scale} is not in (0, 1]")
        if self.background not in ("poisson", "dc"):
            raise ValueError(f"microcircuit.background: {self.background!r}; expected poisson or dc")
        if self.initial_voltage not in V0:
            raise ValueError(f"microcircuit.initial_voltage: {self.initial_voltage!r}; expected one of {sorted(V0)}")
        if np.any(np.round(FULL_SIZES * self.scale) < 1):
            raise ValueError(f"microcircuit.scale: {self.scale} leaves a population without neurons")

    @classmethod
    def from_config(cls, cfg):
        """Parameters of a configuration's ``microcircuit`` block, ``simulation.dt`` and ``seed``
        (the NEST seed derived from it, stream :data:`SEED_STREAM_NEST`)."""
        mc = cfg.get("microcircuit")
        if not mc:
            raise ValueError("the configuration has no 'microcircuit' section (the point-neuron microcircuit)")
        thal = mc.get("thalamus")
        return cls(scale=float(mc["scale"]), indegree_scale=float(mc.get("indegree_scale", mc["scale"])),
                   background=str(mc.get("background", "poisson")),
                   initial_voltage=str(mc.get("initial_voltage", "optimized")),
                   thalamus=None if not thal else {k: float(thal[k]) for k in ("start", "duration", "rate")},
                   dt=float(cfg["simulation"]["dt"]), seed=derived_seed(cfg["seed"], SEED_STREAM_NEST),
                   threads=int(mc.get("threads", 1)))

    # -- derived quantities (all follow [NEST] network.py __derive_parameters) ------------------

    @property
    def populations(self):
        return POPULATIONS

    @property
    def sizes(self):
        """Population -> neuron number ``round(scale N)``."""
        return dict(zip(POPULATIONS, (int(n) for n in np.round(FULL_SIZES * self.scale))))

    def full_synapse_numbers(self):
        """K_YX of the full-scale network (float, [PD14] Eq. 1)."""
        return synapse_numbers(CONNECTION_PROBABILITIES, FULL_SIZES, FULL_SIZES)

    def synapse_numbers(self):
        """Synapses per connection of this network, ``round(scale indegree_scale K_YX)`` (int)."""
        return np.round(self.full_synapse_numbers() * self.scale * self.indegree_scale).astype(np.int64)

    def external_indegrees(self):
        """Background inputs per neuron, ``round(indegree_scale K_ext)``."""
        return np.round(K_EXT * self.indegree_scale).astype(np.int64)

    def weights(self):
        """Mean recurrent weights (pA; rows post, columns pre) and the background weight (pA),
        compensated for the in-degree scaling."""
        factor = psc_over_psp(NEURON["C_m"], NEURON["tau_m"], NEURON["tau_syn"])
        return psp_matrix() * factor / np.sqrt(self.indegree_scale), PSP_EXC_MEAN * factor / np.sqrt(self.indegree_scale)

    def dc_amplitudes(self):
        """DC input (pA) per population: the background's mean if ``background == 'dc'``, plus the
        mean input lost by the in-degree scaling (module docstring)."""
        factor = psc_over_psp(NEURON["C_m"], NEURON["tau_m"], NEURON["tau_syn"])
        J, J_ext = psp_matrix() * factor, PSP_EXC_MEAN * factor
        tau = NEURON["tau_syn"]
        dc = np.zeros(8)
        if self.background == "dc":
            # mean of K_ext Poisson inputs of J_ext exp(-t/tau): rate * K_ext * J_ext * tau (ms -> s: 1e-3)
            dc += 1e-3 * tau * BACKGROUND_RATE * K_EXT * J_ext
        if self.indegree_scale != 1.0:
            indegrees = self.full_synapse_numbers() / FULL_SIZES[:, None]
            lost = 1.0 - np.sqrt(self.indegree_scale)
            dc += 1e-3 * tau * lost * (J * indegrees * NEST_FULL_SCALE_RATES[None, :]).sum(axis=1)
            if self.background == "poisson":
                dc += 1e-3 * tau * lost * J_ext * K_EXT * BACKGROUND_RATE
        return dc

    def thalamic_synapses(self):
        """Synapses from the thalamus onto each population, ``round(scale indegree_scale K_thal)``
        with K_thal of [PD14] Eq. 1 for the 902 thalamic neurons (not scaled) and the full
        population: the thalamic in-degree is ``indegree_scale`` times the full one, as every
        other in-degree. (NEST's example multiplies K_thal by K_scaling only, which at
        N_scaling < 1 raises the thalamic in-degree by 1 / N_scaling.)"""
        K = synapse_numbers(THALAMUS["probabilities"][:, None], FULL_SIZES, [THALAMUS["neurons"]])[:, 0]
        return np.round(K * self.scale * self.indegree_scale).astype(np.int64)

    def thalamic_weight(self):
        """Mean thalamic weight (pA), compensated for the in-degree scaling."""
        factor = psc_over_psp(NEURON["C_m"], NEURON["tau_m"], NEURON["tau_syn"])
        return THALAMUS["psp"] * factor / np.sqrt(self.indegree_scale)

    def as_dict(self):
        """The parameters and the derived numbers (JSON-able), recorded in the spike file."""
        W, w_ext = self.weights()
        return {"scale": self.scale, "indegree_scale": self.indegree_scale, "background": self.background,
                "initial_voltage": self.initial_voltage, "thalamus": self.thalamus, "dt": self.dt,
                "seed": self.seed, "threads": self.threads, "sizes": self.sizes,
                "synapse_numbers": self.synapse_numbers().tolist(),
                "external_indegrees": self.external_indegrees().tolist(), "weights_pA": W.tolist(),
                "external_weight_pA": float(w_ext), "dc_pA": self.dc_amplitudes().tolist(),
                "neuron": dict(NEURON), "source": "Potjans & Diesmann (2014) Cereb Cortex 24:785; NEST "
                "pynest/examples/Potjans_2014"}
