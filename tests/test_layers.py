"""Layers and cell types in the model description (docs/layers.md): validation, cell type
assignment, placement by layer (exact expectations from segment areas), and the plain config's
results unchanged."""

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from layeredstudy import layered, one_layer
from lfpk.api.config import ConfigError, load_config, validate_config
from lfpk.model import from_config
from lfpk.model.connectivity import (
    Connectivity,
    assign_cell_types,
    cell_type_counts,
    expected_layered_probability,
    layered_probability,
    place_cells,
    placement_mask,
)
from lfpk.model.description import SomaDepth

REPO = Path(__file__).resolve().parents[1]
#: The code before layers: commit 126e49a (main when layers were added), taken from this clone's
#: history into a temporary folder when the history has it.
REFERENCE_COMMIT = "126e49a"
#: The digest :data:`DIGEST` printed for config/config.yaml with the code of 126e49a (run on
#: 2026-12-04: ``PYTHONPATH=<checkout of 126e49a> python -c "$DIGEST" config/config.yaml``), for
#: clones without that history (shallow CI checkouts).
REFERENCE_DIGEST = "14a9ec006519e364fd65de5736382a546e22686fc93c9b50d9a24014fb029be5"


@pytest.fixture(scope="module")
def base():
    return load_config(REPO / "config" / "config.yaml")


@pytest.fixture(scope="module")
def cfg(base):
    return layered(base)


def problems(cfg):
    with pytest.raises(ConfigError) as info:
        validate_config(cfg)
    return info.value.problems


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("change, key", [
    (lambda c: c["populations"]["E"]["cell_types"]["short"].update(occurrence=0.3),
     "populations.E.cell_types: the occurrences sum to 1.05"),
    (lambda c: c["populations"]["E"].update(layer="L9"), "populations.E.layer: 'L9' is not a layer"),
    (lambda c: c["populations"]["I"]["cell_types"]["small"].update(layer="L9"),
     "populations.I.cell_types.small.layer: 'L9' is not a layer"),
    (lambda c: c["layers"].update(lower=[150.0, -250.0]), "layers.lower: [150, -250] um; expected"),
    (lambda c: c["layers"].update(lower=[-250.0, 200.0]), "layers.upper: [150, 1300] um overlaps layers.lower"),
    (lambda c: c["connections"][0]["placement"]["layers"].update(upper=0.5),
     "connections[0].placement.layers: the fractions sum to 0.9"),
    (lambda c: c["connections"][0]["placement"]["layers"].update(L9=0.0),
     "connections[0].placement.layers.L9: 'L9' is not a layer"),
    (lambda c: c["connections"][1]["placement"]["layers"].update(pyr={"lower": 1.0}),
     "connections[1].placement.layers.pyr: 'pyr' is not a cell type of population I"),
    (lambda c: c["connections"][1]["placement"]["layers"].pop("small"),
     "connections[1].placement.layers: missing cell type 'small' of population I"),
    (lambda c: c["connections"][1]["placement"]["layers"]["small"].update(lower=0.5),
     "connections[1].placement.layers.small: the fractions sum to 0.5"),
    (lambda c: c["populations"]["E"].pop("morphology"),
     "populations.E.cell_types.long.morphology: missing"),
    (lambda c: c["populations"]["I"]["placement"].pop("z_sd"), "populations.I.placement: needs z_mean and z_sd"),
    (lambda c: c["kernel"].update(variants=["frozen-geff-scalar", "frozen-geff-segment"]),
     "kernel.variants[1]: frozen-geff-segment: the ground truth's per-segment potentials are of one cell"),
    # the dendrites of E reach 1000 um above the soma: a layer far above holds none of them
    (lambda c: (c["layers"].update(top=[5000.0, 6000.0]),
                c["connections"][0]["placement"]["layers"].update(upper=0.5, top=0.1)),
     "connections[0].placement.layers.top: 0.1 of the synapses go to layer top, but cell E.long"),
    # soma only: a layer holding dendrites but not the soma has nowhere to put the synapses
    (lambda c: c["connections"][0]["placement"].update(sections=["soma"]),
     "connections[0].placement.layers.upper: 0.6 of the synapses go to layer upper, but cell E.long"),
])
def test_validation_names_the_key(cfg, change, key):
    bad = copy.deepcopy(cfg)
    change(bad)
    found = problems(bad)
    assert any(p.startswith(key) for p in found), found


