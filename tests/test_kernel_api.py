"""lfpk's own kernel API at parity with LFPykernels' inputs (issue 23, "Gaps in lfpk's own API"):
probes given as objects, the cost of compute_kernels, overlays of connections, current-based
synapses, placement densities, kernels-only study files."""

from __future__ import annotations

import numpy as np
import pytest

import lfpk
from lfpk.api.config import load_config

# -- 1. LFPykit probes given as objects are population-averaged, or refused --------------------


@pytest.fixture(scope="module")
def laptop(repo):
    return load_config(repo / "config" / "config.yaml")


@pytest.fixture(scope="module")
def E_from_I(mechanisms, laptop):
    """The transmembrane currents (nA, delays applied) of connection I -> E and the kernel cell."""
    from lfpk.engines.kernel import KernelEngine
    from lfpk.engines.kernel.inputs import kernel_inputs

    eng = KernelEngine.from_config(laptop)
    V, rates, _ = kernel_inputs(laptop)
    res = eng.kernel("E", "I", V["E"], rates=rates)
    return res["transmembrane_current"], eng.populations["E"]


def _monte_carlo_average(model_class, geometry, pop, contacts, n=40000, seed=11):
    """Independent of lfpk's quadrature: the model's matrix averaged over ``n`` random soma
    positions of the population (uniform in the disc, normal in depth), drawn with a fixed seed."""
    import lfpykit

    rng = np.random.default_rng(seed)
    r = pop.radius * np.sqrt(rng.uniform(size=n))
    phi = rng.uniform(0, 2 * np.pi, n)
    dz = rng.normal(0.0, pop.z_sd, n)
    M = 0.0
    for k in range(0, n, 2000):
        sl = slice(k, k + 2000)
        m = len(r[sl])
        dx, dy = (r[sl] * np.cos(phi[sl]))[:, None, None], (r[sl] * np.sin(phi[sl]))[:, None, None]
        moved = lfpykit.CellGeometry(x=(geometry.x[None] + dx).reshape(-1, 2), y=(geometry.y[None] + dy).reshape(-1, 2),
                                     z=(geometry.z[None] + dz[sl][:, None, None]).reshape(-1, 2),
                                     d=np.tile(geometry.d, m))
        Mc = model_class(cell=moved, **contacts).get_transformation_matrix()
        M = M + Mc.reshape(Mc.shape[0], m, -1).sum(axis=1)
    return M / n


@pytest.mark.parametrize("model", ["PointSourcePotential", "LineSourcePotential"])
def test_lfpykit_point_and_line_sources_are_population_averaged(mechanisms, laptop, E_from_I, model):
    """A PointSourcePotential / LineSourcePotential given as is gives the population average of
    its contacts' potential (checked against a Monte Carlo average computed here with LFPykit
    itself), not the one-cell value (7x larger for I -> E at the soma layer)."""
    import lfpykit

    from lfpk.model.probes import as_cell_geometry

    contacts = dict(x=np.array([0.0, 0.0]), y=np.array([0.0, 0.0]), z=np.array([0.0, -300.0]), sigma=0.3)
    probe = getattr(lfpykit, model)(cell=None, **contacts)
    k = lfpk.compute_kernels(laptop, connections=[("E", "I")], probes=[probe])
    got = k[model.lower()].values[0, 0]
    current, pop = E_from_I
    geometry = as_cell_geometry(pop.geometry())
    M = _monte_carlo_average(getattr(lfpykit, model), geometry, pop, contacts)
    expect = M @ current
    scale = np.abs(expect).max()
    assert np.abs(got - expect).max() < 0.02 * scale  # Monte Carlo error of 40000 draws: < 1 %
    # the one-cell value, asked for explicitly, is another thing
    one = lfpk.compute_kernels(laptop, connections=[("E", "I")], probes=[lfpk.CellProbe(probe, "one", "mV")])
    assert np.abs(one["one"].values).max() > 3 * scale
    assert "quadrature" in k.attrs["probe_quadrature"]


