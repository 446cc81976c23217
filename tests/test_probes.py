"""Physics tests of lfpk.model.probes (analytic limits, conservation laws, LFPykit cross-checks)."""

from pathlib import Path

import lfpykit
import numpy as np
import pytest
from lfpykit import eegmegcalc

from lfpk.api.config import load_config
from lfpk.model import probes as P
from lfpk.model.morphology import BallAndStick

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cfg():
    return load_config(ROOT / "config" / "config.yaml")


@pytest.fixture(scope="module")
def e_cell(cfg):
    return BallAndStick.from_config("E", cfg["populations"]["E"])


@pytest.fixture(scope="module")
def study(cfg):
    pop = cfg["populations"]["E"]["placement"]
    return dict(z=np.asarray(cfg["probes"]["channel_z"], float), sigma=float(cfg["probes"]["sigma"]),
                R=float(pop["radius"]), sigma_z=float(pop["z_sd"]))


def line_geometry(z_edges, d=1e-3, x=0.0, y=0.0):
    """Segments along z between consecutive ``z_edges`` (um)."""
    z_edges = np.asarray(z_edges, float)
    z = np.column_stack([z_edges[:-1], z_edges[1:]])
    return lfpykit.CellGeometry(x=np.full_like(z, x), y=np.full_like(z, y), z=z,
                                d=np.full(z.shape[0], d))


def disc_potential(u, R, sigma):
    """On-axis potential (mV per nA) of a uniform disc current at axial distance u (um)."""
    return (np.sqrt(R**2 + u**2) - np.abs(u)) / (2 * np.pi * sigma * R**2)


# ----------------------------------------------------------------- GaussCylinderPotential


@pytest.mark.parametrize("pop", ["E", "I"])
def test_gauss_cylinder_potential_matches_adaptive_quadrature_for_study(cfg, study, pop):
    cell = BallAndStick.from_config(pop, cfg["populations"][pop])
    M = P.GaussCylinderPotential(cell, **study).get_transformation_matrix()
    zmid = cell.segments()["z"].mean(axis=1)
    ref = P.gauss_cylinder_potential_quad(study["z"], zmid, study["sigma"], study["R"],
                                          study["sigma_z"], epsrel=1e-11)
    assert M.shape == (13, len(zmid))
    np.testing.assert_allclose(M, ref, rtol=1e-6, atol=0)


@pytest.mark.parametrize("R, sigma_z", [(0.5, 0.01), (0.5, 500.0), (1e4, 0.01), (1e4, 500.0),
                                        (150.0, 1.0), (2.0, 75.0)])
def test_gauss_cylinder_potential_matches_quadrature_in_limits(R, sigma_z):
    z = np.array([-2000.0, -300.0, -10.0, 0.0, 0.3, 7.0, 150.0, 1000.0])
    geom = line_geometry(np.linspace(-400.0, 400.0, 9))
    M = P.GaussCylinderPotential(geom, z=z, sigma=0.3, R=R, sigma_z=sigma_z).get_transformation_matrix()
    ref = P.gauss_cylinder_potential_quad(z, geom.z.mean(axis=1), 0.3, R, sigma_z, epsrel=1e-11)
    np.testing.assert_allclose(M, ref, rtol=1e-6, atol=0)


def test_point_source_limit_equals_coulomb_and_lfpykit():
    # small disc and depth spread, contacts >= 100 um from every segment midpoint
    sigma = 0.3
    geom = line_geometry(np.linspace(-100.0, 300.0, 9), d=2.0)
    z = np.array([-1500.0, -600.0, -200.0, 400.0, 800.0, 3000.0])
    M = P.GaussCylinderPotential(geom, z=z, sigma=sigma, R=1e-2, sigma_z=1e-2).get_transformation_matrix()
    r = np.abs(z[:, None] - geom.z.mean(axis=1)[None, :])
    np.testing.assert_allclose(M, 1.0 / (4 * np.pi * sigma * r), rtol=1e-8)
    psp = lfpykit.PointSourcePotential(geom, x=np.zeros(z.size), y=np.zeros(z.size), z=z, sigma=sigma)
    np.testing.assert_allclose(M, psp.get_transformation_matrix(), rtol=1e-8)


