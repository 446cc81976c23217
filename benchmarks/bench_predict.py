"""Prediction at any length (issue 12): time and peak memory of `lfpk predict`, with the
implementation before streaming as the reference in the same run.

1. One hour of synthetic Poisson spikes of 9216 neurons (8192 E, 1024 I: the paper's network,
   config/paper.yaml), every neuron at 3 /s and at 9 /s (100 M and 299 M spikes, 57.6 M bins of
   1/16 ms), predicted by the streaming `lfpk predict` (every signal, decimated to 1 kHz, float32,
   no per-connection contributions; the full-rate float64 output with contributions would be
   106 GB). Target: peak memory under 2 GB.
2. The 200 s case (3.2 M bins) at the same rates, with the default (full) output, by the streaming
   implementation and by the one before it (lfpk at commit REFERENCE, which held all spikes and
   every output array in memory), in the same run: time, peak memory, their ratios, and the largest
   difference between the two predictions.

Each prediction runs as a child process; its peak resident memory is the kernel's ``ru_maxrss`` of
that child (os.wait4). The spikes are written as the network's spikes.nc (float64 times, int32 units).

Run: .venv/bin/python benchmarks/bench_predict.py [--hours 1] [--rates 3 9] [--ref-seconds 200]
                                                  [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: main before streaming prediction landed (all spikes and every output array in memory)
REFERENCE = "84fba4c"
N_E, N_I = 8192, 1024
DT = 2.0**-4


def write_poisson_spikes(path, rate, seconds, seed=1, window=10.0):
    """spikes.nc of N_E + N_I Poisson neurons at ``rate`` (1/s) for ``seconds``, written window by
    window (the superposition of independent Poisson trains: Poisson counts, uniform times/units)."""
    import netCDF4

    rng = np.random.default_rng(seed)
    n = N_E + N_I
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("spike", None)
        ds.createDimension("unit", n)
        t = ds.createVariable("spike_time", "f8", ("spike",), chunksizes=(1 << 20,))
        t.setncatts({"units": "ms", "long_name": "spike time"})
        u = ds.createVariable("spike_unit", "i4", ("spike",), chunksizes=(1 << 20,))
        u.setncatts({"units": "1", "long_name": "unit id"})
        unit = ds.createVariable("unit", "i4", ("unit",))
        unit[:] = np.arange(n)
        pop = ds.createVariable("unit_population", str, ("unit",))
        pop[:] = np.array(["E"] * N_E + ["I"] * N_I, dtype=object)
        pop.setncatts({"units": "1", "long_name": "population"})
        ds.tstop = seconds * 1000.0
        ds.dt = DT
        done = 0
        for w0 in np.arange(0.0, seconds, window):
            w1 = min(w0 + window, seconds)
            k = rng.poisson(rate * n * (w1 - w0))
            times = np.sort(rng.uniform(w0 * 1000.0, w1 * 1000.0, k))
            t[done:done + k] = times
            u[done:done + k] = rng.integers(0, n, k).astype(np.int32)
            done += k
    return done


def run_child(cmd, cwd, env=None):
    """Run ``cmd`` in ``cwd`` (not the repository: `python -m` puts the working directory first on
    sys.path); return (wall s, peak RSS GB, stdout+stderr)."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            text=True, cwd=cwd)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{out[-3000:]}")
    return wall, usage.ru_maxrss / 1024**2, out


def predict_cmd(python, spikes, kernels, output, *options):
    return [python, "-m", "lfpk", "predict", "--spikes", spikes, "--kernels", kernels, "--output", output, *options]


def reference_tree(workdir):
    """lfpk as of REFERENCE, extracted from git into ``workdir/ref``."""
    ref = workdir / "ref"
    if not (ref / "lfpk").exists():
        ref.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", REFERENCE, "lfpk"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(ref)], input=archive, check=True)
    return ref


def max_relative_difference(a_path, b_path, names, step=1 << 18):
    """max |a - b| / max |b| over each variable, read in time slices (the files are GBs)."""
    import netCDF4

    worst = 0.0
    with netCDF4.Dataset(a_path) as a, netCDF4.Dataset(b_path) as b:
        for name in names:
            n = b[name].shape[-1]
            dmax = bmax = 0.0
            for i in range(0, n, step):
                x, y = np.asarray(a[name][..., i:i + step]), np.asarray(b[name][..., i:i + step])
                dmax = max(dmax, float(np.abs(x - y).max()))
                bmax = max(bmax, float(np.abs(y).max()))
            worst = max(worst, dmax / bmax if bmax else dmax)
    return worst


