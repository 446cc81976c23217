"""The network as plain Python objects, built once from a validated config.

:func:`from_config` turns the config into :class:`Population` s (size, morphology, placement,
rotation, extrinsic input, biophysics) and :class:`Connection` s (probability, multapses,
delays, synapse with the weight scaling applied, placement on section groups). The ground-truth
network (:mod:`lfpk.engines.network`), the connectivity (:mod:`lfpk.model.connectivity`), the kernel engine
(:mod:`lfpk.engines.kernel`), the figures and the CLI all read the network from here, so the same
description feeds ground truth and kernels (hnn-core's separation of model description and
NEURON builder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from lfpk.base import mechanisms
from lfpk.model import rules
from lfpk.model.biophysics import Biophysics
from lfpk.model.morphology import from_population
from lfpk.model.morphology.groups import compile_groups, group_mask
from lfpk.model.morphology.rotation import random_x_nodes, rotate_segments_x
from lfpk.model.synapse import Synapse


#: Keys of a population entry that a cell type may override (its cell and soma layer).
CELL_TYPE_KEYS = ("morphology", "rotation", "Ra", "cm", "segmentation", "biophysics", "layer")


@dataclass(frozen=True)
class SomaDepth:
    """The distribution of soma depths (um) of a population or cell type.

    ``kind`` ``normal`` (``a`` the mean, ``b`` the standard deviation; the ``placement.z_mean``,
    ``z_sd`` of the config) or ``uniform`` (``a`` the layer's bottom, ``b`` its top: somata
    uniform in depth within a layer).
    """

    kind: str
    a: float
    b: float

    @property
    def mean(self) -> float:
        """Mean soma depth (um)."""
        return self.a if self.kind == "normal" else 0.5 * (self.a + self.b)

    @property
    def sd(self) -> float:
        """Standard deviation of soma depth (um); ``(top - bottom) / sqrt(12)`` for a layer."""
        return self.b if self.kind == "normal" else (self.b - self.a) / np.sqrt(12.0)

    def draw(self, rng):
        """One soma depth (um) from ``rng`` (one ``normal`` draw, or one ``random`` in the layer)."""
        if self.kind == "normal":
            return rng.normal(self.a, self.b)
        return self.a + (self.b - self.a) * rng.random()


class _CellParts:
    """What a cell of a population or cell type offers (``morphology``, ``biophysics`` set by the
    dataclass): the segment table, section groups and evaluated biophysics, each computed once."""

    @cached_property
    def segments(self):
        """Segment table of the cell (soma centre at the origin); do not modify."""
        return self.morphology.segments()

    @property
    def n_segments(self) -> int:
        return len(self.segments["area"])

    def geometry(self, angle_x=0.0):
        """Segment table of the representative cell placed at the mean soma depth (um, a copy),
        rotated about x through the soma by ``angle_x`` (radians) first."""
        seg = {k: v.copy() for k, v in self.rotated_segments(angle_x).items()}
        seg["z"] = seg["z"] + self.z_mean
        return seg

    def rotated_segments(self, angle_x=0.0):
        """Segment table rotated about x through the soma centre by ``angle_x`` (radians; the
        table itself for 0, else a copy): a cell of the ``rotation.random_x`` population."""
        return rotate_segments_x(self.segments, angle_x)

    def rotation_nodes(self):
        """Quadrature of the cell's random angle about x: ``(angles, weights)`` (radians, sum 1) of
        :func:`lfpk.model.morphology.rotation.random_x_nodes` with ``rotation.random_x``, else the
        one node ``([0.0], [1.0])`` (the cell as it is)."""
        if getattr(self, "random_x", False):
            return random_x_nodes()
        return np.zeros(1), np.ones(1)

    @property
    def soma_index(self) -> int:
        return self.morphology.soma_index

    @cached_property
    def custom_groups(self):
        return compile_groups(self.morphology.groups, f"{self.key}.morphology.groups")

    def group_mask(self, group, what="group"):
        """Boolean mask of the segments in section group ``group``."""
        return group_mask(self.segments, group, self.custom_groups, what)

    @cached_property
    def cell_biophysics(self):
        """The biophysics block evaluated on the cell's segments (:class:`CellBiophysics`)."""
        return self.biophysics.evaluate(self.segments, self.custom_groups)

    @property
    def file(self):
        """Morphology file (None for a ball-and-stick cell)."""
        return self.morphology.file

    @property
    def z_mean(self) -> float:
        return self.depth.mean

    @property
    def z_sd(self) -> float:
        return self.depth.sd