def test_infinite_disc_limit_gives_planar_sheet_field():
    # sheet of current I / (pi R^2) per area: phi(z1) - phi(z2) = -I (E|u1| - E|u2|) / (2 sigma pi R^2),
    # with E|u| the folded-normal mean sigma_z sqrt(2/pi) exp(-mu^2/2 sigma_z^2) + mu erf(mu/sqrt2 sigma_z)
    from scipy.special import erf

    sigma, R, sz = 0.3, 1e7, 75.0
    geom = line_geometry([-5.0, 5.0, 95.0, 105.0])
    z = np.array([-600.0, -100.0, 0.0, 40.0, 200.0, 900.0])
    M = P.GaussCylinderPotential(geom, z=z, sigma=sigma, R=R, sigma_z=sz).get_transformation_matrix()
    mu = z[:, None] - geom.z.mean(axis=1)[None, :]
    Eabs = sz * np.sqrt(2 / np.pi) * np.exp(-mu**2 / (2 * sz**2)) + mu * erf(mu / (np.sqrt(2) * sz))
    sheet = -Eabs / (2 * sigma * np.pi * R**2)
    np.testing.assert_allclose(M[1:] - M[:-1], sheet[1:] - sheet[:-1], rtol=1e-4)


def test_sigma_z_to_zero_reduces_to_disc_formula():
    sigma, R = 0.3, 150.0
    geom = line_geometry(np.linspace(-200.0, 600.0, 17))
    z = np.linspace(-500.0, 1000.0, 31)
    u = z[:, None] - geom.z.mean(axis=1)[None, :]
    exact = disc_potential(u, R, sigma)
    M0 = P.GaussCylinderPotential(geom, z=z, sigma=sigma, R=R, sigma_z=0.0).get_transformation_matrix()
    np.testing.assert_allclose(M0, exact, rtol=1e-12)
    errs = []
    for sz in (10.0, 1.0, 1e-2, 1e-4):
        M = P.GaussCylinderPotential(geom, z=z, sigma=sigma, R=R, sigma_z=sz).get_transformation_matrix()
        errs.append(np.max(np.abs(M / exact - 1)))
    assert all(a > b for a, b in zip(errs, errs[1:]))
    assert errs[-1] < 1e-6  # kink smoothing error ~ sqrt(2/pi) sigma_z / R


def test_zero_net_current_has_dipolar_far_field(e_cell, study):
    # zero total current -> no monopole; far field is p_z / (4 pi sigma z^2), p_z = sum z_i I_i
    # (the disc and Gaussian spreads are symmetric and keep the dipole moment)
    seg = e_cell.segments()
    zmid = seg["z"].mean(axis=1)
    rng = np.random.default_rng(1)
    I = rng.normal(size=zmid.size)
    I -= I.mean()
    z = np.array([2e4, 5e4, 2e5])
    kw = dict(study, z=z)
    phi = P.GaussCylinderPotential(e_cell, **kw).get_transformation_matrix() @ I
    dipole = (zmid @ I) / (4 * np.pi * study["sigma"] * z**2)
    np.testing.assert_allclose(phi, dipole, rtol=0.1)
    rel = np.abs(phi / dipole - 1)
    assert rel[-1] < rel[0]  # higher multipoles vanish faster
    monopole = np.abs(P.GaussCylinderPotential(e_cell, **kw).get_transformation_matrix()) @ np.abs(I)
    assert np.all(np.abs(phi) < 0.05 * monopole)


def test_superposition_and_linear_scaling(e_cell, study):
    M = P.GaussCylinderPotential(e_cell, **study).get_transformation_matrix()
    rng = np.random.default_rng(2)
    I1, I2 = rng.normal(size=(2, M.shape[1]))
    np.testing.assert_allclose(M @ (2 * I1 - 3 * I2), 2 * (M @ I1) - 3 * (M @ I2), rtol=1e-12, atol=1e-15)
    # conductivity scaling: phi ~ 1 / sigma
    M2 = P.GaussCylinderPotential(e_cell, **dict(study, sigma=0.6)).get_transformation_matrix()
    np.testing.assert_allclose(M2, M / 2, rtol=1e-12)


# ----------------------------------------------------------------- CSD


@pytest.mark.parametrize("sigma_z", [0.0, 20.0, 75.0])
def test_csd_integrates_to_total_current(e_cell, sigma_z):
    R, h = 150.0, 50.0
    z = np.arange(-3000.0, 3000.0 + h, 2 * h)  # contiguous, non-overlapping, covering all depth
    probe = P.GaussCylinderCSD(e_cell, z=z, R=R, h=h, sigma_z=sigma_z)
    M = probe.get_transformation_matrix()
    I = np.random.default_rng(3).normal(size=M.shape[1])
    total = (M @ I).sum() * probe.volume * 1e-6  # uA/mm3 -> nA/um3, times um3 -> nA
    np.testing.assert_allclose(total, I.sum(), rtol=1e-9)
    # each segment's current is fully accounted for
    np.testing.assert_allclose(M.sum(axis=0) * probe.volume * 1e-6, 1.0, rtol=1e-9)


