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
from lfpk.model.synapse import Synapse


@dataclass(eq=False)
class Population:
    """One population of the network.

    Attributes
    ----------
    name : str
    index : int
        Position in the config (gids are assigned in this order).
    size : int
        Number of cells N.
    morphology : lfpk.model.morphology.BallAndStick or lfpk.model.morphology.FileMorphology
        The cell (rotation of the config applied, soma centre at the origin).
    biophysics : lfpk.model.biophysics.Biophysics
        The population's biophysics block (its own, or the config's default).
    radius, z_mean, z_sd : float
        Somata uniform in a disc of ``radius`` (um), depth normal (``z_mean``, ``z_sd`` um).
    random_rotation : bool
        Each cell rotated about z by a uniform random angle (reproducible per gid).
    extrinsic : dict
        ``count`` synapses per cell spread by area, Poisson ``rate`` (1/s), ``synapse`` (config).
    config : dict
        The population's config entry.
    """

    name: str
    index: int
    size: int
    morphology: object
    biophysics: object
    radius: float
    z_mean: float
    z_sd: float
    random_rotation: bool
    extrinsic: dict
    config: dict = field(repr=False, default_factory=dict)

    def __repr__(self):
        cell = type(self.morphology).__name__
        return (f"<Population {self.name} | {self.size} cells, {cell} of {self.n_segments} segments, "
                f"somata at z = {self.z_mean:g} +- {self.z_sd:g} um within r = {self.radius:g} um, "
                f"extrinsic {self.extrinsic.get('count')} x {self.extrinsic.get('rate')} /s>")

    @cached_property
    def segments(self):
        """Segment table of the cell (soma centre at the origin); do not modify."""
        return self.morphology.segments()

    @property
    def n_segments(self) -> int:
        return len(self.segments["area"])

    def geometry(self):
        """Segment table of the representative cell placed at the mean soma depth (um, a copy)."""
        seg = {k: v.copy() for k, v in self.segments.items()}
        seg["z"] = seg["z"] + self.z_mean
        return seg

    @property
    def soma_index(self) -> int:
        return self.morphology.soma_index

    @cached_property
    def custom_groups(self):
        return compile_groups(self.morphology.groups, f"populations.{self.name}.morphology.groups")

    def group_mask(self, group, what="group"):
        """Boolean mask of the segments in section group ``group``."""
        return group_mask(self.segments, group, self.custom_groups, what)

    @cached_property
    def cell_biophysics(self):
        """The biophysics block evaluated on the cell's segments (:class:`CellBiophysics`)."""
        return self.biophysics.evaluate(self.segments, self.custom_groups)

    @property
    def extrinsic_synapse(self) -> Synapse:
        return Synapse.from_config(self.extrinsic["synapse"])

    @property
    def file(self):
        """Morphology file (None for a ball-and-stick cell)."""
        return self.morphology.file


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
        ``sections`` (section groups) and Gaussian depth ``densities``.
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
        return list(self.placement["sections"])


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
    """

    populations: dict
    connections: list
    config: dict = field(repr=False)
    mod_dirs: list = field(default_factory=list)
    quasi_linear: dict = field(default_factory=dict)

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
        """Morphology files of the populations."""
        return sorted({p.file for p in self.populations.values() if p.file})


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


def _population(name, index, pop, default_biophysics):
    block, what = population_biophysics({"populations": {name: pop}, "biophysics": default_biophysics}, name)
    bio = Biophysics.from_config(block, what)
    morph = from_population(name, pop, passive=bio.passive)
    rot = pop.get("rotation") or {}
    pl = pop["placement"]
    return Population(
        name=name, index=index, size=int(pop["size"]), morphology=morph, biophysics=bio,
        radius=float(pl["radius"]), z_mean=float(pl["z_mean"]), z_sd=float(pl["z_sd"]),
        random_rotation=bool(rot.get("random_z", False)), extrinsic=pop["extrinsic"], config=pop,
    )


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
    for i, (name, pop) in enumerate(cfg["populations"].items()):
        pops[name] = _population(name, i, pop, cfg.get("biophysics"))
        if sizes and name in sizes:
            pops[name].size = int(sizes[name])
    factors = rules.weight_factors(cfg["connections"], cfg["weight_scaling"]["J"])
    conns = []
    for i, (c, f) in enumerate(zip(cfg["connections"], factors)):
        conns.append(Connection(
            index=i, pre=c["pre"], post=c["post"], probability=float(c["probability"]),
            multapses=c["multapses"], delays=c["delays"], synapse=c["synapse"], weight_factor=float(f),
            placement=c["placement"],
        ))
    mech = cfg.get("mechanisms") or {}
    return NetworkModel(pops, conns, cfg, mod_dirs(cfg), dict(mech.get("quasi_linear") or {}))


def from_config(cfg, sizes=None) -> NetworkModel:
    """The :class:`NetworkModel` of a validated config (a new one per call: callers may modify it;
    morphology files are read and segmented once per process, :mod:`lfpk.model.morphology.imported`)."""
    return build(cfg, sizes)


def check_groups(model):
    """Every connection's placement groups exist on its postsynaptic cell (ValueError otherwise)."""
    for c in model.connections:
        pop = model.population(c.post)
        for g in c.groups:
            if not pop.group_mask(g, f"connections[{c.index}].placement.sections").any():
                raise ValueError(f"connections[{c.index}].placement.sections: group {g!r} has no segment on "
                                 f"the cell of population {c.post}")
    return model


def segment_positions(seg, position, angle_z=0.0):
    """x, y, z (n, 2) um of a segment table moved to ``position`` (um) after rotating by
    ``angle_z`` (radians) about z (a cell's random rotation)."""
    x, y, z = seg["x"], seg["y"], seg["z"]
    if angle_z:
        c, s = np.cos(angle_z), np.sin(angle_z)
        x, y = c * x - s * y, s * x + c * y
    return x + position[0], y + position[1], z + position[2]
