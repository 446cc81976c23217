"""LFPykernels' README example in lfpk's own vocabulary: the kernels-only file
``docs/examples/kernels_only.yaml`` (the README's network: populations, connections, probes,
kernel options) and one call of ``lfpk.compute_kernels``.

    cd docs/examples/lfpykernels && python readme_lfpk.py

``H`` holds what ``readme.py`` computes through ``lfpk.compat.lfpykernels`` (the same kernel of I
spikes onto E): ``H['lfp']`` (13 contacts, mV) is its ``H['GaussCylinderPotential']`` and
``H['cdm']`` (x, y, z; nA um) its ``H['KernelApproxCurrentDipoleMoment']``. The two routes differ
where the vocabularies do (docs/lfpykernels.md): lfpk gives each lag bin the delay distribution's
probability mass (its CDF) where LFPykernels samples its pdf, builds the ball-and-stick cell from
the config's dimensions instead of a template and morphology file, and keeps the x and y dipole
components of the (unrotated) cell.
"""

from pathlib import Path

import numpy as np

import lfpk

CONFIG = Path(__file__).resolve().parent.parent / "kernels_only.yaml"

kernels = lfpk.compute_kernels(CONFIG, connections=[("E", "I")])  # post E, pre I
H = {name: kernels[name].sel(post="E", pre="I").values for name in ("lfp", "cdm")}

if __name__ == "__main__":
    for name, h in H.items():
        print(f"{name}: shape {h.shape}, peak |H| {np.abs(h).max():.4g}")