def test_csd_radial_fraction_and_units(e_cell):
    z = np.arange(-3000.0, 3050.0, 100.0)
    wide = P.GaussCylinderCSD(e_cell, z=z, R=100.0, h=50.0, sigma_z=30.0, R_population=200.0)
    M = wide.get_transformation_matrix()
    np.testing.assert_allclose(M.sum(axis=0) * wide.volume * 1e-6, (100.0 / 200.0) ** 2, rtol=1e-9)
    # single point current 1 nA at the centre of a narrow-spread cylinder: 1 nA / V in uA/mm3
    geom = line_geometry([-1.0, 1.0])
    c = P.GaussCylinderCSD(geom, z=[0.0], R=10.0, h=5.0, sigma_z=0.0)
    np.testing.assert_allclose(c.get_transformation_matrix()[0, 0], 1e6 / (np.pi * 10.0**2 * 10.0), rtol=1e-14)
    assert c.units == "uA/mm3"


# ----------------------------------------------------------------- dipole moment


def test_cdm_of_source_sink_pair_equals_current_times_separation():
    geom = line_geometry([0.0, 10.0, 100.0, 110.0])  # midpoints 5, 55, 105
    geom = lfpykit.CellGeometry(x=geom.x + 3.0, y=geom.y - 2.0, z=geom.z, d=geom.d)
    I = np.array([0.7, 0.0, -0.7])  # source at z=5, sink at z=105
    p = P.CurrentDipoleMoment(geom).get_transformation_matrix() @ I
    np.testing.assert_allclose(p, [0.0, 0.0, 0.7 * (5.0 - 105.0)], atol=1e-12)


def test_cdm_matches_lfpykit(e_cell):
    g = P.as_cell_geometry(e_cell)
    g = lfpykit.CellGeometry(x=g.x + 12.0, y=g.y - 7.0, z=g.z + 30.0, d=g.d)
    np.testing.assert_allclose(P.CurrentDipoleMoment(g).get_transformation_matrix(),
                               lfpykit.CurrentDipoleMoment(g).get_transformation_matrix())


# ----------------------------------------------------------------- EEG / MEG


def test_four_sphere_eeg_matches_lfpykit_and_scales_linearly(cfg):
    eeg = cfg["probes"]["eeg"]
    el = np.array([[0.0, 0.0, 90000.0], [20000.0, 0.0, 87000.0], [0.0, -30000.0, 84000.0]])
    probe = P.FourSphereEEG(eeg["radii"], eeg["sigmas"], eeg["dipole_location"], el)
    M = probe.get_transformation_matrix()
    assert M.shape == (3, 3)
    p = np.array([[10.0, -3.0], [4.0, 0.0], [100.0, 50.0]])
    fs = eegmegcalc.FourSphereVolumeConductor(el, radii=eeg["radii"], sigmas=eeg["sigmas"])
    ref = fs.get_dipole_potential(p, np.asarray(eeg["dipole_location"], float))
    np.testing.assert_allclose(M @ p, ref, rtol=1e-10)
    np.testing.assert_allclose(M @ (5.0 * p), 5.0 * ref, rtol=1e-10)
    # radial dipole pointing to the electrode above it gives a positive potential there
    assert M[0, 2] > 0


def test_meg_biot_savart_layout_and_units():
    r = 1e4
    meg = P.MEG(sensor_locations=[[0.0, 0.0, r], [r, 0.0, 0.0]], dipole_location=[0.0, 0.0, 0.0])
    M = meg.get_transformation_matrix()
    assert M.shape == (6, 3) and meg.units == "nA/um"
    H = (M @ np.array([1.0, 0.0, 0.0])).reshape(2, 3)  # p = x-hat (nA um)
    # H = p x R / (4 pi R^3): sensor on z -> -y direction; sensor on x (parallel) -> 0
    np.testing.assert_allclose(H[0], [0.0, -1.0 / (4 * np.pi * r**2), 0.0], rtol=1e-12, atol=1e-30)
    np.testing.assert_allclose(H[1], 0.0, atol=1e-30)
    ref = eegmegcalc.InfiniteHomogeneousVolCondMEG(meg.sensor_locations).get_transformation_matrix(
        np.zeros(3))
    np.testing.assert_allclose(M, ref.reshape(-1, 3))
    B = P.MEG([[0.0, 0.0, r]], [0.0, 0.0, 0.0], quantity="B")
    # B = mu0 H; 1 nA/um = 1e-3 A/m; mu0 = 4 pi 1e-7 T m/A; 1 T = 1e15 fT
    np.testing.assert_allclose(B.get_transformation_matrix(), M[:3] * 4e-7 * np.pi * 1e-3 * 1e15, rtol=1e-12)
    assert B.units == "fT"


