"""Benchmark: GaussCylinderPotential matrix, fixed-rule method vs per-entry adaptive quadrature.

Builds the (13 contacts x n_seg) matrix of the study's E cell (config/config.yaml) with
:class:`lfpk.model.probes.GaussCylinderPotential` and with one ``scipy.integrate.quad`` call per
(contact, segment) (:func:`lfpk.model.probes.gauss_cylinder_potential_quad`, the reference), both timed in
this run, and prints the wall times, their ratio and the maximum relative difference.

Run: ``.venv/bin/python benchmarks/bench_gauss_cylinder.py``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lfpk.api.config import load_config  # noqa: E402
from lfpk.model.morphology import BallAndStick  # noqa: E402
from lfpk.model.probes import GaussCylinderPotential, gauss_cylinder_potential_quad  # noqa: E402


def best_time(func, repeat):
    """Minimum wall time (s) of ``repeat`` calls and the last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    cfg = load_config(ROOT / "config" / "config.yaml")
    pop = cfg["populations"]["E"]
    cell = BallAndStick.from_config("E", pop)
    z = np.asarray(cfg["probes"]["channel_z"], dtype=float)
    sigma = float(cfg["probes"]["sigma"])
    R = float(pop["placement"]["radius"])
    sigma_z = float(pop["placement"]["z_sd"])
    zmid = cell.segments()["z"].mean(axis=1)

    probe = GaussCylinderPotential(cell, z=z, sigma=sigma, R=R, sigma_z=sigma_z)
    t_fast, M = best_time(probe.get_transformation_matrix, repeat=20)
    t_quad, M_ref = best_time(
        lambda: gauss_cylinder_potential_quad(z, zmid, sigma, R, sigma_z, epsrel=1e-10), repeat=3
    )
    rel = np.max(np.abs(M / M_ref - 1.0))

    print(f"GaussCylinderPotential, E cell: {z.size} contacts x {zmid.size} segments, "
          f"sigma={sigma} S/m, R={R} um, sigma_z={sigma_z} um")
    print(f"  fixed-rule method (best of 20):     {t_fast * 1e3:9.3f} ms")
    print(f"  adaptive quad per entry (best of 3): {t_quad * 1e3:9.3f} ms")
    print(f"  speed-up:                            {t_quad / t_fast:9.1f} x")
    print(f"  max relative difference:             {rel:9.2e}")
    ok = t_quad / t_fast >= 100 and rel <= 1e-6
    print("  PASS (>= 100x, <= 1e-6)" if ok else "  FAIL (need >= 100x and <= 1e-6)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
