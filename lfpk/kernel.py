"""Spike-to-signal kernels H_YX from linearised multicompartment neurons.

Method of Hagen et al. (2022), PLOS Comput Biol 18:e1010353 ("Brain signal predictions from
multi-scale networks using a linearized framework", Methods): the signal produced by the whole
postsynaptic population Y in response to one spike of one neuron of the presynaptic population X
is computed from one representative cell of Y placed at the population's mean depth:

- connection statistics: ``K_YX = C_YX * N_X * N_Y * E[multapses]`` synapses in total,
  ``k_in = K_YX / N_Y`` per postsynaptic cell, ``k_out = K_YX / N_X`` activated per presynaptic spike;
- per-segment synapse probability ``p_i ∝ area_i * sum_h w_h f_h(z_i)`` on the allowed sections,
  each Gaussian depth density ``f_h`` broadened to ``sqrt(sd_h**2 + z_sd**2)`` for the spread of
  somata in depth;
- a conductance synapse (weight g, reversal E) linearised around V_rest becomes a current synapse of
  amplitude ``-g * (V_rest - E)`` (nA) with the same time course; all ``k_out`` synapses are
  activated at once, segment i receiving the fraction ``p_i``;
- optionally (``g_eff``) each segment's leak is raised by the time-averaged conductance of all the
  synapses it receives (recurrent from every population, ``k_in * p_i`` synapses at rate ``nu_X``,
  and extrinsic, ``n_ext`` synapses spread by area at ``nu_ext``);
- transmembrane currents are mapped to every probe by its linear matrix, convolved with the
  conduction-delay distribution on the lag grid and made causal.

The cell is linear (``passive``, ``frozen`` or ``quasi_linear`` biophysics, see
:mod:`lfpk.biophysics`), starts at rest and needs no settling time. One :class:`KernelCell` per
postsynaptic population is built once and re-parametrised in place, so scans over rates and
V_rest cost one short simulation each.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass

import numpy as np
import scipy.stats

from lfpk import connectivity
from lfpk.connectivity import frozen_distribution
from lfpk.morphology import BallAndStick

#: Linearised variants the kernel cell accepts.
KERNEL_BIOPHYSICS = ("passive", "frozen", "quasi_linear")
#: Synapse models: conductance based (linearised) and current based (taken as is).
SYNAPSE_MODELS = ("Exp2Syn", "Exp2SynI")


class KernelError(ValueError):
    """Invalid kernel parameters; the message names the parameter."""


# ---------------------------------------------------------------------------------------------
# Connection statistics
# ---------------------------------------------------------------------------------------------


def _distribution(spec, what):
    try:
        return frozen_distribution(spec, what)
    except ValueError as exc:
        raise KernelError(str(exc)) from None


def multapse_pmf(spec, what="multapses"):
    """Probability of 1..99 synapses per connected pair (the network's rule, shared with it).

    Continuous scipy.stats distributions are evaluated (pdf) at the integers 1..99, discrete ones
    (pmf) likewise; both are normalised on 1..99 (Hagen et al. 2022, Methods).

    Returns
    -------
    counts : ndarray of int, shape (99,)
    pmf : ndarray, shape (99,), sums to 1
    """
    try:
        return connectivity.multapse_pmf(spec, connectivity.MULTAPSE_MAX, what)
    except ValueError as exc:
        raise KernelError(str(exc)) from None


def mean_multapses(spec, what="multapses") -> float:
    """Expected number of synapses per connected pair (dimensionless)."""
    counts, pmf = multapse_pmf(spec, what)
    return float(np.sum(counts * pmf))


@dataclass(frozen=True)
class SynapseCounts:
    """Synapse counts of one connection X -> Y.

    Attributes
    ----------
    K : float
        Expected total number of synapses ``C_YX * N_X * N_Y * E[multapses]``.
    k_in : float
        Expected synapses per postsynaptic cell, ``K / N_Y``.
    k_out : float
        Expected synapses activated per presynaptic spike, ``K / N_X``.
    mean_multapses : float
        Expected synapses per connected pair.
    """

    K: float
    k_in: float
    k_out: float
    mean_multapses: float


def synapse_counts(probability, N_pre, N_post, multapses) -> SynapseCounts:
    """Connection statistics of Hagen et al. (2022) for ``C_YX``, ``N_X``, ``N_Y`` and multapses."""
    if not 0.0 <= probability <= 1.0:
        raise KernelError(f"probability: C_YX must be in [0, 1], got {probability}")
    for name, n in (("N_pre", N_pre), ("N_post", N_post)):
        if n < 1:
            raise KernelError(f"{name}: population size must be >= 1, got {n}")
    m = mean_multapses(multapses)
    K = probability * N_pre * N_post * m
    return SynapseCounts(K=K, k_in=K / N_post, k_out=K / N_pre, mean_multapses=m)


# ---------------------------------------------------------------------------------------------
# Synapses
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Synapse:
    """Double-exponential synapse (NEURON Exp2Syn time course, peak-normalised).

    Parameters
    ----------
    tau1, tau2 : float
        Rise and decay time constants (ms), tau2 > tau1 > 0.
    weight : float
        Mean peak conductance (uS) for ``Exp2Syn``, peak current (nA, positive = inward) for
        ``Exp2SynI``.
    e : float
        Reversal potential (mV) of a conductance synapse.
    model : str
        ``Exp2Syn`` (conductance based, linearised around V_rest) or ``Exp2SynI`` (current based).
    weight_sd : float
        Standard deviation of the weight as a fraction of ``weight``; weights are drawn from a
        normal distribution redrawn below 0, so the mean weight is that of the normal distribution
        truncated at 0.
    """

    tau1: float
    tau2: float
    weight: float
    e: float = 0.0
    model: str = "Exp2Syn"
    weight_sd: float = 0.0

    def __post_init__(self):
        if self.model not in SYNAPSE_MODELS:
            raise KernelError(f"synapse.model: {self.model!r} is not one of {SYNAPSE_MODELS}")
        if not (self.tau1 > 0 and self.tau2 > self.tau1):
            raise KernelError(
                f"synapse.tau2: need tau2 > tau1 > 0 (ms), got tau1={self.tau1}, tau2={self.tau2}"
            )
        if self.weight_sd < 0:
            raise KernelError(f"synapse.weight_sd: must be >= 0, got {self.weight_sd}")

    @classmethod
    def from_config(cls, syn):
        return cls(
            tau1=float(syn["tau1"]), tau2=float(syn["tau2"]), weight=float(syn["weight"]),
            e=float(syn.get("e", 0.0)), model=syn.get("model", "Exp2Syn"),
            weight_sd=float(syn.get("weight_sd", 0.0)),
        )

    @property
    def conductance_based(self) -> bool:
        return self.model == "Exp2Syn"

    @property
    def mean_weight(self) -> float:
        """Mean weight (uS or nA) of the normal distribution truncated below at 0."""
        sd = self.weight_sd * abs(self.weight)
        if sd == 0 or self.weight == 0:
            return self.weight
        return float(scipy.stats.truncnorm(-self.weight / sd, np.inf, loc=self.weight, scale=sd).mean())

    @property
    def peak_factor(self) -> float:
        """Factor normalising exp(-t/tau2) - exp(-t/tau1) to a peak of 1 (dimensionless)."""
        t_peak = self.tau1 * self.tau2 / (self.tau2 - self.tau1) * np.log(self.tau2 / self.tau1)
        return 1.0 / (np.exp(-t_peak / self.tau2) - np.exp(-t_peak / self.tau1))

    @property
    def time_integral(self) -> float:
        """Integral over time of the peak-normalised time course (ms)."""
        return self.peak_factor * (self.tau2 - self.tau1)

    def linearised_amplitude(self, V_rest):
        """Peak current (nA, positive = inward) of the synapse around ``V_rest`` (mV).

        ``-g * (V_rest - E)`` for a conductance synapse; the weight itself for a current synapse.
        """
        if self.conductance_based:
            return -self.mean_weight * (np.asarray(V_rest, dtype=float) - self.e)
        return np.full_like(np.asarray(V_rest, dtype=float), self.mean_weight)

    def with_weight(self, weight) -> "Synapse":
        return Synapse(self.tau1, self.tau2, weight, self.e, self.model, self.weight_sd)


# ---------------------------------------------------------------------------------------------
# Geometry-dependent quantities
# ---------------------------------------------------------------------------------------------


def synapse_probabilities(segments, placement, z_mean=0.0, z_sd=0.0):
    """Probability of a synapse landing on each segment of the representative cell.

    Parameters
    ----------
    segments : dict
        Segment table of :meth:`lfpk.morphology.BallAndStick.segments` (z in um relative to the
        soma centre, area um2, section names).
    placement : dict
        ``sections`` (allowed section names) and ``densities``: list of ``{weight, mean, sd}``
        Gaussian depth densities (um, absolute depth).
    z_mean : float
        Mean soma depth of the postsynaptic population (um); the cell is placed there.
    z_sd : float
        Standard deviation of soma depths (um): each density's width becomes
        ``sqrt(sd**2 + z_sd**2)``.

    Returns
    -------
    ndarray, shape (n_segments,)
        Probabilities, summing to 1.
    """
    sections = placement.get("sections")
    densities = placement.get("densities")
    if not sections or not densities:
        raise KernelError("placement: needs non-empty 'sections' and 'densities'")
    if not np.isin(segments["section"], list(sections)).any():
        raise KernelError(f"placement.sections: {sections} match no segment of the cell")
    broadened = []
    for i, d in enumerate(densities):
        if d["sd"] <= 0:
            raise KernelError(f"placement.densities[{i}].sd: must be > 0 (um), got {d['sd']}")
        broadened.append(dict(d, sd=float(np.hypot(d["sd"], z_sd))))
    try:  # the network's placement rule at the mean depth, with broadened densities
        return connectivity.segment_probability(segments, z_mean, sections, broadened)
    except ValueError as exc:
        raise KernelError(f"placement: {exc}") from None


def effective_leak(segments, inputs, extrinsic=None):
    """Time-averaged synaptic conductance per membrane area, ``g_eff`` (S/cm2), per segment.

    Parameters
    ----------
    segments : dict
        Segment table (``area`` um2).
    inputs : iterable of (k_in, p, rate, synapse)
        Per presynaptic population: synapses per postsynaptic cell ``k_in``, per-segment
        probabilities ``p`` (n_segments,), presynaptic rate (1/s) and :class:`Synapse`.
    extrinsic : tuple (count, rate, synapse), optional
        Extrinsic synapses per cell spread by area, their Poisson rate (1/s) and synapse.

    Notes
    -----
    Per synapse the mean conductance is ``|g| * rate * integral of the normalised time course``;
    1 uS/um2 = 100 S/cm2. Current-based synapses contribute no conductance.
    """
    area = segments["area"]
    mean_uS = np.zeros_like(area)
    for k_in, p, rate, syn in inputs:
        if syn.conductance_based:
            mean_uS += k_in * np.asarray(p) * abs(syn.mean_weight) * rate * 1e-3 * syn.time_integral
    if extrinsic is not None:
        count, rate, syn = extrinsic
        if syn.conductance_based:
            mean_uS += count * area / area.sum() * abs(syn.mean_weight) * rate * 1e-3 * syn.time_integral
    return mean_uS / area * 100.0


def delay_probabilities(spec, dt, n_lags, what="delays"):
    """Probability of a conduction delay of ``k dt``, k = 0..n-1, as the network draws delays
    (:func:`lfpk.connectivity.delay_step_probabilities`: rounded to the dt grid, at least one step,
    not below the distribution's lower bound), renormalised to the mass inside the window so the
    convolution preserves a kernel's integral. A distribution with mass on negative delays is an
    error (:func:`lfpk.connectivity.delay_distribution`, the same rule as the config and network).
    """
    try:
        mass = connectivity.delay_step_probabilities(spec, dt, n_lags, what)
    except ValueError as exc:
        raise KernelError(str(exc)) from None
    if mass.sum() <= 0:
        raise KernelError(f"{what}: no probability mass within the kernel window (0..{(n_lags - 1) * dt} ms)")
    return mass / mass.sum()


def convolve_delays(response, delay_p):
    """Causal convolution along the last axis of ``response`` (lags 0, dt, ...) with delay bins."""
    from scipy.signal import fftconvolve

    n = response.shape[-1]
    shape = (1,) * (response.ndim - 1) + (len(delay_p),)
    return fftconvolve(response, delay_p.reshape(shape), axes=-1)[..., :n]


# ---------------------------------------------------------------------------------------------
# The linearised cell
# ---------------------------------------------------------------------------------------------


class KernelCell:
    """One linear multicompartment cell of a postsynaptic population, simulated with NEURON.

    Parameters
    ----------
    morphology : lfpk.morphology.BallAndStick
        Geometry of the population's cell (placed at the population's mean depth; the signal
        geometry lives in the probes, so NEURON coordinates are relative to the soma).
    biophysics : str
        ``passive``, ``frozen`` or ``quasi_linear``.
    cfg_biophysics : dict
        Config ``biophysics`` block (densities and reversals).
    passive_g_pas : float
        Leak of the ``passive`` variant (S/cm2).
    celsius : float
        Temperature (degC).
    dt : float
        Time step (ms).
    """

    def __init__(self, morphology, biophysics, cfg_biophysics, passive_g_pas=3e-4, celsius=34.0,
                 dt=2**-4):
        from lfpk import mechanisms

        if biophysics not in KERNEL_BIOPHYSICS:
            raise KernelError(f"biophysics: {biophysics!r} is not one of {KERNEL_BIOPHYSICS}")
        if not dt > 0:
            raise KernelError(f"dt: must be > 0 (ms), got {dt}")
        mechanisms.load()
        from neuron import h

        h.load_file("stdrun.hoc")
        self.h = h
        self.morphology = morphology
        self.biophysics = biophysics
        self.cfg_biophysics = cfg_biophysics
        self.passive_g_pas = passive_g_pas
        self.celsius = celsius
        self.dt = dt
        self.segments = morphology.segments()
        KernelCell._count = getattr(KernelCell, "_count", 0) + 1
        self.sections = morphology.build(prefix=f"kernelcell{KernelCell._count}.{morphology.name}")
        from lfpk.biophysics import segments as neuron_segments

        self._segs = neuron_segments(self.sections)
        self.synapses = [h.Exp2SynI(seg) for seg in self._segs]
        self.netcons = [h.NetCon(None, syn) for syn in self.synapses]
        for nc in self.netcons:
            nc.delay = 0.0
        self._configured = None
        self._inserted = False

    @property
    def n_segments(self) -> int:
        return len(self._segs)

    def configure(self, V_rest, extra_leak=None):
        """Set the linearisation potential (mV, scalar or per segment) and g_eff (S/cm2)."""
        from lfpk import biophysics

        V = np.broadcast_to(np.asarray(V_rest, dtype=float), (self.n_segments,)).copy() \
            if np.ndim(V_rest) == 0 else np.asarray(V_rest, dtype=float)
        if V.shape != (self.n_segments,):
            raise KernelError(
                f"V_rest: expected a scalar or {self.n_segments} per-segment values (mV), got shape {V.shape}"
            )
        key = (V.tobytes(), None if extra_leak is None else np.asarray(extra_leak, float).tobytes())
        if key == self._configured:
            return
        biophysics.apply(
            self.biophysics, self.sections, self.cfg_biophysics, V_rest=V,
            passive_g_pas=self.passive_g_pas, extra_leak=extra_leak, celsius=self.celsius,
        )
        self.V_rest = V
        self._configured = key

    def _run(self, weights, tau1, tau2, n_lags, onset, variable="i_membrane_"):
        h = self.h
        for syn, nc, w in zip(self.synapses, self.netcons, weights):
            syn.tau1, syn.tau2 = tau1, tau2
            nc.weight[0] = w
        cvode = h.CVode()
        cvode.active(0)
        cvode.use_fast_imem(1)
        h.dt = self.dt
        h.steps_per_ms = 1.0 / self.dt
        h.celsius = self.celsius
        recs = [h.Vector().record(getattr(seg, f"_ref_{variable}")) for seg in self._segs]
        gc_enabled = gc.isenabled()
        gc.disable()  # no section of another model may be freed mid-run (see lfpk.network)
        try:
            self._advance(onset, weights, n_lags)
        finally:
            if gc_enabled:
                gc.enable()
        k0 = int(round(onset / self.dt))
        out = np.array([np.asarray(r)[k0:k0 + n_lags] for r in recs])
        if out.shape[1] != n_lags:
            raise RuntimeError(f"kernel simulation returned {out.shape[1]} samples, expected {n_lags}")
        return out

    def _advance(self, onset, weights, n_lags):
        h = self.h
        h.finitialize(float(np.mean(self.V_rest)))
        for seg, v in zip(self._segs, self.V_rest):
            seg.v = v
        h.fcurrent()
        if np.any(weights != 0):
            for nc, w in zip(self.netcons, weights):
                if w != 0:
                    nc.event(onset)
        h.continuerun(onset + (n_lags - 1) * self.dt + 0.5 * self.dt)

    def impulse_response(self, weights, synapse, n_lags, variable="i_membrane_"):
        """Transmembrane currents (nA) for lags 0..(n_lags-1)*dt after all synapses fire at once.

        Parameters
        ----------
        weights : ndarray, shape (n_segments,)
            Peak synaptic current per segment (nA, positive = inward), e.g. ``k_out * p * amp``.
        synapse : Synapse
            Supplies tau1 and tau2 (ms).
        n_lags : int
            Number of samples.
        variable : str
            ``i_membrane_`` (transmembrane current, nA, outward positive) or ``v`` (membrane
            potential, mV).

        Returns
        -------
        ndarray, shape (n_segments, n_lags)
            Response of ``variable``; the input-free state (rest) is subtracted.
        """
        if self._configured is None:
            raise KernelError("configure(V_rest, extra_leak) must be called before impulse_response")
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (self.n_segments,):
            raise KernelError(f"weights: expected shape ({self.n_segments},), got {weights.shape}")
        onset = 2 * self.dt
        if variable not in ("i_membrane_", "v"):
            raise KernelError(f"variable: must be 'i_membrane_' or 'v', got {variable!r}")
        response = self._run(weights, synapse.tau1, synapse.tau2, n_lags, onset, variable)
        if variable == "v" and np.ptp(self.V_rest) == 0:
            response = response - self.V_rest[:, None]
        elif np.ptp(self.V_rest) > 0:  # non-uniform rest: subtract the input-free run (linear)
            response = response - self._run(np.zeros_like(weights), synapse.tau1, synapse.tau2,
                                            n_lags, onset, variable)
        return response


# ---------------------------------------------------------------------------------------------
# Kernel assembly
# ---------------------------------------------------------------------------------------------


@dataclass
class PopulationSpec:
    """What the kernel needs of a population.

    Attributes
    ----------
    name : str
    size : int
        Number of cells N.
    morphology : BallAndStick
    z_mean, z_sd, radius : float
        Soma depth mean and standard deviation, population radius (um).
    extrinsic : tuple (count, rate 1/s, Synapse) or None
    """

    name: str
    size: int
    morphology: BallAndStick
    z_mean: float = 0.0
    z_sd: float = 0.0
    radius: float = 150.0
    extrinsic: tuple | None = None

    def geometry(self):
        """Segment table of the representative cell placed at the mean soma depth (um)."""
        seg = self.morphology.segments()
        seg["z"] = seg["z"] + self.z_mean
        return seg

    @classmethod
    def from_config(cls, name, pop):
        ext = pop.get("extrinsic")
        return cls(
            name=name, size=int(pop["size"]), morphology=BallAndStick.from_config(name, pop),
            z_mean=float(pop["placement"]["z_mean"]), z_sd=float(pop["placement"]["z_sd"]),
            radius=float(pop["placement"]["radius"]),
            extrinsic=None if ext is None else (
                float(ext["count"]), float(ext["rate"]), Synapse.from_config(ext["synapse"])
            ),
        )


@dataclass
class ConnectionSpec:
    """One connection pre (X) -> post (Y) as the kernel needs it."""

    pre: str
    post: str
    probability: float
    multapses: dict
    delays: dict
    synapse: Synapse
    placement: dict

    @classmethod
    def from_config(cls, conn, J=1.0):
        syn = Synapse.from_config(conn["synapse"])
        if syn.conductance_based and syn.e > -20.0 and J != 1.0:
            syn = syn.with_weight(syn.weight * J)  # weight_scaling rule: excitatory weights x J
        return cls(
            pre=conn["pre"], post=conn["post"], probability=float(conn["probability"]),
            multapses=conn["multapses"], delays=conn["delays"], synapse=syn,
            placement=conn["placement"],
        )


@dataclass
class KernelOptions:
    """Options of a kernel computation.

    Attributes
    ----------
    tau : float
        Kernel half-width (ms); lags ``[-tau, tau]`` (causal) or ``(0, tau]`` (fir).
    dt : float
        Lag step (ms).
    form : str
        ``causal`` or ``fir``.
    biophysics : str
        ``passive``, ``frozen`` or ``quasi_linear``.
    g_eff : bool
        Raise the leak by the mean synaptic conductance.
    passive_g_pas : float
        Leak of the passive variant (S/cm2).
    celsius : float
        Temperature (degC).
    """

    tau: float = 50.0
    dt: float = 2**-4
    form: str = "causal"
    biophysics: str = "frozen"
    g_eff: bool = True
    passive_g_pas: float = 3e-4
    celsius: float = 34.0

    def __post_init__(self):
        if not self.dt > 0:
            raise KernelError(f"dt: must be > 0 (ms), got {self.dt}")
        if not self.tau > self.dt:
            raise KernelError(f"tau: must exceed dt ({self.dt} ms), got {self.tau} ms")
        if self.form not in ("causal", "fir"):
            raise KernelError(f"form: must be 'causal' or 'fir', got {self.form!r}")
        if self.biophysics not in KERNEL_BIOPHYSICS:
            raise KernelError(f"biophysics: {self.biophysics!r} is not one of {KERNEL_BIOPHYSICS}")

    @property
    def n_positive(self) -> int:
        """Number of lags 0..tau."""
        return int(round(self.tau / self.dt)) + 1

    def lags(self):
        """Lag coordinate (ms) of the kernel."""
        k = self.n_positive - 1
        if self.form == "causal":
            return np.arange(-k, k + 1) * self.dt
        return np.arange(1, k + 1) * self.dt


class KernelEngine:
    """Kernels H_YX for a network's connections, with one linear cell per postsynaptic population.

    Parameters
    ----------
    populations : dict
        Name -> :class:`PopulationSpec`.
    connections : list of ConnectionSpec
    options : KernelOptions
    cfg_biophysics : dict
        Config ``biophysics`` block.
    probes : callable
        ``probes(population_spec) -> dict`` of name -> probe (see :mod:`lfpk.probes`); probes
        acting on transmembrane currents have ``get_transformation_matrix()`` of shape
        (n_channels, n_segments); dipole-derived probes (``input == 'cdm'``) map the dipole
        moment (3 components) instead.
    """

    def __init__(self, populations, connections, options, cfg_biophysics, probes=None):
        self.populations = populations
        self.connections = {(c.post, c.pre): c for c in connections}
        self.options = options
        self.cfg_biophysics = cfg_biophysics
        self._probe_factory = probes
        self._cells = {}
        self._probes = {}
        self._memo = {}
        for c in connections:
            for role in ("pre", "post"):
                if getattr(c, role) not in populations:
                    raise KernelError(f"connection {c.pre}->{c.post}: {role} population unknown")
            if not options.g_eff:
                continue
            if not c.synapse.conductance_based:
                raise KernelError(
                    f"g_eff: cannot be combined with the current-based synapse of connection "
                    f"{c.pre}->{c.post} (synapse.model Exp2SynI has no conductance); set g_eff off"
                )

    @classmethod
    def from_config(cls, cfg, biophysics=None, g_eff=None, form=None, tau=None):
        from lfpk import probes as probes_module

        kern = cfg["kernel"]
        opts = KernelOptions(
            tau=float(tau if tau is not None else kern["tau"]),
            dt=float(cfg["simulation"]["dt"]),
            form=form or kern["form"],
            biophysics=biophysics or kern["biophysics"],
            g_eff=bool(kern["g_eff"] if g_eff is None else g_eff),
            passive_g_pas=float(kern["passive_g_pas"]),
            celsius=float(cfg["simulation"]["celsius"]),
        )
        pops = {n: PopulationSpec.from_config(n, p) for n, p in cfg["populations"].items()}
        J = float(cfg["weight_scaling"]["J"])
        conns = [ConnectionSpec.from_config(c, J) for c in cfg["connections"]]
        return cls(pops, conns, opts, cfg["biophysics"],
                   probes=lambda pop: probes_module.probes_from_config(cfg, pop.name, cell=pop.geometry()))

    # -- statistics --------------------------------------------------------------------------

    def _memoised(self, kind, post, pre, compute):
        """Cache statistics that do not depend on V_rest or rates (keyed by their inputs, so a
        changed connection is recomputed)."""
        from lfpk.io import to_json

        c = self._connection(post, pre)
        key = (kind, post, pre, c.probability, self.populations[pre].size, self.populations[post].size,
               to_json([c.multapses, c.delays, c.placement]), self.options.dt, self.options.n_positive)
        if key not in self._memo:
            self._memo[key] = compute(c)
        return self._memo[key]

    def counts(self, post, pre) -> SynapseCounts:
        return self._memoised("counts", post, pre, lambda c: synapse_counts(
            c.probability, self.populations[pre].size, self.populations[post].size, c.multapses))

    def delay_probabilities(self, post, pre):
        """Delay mass per lag bin (lags 0..tau) of connection pre -> post."""
        return self._memoised("delays", post, pre, lambda c: delay_probabilities(
            c.delays, self.options.dt, self.options.n_positive))

    def _connection(self, post, pre):
        try:
            return self.connections[(post, pre)]
        except KeyError:
            known = ", ".join(f"{x}->{y}" for (y, x) in self.connections)
            raise KernelError(f"connection {pre}->{post} is not configured (known: {known})") from None

    def synapse_probabilities(self, post, pre):
        pop = self.populations[post]
        return self._memoised("placement", post, pre, lambda c: synapse_probabilities(
            pop.morphology.segments(), c.placement, pop.z_mean, pop.z_sd))

    def g_eff(self, post, rates):
        """Per-segment effective leak (S/cm2) of ``post`` for presynaptic ``rates`` (1/s)."""
        pop = self.populations[post]
        inputs = []
        for (y, x), c in self.connections.items():
            if y != post:
                continue
            if x not in rates:
                raise KernelError(f"rates: missing the rate of population {x!r} (1/s) needed for g_eff")
            inputs.append((self.counts(y, x).k_in, self.synapse_probabilities(y, x), float(rates[x]), c.synapse))
        return effective_leak(pop.morphology.segments(), inputs, pop.extrinsic)

    # -- computation -------------------------------------------------------------------------

    def cell(self, post) -> KernelCell:
        if post not in self._cells:
            o = self.options
            self._cells[post] = KernelCell(self.populations[post].morphology, o.biophysics,
                                           self.cfg_biophysics, o.passive_g_pas, o.celsius, o.dt)
        return self._cells[post]

    def probes(self, post):
        if post not in self._probes:
            if self._probe_factory is None:
                self._probes[post] = {}
            else:
                built = self._probe_factory(self.populations[post])
                self._probes[post] = {
                    name: (probe, np.asarray(probe.get_transformation_matrix(), dtype=float))
                    for name, probe in built.items()
                }
        return self._probes[post]

    def transmembrane_response(self, post, pre, V_rest, rates=None, weight_scale=1.0,
                               variable="i_membrane_"):
        """Delay-free response (n_segments, lags 0..tau) of the whole population to one spike.

        The representative cell receives ``k_out`` synapses distributed by ``p_i``; for
        ``variable='i_membrane_'`` the result is the summed transmembrane current of all
        postsynaptic cells (nA); ``'v'`` gives the representative cell's potential deviation (mV).
        """
        o = self.options
        c = self._connection(post, pre)
        cell = self.cell(post)
        extra = None
        if o.g_eff:
            if rates is None:
                raise KernelError("rates: required when g_eff is on (1/s per presynaptic population)")
            extra = self.g_eff(post, rates)
        cell.configure(V_rest, extra)
        amp = c.synapse.linearised_amplitude(cell.V_rest) * weight_scale
        weights = self.counts(post, pre).k_out * self.synapse_probabilities(post, pre) * amp
        return cell.impulse_response(weights, c.synapse, o.n_positive, variable)

    def kernel(self, post, pre, V_rest, rates=None, weight_scale=1.0):
        """Kernel H_YX for every probe.

        Parameters
        ----------
        post, pre : str
            Postsynaptic (Y) and presynaptic (X) population.
        V_rest : float or ndarray
            Linearisation potential of the postsynaptic cell (mV), scalar or per segment.
        rates : dict, optional
            Presynaptic rates (1/s) by population, for g_eff.
        weight_scale : float
            Extra factor on the synaptic amplitude (linearity checks, scans).

        Returns
        -------
        dict
            ``lags`` (ms), ``transmembrane_current`` (n_segments, n_lags, nA, delays applied) and
            one array (n_channels, n_lags) per probe.
        """
        o = self.options
        response = self.transmembrane_response(post, pre, V_rest, rates, weight_scale)
        response = convolve_delays(response, self.delay_probabilities(post, pre))
        response = response - response[:, :1]  # causal: value at lag 0 subtracted
        out = {"lags": o.lags(), "transmembrane_current": self._window(response)}
        cdm = None
        for name, (probe, M) in self.probes(post).items():
            if getattr(probe, "input", "imem") == "cdm":
                continue
            out[name] = self._window(M @ response)
            if name == "cdm":
                cdm = M @ response
        for name, (probe, M) in self.probes(post).items():
            if getattr(probe, "input", "imem") != "cdm":
                continue
            if cdm is None:
                raise KernelError(f"probe {name!r} needs the 'cdm' probe")
            out[name] = self._window(M @ cdm)
        return out

    def _window(self, positive):
        """Lags 0..tau -> the output window (zeros for negative lags in the causal form)."""
        if self.options.form == "causal":
            pad = np.zeros(positive.shape[:-1] + (positive.shape[-1] - 1,))
            return np.concatenate([pad, positive], axis=-1)
        return positive[..., 1:]


# ---------------------------------------------------------------------------------------------
# Labelled output
# ---------------------------------------------------------------------------------------------

def _probe_dims(probe):
    dim = getattr(probe, "channel_dim", "channel")
    return dim, getattr(probe, "channel_coord_name", None) or dim


def kernel_dataset(engine, post, pre, result, V_rest, rates, parameters=None, provenance=None):
    """Kernel H_YX as a labelled xarray Dataset (kernel data contract).

    Parameters
    ----------
    engine : KernelEngine
    post, pre : str
    result : dict
        Output of :meth:`KernelEngine.kernel`.
    V_rest : float or ndarray
        Linearisation potential used (mV).
    rates : dict or None
        Presynaptic rates used for g_eff (1/s).
    parameters : dict, optional
        Input parameters to store as JSON (e.g. the config subsets used).
    provenance : dict, optional
        Where V_rest and rates came from (stored as JSON).
    """
    import xarray as xr

    from lfpk.io import software_versions, to_json

    o = engine.options
    cell = engine.cell(post)
    pop = engine.populations[post]
    seg = pop.geometry()
    counts = engine.counts(post, pre)
    conn = engine._connection(post, pre)
    data = {
        "transmembrane_current": (("segment", "lag"), result["transmembrane_current"], {
            "units": "nA", "long_name": "summed transmembrane current of the postsynaptic population "
            "per segment of the representative cell (outward positive)"}),
        "synapse_probability": ("segment", engine.synapse_probabilities(post, pre), {
            "units": "1", "long_name": "probability of a synapse of this connection on each segment"}),
        "V_rest": ("segment", np.asarray(cell.V_rest, dtype=float), {
            "units": "mV", "long_name": "linearisation (resting) potential per segment"}),
        "g_eff": ("segment", engine.g_eff(post, rates) if o.g_eff else np.zeros(cell.n_segments), {
            "units": "S/cm2", "long_name": "time-averaged synaptic conductance added to the leak (g_eff)"}),
        "segment_z": ("segment", seg["z"].mean(axis=1), {
            "units": "um", "long_name": "segment centre depth of the representative cell"}),
    }
    coords = {
        "lag": ("lag", result["lags"], {"units": "ms", "long_name": "time lag after the presynaptic spike"}),
        "segment": np.arange(cell.n_segments),
        "section": ("segment", np.asarray(seg["section"]).astype(str)),
    }
    for name, (probe, _) in engine.probes(post).items():
        dim, coord = _probe_dims(probe)
        values = np.asarray(probe.channel_coord)
        attrs = dict(getattr(probe, "channel_attrs", {}) or {})
        attrs.setdefault("long_name", f"{name} channel")
        if coord != dim:
            coords.setdefault(coord, (dim, values, attrs))
            coords.setdefault(dim, np.arange(len(values)))
        else:
            coords.setdefault(dim, (dim, values, attrs))
        data[name] = ((dim, "lag"), result[name], {"units": probe.units, "long_name": f"kernel: {probe.long_name}"})
    attrs = {
        "title": f"spike-to-signal kernel H_{post}{pre} (presynaptic {pre} -> postsynaptic {post})",
        "method": "linearised multicompartment kernel (Hagen et al. 2022, PLOS Comput Biol 18:e1010353)",
        "post": post,
        "pre": pre,
        "biophysics": o.biophysics,
        "g_eff_on": int(o.g_eff),
        "form": o.form,
        "tau": o.tau,
        "dt": o.dt,
        "celsius": o.celsius,
        "K": counts.K,
        "k_in": counts.k_in,
        "k_out": counts.k_out,
        "mean_multapses": counts.mean_multapses,
        "N_pre": engine.populations[pre].size,
        "N_post": pop.size,
        "synapse": to_json(conn.synapse.__dict__),
        "synapse_mean_weight": conn.synapse.mean_weight,
        "V_rest_used": to_json(np.asarray(V_rest, dtype=float)),
        "rates_used": to_json(rates or {}),
        "provenance": to_json(provenance or {}),
        "parameters": to_json(parameters or {}),
        "software_versions": to_json(software_versions()),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def gather_kernels(datasets):
    """Stack per-connection kernel datasets into one with dims ``post``, ``pre``.

    Variables that depend on the postsynaptic cell's segments stay in the per-connection files.
    """
    import xarray as xr

    datasets = list(datasets)
    posts = sorted({ds.attrs["post"] for ds in datasets})
    pres = sorted({ds.attrs["pre"] for ds in datasets})
    template = datasets[0].drop_dims("segment")
    out = {}
    for name, var in template.data_vars.items():
        arr = np.zeros((len(posts), len(pres)) + var.shape)
        for ds in datasets:
            arr[posts.index(ds.attrs["post"]), pres.index(ds.attrs["pre"])] = ds[name].values
        out[name] = (("post", "pre") + var.dims, arr, dict(var.attrs))
    keep = {k: v for k, v in template.attrs.items() if k not in ("post", "pre", "title", "K", "k_in",
                                                              "k_out", "mean_multapses", "N_pre", "N_post",
                                                              "synapse", "synapse_mean_weight", "V_rest_used")}
    keep["title"] = "spike-to-signal kernels H_YX of every connection (post Y, pre X)"
    gathered = xr.Dataset(out, coords={**{k: v for k, v in template.coords.items()}, "post": posts, "pre": pres},
                          attrs=keep)
    for key in ("K", "k_in", "k_out", "mean_multapses"):
        arr = np.full((len(posts), len(pres)), np.nan)
        for ds in datasets:
            arr[posts.index(ds.attrs["post"]), pres.index(ds.attrs["pre"])] = ds.attrs[key]
        gathered[key] = (("post", "pre"), arr, {"units": "1", "long_name": {
            "K": "expected total synapse count", "k_in": "expected synapses per postsynaptic cell",
            "k_out": "expected synapses activated per presynaptic spike",
            "mean_multapses": "expected synapses per connected pair"}[key]})
    return gathered