@dataclass(eq=False)
class CellType(_CellParts):
    """One cell type of a population (hybridLFPy's cell types; Hagen et al. 2016, Cereb Cortex
    26:4461): its share of the population's cells and its own cell.

    Attributes
    ----------
    name : str
        The type's name (the population's name for a population without ``cell_types``).
    index : int
        Position among the population's types.
    occurrence : float
        Fraction F_y of the population's cells of this type (the types' fractions sum to 1).
    morphology, biophysics
        As :class:`Population` (the type's own, else the population's).
    random_rotation : bool
        Each cell rotated about z by a uniform random angle (``rotation.random_z``).
    random_x : bool
        Each cell rotated about x through its soma by a uniform random angle before its angle about
        z (``rotation.random_x``; hybridLFPy's ``rand_rot_axis`` ``['x', 'z']``).
    radius : float
        The population's disc radius (um).
    population : str
        The population's name.
    depth : SomaDepth
        Soma depths (um): uniform in the type's ``layer`` (else the population's), else normal.
    layer : str or None
        The soma layer.
    key : str
        Config key path of the type (for messages).
    config : dict
        The population's entry with the type's overrides laid over it.
    """

    name: str
    index: int
    occurrence: float
    morphology: object
    biophysics: object
    random_rotation: bool
    depth: SomaDepth
    layer: object = None
    key: str = ""
    config: dict = field(repr=False, default_factory=dict)
    radius: float = 0.0
    population: str = ""
    random_x: bool = False


@dataclass(eq=False)
class Population(_CellParts):
    """One population of the network.

    Attributes
    ----------
    name : str
    index : int
        Position in the config (gids are assigned in this order).
    size : int
        Number of cells N.
    morphology : lfpk.model.morphology.BallAndStick or lfpk.model.morphology.FileMorphology
        The cell (rotation of the config applied, soma centre at the origin); with ``cell_types``
        the first type's.
    biophysics : lfpk.model.biophysics.Biophysics
        The population's biophysics block (its own, or the config's default; the first type's).
    radius : float
        Somata uniform in a disc of ``radius`` (um).
    depth : SomaDepth
        Soma depths (um): normal (``placement.z_mean``, ``z_sd``) or uniform in the ``layer``;
        ``z_mean`` and ``z_sd`` are its mean and standard deviation.
    random_rotation : bool
        Each cell rotated about z by a uniform random angle (reproducible per gid).
    random_x : bool
        Each cell rotated about x through its soma by a uniform random angle, before the angle
        about z (reproducible per gid; the first type's with ``cell_types``).
    extrinsic : dict
        ``count`` synapses per cell spread by area, Poisson ``rate`` (1/s), ``synapse`` (config).
    config : dict
        The population's config entry.
    cell_types : list of CellType
        The population's cell types in config order; one type (the population's own cell, named
        as the population, occurrence 1) without ``cell_types`` in the config.
    layer : str or None
        The soma layer (``populations.<name>.layer``).
    """

    name: str
    index: int
    size: int
    morphology: object
    biophysics: object
    radius: float
    depth: SomaDepth
    random_rotation: bool
    extrinsic: dict
    config: dict = field(repr=False, default_factory=dict)
    cell_types: list = field(repr=False, default_factory=list)
    layer: object = None
    random_x: bool = False

    def __repr__(self):
        cell = type(self.morphology).__name__
        where = (f"in layer {self.layer}" if self.layer else f"at z = {self.z_mean:g} +- {self.z_sd:g} um")
        types = "" if len(self.cell_types) <= 1 else f", {len(self.cell_types)} cell types"
        return (f"<Population {self.name} | {self.size} cells, {cell} of {self.n_segments} segments{types}, "
                f"somata {where} within r = {self.radius:g} um, "
                f"extrinsic {self.extrinsic.get('count')} x {self.extrinsic.get('rate')} /s>")

    @property
    def key(self) -> str:
        return f"populations.{self.name}"

    def _first(self):
        """The first cell type, when it holds the population's own cell (always, once built)."""
        if self.cell_types and self.cell_types[0].morphology is self.morphology \
                and self.cell_types[0].biophysics is self.biophysics:
            return self.cell_types[0]
        return None

    @cached_property
    def segments(self):
        """Segment table of the cell (the first type's; soma centre at the origin); do not modify."""
        first = self._first()
        return first.segments if first is not None else self.morphology.segments()

    @cached_property
    def custom_groups(self):
        first = self._first()
        return first.custom_groups if first is not None else super().custom_groups

    @cached_property
    def cell_biophysics(self):
        """The biophysics block evaluated on the cell's segments (the first type's)."""
        first = self._first()
        return first.cell_biophysics if first is not None else self.biophysics.evaluate(self.segments,
                                                                                        self.custom_groups)

    @property
    def extrinsic_synapse(self) -> Synapse:
        return Synapse.from_config(self.extrinsic["synapse"])

    @property
    def typed(self) -> bool:
        """True if the config gives the population ``cell_types``."""
        return "cell_types" in self.config

    @property
    def occurrences(self):
        """Occurrence fractions F_y of the cell types (ndarray, sums to 1)."""
        return np.array([t.occurrence for t in self.cell_types], dtype=float)

    def cell_type(self, name):
        """The :class:`CellType` named ``name``."""
        for t in self.cell_types:
            if t.name == name:
                return t
        raise ValueError(f"{self.key}: no cell type {name!r} (types: {', '.join(t.name for t in self.cell_types)})")