def test_meg_spherical_matches_lfpykit():
    sens = np.array([[0.0, 0.0, 92000.0], [5000.0, 0.0, 95000.0]])
    rp = np.array([0.0, 0.0, 90000.0])
    M = P.MEG(sens, rp, model="spherical").get_transformation_matrix()
    ref = eegmegcalc.SphericallySymmetricVolCondMEG(sens).get_transformation_matrix(rp)
    np.testing.assert_allclose(M, ref.reshape(-1, 3))
    # radial dipole: no field outside a spherically symmetric conductor
    np.testing.assert_allclose(M @ np.array([0.0, 0.0, 1.0]), 0.0, atol=1e-25)


# ----------------------------------------------------------------- PopulationAveragedModel


def test_population_average_without_spread_is_the_lfpykit_model(e_cell):
    z = np.linspace(-300.0, 1200.0, 7)
    kw = dict(x=np.full(7, 20.0), y=np.zeros(7), z=z, sigma=0.3)
    for name in ("PointSourcePotential", "LineSourcePotential"):
        M = P.PopulationAveragedModel(name, e_cell, kw, R=0.0, sigma_z=0.0).get_transformation_matrix()
        ref = getattr(lfpykit, name)(P.as_cell_geometry(e_cell), **kw).get_transformation_matrix()
        np.testing.assert_allclose(M, ref, rtol=1e-14)


def test_population_average_converges_to_gauss_cylinder(e_cell, study):
    g = P.as_cell_geometry(e_cell)  # thin segments: LFPykit's r_limit clamp plays no role
    g = lfpykit.CellGeometry(x=g.x, y=g.y, z=g.z, d=np.full(g.z.shape[0], 1e-3))
    z = study["z"]
    kw = dict(x=np.zeros(z.size), y=np.zeros(z.size), z=z, sigma=study["sigma"])
    ref = P.GaussCylinderPotential(g, **study).get_transformation_matrix()
    errs = []
    for n in (4, 8, 16):
        M = P.PopulationAveragedModel("PointSourcePotential", g, kw, R=study["R"], sigma_z=study["sigma_z"],
                                      order=(n, 2, 2 * n)).get_transformation_matrix()
        errs.append(np.abs(M - ref).max() / np.abs(ref).max())
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 0.02
    # deterministic
    M2 = P.PopulationAveragedModel("PointSourcePotential", g, kw, R=study["R"], sigma_z=study["sigma_z"],
                                   order=(16, 2, 32)).get_transformation_matrix()
    np.testing.assert_array_equal(M, M2)


def test_population_nodes_integrate_the_distribution_moments():
    dx, dy, dz, w = P.population_nodes(150.0, 75.0, order=(6, 8, 10))
    np.testing.assert_allclose(w.sum(), 1.0, rtol=1e-14)
    np.testing.assert_allclose(w @ (dx**2 + dy**2), 150.0**2 / 2, rtol=1e-12)  # E r^2 = R^2 / 2
    np.testing.assert_allclose(w @ dz**2, 75.0**2, rtol=1e-12)
    np.testing.assert_allclose([w @ dx, w @ dy, w @ dz], 0.0, atol=1e-9)


# ----------------------------------------------------------------- geometry, config, validation


def test_geometry_inputs_are_equivalent(e_cell, study):
    seg = e_cell.segments()
    forms = [e_cell, seg, e_cell.segment_table(),
             lfpykit.CellGeometry(x=seg["x"], y=seg["y"], z=seg["z"], d=seg["diam"])]
    mats = [P.GaussCylinderPotential(f, **study).get_transformation_matrix() for f in forms]
    for M in mats[1:]:
        np.testing.assert_array_equal(M, mats[0])
    late = P.GaussCylinderPotential(None, **study)
    with pytest.raises(AttributeError, match="cell is None"):
        late.get_transformation_matrix()
    np.testing.assert_array_equal(late.get_transformation_matrix(seg), mats[0])
    late.cell = seg
    np.testing.assert_array_equal(late.get_transformation_matrix(), mats[0])