def test_other_lfpykit_models_are_refused_unless_wrapped(mechanisms, laptop):
    import lfpykit

    rec = lfpykit.RecExtElectrode(cell=None, x=np.zeros(2), y=np.zeros(2), z=np.array([0.0, 100.0]))
    with pytest.raises(ValueError, match=r"^probes\[0\]: an LFPykit RecExtElectrode is not averaged .*CellProbe") as exc:
        lfpk.compute_kernels(laptop, connections=[("E", "I")], probes=[rec])
    assert "\n" not in str(exc.value)
    with pytest.raises(ValueError, match=r"^probes\[1\]: .*is not a probe"):
        lfpk.compute_kernels(laptop, connections=[("E", "I")], probes=[lfpk.CurrentDipoleMoment(), object()])
    k = lfpk.compute_kernels(laptop, connections=[("E", "I")], probes={"rec": lfpk.CellProbe(rec, "rec", "mV")})
    assert k["rec"].shape[2] == 2


def test_lfpykernels_probe_classes_keep_their_meaning(mechanisms, laptop):
    """LFPykernels' GaussCylinderPotential and KernelApproxCurrentDipoleMoment (here those of
    lfpk.compat.lfpykernels, recognised by class name) give lfpk's Gauss-cylinder potential and the
    z-only dipole."""
    from lfpk.compat.lfpykernels import GaussCylinderPotential, KernelApproxCurrentDipoleMoment

    z = np.array(laptop["probes"]["channel_z"], dtype=float)
    pl = laptop["populations"]["E"]["placement"]
    theirs = lfpk.compute_kernels(laptop, connections=[("E", "I")], probes=[
        GaussCylinderPotential(None, z, sigma=laptop["probes"]["sigma"], R=pl["radius"], sigma_z=pl["z_sd"]),
        KernelApproxCurrentDipoleMoment(None)])
    ours = lfpk.compute_kernels(laptop, connections=[("E", "I")], probes=[
        lfpk.GaussCylinderPotential(z=z, sigma=laptop["probes"]["sigma"], R=pl["radius"], sigma_z=pl["z_sd"]),
        lfpk.CurrentDipoleMoment(random_rotation=True)])
    for s in ("lfp", "cdm"):
        np.testing.assert_array_equal(theirs[s].values, ours[s].values)
    assert not np.any(theirs["cdm"].values[0, 0, :2])


# -- 2. compute_kernels validates once, and not again for the same content ----------------------


def test_compute_kernels_validates_once_per_content(mechanisms, laptop, monkeypatch, tmp_path):
    import copy

    import lfpk.api.kernels as api

    calls = []
    real = api.validate_config
    monkeypatch.setattr(api, "validate_config", lambda cfg, **kw: calls.append(1) or real(cfg, **kw))
    api._VALIDATED.clear()
    cfg = copy.deepcopy(laptop)
    first = lfpk.compute_kernels(cfg, connections=[("E", "I")])
    assert len(calls) == 1  # was twice per call
    again = lfpk.compute_kernels(cfg, connections=[("E", "I")])
    assert len(calls) == 1
    np.testing.assert_array_equal(first["lfp"].values, again["lfp"].values)
    # a changed configuration is validated and computed anew (content, not identity, is the key)
    which = [i for i, c in enumerate(cfg["connections"]) if (c["pre"], c["post"]) == ("I", "E")][0]
    cfg["connections"][which]["synapse"]["weight"] *= 2
    doubled = lfpk.compute_kernels(cfg, connections=[("E", "I")])
    assert len(calls) == 2
    assert not np.allclose(doubled["lfp"].values, first["lfp"].values)
    # so is an invalid one: the error names the key, every time
    cfg["kernel"]["tau"] = -1.0
    for _ in range(2):
        with pytest.raises(lfpk.ConfigError, match="kernel.tau"):
            lfpk.compute_kernels(cfg, connections=[("E", "I")])
    # a file changed on disk is read again
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(laptop))
    a = lfpk.compute_kernels(path, connections=[("E", "I")])
    changed = copy.deepcopy(laptop)
    changed["kernel"]["V_rest"] = -70.0
    path.write_text(yaml.safe_dump(changed) + "# changed\n")
    b = lfpk.compute_kernels(path, connections=[("E", "I")])
    assert json_of(b.attrs["per_post"])["E"]["V_rest_used"] == -70.0
    assert json_of(a.attrs["per_post"])["E"]["V_rest_used"] == -65.0


def json_of(text):
    import json

    return json.loads(text)


# -- 3. overlays merge connections by (pre, post) ----------------------------------------------

import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

from lfpk.api.config import ConfigError, read_config_file  # noqa: E402

LFPK = Path(sys.executable).parent / "lfpk"


def _overlay(tmp_path, text, name="over.yaml", base=None):
    path = tmp_path / name
    path.write_text(f"extends: {base}\n" + text)
    return path


def _pairs(cfg):
    return [(c["pre"], c["post"]) for c in cfg["connections"]]


