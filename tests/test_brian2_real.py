"""Brian2's real SpikeMonitors, quantities and online example, against the text-file route (issue 24).

Brian2 2.9 needs numpy < 2.4, and this project's environment has numpy 2.4: Brian2 runs in a side
virtual environment, built once by :func:`brian2_python` and cached in lfpk's cache folder
(``$LFPK_CACHE_DIR``, default ``~/.cache/lfpk``) as ``venv-brian2-<key>``, the key a digest of
:func:`requirements` and the base interpreter. It holds numpy < 2.4, Brian2 and lfpk's runtime
dependencies without NEURON and LFPykit: ``lfpk.engines.spikes`` and the prediction modules
(``lfpk.predict``, ``lfpk.OnlinePredictor``, ``lfpk.engines.prediction.predict.predict_files``) import
neither (``test_side_environment_imports_no_neuron``). lfpk itself is not installed there: the
subprocesses run with ``PYTHONPATH`` at this working copy, so the code under test is always the
code in the repository (a cached install would test whatever lfpk was when the cache was built).

The environment is built in a temporary folder and renamed into place, so a killed build leaves no
broken cache (its `.tmp-<pid>` folder is removed by the next build once that process is gone). A
pip failure fails the test with pip's error; only when pip cannot reach the package
index at all is it skipped ("network unreachable: ...").

Brian2 runs with its numpy code generation target (``prefs.codegen.target`` in the scripts, a
``brian_preferences`` file in the example's run folder): the default target compiles every code
object with Cython into ``~/.cython``, 90 s the first time on a 2-core machine, and gives the
same spikes' handling. Measured on a 2-core machine shared with other jobs: 71 s with an empty
cache and no pip cache (the build 50 s), 21-26 s warm.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lfpk.base.io import read_dataset, write_dataset
from lfpk.base.mechanisms import cache_root
from lfpk.engines.prediction.predict import predict_files
from tests.test_predict import make_kernels
from tests.test_spike_sources import EXAMPLES, same

pytestmark = pytest.mark.filterwarnings("ignore:the kernels' g_eff was computed:lfpk.engines.spikes.errors.SpikeWarning")

REPO = Path(__file__).resolve().parents[1]
#: what the side environment adds to lfpk's runtime dependencies (Brian2 2.9 needs numpy < 2.4)
PINNED = ["numpy<2.4", "brian2==2.9.0"]
#: lfpk's runtime dependencies left out: not imported by the spike and prediction modules
LEFT_OUT = ("neuron", "lfpykit")
#: pip's words when it cannot reach the package index at all (then skipped, not failed)
UNREACHABLE = ("NewConnectionError", "ConnectTimeoutError", "ProxyError", "Failed to establish a new connection",
               "Temporary failure in name resolution", "Name or service not known", "Network is unreachable",
               "Connection refused")
TSTOP = 200.0


class NetworkUnreachable(OSError):
    """pip could not reach the package index."""


def requirements() -> list[str]:
    """:data:`PINNED` plus lfpk's runtime dependencies (pyproject.toml) other than :data:`LEFT_OUT`."""
    tomllib = pytest.importorskip("tomllib")
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    kept = [d for d in deps if not d.lower().startswith(LEFT_OUT) and not d.lower().startswith("numpy")]
    return PINNED + kept


def environment_key(reqs) -> str:
    """Digest (16 hex digits) of the requirements, the base interpreter and the machine."""
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    text = json.dumps([reqs, base, platform.python_version(), platform.machine()])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def build_environment(final: Path, reqs, pip_args=(), timeout=900.0) -> Path:
    """The Python of the virtual environment ``final`` with ``reqs``, built if absent.

    Built in ``<final>.tmp-<pid>`` (a venv without pip; this process's pip installs into it with
    ``--python``) and renamed into place: ``final`` is complete or absent. Temporary folders of
    processes that are gone are removed first; if another process renamed its build into place
    first, that one is used.

    Raises
    ------
    NetworkUnreachable
        pip could not reach the package index (its last lines in the message).
    RuntimeError
        Any other failure of pip, with its last lines.
    """
    python = final / "bin" / "python"
    if python.exists():
        return python
    final.parent.mkdir(parents=True, exist_ok=True)
    for old in final.parent.glob(final.name + ".tmp-*"):
        pid = old.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    tmp = final.parent / f"{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp)], check=True, capture_output=True,
                       text=True, timeout=120)
        proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(tmp / "bin" / "python"), "install",
                               "--quiet", "--no-input", "--disable-pip-version-check", *pip_args, *reqs],
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr.strip() or proc.stdout.strip()).splitlines()[-8:])
            if any(m in proc.stderr for m in UNREACHABLE):
                raise NetworkUnreachable(f"pip install {' '.join(reqs)}: {tail}")
            raise RuntimeError(f"pip install {' '.join(reqs)} failed (exit {proc.returncode}):\n{tail}")
        try:
            os.rename(tmp, final)
        except OSError:
            if not python.exists():  # not another process's complete build: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return python


