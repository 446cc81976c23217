"""Random rotation of each cell about x (``rotation.random_x``; hybridLFPy's ``rand_rot_axis``
``['x', 'z']`` of its spiny stellate and interneuron types, Hagen et al. 2016, Cereb Cortex
26:4461): the config key, the ground truth's seeded per-cell angles and rotated synapse depths,
the kernels' fixed quadrature over the angle (docs/layers.md), and configs without the key
unchanged bit for bit against the code before it (commit 17e15ad)."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from layeredstudy import layered, one_layer, short_kernel_config

from lfpk.api.config import ConfigError, validate_config
from lfpk.engines.kernel import KernelEngine
from lfpk.model import from_config, segment_positions
from lfpk.model.connectivity import (
    STREAM_ROTATION_X,
    Connectivity,
    cell_rng,
    layered_probability,
    place_cells,
    rotation_placements,
)
from lfpk.model.morphology import rotation as rotation_module
from lfpk.model.morphology.rotation import (
    RANDOM_X_NODES,
    random_x_nodes,
    rotate_segments,
    rotation_matrix,
)
from lfpk.study.microcircuit.tables import CELL_TYPES, is_pyramidal, random_rotation

REPO = Path(__file__).resolve().parents[1]
#: The code before ``random_x``: main at 17e15ad, taken from this clone's history.
REFERENCE_COMMIT = "17e15ad"
PROBES = ("lfp", "csd", "cdm", "eeg", "meg")


@pytest.fixture(scope="module")
def base():
    return short_kernel_config(REPO)


def with_rotation(cfg, rotations):
    """``cfg`` with ``rotations`` ``{population or (population, type): rotation}`` set, validated."""
    out = copy.deepcopy(cfg)
    for where, rot in rotations.items():
        entry = out["populations"][where] if isinstance(where, str) else \
            out["populations"][where[0]]["cell_types"][where[1]]
        entry["rotation"] = {**(entry.get("rotation") or {}), **rot}
    return validate_config(out)


# -- the config key --------------------------------------------------------------------------------


@pytest.mark.parametrize("value, message", [
    ("yes", "populations.E.rotation.random_x: 'yes' is not of type 'boolean'"),
    (1, "populations.E.rotation.random_x: 1 is not of type 'boolean'"),
])
def test_bad_random_x_names_the_key_in_one_line(base, value, message):
    cfg = copy.deepcopy(base)
    cfg["populations"]["E"]["rotation"] = {"random_x": value}
    with pytest.raises(ConfigError) as info:
        validate_config(cfg)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_bad_random_x_through_the_command_line(base, tmp_path):
    """``lfpk validate-config``: one line naming the key, exit status 2, no traceback."""
    cfg = copy.deepcopy(base)
    cfg["populations"]["E"]["rotation"] = {"random_x": "yes"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    run = subprocess.run([sys.executable, "-m", "lfpk", "validate-config", str(path)], check=False, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "populations.E.rotation.random_x" in lines[0] and "Traceback" not in run.stderr


def test_cell_types_take_random_x(base):
    cfg = with_rotation(layered(base), {("E", "short"): {"random_x": True}, "I": {"random_x": True}})
    model = from_config(cfg)
    assert [t.random_x for t in model.populations["E"].cell_types] == [False, True]
    assert [t.random_x for t in model.populations["I"].cell_types] == [True, True]  # the population's default


# -- the quadrature --------------------------------------------------------------------------------


def test_midpoint_rule_integrates_trigonometric_polynomials_below_its_degree():
    angles, weights = random_x_nodes()
    assert len(angles) == RANDOM_X_NODES and weights.sum() == pytest.approx(1.0, abs=1e-15)
    for k in range(1, RANDOM_X_NODES):
        assert abs(weights @ np.cos(k * angles)) < 1e-14 and abs(weights @ np.sin(k * angles)) < 1e-14
    # degree n is not integrated: cos(n a) at the midpoints is -1 everywhere
    assert weights @ np.cos(RANDOM_X_NODES * angles) == pytest.approx(-1.0, abs=1e-12)
    with pytest.raises(ValueError, match="n must be >= 1"):
        random_x_nodes(0)


# -- the ground truth ------------------------------------------------------------------------------


def test_angles_are_seeded_per_gid_whatever_the_sizes(base):
    cfg = with_rotation(base, {"E": {"random_x": True, "random_z": True}})
    a = place_cells(cfg, {"E": 40, "I": 6})
    b = place_cells(cfg, {"E": 55, "I": 6})
    # per gid from its own stream (seed, 5, gid): the same on every rank and for any population size
    expected = [2 * np.pi * cell_rng(cfg["seed"], gid, STREAM_ROTATION_X).random() for gid in range(40)]
    np.testing.assert_array_equal(a.angles_x[:40], expected)
    np.testing.assert_array_equal(a.angles_x[:40], b.angles_x[:40])
    assert np.all((a.angles_x[:40] >= 0) & (a.angles_x[:40] < 2 * np.pi)) and np.ptp(a.angles_x[:40]) > 3.0
    assert np.all(a.angles_x[40:] == 0)  # I is not rotated about x
    # the other draws are those without random_x (their streams are untouched)
    plain = place_cells(with_rotation(base, {"E": {"random_z": True}}), {"E": 40, "I": 6})
    np.testing.assert_array_equal(a.positions, plain.positions)
    np.testing.assert_array_equal(a.angles, plain.angles)
    assert not np.any(plain.angles_x)


def test_angles_are_uniform(base):
    """Kolmogorov-Smirnov distance of 4000 cells' angles from the uniform law on [0, 2 pi): below
    the 1e-3 critical value 1.95 / sqrt(n) (fixed seed: one deterministic sample)."""
    cfg = with_rotation(base, {"E": {"random_x": True}})
    a = np.sort(place_cells(cfg, {"E": 4000, "I": 1}).angles_x[:4000]) / (2 * np.pi)
    n = len(a)
    d = max(np.max(np.arange(1, n + 1) / n - a), np.max(a - np.arange(n) / n))
    assert d < 1.95 / np.sqrt(n)


def test_rotated_geometry_is_x_then_z_as_lfpy():
    """segment_positions and the NEURON cell turn about x first, then about z, through the soma
    (LFPy's Cell.set_rotation order), and agree with each other."""
    from lfpk.model.morphology import BallAndStick

    morph = BallAndStick.from_config("E", {"morphology": {"soma": {"length": 20.0, "diam": 20.0},
                                                              "dend": {"length": 100.0, "diam": 2.0},
                                                              "apic": {"length": 300.0, "diam": 2.0}},
                                               "Ra": 150.0, "cm": 1.0,
                                               "segmentation": {"d_lambda": 0.1, "frequency": 100.0}})
    seg = morph.segments()
    ax, az, pos = 0.7, -1.9, np.array([10.0, -20.0, -300.0])
    x, y, z = segment_positions(seg, pos, az, ax)
    want = rotate_segments(seg, rotation_matrix(x=ax, z=az))
    for got, k in zip((x, y, z), "xyz"):
        np.testing.assert_allclose(got, want[k] + pos["xyz".index(k)], rtol=0, atol=1e-12)
    # an angle about x moves depths: the apical tip at 300 um above the soma ends at 300 cos(0.7)
    assert z.max() - pos[2] == pytest.approx(300.0 * np.cos(ax) + 10.0 * np.cos(ax), abs=1e-9)
    secs = morph.build(prefix="rx_test", x_offset=pos[0], y_offset=pos[1], z_offset=pos[2], angle_z=az, angle_x=ax)
    apic = secs["apic"]
    tip = np.array([apic.x3d(apic.n3d() - 1), apic.y3d(apic.n3d() - 1), apic.z3d(apic.n3d() - 1)])
    i = int(np.flatnonzero(np.asarray(seg["section"]).astype(str) == "apic")[-1])
    end = np.array([x[i, 1], y[i, 1], z[i, 1]])
    np.testing.assert_allclose(tip, end, rtol=0, atol=1e-4)  # NEURON stores pt3d in single precision


def test_synapses_go_by_the_rotated_depths(base):
    """Each cell's layered placement is the one of its segment table rotated about x by its angle."""
    cfg = with_rotation(layered(base), {"E": {"random_x": True}})
    lay = place_cells(cfg, {"E": 30, "I": 8})
    con = Connectivity(cfg, lay)
    c = next(c for c in con.conns if (c["pre"], c["post"]) == ("E", "E"))
    moved = 0
    for gid in range(30):
        t = int(lay.type_of[gid])
        table = rotate_segments(lay.segtable(gid), rotation_matrix(x=lay.angles_x[gid]))
        z = lay.positions[gid, 2]
        want = layered_probability(table, z, c["allowed"][t], c["densities"], c["layers"][t], con.bounds)
        got = con.segment_probability(c, gid, z)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
        unrotated = layered_probability(lay.segtable(gid), z, c["allowed"][t], c["densities"], c["layers"][t],
                                        con.bounds)
        moved += np.abs(got - unrotated).max() > 1e-3
        inc = con.incoming(gid)
        assert inc.segment.max() < lay.cell_type(gid).n_segments
    assert moved > 10  # the rotation changes where most cells' synapses go


# -- configs without random_x: as before, bit for bit ---------------------------------------------

CONNECTIVITY = """
import hashlib, sys
import numpy as np
from lfpk.api.config import load_config
from lfpk.model.connectivity import place_cells, Connectivity, extrinsic_counts
from lfpk.model import segment_positions
cfg = load_config(sys.argv[1])
h = hashlib.sha256()
lay = place_cells(cfg, sizes={n: 24 for n in cfg["populations"]})
h.update(lay.positions.tobytes()); h.update(lay.angles.tobytes()); h.update(lay.type_of.tobytes())
con = Connectivity(cfg, lay)
for gid in range(lay.n_cells):
    inc = con.incoming(gid)
    for f in ("pre", "segment", "delay", "weight", "connection"):
        h.update(np.asarray(getattr(inc, f)).tobytes())
    h.update(extrinsic_counts(lay, gid, 50).tobytes())
    for a in segment_positions(lay.segtable(gid), lay.positions[gid], float(lay.angles[gid])):
        h.update(np.ascontiguousarray(a).tobytes())
print(h.hexdigest())
"""

KERNELS = """
import hashlib, sys
import numpy as np
from lfpk.api.config import load_config
from lfpk.api.kernels import compute_kernels
k = compute_kernels(load_config(sys.argv[1]))
h = hashlib.sha256()
for name in sorted(k.data_vars):
    v = np.ascontiguousarray(k[name].values)
    if v.dtype.kind in "fiub":
        h.update(name.encode()); h.update(v.tobytes())
print(h.hexdigest())
"""


#: The current code with a layered population's LFP and CSD probes as at 17e15ad (the Gaussian of
#: the layer's SD): the exact uniform-depth probes came later (tests/test_uniform_depth_probes.py)
GAUSSIAN_PROBES = """
import lfpk.engines.kernel.engine as _engine
_probe_population = _engine.probe_population
def _gaussian(cell):
    entry = _probe_population(cell)
    if isinstance(entry, dict):
        entry.pop("layer", None)
    return entry
_engine.probe_population = _gaussian
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The ``lfpk`` package of :data:`REFERENCE_COMMIT` unpacked from this clone's history."""
    has = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{REFERENCE_COMMIT}^{{commit}}"], check=False,
                         capture_output=True).returncode == 0
    assert has, f"the comparison needs commit {REFERENCE_COMMIT} in this clone's history (git fetch --unshallow)"
    root = tmp_path_factory.mktemp("reference")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", REFERENCE_COMMIT, "lfpk"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    return root


