"""Vectorised, rank-independent connectivity and placement of the ground-truth network.

Everything random here is drawn from per-cell streams: ``numpy.random.default_rng`` seeded with
the :class:`numpy.random.SeedSequence` entropy ``[seed, stream, gid]``. A cell's position, its
incoming connections and its extrinsic synapse counts therefore depend only on the config, its
gid and the seed, never on how cells are distributed over MPI ranks or in which order they are
built.

Rules (Hagen et al. 2022, Methods; LFPy's ``Network.connect`` is the reference implementation):

* gids: populations in config order, consecutive gids ``first_gid .. first_gid + size - 1``.
* placement: soma centre uniform in the disc of radius ``placement.radius`` (x, y), depth
  ``z ~ Normal(z_mean, z_sd)``; with ``rotation.random_z`` each cell is also rotated about the z
  axis through its soma by an angle uniform in [0, 2 pi) (stream :data:`STREAM_ROTATION`).
* pairs: every presynaptic cell of population X connects to a postsynaptic cell of Y
  independently with probability ``C_YX`` (``connections[].probability``); no autapses.
* multapses: number of synapses per connected pair drawn from the config distribution evaluated
  at the integers 1..99 (continuous: pdf normalised; discrete: pmf normalised), see
  :func:`multapse_pmf`.
* synapse positions: segment drawn with probability proportional to its membrane area times
  ``sum_h weight_h * Normal(z_abs; mean_h, sd_h)`` at the segment centre's absolute depth
  ``z_abs = z_soma + z_segment``, on the allowed section groups only (:func:`segment_probability`).
* delays: config distribution, which must put no probability on negative delays
  (:func:`delay_distribution`, the one rule of the config, the network and the kernels), rounded
  to the nearest multiple of ``dt``; a value rounded below the distribution's lower support bound
  is moved up to the first grid point at or above it, and every delay is at least one step
  (:func:`round_delays`; :func:`delay_step_probabilities` gives the resulting step probabilities,
  which the kernels use).
* weights: ``Normal(w, weight_sd * w)``, values below 0 redrawn, then multiplied by the
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
    for d in densities:
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
    return (str(syn.get("model", "Exp2Syn")), float(syn["tau1"]), float(syn["tau2"]), float(syn["e"]))


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
    model : lfpk.model.NetworkModel
        The model description the layout was made from.
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

    @property
    def n_cells(self):
        return int(sum(self.sizes.values()))

    def gids(self, name):
        return np.arange(self.first_gid[name], self.first_gid[name] + self.sizes[name])

    def population(self, gid):
        return self.names[int(self.population_of[gid])]


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
    popidx = np.zeros(g, dtype=int)
    segtables = {}
    for i, n in enumerate(names):
        pop = model.populations[n]
        segtables[n] = pop.segments
        for gid in range(first[n], first[n] + sizes[n]):
            rng = cell_rng(seed, gid, STREAM_PLACEMENT)
            r = pop.radius * np.sqrt(rng.random())
            phi = 2 * np.pi * rng.random()
            pos[gid] = r * np.cos(phi), r * np.sin(phi), rng.normal(pop.z_mean, pop.z_sd)
            popidx[gid] = i
            if pop.random_rotation:
                angles[gid] = 2 * np.pi * cell_rng(seed, gid, STREAM_ROTATION).random()
    return Layout(names, sizes, first, segtables, pos, popidx, seed, angles=angles, model=model)


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
            allowed = np.zeros(post.n_segments, dtype=bool)
            for group in c.groups:
                allowed |= post.group_mask(group, f"connections[{c.index}].placement.sections")
            self.conns.append(dict(
                index=c.index, pre=c.pre, post=c.post, C=C, k=k, p=p, delay=delay,
                delay_lower=float(delay.support()[0]), w=w, w_sd=float(syn.get("weight_sd", 0.0)) * w,
                scale=c.weight_factor, sections=c.groups, allowed=allowed,
                densities=list(c.placement["densities"]), type=synapse_type(syn),
            ))

    def connections_to(self, post):
        return [c for c in self.conns if c["post"] == post]

    def incoming(self, gid):
        """All synapses onto cell ``gid`` (an :class:`Incoming`), in connection then pre-gid order."""
        lay = self.layout
        post = lay.population(gid)
        z_soma = lay.positions[gid, 2]
        rng = cell_rng(lay.seed, gid, STREAM_CONNECT)
        parts = []
        for c in self.connections_to(post):
            pre_gids = lay.gids(c["pre"])
            mask = rng.random(len(pre_gids)) < c["C"]
            if c["pre"] == post:
                mask[gid - lay.first_gid[post]] = False  # no autapses
            pre = pre_gids[mask]
            m = rng.choice(c["k"], size=len(pre), p=c["p"])
            n = int(m.sum())
            pseg = segment_probability(lay.segtables[post], z_soma, c["allowed"], c["densities"])
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
    area = layout.segtables[layout.population(gid)]["area"]
    rng = cell_rng(layout.seed, gid, STREAM_EXTRINSIC)
    return rng.multinomial(int(count), area / area.sum())
