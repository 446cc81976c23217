"""Morphology stage: segment table against the geometry, the d_lambda rule and NEURON/LFPy."""

import numpy as np
import pytest

from lfpk.api.config import load_config
from lfpk.model import morphologies as from_config
from lfpk.model.morphology import SECTIONS, BallAndStick, d_lambda_nseg


@pytest.fixture(scope="module")
def morphs(repo):
    return from_config(load_config(repo / "config" / "config.yaml"))


def test_segment_counts_follow_d_lambda(morphs):
    # NOTES: LFPy's lambda100 gives E soma/dend/apic 1/5/21 and I 1/5/5 segments
    assert [morphs["E"].nseg(s) for s in SECTIONS] == [1, 5, 21]
    assert [morphs["I"].nseg(s) for s in SECTIONS] == [1, 5, 5]
    # the rule: smallest odd n with L/n <= d_lambda * lambda_AC
    for L in (10.0, 100.0, 500.0, 2000.0):
        n = d_lambda_nseg(L, 2.0, 100.0, 1.0, 0.1, 100.0)
        lam = 1e5 * np.sqrt(2.0 / (4 * np.pi * 100.0 * 100.0 * 1.0))
        assert n % 2 == 1
        assert L / n <= 0.1 * lam * 1.0000001 or n == 1
        assert n == 1 or L / (n - 2) > 0.1 * lam


@pytest.mark.parametrize("pop", ["E", "I"])
def test_areas_and_extents_match_cylinders(morphs, pop):
    m = morphs[pop]
    ds = m.segment_table()
    for sec in SECTIONS:
        sel = ds["section"].values == sec
        assert sel.sum() == m.nseg(sec)
        area = ds["area"].values[sel].sum()
        assert area == pytest.approx(np.pi * m.diam[sec] * m.length[sec], rel=1e-12)
        z = ds["z"].values[sel]
        assert np.abs(z[:, 1] - z[:, 0]).sum() == pytest.approx(m.length[sec])
    z = ds["z"].values
    assert z.min() == pytest.approx(-m.length["soma"] / 2 - m.length["dend"])
    assert z.max() == pytest.approx(m.length["soma"] / 2 + m.length["apic"])
    for var in ds.data_vars.values():
        assert "units" in var.attrs and "long_name" in var.attrs


def test_study_areas(morphs):
    # NOTES: E 13508.85 um2, I 3926.99 um2
    assert morphs["E"].segment_table()["area"].sum() == pytest.approx(13508.85, abs=0.01)
    assert morphs["I"].segment_table()["area"].sum() == pytest.approx(3926.99, abs=0.01)


def test_neuron_build_matches_table(morphs):
    m = morphs["E"]
    secs = m.build(prefix="table_check")
    table = m.segment_table()
    areas = np.array([seg.area() for sec in secs.values() for seg in sec])
    np.testing.assert_allclose(areas, table["area"].values, rtol=1e-9)
    xs = np.array([seg.x for sec in secs.values() for seg in sec])
    np.testing.assert_allclose(xs, table["x_norm"].values)


def test_hoc_file_loads_in_lfpy(morphs, tmp_path):
    import LFPy

    from lfpk.study.stages import write_morphology

    m = morphs["I"]
    write_morphology(m, tmp_path / "I.hoc", tmp_path / "I.nc")
    cell = LFPy.Cell(morphology=str(tmp_path / "I.hoc"), nsegs_method=None, delete_sections=True)
    table = m.segment_table()
    assert cell.totnsegs == table.sizes["segment"]
    np.testing.assert_allclose(cell.area, table["area"].values, rtol=1e-9)
    np.testing.assert_allclose(cell.z, table["z"].values, atol=1e-9)
    cell.__del__()


def test_netcdf_round_trip(morphs, tmp_path):
    from lfpk.base.io import read_dataset
    from lfpk.study.stages import write_morphology

    write_morphology(morphs["E"], tmp_path / "E.hoc", tmp_path / "E.nc")
    ds = read_dataset(tmp_path / "E.nc")
    ref = morphs["E"].segment_table()
    np.testing.assert_array_equal(ds["z"].values, ref["z"].values)
    assert list(ds["section"].values.astype(str)) == list(ref["section"].values)
    assert ds["area"].attrs["units"] == "um2"
    assert ds.attrs["population"] == "E"
    assert not list(tmp_path.glob(".*.tmp")), "temporary file left behind"


def test_from_config_rejects_unknown_section(morphs):
    with pytest.raises(KeyError, match="axon"):
        morphs["E"].section_ends("axon")