def _run(code, root, config, cwd):
    env = {**os.environ, "PYTHONPATH": str(root)}
    run = subprocess.run([sys.executable, "-c", code, str(config)], check=False, cwd=cwd, capture_output=True, text=True,
                         env=env, timeout=900)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def unrotated(base, tmp_path_factory):
    """A layered config with types, random_z on a population and a type, no random_x, as a file."""
    cfg = with_rotation(layered(base), {"E": {"random_z": True}, ("I", "small"): {"random_z": True, "x": 0.3}})
    path = tmp_path_factory.mktemp("unrotated") / "unrotated.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def test_network_without_random_x_is_the_code_before(reference, unrotated, tmp_path):
    """Positions, angles, types, synapses, extrinsic counts and segment positions of a layered
    network with random_z and no random_x: the digest of the code before random_x, bitwise."""
    assert _run(CONNECTIVITY, REPO, unrotated, tmp_path) == _run(CONNECTIVITY, reference, unrotated, tmp_path)


def test_kernels_without_random_x_are_the_code_before(reference, unrotated, tmp_path):
    """Every kernel (all probes, transmembrane currents, placement, g_eff) of the same config: the
    code before random_x's, bitwise."""
    assert _run(GAUSSIAN_PROBES + KERNELS, REPO, unrotated, tmp_path) == _run(KERNELS, reference, unrotated, tmp_path)


