"""One connection's kernel on a reconstructed cell (issue 11), with a reference in the same run.

The postsynaptic E cell is the made-up pyramidal cell of :mod:`lfpk.model.morphology.synthetic` (a SWC
file of 165 sections, 801 segments by the d_lambda rule of the laptop config), rotated as the Hay
cell of Hagen et al. (2022) (x = 4.729, y = -3.166); the kernel H_EI (I -> E) with LFP, CSD and
current dipole moment (and EEG, MEG) is computed

* by lfpk: a fresh KernelEngine per repetition (model description, cell build, generic frozen
  linearisation, simulation, probes); the first repetition also reads and segments the file;
* by the reference of :mod:`lfpk.engines.kernel.reference`: LFPy.Cell from the same SWC (LFPy's own
  segmentation and rotation), one LFPy.Synapse per segment, LFPy's simulate(rec_imem), the LFP by
  one adaptive quadrature per (contact, segment) entry and the CSD by LFPykit's laminar CSD
  integrated segment by segment, in a fresh interpreter (LFPy deletes all sections); its own
  wall time (cell, simulation, probes) is reported.

Run: .venv/bin/python benchmarks/bench_real_cell.py [--repeats N]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lfpk.api.config import load_config, validate_config  # noqa: E402
from lfpk.base.mechanisms import ensure_loaded  # noqa: E402
from lfpk.engines.kernel import KernelEngine, reference  # noqa: E402
from lfpk.model.morphology import synthetic  # noqa: E402

POST, PRE = "E", "I"


def lfpk_kernel(cfg):
    eng = KernelEngine.from_config(cfg)
    k = eng.kernel(POST, PRE, cfg["kernel"]["V_rest"], rates=cfg["kernel"]["rates"])
    return eng, k


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    ensure_loaded(build_dir=os.environ.get("LFPK_BUILD_DIR") or REPO / "build" / "mechanisms")
    tmp = Path(tempfile.mkdtemp(prefix="lfpk-bench-cell-"))
    swc = synthetic.write(tmp / "pyramidal.swc", seed=2)
    cfg = load_config(REPO / "config" / "config.yaml")
    cfg["populations"][POST]["morphology"] = {"file": str(swc)}
    cfg["populations"][POST]["rotation"] = {"x": 4.729, "y": -3.166}
    cfg = validate_config(cfg)

    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        eng, k = lfpk_kernel(cfg)
        times.append(time.perf_counter() - t0)
    nseg = eng.cell(POST).n_segments
    cold, warm = times[0], statistics.median(times[1:]) if len(times) > 1 else times[0]

    inp = reference.inputs(eng, POST, PRE, cfg["kernel"]["V_rest"], cfg["kernel"]["rates"])
    t0 = time.perf_counter()
    ref = reference.run_isolated(inp)
    ref_total = time.perf_counter() - t0
    n = int(ref["lfp"].shape[1])
    err = {s: float(np.abs(k[s][:, -n:] - ref[s]).max() / np.abs(ref[s]).max()) for s in ("lfp", "csd", "cdm")}

    print(f"cell: {swc.name}, {nseg} segments; kernel H_{POST}{PRE} with LFP ({len(cfg['probes']['channel_z'])} "
          f"contacts), CSD, dipole, EEG, MEG")
    print(f"lfpk: first {cold:.3f} s (file read and segmented), then median of {len(times) - 1}: {warm:.3f} s "
          f"per fresh engine (goal <= 1 s)")
    print(f"reference (LFPy.Cell + LFPy.Synapse + per-entry quadrature, fresh interpreter): "
          f"{float(ref['seconds']):.2f} s inside ({ref_total:.2f} s with interpreter start)")
    print(f"ratio reference / lfpk: {float(ref['seconds']) / warm:.1f}x (warm), "
          f"{float(ref['seconds']) / cold:.1f}x (first)")
    print("max difference, fraction of the reference's peak: "
          + ", ".join(f"{s} {e:.2e}" for s, e in err.items()))


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main()
