"""Kernels of layered networks with cell types (docs/layers.md): a population's kernel is the
occurrence-weighted sum of its types' kernels, each computed by an engine of its own; a layer
declared and one type per population changes no kernel."""

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import yaml
from layeredstudy import STUDY, layered, layered_study_config, one_layer, short_kernel_config, write
from tinystudy import remove, results, snakemake

from lfpk.api.config import load_config, validate_config
from lfpk.api.kernels import compute_kernels
from lfpk.base.mpi import clean_environment, find_mpiexec
from lfpk.engines.kernel import KernelEngine
from lfpk.model.connectivity import expected_layered_probability, expected_placement, placement_mask

REPO = Path(__file__).resolve().parents[1]
PROBES = ("lfp", "csd", "cdm", "eeg", "meg")


@pytest.fixture(scope="module")
def base():
    return short_kernel_config(REPO)


@pytest.fixture(scope="module")
def cfg(base):
    return layered(base)


def only_type(cfg, post, name):
    """``cfg`` with population ``post`` made of its type ``name`` alone (occurrence 1)."""
    out = copy.deepcopy(cfg)
    spec = dict(out["populations"][post]["cell_types"][name], occurrence=1.0)
    out["populations"][post]["cell_types"] = {name: spec}
    for c in out["connections"]:
        table = (c["placement"] or {}).get("layers")
        if c["post"] == post and table and isinstance(next(iter(table.values())), dict):
            c["placement"]["layers"] = {name: table[name]}
    return validate_config(out)


@pytest.fixture(scope="module")
def kernels(cfg):
    return compute_kernels(cfg)


@pytest.mark.parametrize("post, types", [("E", ("long", "short")), ("I", ("basket", "small"))])
def test_population_kernel_is_occurrence_weighted_sum(cfg, kernels, post, types):
    """H_YX = sum_y F_y H_yX with each H_yX from a config holding type y alone (its own engine,
    cell, probes, placement and g_eff): equal to 1e-12 of each probe's peak."""
    F = {t: cfg["populations"][post]["cell_types"][t]["occurrence"] for t in types}
    single = {t: compute_kernels(only_type(cfg, post, t)) for t in types}
    for probe in PROBES:
        total = kernels[probe].sel(post=post).values
        parts = sum(F[t] * single[t][probe].sel(post=post).values for t in types)
        scale = np.abs(total).max()
        assert scale > 0
        np.testing.assert_allclose(total, parts, rtol=0, atol=1e-12 * scale)
    # the types differ (the sum is no copy of one of them)
    a, b = (single[t]["lfp"].sel(post=post).values for t in types)
    assert np.abs(a - b).max() > 1e-3 * np.abs(a).max()


def test_occurrences_enter_linearly(cfg, kernels):
    """Other occurrences, the same per-type kernels: H(F') - H(F) = sum_y (F'_y - F_y) H_yX."""
    other = copy.deepcopy(cfg)
    other["populations"]["E"]["cell_types"]["long"]["occurrence"] = 0.4
    other["populations"]["E"]["cell_types"]["short"]["occurrence"] = 0.6
    k2 = compute_kernels(validate_config(other))
    engine = KernelEngine.from_config(cfg)
    rates = dict(cfg["kernel"]["rates"])
    for pre in ("E", "I"):
        h = [engine.type_kernel("E", pre, cfg["kernel"]["V_rest"], rates, cell_type=i)["lfp"] for i in (0, 1)]
        diff = k2["lfp"].sel(post="E", pre=pre).values - kernels["lfp"].sel(post="E", pre=pre).values
        np.testing.assert_allclose(diff, (0.4 - 0.75) * h[0] + (0.6 - 0.25) * h[1], rtol=0,
                                   atol=1e-12 * np.abs(h[0]).max())


def test_kernel_placement_is_expected_layer_placement(cfg):
    """The kernel cell's synapse probabilities are the network's per-cell layer rule averaged over
    the layer's uniform soma depths (lfpk.model.connectivity, the one rule of both engines)."""
    engine = KernelEngine.from_config(cfg)
    model = engine.model
    c = model.connection("E", "E")
    for i, t in enumerate(model.populations["E"].cell_types):
        p = engine.synapse_probabilities("E", "E", i)
        ref = expected_layered_probability(t.segments, t.depth, placement_mask(t, c), None, {"upper": 0.6, "lower": 0.4},
                                           model.layers)
        assert np.array_equal(p, ref)
    # the model's one statement of the kernel placement (figures use it) is the engine's, bitwise
    for c in model.connections:
        for i, t in enumerate(model.populations[c.post].cell_types):
            assert np.array_equal(expected_placement(t, c, model.layers), engine.synapse_probabilities(c.post, c.pre, i))


def test_one_layer_one_type_kernels_equal_plain(base):
    """A layer declared and every population one cell type of occurrence 1: the plain config's
    kernels bitwise (every probe, every connection)."""
    plain = compute_kernels(base)
    typed = compute_kernels(one_layer(base))
    for probe in PROBES:
        assert np.array_equal(plain[probe].values, typed[probe].values), probe


