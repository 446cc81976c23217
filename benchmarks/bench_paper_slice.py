"""Benchmark: a paper-scale slice of the ground-truth network, extrinsic drive before vs after.

Runs ``python -m lfpk network`` on the full-size network of ``config/paper.yaml`` (Model A:
8192 E / 1024 I cells, the study's in-degrees and extrinsic drive) under ``mpiexec -n RANKS``,
once per extrinsic drive, one after the other in this run:

* ``netstim``: the former implementation, one NetStim + NetCon per driven segment, every
  Poisson arrival through NEURON's event queue;
* ``mechanism``: the arrivals drawn inside the lumped synapse (``Exp2SynSum``) from the same
  Random123 streams.

It prints, per drive, the build / connect / simulate wall times, the core-seconds per simulated
second (simulate CPU time summed over ranks / simulated time, and ranks x simulate wall time /
simulated time), the peak resident memory per rank, the rates, the ISI CV and the Fano factor
of the population counts after the transient, and the ratios; then whether the two runs' spikes
and signals are bitwise identical (they should be: the drives are the same trains).

Usage (from the repository root; a 300 ms slice takes about 10-20 min per drive on 2 cores)::

    .venv/bin/python benchmarks/bench_paper_slice.py                          # 300 ms, 2 ranks
    .venv/bin/python benchmarks/bench_paper_slice.py --tstop 150 --transient 50 --drives mechanism
    .venv/bin/python benchmarks/bench_paper_slice.py --sizes E=2048,I=256     # a smaller slice
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


PHASES = ("build", "connect", "simulate")


def spike_statistics(spikes, transient, tstop, bin_ms=5.0):
    """Per population: rate (1/s), mean ISI CV of cells with >= 3 spikes, Fano factor of the
    population spike count in ``bin_ms`` bins, after ``transient`` (ms)."""
    st, su = spikes["spike_time"].values, spikes["spike_unit"].values
    pops = spikes["unit_population"].values
    keep = st >= transient
    st, su = st[keep], su[keep]
    out = {}
    edges = np.arange(transient, tstop + 1e-9, bin_ms)
    for p in spikes["population"].values.tolist():
        units = np.flatnonzero(pops == p)
        k = np.isin(su, units)
        t, u = st[k], su[k]
        rate = len(t) / (len(units) * (tstop - transient) / 1000.0)
        order = np.lexsort((t, u))
        t, u = t[order], u[order]
        cvs = []
        for g in np.unique(u):
            isi = np.diff(t[u == g])
            if len(isi) >= 2:
                cvs.append(isi.std() / isi.mean())
        n = np.histogram(t, edges)[0].astype(float)
        fano = n.var() / n.mean() if n.mean() > 0 else float("nan")
        out[p] = {"rate": rate, "cv": float(np.mean(cvs)) if cvs else float("nan"), "fano": fano,
                  "bands": band_powers(t, len(units), transient, tstop)}
    return out


#: Frequency bands (Hz) of the population-rate spectrum compared by the benchmark.
BANDS = ((2.0, 10.0), (10.0, 30.0), (30.0, 100.0), (100.0, 300.0))


def band_powers(t, n_units, transient, tstop):
    """Mean Welch power ((1/s)^2/Hz) of the population rate (1 ms bins, per cell) in :data:`BANDS`,
    segments of 256 ms with 50 % overlap (fewer if the run is shorter)."""
    from scipy.signal import welch

    edges = np.arange(transient, tstop + 1e-9, 1.0)
    r = np.histogram(t, edges)[0] / (n_units * 1e-3)
    f, p = welch(r - r.mean(), fs=1000.0, nperseg=min(256, len(r)))
    return [float(p[(f >= lo) & (f < hi)].mean()) for lo, hi in BANDS]


def integration_rate(log_path, ranks):
    """Core-seconds (ranks x wall) per simulated second of the time steps after the first
    progress report (5 % of the run), from the run's log; excludes the recording set-up."""
    import re

    pts = [(float(m.group(1)), float(m.group(2))) for m in
           re.finditer(r"simulated ([0-9.]+) / [0-9.]+ ms .*?wall ([0-9.]+) s", Path(log_path).read_text())]
    (t0, w0), (t1, w1) = pts[0], pts[-1]
    return ranks * (w1 - w0) / ((t1 - t0) / 1000.0)