def test_random_x_false_is_no_key(base):
    cfg = layered(base)
    off = with_rotation(cfg, {"E": {"random_x": False}, ("I", "small"): {"random_x": False}})
    a, b = place_cells(cfg, {"E": 20, "I": 6}), place_cells(off, {"E": 20, "I": 6})
    assert np.array_equal(a.positions, b.positions) and np.array_equal(a.angles_x, b.angles_x)
    ka = KernelEngine.from_config(cfg).kernel("I", "E", cfg["kernel"]["V_rest"], dict(cfg["kernel"]["rates"]))
    kb = KernelEngine.from_config(off).kernel("I", "E", cfg["kernel"]["V_rest"], dict(cfg["kernel"]["rates"]))
    for p in PROBES:
        assert np.array_equal(ka[p], kb[p])


# -- kernels with random_x -------------------------------------------------------------------------


def _kernel(cfg, post, pre):
    engine = KernelEngine.from_config(cfg, g_eff=False)
    return engine.kernel(post, pre, cfg["kernel"]["V_rest"], dict(cfg["kernel"]["rates"]))


def test_stick_rotated_about_x_has_no_mean_vertical_dipole(base):
    """A ball-and-stick cell lies on the z axis; with its synapses placed by membrane area alone
    (one layer holding every segment) the placement does not depend on the angle, and the mean of
    ``R_x(a) p`` over a uniform angle is ``(p_x, 0, 0)`` with ``p_x = 0`` on the axis: the population's
    dipole (and EEG, MEG) kernel vanishes, to rounding (1e-12 of the unrotated cell's dipole peak),
    while the LFP does not."""
    cfg = one_layer(base, validate=False)
    for c in cfg["connections"]:
        if c["post"] == "E":
            c["placement"] = {"sections": c["placement"]["sections"], "layers": {"all": 1.0}}
    fixed = validate_config(cfg)
    rotated = with_rotation(fixed, {("E", "E"): {"random_x": True}})
    model = KernelEngine.from_config(rotated).model
    c = model.connection("E", "E")
    weights, P = rotation_placements(model.populations["E"].cell_types[0], c, model.layers)
    assert len(weights) == RANDOM_X_NODES
    np.testing.assert_allclose(P, np.broadcast_to(P[0], P.shape), rtol=0, atol=1e-15)  # no angle dependence
    k0, k1 = _kernel(fixed, "E", "E"), _kernel(rotated, "E", "E")
    scale = np.abs(k0["cdm"]).max()
    assert scale > 0 and np.abs(k1["cdm"]).max() < 1e-12 * scale
    for p in ("eeg", "meg"):
        assert np.abs(k1[p]).max() < 1e-12 * np.abs(k0[p]).max()
    assert np.abs(k1["lfp"]).max() > 0.05 * np.abs(k0["lfp"]).max()