@dataclass(eq=False)
class Connection:
    """One connection pre (X) -> post (Y).

    Attributes
    ----------
    index : int
        Position in the config's ``connections``.
    pre, post : str
    probability : float
        Pairwise connection probability C_YX.
    multapses, delays : dict
        scipy.stats distributions ``{distribution, params}`` (synapses per pair; delay in ms).
    synapse : dict
        The config's synapse (``weight`` before scaling, uS).
    weight_factor : float
        Factor of the weight scaling rule (:func:`lfpk.model.rules.weight_factors`).
    placement : dict
        ``sections`` (section groups), depth ``densities`` and ``layers`` (fractions of the
        synapses per layer, flat or per cell type of ``post``).
    indegree_factors : dict or None
        ``{cell type of post: f_y}``: the in-degree of type y relative to the population's
        (occurrence-weighted mean 1; ``docs/layers.md``), or None (every type 1).
    """

    index: int
    pre: str
    post: str
    probability: float
    multapses: dict
    delays: dict
    synapse: dict
    weight_factor: float
    placement: dict
    indegree_factors: dict = None

    def __repr__(self):
        syn = self.synapse
        kind = syn.get("model", "Exp2Syn")
        unit = "nA" if kind == "Exp2SynI" else "uS"
        sections = "/".join(self.placement.get("sections") or []) or "all"
        return (f"<Connection {self.pre} -> {self.post} | C = {self.probability:g}, "
                f"{self.mean_multapses:.3g} synapses per pair on {sections}, {kind} weight {self.weight:.4g} {unit}>")

    @property
    def mean_multapses(self) -> float:
        return rules.multapse_mean(self.multapses, f"connections[{self.index}].multapses")

    @property
    def weight(self) -> float:
        """Mean weight with the weight scaling applied (uS, or nA for current synapses)."""
        return float(self.synapse["weight"]) * self.weight_factor

    @property
    def scaled_synapse(self) -> Synapse:
        """The synapse with the weight scaling applied (kernel engine)."""
        syn = Synapse.from_config(self.synapse)
        return syn if self.weight_factor == 1.0 else syn.with_weight(syn.weight * self.weight_factor)

    @property
    def groups(self):
        """Allowed section groups (``all`` when a layered placement gives none)."""
        return list(self.placement.get("sections") or ["all"])

    @property
    def densities(self):
        """Depth densities of the placement, or None (membrane area alone, with ``layers``)."""
        return self.placement.get("densities")

    def indegree_factor(self, cell_type=None) -> float:
        """In-degree factor f_y of ``cell_type`` (name) of the post population: a cell of type y
        is connected to each presynaptic cell with probability ``C_YX f_y`` and the type's
        kernel takes ``f_y k_out`` synapses (hybridLFPy's per-type in-degrees K_yX, Hagen et al.
        2016, Cereb Cortex 26:4461); 1.0 without ``indegree_factors``."""
        if not self.indegree_factors:
            return 1.0
        return float(self.indegree_factors[cell_type])

    def layer_fractions(self, cell_type=None):
        """Fraction of this connection's synapses per layer onto ``cell_type`` (name) of the post
        population: ``{layer: fraction}``, or None without ``placement.layers``."""
        table = self.placement.get("layers")
        if not table:
            return None
        first = next(iter(table.values()))
        if isinstance(first, dict):
            return dict(table[cell_type])
        return dict(table)