def print_results(res, label, sim_s):
    """Print one row per run of ``res`` ({name: {"tim", "rate", "stats"}}): phase times (s),
    core- and CPU-seconds per simulated second, peak memory per rank, spike statistics, and the
    population-rate band powers; ``label`` heads the first column, ``sim_s`` is the simulated time (s)."""
    head = "{:<10s} {:>7s} {:>8s} {:>9s} {:>9s} {:>10s} {:>16s}   {}"
    row = "{:<10s} {:>7.1f} {:>8.1f} {:>9.1f} {:>9.0f} {:>10.0f} {:>16s}   {}"
    print("core-s/s: ranks x wall time of the time steps after the first 5 % per simulated second; "
          "cpu-s/s: CPU time of all time steps summed over ranks per simulated second (excludes time "
          "waiting for a CPU shared with other jobs)")
    print(head.format(label, "build", "connect", "simulate", "core-s/s", "cpu-s/s", "peak MB/rank",
                      "spike statistics after the transient: rate (1/s), ISI CV, Fano (5 ms bins)"))
    for name, r in res.items():
        t = r["tim"]
        stats = ", ".join(f"{p}: {s['rate']:.3f} {s['cv']:.3f} {s['fano']:.2f}" for p, s in r["stats"].items())
        mem = "/".join(f"{m:.0f}" for m in t.get("peak_memory_mb", []))
        cpu = t["integrate_cpu_total"] / sim_s if "integrate_cpu_total" in t else np.nan
        print(row.format(name, t["build"], t["connect"], t["simulate"], r["rate"], cpu, mem, stats))
    for name, r in res.items():  # parts of simulate (slowest rank), recorded by codes after issue 25
        t = r["tim"]
        if "setup" in t:
            print(f"  {name}: simulate = set-up before the first step {t['setup']:.1f} s (recording set-up "
                  f"{t['recording_setup']:.1f} s, finitialize {t['initialise']:.1f} s) + time steps "
                  f"{t['integrate']:.1f} s (probe mapping {t.get('probes', 0.0):.1f} s) + the rest")
    print("population-rate power ((1/s)^2/Hz, Welch 256 ms) in bands "
          + ", ".join(f"{lo:g}-{hi:g} Hz" for lo, hi in BANDS))
    for name, r in res.items():
        print(f"  {name}: " + "; ".join(f"{p}: " + " ".join(f"{x:.3g}" for x in st["bands"])
                                        for p, st in r["stats"].items()))


def checkout_environment(checkout):
    """This process's environment without a launcher's MPI variables, ``PYTHONPATH`` starting with
    ``checkout`` (so the checkout's own code runs, not the package installed in the interpreter)."""
    from lfpk.base.mpi import clean_environment

    env = clean_environment()
    env["PYTHONPATH"] = os.pathsep.join([str(checkout), *filter(None, [env.get("PYTHONPATH")])])
    return env


