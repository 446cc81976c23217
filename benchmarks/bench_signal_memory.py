"""Benchmark: peak memory per rank and simulation time, signals streamed vs kept in memory.

Runs the ground-truth network (``lfpk.engines.network.run_network``) under ``mpiexec -n RANKS`` for two
simulated durations, once per code, alternating the codes run by run (so the load of a shared
machine hits all alike):

* ``stream``: signals.nc written block by block as the run goes (the command line's path): the
  ranks hold one block of signals;
* ``memory``: the same code keeping the full-length signals until the end (``stream=False``);
* ``reference`` (with ``--reference SRC``): another source tree (e.g. ``git archive`` of main
  before the change) through the command line, with this interpreter.

It prints, per code, ranks and duration, each rank's peak resident memory (``peak_memory_mb`` of
the run's ``timings`` attribute; rank 0 includes the write), the simulate and integrate wall times
and the time spent reducing and writing the streamed blocks; then the growth of the peak per
simulated second (the signals of one run: 2 populations x (2 x channels + 3) rows x 8 B per step)
and the simulate time of ``stream`` relative to ``memory``.

Usage (from the repository root; about 2 min on 2 idle cores with the defaults)::

    .venv/bin/python benchmarks/bench_signal_memory.py
    .venv/bin/python benchmarks/bench_signal_memory.py --tstops 1000,4000 --ranks 1,2 --repeat 2 \\
        --reference /tmp/main-src
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def worker(args):
    """One run of this code (under mpiexec): ``run_network`` with the signals streamed or not."""
    from lfpk.api.config import load_config
    from lfpk.base.mechanisms import load
    from lfpk.base.mpi import init_parallel
    from lfpk.engines.network import run_network
    from lfpk.entry.cli.network import _parse_sizes

    pc = init_parallel()
    load(build_dir=args.mechanisms)
    cfg = load_config(args.config)
    run_network(cfg, args.outdir, sizes=_parse_sizes(args.sizes), tstop=args.tstop, transient=args.transient,
                membrane_sample=args.membrane_sample, pc=pc, stream=args.code == "stream")
    pc.barrier()
    pc.done()


def run(code, ranks, tstop, args, work):
    from lfpk.base.mpi import clean_environment, find_mpiexec

    out = work / f"{code}-n{ranks}-t{tstop:g}"
    out.mkdir(parents=True, exist_ok=True)
    common = ["--config", args.config, "--sizes" if code != "reference" else "--population-sizes", args.sizes,
              "--tstop", str(tstop), "--transient", str(args.transient), "--membrane-sample",
              str(args.membrane_sample), "--outdir", str(out)]
    env = clean_environment()
    mech = ["--mechanisms", args.mechanisms] if args.mechanisms else []
    if code == "reference":
        cmd = [sys.executable, "-m", "lfpk", "network", *common, *mech]
        env["PYTHONPATH"] = str(Path(args.reference).resolve())
    else:
        cmd = [sys.executable, __file__, "--worker", "--code", code, *common, *mech]
    if ranks > 1:
        cmd = [find_mpiexec(), "-n", str(ranks), *cmd]
    load = os.getloadavg()[0]
    p = subprocess.run(cmd, cwd=tempfile.gettempdir(), env=env, capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    import netCDF4

    with netCDF4.Dataset(out / "signals.nc") as f:
        tim = json.loads(f.getncattr("timings"))
    return {"peak": tim["peak_memory_mb"], "simulate": tim["simulate"], "integrate": tim["integrate"],
            "stream": tim.get("stream", 0.0), "load": load}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    ap.add_argument("--sizes", "--population-sizes", dest="sizes", default="E=16,I=4")
    ap.add_argument("--tstops", default="1000,4000", help="simulated durations (ms), comma-separated")
    ap.add_argument("--transient", type=float, default=100.0)
    ap.add_argument("--membrane-sample", type=int, default=3)
    ap.add_argument("--ranks", default="1,2", help="rank counts, comma-separated")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--codes", default="stream,memory", help="stream, memory, reference (comma-separated)")
    ap.add_argument("--reference", default=None, help="source tree run as code 'reference' (PYTHONPATH)")
    ap.add_argument("--mechanisms", default=None, help="compiled mechanisms (default: lfpk's)")
    ap.add_argument("--keep", default=None, help="folder to keep the outputs in (default: a temporary one)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--code", default="stream", help=argparse.SUPPRESS)
    ap.add_argument("--tstop", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--outdir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.config = str(Path(args.config).resolve())
    if args.mechanisms:
        args.mechanisms = str(Path(args.mechanisms).resolve())
    if args.worker:
        return worker(args)
    codes = args.codes.split(",")
    if args.reference and "reference" not in codes:
        codes.append("reference")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-signal-memory-"))
    tstops = [float(t) for t in args.tstops.split(",")]
    ranks = [int(r) for r in args.ranks.split(",")]
    print(f"{args.config} sizes {args.sizes}, membrane sample {args.membrane_sample}, {os.cpu_count()} cores")
    res = {}
    for _ in range(args.repeat):
        for n in ranks:
            for t in tstops:
                for code in codes:
                    r = run(code, n, t, args, work)
                    res.setdefault((code, n, t), []).append(r)
                    print(f"  {code:9s} ranks {n} tstop {t:6.0f} ms: peak MB/rank "
                          f"{'/'.join(f'{m:.0f}' for m in r['peak'])}, simulate {r['simulate']:.2f} s, integrate "
                          f"{r['integrate']:.2f} s, stream {r['stream']:.3f} s (load {r['load']:.2f})", flush=True)
    print("peak memory growth per simulated second (MB/s, per rank; best of the repeats):")
    for code in codes:
        for n in ranks:
            lo, hi = (res[(code, n, t)] for t in (tstops[0], tstops[-1]))
            dt = (tstops[-1] - tstops[0]) / 1000.0
            grow = [(min(r["peak"][k] for r in hi) - min(r["peak"][k] for r in lo)) / dt for k in range(n)]
            print(f"  {code:9s} ranks {n}: " + " / ".join(f"{g:.1f}" for g in grow))
    if "stream" in codes and "memory" in codes:
        print("simulate time, stream / memory (best of the repeats):")
        for n in ranks:
            for t in tstops:
                a, b = (min(r["simulate"] for r in res[(c, n, t)]) for c in ("stream", "memory"))
                s = min(r["stream"] for r in res[("stream", n, t)])
                print(f"  ranks {n} tstop {t:6.0f} ms: {a:.2f} / {b:.2f} s = {a / b:.3f} "
                      f"(reduction + write of the blocks {s:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
