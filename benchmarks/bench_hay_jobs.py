"""Benchmark: the single-cell, kernel and sensitivity jobs of the Model B study, this tree against a reference.

The Model B laptop study (``config/hay2011_laptop.yaml``) runs, besides its network, jobs on the
Hay cell alone: the step responses of each population's cell (rule ``single_cell``:
:func:`lfpk.study.single_cell.single_cell_files`), the kernels of one run and variant (rule
``kernels``: :func:`lfpk.study.stages.write_kernel_set`) and the 11 x 11 sensitivity map (rule
``sensitivity``: :func:`lfpk.study.sensitivity.sensitivity_files`). This script calls each job's
function with the job's arguments, once with this tree's code and once with a reference
checkout's (``--reference``: e.g. a ``git worktree`` of main before a change), each in a fresh
process with ``PYTHONPATH`` set to its checkout and its own mechanisms (compiled from its
``lfpk/mod`` into lfpk's per-user cache before the timing starts). Both read this tree's config
and the same network outputs, so their outputs must agree: the script compares every variable
and coordinate byte for byte and names the attributes that differ.

It prints per job the wall and CPU time (s) of the job's function of each code (the CPU time of
its process: the fairer figure on a machine shared with other work; NEURON runs on one core,
and each job gets the thread counts Snakemake gives a job of ``--threads`` threads, 1 as the rules),
their ratios reference / tree, and whether the outputs are identical. With ``--repeat N`` the
codes alternate which goes first.

The kernel and sensitivity jobs need a network run of the study's model (``spikes.nc``,
``signals.nc``, ``membrane.nc``): ``--network DIR`` names one (e.g. the outputs kept by
``benchmarks/bench_model_b.py --keep``); without it, one is made first with this tree's code
(``python -m lfpk network``, ``--tstop`` ms on 2 ranks: a few minutes).

Usage (from the repository root)::

    git worktree add --detach /tmp/lfpk-reference <commit>
    .venv/bin/python benchmarks/bench_hay_jobs.py --reference /tmp/lfpk-reference
    .venv/bin/python benchmarks/bench_hay_jobs.py --reference /tmp/lfpk-reference \\
        --jobs single_cell:E kernels:frozen-geff-scalar sensitivity --network /tmp/net --repeat 2

The morphology (``resources/hay2011/cell1.asc``, ``lfpk fetch``) must be present in this tree.
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
CONFIG = REPO / "config" / "hay2011_laptop.yaml"
#: The study's jobs on the Hay cell alone: the single cells of both populations, the kernels of
#: the study's variants (laptop config) and the sensitivity map.
JOBS = ("single_cell:E", "single_cell:I", "kernels:frozen-geff-scalar", "kernels:quasi_linear-geff-scalar",
        "kernels:frozen-geff-segment", "kernels:passive-geff-scalar", "sensitivity")
#: Network outputs the kernel and sensitivity jobs read.
NETWORK_FILES = ("spikes.nc", "signals.nc", "membrane.nc")

#: The child process: loads the config and the checkout's mechanisms, then times the job's
#: function alone and prints the times as JSON on its last line.
CHILD = r"""
import json, resource, sys, time
from lfpk.api.config import load_config
from lfpk.entry.workflow import run_config
from lfpk.model import from_config
config, job, arg, out, net = sys.argv[1:6]
cfg = load_config(config)
from_config(cfg).load_mechanisms()  # compiled (first use) and loaded before the timing
if job == "single_cell":
    from lfpk.study.single_cell import single_cell_files
    call = lambda: single_cell_files(cfg, arg, out)
elif job == "kernels":
    from lfpk.model.rules import parse_variant
    from lfpk.study.stages import write_kernel_set
    opts = dict(parse_variant(arg))
    mode = opts.pop("v_rest_mode")
    call = lambda: write_kernel_set(run_config(cfg, "default"), out, membrane=f"{net}/membrane.nc",
                                    v_rest_mode=mode, **opts)
elif job == "sensitivity":
    from lfpk.study.sensitivity import sensitivity_files
    call = lambda: sensitivity_files(run_config(cfg, "default"), f"{net}/spikes.nc", f"{net}/signals.nc",
                                     f"{net}/membrane.nc", out)