def mechanisms_of(checkout, env):
    """The compiled mechanisms of ``checkout`` (``<checkout>/build/mechanisms``), compiled from its
    ``lfpk/mod`` with its own code if missing or stale."""
    build = Path(checkout) / "build" / "mechanisms"
    cmd = [sys.executable, "-m", "lfpk", "mechanisms", "--build-dir", str(build)]
    p = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True, check=False)
    if p.returncode:
        raise SystemExit(f"compiling the mechanisms of {checkout} failed:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return build


def run(drive, args, work):
    from lfpk.base.mpi import find_mpiexec

    out = work / drive
    python, cwd, extra = sys.executable, str(REPO), ["--extrinsic-drive", drive]
    config = args.config
    env = checkout_environment(REPO)
    extra += ["--mechanisms", str(mechanisms_of(REPO, env))]
    if drive == "reference":  # another checkout's code (e.g. main before this change)
        ref = Path(args.reference).resolve()
        cwd, env = str(ref), checkout_environment(ref)
        if (ref / ".venv" / "bin" / "python").exists():  # its own environment, if it has one
            python = str(ref / ".venv" / "bin" / "python")
        config = args.reference_config or str(ref / Path(args.config).relative_to(REPO))
        mech = Path(args.reference_mechanisms).resolve() if args.reference_mechanisms else mechanisms_of(ref, env)
        extra = ["--mechanisms", str(mech)]
    cmd = [python, "-m", "lfpk", "network", "--config", config, "--outdir", str(out),
           "--tstop", str(args.tstop), "--transient", str(args.transient), *extra,
           "--log", str(work / f"{drive}.log")]
    if args.sizes:
        cmd += ["--population-sizes", args.sizes]
    if args.ranks > 1:
        cmd = [find_mpiexec(), "-n", str(args.ranks), *cmd]
    load = os.getloadavg()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return out, wall, load


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(REPO / "config" / "paper.yaml"))
    ap.add_argument("--sizes", default=None, help="population sizes NAME=N,... (default: the config's)")
    ap.add_argument("--tstop", type=float, default=300.0, help="simulated time (ms)")
    ap.add_argument("--transient", type=float, default=100.0, help="transient excluded from the statistics (ms)")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--drives", default="netstim,mechanism", help="comma-separated, run in this order")
    ap.add_argument("--reference", default=None,
                    help="also run this checkout's code (with its .venv) as drive 'reference', e.g. the "
                         "code before the in-mechanism drive; add 'reference' to --drives")
    ap.add_argument("--reference-config", default=None,
                    help="config of --reference (default: the same path in that checkout, whose schema "
                         "the older code reads; the model must be the same)")
    ap.add_argument("--reference-mechanisms", default=None, help="compiled mechanisms of --reference")
    ap.add_argument("--keep", default=None, help="folder to keep the outputs in (default: a temporary one)")
    args = ap.parse_args(argv)
    args.config = str(Path(args.config).resolve())
    from lfpk.base.io import read_dataset

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-paper-"))
    work.mkdir(parents=True, exist_ok=True)
    sim_s = args.tstop / 1000.0
    print(f"paper slice: {args.config} sizes {args.sizes or 'config'}, tstop {args.tstop} ms "
          f"(transient {args.transient} ms), {args.ranks} rank(s), {os.cpu_count()} cores")
    res = {}
    for drive in args.drives.split(","):
        out, wall, load = run(drive, args, work)
        sp = read_dataset(out / "spikes.nc")
        tim = json.loads(sp.attrs["timings"])
        counts = json.loads(sp.attrs["counts"])
        res[drive] = {"tim": tim, "wall": wall, "load": load, "counts": counts, "out": out,
                      "rate": integration_rate(work / f"{drive}.log", args.ranks),
                      "stats": spike_statistics(sp, args.transient, float(sp.attrs["tstop"]))}
        print(f"  {drive}: done in {wall:.0f} s wall (load average at start {load[0]:.2f})", flush=True)
    print_results(res, "drive", sim_s)
    for drive, r in res.items():
        c = r["counts"]
        print(f"{drive}: NetCons {c['netcons']}, point processes {c['point_processes']}, "
              f"NetStims {c['netstims']}, in-mechanism drives {c.get('drives', 0)}")
    for ref in ("netstim", "reference"):
        if ref not in res or "mechanism" not in res:
            continue
        a, b = res[ref], res["mechanism"]
        ta, tb = a["tim"], b["tim"]
        print(f"mechanism vs {ref}: time steps {a['rate'] / b['rate']:.2f}x fewer core-seconds, "
              f"simulate wall {ta['simulate'] / tb['simulate']:.2f}x faster, "
              f"build+connect+simulate {sum(ta[k] for k in PHASES) / sum(tb[k] for k in PHASES):.2f}x")
        x, y = read_dataset(a["out"] / "spikes.nc"), read_dataset(b["out"] / "spikes.nc")
        spikes_same = all(np.array_equal(x[v].values, y[v].values) for v in ("spike_time", "spike_unit"))
        x, y = read_dataset(a["out"] / "signals.nc"), read_dataset(b["out"] / "signals.nc")
        same = all(np.array_equal(x[v].values, y[v].values) for v in ("lfp", "csd", "cdm"))
        rel = max(float(np.abs(x[v].values - y[v].values).max() / np.abs(x[v].values).max())
                  for v in ("lfp", "csd", "cdm"))
        print(f"  spikes bitwise identical: {spikes_same}; signals bitwise identical: {same} "
              f"(largest difference / largest value: {rel:.1e})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
