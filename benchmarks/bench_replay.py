"""Benchmark: the hybrid scheme's runs (lfpk.engines.network.replay) against the ground truth they rebuild.

Runs, in one go and on the same machine state, a ground-truth network (``python -m lfpk network``)
and then its reconstructions (linearised cells, current synapses, replayed spikes and extrinsic
drive) and a hybrid-kernel run (one volley per population, no drive), each on ``--ranks`` MPI
ranks, and prints the phases (build, connect, simulate) of every run and the ratio of each
run's simulate time per simulated second to the ground truth's. What a study's `make run` spends
on the hybrid scheme follows from these ratios.

With ``--compare-drives`` the frozen g_eff reconstruction is run a second time with the
replayed extrinsic drive delivered by NetStims (``--extrinsic-drive netstim``, the code before
the drive moved into ``Exp2SynISum``): the script prints that run's simulate time against the
default's and checks that the two runs' signals are bitwise identical.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_replay.py                               # laptop config, 300 ms, 2 ranks
    .venv/bin/python benchmarks/bench_replay.py --sizes E=256,I=32 --tstop 200 --ranks 1
    .venv/bin/python benchmarks/bench_replay.py --tstop 200 --compare-drives
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(args, ranks):
    from lfpk.base.mpi import clean_environment, find_mpiexec

    cmd = [sys.executable, "-m", "lfpk", "network", *args]
    if ranks > 1:
        cmd = [find_mpiexec() or "mpiexec", "-n", str(ranks), *cmd]
    env = clean_environment()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-3000:]}")


def _timings(path):
    import netCDF4

    with netCDF4.Dataset(path) as f:
        return json.loads(f.getncattr("timings")), float(f.getncattr("tstop"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    p.add_argument("--sizes", default=None, help="population sizes E=N,I=M (default the config's)")
    p.add_argument("--tstop", type=float, default=300.0, help="simulated time of the ground truth (ms)")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--compare-drives", action="store_true",
                   help="also run the frozen g_eff reconstruction with the NetStim drive and compare")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        gt = ["--config", a.config, "--tstop", str(a.tstop), "--transient", str(a.tstop / 3), "--outdir", str(tmp / "gt")]
        if a.sizes:
            gt += ["--population-sizes", a.sizes]
        _run(gt, a.ranks)
        rows = [("ground truth (active)", *_timings(tmp / "gt" / "signals.nc"))]
        common = ["--config", a.config, "--membrane", str(tmp / "gt" / "membrane.nc")]
        for form in ("frozen", "quasi_linear"):
            for geff in (False, True):
                name = f"reconstruction {form}{' g_eff' if geff else ''}"
                out = tmp / name.replace(" ", "_")
                _run([*common, "--replay", str(tmp / "gt" / "spikes.nc"), "--biophysics", form,
                      *(["--g-eff"] if geff else []), "--outdir", str(out)], a.ranks)
                rows.append((name, *_timings(out / "signals.nc")))
        if a.compare_drives:
            out = tmp / "reconstruction_frozen_g_eff_netstim"
            _run([*common, "--replay", str(tmp / "gt" / "spikes.nc"), "--biophysics", "frozen", "--g-eff",
                  "--extrinsic-drive", "netstim", "--outdir", str(out)], a.ranks)
            rows.append(("reconstruction frozen g_eff, NetStims", *_timings(out / "signals.nc")))
            same = _same_signals(tmp / "reconstruction_frozen_g_eff" / "signals.nc", out / "signals.nc")
        out = tmp / "kernel_run"
        _run([*common, "--network-spikes", str(tmp / "gt" / "spikes.nc"), "--biophysics", "frozen", "--g-eff",
              "--volleys", f"E={a.tstop / 3:g},I={2 * a.tstop / 3:g}", "--tstop", str(a.tstop), "--outdir", str(out)],
             a.ranks)
        rows.append(("hybrid-kernel run frozen g_eff", *_timings(out / "signals.nc")))
    ref = rows[0][1]["simulate"] / rows[0][2]
    print(f"{'run':36s} {'build':>7s} {'connect':>8s} {'simulate':>9s} {'s per sim. s':>13s} {'ratio':>6s}")
    for name, t, tstop in rows:
        per = t["simulate"] / tstop * 1000.0
        print(f"{name:36s} {t['build']:7.2f} {t['connect']:8.2f} {t['simulate']:9.2f} {per:13.1f} "
              f"{t['simulate'] / tstop / ref:6.2f}")
    if a.compare_drives:
        sim = {name: t["simulate"] for name, t, _ in rows}
        ratio = sim["reconstruction frozen g_eff, NetStims"] / sim["reconstruction frozen g_eff"]
        print(f"replayed drive in the synapse vs NetStims: simulate {ratio:.2f}x faster; signals bitwise identical: {same}")


def _same_signals(a, b):
    """Whether two signals.nc hold bitwise the same LFP, CSD and dipole moment."""
    import numpy as np

    from lfpk.base.io import read_dataset

    x, y = read_dataset(a), read_dataset(b)
    return all(np.array_equal(x[v].values, y[v].values) for v in ("lfp", "csd", "cdm"))


if __name__ == "__main__":
    main()