def test_layers_without_declared_layers_refused(cfg):
    bad = copy.deepcopy(cfg)
    del bad["layers"]
    assert any(p.startswith("connections[0].placement.layers: no layers are declared") for p in problems(bad))


def test_layered_placement_needs_no_densities_but_plain_does(cfg):
    assert "densities" not in cfg["connections"][0]["placement"]
    bad = copy.deepcopy(cfg)
    del bad["connections"][0]["placement"]["layers"]
    assert any("connections[0].placement.densities" in p for p in problems(bad))


# -- cell types ---------------------------------------------------------------------------------


def test_type_counts_by_largest_remainder():
    assert cell_type_counts(10, [0.25, 0.25, 0.5]).tolist() == [3, 2, 5]  # 2.5, 2.5, 5: the tie to the first
    assert cell_type_counts(7, [0.1, 0.9]).tolist() == [1, 6]  # 0.7 -> 1, 6.3 -> 6
    assert cell_type_counts(3, [1 / 3] * 3).tolist() == [1, 1, 1]
    n = 2189  # the microcircuit's L4E: every count within one of N F_y, total exact
    F = np.array([0.1, 0.55, 0.35])
    c = cell_type_counts(n, F)
    assert c.sum() == n and np.all(np.abs(c - n * F) < 1)


def test_type_assignment_exact_and_seeded():
    a = assign_cell_types(5, 1, 101, [0.3, 0.7])
    assert np.bincount(a).tolist() == [30, 71]
    assert np.array_equal(a, assign_cell_types(5, 1, 101, [0.3, 0.7]))
    assert not np.array_equal(a, assign_cell_types(6, 1, 101, [0.3, 0.7]))
    assert not np.array_equal(a, assign_cell_types(5, 2, 101, [0.3, 0.7]))
    assert np.array_equal(assign_cell_types(5, 1, 9, [1.0]), np.zeros(9, dtype=int))


def test_layout_types_and_depths(cfg):
    lay = place_cells(cfg, sizes={"E": 40, "I": 12})
    model = lay.model
    E = lay.gids("E")
    assert np.bincount(lay.type_of[E]).tolist() == [30, 10]
    assert np.bincount(lay.type_of[lay.gids("I")]).tolist() == [6, 6]
    z = lay.positions[E, 2]
    assert np.all((z >= -250.0) & (z < 150.0))  # uniform in layer lower
    for gid in range(lay.n_cells):  # the network builds each gid from its type
        t = lay.cell_type(gid)
        assert t is model.populations[lay.population(gid)].cell_types[lay.type_of[gid]]
        assert lay.segtable(gid) is t.segments
    small = [g for g in lay.gids("I") if lay.cell_type(g).name == "small"]
    assert all(-250.0 <= lay.positions[g, 2] < 150.0 for g in small)
    # the short type is rotated about x by pi/8: its apical tip (500 um up) moves sin(pi/8) 500 um along y
    short = model.populations["E"].cell_type("short")
    tip = short.segments["y"][:, 1][np.argmax(short.segments["z"][:, 1])]
    assert abs(tip) == pytest.approx(np.sin(np.pi / 8) * (500.0 + 10.0), rel=1e-9)
    assert abs(model.populations["E"].cell_type("long").segments["y"]).max() == 0.0


def test_layout_counts_every_cells_compartments(cfg, base):
    """Layout.n_segments: the sum over cells of their own type's segments (types of different
    segment counts), and sizes x segments for a plain network."""
    lay = place_cells(cfg, sizes={"E": 40, "I": 12})
    by_cell = sum(lay.cell_type(g).n_segments for g in range(lay.n_cells))
    assert lay.n_segments == by_cell
    types = {n: [t.n_segments for t in lay.model.populations[n].cell_types] for n in lay.names}
    assert len(set(types["E"])) == 2  # the check separates the types
    assert lay.n_segments == 30 * types["E"][0] + 10 * types["E"][1] + 6 * types["I"][0] + 6 * types["I"][1]
    plain = place_cells(base, sizes={"E": 7, "I": 3})
    assert plain.n_segments == sum(plain.sizes[n] * plain.model.populations[n].cell_types[0].n_segments
                                   for n in plain.names)


# -- placement by layer: exact expectations from segment areas -----------------------------------


