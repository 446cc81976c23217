"""Kernel engine performance (issue 3), with a reference measured in the same run.

1. All four kernels (E/I x E/I) with LFP, CSD, dipole (and EEG, MEG) probes for the study's
   parameters: lfpk's KernelEngine (fresh engine each repetition, so cell build and probe matrices
   are included) versus a straightforward reference of the same computation done the way
   LFPykernels does it: an LFPy.Cell from the .hoc morphology, one LFPy.Synapse per segment,
   LFPy's simulate(rec_imem=True), and the Gaussian-cylinder matrix by adaptive quadrature per
   (contact, segment). Both give the same kernels (max relative difference printed).
2. A scan of 441 kernel evaluations (21 rate scalings 0..2 x 21 V_rest offsets -10..+10 mV) of
   one connection, as in the paper's sensitivity figure.

Run: .venv/bin/python benchmarks/bench_kernels.py [--repeats N]
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

from lfpk.api.config import load_config  # noqa: E402
from lfpk.base.mechanisms import ensure_loaded  # noqa: E402
from lfpk.engines.kernel import KernelEngine, convolve_delays, delay_probabilities  # noqa: E402
from lfpk.model.probes import gauss_cylinder_potential_quad  # noqa: E402

PAIRS = [("E", "E"), ("E", "I"), ("I", "E"), ("I", "I")]


def lfpk_all_kernels(cfg):
    eng = KernelEngine.from_config(cfg)
    rates = cfg["kernel"]["rates"]
    return {pair: eng.kernel(*pair, cfg["kernel"]["V_rest"], rates=rates) for pair in PAIRS}


def reference_inputs(cfg, eng, post, pre):
    """Everything the reference needs from the engine's statistics (computed before LFPy runs)."""
    V_rest = cfg["kernel"]["V_rest"]
    ecell = eng.cell(post)
    ecell.configure(V_rest, eng.g_eff(post, cfg["kernel"]["rates"]))
    syn = eng.connections[(post, pre)].scaled_synapse
    amp = float(syn.linearised_amplitude(V_rest))
    pop = eng.populations[post]
    c = eng.connections[(post, pre)]
    return {
        "g_leak": np.array([seg.pas.g for seg in ecell._segs]),
        "weights": eng.counts(post, pre).k_out * eng.synapse_probabilities(post, pre) * amp,
        "tau1": syn.tau1, "tau2": syn.tau2,
        "delay_p": delay_probabilities(c.delays, eng.options.dt, eng.options.n_positive),
        "z_mean": pop.z_mean, "R": pop.radius, "z_sd": pop.z_sd,
        "dt": eng.options.dt, "n": eng.options.n_positive, "celsius": eng.options.celsius,
    }


def reference_kernel(cfg, inp, hoc):
    """The same kernel through LFPy.Cell / LFPy.Synapse / adaptive quadrature."""
    import LFPy

    V_rest = cfg["kernel"]["V_rest"]
    dt, n = inp["dt"], inp["n"]
    cell = LFPy.Cell(morphology=str(hoc), nsegs_method=None, dt=dt, tstart=0.0,
                     tstop=(n + 1) * dt, v_init=V_rest, celsius=inp["celsius"], delete_sections=True)
    for sec in cell.allseclist:
        sec.insert("pas")
    for seg, g in zip((seg for sec in cell.allseclist for seg in sec), inp["g_leak"]):
        seg.pas.g = g
        seg.pas.e = V_rest
    syns = []
    for idx, w in enumerate(inp["weights"]):
        if w != 0:
            s = LFPy.Synapse(cell, idx=idx, syntype="Exp2SynI", weight=w, tau1=inp["tau1"], tau2=inp["tau2"])
            s.set_spike_times(np.array([2 * dt]))
            syns.append(s)
    cell.simulate(rec_imem=True)
    imem = cell.imem[:, 2:2 + n]
    zmid = cell.z.mean(axis=1) + inp["z_mean"]
    M = gauss_cylinder_potential_quad(cfg["probes"]["channel_z"], zmid, cfg["probes"]["sigma"],
                                      inp["R"], inp["z_sd"])
    lfp = np.array([np.convolve(row, inp["delay_p"])[:n] for row in M @ imem])
    lfp -= lfp[:, :1]
    return lfp


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    ensure_loaded()
    cfg = load_config(REPO / "config" / "config.yaml")
    from lfpk.model import morphologies as from_config

    tmp = Path(tempfile.mkdtemp())
    for name, m in from_config(cfg).items():
        (tmp / f"{name}.hoc").write_text(m.to_hoc())

    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        kernels = lfpk_all_kernels(cfg)
        times.append(time.perf_counter() - t0)
    lfpk_median = statistics.median(times)

    eng = KernelEngine.from_config(cfg)
    inputs = {pair: reference_inputs(cfg, eng, *pair) for pair in PAIRS}
    del eng
    import gc

    gc.collect()
    ref_times, max_rel = [], 0.0
    n_pos = inputs[PAIRS[0]]["n"]
    for rep in range(max(1, args.repeats // 3)):
        t0 = time.perf_counter()
        refs = {pair: reference_kernel(cfg, inputs[pair], tmp / f"{pair[0]}.hoc") for pair in PAIRS}
        ref_times.append(time.perf_counter() - t0)
    for pair in PAIRS:
        ours = kernels[pair]["lfp"][:, -n_pos:]
        max_rel = max(max_rel, np.abs(ours - refs[pair]).max() / np.abs(refs[pair]).max())
    ref_median = statistics.median(ref_times)
    print(f"all four kernels (LFP, CSD, CDM, EEG, MEG), median of {args.repeats}: "
          f"lfpk {lfpk_median * 1e3:.1f} ms")
    print(f"reference (LFPy.Cell + LFPy.Synapse + adaptive-quadrature probe), median of {len(ref_times)}: "
          f"{ref_median * 1e3:.1f} ms")
    print(f"speed-up: {ref_median / lfpk_median:.1f}x; max relative LFP kernel difference {max_rel:.2e}")

    # 441-point sensitivity scan of one connection with one engine
    eng = KernelEngine.from_config(cfg)
    base_rates = cfg["kernel"]["rates"]
    eng.kernel("E", "I", cfg["kernel"]["V_rest"], rates=base_rates)  # build once
    t0 = time.perf_counter()
    n = 0
    for scale in np.linspace(0.0, 2.0, 21):
        rates = {k: v * scale for k, v in base_rates.items()}
        for dv in np.linspace(-10.0, 10.0, 21):
            eng.kernel("E", "I", cfg["kernel"]["V_rest"] + dv, rates=rates)
            n += 1
    scan = time.perf_counter() - t0
    one = scan / n
    print(f"scan of {n} kernel evaluations (E<-I, 21 rate scalings x 21 V_rest offsets): {scan:.2f} s "
          f"({one * 1e3:.1f} ms each; {60.0 / scan:.1f}x inside the 60 s budget)")


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main()