def test_probes_from_config(cfg, e_cell):
    probes = P.probes_from_config(cfg, "E", cell=e_cell)
    assert list(probes) == ["lfp", "csd", "cdm", "eeg", "meg"]
    assert [p.input for p in probes.values()] == ["imem", "imem", "imem", "cdm", "cdm"]
    assert [p.units for p in probes.values()] == ["mV", "uA/mm3", "nA um", "mV", "nA/um"]
    for p in probes.values():
        assert p.long_name and p.channel_dim
        assert len(p.channel_coord) == p.get_transformation_matrix().shape[0]
    lfp = probes["lfp"]
    assert (lfp.R, lfp.sigma_z, lfp.sigma) == (150.0, 75.0, 0.3)
    np.testing.assert_array_equal(lfp.z, cfg["probes"]["channel_z"])
    assert (probes["csd"].R, probes["csd"].h) == (150.0, 50.0)
    n_seg = len(e_cell.segments()["diam"])
    assert probes["cdm"].get_transformation_matrix().shape == (3, n_seg)
    # eeg is applied to the cdm
    p = probes["cdm"].get_transformation_matrix() @ np.ones(n_seg)
    assert (probes["eeg"].get_transformation_matrix() @ p).shape == (1,)
    with pytest.raises(ValueError, match="population"):
        P.probes_from_config(cfg, "X")


@pytest.mark.parametrize("kwargs, name", [
    (dict(z=np.zeros((2, 2))), "z"),
    (dict(z=[]), "z"),
    (dict(R=0.0), "R"),
    (dict(R=-5.0), "R"),
    (dict(sigma=0.0), "sigma"),
    (dict(sigma=np.nan), "sigma"),
    (dict(sigma_z=-1.0), "sigma_z"),
])
def test_gauss_cylinder_potential_rejects_bad_input(kwargs, name):
    base = dict(z=[0.0, 100.0], sigma=0.3, R=100.0, sigma_z=50.0)
    base.update(kwargs)
    with pytest.raises(ValueError, match=rf"^{name} "):
        P.GaussCylinderPotential(None, **base)


@pytest.mark.parametrize("kwargs, name", [(dict(h=0.0), "h"), (dict(R=-1.0), "R"),
                                          (dict(sigma_z=-2.0), "sigma_z"), (dict(R_population=0.0), "R_population")])
def test_gauss_cylinder_csd_rejects_bad_input(kwargs, name):
    base = dict(z=[0.0], R=100.0, h=50.0, sigma_z=10.0)
    base.update(kwargs)
    with pytest.raises(ValueError, match=rf"^{name} "):
        P.GaussCylinderCSD(None, **base)


def test_bad_geometry_and_head_models_raise():
    z = np.array([[0.0, 1.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="geometry z"):
        P.GaussCylinderPotential(dict(x=np.zeros((2, 2)), y=np.zeros((2, 2)), z=z[:, 0], diam=np.ones(2)),
                                 z=[0.0])
    with pytest.raises(ValueError, match="geometry diam"):
        P.CurrentDipoleMoment(dict(x=np.zeros((2, 2)), y=np.zeros((2, 2)), z=z, diam=np.ones(3)))
    with pytest.raises(ValueError, match="diam"):
        P.CurrentDipoleMoment(dict(x=np.zeros((2, 2)), y=np.zeros((2, 2)), z=z))
    with pytest.raises(ValueError, match="model_name"):
        P.PopulationAveragedModel("NoSuchModel", None, {}, R=1.0, sigma_z=1.0)
    with pytest.raises(ValueError, match="order"):
        P.PopulationAveragedModel("PointSourcePotential", None, {}, R=1.0, sigma_z=1.0, order=(0, 1, 1))
    radii, sigmas = [79000.0, 80000.0, 85000.0, 90000.0], [0.3, 1.5, 0.015, 0.3]
    with pytest.raises(ValueError, match="radii"):
        P.FourSphereEEG(radii[::-1], sigmas, [0, 0, 78000.0], [0, 0, 90000.0])
    with pytest.raises(ValueError, match="sigmas"):
        P.FourSphereEEG(radii, [0.3, -1.5, 0.015, 0.3], [0, 0, 78000.0], [0, 0, 90000.0])
    with pytest.raises(ValueError, match="dipole_location"):
        P.FourSphereEEG(radii, sigmas, [0, 0, 79500.0], [0, 0, 90000.0])
    with pytest.raises(ValueError, match="electrode_locations"):
        P.FourSphereEEG(radii, sigmas, [0, 0, 78000.0], [0, 0, 95000.0])
    with pytest.raises(ValueError, match="sensor_locations"):
        P.MEG([[0.0, 0.0, 1.0, 2.0]], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="quantity"):
        P.MEG([0.0, 0.0, 1e5], [0.0, 0.0, 0.0], quantity="E")
