"""lfpk as an installable library: a wheel built from the tree, installed with its runtime
dependencies into a fresh venv outside the repository, computes kernels and predictions there (the
documented example of docs/library.md, verbatim) and runs `lfpk predict --kernel-config`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

pytestmark = pytest.mark.slow

CHECK = r"""
import json, sys
from pathlib import Path
import numpy as np
import lfpk
from lfpk.base import mechanisms

out = {"lfpk": lfpk.__file__, "mods": sorted(p.name for p in (Path(lfpk.__file__).parent / "mod").glob("*.mod"))}
for extra in ("snakemake", "LFPy", "matplotlib"):
    try:
        __import__(extra)
        out[extra] = True
    except ImportError:
        out[extra] = False
k = lfpk.compute_kernels("config.yaml", connections=[("E", "E")])
out["build"] = str(mechanisms.loaded_library())
dt = k.attrs["dt"]
spikes = lfpk.SpikeData(times=np.array([10.0]), units=np.array([3]), unit_population={"E": [0, 1023]},
                        populations=["E"], tstop=100.0)
pred = lfpk.predict(k, lfpk.population_counts(spikes, dt))
lags = k["lag"].values
h = k["cdm"].values[0, 0, 2][lags >= 0]          # z component, lags 0 .. tau
n0 = int(round(10.0 / dt))
got = pred["cdm"].sel(source="total", component="z").values[n0:n0 + len(h)]
out["alignment_error"] = float(np.abs(got - h[:len(got)]).max() / np.abs(h).max())
out["before_spike"] = float(np.abs(pred["cdm"].values[..., :n0]).max() / np.abs(h).max())  # FFT rounding only
print(json.dumps(out))
"""


def _run(cmd, cwd, env, timeout=900):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _example(repo):
    text = (repo / "docs" / "library.md").read_text()
    section = text[text.index("## Example: kernels -> prediction"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_wheel_in_fresh_venv_outside_the_repository(tmp_path, repo):
    env = {k: v for k, v in os.environ.items() if k not in ("LFPK_BUILD_DIR", "PYTHONPATH", "VIRTUAL_ENV")}
    env["LFPK_CACHE_DIR"] = str(tmp_path / "cache")
    env["MPLBACKEND"] = "Agg"
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", dist, repo], tmp_path, env)
    (wheel,) = dist.glob("lfpk-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n for n in names if n.endswith(".mod")) == sorted(
        f"lfpk/mod/{p.name}" for p in (repo / "lfpk" / "mod").glob("*.mod"))
    assert "lfpk/schemas/config.schema.yaml" in names and not any(n.startswith("tests/") for n in names)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    runtime = [line for line in meta.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert not any(re.search(r"snakemake|LFPy\b|matplotlib|pytest", line) for line in runtime), runtime

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp_path, env)
    py, bindir = venv / "bin" / "python", venv / "bin"
    _run([py, "-m", "pip", "install", "--quiet", f"{wheel}[figures]"], tmp_path, env)  # matplotlib: the plot

    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(repo / "config" / "config.yaml", work / "config.yaml")
    check = json.loads(_run([py, "-c", CHECK], work, env).stdout.strip().splitlines()[-1])
    assert check["lfpk"].startswith(str(venv)) and not check["lfpk"].startswith(str(repo))
    assert check["mods"] == sorted(p.name for p in (repo / "lfpk" / "mod").glob("*.mod"))
    assert check["build"].startswith(str(tmp_path / "cache" / "mechanisms"))  # compiled on first use
    assert check["snakemake"] is False and check["LFPy"] is False
    assert check["alignment_error"] < 1e-12 and check["before_spike"] < 1e-12

    (work / "example.py").write_text(_example(repo))
    out = _run([py, "example.py"], work, env).stdout
    assert "predicted lfp, csd, cdm, eeg, meg over 500.0 ms" in out
    assert (work / "prediction.png").stat().st_size > 10_000

    (work / "E.txt").write_text("sender\ttime_ms\n" + "".join(f"{u}\t{t:.1f}\n" for u, t in
                                                            zip(range(0, 1024, 7), range(1, 147))))
    (work / "I.txt").write_text("i,t_ms\n" + "".join(f"{u},{t / 3:.3f}\n" for u, t in zip(range(0, 128, 3), range(5, 600, 14))))
    proc = _run([bindir / "lfpk", "predict", "--spikes", "E=E.txt", "--spikes", "I=I.txt", "--tstop", "200",
                 "--kernel-config", "config.yaml", "--output", "p.nc", "--decimate", "4", "--float32"], work, env)
    assert "prediction: p.nc" in proc.stdout and (work / "p.nc").exists()
