"""Kernel jobs (issue 15, part 3): one process per connection plus a gathering process, against
one process per kernel variant computing every connection, measured in the same run.

For each kernel variant of a config (run ``config``: V_rest and rates of the config) the script
runs, with a fresh Python process each, as the workflow's jobs do:

* per connection (the former rules ``kernel`` and ``kernels_gather``): ``lfpk kernel --post Y
  --pre X --output Y_X.nc`` for every connection, then ``lfpk kernel-gather``;
* per variant (rule ``kernels``): ``lfpk kernel --gathered kernels.nc``, one process for every
  connection (one linearised cell per postsynaptic population).

The processes run one after another on one core, so the sum of their wall times is the core time
of the kernel stage; Snakemake's own cost per job (about 1-2 s more per job on the 2-core machine)
comes on top and makes the real saving larger. The two gathered files are checked to be
identical (data and attributes).

Run: .venv/bin/python benchmarks/bench_kernel_jobs.py [--config FILE] [--variants V1,V2] [--repeats N]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lfpk.api.config import load_config  # noqa: E402
from lfpk.model.rules import parse_variant  # noqa: E402

LFPK = [sys.executable, "-m", "lfpk.entry.cli.main"]


def _run(args):
    start = time.perf_counter()
    proc = subprocess.run([*LFPK, *args], capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"lfpk {' '.join(args)} failed:\n{proc.stderr}")
    return time.perf_counter() - start


def _variant_args(variant):
    opts = parse_variant(variant)
    if opts["v_rest_mode"] != "scalar":
        raise SystemExit(f"variant {variant}: per-segment V_rest needs a ground-truth membrane file")
    return ["--biophysics", opts["biophysics"], "--g-eff" if opts["g_eff"] else "--no-g-eff"]


def per_connection(config, pairs, variant, folder):
    paths = [str(folder / f"{post}_{pre}.nc") for post, pre in pairs]
    seconds = sum(_run(["kernel", "--config", config, "--post", post, "--pre", pre, "--output", path,
                        *_variant_args(variant)]) for (post, pre), path in zip(pairs, paths))
    return seconds + _run(["kernel-gather", *paths, "--output", str(folder / "two_steps.nc")])


def per_variant(config, variant, folder):
    return _run(["kernel", "--config", config, "--gathered", str(folder / "one_job.nc"), *_variant_args(variant)])


def main():
    import xarray as xr

    from lfpk.base.io import read_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    parser.add_argument("--variants", default="frozen-geff-scalar,passive-nogeff-scalar,quasi_linear-geff-scalar")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    cfg = load_config(args.config)
    pairs = [(c["post"], c["pre"]) for c in cfg["connections"]]
    variants = args.variants.split(",")
    old, new = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            t_old = t_new = 0.0
            for variant in variants:
                folder = Path(tmp) / f"{rep}-{variant}"
                folder.mkdir()
                t_old += per_connection(args.config, pairs, variant, folder)
                t_new += per_variant(args.config, variant, folder)
                xr.testing.assert_identical(read_dataset(folder / "one_job.nc"), read_dataset(folder / "two_steps.nc"))
            old.append(t_old)
            new.append(t_new)
    n_old = len(variants) * (len(pairs) + 1)
    print(f"{Path(args.config).name}: {len(pairs)} connections x {len(variants)} variants")
    print(f"per connection + gather: {n_old} processes, median {statistics.median(old):.2f} s")
    print(f"per variant:             {len(variants)} processes, median {statistics.median(new):.2f} s")
    print(f"ratio (per connection / per variant): {statistics.median(old) / statistics.median(new):.1f}x; "
          "gathered files identical")


if __name__ == "__main__":
    main()