def test_kernel_files_name_the_types(cfg):
    """Each kernel dataset stacks the types' segments with their type (currents times F_y)."""
    engine = KernelEngine.from_config(cfg)
    from lfpk.engines.kernel import kernel_datasets
    (post, pre, ds, _), = kernel_datasets(engine, cfg, [("E", "I")], {"E": -65.0, "I": -65.0},
                                          dict(cfg["kernel"]["rates"]))
    types = ds["cell_type"].values
    n_long = engine.populations["E"].cell_type("long").n_segments
    assert list(types[:n_long]) == ["long"] * n_long and set(types[n_long:]) == {"short"}
    assert ds["synapse_probability"].sum() == pytest.approx(1.0, abs=1e-12)
    assert ds["synapse_probability"].values[:n_long].sum() == pytest.approx(0.75, abs=1e-12)


# -- the tiny layered study through the workflow -------------------------------------------------

def _network(config_path, outdir, ranks):
    env = clean_environment()
    cmd = [sys.executable, "-m", "lfpk", "network", "--config", str(config_path), "--outdir", str(outdir),
           "--tstop", "100", "--transient", "20"]
    if ranks > 1:
        mpiexec = find_mpiexec()
        if mpiexec is None:
            pytest.skip("mpiexec not found (install the 'mpi' extra)")
        cmd = [mpiexec, "-n", str(ranks), *cmd]
    p = subprocess.run(cmd, cwd=config_path.parent, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]


def test_layered_network_bitwise_on_one_and_two_ranks(mechanisms, tmp_path):
    """Cell types, layer placement and per-type recording blocks: the same outputs on 1 and 2 ranks."""
    pytest.importorskip("mpi4py")
    from lfpk.base.io import read_dataset

    with open(REPO / "config" / "config.yaml") as f:
        raw = yaml.safe_load(f)
    path = write(layered_study_config(raw, sizes=(16, 6)), tmp_path)
    _network(path, tmp_path / "r1", 1)
    _network(path, tmp_path / "r2", 2)
    for name in ("spikes", "signals", "membrane"):
        a, b = read_dataset(tmp_path / "r1" / f"{name}.nc"), read_dataset(tmp_path / "r2" / f"{name}.nc")
        for v in a.data_vars:
            assert np.array_equal(a[v].values, b[v].values, equal_nan=a[v].dtype.kind == "f"), (name, v)
    sig = read_dataset(tmp_path / "r1" / "signals.nc")
    assert np.abs(sig["lfp"].sel(source="E").values).max() > 0


@pytest.fixture(scope="module")
def study(mechanisms, tmp_path_factory):
    with open(REPO / "config" / "config.yaml") as f:
        raw = yaml.safe_load(f)
    folder = tmp_path_factory.mktemp("layers")
    path = write(layered_study_config(raw), folder)
    remove(STUDY)
    proc = snakemake("--cores", "2", "--configfile", path)
    yield path, proc, results(STUDY)
    remove(STUDY)


def test_layered_study_through_snakemake(study):
    """Kernels, network, prediction, comparison and figures of a layered study with two cell types
    per population; the workflow's kernels are the library's; the ground truth's somata lie in
    their layers and both types' cells signal."""
    from lfpk.base.io import read_dataset
    from lfpk.entry.workflow import all_targets_for

    path, proc, res = study
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    cfg = load_config(path)
    missing = [t for t in all_targets_for(cfg) if not (REPO / t).is_file()]
    assert not missing, missing
    k = read_dataset(res / "kernels" / "default" / "frozen-geff-scalar" / "kernels.nc")
    # the workflow's kernels: at the ground truth's median somatic potentials and rates
    lib = compute_kernels(cfg, membrane=res / "network" / "default" / "membrane.nc", v_rest_mode="scalar")
    for probe in PROBES:
        np.testing.assert_allclose(k[probe].values, lib[probe].values, rtol=0,
                                   atol=1e-12 * np.abs(lib[probe].values).max())
    spikes = read_dataset(res / "network" / "default" / "spikes.nc")
    z = spikes["z"].values
    E = np.arange(cfg["populations"]["E"]["size"])
    assert np.all((z[E] >= -250.0) & (z[E] < 150.0))
    sig = read_dataset(res / "network" / "default" / "signals.nc")
    np.testing.assert_allclose(sig["cdm"].values[0], sig["cdm"].values[1:].sum(axis=0), rtol=1e-12, atol=1e-12)
    pred = read_dataset(res / "prediction" / "default" / "frozen-geff-scalar.nc")
    assert list(pred["source"].values) == ["total", "E", "I"]
    assert np.all(np.isfinite(pred["lfp"].values)) and np.abs(pred["lfp"].values).max() > 0


def test_expected_placement_of_plain_config_is_the_engines(base):
    """Without layers, the model's expected placement of each population's (only) type equals the
    engine's synapse probabilities bitwise (the figure of synapse depths can use it unchanged)."""
    engine = KernelEngine.from_config(base)
    model = engine.model
    for c in model.connections:
        t = model.populations[c.post].cell_types[0]
        assert np.array_equal(expected_placement(t, c, model.layers), engine.synapse_probabilities(c.post, c.pre))
