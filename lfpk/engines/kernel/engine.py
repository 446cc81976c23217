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
    layered_synapse_probabilities,
    convolve_delays,
    delay_probabilities,
    effective_leak,
    synapse_counts,
    synapse_probabilities,
)
from lfpk.model import connectivity as connectivity_module
from lfpk.model import probes as probes_module
from lfpk.model.description import rotation_views


#: Singular values of a random_x type's placements (nodes x segments) kept, relative to the
#: largest: one simulation per kept value (the rest change no kernel above rounding)
ROTATION_RANK_RTOL = 1e-12


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
        self.rotation_ranks = {}  # (post, pre, cell type): simulations of a random_x kernel
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
        return cls(model, opts, probes=lambda cell: probes_module.probes_from_config(
            cfg, probe_population(cell), cell=cell.geometry(), random_rotation=cell.random_rotation))

    # -- cell types ----------------------------------------------------------------------------

    def cells_of(self, post):
        """The cells whose kernels make up population ``post``'s: ``[population]`` for a population
        without ``cell_types``, else its :class:`lfpk.model.description.CellType` s."""
        pop = self.populations[post]
        return pop.cell_types if pop.typed else [pop]

    def occurrences(self, post):
        """Occurrence fractions F_y of :meth:`cells_of` (``[1.0]`` for one cell)."""
        return [c.occurrence if hasattr(c, "occurrence") else 1.0 for c in self.cells_of(post)]

    def _cell_of(self, post, cell_type):
        cells = self.cells_of(post)
        return cells[0 if cell_type is None else int(cell_type)]

    def split(self, post, values):
        """Per-segment ``values`` of population ``post`` (its cells' segments stacked, or a scalar)
        split into one entry per cell of :meth:`cells_of`."""
        cells = self.cells_of(post)
        if np.ndim(values) == 0 or len(cells) == 1:
            return [values] * len(cells)
        values = np.asarray(values, dtype=float)
        sizes = [c.n_segments for c in cells]
        if values.shape != (sum(sizes),):
            raise KernelError(f"V_rest: expected a scalar or {sum(sizes)} per-segment values (mV) for the "
                              f"{len(cells)} cell types of population {post} ({' + '.join(map(str, sizes))} "
                              f"segments), got shape {values.shape}")
        return np.split(values, np.cumsum(sizes)[:-1])

    # -- statistics --------------------------------------------------------------------------

    def _memoised(self, kind, post, pre, compute, cell_type=None):
        """Cache statistics that do not depend on V_rest or rates (keyed by their inputs, so a
        changed connection is recomputed)."""
        c = self._connection(post, pre)
        key = (kind, post, pre, c.probability, self.populations[pre].size, self.populations[post].size,
               to_json([c.multapses, c.delays, c.placement]), self.options.dt, self.options.n_positive)
        if cell_type is not None:
            key += (int(cell_type),)
        if key not in self._memo:
            self._memo[key] = compute(c)
        return self._memo[key]

    def counts(self, post, pre) -> SynapseCounts:
        return self._memoised("counts", post, pre, lambda c: synapse_counts(
            c.probability, self.populations[pre].size, self.populations[post].size, c.multapses))

    def indegree_factor(self, post, pre, cell_type=None) -> float:
        """In-degree factor f_y of cell type index ``cell_type`` (default the first) of ``post``
        from ``pre`` (``connections[].indegree_factors``; 1.0 without): the type's kernel takes
        ``f_y k_out`` synapses per presynaptic spike and its g_eff ``f_y k_in`` per cell."""
        return self._connection(post, pre).indegree_factor(self._cell_of(post, cell_type).name)

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

    def synapse_probabilities(self, post, pre, cell_type=None):
        """Probability of each segment of ``post``'s representative cell (of cell type index
        ``cell_type``; default the first) receiving a synapse of pre -> post; with
        ``rotation.random_x`` the mean over the cell's random angle about x
        (:meth:`rotation_probabilities`, :func:`lfpk.model.connectivity.expected_placement`)."""
        cell = self._cell_of(post, cell_type)
        if getattr(cell, "random_x", False):
            def mean(c):
                weights, P = self.rotation_probabilities(post, pre, cell_type)
                p = weights @ P
                return p / p.sum()

            return self._memoised("placement", post, pre, mean, cell_type)

        def compute(c):
            try:
                allowed = np.zeros(cell.n_segments, dtype=bool)
                for g in c.groups:
                    allowed |= cell.group_mask(g, f"connections[{c.index}].placement.sections")
            except ValueError as exc:
                raise KernelError(str(exc)) from None
            fractions = c.layer_fractions(cell.name)
            if fractions is None:
                return synapse_probabilities(cell.segments, c.placement, cell.z_mean, cell.z_sd, allowed=allowed)
            return layered_synapse_probabilities(cell.segments, cell.depth, allowed, c.densities, fractions,
                                                 self.model.layers, f"connections[{c.index}].placement.layers")

        return self._memoised("placement", post, pre, compute, cell_type)

    def rotation_probabilities(self, post, pre, cell_type=None):
        """The placement of pre -> post on ``post``'s cell (type index ``cell_type``) rotated about x
        by each angle of its ``rotation.random_x`` quadrature: ``(weights, P)``, ``P`` (n_nodes,
        n_segments) (:func:`lfpk.model.connectivity.rotation_placements`; one node of weight 1
        without ``random_x``)."""
        cell = self._cell_of(post, cell_type)

        def compute(c):
            try:
                return connectivity_module.rotation_placements(cell, c, self.model.layers)
            except ValueError as exc:
                where = f"connections[{c.index}].placement" + (".layers" if c.layer_fractions(cell.name) else "")
                raise KernelError(f"{where}: {exc}") from None

        return self._memoised("rotation placement", post, pre, compute, cell_type)

    def g_eff(self, post, rates, cell_type=None):
        """Per-segment effective leak (S/cm2) of ``post``'s cell (type index ``cell_type``) for
        presynaptic ``rates`` (1/s)."""
        pop = self.populations[post]
        inputs = []
        for (y, x), c in self.connections.items():
            if y != post:
                continue
            if x not in rates:
                raise KernelError(f"rates: missing the rate of population {x!r} (1/s) needed for g_eff")
            k_in = self.counts(y, x).k_in * self.indegree_factor(y, x, cell_type)  # f_y k_in synapses per cell
            inputs.append((k_in, self.synapse_probabilities(y, x, cell_type), float(rates[x]), c.scaled_synapse))
        ext = pop.extrinsic
        extrinsic = None if ext is None else (float(ext["count"]), float(ext["rate"]), pop.extrinsic_synapse)
        return effective_leak(self._cell_of(post, cell_type).segments, inputs, extrinsic)

    # -- computation -------------------------------------------------------------------------

    def cell(self, post, cell_type=None) -> KernelCell:
        key = post if cell_type is None or cell_type == 0 else (post, int(cell_type))
        if key not in self._cells:
            o = self.options
            self._cells[key] = KernelCell(self._cell_of(post, cell_type), o.biophysics, o.passive_g_pas, o.celsius,
                                          o.dt, mod_dirs=self.model.mod_dirs, quasi_linear=self.model.quasi_linear)
        return self._cells[key]

    def probes(self, post, cell_type=None):
        """``{name: (probe, matrix)}`` of ``post``'s cell (type index ``cell_type``); with
        ``rotation.random_x`` those of the first node of its rotation (names, units, channels:
        :meth:`rotation_probes` holds every node's)."""
        return self.rotation_probes(post, cell_type)[0][1]

    def rotation_probes(self, post, cell_type=None):
        """``[(weight, {name: (probe, matrix)})]``: the probes built by the factory for the cell
        rotated about x by each angle of its ``rotation.random_x`` quadrature
        (:func:`lfpk.model.description.rotation_views`; the cell itself, weight 1, without)."""
        key = post if cell_type is None or cell_type == 0 else (post, int(cell_type))
        if key not in self._probes:
            sets = []
            for weight, view in rotation_views(self._cell_of(post, cell_type)):
                built = {} if self._probe_factory is None else self._probe_factory(view)
                sets.append((weight, {name: (probe, np.asarray(probe.get_transformation_matrix(), dtype=float))
                                      for name, probe in built.items()}))
            self._probes[key] = sets
        return self._probes[key]

    def transmembrane_response(self, post, pre, V_rest, rates=None, weight_scale=1.0,
                               variable="i_membrane_", cell_type=None, probabilities=None):
        """Delay-free response (n_segments, lags 0..tau) of the whole population to one spike, as
        if all its cells were of type ``cell_type`` (index; default the first).

        ``probabilities`` (n_segments,) replaces the synapse placement :meth:`synapse_probabilities`
        (one node of a random rotation about x; g_eff keeps the mean placement).

        The representative cell receives ``f_y k_out`` synapses distributed by ``p_i`` (f_y the
        type's in-degree factor, :meth:`indegree_factor`; 1 without ``indegree_factors``); for
        ``variable='i_membrane_'`` the result is the summed transmembrane current of all
        postsynaptic cells (nA); ``'v'`` gives the representative cell's potential deviation (mV).
        """
        o = self.options
        c = self._connection(post, pre)
        cell = self.cell(post, cell_type)
        extra = None
        if o.g_eff:
            if rates is None:
                raise KernelError("rates: required when g_eff is on (1/s per presynaptic population)")
            extra = self.g_eff(post, rates, cell_type)
        cell.configure(V_rest, extra)
        syn = c.scaled_synapse
        amp = syn.linearised_amplitude(cell.V_rest) * weight_scale
        k_out = self.counts(post, pre).k_out * self.indegree_factor(post, pre, cell_type)  # f_y k_out (x 1.0: exact)
        p = self.synapse_probabilities(post, pre, cell_type) if probabilities is None else probabilities
        weights = k_out * p * amp
        return cell.impulse_response(weights, syn, o.n_positive, variable)

    def kernel(self, post, pre, V_rest, rates=None, weight_scale=1.0):
        """Kernel H_YX for every probe.

        A population of several cell types has the occurrence-weighted sum of its types' kernels,
        ``H_YX = sum_y F_y H_yX`` (Hagen et al. 2016, Cereb Cortex 26:4461), each type's kernel
        computed as if the whole population were of that type (``f_y k_out`` synapses on its cell,
        f_y the type's in-degree factor of the connection, 1 without ``indegree_factors``);
        ``transmembrane_current`` then stacks the types' segments, each type's current times F_y.

        Parameters
        ----------
        post, pre : str
            Postsynaptic (Y) and presynaptic (X) population.
        V_rest : float or ndarray
            Linearisation potential of the postsynaptic cell (mV), scalar or per segment (the cell
            types' segments stacked).
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
        cells = self.cells_of(post)
        if len(cells) == 1:
            return self.type_kernel(post, pre, V_rest, rates, weight_scale)
        parts = [self.type_kernel(post, pre, V, rates, weight_scale, cell_type=i)
                 for i, V in enumerate(self.split(post, V_rest))]
        return combine_types(parts, self.occurrences(post))

    def type_kernel(self, post, pre, V_rest, rates=None, weight_scale=1.0, cell_type=None):
        """Kernel H_yX of one cell type (index ``cell_type``; default the first) of ``post``, as if
        the whole population were of that type (the dict of :meth:`kernel`).

        With ``rotation.random_x`` the mean over the cell's uniform random angle about x,
        ``sum_k w_k M_k R(p_k)``, by the fixed quadrature of
        :func:`lfpk.model.morphology.rotation.random_x_nodes`: at each angle the synapses go by the
        rotated depths (``p_k``, :meth:`rotation_probabilities`) and every probe maps the rotated
        cell (``M_k``, :meth:`rotation_probes`); the linearised cell and its g_eff (from the mean
        placement) are the same at every angle. ``transmembrane_current`` is then the mean
        per-segment current (the response to the mean placement), in the cell's own frame.
        """
        if getattr(self._cell_of(post, cell_type), "random_x", False):
            return self._rotated_type_kernel(post, pre, V_rest, rates, weight_scale, cell_type)
        o = self.options
        response = self.transmembrane_response(post, pre, V_rest, rates, weight_scale, cell_type=cell_type)
        response = convolve_delays(response, self.delay_probabilities(post, pre))
        response = response - response[:, :1]  # causal: value at lag 0 subtracted
        out = {"lags": o.lags(), "transmembrane_current": self._window(response)}
        cdm = None
        probes = self.probes(post, cell_type)
        for name, (probe, M) in probes.items():
            if getattr(probe, "input", "imem") == "cdm":
                continue
            out[name] = self._window(M @ response)
            if name == "cdm":
                cdm = M @ response
        for name, (probe, M) in probes.items():
            if getattr(probe, "input", "imem") != "cdm":
                continue
            if cdm is None:
                raise KernelError(f"probe {name!r} needs the 'cdm' probe")
            out[name] = self._window(M @ cdm)
        return out

    def _rotated_type_kernel(self, post, pre, V_rest, rates, weight_scale, cell_type):
        # sum_k w_k M_k R p_k with one simulation per independent placement: P = U S V^T, p_k =
        # sum_j C_kj v_j (C = U S, the singular values below ROTATION_RANK_RTOL of the largest
        # dropped), so sum_k w_k M_k R p_k = sum_j (sum_k w_k C_kj M_k) (R v_j); R is linear in
        # the synapse weights (signed weights included), delays and the lag-0 subtraction too
        o = self.options
        weights, P = self.rotation_probabilities(post, pre, cell_type)
        sets = self.rotation_probes(post, cell_type)
        delay_p = self.delay_probabilities(post, pre)
        U, S, Vt = np.linalg.svd(P, full_matrices=False)
        keep = S > ROTATION_RANK_RTOL * S[0]
        C = U[:, keep] * S[keep]
        Y = []
        for v in Vt[keep]:
            r = self.transmembrane_response(post, pre, V_rest, rates, weight_scale, cell_type=cell_type,
                                            probabilities=v)
            r = convolve_delays(r, delay_p)
            Y.append(r - r[:, :1])  # causal: value at lag 0 subtracted
        Y = np.stack(Y)  # (rank, n_segments, lags)
        out = {"lags": o.lags(), "transmembrane_current": self._window(np.tensordot(weights @ C, Y, axes=1))}
        probes = sets[0][1]
        signals = {}
        for name, (probe, _) in probes.items():
            if getattr(probe, "input", "imem") == "cdm":
                continue
            Z = np.einsum("k,kj,kcs->jcs", weights, C, np.stack([m[name][1] for _, m in sets]))
            signals[name] = np.einsum("jcs,jsl->cl", Z, Y)
            out[name] = self._window(signals[name])
        for name, (probe, M) in probes.items():  # EEG and MEG: linear in the (mean) dipole moment
            if getattr(probe, "input", "imem") != "cdm":
                continue
            if "cdm" not in signals:
                raise KernelError(f"probe {name!r} needs the 'cdm' probe")
            out[name] = self._window(M @ signals["cdm"])
        self.rotation_ranks[(post, pre, cell_type)] = int(keep.sum())
        return out

    def _window(self, positive):
        """Lags 0..tau -> the output window (zeros for negative lags in the causal form)."""
        if self.options.form == "causal":
            pad = np.zeros(positive.shape[:-1] + (positive.shape[-1] - 1,))
            return np.concatenate([pad, positive], axis=-1)
        return positive[..., 1:]


def combine_types(parts, occurrences):
    """The population kernel ``sum_y F_y H_yX`` of its cell types' kernels ``parts`` (dicts of
    :meth:`KernelEngine.type_kernel`) with occurrences ``F_y``: every probe's kernel summed with
    the weights, the transmembrane currents weighted and stacked along the segments."""
    out = {"lags": parts[0]["lags"],
           "transmembrane_current": np.concatenate([F * p["transmembrane_current"] for F, p in zip(occurrences, parts)])}
    for name in parts[0]:
        if name not in out:
            out[name] = sum(F * p[name] for F, p in zip(occurrences, parts))
    return out


def probe_population(cell):
    """What :func:`lfpk.model.probes.probes_from_config` takes for a kernel cell: the population's
    name for a population without layer or cell types (its config entry, as always), else an entry
    with the cell's disc radius and soma depth standard deviation (um) and, for somata uniform in
    a layer, the ``layer``: its LFP and CSD probes then average exactly over the layer's uniform
    depths (:mod:`lfpk.model.probes.uniform_cylinder`, ``docs/layers.md``)."""
    if isinstance(cell, model_module.Population) and not cell.typed and cell.depth.kind == "normal":
        return cell.name
    entry = {"placement": {"radius": cell.radius, "z_sd": cell.z_sd}}
    if cell.depth.kind == "uniform":
        entry["layer"] = cell.layer
    return entry
