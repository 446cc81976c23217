"""Exact LFP and CSD probes for somata uniform in depth within a layer (docs/layers.md,
lfpk.model.probes.uniform_cylinder): the closed form against brute-force depth averages, its thin
layer limit, the size of the old Gaussian approximation, the kernels of a config without layers
unchanged bitwise (against commit 17e15ad of this clone's history), and a layered config's kernel
equal to the uniform probes applied by hand."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from layeredstudy import LAYERS, layered, short_kernel_config
from scipy.integrate import quad
from scipy.special import erf

from lfpk.engines.kernel import KernelEngine
from lfpk.model.probes import (
    GaussCylinderCSD,
    GaussCylinderPotential,
    UniformCylinderCSD,
    UniformCylinderPotential,
    probes_from_config,
    uniform_disc_average,
    uniform_slab_fraction,
)
from lfpk.model.probes.gauss_cylinder import _smoothed_disc

REPO = Path(__file__).resolve().parents[1]
#: The code before the uniform-depth probes (the kernels of 17e15ad, as tests/test_random_rotation_x.py)
REFERENCE_COMMIT = "17e15ad"


def disc(u, R):
    """4 pi sigma phi_disc(u) (1/um) in the cancellation-free form 2 / (sqrt(R^2 + u^2) + |u|)."""
    return 2.0 / (np.hypot(R, u) + np.abs(u))


def brute_average(mu, R, w):
    """Mean of :func:`disc` over u uniform on [mu - w, mu + w] by adaptive quadrature (the kink
    u = 0 a breakpoint)."""
    lo, hi = mu - w, mu + w
    pts = [0.0] if lo < 0.0 < hi else None
    return quad(disc, lo, hi, args=(R,), points=pts, epsabs=0.0, epsrel=1e-13, limit=1000)[0] / (2.0 * w)


# -- (a) the closed form against brute force ------------------------------------------------------

@pytest.mark.parametrize("R", [0.01, 1.0, 150.0, 564.19, 1e4])
def test_closed_form_equals_quadrature(R):
    """The closed form equals adaptive quadrature of the disc potential over the uniform depths to
    1e-9 relative (quad at epsrel 1e-13; the closed form is exact up to rounding), over thin to
    wide layers, contacts inside, at the edges of and far outside the layer."""
    mus = np.array([-5e3, -400.0, -150.0, -149.9, -50.0, -1.0, 0.0, 1e-3, 2.0, 150.0, 151.0, 700.0, 1e4])
    for w in (1e-3, 1.0, 50.0, 150.0, 167.55, 1e3):
        got = uniform_disc_average(mus, R, w)
        want = np.array([brute_average(m, R, w) for m in mus])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)


def test_probe_matrix_is_the_closed_form_over_4_pi_sigma():
    """UniformCylinderPotential's matrix: the average at mu = z_e - z_i (segment midpoints) over
    4 pi sigma, mV/nA; the probe places the layer's depths around the cell's depth."""
    geom = {"x": np.zeros((3, 2)), "y": np.zeros((3, 2)), "z": np.array([[-10.0, 10.0], [10.0, 60.0], [60.0, 300.0]]),
            "d": np.ones(3)}
    z = np.array([-500.0, -100.0, 0.0, 35.0, 400.0])
    M = UniformCylinderPotential(geom, z=z, sigma=0.3, R=150.0, thickness=300.0).get_transformation_matrix()
    zmid = np.array([0.0, 35.0, 180.0])
    want = np.array([[brute_average(ze - zi, 150.0, 150.0) for zi in zmid] for ze in z]) / (4 * np.pi * 0.3)
    np.testing.assert_allclose(M, want, rtol=1e-9, atol=0)


def test_csd_fraction_equals_midpoint_average():
    """The CSD's depth fraction (overlap of the segment's depths with the cylinder over the layer's
    thickness) equals the midpoint rule of the indicator over the soma offsets; the rule on N
    points errs by at most 1/N at each of the two edges, hence the 2/N tolerance."""
    n = 200_000
    t = -1.0 + (np.arange(n) + 0.5) * (2.0 / n)  # offsets / w
    for w in (3.0, 150.0, 400.0):
        for lower in (-1e3, -200.0, -151.0, -60.0, -10.0, 0.0, 140.0, 151.0):
            for height in (1.0, 100.0, 1e3):
                upper = lower + height
                brute = np.mean((lower <= w * t) & (w * t < upper))
                assert abs(uniform_slab_fraction(lower, upper, w) - brute) <= 2.0 / n


# -- (b) the thin layer --------------------------------------------------------------------------

@pytest.mark.parametrize("R", [1.0, 150.0, 564.19])
def test_thin_layer_is_the_plain_disc(R):
    """A thin layer gives the unaveraged disc at the cell's depth: away from the kink (|mu| >> w)
    the average differs by O((w / mu)^2) (here < 1e-14, and the one-sign branch keeps full
    precision); within w of the kink by at most w / R relative (|d ln phi_disc / du| <= 1 / R);
    a layer of zero thickness gives the plain disc exactly."""
    w = 1e-7
    far = np.array([-3e3, -200.0, -1.0, 0.5, 150.0, 1e4])
    np.testing.assert_allclose(uniform_disc_average(far, R, w), disc(far, R), rtol=1e-13, atol=0)
    near = np.array([-1e-7, -1e-9, 0.0, 1e-9, 5e-8])
    np.testing.assert_allclose(uniform_disc_average(near, R, w), disc(near, R), rtol=w / R + 1e-14, atol=0)
    mu = np.concatenate([far, near])
    assert np.array_equal(uniform_disc_average(mu, R, 0.0), disc(mu, R))
    geom = {"x": np.zeros((2, 2)), "y": np.zeros((2, 2)), "z": np.array([[-5.0, 5.0], [5.0, 95.0]]), "d": np.ones(2)}
    z = np.linspace(-300.0, 300.0, 7)
    # a contact at a segment's depth (mu = 0): the kink bound 1e-12 / R with w = 1e-12 um
    thin = UniformCylinderPotential(geom, z=z, sigma=0.3, R=R, thickness=2e-12).get_transformation_matrix()
    plain = GaussCylinderPotential(geom, z=z, sigma=0.3, R=R, sigma_z=0.0).get_transformation_matrix()
    np.testing.assert_allclose(thin, plain, rtol=1e-12 / R + 1e-14, atol=0)
    csd0 = UniformCylinderCSD(geom, z=z, R=R, h=50.0, thickness=0.0).get_transformation_matrix()
    assert np.array_equal(csd0, GaussCylinderCSD(geom, z=z, R=R, h=50.0, sigma_z=0.0).get_transformation_matrix())


# -- (c) the old Gaussian approximation -----------------------------------------------------------

def test_gaussian_of_the_same_sd_misses_a_wide_layer():
    """The error of the old approximation (a layer's uniform depths as the Gaussian of the same
    SD, thickness / sqrt(12)) for the microcircuit's L4, [-922.2, -587.1] um (335.1 um thick) in
    its column of radius 564.19 um (config/microcircuit.yaml; hybridLFPy's layer bounds), and a
    300-um layer, for one point current on the axis, contacts every 1 um within 1.5 mm:

    * LFP: largest error 1.34 % (335.1 um) and 1.18 % (300 um) of the peak, at the source's depth;
      in the laptop's column (R = 150 um) 300 um gives 5.0 %;
    * CSD (cylinders of the column's radius, 100 um high, as the microcircuit's probes): the
      Gaussian puts 32 % (335.1 um) and 31 % (300 um) more current in the source's cylinder than
      the uniform layer (0.436 against 1/3 of the current for 300 um).

    Far from the layer both agree to second order (same mean and variance): below 1e-3 of the
    local value 1.5 mm away."""
    mu = np.linspace(-1500.0, 1500.0, 3001)
    measured = {}
    for thickness, R in ((335.1, 564.19), (300.0, 564.19), (300.0, 150.0)):
        w, sd = 0.5 * thickness, thickness / np.sqrt(12.0)
        exact, gauss = uniform_disc_average(mu, R, w), _smoothed_disc(mu, R, sd)
        lfp_err = np.abs(gauss - exact).max() / exact.max()
        assert mu[np.argmax(np.abs(gauss - exact))] == 0.0
        assert abs(gauss[-1] - exact[-1]) / exact[-1] < 1e-3
        frac = uniform_slab_fraction(mu - 50.0, mu + 50.0, w)
        gfrac = 0.5 * (erf((mu + 50.0) / (np.sqrt(2) * sd)) - erf((mu - 50.0) / (np.sqrt(2) * sd)))
        csd_err = (gfrac[1500] - frac[1500]) / frac[1500]
        measured[(thickness, R)] = (lfp_err, csd_err)
    assert measured[(335.1, 564.19)][0] == pytest.approx(0.0134, abs=5e-5)
    assert measured[(300.0, 564.19)][0] == pytest.approx(0.0118, abs=5e-5)
    assert measured[(300.0, 150.0)][0] == pytest.approx(0.0504, abs=5e-5)
    assert measured[(335.1, 564.19)][1] == pytest.approx(0.323, abs=5e-4)
    assert measured[(300.0, 564.19)][1] == pytest.approx(0.309, abs=5e-4)


# -- (d) a config without layers: kernels unchanged ----------------------------------------------

KERNELS = """
import hashlib, sys
import numpy as np
from lfpk.api.config import load_config
from lfpk.api.kernels import compute_kernels
from lfpk.engines.kernel import KernelEngine
cfg = load_config(sys.argv[1])
h = hashlib.sha256()
engine = KernelEngine.from_config(cfg)
for post in cfg["populations"]:
    for name, (probe, M) in engine.probes(post).items():
        h.update(name.encode()); h.update(type(probe).__name__.encode()); h.update(np.ascontiguousarray(M).tobytes())
k = compute_kernels(cfg)
for name in sorted(k.data_vars):
    v = np.ascontiguousarray(k[name].values)
    if v.dtype.kind in "fiub":
        h.update(name.encode()); h.update(v.tobytes())
print(h.hexdigest())
"""


@pytest.fixture(scope="module")
def base():
    return short_kernel_config(REPO)


def _digest(root, config, cwd):
    env = {**os.environ, "PYTHONPATH": str(root)}
    run = subprocess.run([sys.executable, "-c", KERNELS, str(config)], check=False, cwd=cwd, capture_output=True,
                         text=True, env=env, timeout=900)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip().splitlines()[-1]


def test_kernels_without_layers_are_the_code_before(base, tmp_path):
    """The laptop config (no layers; 20-ms kernels): every probe matrix of the engine and every
    kernel of compute_kernels equal those of the code before the uniform probes (17e15ad), bitwise."""
    has = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{REFERENCE_COMMIT}^{{commit}}"], check=False,
                         capture_output=True).returncode == 0
    assert has, f"the comparison needs commit {REFERENCE_COMMIT} in this clone's history (git fetch --unshallow)"
    ref = tmp_path / "reference"
    ref.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", REFERENCE_COMMIT, "lfpk"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(ref)], input=archive, check=True)
    config = tmp_path / "plain.yaml"
    config.write_text(yaml.safe_dump(base, sort_keys=False))
    assert _digest(REPO, config, tmp_path) == _digest(ref, config, tmp_path)


def test_population_without_layer_keeps_the_gaussian_probes(base):
    """probes_from_config of a population placed by z_mean, z_sd: the Gaussian-cylinder probes with
    the config's z_sd."""
    built = probes_from_config(base, "E")
    assert type(built["lfp"]) is GaussCylinderPotential and type(built["csd"]) is GaussCylinderCSD
    assert built["lfp"].sigma_z == base["populations"]["E"]["placement"]["z_sd"] == built["csd"].sigma_z


# -- (e) a layered config ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cfg(base):
    return layered(base)


def test_layered_population_gets_the_uniform_probes(cfg):
    """A population (or type) in a layer: UniformCylinder probes of the layer's thickness; one
    placed by depth keeps the Gaussian; a layer that is not the config's is one line naming it."""
    thickness = LAYERS["lower"][1] - LAYERS["lower"][0]
    built = probes_from_config(cfg, "E")
    assert type(built["lfp"]) is UniformCylinderPotential and type(built["csd"]) is UniformCylinderCSD
    assert built["lfp"].thickness == built["csd"].thickness == thickness
    assert built["csd"].R_population == built["lfp"].R == cfg["populations"]["E"]["placement"]["radius"]
    engine = KernelEngine.from_config(cfg)
    kinds = {t: type(engine.probes("I", t)["lfp"][0]) for t in (0, 1)}
    assert kinds == {0: GaussCylinderPotential, 1: UniformCylinderPotential}  # basket by depth, small in "lower"
    bad = copy.deepcopy(cfg)
    bad["populations"]["E"]["layer"] = "L9"
    with pytest.raises(ValueError, match=r"^populations\.E\.layer: 'L9' is not a layer of the config \(layers: upper, lower\)$"):
        probes_from_config(bad, "E")


def test_layered_kernel_is_the_uniform_probe_by_hand(cfg):
    """Population E (two types in the 400-um layer ``lower``) from E: the engine's LFP and CSD
    kernels equal the uniform probes built by hand on each type's cell at the layer's mid-depth,
    applied to the kernel's stacked transmembrane currents (each type's current times F_y), to
    1e-12 of the peak (summation order); the Gaussian approximation's kernel differs from it
    (measured: 11 % of the LFP peak, 63 % of the CSD peak)."""
    engine = KernelEngine.from_config(cfg)
    k = engine.kernel("E", "E", cfg["kernel"]["V_rest"], dict(cfg["kernel"]["rates"]))
    (bottom, top), pr = LAYERS["lower"], cfg["probes"]
    R, z = cfg["populations"]["E"]["placement"]["radius"], np.asarray(pr["channel_z"], dtype=float)
    cells = engine.cells_of("E")
    assert [c.z_mean for c in cells] == [0.5 * (bottom + top)] * 2
    geoms = [c.geometry() for c in cells]
    lfp = np.hstack([UniformCylinderPotential(g, z=z, sigma=pr["sigma"], R=R, thickness=top - bottom)
                     .get_transformation_matrix() for g in geoms])
    csd = np.hstack([UniformCylinderCSD(g, z=z, R=pr["csd"]["radius"], h=pr["csd"]["half_height"],
                                        thickness=top - bottom, R_population=R).get_transformation_matrix()
                     for g in geoms])
    current = k["transmembrane_current"]
    for name, M in (("lfp", lfp), ("csd", csd)):
        np.testing.assert_allclose(k[name], M @ current, rtol=0, atol=1e-12 * np.abs(k[name]).max())
    sd = (top - bottom) / np.sqrt(12.0)
    gauss_lfp = np.hstack([GaussCylinderPotential(g, z=z, sigma=pr["sigma"], R=R, sigma_z=sd)
                           .get_transformation_matrix() for g in geoms]) @ current
    gauss_csd = np.hstack([GaussCylinderCSD(g, z=z, R=pr["csd"]["radius"], h=pr["csd"]["half_height"], sigma_z=sd,
                                            R_population=R).get_transformation_matrix() for g in geoms]) @ current
    lfp_err = np.abs(gauss_lfp - k["lfp"]).max() / np.abs(k["lfp"]).max()
    csd_err = np.abs(gauss_csd - k["csd"]).max() / np.abs(k["csd"]).max()
    print(f"Gaussian approximation of E <- E: LFP {lfp_err:.3g}, CSD {csd_err:.3g} of the peak")
    assert 0.08 < lfp_err < 0.15 and 0.5 < csd_err < 0.8
