"""``KernelApprox``: LFPykernels 0.2's kernel class with its arguments, units and meaning, on lfpk.

The kernel of connection X -> Y for every probe, as LFPykernels 0.2 defines it (Hagen et al. 2022,
PLOS Comput Biol 18:e1010353):

1. ``K_YX = C_YX N_X N_Y E[multapses]``; ``k_in = K_YX / N_Y``, ``k_out = K_YX / N_X``
   (:mod:`~lfpk.compat.lfpykernels.statistics`).
2. The representative cell of Y (:mod:`~lfpk.compat.lfpykernels.cell`); with ``g_eff`` each
   segment's ``g_pas`` is raised by the mean conductance of the synapses it receives, extrinsic
   (``n_ext`` spread by area at ``nu_ext``) and from every X (``k_in p_i`` at ``nu_X[X]``), computed
   by lfpk's :func:`lfpk.engines.kernel.effective_leak` (the same formula).
3. Segment i receives one synapse of weight ``k_out p_i w`` activated at ``t_X``: for
   ``conductance_based`` synapses ``w = -weight (Vrest - e)`` (nA) on the current version of the
   synapse type (``syntype + 'I'``, e.g. ``Exp2SynI``), otherwise ``w = weight`` on ``syntype``.
4. Each probe's matrix (:mod:`~lfpk.compat.lfpykernels.probes`) maps the transmembrane currents;
   each row is convolved (``'same'``) with the delay weights, the value at ``t_X`` is subtracted,
   lags before ``t_X`` are zeroed, and the samples ``[t_X - tau, t_X + tau]`` (``fir=False``) or
   ``(t_X, t_X + tau]`` (``fir=True``) are returned, keyed by the probe's class name.
"""

from __future__ import annotations

import numbers
from copy import deepcopy

import numpy as np
import scipy.stats
from scipy.signal import fftconvolve

from lfpk.compat.lfpykernels import statistics
from lfpk.compat.lfpykernels.cell import RepresentativeCell, cell_key, freeze
from lfpk.compat.lfpykernels.probes import ProbeMatrices
from lfpk.engines.kernel import effective_leak
from lfpk.model.synapse import Synapse, SynapseError


def _real(name, value, positive=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name}: expected a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name}: must be > 0, got {value!r}")
    return float(value)


def _same_offset(n_taps):
    """Start of ``numpy.convolve(a, v, 'same')`` inside the full convolution, for ``len(v) = n_taps``."""
    probe = np.zeros(n_taps)
    probe[0] = 1.0
    return int(round(np.convolve(probe, np.arange(1.0, n_taps + 1), "same")[0])) - 1


def _conductance(syn, where):
    """lfpk's :class:`~lfpk.model.synapse.Synapse` of an ``Exp2Syn`` parameter dict (for g_eff)."""
    if syn.get("syntype") != "Exp2Syn":
        raise ValueError(f"{where}.syntype: g_eff is defined for 'Exp2Syn' synapses only (LFPykernels 0.2), got "
                         f"{syn.get('syntype')!r}; pass g_eff=False")
    try:
        return Synapse(tau1=_real(f"{where}.tau1", syn.get("tau1", np.nan)),
                       tau2=_real(f"{where}.tau2", syn.get("tau2", np.nan)),
                       weight=_real(f"{where}.weight", syn.get("weight", np.nan)), model="Exp2Syn")
    except SynapseError as exc:
        raise ValueError(f"{where}: {exc}") from None


