"""Benchmark: the Model B network (Hay et al. 2011 cells as E) of this tree against a reference.

Runs ``python -m lfpk network`` on ``config/hay2011_laptop.yaml`` (512 Hay E cells, 64 ball-and-stick
I cells, the paper's in-degrees) under ``mpiexec -n RANKS``, first with this tree's code, then with
the code of a reference checkout (``--reference``: e.g. a ``git worktree`` of main before a change),
one after the other in this run. The reference runs with this interpreter and ``PYTHONPATH`` set to
its checkout (so no second virtual environment is needed), from its own folder, with its own
mechanisms compiled from its ``lfpk/mod`` into ``<reference>/build/mechanisms`` (made here if
missing); this tree likewise (``PYTHONPATH`` set to it, so a worktree runs its own code, not the
package installed in the interpreter, and ``build/mechanisms``).

It prints, per code, the build / connect / simulate wall times, the core-seconds per simulated
second (ranks x wall time of the time steps after the first progress report, per simulated second;
and the CPU time of all time steps summed over ranks), the peak resident memory per rank, the rates,
ISI CV and Fano factor of each population after the transient and the population-rate power in
frequency bands (the statistics of benchmarks/bench_paper_slice.py), then the ratio reference / tree
and whether the spikes are bitwise identical (they are not where a faster numerical form changes the
rounding, e.g. rate tables: then the statistics are to agree within sampling error).

Usage (from the repository root; about 2-4 min per code on 2 free cores at 150 ms)::

    git worktree add --detach /tmp/lfpk-reference <commit>
    .venv/bin/python benchmarks/bench_model_b.py --reference /tmp/lfpk-reference
    .venv/bin/python benchmarks/bench_model_b.py --tstop 300 --transient 100   # this tree only

The morphology (``resources/hay2011/cell1.asc``, fetched by ``lfpk fetch``) must be present in
both checkouts.
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
from bench_paper_slice import (
    PHASES,
    checkout_environment,
    integration_rate,
    mechanisms_of,
    print_results,
    spike_statistics,
)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CONFIG = Path("config") / "hay2011_laptop.yaml"


def run(name, checkout, args, work):
    """Run the network of ``checkout``'s code; returns (output folder, wall time (s), load average)."""
    from lfpk.base.mpi import find_mpiexec

    env = checkout_environment(checkout)
    mechanisms = mechanisms_of(checkout, env)
    out = work / name
    cmd = [sys.executable, "-m", "lfpk", "network", "--config", str(checkout / CONFIG), "--outdir", str(out),
           "--tstop", str(args.tstop), "--transient", str(args.transient), "--mechanisms", str(mechanisms),
           "--log", str(work / f"{name}.log")]
    if args.ranks > 1:
        cmd = [find_mpiexec(), "-n", str(args.ranks), *cmd]
    load = os.getloadavg()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return out, wall, load


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tstop", type=float, default=150.0, help="simulated time (ms)")
    ap.add_argument("--transient", type=float, default=50.0, help="transient excluded from the statistics (ms)")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--reference", default=None, help="checkout of the reference code (e.g. a git worktree of main)")
    ap.add_argument("--reference-first", action="store_true",
                    help="run the reference before this tree (to see whether the order matters)")
    ap.add_argument("--keep", default=None, help="folder to keep the outputs in (default: a temporary one)")
    args = ap.parse_args(argv)
    from lfpk.base.io import read_dataset

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-model-b-"))
    work.mkdir(parents=True, exist_ok=True)
    sim_s = args.tstop / 1000.0
    codes = {"tree": REPO}
    if args.reference:
        codes["reference"] = Path(args.reference).resolve()
        if args.reference_first:
            codes = {"reference": codes["reference"], "tree": REPO}
    print(f"Model B: {CONFIG}, tstop {args.tstop} ms (transient {args.transient} ms), {args.ranks} rank(s), "
          f"{os.cpu_count()} cores; " + ", ".join(f"{k}: {v}" for k, v in codes.items()))
    res = {}
    for name, checkout in codes.items():
        out, wall, load = run(name, checkout, args, work)
        sp = read_dataset(out / "spikes.nc")
        res[name] = {"tim": json.loads(sp.attrs["timings"]), "wall": wall, "load": load, "out": out,
                     "rate": integration_rate(work / f"{name}.log", args.ranks),
                     "stats": spike_statistics(sp, args.transient, float(sp.attrs["tstop"]))}
        print(f"  {name}: done in {wall:.0f} s wall (load average at start {load[0]:.2f})", flush=True)
    print_results(res, "code", sim_s)
    if "reference" in res:
        a, b = res["reference"], res["tree"]
        ta, tb = a["tim"], b["tim"]
        cpu = ""
        if "integrate_cpu_total" in ta and "integrate_cpu_total" in tb:
            cpu = f", CPU time of the time steps {ta['integrate_cpu_total'] / tb['integrate_cpu_total']:.2f}x"
        print(f"tree vs reference: time steps {a['rate'] / b['rate']:.2f}x fewer core-seconds{cpu}, "
              f"simulate wall {ta['simulate'] / tb['simulate']:.2f}x faster, "
              f"build+connect+simulate {sum(ta[k] for k in PHASES) / sum(tb[k] for k in PHASES):.2f}x")
        x, y = read_dataset(a["out"] / "spikes.nc"), read_dataset(b["out"] / "spikes.nc")
        same = all(np.array_equal(x[v].values, y[v].values) for v in ("spike_time", "spike_unit"))
        print(f"  spikes bitwise identical: {same}; spikes {x.sizes['spike']} (reference) vs "
              f"{y.sizes['spike']} (tree)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