def test_overlay_changes_one_connection_by_pre_post(repo, tmp_path, laptop):
    base = repo / "config" / "config.yaml"
    path = _overlay(tmp_path, "connections:\n  - {pre: I, post: E, synapse: {weight: 0.009, weight_sd: null}}\n",
                    base=base)
    cfg = load_config(path)
    assert _pairs(cfg) == _pairs(laptop)  # order kept
    for c, c0 in zip(cfg["connections"], laptop["connections"]):
        if (c["pre"], c["post"]) == ("I", "E"):
            assert c["synapse"]["weight"] == 0.009 and "weight_sd" not in c["synapse"]
            assert {k: v for k, v in c.items() if k != "synapse"} == {k: v for k, v in c0.items() if k != "synapse"}
            assert c["synapse"]["tau2"] == c0["synapse"]["tau2"]
        else:
            assert c == c0


def test_overlay_appends_new_pairs_and_removes_with_remove_true(repo, tmp_path, laptop, monkeypatch):
    # config/paper.yaml's 64 ranks are spread by a cluster's scheduler (8 per node), as in
    # test_config: the memory check must not depend on what else runs on this machine
    monkeypatch.setenv("LFPK_RANKS_PER_NODE", "8")
    base = repo / "config" / "config.yaml"
    removed = load_config(_overlay(tmp_path, "connections:\n  - {pre: E, post: E, remove: true}\n"
                                   "pointnet:\n  connections:\n    - {pre: E, post: E, remove: true}\n"
                                   "scans: null\n", base=base))  # (J scans need E -> E)
    assert _pairs(removed) == [p for p in _pairs(laptop) if p != ("E", "E")]
    assert _pairs(removed["pointnet"]) == _pairs(removed)
    # a file without E -> E, overlaid with it: the connection is appended after the base's
    three = tmp_path / "three.yaml"
    three.write_text(yaml.safe_dump(removed))
    ee = next(c for c in laptop["connections"] if (c["pre"], c["post"]) == ("E", "E"))
    pee = next(c for c in laptop["pointnet"]["connections"] if (c["pre"], c["post"]) == ("E", "E"))
    back = load_config(_overlay(tmp_path, "connections:\n  - " + yaml.safe_dump(ee, default_flow_style=True)
                                + "pointnet:\n  connections:\n    - " + yaml.safe_dump(pee, default_flow_style=True),
                                name="back.yaml", base=three))
    assert _pairs(back) == _pairs(removed) + [("E", "E")]
    assert back["connections"][-1] == ee and back["pointnet"]["connections"][-1] == pee
    # config/paper.yaml restates every connection: the same as its list
    paper = load_config(repo / "config" / "paper.yaml")
    raw = yaml.safe_load((repo / "config" / "paper.yaml").read_text())
    assert paper["connections"] == raw["connections"]