def _expected_by_hand(seg, z_soma, allowed, fractions, bounds):
    """Per layer: its fraction spread over the allowed segments with midpoints in it, by area."""
    zmid = seg["z"].mean(axis=1) + z_soma
    p = np.zeros(len(zmid))
    for layer, f in fractions.items():
        lo, hi = bounds[layer]
        inside = allowed & (zmid >= lo) & (zmid < hi)
        p[inside] += f * seg["area"][inside] / seg["area"][inside].sum()
    return p


def test_layer_fractions_per_layer_and_group(cfg):
    model = from_config(cfg)
    c = model.connections[0]  # E -> E: 60 % upper, 40 % lower on apic and dend
    for t in model.populations["E"].cell_types:
        allowed = placement_mask(t, c)
        for z_soma in (-200.0, 0.0, 120.0):
            p = layered_probability(t.segments, z_soma, allowed, None, c.layer_fractions(t.name), model.layers)
            np.testing.assert_allclose(p, _expected_by_hand(t.segments, z_soma, allowed, {"upper": 0.6, "lower": 0.4},
                                                            model.layers), rtol=1e-13, atol=1e-16)
            zmid = t.segments["z"].mean(axis=1) + z_soma
            assert p[zmid >= 150.0].sum() == pytest.approx(0.6, abs=1e-13)
            assert p[zmid < 150.0].sum() == pytest.approx(0.4, abs=1e-13)
            groups = t.segments["group"]
            assert p[groups == "soma"].sum() == 0.0
            assert p[groups == "apic"].sum() + p[groups == "dend"].sum() == pytest.approx(1.0, abs=1e-13)


def test_layer_not_reached_passes_its_share(cfg):
    """A cell whose allowed segments miss a layer at its depth puts all synapses in the others."""
    model = from_config(cfg)
    t = model.populations["E"].cell_type("short")  # apical tip at about 500 um above the soma
    seg = t.segments
    allowed = placement_mask(t, model.connections[0])
    bounds = {"upper": (700.0, 900.0), "lower": (-250.0, 700.0)}
    p = layered_probability(seg, 0.0, allowed, None, {"upper": 0.6, "lower": 0.4}, bounds)
    np.testing.assert_allclose(p, _expected_by_hand(seg, 0.0, allowed, {"lower": 1.0}, bounds), rtol=1e-13)
    with pytest.raises(ValueError, match="no allowed segment lies in any of the layers upper"):
        layered_probability(seg, 0.0, allowed, None, {"upper": 1.0}, bounds)


def test_expected_placement_over_uniform_soma_depths(cfg):
    """The kernel's placement is the per-cell rule averaged over the layer's uniform soma depths:
    exact by the breakpoints (piecewise constant), equal to a fine midpoint average."""
    model = from_config(cfg)
    t = model.populations["E"].cell_type("long")
    allowed = placement_mask(t, model.connections[0])
    fr = {"upper": 0.6, "lower": 0.4}
    p = expected_layered_probability(t.segments, t.depth, allowed, None, fr, model.layers)
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    n = 400_000  # midpoint rule: error O(1/n) from the few intervals cut by breakpoints
    z = -250.0 + 400.0 * (np.arange(n) + 0.5) / n
    brute = sum(layered_probability(t.segments, z[k:k + 4000], allowed, None, fr, model.layers).sum(axis=0)
                for k in range(0, n, 4000)) / n
    np.testing.assert_allclose(p, brute, atol=2e-5)


def test_expected_placement_normal_depths_with_densities(cfg):
    """Normal soma depths, placement by layer and density: against an independent quadrature."""
    model = from_config(cfg)
    c = model.connections[1]  # E -> I per type, with densities
    t = model.populations["I"].cell_type("basket")
    allowed = placement_mask(t, c)
    fr = c.layer_fractions("basket")
    p = expected_layered_probability(t.segments, t.depth, allowed, c.densities, fr, model.layers)
    n = 200_000
    u = (np.arange(n) + 0.5) / n
    from scipy.stats import norm
    z = norm.ppf(u, 0.0, 75.0)
    brute = sum(layered_probability(t.segments, z[k:k + 4000], allowed, c.densities, fr, model.layers,
                                    strict=False).sum(axis=0) for k in range(0, n, 4000)) / n
    np.testing.assert_allclose(p, brute, atol=1e-4)  # equal-probability nodes (midpoints in u): O(1/n) but the tails
    assert p.sum() == pytest.approx(1.0, abs=1e-14)


