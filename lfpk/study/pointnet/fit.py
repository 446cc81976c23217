"""Fit of the point-neuron network to the ground truth's rates and rate spectra (NSGA-II).

As the study (Hagen et al. 2022, ``Fit_LIF_net.py``): the free parameters of
:class:`lfpk.study.pointnet.parameters.LIFParameters` (by default its 11: four weights, the extrinsic
weight, four delays, two capacitances, each within its bounds) are searched by the
multi-objective genetic algorithm NSGA-II (Deb et al. 2002, IEEE Trans Evol Comput 6:182; pymoo,
Blank & Deb 2020, IEEE Access 8:89497) with the four objectives of
:func:`lfpk.study.pointnet.features.objectives` (|mean-rate difference| of E and of I, summed
|rate-spectrum difference| of E and of I) between the LIF network simulated for ``fit.tstop`` ms
and the ground truth. From the final non-dominated set (the Pareto front) one solution is chosen
by equal pseudo-weights (Deb 2001, Multi-Objective Optimization using Evolutionary Algorithms,
sec. 8.3; :func:`pseudo_weights`).

Extension (``pointnet.fit.rate_tolerance``, not in the study): the rates may also be constraints,
``|nu_X - nu_X^GT| <= tolerance * nu_X^GT`` for every population X, handled by NSGA-II's
constraint domination (Deb et al. 2002, sec. VI: a feasible solution dominates an infeasible one,
infeasible ones compare by their summed violation). The Pareto front, hence the chosen solution,
then holds only solutions with the ground truth's rates, whenever the search found one. Without it
(the study) a small budget leaves a front that spans the trade-off between rates and spectra, and
equal pseudo-weights pick a solution in its middle: measured on the laptop study with 24 x 12
evaluations, rates off by +58 % (E) and -19 % (I).

Every evaluation simulates the network with the same NEST seed (common random numbers), so the
objectives are a deterministic function of the parameters; the algorithm's random stream is seeded
from the study's seed. The same configuration and ground truth give the same fit, bit for bit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import xarray as xr

from lfpk.base.io import to_json
from lfpk.study.pointnet.features import objective_names, objective_units, objectives, rate_features
from lfpk.study.pointnet.network import LIFNetwork, versions
from lfpk.study.pointnet.parameters import SEED_STREAM_FIT, derived_seed

log = logging.getLogger("lfpk.pointnet")


def pseudo_weights(F):
    """Pseudo-weights of the solutions of a front (Deb 2001, eq. 8.3).

    ``w_ij = ((f_j^max - f_ij) / (f_j^max - f_j^min)) / sum_k (f_k^max - f_ik) / (f_k^max - f_k^min)``:
    how much each objective a solution favours (1 for the best, 0 for the worst value). An objective
    with the same value on every solution gives every solution the term 1 (none is worse); a
    solution worst in every objective gets equal weights.

    Parameters
    ----------
    F : ndarray (solutions, objectives)

    Returns
    -------
    ndarray (solutions, objectives), rows summing to 1
    """
    F = np.asarray(F, dtype=float)
    lo, hi = F.min(axis=0), F.max(axis=0)
    span = hi - lo
    w = np.where(span > 0, (hi - F) / np.where(span > 0, span, 1.0), 1.0)
    s = w.sum(axis=1, keepdims=True)
    return np.where(s > 0, w / np.where(s > 0, s, 1.0), 1.0 / F.shape[1])


def choose_by_pseudo_weights(F, weights=None):
    """Index of the solution whose pseudo-weights are closest (L1) to ``weights`` (default equal),
    the first on ties."""
    F = np.asarray(F, dtype=float)
    target = np.full(F.shape[1], 1.0 / F.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    return int(np.argmin(np.abs(pseudo_weights(F) - target).sum(axis=1)))


@dataclass
class FitSettings:
    """``pointnet.fit`` of the configuration.

    Attributes
    ----------
    population : int
        NSGA-II population size.
    generations : int
        Number of generations (the first is the random initial population).
    tstop : float
        Simulated time of every evaluation (ms).
    transient : float
        Start of the analysis window (ms).
    spectrum : dict
        ``segment`` (ms), ``overlap``, ``fmax`` (Hz).
    seed : int
        Seed of the algorithm's random stream.
    rate_tolerance : float or None
        Rates as constraints: relative tolerance around the ground truth's (None: objectives only).
    """

    population: int
    generations: int
    tstop: float
    transient: float
    spectrum: dict
    seed: int
    rate_tolerance: float | None = None

    @classmethod
    def from_config(cls, cfg):
        fit = cfg["pointnet"]["fit"]
        return cls(population=int(fit["population"]), generations=int(fit["generations"]),
                   tstop=float(fit["tstop"]), transient=float(cfg["simulation"]["transient"]),
                   spectrum=dict(fit["spectrum"]), seed=derived_seed(cfg["seed"], SEED_STREAM_FIT),
                   rate_tolerance=None if fit.get("rate_tolerance") is None else float(fit["rate_tolerance"]))


@dataclass
class FitResult:
    """Outcome of :func:`fit_network`.

    Attributes
    ----------
    params : LIFParameters
        The fitted network (free parameters of the chosen solution).
    target, fitted : RateFeatures
        Ground truth's and fitted network's rates and spectra.
    front_x, front_f : ndarray (front, parameter), (front, objective)
        The final non-dominated solutions and their objectives (the feasible ones when the rates
        are constraints; without a feasible solution, the least infeasible one).
    feasible : bool
        The front satisfies the rate constraints (always True without them).
    chosen : int
        Index of the chosen solution in the front.
    history_x, history_f : ndarray (generation, individual, parameter / objective)
        Every generation's population.
    evaluations : int
        Network simulations run.
    wall_time : float
        s.
    """

    params: object
    target: object
    fitted: object
    front_x: np.ndarray
    front_f: np.ndarray
    feasible: bool
    chosen: int
    history_x: np.ndarray
    history_f: np.ndarray
    evaluations: int
    wall_time: float
    settings: FitSettings


def simulate_features(params, settings):
    """Simulate ``params`` for ``settings.tstop`` and return its :class:`RateFeatures`."""
    net = LIFNetwork(params)
    spikes = net.simulate(settings.tstop)
    return rate_features({k: v[0] for k, v in spikes.items()}, params.sizes, params.dt, settings.transient,
                         settings.tstop, settings.spectrum)


def fit_network(params, target, settings, progress=None):
    """Fit the free parameters of ``params`` to the ``target`` features with NSGA-II.

    Parameters
    ----------
    params : LIFParameters
        The network; its free parameters (with bounds) are searched.
    target : RateFeatures
        Ground truth (same populations; spectra on the frequencies ``settings`` give).
    settings : FitSettings
    progress : callable, optional
        ``progress(generation, F)`` after each generation.

    Returns
    -------
    FitResult
    """
    # pymoo (the pointnet extra) only when a fit runs
    from pymoo.config import Config

    Config.warnings["not_compiled"] = False
    # the rest of pymoo after its warning switch (importing it warns otherwise)
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.termination import get_termination

    if not params.free:
        raise ValueError("pointnet: no free parameter (give *_bounds to fit)")
    if list(target.populations) != list(params.populations):
        raise ValueError(f"ground-truth populations {target.populations} differ from the network's {params.populations}")
    cache = {}
    start = time.perf_counter()

    def evaluate(x):
        key = np.asarray(x, dtype=float).tobytes()
        if key not in cache:
            cache[key] = simulate_features(params.with_values(x), settings)
        return cache[key]

    lower, upper = params.bounds
    n_pop = len(params.populations)
    tol = settings.rate_tolerance
    n_constr = 0 if tol is None else n_pop

    class LIFProblem(Problem):
        def __init__(self):
            super().__init__(n_var=len(lower), n_obj=2 * n_pop, n_ieq_constr=n_constr, xl=lower, xu=upper)

        def _evaluate(self, X, out, *args, **kwargs):
            F = np.array([objectives(target, evaluate(x)) for x in X])
            out["F"] = F
            if n_constr:  # |rate error| - tolerance x target rate <= 0 (1/s)
                out["G"] = F[:, :n_pop] - tol * target.rates[None, :]

    algorithm = NSGA2(pop_size=int(settings.population))
    algorithm.setup(LIFProblem(), termination=get_termination("n_gen", int(settings.generations)),
                    seed=int(settings.seed), verbose=False)
    hx, hf = [], []
    while algorithm.has_next():
        algorithm.next()
        pop = algorithm.pop
        hx.append(np.array(pop.get("X"), dtype=float))
        hf.append(np.array(pop.get("F"), dtype=float))
        if progress is not None:
            progress(len(hx), hf[-1])
    res = algorithm.result()
    feasible = res.X is not None
    if feasible:
        front_x = np.atleast_2d(np.asarray(res.X, dtype=float))
        front_f = np.atleast_2d(np.asarray(res.F, dtype=float))
    else:  # no solution meets the rate constraints: the least infeasible one
        pop = algorithm.pop
        i = int(np.argmin(pop.get("CV")[:, 0]))
        front_x = np.asarray(pop.get("X"), dtype=float)[i : i + 1]
        front_f = np.asarray(pop.get("F"), dtype=float)[i : i + 1]
        log.warning("no solution met the rate tolerance %g; the least infeasible is taken", tol)
    chosen = choose_by_pseudo_weights(front_f)
    best = params.with_values(front_x[chosen])
    return FitResult(params=best, target=target, fitted=evaluate(front_x[chosen]), front_x=front_x,
                     front_f=front_f, feasible=feasible, chosen=chosen, history_x=_stack(hx),
                     history_f=_stack(hf), evaluations=len(cache), wall_time=time.perf_counter() - start,
                     settings=settings)


def _stack(arrays):
    """Generations of possibly different sizes as one NaN-padded array (generation, individual, k)."""
    n = max(a.shape[0] for a in arrays)
    out = np.full((len(arrays), n, arrays[0].shape[1]), np.nan)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
    return out


def fit_dataset(result, attrs=None):
    """The fit as a labelled dataset (``fit.nc``).

    Variables: ``lower``, ``upper``, ``fitted`` (parameter); ``fitted_objectives`` (objective);
    ``front_parameters`` (front, parameter), ``front_objectives`` and ``pseudo_weights`` (front,
    objective), ``chosen`` (index into front); ``history_parameters`` / ``history_objectives``
    (generation, individual, ...); ``rate_ground_truth`` / ``rate_fitted`` (population);
    ``spectrum_ground_truth`` / ``spectrum_fitted`` (population, frequency). The units of parameter
    and objective values are the coordinates ``parameter_units`` and ``objective_units``.
    """
    p = result.params
    pops = list(p.populations)
    names = p.free_names
    units = [f.units for f in p.free]
    onames = objective_names(pops)
    lower, upper = p.bounds
    pu = "parameter_units (per parameter)"
    ou = "objective_units (per objective)"
    s = result.settings
    ds = xr.Dataset(
        {
            "lower": ("parameter", lower, {"units": pu, "long_name": "lower bound of the free parameter"}),
            "upper": ("parameter", upper, {"units": pu, "long_name": "upper bound of the free parameter"}),
            "fitted": ("parameter", p.values(), {
                "units": pu, "long_name": "fitted value: the Pareto-front solution of equal pseudo-weights"}),
            "fitted_objectives": ("objective", result.front_f[result.chosen], {
                "units": ou, "long_name": "objectives of the fitted solution"}),
            "front_parameters": (("front", "parameter"), result.front_x, {
                "units": pu, "long_name": "parameters of the final non-dominated solutions (Pareto front)"}),
            "front_objectives": (("front", "objective"), result.front_f, {
                "units": ou, "long_name": "objectives of the final non-dominated solutions"}),
            "pseudo_weights": (("front", "objective"), pseudo_weights(result.front_f), {
                "units": "1", "long_name": "pseudo-weights of the Pareto-front solutions (Deb 2001)"}),
            "chosen": ((), np.int64(result.chosen), {
                "units": "1", "long_name": "index of the fitted solution in the front (closest to equal pseudo-weights)"}),
            "history_parameters": (("generation", "individual", "parameter"), result.history_x, {
                "units": pu, "long_name": "parameters of every generation's population (NaN: none)"}),
            "history_objectives": (("generation", "individual", "objective"), result.history_f, {
                "units": ou, "long_name": "objectives of every generation's population (NaN: none)"}),
            "rate_ground_truth": ("population", result.target.rates, {
                "units": "1/s", "long_name": "ground truth's mean rate per neuron after the transient"}),
            "rate_fitted": ("population", result.fitted.rates, {
                "units": "1/s", "long_name": "fitted network's mean rate per neuron (fit simulation)"}),
            "spectrum_ground_truth": (("population", "frequency"), result.target.spectra, {
                "units": "(1/s)^2/Hz", "long_name": "rate spectrum of the ground truth's population rate"}),
            "spectrum_fitted": (("population", "frequency"), result.fitted.spectra, {
                "units": "(1/s)^2/Hz", "long_name": "rate spectrum of the fitted network's population rate"}),
        },
        coords={
            "parameter": ("parameter", names, {"long_name": "free parameter"}),
            "parameter_units": ("parameter", units, {"long_name": "units of the free parameter"}),
            "objective": ("objective", onames, {"long_name": "objective (minimised)"}),
            "objective_units": ("objective", objective_units(pops), {"long_name": "units of the objective"}),
            "generation": ("generation", np.arange(1, result.history_x.shape[0] + 1), {"long_name": "generation"}),
            "individual": ("individual", np.arange(result.history_x.shape[1]), {"long_name": "member of the population"}),
            "front": ("front", np.arange(result.front_x.shape[0]), {"long_name": "Pareto-front solution"}),
            "population": ("population", pops, {"long_name": "neuron population"}),
            "frequency": ("frequency", result.target.frequency, {"units": "Hz", "long_name": "frequency"}),
        },
        attrs={
            "title": "point-neuron (LIF) network fitted to the ground truth's rates and rate spectra",
            "method": "NSGA-II (pymoo) over the free parameters within their bounds; objectives |rate difference| "
                      "and summed |rate-spectrum difference| per population (Hagen et al. 2022, Fit_LIF_net.py); "
                      "with rate_tolerance also constraints |rate difference| <= rate_tolerance x ground-truth "
                      "rate; solution of the final Pareto front closest to equal pseudo-weights",
            "population_size": int(s.population), "generations": int(s.generations),
            "evaluations": int(result.evaluations),
            "fit_tstop": float(s.tstop), "transient": float(s.transient), "time_units": "ms",
            "spectrum": to_json(s.spectrum), "algorithm_seed": int(s.seed), "nest_seed": int(p.seed),
            "rate_tolerance": "none (rates are objectives only, as the study)" if s.rate_tolerance is None
                              else float(s.rate_tolerance),
            "front_feasible": int(result.feasible),
            "threads": int(p.threads),
            "fitted_parameters": to_json(dict(zip(names, p.values().tolist()))),
            "network": to_json(p.as_dict()),
            "software": to_json(versions()),
            **(attrs or {}),
        },
    )
    return ds


def fitted_values(fit):
    """Name -> fitted value of a fit dataset (``fit.nc``)."""
    return {str(k): float(v) for k, v in zip(fit["parameter"].values, fit["fitted"].values)}
