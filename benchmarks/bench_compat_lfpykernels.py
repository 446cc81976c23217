"""Time of ``KernelApprox.get_kernel``: lfpk.compat.lfpykernels against LFPykernels 0.2.0, one process.

LFPykernels' README example (docs/examples/lfpykernels/readme.py: X = I onto Y = E, 13-contact
Gaussian-cylinder potential and the dipole moment). Each package's ``KernelApprox`` is built once;
``get_kernel`` is called once cold (cell built, probe matrices computed) and then ``--repeat``
times warm, alternating between the packages so both see the same machine load. Prints the median
times and the warm ratio; the kernels' largest difference relative to each probe's peak is checked
on the way.

    python benchmarks/bench_compat_lfpykernels.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "lfpykernels" / "readme.py"


def build(module_name):
    """The README example's KernelApprox and probes of one package (without calling get_kernel)."""
    source = EXAMPLE.read_text().replace("from lfpk.compat.lfpykernels import", f"from {module_name} import")
    source = source.split("H = kernel.get_kernel(")[0]
    namespace = {"__name__": "bench"}
    exec(compile(source, str(EXAMPLE), "exec"), namespace)
    return namespace


def call(ns):
    t0 = time.perf_counter()
    H = ns["kernel"].get_kernel(probes=[ns["probe"], ns["current_dipole_moment"]], Vrest=ns["Vrest"], dt=ns["dt"],
                                X="I", t_X=ns["t_X"], tau=ns["tau"], g_eff=ns["g_eff"])
    return time.perf_counter() - t0, H


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="warm calls per package (default 7)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from lfpk.base import mechanisms
    mechanisms.load()  # Exp2SynI for LFPykernels (its examples load their own mod files)
    os.chdir(EXAMPLE.parent)
    ns = {"lfpykernels": build("lfpykernels"), "lfpk": build("lfpk.compat.lfpykernels")}
    times = {k: [] for k in ns}
    cold, results = {}, {}
    for k in ns:
        cold[k], results[k] = call(ns[k])
    for _ in range(args.repeat):
        for k in ns:
            t, results[k] = call(ns[k])
            times[k].append(t)
    for probe, ref in results["lfpykernels"].items():
        err = np.abs(results["lfpk"][probe] - ref).max() / np.abs(ref).max()
        print(f"{probe}: largest difference {err:.2e} of the peak")
    med = {k: statistics.median(v) for k, v in times.items()}
    for k in ns:
        print(f"{k:12s} cold {cold[k] * 1e3:8.1f} ms   warm median {med[k] * 1e3:8.1f} ms "
              f"(min {min(times[k]) * 1e3:.1f}, max {max(times[k]) * 1e3:.1f})")
    print(f"warm ratio LFPykernels / lfpk: {med['lfpykernels'] / med['lfpk']:.1f}x; "
          f"cold {cold['lfpykernels'] / cold['lfpk']:.1f}x")


if __name__ == "__main__":
    main()