def _brute_force(cfg, where, angles, weights, post, pre):
    """The mean of the kernels of configs whose cells are all turned about x by one of ``angles``
    (the fixed ``rotation.x``, today's path: morphology, placement and probes of the turned cell)."""
    total = None
    for a, w in zip(angles, weights):
        k = _kernel(with_rotation(cfg, {where: {"x": float(a)}}), post, pre)
        part = {p: w * k[p] for p in PROBES}
        total = part if total is None else {p: total[p] + part[p] for p in PROBES}
    return total


@pytest.fixture(scope="module")
def stick(base):
    """E's cells turned about x at random; E -> E placed by its Gaussian depth densities."""
    return with_rotation(base, {"E": {"random_x": True}})


def test_quadrature_kernel_is_the_mean_of_explicitly_rotated_cells(base, stick, monkeypatch):
    """The engine's random_x kernel (with a 12-node rule, to keep the test short) equals the mean of
    the kernels of 12 configs with the fixed rotation x at the rule's angles, computed without
    random_x (each its own engine, cell, placement and probes): to 1e-7 of each probe's peak (a fixed
    rotation turns the NEURON cell's 3-d points, which NEURON stores in single precision: the turned
    cells' areas and lengths, hence their responses, differ from the unturned cell's in about the
    7th digit; measured 5e-9)."""
    monkeypatch.setattr(rotation_module, "RANDOM_X_NODES", 12)
    angles, weights = random_x_nodes()
    assert len(angles) == 12
    want = _brute_force(base, "E", angles, weights, "E", "E")
    engine = KernelEngine.from_config(stick, g_eff=False)
    got = engine.kernel("E", "E", stick["kernel"]["V_rest"], dict(stick["kernel"]["rates"]))
    assert 1 < engine.rotation_ranks[("E", "E", None)] <= 12  # one simulation per independent placement
    for p in PROBES:
        scale = np.abs(want[p]).max()
        assert scale > 0
        np.testing.assert_allclose(got[p], want[p], rtol=0, atol=1e-7 * scale)


