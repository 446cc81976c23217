"""Parameters of the point-neuron (LIF) network, from the study configuration.

The network is the leaky integrate-and-fire network of Hagen et al. (2022), PLOS Comput Biol
18:e1010353, Fig 14 (the study's ``LIF_net.py``): one NEST ``iaf_psc_exp`` population per
ground-truth population, with

* the ground truth's population sizes (``populations.<X>.size``) and pairwise connection
  probabilities (``connections[].probability``, NEST ``pairwise_bernoulli``);
* per connection X -> Y a current-based exponential synapse of mean peak current ``weight`` J_YX
  (pA; negative for inhibition), each synapse's weight drawn from N(J, (weight_sd |J|)^2) and redrawn
  until it has the sign of J, and a delay drawn from N(d, (delay_sd d)^2) redrawn below
  ``delay_min`` (ms);
* extrinsic Poisson drive of rate ``rate * count`` (the ground truth's extrinsic synapse rate and
  count, ``populations.<X>.extrinsic``) through synapses of weight ``pointnet.extrinsic.weight``
  (pA), one independent train per neuron;
* neuron parameters per population (``pointnet.populations.<X>``): membrane capacitance ``C_m``
  (pF), time constant ``tau_m`` (ms), resting potential ``E_L`` (mV), threshold ``V_th`` (mV), reset
  ``V_reset`` (mV), refractory period ``t_ref`` (ms), synaptic time constants ``tau_syn_ex`` and
  ``tau_syn_in`` (ms).

A value with ``*_bounds`` (``[lower, upper]``) is a free parameter of the fit
(:mod:`lfpk.study.pointnet.fit`); the study's 11 are the four weights, the extrinsic weight, the four
delays and the two capacitances.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import numpy as np

from lfpk.model.times import time_errors
from lfpk.study.resources import BASE, format_bytes, memory_limit

#: NEST neuron model of every population.
NEURON_MODEL = "iaf_psc_exp"
#: Neuron parameters of ``pointnet.populations.<X>`` passed to NEST (name: units).
NEURON_KEYS = {"C_m": "pF", "tau_m": "ms", "E_L": "mV", "V_th": "mV", "V_reset": "mV", "t_ref": "ms",
               "tau_syn_ex": "ms", "tau_syn_in": "ms"}
#: Stream numbers of the random seeds derived from the study's master seed.
SEED_STREAM_NEST = 14001
SEED_STREAM_FIT = 14002


def derived_seed(master, stream, high=2**31 - 1):
    """A seed in ``[1, high)`` derived from the master seed and a stream number.

    ``numpy.random.SeedSequence([master, stream])``: distinct streams give independent seeds.
    """
    state = np.random.SeedSequence([int(master), int(stream)]).generate_state(1, dtype=np.uint64)[0]
    return int(state % np.uint64(high - 1)) + 1


@dataclass(frozen=True)
class FreeParameter:
    """One free parameter of the fit.

    Attributes
    ----------
    name : str
        ``weight E->I``, ``delay E->I``, ``weight ext`` or ``C_m E``.
    units : str
    lower, upper : float
        Bounds (in ``units``).
    kind : str
        ``weight``, ``delay``, ``extrinsic_weight`` or ``C_m``.
    target : str or tuple
        Connection ``(pre, post)`` or population name ('' for the extrinsic weight).
    """

    name: str
    units: str
    lower: float
    upper: float
    kind: str
    target: object = ""


@dataclass(frozen=True)
class LIFParameters:
    """Everything the NEST network needs (see the module docstring for the model).

    Attributes
    ----------
    populations : tuple of str
    sizes : dict
        Population -> number of neurons.
    neurons : dict
        Population -> ``iaf_psc_exp`` parameters (:data:`NEURON_KEYS`).
    connections : tuple of dict
        ``pre``, ``post``, ``probability`` (1), ``weight`` (pA), ``delay`` (ms).
    extrinsic_rate : dict
        Population -> rate of its Poisson drive per neuron (1/s): extrinsic rate x count.
    extrinsic_weight : float
        Peak current of an extrinsic synapse (pA).
    weight_sd, delay_sd : float
        Relative standard deviations of weights and delays.
    delay_min : float
        Smallest delay (ms).
    dt : float
        Time step (ms).
    seed : int
        NEST ``rng_seed``.
    threads : int
        NEST ``local_num_threads`` (NEST's random streams are per thread: part of the model).
    free : tuple of FreeParameter
        Parameters the fit may change.
    """

    populations: tuple
    sizes: dict
    neurons: dict
    connections: tuple
    extrinsic_rate: dict
    extrinsic_weight: float
    weight_sd: float
    delay_sd: float
    delay_min: float
    dt: float
    seed: int
    threads: int
    free: tuple = field(default_factory=tuple)

    @classmethod
    def from_config(cls, cfg):
        """Parameters of the study configuration ``cfg`` (validated, with a ``pointnet`` section)."""
        if "pointnet" not in cfg:
            raise ValueError("the configuration has no 'pointnet' section (the point-neuron network)")
        pn = cfg["pointnet"]
        pops = tuple(cfg["populations"])
        sizes = {p: int(cfg["populations"][p]["size"]) for p in pops}
        neurons = {p: {k: float(pn["populations"][p][k]) for k in NEURON_KEYS} for p in pops}
        probability = {(c["pre"], c["post"]): float(c["probability"]) for c in cfg["connections"]}
        conns = []
        free = []
        for c in pn["connections"]:
            key = (c["pre"], c["post"])
            conns.append({"pre": c["pre"], "post": c["post"], "probability": probability[key],
                          "weight": float(c["weight"]), "delay": float(c["delay"])})
        for c in pn["connections"]:
            if "weight_bounds" in c:
                lo, hi = c["weight_bounds"]
                free.append(FreeParameter(f"weight {c['pre']}->{c['post']}", "pA", float(lo), float(hi), "weight",
                                          (c["pre"], c["post"])))
        ext = pn["extrinsic"]
        if "bounds" in ext:
            lo, hi = ext["bounds"]
            free.append(FreeParameter("weight ext", "pA", float(lo), float(hi), "extrinsic_weight", ""))
        for c in pn["connections"]:
            if "delay_bounds" in c:
                lo, hi = c["delay_bounds"]
                free.append(FreeParameter(f"delay {c['pre']}->{c['post']}", "ms", float(lo), float(hi), "delay",
                                          (c["pre"], c["post"])))
        for p in pops:
            if "C_m_bounds" in pn["populations"][p]:
                lo, hi = pn["populations"][p]["C_m_bounds"]
                free.append(FreeParameter(f"C_m {p}", "pF", float(lo), float(hi), "C_m", p))
        rate = {p: float(cfg["populations"][p]["extrinsic"]["rate"]) * int(cfg["populations"][p]["extrinsic"]["count"])
                for p in pops}
        return cls(populations=pops, sizes=sizes, neurons=neurons, connections=tuple(conns), extrinsic_rate=rate,
                   extrinsic_weight=float(ext["weight"]), weight_sd=float(pn["weight_sd"]),
                   delay_sd=float(pn["delay_sd"]), delay_min=float(pn["delay_min"]),
                   dt=float(cfg["simulation"]["dt"]), seed=derived_seed(cfg["seed"], SEED_STREAM_NEST),
                   threads=int(pn["threads"]), free=tuple(free))

    # -- free parameters ---------------------------------------------------------------------

    @property
    def free_names(self):
        return [f.name for f in self.free]

    @property
    def bounds(self):
        """(lower, upper) arrays of the free parameters."""
        return (np.array([f.lower for f in self.free], dtype=float),
                np.array([f.upper for f in self.free], dtype=float))

    def values(self):
        """Current values of the free parameters (array, in :attr:`free` order)."""
        out = []
        for f in self.free:
            if f.kind == "C_m":
                out.append(self.neurons[f.target]["C_m"])
            elif f.kind == "extrinsic_weight":
                out.append(self.extrinsic_weight)
            else:
                conn = next(c for c in self.connections if (c["pre"], c["post"]) == f.target)
                out.append(conn[f.kind])
        return np.array(out, dtype=float)

    def with_values(self, x):
        """A copy with the free parameters set to ``x`` (sequence in :attr:`free` order, or a
        mapping name -> value)."""
        if isinstance(x, dict):
            unknown = [k for k in x if k not in self.free_names]
            if unknown:
                raise ValueError(f"unknown free parameter(s) {unknown}; expected some of {self.free_names}")
            x = [x.get(f.name, v) for f, v in zip(self.free, self.values())]
        x = np.asarray(x, dtype=float)
        if x.shape != (len(self.free),):
            raise ValueError(f"expected {len(self.free)} free parameter values ({self.free_names}), got shape {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError(f"free parameter values must be finite, got {x.tolist()}")
        neurons = copy.deepcopy(self.neurons)
        conns = [dict(c) for c in self.connections]
        ext = self.extrinsic_weight
        for f, v in zip(self.free, x):
            if f.kind == "C_m":
                neurons[f.target]["C_m"] = float(v)
            elif f.kind == "extrinsic_weight":
                ext = float(v)
            else:
                next(c for c in conns if (c["pre"], c["post"]) == f.target)[f.kind] = float(v)
        return replace(self, neurons=neurons, connections=tuple(conns), extrinsic_weight=ext)

    def as_dict(self):
        """Plain description (for netCDF attributes)."""
        return {
            "model": NEURON_MODEL, "populations": list(self.populations), "sizes": self.sizes,
            "neurons": self.neurons, "connections": [dict(c) for c in self.connections],
            "extrinsic_rate": self.extrinsic_rate, "extrinsic_weight": self.extrinsic_weight,
            "weight_sd": self.weight_sd, "delay_sd": self.delay_sd, "delay_min": self.delay_min,
            "dt": self.dt, "seed": self.seed, "threads": self.threads,
            "free": [{"name": f.name, "units": f.units, "lower": f.lower, "upper": f.upper} for f in self.free],
        }


#: Bytes per recorded spike at the peak of a LIF run (``lfpk pointnet simulate``): time (float64)
#: and node id (int64) in the chunks kept, their concatenation, the sorted copies of
#: :func:`lfpk.study.pointnet.network.spikes_dataset` and the netCDF writing. Measured (peak
#: resident memory of 40 E / 10 I neurons over 1e5 and 5e5 ms, 71 k and 356 k spikes): 535 bytes
#: per spike; an upper-end figure, as :mod:`lfpk.study.resources`.
BYTES_PER_SPIKE = 600.0
#: Rate (1/s) assumed for a population without ``kernel.rates`` (as :mod:`lfpk.study.resources`).
DEFAULT_RATE = 10.0


def spike_memory(cfg, tstop):
    """Expected spikes and peak memory of one LIF run of ``cfg`` over ``tstop``.

    Parameters
    ----------
    cfg : dict
        Configuration: ``populations.<X>.size`` and the expected rates ``kernel.rates`` (1/s, the
        ground truth's rates the LIF network is fitted to; :data:`DEFAULT_RATE` if absent).
    tstop : float
        Simulated time (ms).

    Returns
    -------
    spikes, bytes : float
        Expected number of recorded spikes (sum over populations of size x rate x tstop) and the
        memory (bytes) holding them (:data:`BYTES_PER_SPIKE` each, plus the interpreter's
        :data:`lfpk.study.resources.BASE`).
    """
    rates = (cfg.get("kernel") or {}).get("rates") or {}
    spikes = sum(float(p["size"]) * float(rates.get(name, DEFAULT_RATE)) for name, p in cfg["populations"].items())
    spikes *= float(tstop) / 1000.0
    return spikes, BASE + BYTES_PER_SPIKE * spikes


def spike_memory_errors(cfg, tstop, name):
    """A message naming ``name`` (the key or option of ``tstop``, ms) if the spikes a LIF run of
    ``cfg`` records over ``tstop`` cannot fit in memory (:func:`spike_memory` against
    :func:`lfpk.study.resources.memory_limit`); else an empty list."""
    try:
        limit, what = memory_limit()
    except ValueError as exc:
        return [str(exc)]
    spikes, need = spike_memory(cfg, tstop)
    if need <= limit:
        return []
    return [f"{name}: {float(tstop):g} ms of the LIF network would record about {spikes:.3g} spikes at the expected "
            f"rates (kernel.rates), about {format_bytes(need)} in memory, more than {format_bytes(limit)} ({what}); "
            "expected a shorter simulated time (or set LFPK_MEMORY_LIMIT when running on a machine with more memory)"]


def config_errors(cfg):
    """Rules of the ``pointnet`` section the schema cannot express (called by
    :func:`lfpk.api.config.validate_config`); one message per problem, naming the key."""
    pn = cfg.get("pointnet")
    if not pn:
        return []
    errors = []
    pops = list(cfg["populations"])
    if sorted(pn["populations"]) != sorted(pops):
        errors.append(f"pointnet.populations: has {sorted(pn['populations'])}; expected exactly the populations "
                      f"{pops}")
    pairs = [(c["pre"], c["post"]) for c in cfg["connections"]]
    seen = set()
    for i, c in enumerate(pn["connections"]):
        where = f"pointnet.connections[{i}]"
        key = (c["pre"], c["post"])
        if key not in pairs:
            errors.append(f"{where}: connection {key[0]} -> {key[1]} is not in connections; expected one entry per "
                          f"connection ({', '.join(f'{a} -> {b}' for a, b in pairs)})")
        if key in seen:
            errors.append(f"{where}: connection {key[0]} -> {key[1]} is given twice")
        seen.add(key)
        if "weight_bounds" in c:
            lo, hi = c["weight_bounds"]
            if (lo < 0 < hi) or (lo > 0 and c["weight"] < 0) or (hi < 0 and c["weight"] > 0):
                errors.append(f"{where}.weight_bounds: {[lo, hi]} pA must not cross 0 and must have the sign of "
                              f"the weight ({c['weight']} pA): the fit keeps excitation excitatory")
        if "delay_bounds" in c and c["delay_bounds"][0] <= 0:
            errors.append(f"{where}.delay_bounds: lower bound {c['delay_bounds'][0]} ms must be positive")
    missing = [f"{a} -> {b}" for a, b in pairs if (a, b) not in seen]
    if missing:
        errors.append(f"pointnet.connections: no entry for {', '.join(missing)}; expected one per connection")
    bounded = [(f"pointnet.connections[{i}].{k}", c[k]) for i, c in enumerate(pn["connections"])
               for k in ("weight_bounds", "delay_bounds") if k in c]
    bounded += [(f"pointnet.populations.{p}.C_m_bounds", v["C_m_bounds"]) for p, v in pn["populations"].items()
                if "C_m_bounds" in v]
    if "bounds" in pn["extrinsic"]:
        bounded.append(("pointnet.extrinsic.bounds", pn["extrinsic"]["bounds"]))
    for where, (lo, hi) in bounded:
        if not lo < hi:
            errors.append(f"{where}: [{lo}, {hi}]; expected lower < upper")
    for where, (lo, hi) in bounded:
        if where.endswith("C_m_bounds") and lo <= 0:
            errors.append(f"{where}: lower bound {lo} pF must be positive")
        if where == "pointnet.extrinsic.bounds" and lo < 0:
            errors.append(f"{where}: lower bound {lo} pA must not be negative")
    for p, v in pn["populations"].items():
        if not v["V_th"] > v["V_reset"]:
            errors.append(f"pointnet.populations.{p}.V_th: {v['V_th']} mV must be above V_reset ({v['V_reset']} mV)")
    sim = cfg["simulation"]
    dt = float(sim["dt"])
    tics = 1000.0 / dt
    if abs(tics - round(tics)) > 1e-9 * tics:
        errors.append(f"simulation.dt: {dt} ms must divide 1 ms into whole thousandths for NEST (pointnet), e.g. "
                      "0.0625 or 0.1")
    if pn["delay_min"] < dt:
        errors.append(f"pointnet.delay_min: {pn['delay_min']} ms must be at least simulation.dt ({dt} ms)")

    fit = pn["fit"]
    # the one rule for times (its transient window is the spectrum-segment rule below)
    errors += time_errors(dt, tstop=fit["tstop"], chunk=pn["online"]["chunk"],
                          names={"tstop": "pointnet.fit.tstop", "chunk": "pointnet.online.chunk"})
    errors += spike_memory_errors(cfg, fit["tstop"], "pointnet.fit.tstop")
    seg = float(fit["spectrum"]["segment"])
    if seg < 4 * dt:
        errors.append(f"pointnet.fit.spectrum.segment: {seg} ms must span at least 4 steps of simulation.dt")
    # (a ground truth too short for one segment is refused when it is fitted, naming the file:
    # short networks for other purposes stay valid)
    if fit["tstop"] - sim["transient"] < seg:
        errors.append(f"pointnet.fit.tstop: {fit['tstop']} ms leaves {fit['tstop'] - sim['transient']:g} ms after "
                      f"simulation.transient ({sim['transient']} ms); expected at least one spectrum segment "
                      f"(pointnet.fit.spectrum.segment {seg} ms)")
    if fit["spectrum"]["fmax"] > 500.0 / dt:
        errors.append(f"pointnet.fit.spectrum.fmax: {fit['spectrum']['fmax']} Hz is above the Nyquist frequency "
                      f"{500.0 / dt:g} Hz of simulation.dt")
    return errors


#: The ground-truth run the point-neuron network is fitted to and compared with.
POINTNET_RUN = "default"


def config_subset(cfg):
    """The part of a configuration the pointnet stages depend on (a configuration itself: the
    stages read nothing else), so a workflow reruns them only when it changes."""
    return {
        "seed": cfg["seed"],
        "simulation": {k: cfg["simulation"][k] for k in ("dt", "tstop", "transient")},
        "populations": {p: {"size": v["size"], "extrinsic": {k: v["extrinsic"][k] for k in ("count", "rate")}}
                        for p, v in cfg["populations"].items()},
        "connections": [{"pre": c["pre"], "post": c["post"], "probability": c["probability"]}
                        for c in cfg["connections"]],
        "pointnet": copy.deepcopy(cfg["pointnet"]),
    }


def workflow_targets(cfg, results):
    """Final outputs of the pointnet stage of a study (none without a ``pointnet`` section)."""
    if "pointnet" not in cfg:
        return []
    base = f"{results}/pointnet/{POINTNET_RUN}"
    return ([f"{base}/{name}" for name in ("fit.nc", "spikes.nc", "online.nc", "offline.nc", "comparison.csv",
                                             "rates.nc")]
            + [f"{results}/figures/paper/Fig14.{ext}" for ext in ("png", "pdf")])
