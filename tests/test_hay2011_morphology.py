"""The morphology and distribution rules of Hay et al.'s (2011) template as lfpk options: the length
segmentation rule, the axon stub, the template's `for (x)` distance points and relative distances,
and morphology files fetched from a public source with a pinned sha256.

References are independent: LFPy.TemplateCell with a cell template (written here) that does what
the published template does (Import3d, nseg = 1 + 2 int(L/40), axon deleted and replaced by a
stub, in a fresh interpreter), and NEURON's own `for (x)` loop and `distance()`.
"""

from __future__ import annotations

import hashlib
import http.server
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml
from threepop import lfpy_hoc

from lfpk.model.morphology import BallAndStick, FileMorphology, MorphologyError, length_nseg, synthetic
from lfpk.model.morphology.fetch import FetchError, Source, fetch, sha256_of

REPO = Path(__file__).resolve().parents[1]
STUB = {"length": [30.0, 30.0], "diam": 1.0}
ROTATION = {"x": 4.729, "y": -3.166}


@pytest.fixture(scope="module")
def asc(tmp_path_factory):
    """The made-up pyramidal cell (with an axon) as Neurolucida ASC."""
    return synthetic.write(tmp_path_factory.mktemp("hay_morph") / "cell.asc", seed=5)


# a cell template doing what Hay et al.'s L5PCtemplate does to a morphology (written for this test)
TEMPLATE = """
begintemplate StubTemplate
public init, soma, dend, apic, axon, all, somatic, basal, apical, axonal
objref all, somatic, basal, apical, axonal, this
create soma[1], dend[1], apic[1], axon[1]
proc init() {localobj reader, gui
    all = new SectionList() somatic = new SectionList() basal = new SectionList()
    apical = new SectionList() axonal = new SectionList()
    forall delete_section()
    reader = new Import3d_Neurolucida3()
    reader.quiet = 1
    reader.input($s1)
    gui = new Import3d_GUI(reader, 0)
    gui.instantiate(this)
    forsec all { nseg = 1 + 2*int(L/40) }
    forsec axonal { delete_section() }
    create axon[2]
    axon[0] { L = 30 diam = 1 nseg = 1 all.append() axonal.append() }
    axon[1] { L = 30 diam = 1 nseg = 1 all.append() axonal.append() }
    connect axon[0](0), soma(0.5)
    connect axon[1](0), axon[0](1)
}
endtemplate StubTemplate
"""