@pytest.mark.parametrize("entries, message", [
    ("  - {pre: I, post: E, probability: 0.1}\n  - {pre: I, post: E, probability: 0.2}\n", "I -> E is named twice"),
    ("  - {pre: E, post: X, remove: true}\n", "cannot remove E -> X: the base has no such entry"),
    ("  - {pre: E, post: E, remove: true, probability: 0.1}\n", "remove: true removes E -> E and takes only pre and post"),
])
def test_overlay_connection_errors_are_one_line(repo, tmp_path, entries, message):
    path = _overlay(tmp_path, "connections:\n" + entries, base=repo / "config" / "config.yaml")
    with pytest.raises(ConfigError, match=message):
        read_config_file(path)
    proc = subprocess.run([str(LFPK), "validate-config", str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and message in lines[0] and "Traceback" not in proc.stderr


def test_network_run_changes_one_connection(repo, tmp_path, laptop):
    """A network.runs entry lays its connections by (pre, post) too: one weight, not the list."""
    path = _overlay(tmp_path, "network:\n  runs:\n    strongIE:\n      connections:\n"
                              "        - {pre: I, post: E, synapse: {weight: 0.006}}\n",
                    base=repo / "config" / "config.yaml")
    cfg = load_config(path)
    from lfpk.study.runs import deep_merge, run_overlay

    merged = deep_merge(cfg, run_overlay(cfg, "strongIE"))
    assert _pairs(merged) == _pairs(laptop)
    assert [c["synapse"]["weight"] for c in merged["connections"] if c["pre"] == "I" and c["post"] == "E"] == [0.006]


# -- 4 and 6. kernels-only files; current-based synapses (Exp2SynI) in them ----------------------


def _lfpk(*args, cwd=None):
    proc = subprocess.run([str(LFPK), *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd)
    return proc.returncode, proc.stdout, proc.stderr


def _one_line_error(rc, err, *parts):
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and "Traceback" not in err, err
    for part in parts:
        assert part in lines[0], lines[0]


def test_kernels_only_file_validates_and_computes(mechanisms, repo, tmp_path):
    example = repo / "docs" / "examples" / "kernels_only.yaml"
    rc, out, err = _lfpk("validate-config", example)
    assert rc == 0, err
    assert "kernel" in out and "network" not in out and "predict" not in out
    assert "valid kernels-only file" in out and "runs" not in out
    rc, out, err = _lfpk("kernel", "--config", example, "--post", "E", "--pre", "I", "--output", tmp_path / "H.nc")
    assert rc == 0, err
    H = lfpk.read_dataset(tmp_path / "H.nc")
    assert H["lfp"].shape == (13, 1601) and np.abs(H["lfp"].values).max() > 0
    # the workflow refuses it in one line; so does a kernels-only file with a part of the study
    from lfpk.api.config import load_study_config

    with pytest.raises(ConfigError, match="scope: kernels: a kernels-only file has no network"):
        load_study_config([str(example)])
    bad = _overlay(tmp_path, "scans: {J: [1.0]}\n", base=example)
    _one_line_error(*_lfpk("validate-config", bad)[::2], "scans: not part of a kernels-only file")
    # network.tasks only in a microcircuit file (the MPI ranks of its validation rule)
    ranks = _overlay(tmp_path, "network: {tasks: 4}\n", name="ranks.yaml", base=example)
    _one_line_error(*_lfpk("validate-config", ranks)[::2], "network: not part of a kernels-only file")
    micro = _overlay(tmp_path, "network: {tasks: 4}\n", name="micro.yaml",
                     base=repo / "config" / "microcircuit_laptop.yaml")
    rc, out, err = _lfpk("validate-config", micro)
    assert rc == 0, err
    # a study file still needs every part of the study
    study = tmp_path / "study.yaml"
    raw = yaml.safe_load(example.read_text())
    del raw["scope"]
    study.write_text(yaml.safe_dump(raw))
    rc, _, err = _lfpk("validate-config", study)
    assert rc == 2 and "missing key figures" in err and "missing key simulation.tstop" in err


def test_current_synapses_in_a_kernels_only_file(mechanisms, repo, tmp_path):
    """Exp2SynI with the linearised conductance's peak current -g (V_rest - e) gives the conductance
    synapse's kernel (g_eff off), through the config."""
    example = repo / "docs" / "examples" / "kernels_only.yaml"
    nogeff = _overlay(tmp_path, "kernel: {g_eff: false}\n", name="nogeff.yaml", base=example)
    amp = -0.002 * (-65.0 - (-80.0))  # nA: outward, inhibitory
    current = _overlay(tmp_path, "connections:\n  - {pre: I, post: E, synapse: {model: Exp2SynI, e: null, "
                                 f"weight: {amp!r}}}}}\n", name="current.yaml", base=nogeff)
    k_g = lfpk.compute_kernels(nogeff, connections=[("E", "I")])
    k_i = lfpk.compute_kernels(current, connections=[("E", "I")])
    for s in ("lfp", "cdm"):
        np.testing.assert_allclose(k_i[s].values, k_g[s].values, rtol=1e-9, atol=1e-12 * np.abs(k_g[s].values).max())
    # refused in one line: with g_eff, with a reversal potential, in a study file (the network)
    geff = _overlay(tmp_path, "kernel: {g_eff: true}\n", name="geff.yaml", base=current)
    _one_line_error(*_lfpk("validate-config", geff)[::2], "kernel.g_eff: true needs conductance synapses",
                    "connections[1].synapse is a current synapse")
    with_e = _overlay(tmp_path, "connections:\n  - {pre: I, post: E, synapse: {e: -80.0}}\n", name="e.yaml",
                      base=current)
    _one_line_error(*_lfpk("validate-config", with_e)[::2], "connections[1].synapse.e: a current synapse")
    study = _overlay(tmp_path, "connections:\n  - {pre: I, post: E, synapse: {model: Exp2SynI, e: null, weight: -0.03}}\n"
                               "kernel: {g_eff: false}\n", name="study.yaml", base=repo / "config" / "config.yaml")
    _one_line_error(*_lfpk("validate-config", study)[::2], "synapse.model: Exp2SynI (current based) is accepted in "
                    "kernels-only files (scope: kernels) only")


def test_negative_current_weights_keep_their_sign():
    from lfpk.model.connectivity import draw_weights
    from lfpk.model.synapse import Synapse

    w = draw_weights(np.random.default_rng(1), -0.03, 0.03, 10000)  # sd = |w|: half would cross 0
    assert np.all(w < 0)
    syn = Synapse(0.1, 9.0, -0.03, model="Exp2SynI", weight_sd=1.0)
    assert syn.mean_weight == pytest.approx(-Synapse(0.1, 9.0, 0.03, model="Exp2SynI", weight_sd=1.0).mean_weight)
    assert syn.mean_weight == pytest.approx(w.mean(), rel=0.02)


# -- 7. the README example in lfpk's own config and API agrees with the compat route -------------


def test_readme_migrated_to_lfpk_config_agrees_with_compat(mechanisms, repo, monkeypatch):
    import runpy

    folder = repo / "docs" / "examples" / "lfpykernels"
    monkeypatch.chdir(folder)
    compat = runpy.run_path(str(folder / "readme.py"))["H"]
    own = runpy.run_path(str(folder / "readme_lfpk.py"))["H"]
    for theirs, ours in ((compat["GaussCylinderPotential"], own["lfp"]),
                         (compat["KernelApproxCurrentDipoleMoment"][2], own["cdm"][2])):
        assert ours.shape == theirs.shape
        assert np.abs(ours - theirs).max() < 0.01 * np.abs(theirs).max()  # measured: 0.30 %, 0.26 %


# -- 5. placement densities: any scipy.stats density with optional depth bounds -------------------


def test_placement_by_any_scipy_density(mechanisms, repo, tmp_path):
    example = repo / "docs" / "examples" / "kernels_only.yaml"
    norm = _overlay(tmp_path, "connections:\n  - pre: I\n    post: E\n    placement:\n      densities:\n"
                              "        - {weight: 1.0, distribution: norm, params: {loc: -100.0, scale: 100.0}}\n",
                    name="norm.yaml", base=example)
    both = tmp_path / "both.yaml"
    both.write_text(norm.read_text().replace("distribution: norm", "mean: 0.0, sd: 10.0, distribution: norm"))
    with pytest.raises(ConfigError, match=r"densities\[0\]: mean and sd belong to a Gaussian"):
        load_config(both)
    gauss = lfpk.compute_kernels(example, connections=[("E", "I")])
    named = lfpk.compute_kernels(norm, connections=[("E", "I")])
    # the scipy density averaged over the soma depths by quadrature = the broadened Gaussian
    np.testing.assert_allclose(named["lfp"].values, gauss["lfp"].values, rtol=0,
                               atol=1e-9 * np.abs(gauss["lfp"].values).max())
    # bounds cut the density: above z_max = 0 um only the population's jitter reaches
    cut = tmp_path / "cut.yaml"
    cut.write_text(norm.read_text().replace("distribution: norm", "z_max: 0.0, distribution: norm"))
    from lfpk.engines.kernel import KernelEngine

    cfg = load_config(cut)
    eng = KernelEngine.from_config(cfg)
    p = eng.synapse_probabilities("E", "I")
    pop = eng.populations["E"]
    zmid = pop.segments["z"].mean(axis=1) + pop.z_mean
    # independent: area x E_eps[norm.pdf(z + eps) 1(z + eps <= 0)], eps ~ N(0, 75), by a fine grid
    eps = np.linspace(-8 * 75, 8 * 75, 4001)
    w = np.exp(-0.5 * (eps / 75) ** 2)
    zz = zmid[:, None] + eps[None]
    import scipy.stats

    dens = (scipy.stats.norm.pdf(zz, -100, 100) * (zz <= 0) * w).sum(axis=1) / w.sum()
    expect = pop.segments["area"] * dens * (p > 0)
    np.testing.assert_allclose(p, expect / expect.sum(), rtol=2e-3, atol=1e-6 * p.max())
    assert p[zmid > 400].sum() < 1e-3 * p.sum()
    bad = tmp_path / "bad.yaml"
    bad.write_text(norm.read_text().replace("distribution: norm", "distribution: nonesuch"))
    _one_line_error(*_lfpk("validate-config", bad)[::2], "densities[0].distribution: 'nonesuch' is not a scipy.stats")
