"""The cost of the public call against the engine (issue 23): one warm kernel through
``lfpk.compute_kernels`` versus ``KernelEngine.kernel`` of the same connection.

``compute_kernels`` validates the configuration once per content (a warm call with the same
configuration validates nothing again) and reuses the engine of the same model, so a warm call costs
the engine's kernel plus the labelled dataset. Printed: the median of warm calls of each, the ratio,
and the cost of a call that changes the rates (one validation) and of one validation.

Run: .venv/bin/python benchmarks/bench_compute_kernels.py [--repeats N] [--config FILE]
No timed asserts: numbers depend on the machine's load.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import lfpk  # noqa: E402
from lfpk.api.config import load_config, validate_config  # noqa: E402
from lfpk.engines.kernel import KernelEngine  # noqa: E402
from lfpk.engines.kernel.inputs import kernel_inputs  # noqa: E402


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    ap.add_argument("--post", default="E")
    ap.add_argument("--pre", default="I")
    args = ap.parse_args()
    cfg = load_config(args.config)
    pair = [(args.post, args.pre)]
    eng = KernelEngine.from_config(cfg)
    V, rates, _ = kernel_inputs(cfg)
    engine = lambda: eng.kernel(args.post, args.pre, V[args.post], rates=rates)  # noqa: E731
    api_dict = lambda: lfpk.compute_kernels(cfg, connections=pair)  # noqa: E731
    api_file = lambda: lfpk.compute_kernels(args.config, connections=pair)  # noqa: E731
    engine(), api_dict(), api_file()  # first calls: NEURON, cells, probe matrices
    t_engine = median_ms(engine, args.repeats)
    t_dict = median_ms(api_dict, args.repeats)
    t_file = median_ms(api_file, args.repeats)
    scale = iter(range(1, 10**6))
    t_rates = median_ms(lambda: lfpk.compute_kernels(cfg, connections=pair, rates={args.pre: 5.0 + next(scale) * 1e-3}),
                        args.repeats)
    t_validate = median_ms(lambda: validate_config(cfg), args.repeats)
    print(f"connection {args.pre} -> {args.post} of {args.config}, median of {args.repeats} warm calls:")
    print(f"  KernelEngine.kernel                        {t_engine:7.1f} ms")
    print(f"  lfpk.compute_kernels(dict)                 {t_dict:7.1f} ms   ratio {t_dict / t_engine:.2f}")
    print(f"  lfpk.compute_kernels(path)                 {t_file:7.1f} ms   ratio {t_file / t_engine:.2f}")
    print(f"  lfpk.compute_kernels(dict, new rates)      {t_rates:7.1f} ms   ratio {t_rates / t_engine:.2f}")
    print(f"  validate_config (once)                     {t_validate:7.1f} ms")


if __name__ == "__main__":
    main()