def gb(path):
    return path.stat().st_size / 1024**3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--rates", type=float, nargs="+", default=[3.0, 9.0])
    ap.add_argument("--ref-seconds", type=float, default=200.0)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--parts", default="hours,reference", help="comma list of parts to run: hours, reference")
    args = ap.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="lfpk-bench-predict."))
    workdir.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    import lfpk

    print(f"work folder {workdir}; lfpk {lfpk.__file__}; reference: lfpk at {REFERENCE}")
    t0 = time.perf_counter()
    kernels = lfpk.compute_kernels(REPO / "config" / "paper.yaml")
    kfile = lfpk.write_dataset(kernels, workdir / "kernels.nc")
    print(f"kernels of config/paper.yaml ({N_E} E / {N_I} I): {time.perf_counter() - t0:.1f} s, "
          f"{kernels.sizes['lag']} lags of {kernels.attrs['dt']} ms")
    rows = []
    streaming = ["--no-contributions", "--float32", "--decimate", "16"]
    parts = args.parts.split(",")
    for rate in (args.rates if "hours" in parts else []):
        spikes = workdir / f"spikes_{rate:g}.nc"
        t0 = time.perf_counter()
        n = write_poisson_spikes(spikes, rate, args.hours * 3600.0)
        print(f"\n{args.hours:g} h at {rate:g} /s: {n} spikes written in {time.perf_counter() - t0:.0f} s "
              f"({gb(spikes):.2f} GB)")
        out = workdir / f"pred_{rate:g}.nc"
        wall, rss, log = run_child(predict_cmd(py, spikes, kfile, out, *streaming), workdir)
        print(f"  streaming predict ({' '.join(streaming)}): {wall:.0f} s, peak memory {rss:.2f} GB, output "
              f"{gb(out):.2f} GB {'(under 2 GB: yes)' if rss < 2 else '(OVER 2 GB)'}")
        rows.append((f"{args.hours:g} h, {rate:g} /s", n, wall, rss, None, None))
        out.unlink()
        spikes.unlink()

    ref = reference_tree(workdir)
    env_ref = dict(os.environ, PYTHONPATH=f"{ref}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    for rate in (args.rates if "reference" in parts else []):
        spikes = workdir / f"spikes_ref_{rate:g}.nc"
        n = write_poisson_spikes(spikes, rate, args.ref_seconds, seed=2)
        new_out, old_out = workdir / f"new_{rate:g}.nc", workdir / f"old_{rate:g}.nc"
        w_new, m_new, _ = run_child(predict_cmd(py, spikes, kfile, new_out), workdir)
        w_old, m_old, log = run_child(predict_cmd(py, spikes, kfile, old_out), workdir, env=env_ref)
        assert str(ref) in subprocess.run([py, "-c", "import lfpk; print(lfpk.__file__)"], cwd=workdir, env=env_ref,
                                          capture_output=True, text=True).stdout, "reference lfpk not imported"
        diff = max_relative_difference(new_out, old_out, ("lfp", "csd", "cdm", "eeg", "meg"))
        print(f"\n{args.ref_seconds:g} s at {rate:g} /s ({n} spikes), full output (float64, contributions, "
              f"{gb(new_out):.2f} GB):\n  streaming {w_new:.1f} s, {m_new:.2f} GB;  before streaming ({REFERENCE}) "
              f"{w_old:.1f} s, {m_old:.2f} GB;  memory ratio old/new {m_old / m_new:.1f}, time ratio old/new "
              f"{w_old / w_new:.2f}; max difference / max |signal| {diff:.1e}")
        rows.append((f"{args.ref_seconds:g} s, {rate:g} /s", n, w_new, m_new, w_old, m_old))
        for p in (spikes, new_out, old_out):
            p.unlink()

    print("\ncase                spikes        streaming: time (s)  peak (GB)   reference: time (s)  peak (GB)")
    for case, n, w, m, wo, mo in rows:
        ref_text = f"{wo:10.1f}  {mo:9.2f}" if wo is not None else f"{'-':>10}  {'-':>9}"
        print(f"{case:18s}  {n:12d}  {w:18.1f}  {m:9.2f}   {ref_text}")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
