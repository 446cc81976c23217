"""Vectorised, rank-independent connectivity and placement of the ground-truth network.

Everything random here is drawn from per-cell streams: ``numpy.random.default_rng`` seeded with
the :class:`numpy.random.SeedSequence` entropy ``[seed, stream, gid]``. A cell's position, its
incoming connections and its extrinsic synapse counts therefore depend only on the config, its
gid and the seed, never on how cells are distributed over MPI ranks or in which order they are
built.

Rules (Hagen et al. 2022, Methods; LFPy's ``Network.connect`` is the reference implementation):

* gids: populations in config order, consecutive gids ``first_gid .. first_gid + size - 1``.
* cell types: a population's cells get their types by exact counts, the largest remainders of
  ``N * F_y`` (:func:`cell_type_counts`), in the order of a permutation drawn from the seed and
  the population's index (stream :data:`STREAM_CELL_TYPE`, :func:`assign_cell_types`); one type
  draws nothing.
* placement: soma centre uniform in the disc of radius ``placement.radius`` (x, y), depth
  ``z ~ Normal(z_mean, z_sd)``, or uniform within the cell type's (else population's) ``layer``;
  with ``rotation.random_z`` each cell is also rotated about the z axis through its soma by an
  angle uniform in [0, 2 pi) (stream :data:`STREAM_ROTATION`); with ``rotation.random_x`` first
  about the x axis through its soma by an angle uniform in [0, 2 pi) (stream
  :data:`STREAM_ROTATION_X`, so configs without it draw as before), which moves its segments in
  depth: the synapse placement below takes the rotated depths.
* pairs: every presynaptic cell of population X connects to a postsynaptic cell of Y
  independently with probability ``C_YX`` (``connections[].probability``); no autapses. With
  ``connections[].indegree_factors`` a cell of type y uses ``C_YX f_y`` instead (its expected
  in-degree f_y times the population's; :func:`type_probabilities`).
* multapses: number of synapses per connected pair drawn from the config distribution evaluated
  at the integers 1..99 (continuous: pdf normalised; discrete: pmf normalised), see
  :func:`multapse_pmf`.
* synapse positions: segment drawn with probability proportional to its membrane area times
  ``sum_h weight_h * Normal(z_abs; mean_h, sd_h)`` at the segment centre's absolute depth
  ``z_abs = z_soma + z_segment``, on the allowed section groups only (:func:`segment_probability`);
  with ``placement.layers`` the fraction ``f_L`` of the synapses in layer L, spread within the
  layer the same way over the allowed segments whose midpoint lies in it
  (:func:`layered_probability`; ``docs/layers.md``).
* delays: config distribution, which must put no probability on negative delays
  (:func:`delay_distribution`, the one rule of the config, the network and the kernels), rounded
  to the nearest multiple of ``dt``; a value rounded below the distribution's lower support bound
  is moved up to the first grid point at or above it, and every delay is at least one step
  (:func:`round_delays`; :func:`delay_step_probabilities` gives the resulting step probabilities,
  which the kernels use).
* weights: ``Normal(w, weight_sd * |w|)``, values of the other sign than ``w`` redrawn, then multiplied by the
  connection's weight-scaling factor (:func:`lfpk.model.rules.weight_factors`).
* extrinsic drive: ``count`` synapses per cell distributed over segments by membrane area
  (multinomial), see :func:`extrinsic_counts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.stats

from lfpk.model.description import from_config
from lfpk.model.morphology.groups import group_mask
from lfpk.model.rules import (  # noqa: F401 - the rules live in lfpk.model.rules; re-exported
    EXCITATORY_E_MIN,
    MULTAPSE_MAX,
    frozen_distribution,
    multapse_mean,
    multapse_pmf,
)

#: Stream ids of the per-cell generators (second entry of the SeedSequence entropy).
STREAM_PLACEMENT = 0
STREAM_CONNECT = 1
STREAM_EXTRINSIC = 2
STREAM_ROTATION = 3
STREAM_CELL_TYPE = 4
STREAM_ROTATION_X = 5


def cell_rng(seed, gid, stream):
    """Independent generator of cell ``gid`` for one purpose (``stream``)."""
    return np.random.default_rng([int(seed), int(stream), int(gid)])


#: Composite Gauss-Legendre rule (panels x nodes) averaging a placement density over the soma depths
DEPTH_PANELS, DEPTH_NODES = 16, 8
#: Soma depth jitter beyond this many standard deviations is left out (mass 1e-15)
DEPTH_SDS = 8.0


def gaussian_density(z, densities, z_sd=0.0):
    """``sum_h weight_h * density_h(z)`` (1/um) at absolute depths ``z`` (um), averaged over a soma
    depth jitter ``Normal(0, z_sd)`` (um).

    Each density is a Gaussian ``{weight, mean, sd}`` (with the jitter: ``sd`` broadened to
    ``sqrt(sd**2 + z_sd**2)``, exact) or any scipy.stats distribution ``{weight, distribution,
    params}`` with optional depth bounds ``z_min``, ``z_max`` (um; the density is 0 outside them).
    The jitter's average of the latter is ``int f(z + e) N(e; 0, z_sd) de`` over the ``e`` that keep
    ``z + e`` inside the bounds and the distribution's support (so the integrand is smooth), by a
    composite Gauss-Legendre rule (:data:`DEPTH_PANELS` x :data:`DEPTH_NODES` nodes) on at most
    +-:data:`DEPTH_SDS` ``z_sd``.
    """
    z = np.asarray(z, dtype=float)
    out = np.zeros_like(z)
    for d in densities or ():
        if "distribution" not in d:
            out += float(d["weight"]) * scipy.stats.norm.pdf(z, float(d["mean"]), float(np.hypot(d["sd"], z_sd)))
            continue
        dist = frozen_distribution(d, "placement.densities")
        s0, s1 = dist.support()
        lo, hi = max(float(d.get("z_min", -np.inf)), s0), min(float(d.get("z_max", np.inf)), s1)
        if z_sd <= 0:
            out += float(d["weight"]) * np.where((z >= lo) & (z <= hi), dist.pdf(z), 0.0)
            continue
        a = np.maximum(lo - z, -DEPTH_SDS * z_sd)[..., None]  # jitter interval (um) per depth
        b = np.minimum(hi - z, DEPTH_SDS * z_sd)[..., None]
        x, w = np.polynomial.legendre.leggauss(DEPTH_NODES)
        edges = np.linspace(0.0, 1.0, DEPTH_PANELS + 1)
        t = ((edges[:-1, None] + edges[1:, None]) / 2 + (edges[1:, None] - edges[:-1, None]) / 2 * x).ravel()
        wt = np.tile(w / (2 * DEPTH_PANELS), DEPTH_PANELS)
        width = np.clip(b - a, 0.0, None)
        e = a + width * t
        f = dist.pdf(z[..., None] + e) * scipy.stats.norm.pdf(e, 0.0, z_sd)
        out += float(d["weight"]) * (f * wt * width).sum(axis=-1)
    return out


def groups_mask(segtable, groups, custom=None):
    """Segments (bool mask) in any of the section ``groups`` (:mod:`lfpk.model.morphology.groups`)."""
    allowed = np.zeros(len(segtable["area"]), dtype=bool)
    for g in groups:
        allowed |= group_mask(segtable, g, custom)
    return allowed


def segment_probability(segtable, z_soma, allowed, densities, z_sd=0.0):
    """Probability of each segment receiving one synapse.

    Parameters
    ----------
    segtable : dict
        Segment table (:mod:`lfpk.model.morphology.table`: ``z`` (n, 2) um, ``area`` um2).
    z_soma : float
        Depth of the soma centre (um); segment depths are ``z_soma + segment centre z``.
    allowed : ndarray of bool or list of str
        Segments that may receive synapses, or the allowed section groups.
    densities : list of dict
        Depth densities (um) in absolute coordinates: Gaussians ``{weight, mean, sd}`` or scipy.stats
        distributions ``{weight, distribution, params, z_min, z_max}`` (:func:`gaussian_density`).
    z_sd : float
        Soma depth jitter (um) the densities are averaged over (the kernel's representative
        cell); 0 for one cell of the network.

    Returns
    -------
    ndarray (n,)
        Probabilities ``∝ area * density(z_abs)`` on allowed segments, 0 elsewhere; sum 1.
    """
    if not isinstance(allowed, np.ndarray) or allowed.dtype != bool:
        allowed = groups_mask(segtable, list(allowed))
    zmid = segtable["z"].mean(axis=1) + float(z_soma)
    p = segtable["area"] * gaussian_density(zmid, densities, z_sd) * allowed
    s = p.sum()
    if not s > 0:
        raise ValueError(f"no synapse placement possible on the allowed segments at z={z_soma}")
    return p / s


def cell_type_counts(n, occurrences):
    """Exact numbers of cells of each type among ``n``: ``floor(n F_y)`` plus one for the types
    with the largest remainders ``n F_y - floor(n F_y)`` (ties: the earlier type) until they sum
    to ``n`` (the largest-remainder method).

    Examples
    --------
    >>> cell_type_counts(10, [0.25, 0.25, 0.5]).tolist()
    [3, 2, 5]
    """
    q = int(n) * np.asarray(occurrences, dtype=float)
    counts = np.floor(q).astype(int)
    short = int(n) - int(counts.sum())
    if short > 0:
        counts[np.argsort(-(q - counts), kind="stable")[:short]] += 1
    return counts


def assign_cell_types(seed, population_index, n, occurrences):
    """Cell type index (into the population's types) of each of its ``n`` cells, by local index.

    The exact counts of :func:`cell_type_counts` in the order of a permutation drawn from the
    entropy ``[seed, STREAM_CELL_TYPE, population_index]``: the same on every rank, independent of
    how cells are distributed. A population of one type draws nothing (all zeros).
    """
    if len(occurrences) <= 1:
        return np.zeros(int(n), dtype=int)
    labels = np.repeat(np.arange(len(occurrences)), cell_type_counts(n, occurrences))
    return np.random.default_rng([int(seed), STREAM_CELL_TYPE, int(population_index)]).permutation(labels)


def layer_masks(z, bounds):
    """``{layer: mask}`` of depths ``z`` (um) in each layer ``[bottom, top)`` of ``bounds``."""
    z = np.asarray(z, dtype=float)
    return {name: (z >= lo) & (z < hi) for name, (lo, hi) in bounds.items()}


def layered_probability(segtable, z_soma, allowed, densities, fractions, bounds, strict=True):
    """Probability of each segment receiving one synapse of a connection placed by layer.

    For one cell with its soma at ``z_soma``: the fraction ``f_L`` of the synapses goes to layer
    L and within it to the allowed segments whose midpoint ``z_soma + z_i`` lies in L, in
    proportion to ``area_i * density(z_abs)`` (density 1 without ``densities``):

        p_i = sum_L f_L w_i [i in L] / sum_j w_j [j in L],   w_i = area_i * density_i * allowed_i,

    over the layers holding an allowed segment, the fractions renormalised over them (a layer the
    cell does not reach at this depth passes its share to the others).

    Parameters
    ----------
    segtable : dict
        Segment table (``z`` (n, 2) um relative to the soma centre, ``area`` um2).
    z_soma : float or ndarray (m,)
        Soma depth(s) (um).
    allowed : ndarray of bool (n,)
    densities : list of dict or None
        Depth densities (:func:`gaussian_density`) or None (membrane area alone).
    fractions : dict
        ``{layer: f_L}`` (sum 1).
    bounds : dict
        ``{layer: (bottom, top)}`` (um).
    strict : bool
        Raise if no layer of positive fraction holds an allowed segment at a soma depth (else
        that depth's row is 0).

    Returns
    -------
    ndarray (n,) or (m, n)
        Probabilities summing to 1 (per soma depth).

    Raises
    ------
    ValueError
        ``strict`` and no layer of positive fraction holds an allowed segment at a soma depth.
    """
    scalar = np.ndim(z_soma) == 0
    zs = np.atleast_1d(np.asarray(z_soma, dtype=float))
    zabs = zs[:, None] + segtable["z"].mean(axis=1)[None, :]
    w = np.broadcast_to(segtable["area"] * allowed, zabs.shape)
    if densities:
        w = w * gaussian_density(zabs, densities)
    out = np.zeros(zabs.shape)
    reached = np.zeros(len(zs))
    for name, inside in layer_masks(zabs, {k: bounds[k] for k, f in fractions.items() if f > 0}).items():
        wl = w * inside
        total = wl.sum(axis=1)
        ok = total > 0
        out += float(fractions[name]) * wl / np.where(ok, total, 1.0)[:, None]
        reached += float(fractions[name]) * ok
    if strict and not np.all(reached > 0):
        z_bad = zs[np.flatnonzero(~(reached > 0))[0]]
        raise ValueError(f"no allowed segment lies in any of the layers {', '.join(k for k, f in fractions.items() if f > 0)} "
                         f"with the soma at z = {z_bad:g} um")
    out /= np.where(reached > 0, reached, 1.0)[:, None]
    return out[0] if scalar else out


#: Nodes of soma depths evaluated at once by :func:`expected_layered_probability` (memory: nodes x segments)
LAYER_CHUNK = 2048
#: Gauss-Legendre nodes per interval of :func:`expected_layered_probability` when densities are given
LAYER_NODES = 4


def soma_depth_nodes(depth, breakpoints, nodes=1):
    """Quadrature of a soma depth distribution cut at ``breakpoints`` (um).

    ``depth`` (:class:`lfpk.model.description.SomaDepth`) normal (support cut at +-
    :data:`DEPTH_SDS` sd) or uniform; within each interval between breakpoints a Gauss-Legendre rule
    of ``nodes`` nodes weighted by the density, or with ``nodes=1`` the interval's midpoint
    weighted by its exact probability (CDF difference). Returns depths and weights (sum 1).
    """
    if depth.kind == "uniform":
        lo, hi = depth.a, depth.b
        cdf = lambda z: (np.clip(z, lo, hi) - lo) / (hi - lo)  # noqa: E731
        pdf = lambda z: np.full_like(z, 1.0 / (hi - lo))  # noqa: E731
    else:
        if not depth.sd > 0:
            return np.array([depth.mean]), np.ones(1)
        lo, hi = depth.mean - DEPTH_SDS * depth.sd, depth.mean + DEPTH_SDS * depth.sd
        cdf = lambda z: scipy.stats.norm.cdf(z, depth.mean, depth.sd)  # noqa: E731
        pdf = lambda z: scipy.stats.norm.pdf(z, depth.mean, depth.sd)  # noqa: E731
    if not hi > lo:
        return np.array([lo]), np.ones(1)
    b = np.asarray(breakpoints, dtype=float)
    edges = np.unique(np.concatenate([[lo, hi], b[(b > lo) & (b < hi)]]))
    a0, a1 = edges[:-1], edges[1:]
    if nodes == 1:
        z, wt = 0.5 * (a0 + a1), cdf(a1) - cdf(a0)
    else:
        x, gw = np.polynomial.legendre.leggauss(nodes)
        z = (0.5 * (a0 + a1)[:, None] + 0.5 * (a1 - a0)[:, None] * x).ravel()
        wt = (0.5 * (a1 - a0)[:, None] * gw).ravel() * pdf(z)
    keep = wt > 0
    return z[keep], wt[keep] / wt[keep].sum()


def expected_layered_probability(segtable, depth, allowed, densities, fractions, bounds):
    """The layered placement (:func:`layered_probability`) averaged over the soma depths of the
    population or cell type (``depth``, a :class:`lfpk.model.description.SomaDepth`): the expected
    share of a connection's synapses on each segment of the kernel's representative cell.

    A segment's membership of a layer changes where its midpoint crosses a layer bound, at the
    soma depths ``bound - z_i``; between these breakpoints every membership is fixed, so without
    densities the probabilities are constant there and the average over the intervals' exact
    probabilities is exact; with densities each interval takes :data:`LAYER_NODES` Gauss-Legendre
    nodes. Soma depths at which the cell reaches none of the layers (far tails of a normal
    distribution) are left out and the weights renormalised. Returns an ndarray (n,) summing to 1.

    Raises
    ------
    ValueError
        At no soma depth does an allowed segment lie in a layer of positive fraction.
    """
    zmid = segtable["z"].mean(axis=1)[np.asarray(allowed, dtype=bool)]
    cuts = np.array([b for k, f in fractions.items() if f > 0 for b in bounds[k]])
    breakpoints = (cuts[:, None] - zmid[None, :]).ravel()
    z, wt = soma_depth_nodes(depth, breakpoints, 1 if not densities else LAYER_NODES)
    out = np.zeros(len(segtable["area"]))
    for k in range(0, len(z), LAYER_CHUNK):
        p = layered_probability(segtable, z[k:k + LAYER_CHUNK], allowed, densities, fractions, bounds, strict=False)
        out += wt[k:k + LAYER_CHUNK] @ p
    if not out.sum() > 0:
        raise ValueError(f"no allowed segment lies in any of the layers {', '.join(k for k, f in fractions.items() if f > 0)} "
                         f"for soma depths {depth.kind} ({depth.a:g}, {depth.b:g}) um")
    return out / out.sum()


#: Largest probability of a negative conduction delay that a delay distribution may have.
NEGATIVE_DELAY_TOLERANCE = 1e-9


def delay_distribution(spec, what="delays"):
    """The frozen conduction-delay distribution of ``spec``; raises ``ValueError`` naming ``what``
    when it puts more than :data:`NEGATIVE_DELAY_TOLERANCE` of its probability on negative delays
    (a delay cannot be negative; the network would otherwise clamp such draws silently)."""
    dist = frozen_distribution(spec, what)
    with np.errstate(all="ignore"):
        p_neg = float(dist.cdf(0.0))
    if not p_neg <= NEGATIVE_DELAY_TOLERANCE:
        raise ValueError(f"{what}: the distribution puts {p_neg:.3g} of its probability on negative delays; "
                         "expected delays >= 0 ms (e.g. truncnorm with a >= -loc/scale)")
    return dist


def delay_step_probabilities(spec, dt, n_steps, what="delays"):
    """Probability that a delay drawn by the network is ``k dt``, k = 0 .. n_steps - 1.

    The network rounds a draw ``d`` to ``max(rint(d / dt), k0)`` steps with ``k0 = max(1,
    ceil(lower / dt))`` and ``lower`` the distribution's lower support bound (:func:`round_delays`),
    so ``P(k0) = F((k0 + 1/2) dt)`` and ``P(k) = F((k + 1/2) dt) - F((k - 1/2) dt)`` for ``k > k0``
    (F the CDF). Mass beyond the last step is not included (the sum is below 1 then).
    """
    dist = delay_distribution(spec, what)
    lower = float(dist.support()[0])
    k0 = max(1, int(np.ceil(lower / dt - 1e-9))) if np.isfinite(lower) else 1
    cdf = dist.cdf((np.arange(n_steps + 1) - 0.5) * dt)
    p = np.zeros(n_steps)
    if k0 < n_steps:
        p[k0] = cdf[k0 + 1]
        p[k0 + 1:] = np.diff(cdf)[k0 + 1:]
    return p


def round_delays(delays, dt, lower=None):
    """Round delays (ms) to the ``dt`` grid, never below ``lower`` (moved up to the grid)."""
    steps = np.rint(np.asarray(delays, dtype=float) / dt)
    if lower is not None and np.isfinite(lower):
        steps = np.maximum(steps, np.ceil(lower / dt - 1e-9))
    steps = np.maximum(steps, 1.0)  # at least one step
    return steps * dt


def draw_weights(rng, w, sd, n):
    """``n`` weights ``Normal(w, sd)``, values of the other sign than ``w`` redrawn (below 0 for
    ``w >= 0``; above 0 for the negative, outward, weight of a current synapse)."""
    sign = -1.0 if w < 0 else 1.0
    out = rng.normal(w, sd, n)
    bad = sign * out < 0
    while bad.any():
        out[bad] = rng.normal(w, sd, int(bad.sum()))
        bad = sign * out < 0
    return out


def synapse_type(syn):
    """Hashable key of a synapse model: (model, tau1, tau2, e). Equal keys can be lumped."""
    # a current synapse (Exp2SynI) has no reversal potential: the key takes Synapse.from_config's
    # default 0 mV, which only separates point processes (signed currents add in one)
    return (str(syn.get("model", "Exp2Syn")), float(syn["tau1"]), float(syn["tau2"]), float(syn.get("e", 0.0)))


@dataclass
class Incoming:
    """Synapses onto one postsynaptic cell (one row per synapse).

    Attributes
    ----------
    pre : ndarray int
        Presynaptic gid.
    segment : ndarray int
        Postsynaptic segment index (segment-table order).
    delay : ndarray float
        Delay (ms), on the dt grid.
    weight : ndarray float
        Peak conductance (uS), J applied.
    connection : ndarray int
        Index of the connection in ``cfg["connections"]``.
    """

    pre: np.ndarray
    segment: np.ndarray
    delay: np.ndarray
    weight: np.ndarray
    connection: np.ndarray

    def __len__(self):
        return len(self.pre)


@dataclass
class Layout:
    """Populations, gids, positions, rotations and per-population segment tables of a network.

    Attributes
    ----------
    angles : ndarray (n_cells,)
        Each cell's random rotation about z (radians; 0 without ``rotation.random_z``).
    angles_x : ndarray (n_cells,)
        Each cell's random rotation about x, applied before the one about z (radians; 0 without
        ``rotation.random_x``).
    model : lfpk.model.NetworkModel
        The model description the layout was made from.
    type_of : ndarray (n_cells,)
        Each cell's type, an index into its population's ``cell_types`` (0 for one type).
    segtables : dict
        Population -> segment table of its first (or only) cell type; a cell's own is
        :meth:`segtable`.
    """

    names: list
    sizes: dict
    first_gid: dict
    segtables: dict
    positions: np.ndarray  # (n_cells, 3) um
    population_of: np.ndarray  # (n_cells,) index into names
    seed: int
    extra: dict = field(default_factory=dict)
    angles: np.ndarray = None
    model: object = None
    type_of: np.ndarray = None
    angles_x: np.ndarray = None

    @property
    def n_cells(self):
        return int(sum(self.sizes.values()))

    @property
    def n_segments(self):
        """Compartments of the whole network (every cell's type's segments)."""
        total = 0
        for name in self.names:
            types = self.model.populations[name].cell_types
            counts = (np.bincount(self.type_of[self.gids(name)], minlength=len(types)) if self.type_of is not None
                      else np.array([self.sizes[name]] + [0] * (len(types) - 1)))
            total += int(np.dot(counts, [t.n_segments for t in types]))
        return total

    def gids(self, name):
        return np.arange(self.first_gid[name], self.first_gid[name] + self.sizes[name])

    def population(self, gid):
        return self.names[int(self.population_of[gid])]

    def cell_type(self, gid):
        """The :class:`lfpk.model.description.CellType` of cell ``gid`` (its morphology,
        biophysics, rotation and soma depths: what the network builds for it)."""
        pop = self.model.populations[self.population(gid)]
        return pop.cell_types[0 if self.type_of is None else int(self.type_of[gid])]

    def segtable(self, gid):
        """Segment table of cell ``gid``'s type (soma centre at the origin; do not modify)."""
        return self.cell_type(gid).segments

    def angle_x(self, gid) -> float:
        """Cell ``gid``'s random angle about x (radians; 0 without ``rotation.random_x``)."""
        return 0.0 if self.angles_x is None else float(self.angles_x[gid])

    def rotated_segtable(self, gid):
        """Segment table of cell ``gid`` rotated about x through its soma by its random angle (the
        type's table itself without ``rotation.random_x``): the depths its synapses are placed by."""
        return self.cell_type(gid).rotated_segments(self.angle_x(gid))


def place_cells(cfg, sizes=None, seed=None):
    """Gids and soma positions of every cell (identical on every rank).

    Parameters
    ----------
    cfg : dict
        Validated config.
    sizes : dict, optional
        Population sizes overriding ``populations[].size``.
    seed : int, optional
        Overrides ``cfg["seed"]``.
    """
    model = from_config(cfg)
    seed = int(cfg["seed"] if seed is None else seed)
    names = list(model.populations)
    sizes = {n: int((sizes or {}).get(n, model.populations[n].size)) for n in names}
    first, g = {}, 0
    for n in names:
        first[n] = g
        g += sizes[n]
    pos = np.zeros((g, 3))
    angles = np.zeros(g)
    angles_x = np.zeros(g)
    popidx = np.zeros(g, dtype=int)
    type_of = np.zeros(g, dtype=int)
    segtables = {}
    for i, n in enumerate(names):
        pop = model.populations[n]
        segtables[n] = pop.cell_types[0].segments
        type_of[first[n]:first[n] + sizes[n]] = assign_cell_types(seed, pop.index, sizes[n], pop.occurrences)
        for gid in range(first[n], first[n] + sizes[n]):
            ctype = pop.cell_types[type_of[gid]]
            rng = cell_rng(seed, gid, STREAM_PLACEMENT)
            r = pop.radius * np.sqrt(rng.random())
            phi = 2 * np.pi * rng.random()
            pos[gid] = r * np.cos(phi), r * np.sin(phi), ctype.depth.draw(rng)
            popidx[gid] = i
            if ctype.random_rotation:
                angles[gid] = 2 * np.pi * cell_rng(seed, gid, STREAM_ROTATION).random()
            if ctype.random_x:  # a stream of its own: the draws above are those without random_x
                angles_x[gid] = 2 * np.pi * cell_rng(seed, gid, STREAM_ROTATION_X).random()
    return Layout(names, sizes, first, segtables, pos, popidx, seed, angles=angles, model=model, type_of=type_of,
                  angles_x=angles_x)


def placement_mask(cell, connection):
    """Segments of ``cell`` (a population or cell type of the model) in the section groups of
    ``connection``'s placement (all segments when a layered placement names none)."""
    allowed = np.zeros(cell.n_segments, dtype=bool)
    for group in connection.groups:
        allowed |= cell.group_mask(group, f"connections[{connection.index}].placement.sections")
    return allowed


def placement_on(segtable, cell, connection, layers, allowed=None):
    """Expected probability of a synapse of ``connection`` on each segment of ``segtable`` (the
    table of ``cell``, a population or cell type of the model, possibly rotated about x), over the
    cell's soma depths: :func:`segment_probability` at the mean depth with the densities averaged
    over the normal depths, or :func:`expected_layered_probability` with ``placement.layers``
    (``layers``: the model's bounds). ``allowed``: :func:`placement_mask` (computed if None)."""
    if allowed is None:
        allowed = placement_mask(cell, connection)
    fractions = connection.layer_fractions(cell.name)
    if fractions is None:
        return segment_probability(segtable, cell.z_mean, allowed, connection.densities, cell.z_sd)
    return expected_layered_probability(segtable, cell.depth, allowed, connection.densities, fractions, layers)


def rotation_placements(cell, connection, layers):
    """The expected placement (:func:`placement_on`) of the cell rotated about x by each angle of
    its ``rotation.random_x`` quadrature (:meth:`lfpk.model.description.CellType.rotation_nodes`):
    the synapses of a rotated cell go by its rotated segment depths, as in the network.

    Returns
    -------
    weights : ndarray (n_nodes,)
        Quadrature weights (sum 1; one node of weight 1 without ``random_x``).
    P : ndarray (n_nodes, n_segments)
        Each node's probabilities (rows sum 1).
    """
    allowed = placement_mask(cell, connection)
    angles, weights = cell.rotation_nodes()
    P = np.array([placement_on(cell.rotated_segments(a), cell, connection, layers, allowed) for a in angles])
    return weights, P


def expected_placement(cell, connection, layers):
    """Expected probability of a synapse of ``connection`` on each segment of ``cell`` (a
    population or cell type of the model: the kernel's representative cell), over the cell's
    soma depths (:func:`placement_on`) and, with ``rotation.random_x``, over its random angle about
    x (the mean of :func:`rotation_placements`). The kernel engine's rule, for figures and checks."""
    if not getattr(cell, "random_x", False):
        return placement_on(cell.segments, cell, connection, layers)
    weights, P = rotation_placements(cell, connection, layers)
    p = weights @ P
    return p / p.sum()


def type_probabilities(C, connection, post):
    """Pair probability per cell type of the post population ``post`` (a
    :class:`lfpk.model.description.Population`): ``C f_y`` with f_y the connection's in-degree
    factor of type y (:meth:`lfpk.model.description.Connection.indegree_factor`), so a cell of type
    y expects ``f_y`` times the population's in-degree ``C N_X E[m]`` and the population's total
    ``sum_y N_y C f_y N_X E[m]`` stays ``C N_Y N_X E[m]`` (the factors' occurrence-weighted mean is
    1). Without factors every entry is ``C`` itself (no arithmetic: draws as before, bit for bit).
    Returns a list (one float per type, in the population's type order)."""
    if not connection.indegree_factors:
        return [C] * len(post.cell_types)
    return [C * connection.indegree_factor(t.name) for t in post.cell_types]


class Connectivity:
    """Vectorised generator of every cell's incoming synapses.

    Parameters
    ----------
    cfg : dict
        Validated config (``connections``, ``weight_scaling``, ``simulation.dt``).
    layout : Layout
        From :func:`place_cells`.
    probability_scale : dict, optional
        ``{(pre, post): C}`` overriding the connection probabilities (e.g. for scaled-down tests).
    """

    def __init__(self, cfg, layout, probabilities=None):
        self.cfg = cfg
        self.layout = layout
        self.model = layout.model if layout.model is not None else from_config(cfg)
        self.dt = float(cfg["simulation"]["dt"])
        self.J = float(cfg["weight_scaling"]["J"])
        self.conns = []
        for c in self.model.connections:
            k, p = multapse_pmf(c.multapses, what=f"connections[{c.index}].multapses")
            delay = delay_distribution(c.delays, f"connections[{c.index}].delays")
            syn = c.synapse
            w = float(syn["weight"])
            C = float((probabilities or {}).get((c.pre, c.post), c.probability))
            post = self.model.populations[c.post]
            allowed = [placement_mask(t, c) for t in post.cell_types]
            C_type = type_probabilities(C, c, post)
            self.conns.append(dict(
                index=c.index, pre=c.pre, post=c.post, C=C, C_type=C_type, k=k, p=p, delay=delay,
                delay_lower=float(delay.support()[0]), w=w, w_sd=float(syn.get("weight_sd", 0.0)) * abs(w),
                scale=c.weight_factor, sections=c.groups, allowed=allowed,
                densities=None if c.densities is None else list(c.densities), type=synapse_type(syn),
                layers=[c.layer_fractions(t.name) for t in post.cell_types],
            ))
        self.bounds = self.model.layers

    def connections_to(self, post):
        return [c for c in self.conns if c["post"] == post]

    def segment_probability(self, conn, gid, z_soma):
        """Synapse probability per segment of cell ``gid`` (soma at ``z_soma`` um) for one
        connection (an entry of ``self.conns``): :func:`segment_probability`, or
        :func:`layered_probability` with ``placement.layers``."""
        t = 0 if self.layout.type_of is None else int(self.layout.type_of[gid])
        table = self.layout.rotated_segtable(gid)  # depths after the cell's rotation about x
        if conn["layers"][t] is None:
            return segment_probability(table, z_soma, conn["allowed"][t], conn["densities"])
        try:
            return layered_probability(table, z_soma, conn["allowed"][t], conn["densities"], conn["layers"][t],
                                       self.bounds)
        except ValueError as exc:
            raise ValueError(f"connections[{conn['index']}].placement.layers: cell {gid} of population "
                             f"{conn['post']}: {exc}") from None

    def incoming(self, gid):
        """All synapses onto cell ``gid`` (an :class:`Incoming`), in connection then pre-gid order."""
        lay = self.layout
        post = lay.population(gid)
        z_soma = lay.positions[gid, 2]
        rng = cell_rng(lay.seed, gid, STREAM_CONNECT)
        t = 0 if lay.type_of is None else int(lay.type_of[gid])
        parts = []
        for c in self.connections_to(post):
            pre_gids = lay.gids(c["pre"])
            mask = rng.random(len(pre_gids)) < c["C_type"][t]
            if c["pre"] == post:
                mask[gid - lay.first_gid[post]] = False  # no autapses
            pre = pre_gids[mask]
            m = rng.choice(c["k"], size=len(pre), p=c["p"])
            n = int(m.sum())
            pseg = self.segment_probability(c, gid, z_soma)
            seg = rng.choice(len(pseg), size=n, p=pseg)
            delay = round_delays(c["delay"].rvs(size=n, random_state=rng), self.dt, c["delay_lower"])
            weight = draw_weights(rng, c["w"], c["w_sd"], n) * c["scale"]
            parts.append(Incoming(np.repeat(pre, m), seg, delay, weight, np.full(n, c["index"])))
        if not parts:
            e = np.zeros(0)
            return Incoming(e.astype(int), e.astype(int), e, e, e.astype(int))
        return Incoming(*(np.concatenate([getattr(p, f) for p in parts])
                          for f in ("pre", "segment", "delay", "weight", "connection")))


def extrinsic_counts(layout, gid, count):
    """Number of extrinsic synapses per segment of cell ``gid`` (multinomial by membrane area)."""
    area = layout.segtable(gid)["area"]
    rng = cell_rng(layout.seed, gid, STREAM_EXTRINSIC)
    return rng.multinomial(int(count), area / area.sum())