def _lfpy_template_geometry(path, tmp):
    tmpl = Path(tmp) / "stub_template.hoc"
    tmpl.write_text(TEMPLATE)
    out = Path(tmp) / "geometry.npz"
    code = textwrap.dedent(f"""
        import numpy as np, LFPy
        from neuron import h
        h.load_file("import3d.hoc")
        cell = LFPy.TemplateCell(morphology={str(path)!r}, templatefile={str(tmpl)!r}, templatename="StubTemplate",
                                 templateargs={str(path)!r}, nsegs_method=None, delete_sections=False)
        cell.set_rotation(**{ROTATION!r})
        cell.set_pos(0.0, 0.0, 0.0)
        names = [sec.name().split(".")[-1] for sec in cell.allseclist for _ in range(sec.nseg)]
        np.savez({str(out)!r}, x=cell.x, y=cell.y, z=cell.z, area=cell.area, d=cell.d, names=np.array(names))
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    with np.load(out) as f:
        return {k: f[k] for k in f.files}


def test_template_morphology_matches_lfpy_template_cell(asc, tmp_path):
    """Length rule, axon stub and rotation: lfpk's segment table equals LFPy.TemplateCell's with a
    template doing what Hay et al.'s does (coordinates to 1e-9 um, areas to 1e-12)."""
    m = FileMorphology("E", asc, segment_length=40.0, axon_stub=STUB, rotation=ROTATION)
    seg = m.segments()
    ref = _lfpy_template_geometry(asc, tmp_path)
    np.testing.assert_array_equal(np.asarray(seg["section"]).astype(str), ref["names"])
    for k in "xyz":
        np.testing.assert_allclose(seg[k], ref[k], rtol=0, atol=1e-9)
    np.testing.assert_allclose(seg["area"], ref["area"], rtol=1e-12)
    np.testing.assert_allclose(seg["diam"], ref["d"], rtol=1e-12)
    # the stub: two 30 um, 1 um sections, the first attached at the middle of the soma
    axon = np.asarray(seg["group"]).astype(str) == "axon"
    assert sorted(set(np.asarray(seg["section"])[axon])) == ["axon[0]", "axon[1]"]
    np.testing.assert_allclose(seg["length"][axon], 30.0)
    np.testing.assert_allclose(seg["diam"][axon], 1.0)
    np.testing.assert_allclose(seg["path_distance"][axon], [15.0, 45.0])  # from the soma centre
    # the file's own axon had more
    plain = FileMorphology("E", asc, segment_length=40.0)
    assert (np.asarray(plain.segments()["group"]).astype(str) == "axon").sum() > 2
    assert "axon_stub" in m.segment_table().attrs and m.segment_table().attrs["segmentation"] == "length"


def test_length_rule(asc):
    """nseg = 1 + 2 int(L / length) for every section (file and ball-and-stick), odd."""
    from neuron import h

    m = FileMorphology("E", lfpy_hoc(), segment_length=40.0)
    cell = m.build(prefix="lenrule")
    try:
        for sec in cell.values():
            assert sec.nseg == 1 + 2 * int(sec.L / 40.0) == m.nseg(sec.name().split(".")[-1])
    finally:
        for sec in cell.values():
            h.delete_section(sec=sec)
    assert [length_nseg(L, 40.0) for L in (0.5, 39.999, 40.0, 79.9, 80.0, 200.0)] == [1, 1, 3, 3, 5, 11]
    bs = BallAndStick("E", {"soma": 30.0, "dend": 200.0, "apic": 1000.0}, {"soma": 30.0, "dend": 2.0, "apic": 3.0},
                      segment_length=40.0)
    assert [bs.nseg(s) for s in ("soma", "dend", "apic")] == [1, 11, 51]


def _hoc_for_x_values(morph, fn_hoc, group_prefix):
    """Values a hoc `for (x)` loop assigns (NEURON's semantics), distances from the soma centre."""
    from neuron import h

    cell = morph.build(prefix="forx")
    try:
        for sec in cell.values():
            sec.insert("pas")
        soma = cell.soma
        h.distance(0, soma)  # origin at the soma centre segment
        for sec in cell.values():
            if not sec.name().split(".")[-1].startswith(group_prefix):
                continue
            sec.push()
            h(f"for (x) {{ g_pas(x) = {fn_hoc} }}")
            h.pop_section()
        return np.array([seg.pas.g for seg in cell.segments])
    finally:
        for sec in cell.values():
            h.delete_section(sec=sec)


def test_hoc_for_x_distance_points_and_relative_distance(asc):
    """distance_points: hoc_for_x gives each segment the value NEURON's `for (x)` loop assigns (the
    last segment of a section at its far end); normalise divides by the path distance of the
    group's farthest tip, as the template's getLongestBranch."""
    from neuron import h

    from lfpk.model.biophysics import Biophysics

    m = FileMorphology("E", asc, segment_length=40.0, axon_stub=STUB)
    seg = m.segments()
    apic = np.asarray(seg["group"]).astype(str) == "apic"
    # farthest apical tip, measured in NEURON
    cell = m.build(prefix="tips")
    try:
        h.distance(0, cell.soma)
        tips = [h.distance(sec(1)) for sec in cell.values() if sec.name().split(".")[-1].startswith("apic")
                and h.SectionRef(sec=sec).nchild() == 0]
    finally:
        for sec in cell.values():
            h.delete_section(sec=sec)
    d_max = max(tips)
    block = {"distance_points": "hoc_for_x", "groups": {
        "all": {"mechanisms": {"pas": {"g": 1e-5}}},
        "apic": {"mechanisms": {"pas": {"g": {"function": "exponential", "a": -0.8696, "b": 2.087, "c": 3.6161,
                                              "normalise": True, "scale": 2e-4}}}}}}
    got = Biophysics.from_config(block).evaluate(seg).parameters[("pas", "g")]
    hoc = _hoc_for_x_values(m, f"2e-4*(-0.8696 + 2.087*exp(3.6161*distance(x)/{d_max!r}))", "apic")
    # NEURON keeps 3-d points in single precision: path lengths of the built cell differ from the
    # table's (double precision) by ~1e-4 um, i.e. 1e-7 of the values here
    np.testing.assert_allclose(got[apic], hoc[apic], rtol=1e-6)
    # with the default (centres) only the last segment of each section differs
    centres = Biophysics.from_config({**block, "distance_points": "centres"}).evaluate(seg).parameters[("pas", "g")]
    names = np.asarray(seg["section"]).astype(str)
    last = np.r_[names[1:] != names[:-1], True]
    np.testing.assert_array_equal(centres[apic & ~last], got[apic & ~last])
    assert np.all(got[apic & last] > centres[apic & last])  # the gradient rises along the section
    # a window (Hay's Ca hot zone) evaluated the same way
    block["groups"]["apic"]["mechanisms"]["pas"]["g"] = {"function": "window", "start": 300.0, "stop": 500.0,
                                                          "inside": 1e-3, "outside": 1e-5}
    got = Biophysics.from_config(block).evaluate(seg).parameters[("pas", "g")]
    hoc = _hoc_for_x_values(m, "1e-3*(distance(x) >= 300 && distance(x) <= 500) + "
                               "1e-5*(distance(x) < 300 || distance(x) > 500)", "apic")
    np.testing.assert_array_equal(got[apic], hoc[apic])
    assert (got[apic] == 1e-3).sum() > 2


# --------------------------------------------------------------------------------------------
# Fetching a morphology with a pinned sha256
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def served(asc, tmp_path):
    """The ASC file served over HTTP by a local server: (url, sha256)."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "cell1.asc").write_bytes(Path(asc).read_bytes())

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cell1.asc", sha256_of(asc)
    server.shutdown()
    server.server_close()


def test_fetch_downloads_verifies_and_never_overwrites(served, tmp_path):
    url, digest = served
    dest = tmp_path / "resources" / "hay2011" / "cell1.asc"
    src = Source("E", str(dest), url, digest)
    assert fetch(src) == dest and sha256_of(dest) == digest
    assert [p.name for p in dest.parent.iterdir()] == ["cell1.asc"]  # no temporary left
    # an existing file is verified, not downloaded again or replaced
    dest.write_bytes(dest.read_bytes() + b"\n")
    with pytest.raises(FetchError, match=r"populations\.E\.morphology\.sha256: .* has sha256 .*expected " + digest):
        fetch(src)
    dest.unlink()
    # content with another digest is not stored
    bad = Source("E", str(dest), url, "0" * 64)
    with pytest.raises(FetchError, match=r"delivered content with sha256 " + digest + r", expected 0{64}"):
        fetch(bad)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_fetch_without_network_says_what_to_download_and_where(tmp_path):
    """An unreachable address: one message naming the url, the file to create and its digest."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    dest = tmp_path / "cell1.asc"
    url = f"http://127.0.0.1:{port}/cell1.asc"
    with pytest.raises(FetchError) as err:
        fetch(Source("E", str(dest), url, "a" * 64), timeout=5)
    msg = str(err.value)
    assert f"cannot download {url}" in msg and f"save it as {dest}" in msg and "sha256 " + "a" * 64 in msg
    assert not dest.exists() and list(tmp_path.iterdir()) == []


def _hay_like_config(tmp_path, file, url=None, sha256=None):
    """config/hay2011_laptop.yaml with the E morphology pointing at ``file`` (and url, sha256)."""
    from lfpk.api.config import read_config_file

    cfg = read_config_file(REPO / "config" / "hay2011_laptop.yaml")
    morph = cfg["populations"]["E"]["morphology"]
    morph["file"] = str(file)
    for key, value in (("url", url), ("sha256", sha256)):
        if value is None:
            morph.pop(key, None)
        else:
            morph[key] = value
    path = tmp_path / "hay.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def test_cli_fetch_and_pinned_digest(served, asc, tmp_path):
    """`lfpk fetch` stores the file; a cell built from a file with another digest is refused,
    naming both digests; a missing file with a url says how to fetch it (exit status 2, one line)."""
    url, digest = served
    dest = tmp_path / "res" / "cell1.asc"
    cfg = _hay_like_config(tmp_path, dest, url, digest)
    lfpk = [sys.executable, "-m", "lfpk"]
    p = subprocess.run([*lfpk, "fetch", "--config", str(cfg)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert f"E: {dest} (sha256 {digest} verified)" in p.stdout and sha256_of(dest) == digest
    dest.write_text(dest.read_text().replace("Apical", "Apical ", 1))
    p = subprocess.run([*lfpk, "morphology", "--config", str(cfg), "--population", "E", "--outdir", str(tmp_path / "m")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert f"populations.E.morphology.sha256: {dest} has sha256 {sha256_of(dest)}, expected {digest}" in p.stderr
    dest.unlink()
    p = subprocess.run([*lfpk, "morphology", "--config", str(cfg), "--population", "E", "--outdir", str(tmp_path / "m")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "does not exist: fetch it with `lfpk fetch" in p.stderr and url in p.stderr
    with pytest.raises(MorphologyError, match="does not exist: fetch it"):
        FileMorphology("E", dest, url=url, sha256=digest, what="populations.E.morphology.file")


def test_workflow_fetches_missing_morphologies_first(served, tmp_path):
    """The workflow's first job for a study whose morphology is missing is fetch_morphologies;
    with the file in place there is none."""
    from tinystudy import dry_run_jobs, isolated_workdir

    url, digest = served
    dest = tmp_path / "res" / "cell1.asc"
    cfg = _hay_like_config(tmp_path, dest, url, digest)
    wd = isolated_workdir(tmp_path / "wd")
    jobs = dry_run_jobs("--configfile", cfg, "--cores", "1", workdir=wd)
    fetches = [out for rule, out in jobs if rule == "fetch_morphologies"]
    assert fetches == [str(dest)]
    assert any(rule == "cell_check" for rule, _ in jobs)
    fetch(Source("E", str(dest), url, digest))
    assert "fetch_morphologies" not in [rule for rule, _ in dry_run_jobs("--configfile", cfg, "--cores", "1", workdir=wd)]


def test_the_pinned_source_of_the_hay_config(monkeypatch):
    """config/hay2011.yaml pins the Hay et al. morphology (ModelDB 139653) by an immutable address
    (a commit, not a branch) and its sha256, and cites it."""
    from lfpk.api.config import load_config

    monkeypatch.setenv("LFPK_RANKS_PER_NODE", "8")  # its 64 ranks are a cluster's, not this machine's
    cfg = load_config(REPO / "config" / "hay2011.yaml")
    morph = cfg["populations"]["E"]["morphology"]
    assert morph["url"].startswith("https://raw.githubusercontent.com/OpenSourceBrain/L5bPyrCellHayEtAl2011/")
    commit = morph["url"].split("/")[5]
    assert len(commit) == 40 and all(c in "0123456789abcdef" for c in commit)
    assert len(morph["sha256"]) == 64 and "139653" in morph["citation"]
    assert Path(morph["file"]).resolve().parent == REPO / "resources" / "hay2011"
    assert hashlib.sha256(b"").hexdigest() != morph["sha256"]