def test_hoc_written_from_a_file_morphology_loads_in_neuron_and_lfpy(tmp_path):
    """Issue 22: every .hoc written from a file morphology held ``pt3dadd(np.float64(0.0), ...)``,
    which NEURON cannot load. The written file loads in NEURON (h.load_file) and in LFPy.Cell, and
    its 3-d points are the source's (soma centred; NEURON stores them in single precision)."""
    import subprocess
    import sys
    import textwrap

    from lfpk.model.morphology import FileMorphology, synthetic
    from lfpk.model.morphology.imported import read_sections
    from lfpk.study.stages import write_morphology

    source = synthetic.write(tmp_path / "cell.swc", seed=3)
    m = FileMorphology("E", source)
    write_morphology(m, tmp_path / "E.hoc", tmp_path / "E.nc")
    text = (tmp_path / "E.hoc").read_text()
    assert "np." not in text and "float64" not in text
    out = tmp_path / "loaded.npz"
    code = textwrap.dedent(f"""
        import numpy as np
        from neuron import h
        assert h.load_file(1, {str(tmp_path / "E.hoc")!r}) == 1
        secs = list(h.allsec())
        pts = {{sec.name(): np.array([[sec.x3d(i), sec.y3d(i), sec.z3d(i), sec.diam3d(i)]
                                     for i in range(int(sec.n3d()))]) for sec in secs}}
        nseg = {{sec.name(): sec.nseg for sec in secs}}
        for sec in secs:
            h.delete_section(sec=sec)
        import LFPy
        cell = LFPy.Cell(morphology={str(tmp_path / "E.hoc")!r}, nsegs_method=None, delete_sections=True)
        np.savez({str(out)!r}, names=list(pts), nseg=[nseg[k] for k in pts], x=cell.x, y=cell.y, z=cell.z,
                 area=cell.area, **{{f"pts_{{k}}": v for k, v in pts.items()}})
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    with np.load(out) as f:
        loaded = {k: f[k] for k in f.files}
    # the 3-d points of every section are the source's, moved by the soma centre
    centre = m.segment_table().attrs["soma_centre_in_file"]
    centre = np.array([float(v) for v in centre.strip("[]").split(",")])
    src = {s.name: s.points for s in read_sections(source)}
    names = [str(n) for n in loaded["names"]]
    assert len(names) == len(src) > 100
    for name in names:
        expected = src[name if name in src else name.replace("[0]", "")].copy()
        expected[:, :3] -= centre
        np.testing.assert_allclose(loaded[f"pts_{name}"], expected, rtol=1e-6, atol=1e-4, err_msg=name)
    assert sum(loaded["nseg"]) == len(m.segments()["area"])
    # and LFPy's cell from the written file is the segment table
    seg = m.segments()
    for k in ("x", "y", "z"):
        np.testing.assert_allclose(loaded[k], seg[k], rtol=0, atol=1e-4)
    np.testing.assert_allclose(loaded["area"], seg["area"], rtol=1e-5)


def test_morphology_command_checks_every_output_before_writing(repo, tmp_path):
    """Issue 22: `lfpk morphology --figure new/f.png --outdir new` said the folder does not exist
    (the command creates --outdir), and a read-only figure folder failed only after the
    morphologies were written. Every output (hoc, nc, figure) is checked before any work."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    lfpk = [str(Path(sys.executable).parent / "lfpk"), "morphology", "--config", str(repo / "config" / "config.yaml")]
    run = subprocess.run([*lfpk, "--outdir", "new", "--figure", "new/f.png"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["E.hoc", "E.nc", "I.hoc", "I.nc", "f.png"]
    # a figure folder that does not exist (and is not --outdir): refused, --outdir not even created
    run = subprocess.run([*lfpk, "--outdir", "out", "--figure", "nowhere/f.png"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "output folder nowhere does not exist (for nowhere/f.png)" in run.stderr
    assert not (tmp_path / "out").exists()
    # a read-only figure folder (as `nobody` when run as root: root writes into read-only folders)
    prefix = []
    if os.geteuid() == 0:
        assert shutil.which("setpriv"), "needs setpriv to drop root's privileges"
        prefix = [shutil.which("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups"]
    shared = Path(tempfile.mkdtemp(prefix="lfpk-morphology-"))
    try:
        (shared / "ro").mkdir()
        os.chmod(shared / "ro", 0o555)
        os.chmod(shared, 0o777)
        run = subprocess.run([*prefix, *lfpk, "--outdir", "cells", "--figure", "ro/f.png"], cwd=shared,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 2 and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, run.stderr
        assert "lfpk morphology: error: cannot write ro/f.png: permission denied (folder ro)" in run.stderr
        assert sorted(p.name for p in shared.iterdir()) == ["ro"]  # no morphology written, no --outdir made
    finally:
        shutil.rmtree(shared)