else:
    raise SystemExit(f"unknown job {job}")
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
call()
r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
print(json.dumps({"wall": t1 - t0, "cpu": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)}))
"""


#: Thread counts Snakemake gives a job of ``threads: 1`` (snakemake.shell: the rules of these jobs
#: declare no threads). With more, OpenBLAS's threads spin around every small matrix product of
#: the kernels on a busy machine (about 16 ms of CPU time instead of 1 ms each, measured here).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def environment(checkout, threads=1):
    """This process's environment with ``PYTHONPATH`` = ``checkout`` first, no fixed mechanism
    folder (``LFPK_BUILD_DIR``, so each code uses the mechanisms of its own sources) and the
    thread counts of a Snakemake job of ``threads`` threads."""
    env = {k: v for k, v in os.environ.items() if k != "LFPK_BUILD_DIR"}
    env["PYTHONPATH"] = os.pathsep.join([str(checkout), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    return env


def run_job(checkout, job, output, network, threads=1):
    """Run ``job`` (``name:argument``) with the code of ``checkout`` writing ``output`` (with the
    thread counts of a Snakemake job of ``threads`` threads); returns ``{"wall": s, "cpu": s}`` of
    the job's function."""
    name, _, arg = job.partition(":")
    cmd = [sys.executable, "-c", CHILD, str(CONFIG), name, arg, str(output), str(network)]
    p = subprocess.run(cmd, cwd=checkout, env=environment(checkout, threads), capture_output=True, text=True,
                       check=False)
    if p.returncode:
        raise SystemExit(f"{job} with the code of {checkout} failed:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


#: Attributes that record the making of a file, not its result.
MAKING = ("software_versions", "timings", "created", "history")


def differences(path_a, path_b):
    """Names of the variables (data or dtype or shape) and attributes in which two netCDF files
    differ; attributes of :data:`MAKING` are left out."""
    from lfpk.base.io import read_dataset

    a, b = read_dataset(path_a), read_dataset(path_b)
    out = []
    for name in sorted(set(a.variables) | set(b.variables)):
        if name not in a.variables or name not in b.variables:
            out.append(f"{name} (only in one)")
            continue
        x, y = np.asarray(a[name].values), np.asarray(b[name].values)
        if x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes():
            out.append(name)
    for key in sorted(set(a.attrs) | set(b.attrs)):
        if key not in MAKING and str(a.attrs.get(key)) != str(b.attrs.get(key)):
            out.append(f"attribute {key}")
    return out


def make_network(work, tstop, transient, ranks):
    """A network run of this tree's code on :data:`CONFIG` in ``work/network``."""
    sys.path.insert(0, str(REPO))
    from lfpk.base.mpi import clean_environment, find_mpiexec

    out = work / "network"
    cmd = [sys.executable, "-m", "lfpk", "network", "--config", str(CONFIG), "--outdir", str(out),
           "--tstop", str(tstop), "--transient", str(transient), "--log", str(work / "network.log")]
    if ranks > 1:
        cmd = [find_mpiexec(), "-n", str(ranks), *cmd]
    print(f"network for the kernel and sensitivity jobs: {tstop:g} ms on {ranks} rank(s) ...", flush=True)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=REPO, env=clean_environment(), capture_output=True, text=True, check=False)
    if p.returncode:
        raise SystemExit(f"the network run failed:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
    print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", default=None, help="checkout of the reference code (e.g. a git worktree of main)")
    ap.add_argument("--jobs", nargs="+", default=list(JOBS), help=f"jobs to time (default: {' '.join(JOBS)})")
    ap.add_argument("--network", default=None, help="folder with spikes.nc, signals.nc, membrane.nc of a network "
                                                      "run of config/hay2011_laptop.yaml")
    ap.add_argument("--tstop", type=float, default=150.0, help="ms of the network made without --network")
    ap.add_argument("--transient", type=float, default=50.0, help="ms of transient of that network")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each job per code (alternating the order)")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads of each job, as Snakemake sets them (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, ...; "
                         "default 1: the rules declare no threads)")
    ap.add_argument("--keep", default=None, help="folder to keep the outputs in (default: a temporary one)")
    args = ap.parse_args(argv)
    for job in args.jobs:
        if job.partition(":")[0] not in ("single_cell", "kernels", "sensitivity"):
            ap.error(f"--jobs: {job!r} is not single_cell:<population>, kernels:<variant> or sensitivity")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-hay-jobs-"))
    work.mkdir(parents=True, exist_ok=True)
    codes = {"tree": REPO}
    if args.reference:
        codes["reference"] = Path(args.reference).resolve()
    network = Path(args.network).resolve() if args.network else None
    if any(not j.startswith("single_cell") for j in args.jobs):
        if network is None:
            network = make_network(work, args.tstop, args.transient, 2)
        missing = [f for f in NETWORK_FILES if not (network / f).is_file()]
        if missing:
            ap.error(f"--network: {network} has no {', '.join(missing)}")
    print(f"Model B jobs, config {CONFIG.relative_to(REPO)}, network {network}, {args.threads} thread(s) per job, "
          f"{os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; " + ", ".join(f"{k}: {v}" for k, v in codes.items()), flush=True)
    rows = []
    for job in args.jobs:
        times = {name: [] for name in codes}
        outputs = {}
        for r in range(args.repeat):
            order = list(codes) if r % 2 == 0 else list(reversed(codes))
            for name in order:
                out = work / name / f"{job.replace(':', '_')}.{r}.nc"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.unlink(missing_ok=True)
                res = run_job(codes[name], job, out, network, args.threads)
                times[name].append(res)
                outputs.setdefault(name, out)
                print(f"  {job:36s} {name:9s} wall {res['wall']:8.2f} s  CPU {res['cpu']:8.2f} s  "
                      f"(load {os.getloadavg()[0]:.2f})", flush=True)
        best = {name: {k: min(t[k] for t in ts) for k in ("wall", "cpu")} for name, ts in times.items()}
        diff = differences(outputs["reference"], outputs["tree"]) if "reference" in outputs else None
        rows.append((job, best, diff))
    print("\nbest of the repeats (s); ratio = reference / tree")
    print(f"{'job':36s} {'ref wall':>9s} {'ref CPU':>9s} {'tree wall':>9s} {'tree CPU':>9s} "
          f"{'wall x':>7s} {'CPU x':>7s}  outputs")
    for job, best, diff in rows:
        t = best["tree"]
        if diff is None:
            print(f"{job:36s} {'':>9s} {'':>9s} {t['wall']:9.2f} {t['cpu']:9.2f}")
            continue
        ref = best["reference"]
        same = "identical" if not diff else "differ: " + ", ".join(diff)
        print(f"{job:36s} {ref['wall']:9.2f} {ref['cpu']:9.2f} {t['wall']:9.2f} {t['cpu']:9.2f} "
              f"{ref['wall'] / t['wall']:7.2f} {ref['cpu'] / t['cpu']:7.2f}  {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