def test_network_synapses_follow_the_layer_table(cfg):
    """The ground truth's synapse draws: each cell's segments drawn from its layered probabilities
    (checked through Connectivity.segment_probability, the function incoming() draws from)."""
    lay = place_cells(cfg, sizes={"E": 20, "I": 6})
    con = Connectivity(cfg, lay)
    conn = con.conns[0]
    for gid in lay.gids("E"):
        t = lay.cell_type(gid)
        z = lay.positions[gid, 2]
        p = con.segment_probability(conn, gid, z)
        np.testing.assert_allclose(p, _expected_by_hand(t.segments, z, placement_mask(t, lay.model.connections[0]),
                                                        {"upper": 0.6, "lower": 0.4}, lay.model.layers),
                                   rtol=1e-13, atol=1e-16)
        inc = con.incoming(gid)
        assert inc.segment[inc.connection == 0].max() < t.n_segments


# -- the plain config unchanged ----------------------------------------------------------------

DIGEST = """
import hashlib, sys, json
import numpy as np
from lfpk.api.config import load_config
from lfpk.model.connectivity import place_cells, Connectivity, extrinsic_counts
cfg = load_config(sys.argv[1])
h = hashlib.sha256()
lay = place_cells(cfg, sizes={n: 40 for n in cfg["populations"]})
h.update(lay.positions.tobytes()); h.update(lay.angles.tobytes())
con = Connectivity(cfg, lay)
for gid in range(0, lay.n_cells, 3):
    inc = con.incoming(gid)
    for f in ("pre", "segment", "delay", "weight", "connection"):
        h.update(np.asarray(getattr(inc, f)).tobytes())
    h.update(extrinsic_counts(lay, gid, 50).tobytes())
print(h.hexdigest())
"""


def _digest(root, config, cwd):
    run = subprocess.run([sys.executable, "-c", DIGEST, str(config)], cwd=cwd, capture_output=True,
                         text=True, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, timeout=600)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_plain_config_connectivity_as_before(tmp_path):
    """Without layers and cell types, placement, rotations, synapses and extrinsic counts are those
    of the code before layers (commit 126e49a), bitwise."""
    config = REPO / "config" / "config.yaml"
    now = _digest(REPO, config, tmp_path)
    has = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{REFERENCE_COMMIT}^{{commit}}"],
                         capture_output=True).returncode == 0
    if has:  # the reference code itself, from this clone's history
        ref = tmp_path / "reference"
        ref.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", REFERENCE_COMMIT, "lfpk"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(ref)], input=archive, check=True)
        assert _digest(ref, config, tmp_path) == REFERENCE_DIGEST
    assert now == REFERENCE_DIGEST


def test_one_layer_one_type_network_equals_plain(base):
    """A layer declared and one type per population: the plain config's network bitwise
    (positions, rotations, synapses)."""
    sizes = {"E": 30, "I": 8}
    plain = place_cells(base, sizes=sizes)
    lay = place_cells(one_layer(base), sizes=sizes)
    assert np.array_equal(plain.positions, lay.positions) and np.array_equal(plain.angles, lay.angles)
    a, b = Connectivity(base, plain), Connectivity(one_layer(base), lay)
    for gid in range(plain.n_cells):
        x, y = a.incoming(gid), b.incoming(gid)
        for f in ("pre", "segment", "delay", "weight", "connection"):
            assert np.array_equal(getattr(x, f), getattr(y, f))


def test_one_layer_fraction_equals_plain_placement(base):
    """All synapses in one layer holding every segment: the layered rule is the plain one (to
    rounding: the division is done per layer)."""
    model = from_config(base)
    pop = model.populations["E"]
    c = model.connections[0]
    allowed = placement_mask(pop, c)
    from lfpk.model.connectivity import segment_probability
    for z in (-100.0, 0.0, 37.5):
        plain = segment_probability(pop.segments, z, allowed, c.densities)
        lay = layered_probability(pop.segments, z, allowed, c.densities, {"all": 1.0}, {"all": (-1e5, 1e5)})
        np.testing.assert_allclose(lay, plain, rtol=1e-14, atol=1e-18)


def test_soma_depth_moments():
    u = SomaDepth("uniform", -587.1, -81.6)
    assert u.mean == pytest.approx(-334.35) and u.sd == pytest.approx(505.5 / np.sqrt(12))
    rng = np.random.default_rng(1)
    assert -587.1 <= u.draw(rng) < -81.6
    n = SomaDepth("normal", 10.0, 5.0)
    assert (n.mean, n.sd) == (10.0, 5.0)
    assert n.draw(np.random.default_rng(3)) == np.random.default_rng(3).normal(10.0, 5.0)