class RotatedCell:
    """A population's or cell type's cell seen at one angle about x (a node of its
    ``rotation.random_x`` quadrature): ``segments`` and ``geometry()`` rotated about x through the
    soma centre by ``angle_x`` (radians); every other attribute (placement, soma depths, groups,
    biophysics, ``random_rotation`` about z) is the cell's. What the kernel engine's probe
    factories take to build a probe of the rotated cell."""

    random_x = False

    def __init__(self, cell, angle_x):
        self.cell = cell
        self.angle_x = float(angle_x)
        self._segments = None

    def __getattr__(self, name):
        if name == "cell":
            raise AttributeError(name)
        return getattr(self.cell, name)

    def __repr__(self):
        return f"<RotatedCell {getattr(self.cell, 'name', '?')} | about x by {self.angle_x:.6g} rad>"

    @property
    def segments(self):
        """The cell's segment table rotated about x by :attr:`angle_x` (a copy; do not modify)."""
        if self._segments is None:
            self._segments = self.cell.rotated_segments(self.angle_x)
        return self._segments

    def rotated_segments(self, angle_x=0.0):
        return rotate_segments_x(self.segments, angle_x)

    def geometry(self, angle_x=0.0):
        """The rotated cell placed at the mean soma depth (um, a copy)."""
        seg = {k: v.copy() for k, v in self.rotated_segments(angle_x).items()}
        seg["z"] = seg["z"] + self.cell.z_mean
        return seg

    def rotation_nodes(self):
        return np.zeros(1), np.ones(1)


def rotation_views(cell):
    """The cell at each node of its random rotation about x: ``[(weight, view)]`` with the views
    :class:`RotatedCell` at the angles of :meth:`_CellParts.rotation_nodes` (weights sum 1), or
    ``[(1.0, cell)]`` -- the cell itself -- without ``rotation.random_x``."""
    if not getattr(cell, "random_x", False):
        return [(1.0, cell)]
    angles, weights = cell.rotation_nodes()
    return [(float(w), RotatedCell(cell, a)) for a, w in zip(angles, weights)]


@dataclass(eq=False)
class NetworkModel:
    """Populations and connections of a config, plus what building cells needs.

    Attributes
    ----------
    populations : dict
        Name -> :class:`Population`, in config order.
    connections : list of Connection
    config : dict
        The validated config (paths resolved).
    mod_dirs : list of str
        Folders of the ``.mod`` sources of the loaded mechanisms (package and ``extra_dirs``).
    quasi_linear : dict
        Extra ``{mechanism: quasi-linear mechanism}`` of ``mechanisms.quasi_linear``.
    layers : dict
        The config's ``layers``: name -> (bottom, top) depth bounds (um, z up, pia at 0), top to
        bottom as written; empty without layers.
    """

    populations: dict
    connections: list
    config: dict = field(repr=False)
    mod_dirs: list = field(default_factory=list)
    quasi_linear: dict = field(default_factory=dict)
    layers: dict = field(default_factory=dict)

    def __repr__(self):
        sizes = ", ".join(f"{n} {p.size}" for n, p in self.populations.items())
        return f"<NetworkModel | {len(self.populations)} populations ({sizes}), {len(self.connections)} connections>"

    @property
    def names(self):
        return list(self.populations)

    def population(self, name) -> Population:
        try:
            return self.populations[name]
        except KeyError:
            raise ValueError(f"population {name!r} is not declared (populations: {', '.join(self.populations)})") from None

    def connections_to(self, post):
        return [c for c in self.connections if c.post == post]

    def connection(self, post, pre) -> Connection:
        for c in self.connections:
            if c.post == post and c.pre == pre:
                return c
        known = ", ".join(f"{c.pre}->{c.post}" for c in self.connections)
        raise ValueError(f"connection {pre}->{post} is not configured (known: {known})")

    @property
    def extra_dirs(self):
        """The config's ``mechanisms.extra_dirs`` (absolute), compiled with the package's."""
        return list(self.mod_dirs[1:])

    def load_mechanisms(self, build_dir=None):
        """Load the compiled mechanisms (the package's and ``extra_dirs``) into NEURON."""
        return mechanisms.load(build_dir=build_dir, extra_dirs=self.extra_dirs or None)

    @property
    def files(self):
        """Morphology files of the populations (of every cell type)."""
        return sorted({t.file for p in self.populations.values() for t in p.cell_types if t.file})


