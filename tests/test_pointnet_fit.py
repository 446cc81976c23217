"""Fit of the point-neuron network: features, objectives, pseudo-weights, NSGA-II on a tiny problem."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest

from lfpk.study.pointnet.features import objectives, rate_features
from lfpk.study.pointnet.fit import choose_by_pseudo_weights, pseudo_weights


def test_poisson_spikes_give_their_rate_and_a_flat_spectrum():
    """Independent Poisson neurons: the mean rate is the count / (N T); the population rate's
    spectrum is white at 2 N nu ((1/s)^2/Hz, one-sided) -- the shot-noise level."""
    rng = np.random.default_rng(1)
    dt, transient, tstop, N, nu = 0.0625, 100.0, 4100.0, 200, 10.0
    n = rng.poisson(N * nu * (tstop - transient) * 1e-3)
    times = np.sort(rng.uniform(transient, tstop, n))
    f = rate_features({"E": times}, {"E": N}, dt, transient, tstop, {"segment": 128.0, "overlap": 0.75, "fmax": 200.0})
    assert f.rates[0] == pytest.approx(n / (N * 4.0), rel=1e-12)
    assert f.frequency[0] == 0 and f.frequency[-1] <= 200.0 and len(f.frequency) == 26
    level = f.spectra[0, 1:].mean()  # f = 0 is reduced by the mean removal
    # 25 frequencies x ~ 2 * 4000 / 128 effective segments: each Welch value has ~ 1/sqrt(60) noise
    assert level == pytest.approx(2 * N * nu, rel=0.1)


def test_objectives_are_the_study_s_four():
    from lfpk.study.pointnet.features import RateFeatures

    freq = np.arange(4) * 7.8125
    a = RateFeatures(["E", "I"], np.array([2.0, 5.0]), freq, np.array([[1.0, 2, 3, 4], [5.0, 6, 7, 8]]))
    b = RateFeatures(["E", "I"], np.array([2.5, 4.0]), freq, np.array([[1.0, 3, 3, 2], [5.0, 6, 7, 9]]))
    np.testing.assert_allclose(objectives(a, b), [0.5, 1.0, 3.0, 1.0])
    np.testing.assert_array_equal(objectives(a, a), 0.0)
    np.testing.assert_allclose(objectives(a, b), objectives(b, a))


@pytest.mark.filterwarnings("ignore:Please import `cKDTree`:DeprecationWarning")
def test_pseudo_weights_agree_with_pymoo():
    from pymoo.mcdm.pseudo_weights import PseudoWeights

    rng = np.random.default_rng(3)
    for _ in range(20):
        F = rng.random((12, 4))
        i, w = PseudoWeights(np.full(4, 0.25)).do(F, return_pseudo_weights=True)
        np.testing.assert_allclose(pseudo_weights(F), w, rtol=1e-12)
        assert choose_by_pseudo_weights(F) == i
    # degenerate fronts: one solution; an objective equal on every solution
    assert choose_by_pseudo_weights(np.array([[1.0, 2.0, 3.0, 4.0]])) == 0
    F = np.array([[1.0, 5.0, 0.0, 0.0], [2.0, 4.0, 0.0, 0.0], [3.0, 1.0, 0.0, 0.0]])
    w = pseudo_weights(F)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert choose_by_pseudo_weights(F) == 1  # the balanced one


def _tiny_fit_config(config):
    """The laptop config on 80 E / 20 I neurons, 600 ms per evaluation, a population of 8 over 4
    generations, 3 free parameters (extrinsic weight and both capacitances)."""
    from lfpk.api.config import validate_config

    cfg = copy.deepcopy(config)
    cfg["populations"]["E"]["size"] = 80
    cfg["populations"]["I"]["size"] = 20
    cfg["simulation"].update(tstop=600.0, transient=100.0)
    pn = cfg["pointnet"]
    pn["threads"] = 1
    for c in pn["connections"]:
        c.pop("weight_bounds")
        c.pop("delay_bounds")
    pn["fit"].update(population=8, generations=4, tstop=600.0, spectrum={"segment": 64.0, "overlap": 0.5, "fmax": 200.0})
    return validate_config(cfg)


@pytest.fixture(scope="module")
def tiny_target(tmp_path_factory, _laptop_config_raw):
    """A 'ground truth' made by the LIF network itself at known parameters, as spikes.nc."""
    from lfpk.base.io import write_dataset
    from lfpk.study.pointnet.network import LIFNetwork, spikes_dataset
    from lfpk.study.pointnet.parameters import LIFParameters

    cfg = _tiny_fit_config(_laptop_config_raw)
    truth = {"weight ext": 30.5, "C_m E": 285.0, "C_m I": 108.0}
    p = LIFParameters.from_config(cfg).with_values(truth)
    spikes = LIFNetwork(p).simulate(cfg["simulation"]["tstop"])
    path = tmp_path_factory.mktemp("fit") / "truth_spikes.nc"
    write_dataset(spikes_dataset(p, spikes, cfg["simulation"]["tstop"], cfg["simulation"]["transient"]), path)
    return cfg, truth, path


def test_fit_improves_its_objectives_and_is_reproducible(tiny_target, tmp_path):
    """NSGA-II on a tiny problem: the final front is better than the initial population (its best
    summed normalised objective, and the chosen solution against the initial median), the front
    meets the rate constraints, and a second run gives the same file, byte for byte."""
    from lfpk.base.io import read_dataset
    from lfpk.study.pointnet.stages import fit_files

    cfg, truth, path = tiny_target
    result = fit_files(cfg, path, tmp_path / "fit.nc")
    ds = read_dataset(tmp_path / "fit.nc")
    F = ds["history_objectives"].values  # (generation, individual, objective)
    assert F.shape == (4, 8, 4) and np.isfinite(F).all()
    scale = F[0].max(axis=0)
    first, last = (F[0] / scale).sum(axis=1), (F[-1] / scale).sum(axis=1)
    assert last.min() < first.min()  # elitism keeps the best; the search found a better one
    chosen = ds["fitted_objectives"].values
    assert np.all(chosen[:2] < np.median(F[0][:, :2], axis=0))  # both rate errors
    # rates as constraints (pointnet.fit.rate_tolerance 0.1): every front member has the rates
    assert cfg["pointnet"]["fit"]["rate_tolerance"] == 0.1 and ds.attrs["front_feasible"] == 1
    rate_err = ds["front_objectives"].values[:, :2] / ds["rate_ground_truth"].values
    assert np.all(rate_err <= 0.1)
    np.testing.assert_allclose(ds["rate_fitted"].values, ds["rate_ground_truth"].values, rtol=0.1)
    # the fitted values lie in the bounds and are the chosen front member
    assert np.all((ds["fitted"] >= ds["lower"]).values) and np.all((ds["fitted"] <= ds["upper"]).values)
    np.testing.assert_array_equal(ds["fitted"].values, ds["front_parameters"].values[int(ds["chosen"])])
    assert list(ds["parameter"].values) == ["weight ext", "C_m E", "C_m I"]
    assert list(ds["parameter_units"].values) == ["pA", "pF", "pF"]
    assert ds["objective"].values.tolist() == ["rate E", "rate I", "spectrum E", "spectrum I"]
    assert result.evaluations <= 8 * 4
    fit_files(cfg, path, tmp_path / "again.nc")
    assert (tmp_path / "fit.nc").read_bytes() == (tmp_path / "again.nc").read_bytes()


def test_fitted_network_is_simulated_with_the_fitted_values(tiny_target, tmp_path):
    """simulate_files --fit uses the fitted values; a fit of another configuration is refused."""
    from lfpk.study.pointnet.fit import fitted_values
    from lfpk.study.pointnet.stages import network_parameters

    cfg, truth, path = tiny_target
    import xarray as xr

    fake = xr.Dataset({"fitted": ("parameter", [31.0, 280.0, 101.0])},
                      coords={"parameter": ["weight ext", "C_m E", "C_m I"]})
    p = network_parameters(cfg, fake)
    assert p.extrinsic_weight == 31.0 and p.neurons["E"]["C_m"] == 280.0 and p.neurons["I"]["C_m"] == 101.0
    assert fitted_values(fake) == {"weight ext": 31.0, "C_m E": 280.0, "C_m I": 101.0}
    other = fake.assign_coords(parameter=["weight ext", "C_m E", "delay E->E"])
    with pytest.raises(ValueError, match="differ from the configuration's free parameters"):
        network_parameters(cfg, other)


def test_without_a_feasible_solution_the_least_infeasible_is_taken(tiny_target, tmp_path):
    """A tolerance no network can meet: the fit still ends, with the least infeasible solution."""
    from lfpk.base.io import read_dataset
    from lfpk.study.pointnet.stages import fit_files

    cfg, truth, path = tiny_target
    cfg = copy.deepcopy(cfg)
    cfg["pointnet"]["fit"].update(population=4, generations=1, rate_tolerance=1e-9)
    fit_files(cfg, path, tmp_path / "fit.nc")
    ds = read_dataset(tmp_path / "fit.nc")
    assert ds.attrs["front_feasible"] == 0 and ds.sizes["front"] == 1
    # pymoo's violation: sum over populations of max(0, |rate error| - tolerance x rate) (1/s)
    errors = ds["history_objectives"].values[0][:, :2]
    violation = np.maximum(errors - 1e-9 * ds["rate_ground_truth"].values, 0).sum(axis=1)
    np.testing.assert_array_equal(ds["fitted_objectives"].values, ds["history_objectives"].values[0][np.argmin(violation)])
