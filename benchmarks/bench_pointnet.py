"""Benchmark: the point-neuron (LIF) network of the config -- cost of a fit evaluation, and memory of
predictions made while NEST runs against the offline prediction of the same spikes.

1. One fit evaluation (the network simulated for ``pointnet.fit.tstop`` and its rate features) is
   timed; the default fit's projected time is that times population x generations.
2. The network is simulated for T and for 4 T with online prediction (``lfpk pointnet simulate``,
   every signal and connection contribution written as NEST runs), and the offline prediction of the
   4 T spikes (``lfpk predict``, which holds the whole recording) is made, each in its own process;
   the peak resident memory of each is printed. Bounded memory: online at 4 T stays near online at
   T, while offline grows with the recording.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_pointnet.py                    # config/config.yaml, T = 2 s
    .venv/bin/python benchmarks/bench_pointnet.py --tstop 1000 --skip-fit
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

REPO = Path(__file__).resolve().parents[1]


def worker(kind, config, tstop, folder):
    """One measurement in this process; prints JSON with wall time and peak RSS (MB)."""
    import resource

    from lfpk.api.config import load_config

    cfg = load_config(config)
    folder = Path(folder)
    start = time.perf_counter()
    out = {}
    if kind == "fit-evaluation":
        from lfpk.study.pointnet.fit import FitSettings, simulate_features
        from lfpk.study.pointnet.parameters import LIFParameters

        settings = FitSettings.from_config(cfg)
        features = simulate_features(LIFParameters.from_config(cfg), settings)
        out["rates"] = features.rates.tolist()
        out["simulated_ms"] = settings.tstop
    elif kind == "kernels":
        from lfpk.api.kernels import compute_kernels
        from lfpk.base.io import write_dataset

        write_dataset(compute_kernels(cfg), folder / "kernels.nc")
    elif kind == "online":
        from lfpk.study.pointnet.stages import simulate_files

        res = simulate_files(cfg, folder / f"spikes_{tstop:g}.nc", kernels=folder / "kernels.nc",
                             online=folder / f"online_{tstop:g}.nc", tstop=tstop)
        out["spikes"] = int(res["spikes"].sizes["spike"])
    elif kind == "offline":
        from lfpk.engines.prediction.predict import predict_files

        predict_files(folder / f"spikes_{tstop:g}.nc", folder / "kernels.nc", folder / f"offline_{tstop:g}.nc",
                      allow_silent=True)
    out["wall_s"] = time.perf_counter() - start
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


def run(kind, config, tstop, folder):
    proc = subprocess.run([sys.executable, __file__, "--worker", kind, "--config", str(config), "--tstop", str(tstop),
                           "--folder", str(folder)], capture_output=True, text=True, cwd=REPO,
                          env=dict(os.environ, PYNEST_QUIET="1"))
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    p.add_argument("--tstop", type=float, default=2000.0, help="T (ms) of the online runs (also 4 T)")
    p.add_argument("--skip-fit", action="store_true")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.worker, args.config, args.tstop, args.folder)
    from lfpk.api.config import load_config

    cfg = load_config(args.config)
    if not args.skip_fit:
        ev = run("fit-evaluation", args.config, args.tstop, ".")
        fit = cfg["pointnet"]["fit"]
        n = fit["population"] * fit["generations"]
        print(f"fit evaluation: {ev['wall_s']:.2f} s for {ev['simulated_ms']:g} ms "
              f"({cfg['pointnet']['threads']} NEST threads; rates {ev['rates']}); default fit "
              f"{fit['population']} x {fit['generations']} = {n} evaluations -> about {n * ev['wall_s'] / 60:.1f} min")
    with tempfile.TemporaryDirectory(prefix="lfpk-bench-pointnet-") as folder:
        run("kernels", args.config, args.tstop, folder)
        rows = []
        for T in (args.tstop, 4 * args.tstop):
            rows.append((f"online, {T:g} ms", run("online", args.config, T, folder)))
        rows.append((f"offline, {4 * args.tstop:g} ms", run("offline", args.config, 4 * args.tstop, folder)))
        for label, r in rows:
            print(f"{label:>20s}: {r['wall_s']:7.1f} s, peak RSS {r['peak_rss_mb']:7.0f} MB")
        grow_online = rows[1][1]["peak_rss_mb"] / rows[0][1]["peak_rss_mb"]
        print(f"peak memory, online 4T / online T: {grow_online:.2f}; offline 4T / online 4T: "
              f"{rows[2][1]['peak_rss_mb'] / rows[1][1]['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