def morphologies(cfg):
    """All populations' morphologies of a validated config, by population name."""
    return {name: pop.morphology for name, pop in from_config(cfg).populations.items()}


def mod_dirs(cfg):
    """The folders of ``.mod`` sources: the package's mechanisms and ``mechanisms.extra_dirs``."""
    extra = [str(d) for d in ((cfg.get("mechanisms") or {}).get("extra_dirs") or [])]
    return [str(mechanisms.PACKAGE_MOD_DIR)] + extra


def population_biophysics(cfg, name):
    """The biophysics block of population ``name`` and its key: the population's own
    (``populations.<name>.biophysics``) if it has one, else the config's (``biophysics``).

    Returns
    -------
    (dict or None, str)
        The block (as in the config, not validated) and its key path for messages.
    """
    own = (cfg.get("populations") or {}).get(name, {}).get("biophysics")
    if own is not None:
        return own, f"populations.{name}.biophysics"
    return cfg.get("biophysics"), "biophysics"


def cell_type_entry(pop, type_name):
    """The population entry ``pop`` with cell type ``type_name``'s overrides (:data:`CELL_TYPE_KEYS`)
    laid over it, key by key (a type's ``morphology`` replaces the population's whole block)."""
    spec = (pop.get("cell_types") or {})[type_name] or {}
    out = {k: v for k, v in pop.items() if k != "cell_types"}
    out.update({k: spec[k] for k in CELL_TYPE_KEYS if k in spec})
    return out


def cell_type_biophysics(cfg, name, type_name):
    """The biophysics block of cell type ``type_name`` of population ``name`` and its key: the
    type's own, else the population's, else the config's (:func:`population_biophysics`)."""
    spec = ((cfg.get("populations") or {}).get(name, {}).get("cell_types") or {}).get(type_name) or {}
    if spec.get("biophysics") is not None:
        return spec["biophysics"], f"populations.{name}.cell_types.{type_name}.biophysics"
    return population_biophysics(cfg, name)


def soma_depth(entry, layers, what):
    """The :class:`SomaDepth` of a population or type entry: uniform in its ``layer`` (bounds from
    ``layers``, name -> [bottom, top] um), else normal (``placement.z_mean``, ``z_sd``)."""
    layer = entry.get("layer")
    if layer is not None:
        try:
            bottom, top = layers[layer]
        except (KeyError, TypeError):
            raise ValueError(f"{what}.layer: {layer!r} is not a layer (layers: {', '.join(layers or {})})") from None
        return SomaDepth("uniform", float(bottom), float(top))
    pl = entry["placement"]
    return SomaDepth("normal", float(pl["z_mean"]), float(pl["z_sd"]))


def _cell(label, entry, block, what, layers, where):
    bio = Biophysics.from_config(block, what)
    morph = from_population(label, entry, passive=bio.passive, what=f"{where}.morphology")
    rot = entry.get("rotation") or {}
    return morph, bio, bool(rot.get("random_z", False)), soma_depth(entry, layers, where), bool(rot.get("random_x", False))


