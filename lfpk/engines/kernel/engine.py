"""The kernel engine: kernels H_YX of a network's connections from its model description."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfpk import model as model_module
from lfpk.base.io import to_json
from lfpk.engines.kernel.cell import KERNEL_BIOPHYSICS, KernelCell
from lfpk.engines.kernel.errors import KernelError
from lfpk.engines.kernel.statistics import (
    SynapseCounts,
    convolve_delays,
    delay_probabilities,
    effective_leak,
    synapse_counts,
    synapse_probabilities,
)
from lfpk.model import probes as probes_module


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
    model : lfpk.model.NetworkModel
        Populations and connections (:func:`lfpk.model.from_config`).
    options : KernelOptions
    probes : callable
        ``probes(population) -> dict`` of name -> probe (see :mod:`lfpk.model.probes`); probes acting on
        transmembrane currents have ``get_transformation_matrix()`` of shape (n_channels,
        n_segments); dipole-derived probes (``input == 'cdm'``) map the dipole moment (3
        components) instead.
    """

    def __init__(self, model, options, probes=None):
        self.model = model
        self.populations = model.populations
        self.connections = {(c.post, c.pre): c for c in model.connections}
        self.options = options
        self._probe_factory = probes
        self._cells = {}
        self._probes = {}
        self._memo = {}
        for c in model.connections:
            if options.g_eff and not c.scaled_synapse.conductance_based:
                raise KernelError(
                    f"g_eff: cannot be combined with the current-based synapse of connection "
                    f"{c.pre}->{c.post} (synapse.model Exp2SynI has no conductance); set g_eff off"
                )

    @classmethod
    def from_config(cls, cfg, biophysics=None, g_eff=None, form=None, tau=None):
        """Engine of a validated config; the keyword options override the config's ``kernel``."""
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
        model = model_module.check_groups(model_module.from_config(cfg))
        return cls(model, opts, probes=lambda pop: probes_module.probes_from_config(
            cfg, pop.name, cell=pop.geometry(), random_rotation=pop.random_rotation))

    # -- statistics --------------------------------------------------------------------------

    def _memoised(self, kind, post, pre, compute):
        """Cache statistics that do not depend on V_rest or rates (keyed by their inputs, so a
        changed connection is recomputed)."""
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

        def compute(c):
            try:
                allowed = np.zeros(pop.n_segments, dtype=bool)
                for g in c.placement.get("sections") or []:
                    allowed |= pop.group_mask(g, f"connections[{c.index}].placement.sections")
            except ValueError as exc:
                raise KernelError(str(exc)) from None
            return synapse_probabilities(pop.segments, c.placement, pop.z_mean, pop.z_sd, allowed=allowed)

        return self._memoised("placement", post, pre, compute)

    def g_eff(self, post, rates):
        """Per-segment effective leak (S/cm2) of ``post`` for presynaptic ``rates`` (1/s)."""
        pop = self.populations[post]
        inputs = []
        for (y, x), c in self.connections.items():
            if y != post:
                continue
            if x not in rates:
                raise KernelError(f"rates: missing the rate of population {x!r} (1/s) needed for g_eff")
            inputs.append((self.counts(y, x).k_in, self.synapse_probabilities(y, x), float(rates[x]),
                           c.scaled_synapse))
        ext = pop.extrinsic
        extrinsic = None if ext is None else (float(ext["count"]), float(ext["rate"]), pop.extrinsic_synapse)
        return effective_leak(pop.segments, inputs, extrinsic)

    # -- computation -------------------------------------------------------------------------

    def cell(self, post) -> KernelCell:
        if post not in self._cells:
            o = self.options
            self._cells[post] = KernelCell(self.populations[post], o.biophysics, o.passive_g_pas, o.celsius, o.dt,
                                           mod_dirs=self.model.mod_dirs, quasi_linear=self.model.quasi_linear)
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
        syn = c.scaled_synapse
        amp = syn.linearised_amplitude(cell.V_rest) * weight_scale
        weights = self.counts(post, pre).k_out * self.synapse_probabilities(post, pre) * amp
        return cell.impulse_response(weights, syn, o.n_positive, variable)

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