def test_quadrature_kernel_converged(stick, monkeypatch):
    """The default rule (RANDOM_X_NODES = 64) against 256 nodes, for the laptop cell (a 1000-um
    apical dendrite turned through Gaussian synapse densities: the placement changes fastest with the
    angle of the study's cells): within 1e-4 of each probe's peak (measured 1.7e-5, CSD; the
    midpoint rule converges geometrically for this smooth periodic integrand: 3e-2 at 16 nodes,
    1e-2 at 32, 2e-12 at 128)."""
    got = _kernel(stick, "E", "E")
    monkeypatch.setattr(rotation_module, "RANDOM_X_NODES", 256)
    want = _kernel(stick, "E", "E")
    for p in PROBES:
        scale = np.abs(want[p]).max()
        err = np.abs(got[p] - want[p]).max()
        assert err < 1e-4 * scale
        assert err > 0 or p in ("eeg", "meg")  # different rules: not the same numbers


def test_random_x_changes_the_kernel_and_keeps_the_others(base, stick):
    k0 = _kernel(base, "E", "E")
    k1 = _kernel(stick, "E", "E")
    assert np.abs(k1["lfp"] - k0["lfp"]).max() > 0.05 * np.abs(k0["lfp"]).max()
    for p in PROBES:  # I's kernels do not see E's rotation
        assert np.array_equal(_kernel(base, "I", "E")[p], _kernel(stick, "I", "E")[p])


def test_layered_type_kernel_is_the_mean_of_its_rotations(base):
    """A layered cell type with random_x (synapses restricted by layer at the rotated depths): the
    engine's kernel equals the weighted sum over the nodes of ``M_k R p_k`` computed here from the
    model's rotated placements and probes of the rotated cell (1e-12 of each peak)."""
    from lfpk.engines.kernel.engine import probe_population
    from lfpk.engines.kernel.statistics import convolve_delays
    from lfpk.model.description import RotatedCell
    from lfpk.model.probes import probes_from_config

    cfg = with_rotation(layered(base), {("E", "short"): {"random_x": True}})
    engine = KernelEngine.from_config(cfg, g_eff=False)
    V, rates = cfg["kernel"]["V_rest"], dict(cfg["kernel"]["rates"])
    got = engine.type_kernel("E", "E", V, rates, cell_type=1)
    t = engine.model.populations["E"].cell_types[1]
    weights, P = rotation_placements(t, engine.model.connection("E", "E"), engine.model.layers)
    assert np.abs(P - P.mean(axis=0)).max() > 1e-3  # the layers make the placement depend on the angle
    angles, _ = random_x_nodes()
    want = {}
    for a, w, p in zip(angles, weights, P):
        view = RotatedCell(t, a)
        probes = probes_from_config(cfg, probe_population(view), cell=view.geometry(),
                                    random_rotation=t.random_rotation)
        r = engine.transmembrane_response("E", "E", V, rates, cell_type=1, probabilities=p)
        r = convolve_delays(r, engine.delay_probabilities("E", "E"))
        r = r - r[:, :1]
        for name in ("lfp", "csd", "cdm"):
            want[name] = want.get(name, 0.0) + w * (probes[name].get_transformation_matrix() @ r)
    for name in ("lfp", "csd", "cdm"):
        positive = got[name][:, got[name].shape[1] // 2:]
        np.testing.assert_allclose(positive, want[name], rtol=0, atol=1e-12 * np.abs(want[name]).max())


# -- the microcircuit ------------------------------------------------------------------------------


def test_microcircuit_rotations_are_hybridlfpys():
    """[H16] ``rand_rot_axis``: pyramidal types about z, the others about x and z."""
    for types in CELL_TYPES.values():
        for y in types:
            assert random_rotation(y) == ({"random_z": True} if is_pyramidal(y) else {"random_x": True, "random_z": True})
    assert {y for ys in CELL_TYPES.values() for y in ys if not is_pyramidal(y)} == {
        "b23", "nb23", "ss4(L23)", "ss4(L4)", "b4", "nb4", "b5", "nb5", "b6", "nb6"}
