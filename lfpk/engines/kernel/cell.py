"""The linear multicompartment cell of a kernel (one per postsynaptic population)."""

from __future__ import annotations

import gc
import itertools

import numpy as np

from lfpk.base import mechanisms
from lfpk.engines.kernel.errors import KernelError
from lfpk.model import biophysics
from lfpk.model.rules import KERNEL_FORMS

#: Linearised forms the kernel cell accepts.
KERNEL_BIOPHYSICS = KERNEL_FORMS

_count = itertools.count(1)

#: Message when a kernel cell's sections were deleted behind its back.
DELETED = ("the kernel cell's NEURON sections were deleted -- LFPy.Cell(delete_sections=True), "
           "the default, deletes every section of the process: build LFPy cells with "
           "delete_sections=False while a kernel engine exists, or make a new engine afterwards")


class KernelCell:
    """One linear multicompartment cell of a postsynaptic population, simulated with NEURON.

    Parameters
    ----------
    population : lfpk.model.Population
        The population (morphology, biophysics). NEURON coordinates are relative to the soma
        centre; the signal geometry lives in the probes.
    biophysics : str
        ``passive``, ``frozen`` or ``quasi_linear`` (:mod:`lfpk.model.biophysics.linear`).
    passive_g_pas : float
        Leak of the ``passive`` variant (S/cm2).
    celsius : float
        Temperature (degC).
    dt : float
        Time step (ms).
    mod_dirs : list of path, optional
        Folders of the loaded mechanisms' ``.mod`` sources (default: the package's).
    quasi_linear : dict, optional
        Extra ``{mechanism: quasi-linear mechanism}`` (config ``mechanisms.quasi_linear``).
    """

    def __init__(self, population, biophysics, passive_g_pas=3e-4, celsius=34.0, dt=2**-4, mod_dirs=None,
                 quasi_linear=None):
        if biophysics not in KERNEL_BIOPHYSICS:
            raise KernelError(f"biophysics: {biophysics!r} is not one of {KERNEL_BIOPHYSICS}")
        if not dt > 0:
            raise KernelError(f"dt: must be > 0 (ms), got {dt}")
        self.mod_dirs = list(mod_dirs) if mod_dirs is not None else [str(mechanisms.PACKAGE_MOD_DIR)]
        mechanisms.load(extra_dirs=self.mod_dirs[1:] or None)  # the package's and the config's extra folders
        from neuron import h  # deferred: after the mechanisms are loaded; importing NEURON starts its interpreter

        h.load_file("stdrun.hoc")
        self.h = h
        self.population = population
        self.morphology = population.morphology
        self.biophysics = biophysics
        self.passive_g_pas = passive_g_pas
        self.celsius = celsius
        self.dt = dt
        self.quasi_linear = dict(quasi_linear or {})
        self.segments = population.segments
        self.sections = self.morphology.build(prefix=f"kernelcell{next(_count)}.{population.name}")
        self._segs = self.sections.segments
        self._configured = None
        self._linear = {}

    @property
    def n_segments(self) -> int:
        return len(self._segs)

    def _check_alive(self):
        if not self.sections.is_valid():
            raise KernelError(DELETED)

    def linear_parameters(self, V):
        """Measured frozen / quasi-linear parameters at ``V`` (cached per V_rest)."""
        key = V.tobytes()
        if key not in self._linear:
            if len(self._linear) > 64:
                self._linear.clear()
            self._linear[key] = biophysics.measure(
                self.morphology, self.population.cell_biophysics, V, self.biophysics, self.celsius,
                self.mod_dirs, self.quasi_linear)
        return self._linear[key]

    def configure(self, V_rest, extra_leak=None):
        """Set the linearisation potential (mV, scalar or per segment) and g_eff (S/cm2)."""
        self._check_alive()
        V = np.broadcast_to(np.asarray(V_rest, dtype=float), (self.n_segments,)).copy() \
            if np.ndim(V_rest) == 0 else np.asarray(V_rest, dtype=float)
        if V.shape != (self.n_segments,):
            raise KernelError(
                f"V_rest: expected a scalar or {self.n_segments} per-segment values (mV), got shape {V.shape}"
            )
        key = (V.tobytes(), None if extra_leak is None else np.asarray(extra_leak, float).tobytes())
        if key == self._configured:
            return
        linear = None if self.biophysics == "passive" else self.linear_parameters(V)
        info = biophysics.apply(
            self.biophysics, self.sections, self.population.cell_biophysics, V_rest=V,
            passive_g_pas=self.passive_g_pas, extra_leak=extra_leak, linear=linear,
        )
        self.g_leak = info["g_leak"]
        self.V_rest = V
        self._configured = key

    def _run(self, weights, tau1, tau2, n_lags, onset, variable="i_membrane_"):
        h = self.h
        # the synapses exist only during a run: a cell without point processes survives another
        # library deleting every section of the process (LFPy.Cell) up to the next check
        synapses, netcons = [], []
        for i in np.flatnonzero(weights):
            syn = h.Exp2SynI(self._segs[i])
            syn.tau1, syn.tau2 = tau1, tau2
            nc = h.NetCon(None, syn)
            nc.delay = 0.0
            nc.weight[0] = weights[i]
            synapses.append(syn)
            netcons.append(nc)
        cvode = h.CVode()
        cvode.active(0)
        cvode.use_fast_imem(1)
        h.dt = self.dt
        h.steps_per_ms = 1.0 / self.dt
        h.celsius = self.celsius
        recs = [h.Vector().record(getattr(seg, f"_ref_{variable}")) for seg in self._segs]
        gc_enabled = gc.isenabled()
        gc.disable()  # no section of another model may be freed mid-run (see lfpk.engines.network)
        try:
            self._advance(onset, netcons, n_lags)
        finally:
            if gc_enabled:
                gc.enable()
            del netcons, synapses
        k0 = int(round(onset / self.dt))
        out = np.array([np.asarray(r)[k0:k0 + n_lags] for r in recs])
        if out.shape[1] != n_lags:
            raise RuntimeError(f"kernel simulation returned {out.shape[1]} samples, expected {n_lags}")
        return out

    def _advance(self, onset, netcons, n_lags):
        h = self.h
        h.finitialize(float(np.mean(self.V_rest)))
        for seg, v in zip(self._segs, self.V_rest):
            seg.v = v
        h.fcurrent()
        for nc in netcons:
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
        self._check_alive()
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