class KernelApprox:
    """Spike-to-signal kernels of connections X -> Y (LFPykernels 0.2's ``KernelApprox``).

    Parameters (names, defaults and units as LFPykernels 0.2)
    ----------
    X : list of str
        Presynaptic populations.
    Y : str
        Postsynaptic population.
    N_X : array of int
        Presynaptic population sizes.
    N_Y : int
        Postsynaptic population size.
    C_YX : array of float
        Pairwise connection probabilities X -> Y.
    cellParameters : dict
        ``LFPy.TemplateCell`` arguments of the cell representing Y.
    populationParameters : dict
        ``radius`` (um, disc of somata), ``loc`` and ``scale`` (um, mean and sd of soma depth).
    rotationParameters : dict
        ``LFPy.Cell.set_rotation`` angles (rad).
    multapseFunction : scipy.stats distribution
        Synapses per connected pair (continuous: evaluated at 1..99; discrete: as is).
    multapseParameters : list of dict
        Its arguments, one per X.
    delayFunction : scipy.stats distribution
        Conduction delay density (ms).
    delayParameters : list of dict
        Its arguments, one per X.
    synapseParameters : list of dict
        ``LFPy.Synapse`` arguments per X: ``syntype``, ``weight`` (uS, or nA when current based),
        ``tau1``, ``tau2`` (ms), ``e`` (mV), any other parameter of the point process.
    synapsePositionArguments : list of dict
        Placement per X: ``section`` (name or list), ``z_min``, ``z_max`` (um), ``fun`` (list of
        scipy.stats densities over depth), ``funargs`` (list of dicts, um), ``funweights``.
    extSynapseParameters : dict
        Extrinsic synapse (``syntype`` 'Exp2Syn', ``weight`` uS, ``tau1``, ``tau2`` ms, ``e`` mV).
    nu_ext : float
        Extrinsic activation rate (1/s).
    n_ext : float
        Extrinsic synapses per cell.
    nu_X : dict
        Presynaptic rates (1/s) by population.
    conductance_based : bool
        True: synapses linearised around ``Vrest``; False: current-based as given.
    """

    def __init__(
            self,
            X=['E'],  # noqa: B006 - LFPykernels' defaults, never mutated
            Y='E',
            N_X=np.array([1024]),
            N_Y=1024,
            C_YX=np.array([0.1]),
            cellParameters=dict(),  # noqa: B006
            populationParameters=dict(radius=100, loc=0, scale=50),  # noqa: B006
            rotationParameters=dict(x=0., y=0.),  # noqa: B006
            multapseFunction=scipy.stats.truncnorm,
            multapseParameters=[dict(a=-0.2, b=1.6, loc=2, scale=5)],  # noqa: B006
            delayFunction=scipy.stats.truncnorm,
            delayParameters=[dict(a=-4.0, b=np.inf, loc=1.5, scale=0.3)],  # noqa: B006
            synapseParameters=[dict(weight=0.001, syntype='Exp2Syn', tau1=0.2, tau2=1.8, e=0.)],  # noqa: B006
            synapsePositionArguments=[dict(section=['soma', 'apic'],  # noqa: B006
                                           fun=[scipy.stats.norm, scipy.stats.norm],
                                           funargs=[dict(loc=0., scale=100.), dict(loc=750., scale=100.)],
                                           funweights=[0.5, 1.])],
            extSynapseParameters=dict(syntype='Exp2Syn', weight=0.0005, tau1=0.2, tau2=1.8, e=0.0),  # noqa: B006
            nu_ext=40.,
            n_ext=128.,
            nu_X=dict(E=1.),  # noqa: B006
            conductance_based=True,
    ):
        self.X = X
        self.Y = Y
        self.N_X = N_X
        self.N_Y = N_Y
        self.C_YX = C_YX
        self.cellParameters = cellParameters
        self.populationParameters = populationParameters
        self.rotationParameters = rotationParameters
        self.multapseFunction = multapseFunction
        self.multapseParameters = multapseParameters
        self.delayFunction = delayFunction
        self.delayParameters = delayParameters
        self.synapseParameters = synapseParameters
        self.synapsePositionArguments = synapsePositionArguments
        self.extSynapseParameters = extSynapseParameters
        self.nu_ext = nu_ext
        self.n_ext = n_ext
        self.nu_X = nu_X
        self.conductance_based = conductance_based
        self._cell = None
        self._cell_key = None
        self._matrices = ProbeMatrices()
        self._memo = {}

    def _memoised(self, key, compute):
        """Statistics are pure functions of their arguments: computed once per distinct arguments."""
        key = freeze(key)
        if key not in self._memo:
            if len(self._memo) > 256:
                self._memo.clear()
            self._memo[key] = compute()
        return self._memo[key]

    # -- LFPykernels' helper methods ---------------------------------------------------------

    def get_delay(self, X, dt, tau):
        """Delay weights (sum 1) of connection X -> Y on ``linspace(-tau, tau, int(2 tau // dt + 1))`` (ms)."""
        i = self._index(X)
        return statistics.delay_transfer(self.delayFunction, self.delayParameters[i], dt, tau, "delayFunction",
                                         f"delayParameters[{i}]")

    def get_rand_idx_area_and_distribution_prob(self, cell, section='allsec', z_min=-1E6, z_max=1E6,
                                                fun=scipy.stats.norm, funargs=dict(loc=0, scale=100),  # noqa: B006
                                                funweights=None):
        """Per-segment synapse probability (sum 1) on ``cell``: area x weighted densities over depth (um).

        Unlike inside ``get_kernel``, ``funargs`` are not broadened by the population's depth spread.
        """
        spec = dict(section=section, z_min=z_min, z_max=z_max, fun=fun, funargs=funargs, funweights=funweights)
        return statistics.placement_probability(cell, spec, 0.0, "synapsePositionArguments")

    def draw_rand_pos(self, SIZE, radius, loc, scale, cap=None):
        """``SIZE`` random positions (um): uniform in the disc of ``radius``, depth normal (``loc``,
        ``scale``), redrawn outside ``[loc - cap, loc + cap)`` (float cap) or
        ``[loc - cap[0], loc + cap[1]]`` (two caps). Uses NumPy's global random state."""
        pos = np.zeros((int(SIZE), 3))
        for i in range(int(SIZE)):
            while True:
                xy = (np.random.rand(2) - 0.5) * 2 * radius
                if np.hypot(*xy) < radius:
                    break
            pos[i, :2] = xy
        pos[:, 2] = np.random.normal(loc=loc, scale=scale, size=int(SIZE))
        if cap is None:
            return pos
        if isinstance(cap, (list, tuple)) and len(cap) == 2:
            lo, hi, upper_open = loc - cap[0], loc + cap[1], False
        elif isinstance(cap, numbers.Real) and not isinstance(cap, bool):
            lo, hi, upper_open = loc - cap, loc + cap, True
        else:
            raise ValueError(f"cap: expected None, a number or a list of two numbers (um), got {cap!r}")
        while True:
            bad = (pos[:, 2] < lo) | ((pos[:, 2] >= hi) if upper_open else (pos[:, 2] > hi))
            if not bad.any():
                return pos
            pos[bad, 2] = np.random.normal(loc=loc, scale=scale, size=int(bad.sum()))

    # -- checks ---------------------------------------------------------------------------------

    def _index(self, X):
        names = list(self.X)
        if X not in names:
            raise ValueError(f"X: {X!r} is not one of the presynaptic populations {names}")
        return names.index(X)

    def _check(self, g_eff):
        names = self.X
        if not isinstance(names, (list, tuple, np.ndarray)) or not len(names) \
                or not all(isinstance(x, str) for x in names):
            raise TypeError(f"X: expected a list of population names, got {names!r}")
        n = len(names)
        if len(set(names)) != n:
            raise ValueError(f"X: population names must be unique, got {list(names)}")
        for key in ("N_X", "C_YX"):
            arr = np.asarray(getattr(self, key), dtype=float)
            if arr.shape != (n,) or not np.all(np.isfinite(arr)):
                raise ValueError(f"{key}: expected {n} finite numbers (one per X), got {getattr(self, key)!r}")
        if np.any(np.asarray(self.N_X, float) < 1) or _real("N_Y", self.N_Y) < 1:
            raise ValueError("N_X: population sizes must be >= 1" if np.any(np.asarray(self.N_X, float) < 1)
                             else f"N_Y: population size must be >= 1, got {self.N_Y}")
        C = np.asarray(self.C_YX, dtype=float)
        if np.any((C < 0) | (C > 1)):
            raise ValueError(f"C_YX: connection probabilities must be in [0, 1], got {self.C_YX!r}")
        for key in ("multapseParameters", "delayParameters", "synapseParameters", "synapsePositionArguments"):
            value = getattr(self, key)
            if not isinstance(value, (list, tuple)) or len(value) < n:
                raise ValueError(f"{key}: expected a list with one entry per X ({n}), got {value!r}")
        pop = self.populationParameters
        if not isinstance(pop, dict):
            raise TypeError("populationParameters: expected a dict with radius, loc, scale (um)")
        for key in ("radius", "loc", "scale"):
            if key not in pop:
                raise ValueError(f"populationParameters['{key}']: required (um)")
            _real(f"populationParameters['{key}']", pop[key])
        if not isinstance(self.conductance_based, (bool, np.bool_)):
            raise TypeError(f"conductance_based: expected True or False, got {self.conductance_based!r}")
        if g_eff and not self.conductance_based:
            raise ValueError("g_eff: True cannot be combined with conductance_based=False (current-based synapses "
                             "have no conductance); pass g_eff=False")
        if g_eff:
            if not isinstance(self.nu_X, dict) or any(x not in self.nu_X for x in names):
                raise ValueError(f"nu_X: needs the rate (1/s) of every population in X {list(names)} for g_eff, "
                                 f"got {self.nu_X!r}")
            for x in names:
                _real(f"nu_X['{x}']", self.nu_X[x])
            _real("nu_ext", self.nu_ext)
            _real("n_ext", self.n_ext)

    # -- the kernel ------------------------------------------------------------------------------

    def _representative_cell(self, dt):
        pop = self.populationParameters
        key = cell_key(self.cellParameters, dt, self.rotationParameters, pop["loc"])
        if self._cell is None or key != self._cell_key or not self._cell.alive():
            self._cell = None  # free the previous cell's sections first
            self._cell = RepresentativeCell(self.cellParameters, dt, self.rotationParameters, float(pop["loc"]))
            self._cell_key = key
        return self._cell

    def get_kernel(self, probes, Vrest=-65, dt=2**-4, X='E', t_X=200, tau=50, g_eff=True, fir=False):
        """Kernel of connection ``X`` -> ``Y`` for each probe (LFPykernels 0.2's ``get_kernel``).

        Parameters
        ----------
        probes : list
            ``GaussCylinderPotential``, ``KernelApproxCurrentDipoleMoment`` or LFPykit forward
            models built with ``cell=None``.
        Vrest : float or list of float
            Potential (mV) around which conductance synapses are linearised; a list gives one
            value per segment.
        dt : float
            Time step (ms).
        X : str
            Presynaptic population, one of ``self.X``.
        t_X : float
            Time of the presynaptic spike in the simulation (ms), >= ``tau``.
        tau : float
            Half-width of the kernel (ms).
        g_eff : bool
            Raise the leak by the mean synaptic conductance (extrinsic and every X).
        fir : bool
            False: lags ``[-tau, tau]``; True: lags ``(0, tau]``.

        Returns
        -------
        dict
            Probe class name -> ndarray (n_channels, n_lags): ``2 tau / dt + 1`` lags (``fir=False``)
            or ``tau / dt`` (``fir=True``), in the probe's units per presynaptic spike.
        """
        dt = _real("dt", dt, positive=True)
        tau = _real("tau", tau, positive=True)
        t_X = _real("t_X", t_X)
        if tau <= dt:
            raise ValueError(f"tau: must exceed dt ({dt} ms), got {tau} ms")
        if t_X < tau:
            raise ValueError(f"t_X: must be >= tau ({tau} ms), got {t_X} ms (LFPykernels 0.2 convolves the delays "
                             "over [t_X - tau, t_X + tau] of the simulation and fails otherwise)")
        if not isinstance(probes, (list, tuple)):
            raise TypeError(f"probes: expected a list of probes, got {type(probes).__name__}")
        g_eff, fir = bool(g_eff), bool(fir)
        self._check(g_eff)
        X_i = self._index(X)
        n = len(self.X)
        pop = self.populationParameters
        cell = self._representative_cell(dt)
        nseg = cell.totnsegs
        if isinstance(Vrest, (list, tuple, np.ndarray)):
            V = np.asarray(Vrest, dtype=float)
            if V.shape != (nseg,):
                raise ValueError(f"Vrest: a list must hold one potential (mV) per segment ({nseg}), got {V.shape}")
        else:
            V = np.full(nseg, _real("Vrest", Vrest))

        # connection statistics of every X (g_eff needs them all)
        K = np.asarray(self.C_YX, float) * np.asarray(self.N_X, float) * float(self.N_Y)
        for i in range(n):
            K[i] *= self._memoised(
                ("multapse", self.multapseFunction, self.multapseParameters[i], i),
                lambda i=i: statistics.multapse_mean(self.multapseFunction, self.multapseParameters[i],
                                                     "multapseFunction", f"multapseParameters[{i}]"))
        k_in, k_out = K / float(self.N_Y), K / np.asarray(self.N_X, float)
        placement = {}
        for i in (range(n) if g_eff else [X_i]):
            placement[i] = self._memoised(
                ("placement", self._cell_key, self.synapsePositionArguments[i], float(pop["scale"]), i),
                lambda i=i: statistics.placement_probability(cell.cell, self.synapsePositionArguments[i],
                                                             float(pop["scale"]), f"synapsePositionArguments[{i}]"))
        h_delta = self._memoised(
            ("delay", self.delayFunction, self.delayParameters[X_i], dt, tau, X_i),
            lambda: statistics.delay_transfer(self.delayFunction, self.delayParameters[X_i], dt, tau,
                                              "delayFunction", f"delayParameters[{X_i}]"))

        # membrane: the cell's own leak, raised by the mean synaptic conductance
        extra = None
        if g_eff:
            inputs = [(k_in[i], placement[i], float(self.nu_X[self.X[i]]),
                       _conductance(self.synapseParameters[i], f"synapseParameters[{i}]")) for i in range(n)]
            ext = (float(self.n_ext), float(self.nu_ext),
                   _conductance(self.extSynapseParameters, "extSynapseParameters"))
            extra = effective_leak({"area": cell.area}, inputs, ext)
        cell.set_leak(extra)

        # the synapses of X, all activated at t_X
        where = f"synapseParameters[{X_i}]"
        d = self.synapseParameters[X_i]
        if not isinstance(d, dict) or "weight" not in d or "syntype" not in d:
            raise ValueError(f"{where}: needs 'syntype' and 'weight'")
        params = {k: v for k, v in d.items() if k not in ("weight", "syntype", "record_current",
                                                           "record_potential")}
        weight = _real(f"{where}.weight", d["weight"])
        if self.conductance_based:
            if "e" not in d:
                raise ValueError(f"{where}.e: the reversal potential (mV) is required for a conductance-based synapse")
            w = -weight * (V - _real(f"{where}.e", params.pop("e")))
            syntype = str(d["syntype"]) + "I"
        else:
            w = np.full(nseg, weight)
            syntype = str(d["syntype"])
        weights = w * k_out[X_i] * placement[X_i]
        self.comp_weight = weights
        imem, start = cell.respond(syntype, params, weights, t_X, tau, dt, where)
        self.cell = cell.cell

        # probes, delays, the causal window
        n_total = int(round((t_X + tau) / dt)) + 1
        tvec = np.arange(n_total) * dt
        n_x = int(np.argmin(np.abs(tvec - t_X)))
        inds = (tvec > t_X) & (tvec <= t_X + tau) if fir else (tvec >= t_X - tau) & (tvec <= t_X + tau)
        offset = _same_offset(h_delta.size)
        # the samples before `start` repeat the first; the convolution's outputs from t_X on reach
        # back at most len(h_delta) samples, so the trace is cut there (s0) instead of at 0
        s0 = max(0, start - h_delta.size)
        trace = np.concatenate([np.repeat(imem[:, :1], start - s0, axis=1), imem], axis=1)
        H = {}
        for j, probe in enumerate(probes):
            M = self._matrices.matrix(probe, f"probes[{j}]", cell.cell, pop)
            full = fftconvolve(M @ trace, h_delta[None, :], mode="full", axes=-1)
            data = np.zeros((M.shape[0], n_total))
            data[:, s0:] = full[:, offset:offset + n_total - s0]
            data = data - data[:, n_x, None]
            data[:, tvec < t_X] = 0.0
            H[type(probe).__name__] = data[:, inds]
        return H

    def __deepcopy__(self, memo):
        """A copy with its own parameters and no cell (NEURON sections are not copied)."""
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            if k in ("_cell", "cell"):
                continue
            setattr(new, k, deepcopy(v, memo))
        new._cell, new._cell_key, new._matrices, new._memo = None, None, ProbeMatrices(), {}
        return new
