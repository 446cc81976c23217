"""Reconstructed cells: file morphologies (SWC, Neurolucida ASC, hoc) against LFPy, rotations,
section groups, errors, the soma centre, and kernels of LFPy's L23E_p23.hoc against an independent
LFPy + LFPykit computation.

LFPy builds its cells with ``delete_sections=True``, which deletes every NEURON section of the
process; every LFPy computation here therefore runs in a fresh interpreter
(:func:`lfpk.engines.kernel.reference.run_isolated`, :func:`_lfpy_geometry`).
"""

import copy
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from threepop import lfpy_hoc

from lfpk.api.config import validate_config
from lfpk.model.morphology import FileMorphology, MorphologyError, rotation_matrix, synthetic

ROTATION = {"x": 4.729, "y": -3.166, "z": 0.7}  # the Hay cell's x, y (Hagen et al. 2022), plus z


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("morphologies")
    return {"swc": synthetic.write(d / "cell.swc", seed=2), "asc": synthetic.write(d / "cell.asc", seed=2),
            "hoc": lfpy_hoc()}


def _lfpy_geometry(path, rotation, tmp):
    """Segment end points, areas and diameters of LFPy's cell from ``path`` (fresh interpreter)."""
    out = Path(tmp) / "lfpy_geometry.npz"
    code = textwrap.dedent(f"""
        import numpy as np, LFPy
        cell = LFPy.Cell(morphology={str(path)!r}, nsegs_method="lambda100", d_lambda=0.1, Ra=100.0, cm=1.0)
        cell.set_rotation(**{rotation!r})
        cell.set_pos(0.0, 0.0, 0.0)
        np.savez({str(out)!r}, x=cell.x, y=cell.y, z=cell.z, area=cell.area, d=cell.d, length=cell.length)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    with np.load(out) as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("fmt", ["swc", "asc", "hoc"])
def test_file_morphology_matches_lfpy(files, fmt, tmp_path):
    """Segments, areas and rotated coordinates equal LFPy's (Cell.set_rotation, set_pos) to 1e-9 um."""
    m = FileMorphology("E", files[fmt], rotation=ROTATION)
    seg = m.segments()
    ref = _lfpy_geometry(files[fmt], ROTATION, tmp_path)
    assert len(seg["area"]) == len(ref["area"])
    if fmt != "hoc":
        assert len(seg["area"]) >= 500  # a cell of realistic size
    for k in "xyz":
        np.testing.assert_allclose(seg[k], ref[k], rtol=0, atol=1e-9)
    np.testing.assert_allclose(seg["area"], ref["area"], rtol=1e-12)
    np.testing.assert_allclose(seg["diam"], ref["d"], rtol=1e-12)
    np.testing.assert_allclose(seg["length"], ref["length"], rtol=1e-12)
    # the segment table is relative to the soma centre
    soma = seg["group"] == "soma"
    centre = np.mean([seg[k].mean(axis=1)[soma] for k in "xyz"], axis=1)
    np.testing.assert_allclose(centre, 0.0, atol=1e-9)


def test_rotation_keeps_lengths_and_areas(files):
    plain = FileMorphology("E", files["swc"]).segments()
    rot = FileMorphology("E", files["swc"], rotation=ROTATION).segments()

    def ends(s):
        return np.stack([s["x"], s["y"], s["z"]], axis=-1)  # (n, 2, 3)

    a, b = ends(plain), ends(rot)
    np.testing.assert_allclose(np.linalg.norm(b[:, 1] - b[:, 0], axis=1), np.linalg.norm(a[:, 1] - a[:, 0], axis=1),
                               rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(rot["area"], plain["area"])
    np.testing.assert_array_equal(rot["length"], plain["length"])
    R = rotation_matrix(**ROTATION)
    np.testing.assert_allclose(b, a @ R.T, atol=1e-9)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-15)
    # LFPy's convention: row vectors right-multiplied by R_x(-x), then R_y(-y), then R_z(-z)
    x, y, z = ROTATION["x"], ROTATION["y"], ROTATION["z"]
    rx = np.array([[1, 0, 0], [0, np.cos(-x), -np.sin(-x)], [0, np.sin(-x), np.cos(-x)]])
    ry = np.array([[np.cos(-y), 0, np.sin(-y)], [0, 1, 0], [-np.sin(-y), 0, np.cos(-y)]])
    rz = np.array([[np.cos(-z), -np.sin(-z), 0], [np.sin(-z), np.cos(-z), 0], [0, 0, 1]])
    v = np.array([[1.0, 2.0, 3.0], [-4.0, 0.5, 2.0]])
    np.testing.assert_allclose(v @ rx @ ry @ rz, v @ R.T, atol=1e-12)


def test_rotated_cells_are_built_where_the_table_says(files):
    m = FileMorphology("E", files["swc"], rotation=ROTATION)
    seg = m.segments()
    cell = m.build(prefix="rotcheck", x_offset=10.0, y_offset=-20.0, z_offset=30.0)
    pts = np.array([[s.x3d(i), s.y3d(i), s.z3d(i)] for s in cell.values() for i in (0, int(s.n3d()) - 1)])
    first = np.array([[seg["x"][i, 0], seg["y"][i, 0], seg["z"][i, 0]] for i in
                      np.cumsum([0] + [s.nseg for s in cell.values()])[:-1]]) + [10.0, -20.0, 30.0]
    np.testing.assert_allclose(pts[::2], first, atol=1e-4)  # NEURON stores 3-d points in float32
    np.testing.assert_allclose([s.area() for s in cell.segments], seg["area"], rtol=1e-6)
    assert cell.soma.sec.name().endswith("soma[0]")


def test_section_groups(files, config):
    from lfpk.model import from_config

    m = FileMorphology("E", files["swc"], groups={"oblique": r"apic\[([1-9]|1[0-9])\]"})
    seg = m.segments()
    groups, counts = np.unique(seg["group"], return_counts=True)
    assert set(groups) == {"soma", "dend", "apic", "axon"} and counts[list(groups).index("soma")] == 1
    from lfpk.model.morphology.groups import compile_groups, group_mask

    custom = compile_groups(m.groups)
    ob = group_mask(seg, "oblique", custom)
    assert ob.any() and np.all(seg["group"][ob] == "apic") and not ob[seg["group"] == "apic"].all()
    assert group_mask(seg, "all", custom).all()
    with pytest.raises(ValueError, match="unknown section group 'tuft'"):
        group_mask(seg, "tuft", custom)
    # config: synapses only on a config-defined group; densities per group
    config["populations"]["E"]["morphology"] = {"file": str(files["swc"]), "groups": {"oblique": m.groups["oblique"]}}
    config["connections"][0]["placement"]["sections"] = ["oblique"]
    config["biophysics"]["groups"]["oblique"] = {"mechanisms": {"Ih": {"gIhbar": 1.5e-3}}}
    with pytest.raises(Exception, match=r"biophysics.groups.oblique: section group 'oblique' is not a group of "
                                        r"population I"):
        validate_config(copy.deepcopy(config))  # the shared block also serves the ball-and-stick I
    config["populations"]["E"]["biophysics"] = copy.deepcopy(config["biophysics"])
    del config["biophysics"]["groups"]["oblique"]
    model = from_config(validate_config(config))
    pop = model.populations["E"]
    g = pop.cell_biophysics.parameters[("Ih", "gIhbar")]
    assert np.all(g[pop.group_mask("oblique")] == 1.5e-3)
    assert np.all(g[(pop.segments["group"] == "dend")] == 2.0e-3)
    from lfpk.engines.kernel import KernelEngine

    eng = KernelEngine.from_config(validate_config(config))
    p = eng.synapse_probabilities("E", "E")
    assert p.sum() == pytest.approx(1.0) and np.all(p[~pop.group_mask("oblique")] == 0)
    config["connections"][0]["placement"]["sections"] = ["axon"]
    config["populations"]["E"]["morphology"] = {"soma": {"length": 30.0, "diam": 30.0},
                                                "dend": {"length": 200.0, "diam": 2.0},
                                                "apic": {"length": 1000.0, "diam": 3.0}}
    del config["populations"]["E"]["biophysics"]
    with pytest.raises(Exception, match=r"connections\[0\].placement.sections\[0\]: section group 'axon'"):
        validate_config(config)


SOMALESS = "1 3 0 0 0 1 -1\n2 3 0 0 50 1 1\n"
GARBAGE = "this is not a morphology\n(((\n"


@pytest.mark.parametrize("name, text, message", [
    ("missing.swc", None, "does not exist"),
    ("cell.txt", "1 1 0 0 0 5 -1\n", "unknown morphology format"),
    ("somaless.swc", SOMALESS, "has no soma"),
    ("garbage.asc", GARBAGE, "garbage.asc"),
])
def test_bad_morphology_files_are_named(tmp_path, config, name, text, message):
    """A missing, unknown, soma-less or unreadable file: exit status 2 and one line naming it."""
    import yaml

    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    config["populations"]["E"]["morphology"] = {"file": name}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    p = subprocess.run([sys.executable, "-m", "lfpk.entry.cli.main", "kernel", "--config", str(tmp_path / "c.yaml"),
                        "--post", "E", "--pre", "I", "--outdir", str(tmp_path / "k")],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    assert name in p.stderr and message in p.stderr, p.stderr
    assert not (tmp_path / "k").exists() or not list((tmp_path / "k").iterdir())
    with pytest.raises(MorphologyError, match=name):
        FileMorphology("E", path)


def test_spike_detection_at_the_soma_centre(tmp_path):
    """A hoc cell whose soma is three sections created after the dendrites: the soma centre is
    the middle soma section's centre, whatever the section order."""
    hoc = tmp_path / "late_soma.hoc"
    hoc.write_text(textwrap.dedent("""
        create dend[2], soma[3]
        dend[0] { pt3dclear() pt3dadd(0, 0, -15, 2) pt3dadd(0, 0, -215, 2) }
        dend[1] { pt3dclear() pt3dadd(0, 0, 15, 2) pt3dadd(0, 0, 415, 2) }
        soma[0] { pt3dclear() pt3dadd(0, 0, -15, 20) pt3dadd(0, 0, -5, 20) }
        soma[1] { pt3dclear() pt3dadd(0, 0, -5, 20) pt3dadd(0, 0, 5, 20) }
        soma[2] { pt3dclear() pt3dadd(0, 0, 5, 20) pt3dadd(0, 0, 15, 20) }
        connect soma[1](0), soma[0](1)
        connect soma[2](0), soma[1](1)
        connect dend[0](0), soma[0](0)
        connect dend[1](0), soma[2](1)
    """))
    m = FileMorphology("X", hoc)
    seg = m.segments()
    assert seg["section"][m.soma_index] == "soma[1]"
    assert seg["group"][0] == "dend" and m.soma_index > 0
    np.testing.assert_allclose([seg[k][m.soma_index].mean() for k in "xyz"], 0.0, atol=1e-12)
    cell = m.build(prefix="late")
    assert cell.soma.sec.name() == "late.soma[1]" and cell.soma.x == 0.5
    assert seg["path_distance"][m.soma_index] == 0.0


def test_l23e_kernels_match_lfpy_and_lfpykit(config, mechanisms):
    """Kernels (LFP, CSD, dipole) of LFPy's L23E_p23.hoc (rotated) against LFPy.Cell, LFPy synapses
    and LFPykit / quadrature probes in a fresh interpreter: within 1 % of the peak."""
    from lfpk.engines.kernel import KernelEngine, reference

    config["populations"]["E"]["morphology"] = {"file": str(lfpy_hoc())}
    config["populations"]["E"]["rotation"] = {"x": 0.3, "y": -0.2}
    cfg = validate_config(config)
    rates = cfg["kernel"]["rates"]
    errors = {}
    for biophysics in ("frozen", "passive"):
        eng = KernelEngine.from_config(cfg, biophysics=biophysics)
        for pre in ("E", "I"):
            k = eng.kernel("E", pre, -65.0, rates=rates)
            ref = reference.run_isolated(reference.inputs(eng, "E", pre, -65.0, rates))
            n = int(ref["lfp"].shape[1])
            assert int(ref["n_segments"]) == eng.cell("E").n_segments
            for sig in ("lfp", "csd", "cdm"):
                ours = k[sig][:, -n:]
                errors[(biophysics, pre, sig)] = np.abs(ours - ref[sig]).max() / np.abs(ref[sig]).max()
    worst = max(errors.values())
    print(f"\nL23E_p23.hoc kernels vs LFPy/LFPykit: max error {worst:.2e} of the peak")
    assert worst <= 1e-2, errors


def test_lfpy_deleting_sections_is_caught(tmp_path):
    """LFPy.Cell (delete_sections=True) deletes the kernel engine's sections: the engine says so
    instead of crashing NEURON."""
    code = textwrap.dedent(f"""
        import sys, LFPy
        from lfpk.api.config import load_config
        from lfpk.engines.kernel import KernelEngine, KernelError
        from lfpk.base.mechanisms import ensure_loaded
        ensure_loaded()
        cfg = load_config({str(Path(__file__).resolve().parents[1] / 'config' / 'config.yaml')!r})
        eng = KernelEngine.from_config(cfg)
        eng.kernel("E", "I", -65.0, rates=cfg["kernel"]["rates"])
        LFPy.Cell(morphology={str(lfpy_hoc())!r})
        try:
            eng.kernel("E", "I", -65.0, rates=cfg["kernel"]["rates"])
        except KernelError as exc:
            print("caught:", exc)
            sys.exit(0)
        sys.exit(3)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert "delete_sections" in p.stdout


def test_probe_quadrature_order_is_chosen_and_reported(config, mechanisms, tmp_path):
    """probes.models without an order: refined until two orders agree to the tolerance; the
    chosen order and the estimate are in the kernel file, and a finer order agrees."""
    from lfpk.base.io import read_dataset
    from lfpk.model import from_config
    from lfpk.model.probes import PopulationAveragedModel, probes_from_config
    from lfpk.study.stages import write_kernels

    cz = np.array(config["probes"]["channel_z"])
    config["probes"]["models"] = {"lcsd": {
        "model": "LaminarCurrentSourceDensity",
        "kwargs": {"z": np.column_stack([cz - 50.0, cz + 50.0]).tolist(), "r": [150.0] * len(cz)},
        "tolerance": 0.02}}
    cfg = validate_config(config)
    write_kernels(cfg, [("I", "E")], [tmp_path / "I_E.nc"])
    ds = read_dataset(tmp_path / "I_E.nc")
    attrs = ds["lcsd"].attrs
    order = json.loads(attrs["quadrature_order"])
    assert attrs["quadrature_converged"] == 1 and attrs["quadrature_error_estimate"] <= 0.02
    assert json.loads(ds.attrs["probe_quadrature"])["lcsd"]["quadrature_order"] == order
    assert order[2] >= 64  # the laminar CSD (discontinuous in depth) needed depth refinement
    geom = from_config(cfg).populations["I"].geometry()
    probe = probes_from_config(cfg, "I")["lcsd"]
    M = probe.get_transformation_matrix(geom)
    finer = PopulationAveragedModel("LaminarCurrentSourceDensity", geom, probe.model_kwargs, R=probe.R,
                                    sigma_z=probe.sigma_z, order=[2 * order[0], order[1], 2 * order[2]]
                                    ).get_transformation_matrix()
    assert np.abs(M - finer).max() / np.abs(finer).max() < 2 * 0.02
    np.testing.assert_allclose(ds["lcsd"].values, M @ ds["transmembrane_current"].values,
                               atol=1e-9 * np.abs(ds["lcsd"].values).max())


def test_random_rotation_averages_the_dipole(config, mechanisms):
    from lfpk.engines.kernel import KernelEngine
    from lfpk.model.connectivity import place_cells

    config["populations"]["E"]["morphology"] = {"file": str(lfpy_hoc())}
    config["populations"]["E"]["rotation"] = {"x": 0.3, "random_z": True}
    cfg = validate_config(config)
    k = KernelEngine.from_config(cfg).kernel("E", "I", -65.0, rates=cfg["kernel"]["rates"])
    assert np.all(k["cdm"][:2] == 0) and np.abs(k["cdm"][2]).max() > 0
    a = place_cells(cfg, {"E": 20, "I": 4})
    b = place_cells(cfg, {"E": 30, "I": 4})
    assert np.all((a.angles[:20] >= 0) & (a.angles[:20] < 2 * np.pi)) and np.ptp(a.angles[:20]) > 1.0
    np.testing.assert_array_equal(a.angles[:20], b.angles[:20])  # per gid, whatever the size
    assert np.all(a.angles[20:] == 0)  # the I population is not rotated


USER_LEAK = """
NEURON {
    SUFFIX UserLeak
    NONSPECIFIC_CURRENT i
    RANGE g, e
}
UNITS { (mA) = (milliamp) (mV) = (millivolt) (S) = (siemens) }
PARAMETER { g = 0 (S/cm2) e = -70 (mV) }
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT { i = g * (v - e) }
"""


def test_user_mechanism_from_extra_dirs(config, tmp_path):
    """A user's mod folder (mechanisms.extra_dirs, relative to the config) is compiled with the
    package's, inserted by the biophysics block, and frozen by the generic linearisation."""
    import os

    import yaml

    from lfpk.base.io import read_dataset

    (tmp_path / "usermod").mkdir()
    (tmp_path / "usermod" / "UserLeak.mod").write_text(USER_LEAK)
    config["mechanisms"] = {"extra_dirs": ["usermod"]}
    config["populations"]["I"]["biophysics"] = copy.deepcopy(config["biophysics"])
    config["populations"]["I"]["biophysics"]["groups"]["soma"]["mechanisms"]["UserLeak"] = {"g": 2e-3, "e": -20.0}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    env = dict(os.environ, LFPK_BUILD_DIR=str(tmp_path / "build"))
    common = [sys.executable, "-m", "lfpk.entry.cli.main", "kernel", "--config", str(tmp_path / "c.yaml"), "--post", "I",
              "--pre", "E", "--biophysics", "frozen"]
    p = subprocess.run([*common, "--output", str(tmp_path / "with.nc")], capture_output=True, text=True,
                       timeout=900, cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert json.loads((tmp_path / "build" / "lfpk-mechanisms.json").read_text())["extra_dirs"] == [
        str(tmp_path / "usermod")]
    del config["populations"]["I"]["biophysics"]["groups"]["soma"]["mechanisms"]["UserLeak"]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    p = subprocess.run([*common, "--output", str(tmp_path / "without.nc")], capture_output=True, text=True,
                       timeout=900, cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    # the frozen cell of the kernel is a leak; g_eff is stored, the frozen leak is not: compare the
    # kernels' somatic response instead -- a 2 mS/cm2 extra leak on the soma changes it
    a, b = read_dataset(tmp_path / "with.nc"), read_dataset(tmp_path / "without.nc")
    assert not np.allclose(a["transmembrane_current"].values, b["transmembrane_current"].values)
    # a mechanism the config names but no folder provides: one line naming it
    config["populations"]["I"]["biophysics"]["groups"]["soma"]["mechanisms"]["Missing"] = {"g": 1.0}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    p = subprocess.run([*common, "--output", str(tmp_path / "missing.nc")], capture_output=True, text=True,
                       timeout=900, cwd=tmp_path, env=env)
    assert p.returncode == 2 and "mechanism 'Missing' is not loaded" in p.stderr, p.stderr[-2000:]


def test_worked_example(tmp_path):
    """docs/examples/own_cell.yaml with the made-up cell: validates, segments, gives a kernel."""
    import yaml

    src = Path(__file__).resolve().parents[1] / "docs" / "examples" / "own_cell.yaml"
    cfg = yaml.safe_load(src.read_text())
    cfg["extends"] = str(src.parents[2] / "config" / "config.yaml")
    (tmp_path / "own_cell.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    synthetic.write(tmp_path / "pyramidal.swc")
    run = [sys.executable, "-m", "lfpk.entry.cli.main"]
    for args in (["validate-config", "own_cell.yaml"],
                 ["morphology", "--config", "own_cell.yaml", "--outdir", "m", "--population", "E"],
                 ["kernel", "--config", "own_cell.yaml", "--post", "E", "--pre", "I", "--biophysics",
                  "quasi_linear", "--output", "E_I.nc"]):
        p = subprocess.run(run + args, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert p.returncode == 0, (args, p.stdout[-2000:], p.stderr[-2000:])
    from lfpk.base.io import read_dataset

    ds = read_dataset(tmp_path / "E_I.nc")
    assert json.loads(ds.attrs["quasi_linear"]) == {"Ih": "QuasiIh", "Nap_Et2": "QuasiNap_Et2"}
    m = read_dataset(tmp_path / "m" / "E.nc")
    assert m.sizes["segment"] > 800  # cm = 2 in the dendrites: more segments than with cm = 1
