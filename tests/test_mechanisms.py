"""Mechanism build and the current-based synapse Exp2SynI against its analytic time course."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lfpk.base import mechanisms as mech


def _peak(tau1, tau2):
    t_peak = tau1 * tau2 / (tau2 - tau1) * np.log(tau2 / tau1)
    factor = 1.0 / (np.exp(-t_peak / tau2) - np.exp(-t_peak / tau1))
    return t_peak, factor


EXTRA_MOD = """NEURON {
    SUFFIX lfpkextra
    RANGE gbar
}
PARAMETER { gbar = 0.25 (S/cm2) }
"""


def _exp2syni_only(folder, repo):
    """A mod folder with just Exp2SynI (compiles in a few seconds)."""
    folder.mkdir(parents=True)
    (folder / "exp2syni.mod").write_text((repo / "lfpk" / "mod" / "exp2syni.mod").read_text())
    return folder


def _extra(folder, name="extra.mod", text=EXTRA_MOD):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


def test_sentinel_tracks_sources(mechanisms, repo):
    from conftest import BUILD

    info = json.loads((BUILD / mech.SENTINEL).read_text())
    assert mech.PACKAGE_MOD_DIR == repo / "lfpk" / "mod"
    assert info["digest"] == mech.mod_digest()
    assert info["neuron"] == mech.neuron_version() != "unknown"
    assert info["extra_dirs"] == []
    assert "exp2syni.mod" in info["mod_files"]
    assert mech.is_current(build_dir=BUILD)
    assert mech.loaded_library() == BUILD / info["library"]
    # nothing asked explicitly: the loaded library is reused, whatever the default folder is
    assert mech.load() == mech.loaded_library()


def test_load_reports_missing_and_stale_builds(tmp_path, repo):
    mod = _exp2syni_only(tmp_path / "mod", repo)
    build = tmp_path / "build"
    with pytest.raises(mech.MechanismsError, match="lfpk mechanisms --build-dir"):
        mech.load(mod, build)
    mech.compile_mechanisms(mod, build)
    assert mech.is_current(mod, build)
    (mod / "exp2syni.mod").write_text((mod / "exp2syni.mod").read_text() + "\n: edited\n")
    assert not mech.is_current(mod, build)
    with pytest.raises(mech.MechanismsError, match="stale"):
        mech.load(mod, build)


def test_compile_failure_leaves_previous_build(tmp_path, repo):
    mod = tmp_path / "mod"
    mod.mkdir()
    (mod / "broken.mod").write_text("NEURON { SUFFIX broken }\nBREAKPOINT { this is not nmodl }\n")
    build = tmp_path / "build"
    with pytest.raises(mech.MechanismsError, match="nrnivmodl failed"):
        mech.compile_mechanisms(mod, build)
    assert not build.exists()
    assert not list(tmp_path.glob(".build.*tmp*")), "temporary build folder left behind"
    # a good build survives a failing recompile whole
    good = _exp2syni_only(tmp_path / "good", repo)
    mech.compile_mechanisms(good, build)
    before = sorted(p.relative_to(build) for p in build.rglob("*"))
    with pytest.raises(mech.MechanismsError, match="nrnivmodl failed"):
        mech.compile_mechanisms(mod, build)
    assert sorted(p.relative_to(build) for p in build.rglob("*")) == before
    assert mech.is_current(good, build)


def test_build_dir_with_unrelated_files_is_never_replaced(tmp_path, repo, capsys):
    """Issue 9: `lfpk mechanisms --build-dir DIR` deleted DIR with the user's files in it."""
    from lfpk.entry.cli.main import main

    mod = _exp2syni_only(tmp_path / "mod", repo)
    build = tmp_path / "mine"
    (build / "sub").mkdir(parents=True)
    (build / "precious.txt").write_text("thesis")
    (build / "sub" / "data.csv").write_text("1,2")
    assert main(["mechanisms", "--mod-dir", str(mod), "--build-dir", str(build)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"build folder {build} exists and is not an lfpk mechanisms build" in err
    assert "refusing to replace it" in err
    assert (build / "precious.txt").read_text() == "thesis" and (build / "sub" / "data.csv").exists()
    assert sorted(p.name for p in build.iterdir()) == ["precious.txt", "sub"]
    # a file where the folder should be is refused too
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(mech.MechanismsError, match="is not a folder"):
        mech.compile_mechanisms(mod, f)
    assert f.read_text() == "x"
    # an empty folder is fine, and an lfpk build (sentinel) is replaced when its sources change
    empty = tmp_path / "empty"
    empty.mkdir()
    mech.compile_mechanisms(mod, empty)
    assert mech.is_current(mod, empty)
    _extra(mod, "extra.mod")
    assert not mech.is_current(mod, empty)
    mech.compile_mechanisms(mod, empty)
    assert mech.is_current(mod, empty)
    assert json.loads((empty / mech.SENTINEL).read_text())["mod_files"] == ["exp2syni.mod", "extra.mod"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".empty.") and p.is_dir()]
    # Snakemake deletes a rule's declared output (the sentinel) before rerunning it: still ours
    (empty / mech.SENTINEL).unlink()
    mech.compile_mechanisms(mod, empty)
    assert mech.is_current(mod, empty)


def test_someones_own_nrnivmodl_build_is_never_replaced(tmp_path, repo):
    """Issue 22: `lfpk mechanisms --build-dir D` deleted D when it held only an x86_64/ folder
    (someone's own nrnivmodl build): only an empty folder or one carrying lfpk's marker is replaced."""
    mod = _exp2syni_only(tmp_path / "mod", repo)
    own = tmp_path / "own"
    (own / "x86_64").mkdir(parents=True)
    (own / "x86_64" / "libnrnmech.so").write_bytes(b"mine")
    proc = subprocess.run([str(Path(sys.executable).parent / "lfpk"), "mechanisms", "--mod-dir", str(mod),
                           "--build-dir", str(own)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"build folder {own} exists and is not an lfpk mechanisms build" in proc.stderr
    assert (own / "x86_64" / "libnrnmech.so").read_bytes() == b"mine"
    assert sorted(p.name for p in own.rglob("*")) == ["libnrnmech.so", "x86_64"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".own.")]


def test_build_is_readable_by_other_users(tmp_path, repo):
    import stat

    mod = _exp2syni_only(tmp_path / "mod", repo)
    build = tmp_path / "build"
    old = os.umask(0o022)
    try:
        mech.compile_mechanisms(mod, build)
    finally:
        os.umask(old)
    for p in [build, *build.rglob("*")]:
        mode = p.stat().st_mode
        assert mode & stat.S_IROTH, f"{p} not readable by others ({oct(mode)})"
        if p.is_dir():
            assert mode & stat.S_IXOTH, f"{p} not searchable by others ({oct(mode)})"


def test_killed_compile_temporaries_are_cleaned(tmp_path, repo):
    """Issue 9: a killed compile left build/.mechanisms.* behind; the next compile removes it, and
    nothing that is not a build temporary."""
    mod = _exp2syni_only(tmp_path / "mod", repo)
    build = tmp_path / "mechanisms"
    killed = tmp_path / ".mechanisms.tmp-k1ll3d00"  # this version's temporary: carries the marker
    (killed / "mod").mkdir(parents=True)
    (killed / ".lfpk-build-in-progress").touch()
    legacy = tmp_path / ".mechanisms.a1b2c3d4"  # before the marker: mkdtemp name, nrnivmodl output only
    (legacy / "x86_64").mkdir(parents=True)
    (legacy / "x86_64" / "libnrnmech.so").write_bytes(b"\0")
    user = tmp_path / ".mechanisms.notes"  # not ours: kept
    user.mkdir()
    (user / "todo.txt").write_text("keep")
    user2 = tmp_path / ".mechanisms.tmp-mine0000"  # our name pattern but no marker: kept
    user2.mkdir()
    (user2 / "todo.txt").write_text("keep")
    mech.compile_mechanisms(mod, build)
    assert not killed.exists() and not legacy.exists()
    assert (user / "todo.txt").exists() and (user2 / "todo.txt").exists()
    assert mech.is_current(mod, build)


def test_kill_during_compile_then_rerun(tmp_path, repo):
    """A compile killed by SIGKILL mid-way leaves a temporary; the next run cleans it and builds."""
    mod = _exp2syni_only(tmp_path / "mod", repo)
    build = tmp_path / "mechanisms"
    code = ("import sys; from lfpk.base import mechanisms as m; "
            "m.compile_mechanisms(sys.argv[1], sys.argv[2])")
    proc = subprocess.Popen([sys.executable, "-c", code, str(mod), str(build)])
    deadline = time.time() + 60
    while not list(tmp_path.glob(".mechanisms.tmp-*/mod/*.mod")) and time.time() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert not build.exists()
    assert list(tmp_path.glob(".mechanisms.tmp-*")), "no temporary to clean (compile finished too fast?)"
    mech.compile_mechanisms(mod, build)
    assert mech.is_current(mod, build)
    assert not list(tmp_path.glob(".mechanisms.tmp-*"))


def test_per_user_cache_keyed_by_sources(tmp_path, monkeypatch, repo):
    monkeypatch.delenv(mech.ENV_BUILD_DIR, raising=False)
    monkeypatch.setenv(mech.ENV_CACHE_DIR, str(tmp_path / "cache"))
    base = mech.default_build_dir()
    assert base.parent == (tmp_path / "cache" / "mechanisms").resolve()
    assert base.name == mech.build_key() and len(base.name) == 16
    one, two = _extra(tmp_path / "x1", "a.mod"), _extra(tmp_path / "x2", "b.mod",
                                                          EXTRA_MOD.replace("lfpkextra", "lfpkextra2"))
    with_extra = mech.default_build_dir(extra_dirs=[one, two])
    assert with_extra != base and with_extra.parent == base.parent
    assert mech.default_build_dir(extra_dirs=[two, one]) == with_extra  # order does not matter
    monkeypatch.delenv(mech.ENV_CACHE_DIR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mech.default_build_dir().parent == (tmp_path / "xdg" / "lfpk" / "mechanisms").resolve()
    monkeypatch.setenv(mech.ENV_BUILD_DIR, str(tmp_path / "fixed"))
    assert mech.default_build_dir() == (tmp_path / "fixed").resolve()


def test_extra_dirs_rejects_clashes(tmp_path, repo):
    mod = _exp2syni_only(tmp_path / "mod", repo)
    same_file = _extra(tmp_path / "x1", "exp2syni.mod")
    with pytest.raises(mech.MechanismsError, match="also in .*unique .mod file names"):
        mech.mod_files(mod, [same_file])
    same_mech = _extra(tmp_path / "x2", "other.mod", "NEURON { POINT_PROCESS Exp2SynI }\n")
    with pytest.raises(mech.MechanismsError, match="mechanism 'Exp2SynI' is also defined"):
        mech.mod_files(mod, [same_mech])
    with pytest.raises(mech.MechanismsError, match="does not exist"):
        mech.mod_files(mod, [tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(mech.MechanismsError, match="no .mod files"):
        mech.mod_files(mod, [tmp_path / "empty"])
    # a commented-out name is no clash
    ok = _extra(tmp_path / "x3", "ok.mod", ": POINT_PROCESS Exp2SynI\nNEURON { SUFFIX fine }\n")
    assert [f.name for f in mech.mod_files(mod, [ok])] == ["exp2syni.mod", "ok.mod"]


_LOAD_SCRIPT = """
import json, sys
from lfpk.base import mechanisms as m
lib = m.load(mod_dir=sys.argv[1], extra_dirs=sys.argv[2:])
again = m.load()
from neuron import h
sec = h.Section(name="s")
sec.insert("lfpkextra")
syn = h.Exp2SynI(sec(0.5))
out = {"lib": str(lib), "again": str(again), "gbar": sec(0.5).gbar_lfpkextra, "tau2": syn.tau2}
try:
    m.load(mod_dir=sys.argv[1], extra_dirs=[])
    out["second"] = "loaded"
except m.MechanismsError as exc:
    out["second"] = str(exc)
print(json.dumps(out))
"""


def test_extra_dirs_compiled_on_first_use_into_the_cache(tmp_path, repo):
    """First use compiles base + extra folders into the per-user cache (two concurrent first
    uses compile once, under the lock) and loads both mechanism sets into one process."""
    mod = _exp2syni_only(tmp_path / "mod", repo)
    extra = _extra(tmp_path / "extra")
    env = {k: v for k, v in os.environ.items() if k != mech.ENV_BUILD_DIR}
    env[mech.ENV_CACHE_DIR] = str(tmp_path / "cache")
    cmd = [sys.executable, "-c", _LOAD_SCRIPT, str(mod), str(extra)]
    procs = [subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    builds = [p for p in (tmp_path / "cache" / "mechanisms").iterdir() if not p.name.startswith(".")]
    assert [b.name for b in builds] == [mech.build_key(mod, [extra])]
    for r in results:
        assert r["lib"] == r["again"] and r["lib"].startswith(str(builds[0]))
        assert r["gbar"] == 0.25 and r["tau2"] == pytest.approx(1.8)
        assert "already loaded" in r["second"]
    info = json.loads((builds[0] / mech.SENTINEL).read_text())
    assert info["extra_dirs"] == [str(extra.resolve())] and info["mod_files"] == ["exp2syni.mod", "extra.mod"]
    assert not [p for p in builds[0].parent.iterdir() if p.name.startswith(".") and p.is_dir()]
    # the build of a fixed LFPK_BUILD_DIR keeps its extra folders on later loads without them
    env[mech.ENV_BUILD_DIR] = str(builds[0])
    code = "import sys; from lfpk.base import mechanisms as m; print(m.load(mod_dir=sys.argv[1]))"
    out = subprocess.run([sys.executable, "-c", code, str(mod)], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads((builds[0] / mech.SENTINEL).read_text()) == info  # not recompiled without extras


def _run_exp2syni(weight, tau1, tau2, e_pas, t0=2.0, dt=0.0125, tstop=60.0):
    from neuron import h

    h.load_file("stdrun.hoc")
    sec = h.Section(name=f"exp2syni_test_{e_pas}")
    sec.L = sec.diam = 20.0
    sec.insert("pas")
    sec.e_pas = e_pas
    syn = h.Exp2SynI(sec(0.5))
    syn.tau1, syn.tau2 = tau1, tau2
    stim = h.NetStim()
    stim.number, stim.start = 1, t0
    nc = h.NetCon(stim, syn)
    nc.delay, nc.weight[0] = 0.0, weight
    t = h.Vector().record(h._ref_t)
    i = h.Vector().record(syn._ref_i)
    h.dt = dt
    h.finitialize(e_pas)
    h.continuerun(tstop)
    return np.array(t), np.array(i)


def test_exp2syni_matches_analytic_time_course(mechanisms):
    tau1, tau2, w, t0 = 0.2, 1.8, 0.75, 2.0
    t, i = _run_exp2syni(w, tau1, tau2, -65.0, t0=t0)
    current = -i  # inward (depolarising) current is positive for positive weight
    t_peak, factor = _peak(tau1, tau2)
    s = np.clip(t - t0, 0, None)
    analytic = np.where(t >= t0, w * factor * (np.exp(-s / tau2) - np.exp(-s / tau1)), 0.0)
    # peak amplitude equals the weight, at the analytic peak time
    assert current.max() == pytest.approx(w, rel=2e-3)
    assert abs(t[np.argmax(current)] - (t0 + t_peak)) <= 2 * (t[1] - t[0])
    # integral equals weight * integral of the normalised kernel = w * factor * (tau2 - tau1)
    integral = np.trapezoid(current, t)
    assert integral == pytest.approx(w * factor * (tau2 - tau1), rel=2e-3)
    # the whole trace is the closed form (cnexp integrates the exponentials exactly); NEURON's
    # fixed-step recording of a point-process current lags the state update by one step
    lag = min(range(3), key=lambda k: np.max(np.abs(current[k:] - analytic[: len(t) - k])))
    assert lag <= 1
    assert np.max(np.abs(current[lag:] - analytic[: len(t) - lag])) < 1e-6 * w
    assert np.all(current[t < t0 - 1e-9] == 0.0)


def test_exp2syni_is_independent_of_membrane_potential(mechanisms):
    _, i_rest = _run_exp2syni(0.3, 0.1, 9.0, -65.0)
    _, i_depol = _run_exp2syni(0.3, 0.1, 9.0, -20.0)
    np.testing.assert_allclose(i_rest, i_depol, rtol=0, atol=1e-12)
    _, i_double = _run_exp2syni(0.6, 0.1, 9.0, -65.0)
    np.testing.assert_allclose(i_double, 2 * i_rest, rtol=1e-12, atol=1e-15)


def _lfpk_as_user(args, env, cwd=None):
    """Run ``lfpk ARGS`` as a user whom folder permissions bind: this user, or ``nobody`` when
    running as root (root writes into read-only folders); None if that is not possible."""
    prefix = []
    if os.geteuid() == 0:
        import shutil

        setpriv = shutil.which("setpriv")
        if setpriv is None:
            return None
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run([*prefix, str(Path(sys.executable).parent / "lfpk"), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_unwritable_cache_names_the_variable_and_the_way_out(tmp_path):
    """Issue 22: an unwritable cache said "cannot create .../mechanisms" without naming
    LFPK_CACHE_DIR; a build folder from LFPK_BUILD_DIR names that variable."""
    import tempfile

    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    env = {k: v for k, v in os.environ.items() if k != mech.ENV_BUILD_DIR}
    lfpk = str(Path(sys.executable).parent / "lfpk")
    # a cache under a regular file: fails for every user, root included
    proc = subprocess.run([lfpk, "mechanisms"], env=dict(env, LFPK_CACHE_DIR=str(blocker / "cache")),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"LFPK_CACHE_DIR={blocker / 'cache'}" in proc.stderr
    assert "set LFPK_CACHE_DIR to a writable folder, or LFPK_BUILD_DIR to a build folder" in proc.stderr
    # the same for LFPK_BUILD_DIR
    proc = subprocess.run([lfpk, "mechanisms"], env=dict(env, LFPK_BUILD_DIR=str(blocker / "build")),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"LFPK_BUILD_DIR={blocker / 'build'}; set LFPK_BUILD_DIR to a writable folder" in proc.stderr
    assert blocker.read_text() == "not a folder"
    # a read-only cache folder (a folder every user can reach, so that `nobody` gets to it)
    shared = Path(tempfile.mkdtemp(prefix="lfpk-ro-cache-"))
    try:
        os.chmod(shared, 0o555)
        proc = _lfpk_as_user(["mechanisms"], dict(env, LFPK_CACHE_DIR=str(shared / "cache")), cwd=shared)
        assert proc is not None, "needs setpriv to drop root's privileges"
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert "permission denied" in proc.stderr and f"LFPK_CACHE_DIR={shared / 'cache'}" in proc.stderr
        assert list(shared.iterdir()) == []
    finally:
        os.chmod(shared, 0o755)
        shared.rmdir()


def test_network_with_a_missing_mechanisms_folder_is_one_line(tmp_path, repo):
    """Issue 22: `lfpk network --mechanisms /nonexistent` printed the logger's traceback before
    the right line."""
    missing = tmp_path / "nonexistent"
    proc = subprocess.run([str(Path(sys.executable).parent / "lfpk"), "network", "--config",
                           str(repo / "config" / "config.yaml"), "--outdir", str(tmp_path / "out"),
                           "--mechanisms", str(missing)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and " ERROR: failed" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert errors == [f"lfpk network: error: mechanisms are not compiled: build folder {missing} does not exist; "
                      f"run: lfpk mechanisms --build-dir {missing}"], proc.stderr
    assert not missing.exists()