@pytest.fixture(scope="session")
def brian2_python():
    """Python of the cached side environment with Brian2 and numpy < 2.4 (built on first use)."""
    reqs = requirements()
    final = cache_root() / f"venv-brian2-{environment_key(reqs)}"
    try:
        return build_environment(final, reqs)
    except NetworkUnreachable as exc:
        pytest.skip(f"network unreachable: {exc}")
    except (RuntimeError, subprocess.SubprocessError) as exc:
        pytest.fail(f"the Brian2 side environment {final} could not be built: {exc}", pytrace=False)


def run_side(python, args, cwd):
    """Start ``python args`` in the side environment with lfpk from this working copy (a Popen)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([str(python), *map(str, args)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=300):
    """(stdout, stderr) of a finished :func:`run_side` process; its stderr if it failed."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-4000:]
    return out, err


# the network: LIF neurons 0-7 (E) and 8-9 (I) of one group driven by a Poisson group, monitored as two
# subgroups and as the whole group; lfpk is given the monitors and mon.t themselves
BRIAN2_SCRIPT = r"""
import json, sys
from pathlib import Path
import numpy as np
import brian2 as b2
import lfpk
from lfpk.engines.prediction.predict import predict_files  # lfpk.predict_files (config api) needs LFPykit

b2.prefs.codegen.target = "numpy"
kern_path, out = sys.argv[1], Path(sys.argv[2])
MAP = {"E": [0, 7], "I": [8, 9]}
b2.defaultclock.dt = 0.1 * b2.ms


def magic_run_misses_a_dict():  # Brian2's run() without a Network collects no monitor kept in a dict
    Q = b2.PoissonGroup(5, rates=500 * b2.Hz)
    held = {"E": b2.SpikeMonitor(Q[:3]), "I": b2.SpikeMonitor(Q[3:])}
    b2.run(10 * b2.ms)
    try:
        lfpk.from_brian2(held)
    except lfpk.SpikeInputError as exc:
        return str(exc)


missed = magic_run_misses_a_dict()
b2.seed(2024)
P = b2.PoissonGroup(40, rates=150 * b2.Hz)
G = b2.NeuronGroup(10, "dv/dt = -v / (10*ms) : 1 (unless refractory)", threshold="v > 1", reset="v = 0",
                   refractory=2 * b2.ms, method="exact")
S = b2.Synapses(P, G, on_pre="v_post += 0.25")
S.connect(p=0.5)
E, I = G[:8], G[8:]
mons = {"E": b2.SpikeMonitor(E), "I": b2.SpikeMonitor(I)}
whole = b2.SpikeMonitor(G)
b2.Network(P, G, S, whole, *mons.values()).run(200 * b2.ms)  # run() alone would miss monitors in a dict

report = {"dim": str(whole.t.dim), "type_t": type(whole.t).__name__, "n": int(whole.num_spikes),
          "n_per": {p: int(m.num_spikes) for p, m in mons.items()}}
with open(out / "spikes.csv", "w") as f:  # the same spikes as a text file (what a user would write)
    f.write("unit,time_ms\n")
    f.writelines(f"{int(u)},{float(t)!r}\n" for u, t in zip(np.asarray(whole.i), np.asarray(whole.t / b2.ms)))
kernels = lfpk.read_dataset(kern_path)
sp = lfpk.from_brian2(mons)
report["tstop"] = sp.tstop
report["sizes"] = [sp.unit_population.size("E"), sp.unit_population.size("I")]
predict_files(sp, kern_path, out / "monitors.nc")
predict_files(lfpk.from_brian2(whole, populations=MAP), kern_path, out / "whole.nc")
for name, times in (("quantity", whole.t), ("per_ms", whole.t / b2.ms)):
    spikes = lfpk.SpikeData(times=times, units=whole.i, unit_population=MAP, tstop=200.0)
    report[name + "_unit"] = spikes.attrs["time_units"]
    lfpk.write_dataset(lfpk.predict(kernels, spikes), out / (name + ".nc"))
on = lfpk.OnlinePredictor(kernels, unit_population=MAP, output=out / "online.nc", keep=False)
with on:
    for a in range(0, 200, 50):
        sel = (whole.t >= a * b2.ms) & (whole.t < (a + 50) * b2.ms)
        on.add_spikes(whole.t[sel], units=whole.i[sel])
        on.advance(a + 50.0)
    on.close(200.0)
def online_seconds(times, units):
    on = lfpk.OnlinePredictor(kernels, unit_population=MAP)
    on.add_spikes(times, units=units)
    on.advance(200.0)


refused = {}
for name, call in (("t_", lambda: lfpk.SpikeData(times=whole.t_, units=whole.i, unit_population=MAP, tstop=200.0)),
                   ("t_ online", lambda: online_seconds(whole.t_, whole.i)),
                   ("t_ units", lambda: lfpk.SpikeData(times=whole.t, units=whole.t, unit_population=MAP))):
    try:
        call()
        refused[name] = None
    except lfpk.SpikeInputError as exc:
        refused[name] = str(exc)
refused["magic run"] = missed
report["refused"] = refused
report["versions"] = {"brian2": b2.__version__, "numpy": np.__version__}
report["neuron_loaded"] = "neuron" in sys.modules
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def kern_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("brian2") / "k.nc"
    write_dataset(make_kernels(), path)
    return path


def text_prediction(tmp_path, csv, kern_file, mapping, tstop, name="text.nc"):
    """Prediction of a spike text file through the file route (this environment, numpy 2.4)."""
    m = tmp_path / f"{name}.map.txt"
    m.write_text("".join(f"{p}: {a}-{b}\n" for p, (a, b) in mapping.items()))
    return predict_files(str(csv), str(kern_file), tmp_path / name, populations=str(m), tstop=tstop).dataset()


def test_real_brian2_equals_text_route(brian2_python, kern_file, tmp_path):
    """Real SpikeMonitors (dict of subgroups, one whole group with a map), mon.t in SpikeData/predict and
    online, mon.t / ms: each equal to the text file of the same spikes to 1e-12; mon.t_ (seconds without
    their unit) refused with the way out, in SpikeData and online; monitors that recorded nothing refused
    with the cause. The online example as written equals `lfpk predict` of the spikes it wrote."""
    net_dir, ex_dir = tmp_path / "net", tmp_path / "example"
    net_dir.mkdir()
    ex_dir.mkdir()
    # the documented online example as written (numpy target: see the module docstring), beside the network
    (ex_dir / "brian_preferences").write_text("codegen.target = 'numpy'\n")
    example = run_side(brian2_python, [EXAMPLES / "brian2_online.py", kern_file, 500], ex_dir)
    net = run_side(brian2_python, ["-c", BRIAN2_SCRIPT, kern_file, net_dir], net_dir)
    out, _ = finish(net)
    report = json.loads(out.strip().splitlines()[-1])
    assert report["versions"]["brian2"] == "2.9.0" and report["versions"]["numpy"] < "2.4"
    assert report["type_t"] == "VariableView" and report["dim"] == "s"
    assert report["n"] > 100 and min(report["n_per"].values()) > 5, report
    assert report["tstop"] == TSTOP and report["sizes"] == [8, 2]
    assert report["quantity_unit"].startswith("s (carried by the array") and report["per_ms_unit"].startswith("ms")
    assert not report["neuron_loaded"]

    ref = text_prediction(tmp_path, net_dir / "spikes.csv", kern_file, {"E": (0, 7), "I": (8, 9)}, TSTOP)
    assert int(ref["population_count"].sum()) == report["n"]
    for name in ("monitors", "whole", "quantity", "per_ms", "online"):
        got = read_dataset(net_dir / f"{name}.nc")
        if name == "online":  # the online file carries the signals and counts, not the contributions
            for v in ("lfp", "csd", "cdm", "eeg"):
                assert np.abs(got[v].values - ref[v].values).max() <= 1e-12 * np.abs(ref[v].values).max(), v
        else:
            same(got, ref)

    refused = report["refused"]
    for name in ("t_", "t_ online"):
        assert refused[name] is not None, f"mon.{name} (seconds without their unit) was accepted"
        assert "look like seconds read as ms" in refused[name] and "time_unit='s'" in refused[name], refused[name]
    assert refused["t_ units"] is not None and "carry the dimension s; expected integer unit ids" in refused["t_ units"]
    assert refused["magic run"] == ("Brian2 SpikeMonitors: no spike recorded; expected spikes (a monitor records only "
                                    "in the Network that runs: Brian2's run() collects objects held in variables, not "
                                    "monitors kept in a dict or list; give them to Network(...) and run that)")

    out, _ = finish(example)
    assert "Brian2 online prediction written" in out, out
    pred = read_dataset(ex_dir / "prediction_brian2.nc")
    assert pred.sizes["time"] == 2001 and np.isfinite(pred["lfp"].values).all()
    ref = text_prediction(tmp_path, ex_dir / "spikes_brian2.csv", kern_file, {"E": (0, 79), "I": (80, 99)}, 500.0,
                          name="example.nc")
    for v in ("lfp", "csd", "cdm", "eeg"):
        assert np.abs(pred[v].values - ref[v].values).max() <= 1e-12 * np.abs(ref[v].values).max(), v


def test_side_environment_imports_no_neuron(brian2_python):
    """The spike and prediction modules import neither NEURON nor LFPykit (left out of the side environment)."""
    code = ("import sys, lfpk, lfpk.engines.spikes, lfpk.engines.prediction.predict\n"
            "lfpk.predict, lfpk.OnlinePredictor, lfpk.from_brian2, lfpk.SpikeData, lfpk.read_dataset\n"
            "print(sorted(m for m in ('neuron', 'lfpykit', 'brian2') if m in sys.modules))")
    out, _ = finish(run_side(brian2_python, ["-c", code], REPO))
    assert out.strip() == "[]"


def test_environment_build_is_atomic_and_reports_pip(tmp_path):
    """A pip failure leaves neither the environment nor its temporary folder; an unreachable index is
    NetworkUnreachable (skipped by the fixture), any other failure a RuntimeError with pip's words."""
    final = tmp_path / "venv-x"
    with pytest.raises(NetworkUnreachable, match="network|onnection|resolution"):
        build_environment(final, ["brian2==2.9.0"], pip_args=["--isolated", "--index-url", "http://127.0.0.1:9/simple",
                                                               "--retries", "1", "--timeout", "5"])
    empty = tmp_path / "wheels"
    empty.mkdir()
    with pytest.raises(RuntimeError, match="No matching distribution found for brian2==2.9.0"):
        build_environment(final, ["brian2==2.9.0"], pip_args=["--isolated", "--no-index", "--find-links", str(empty)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wheels"]
    # a stale temporary folder of a process that is gone is removed; a local wheel installed, renamed into place
    stale = tmp_path / "venv-x.tmp-999999999"
    stale.mkdir()
    with zipfile.ZipFile(empty / "tiny-0.1-py3-none-any.whl", "w") as whl:
        whl.writestr("tiny/__init__.py", "VALUE = 42\n")
        whl.writestr("tiny-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: tiny\nVersion: 0.1\n")
        whl.writestr("tiny-0.1.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n"
                                                 "Tag: py3-none-any\n")
        whl.writestr("tiny-0.1.dist-info/RECORD", "")
    python = build_environment(final, ["tiny==0.1"], pip_args=["--isolated", "--no-index", "--find-links", str(empty)])
    assert python == final / "bin" / "python" and not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["venv-x", "wheels"]
    assert subprocess.run([python, "-c", "import tiny; print(tiny.VALUE)"], capture_output=True,
                          text=True).stdout.strip() == "42"
    assert build_environment(final, ["never-installed"]) == python  # present: used as it is