def _population(name, index, pop, default_biophysics, layers=None):
    cfg = {"populations": {name: pop}, "biophysics": default_biophysics}
    block, what = population_biophysics(cfg, name)
    types = []
    if "cell_types" in pop:
        for i, (tname, spec) in enumerate(pop["cell_types"].items()):
            entry = cell_type_entry(pop, tname)
            where = f"populations.{name}.cell_types.{tname}"
            tblock, twhat = cell_type_biophysics(cfg, name, tname)
            morph, bio, random_z, depth, random_x = _cell(f"{name}.{tname}", entry, tblock, twhat, layers, where)
            types.append(CellType(tname, i, float(spec["occurrence"]), morph, bio, random_z, depth,
                                  entry.get("layer"), where, entry, float(pop["placement"]["radius"]), name,
                                  random_x))
        first = types[0]
        morph, bio, random_z, random_x = first.morphology, first.biophysics, first.random_rotation, first.random_x
        depth = soma_depth(pop, layers, f"populations.{name}") if ("layer" in pop or "z_mean" in pop["placement"]) \
            else first.depth
    else:
        morph, bio, random_z, depth, random_x = _cell(name, pop, block, what, layers, f"populations.{name}")
        types.append(CellType(name, 0, 1.0, morph, bio, random_z, depth, pop.get("layer"),
                              f"populations.{name}", pop, float(pop["placement"]["radius"]), name, random_x))
    return Population(
        name=name, index=index, size=int(pop["size"]), morphology=morph, biophysics=bio,
        radius=float(pop["placement"]["radius"]), depth=depth, random_rotation=random_z,
        extrinsic=pop["extrinsic"], config=pop, cell_types=types, layer=pop.get("layer"), random_x=random_x,
    )


def layer_bounds(cfg):
    """The config's ``layers`` as ``{name: (bottom, top)}`` (um, floats, in config order); empty
    without layers."""
    return {str(k): (float(v[0]), float(v[1])) for k, v in (cfg.get("layers") or {}).items()}


def build(cfg, sizes=None) -> NetworkModel:
    """The :class:`NetworkModel` of a validated config (uncached; see :func:`from_config`).

    Parameters
    ----------
    cfg : dict
        Validated config (relative paths resolved, :func:`lfpk.model.resolve_paths`).
    sizes : dict, optional
        Population sizes overriding the config's.
    """
    pops = {}
    layers = layer_bounds(cfg)
    for i, (name, pop) in enumerate(cfg["populations"].items()):
        pops[name] = _population(name, i, pop, cfg.get("biophysics"), layers)
        if sizes and name in sizes:
            pops[name].size = int(sizes[name])
    factors = rules.weight_factors(cfg["connections"], cfg["weight_scaling"]["J"])
    conns = []
    for i, (c, f) in enumerate(zip(cfg["connections"], factors)):
        conns.append(Connection(
            index=i, pre=c["pre"], post=c["post"], probability=float(c["probability"]),
            multapses=c["multapses"], delays=c["delays"], synapse=c["synapse"], weight_factor=float(f),
            placement=c["placement"], indegree_factors=c.get("indegree_factors"),
        ))
    mech = cfg.get("mechanisms") or {}
    return NetworkModel(pops, conns, cfg, mod_dirs(cfg), dict(mech.get("quasi_linear") or {}), layers)


def from_config(cfg, sizes=None) -> NetworkModel:
    """The :class:`NetworkModel` of a validated config (a new one per call: callers may modify it;
    morphology files are read and segmented once per process, :mod:`lfpk.model.morphology.imported`)."""
    return build(cfg, sizes)


def check_groups(model):
    """Every connection's placement groups exist on its postsynaptic cell (ValueError otherwise)."""
    for c in model.connections:
        pop = model.population(c.post)
        for t in pop.cell_types:
            for g in c.groups:
                if not t.group_mask(g, f"connections[{c.index}].placement.sections").any():
                    cell = f"cell type {t.name} of population {c.post}" if pop.typed else f"cell of population {c.post}"
                    raise ValueError(f"connections[{c.index}].placement.sections: group {g!r} has no segment on "
                                     f"the {cell}")
    return model


def segment_positions(seg, position, angle_z=0.0, angle_x=0.0):
    """x, y, z (n, 2) um of a segment table moved to ``position`` (um) after rotating by
    ``angle_x`` (radians) about x, then by ``angle_z`` about z, both through the soma centre (a
    cell's random rotations, in LFPy's order x, y, z)."""
    x, y, z = seg["x"], seg["y"], seg["z"]
    if angle_x:
        c, s = np.cos(angle_x), np.sin(angle_x)
        y, z = c * y - s * z, s * y + c * z
    if angle_z:
        c, s = np.cos(angle_z), np.sin(angle_z)
        x, y = c * x - s * y, s * x + c * y
    return x + position[0], y + position[1], z + position[2]
