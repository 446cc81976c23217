"""The point-neuron (LIF) network in NEST: rates against diffusion theory, wiring, reproducibility.

Expected rates come from an independent computation: the Siegert formula for the leaky
integrate-and-fire neuron driven by white noise (Siegert 1951; Brunel 2000, J Comput Neurosci
8:183, eq. 21), with the boundary shift of Fourcaud & Brunel (2002, Neural Comput 14:2057) for
exponential synaptic currents, and for the recurrent network its self-consistent solution (the
mean-field rates). The input of a neuron is shot noise: K sources of rate nu, each adding a current
J exp(-t / tau_s). Its mean and variance in the diffusion limit are

    mu = E_L + tau_m / C_m * sum K nu J tau_s,
    sigma^2 = tau_m / C_m^2 * sum K nu E[J^2] tau_s^2   (E[J^2] = J^2 (1 + weight_sd^2)).
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest

from lfpk.study.pointnet import LIFNetwork, LIFParameters
from lfpk.study.pointnet.features import mean_rates

#: |zeta(1/2)|, Riemann zeta function (Fourcaud & Brunel 2002)
ZETA_HALF = 1.4603545088095868


def siegert_rate(mu, sigma, tau_m, tau_s, V_th, V_reset, t_ref):
    """Stationary rate (1/s) of the LIF neuron with exponential synaptic currents in the diffusion
    approximation: 1 / (t_ref + tau_m sqrt(pi) int_{y_r}^{y_th} exp(u^2) (1 + erf u) du), with
    y = (V - mu) / sigma + (|zeta(1/2)| / sqrt 2) sqrt(tau_s / tau_m)."""
    from scipy import integrate, special

    shift = ZETA_HALF / np.sqrt(2.0) * np.sqrt(tau_s / tau_m)
    lo = (V_reset - mu) / sigma + shift
    hi = (V_th - mu) / sigma + shift
    # exp(u^2) (1 + erf(u)) = erfcx(-u), which stays finite for large negative u
    value, _ = integrate.quad(lambda u: special.erfcx(-u), lo, hi, limit=200)
    return 1000.0 / (t_ref + tau_m * np.sqrt(np.pi) * value)


def mean_field_rates(params, extrinsic_weight_factor=1.0):
    """Self-consistent rates (1/s) of ``params`` (population -> rate), by damped iteration."""
    pops = list(params.populations)

    def response(nu):
        out = []
        for Y in pops:
            n = params.neurons[Y]
            inputs = [(params.extrinsic_rate[Y], params.extrinsic_weight * extrinsic_weight_factor, 1.0,
                       n["tau_syn_ex"])]
            for c in params.connections:
                if c["post"] == Y:
                    K = c["probability"] * params.sizes[c["pre"]]
                    tau_s = n["tau_syn_ex"] if c["weight"] >= 0 else n["tau_syn_in"]
                    inputs.append((K * nu[pops.index(c["pre"])], c["weight"], 1.0 + params.weight_sd ** 2, tau_s))
            mu = n["E_L"] + n["tau_m"] / n["C_m"] * sum(r * 1e-3 * J * ts for r, J, _, ts in inputs)
            var = n["tau_m"] / n["C_m"] ** 2 * sum(r * 1e-3 * J ** 2 * f * ts ** 2 for r, J, f, ts in inputs)
            out.append(siegert_rate(mu, np.sqrt(var), n["tau_m"], n["tau_syn_ex"], n["V_th"], n["V_reset"], n["t_ref"]))
        return np.array(out)

    nu = np.full(len(pops), 5.0)
    for _ in range(400):
        nu = 0.8 * nu + 0.2 * response(nu)
    assert np.allclose(nu, response(nu), rtol=1e-8), "mean-field iteration did not converge"
    return dict(zip(pops, nu))


@pytest.fixture(scope="module")
def base_params():
    from tinystudy import REPO

    from lfpk.api.config import load_config

    return LIFParameters.from_config(load_config(REPO / "config" / "config.yaml"))


def _simulated_rates(params, tstop, transient):
    spikes = LIFNetwork(params).simulate(tstop)
    return mean_rates({k: v[0] for k, v in spikes.items()}, params.sizes, params.dt, transient, tstop)


#: Relative tolerance of simulated against theoretical rates. Counting noise: >= 8000 spikes per
#: population below, i.e. <= 1.2 % standard error (Poisson; neurons are independent in the
#: unconnected case, weakly correlated in the recurrent one); the diffusion approximation with the
#: Fourcaud-Brunel correction is accurate to about 1 % for PSPs of J tau_s / C_m < 0.1 mV, far
#: below sigma (about 1 mV) and tau_s / tau_m = 0.05 (measured here: 0.2-1 %). 4 % leaves 3 standard
#: errors of counting noise; a 5 % error of the extrinsic weight changes the rates by > 15 %.
RATE_RTOL = 0.04


def test_unconnected_neurons_fire_at_the_siegert_rate(base_params):
    """Poisson drive only: rate = Siegert rate of the drive's mean and variance, per population."""
    p = replace(base_params, sizes={"E": 100, "I": 200}, connections=(), threads=1,
                neurons={"E": dict(base_params.neurons["E"], C_m=250.0), "I": dict(base_params.neurons["I"], C_m=100.0)})
    sim = _simulated_rates(p, 4200.0, 200.0)
    theory = mean_field_rates(p)
    off = mean_field_rates(p, extrinsic_weight_factor=0.95)
    for pop in p.populations:
        assert sim[pop] * 4.0 * p.sizes[pop] > 8000  # enough spikes for the tolerance's counting noise
        assert sim[pop] == pytest.approx(theory[pop], rel=RATE_RTOL), (pop, sim, theory)
        assert abs(off[pop] / theory[pop] - 1) > 3 * RATE_RTOL  # the check can see a 5 % weight error


def test_recurrent_network_fires_at_the_mean_field_rates(base_params):
    """E/I network (C = 0.2, in-degrees 80 and 20): self-consistent Siegert rates."""
    J = {("E", "E"): 15.0, ("E", "I"): 10.0, ("I", "E"): -40.0, ("I", "I"): -40.0}
    conns = tuple(dict(c, probability=0.2, weight=J[(c["pre"], c["post"])], delay=1.5) for c in base_params.connections)
    p = replace(base_params, sizes={"E": 400, "I": 100}, connections=conns, threads=1,
                neurons={"E": dict(base_params.neurons["E"], C_m=260.0), "I": dict(base_params.neurons["I"], C_m=100.0)})
    sim = _simulated_rates(p, 2200.0, 200.0)
    theory = mean_field_rates(p)
    unconnected = mean_field_rates(replace(p, connections=()))
    for pop in p.populations:
        assert sim[pop] == pytest.approx(theory[pop], rel=RATE_RTOL), (pop, sim, theory)
        # the recurrence matters: without it the theory is far off
        assert abs(unconnected[pop] / theory[pop] - 1) > 3 * RATE_RTOL


def test_wiring_follows_the_parameters(base_params):
    """Connection counts (pairwise Bernoulli with the ground truth's probability), weight and delay
    distributions, extrinsic drive."""
    from scipy import stats

    p = replace(base_params, sizes={"E": 200, "I": 50}, threads=1)
    net = LIFNetwork(p)
    n = net.nest
    for c in p.connections:
        conns = n.GetConnections(net.neurons[c["pre"]], net.neurons[c["post"]])
        pairs = p.sizes[c["pre"]] * p.sizes[c["post"]]
        expected = c["probability"] * pairs
        sd = np.sqrt(pairs * c["probability"] * (1 - c["probability"]))
        assert abs(len(conns) - expected) < 5 * sd, c
        w = np.asarray(conns.get("weight"), dtype=float)
        d = np.asarray(conns.get("delay"), dtype=float)
        assert np.all(np.sign(w) == np.sign(c["weight"]))
        # N(J, (0.1 J)^2): the sign redraw is 10 sd away, so mean and sd are those of the normal
        assert w.mean() == pytest.approx(c["weight"], rel=5 * 0.1 / np.sqrt(len(w)))
        assert w.std() == pytest.approx(0.1 * abs(c["weight"]), rel=0.1)
        # delays: N(d, (d/2)^2) redrawn below 0.3 ms, then on the dt grid
        assert d.min() >= p.delay_min - p.dt / 2
        trunc = stats.truncnorm((p.delay_min - c["delay"]) / (0.5 * c["delay"]), np.inf, loc=c["delay"],
                                scale=0.5 * c["delay"])
        assert d.mean() == pytest.approx(trunc.mean(), abs=5 * trunc.std() / np.sqrt(len(d)) + p.dt / 2)
    for name in p.populations:
        gen = n.GetConnections(target=net.neurons[name], synapse_model="static_synapse")
        src = np.asarray(gen.get("source"))
        drive = src[~np.isin(src, np.concatenate(list(net.node_ids.values())))]
        assert len(drive) == p.sizes[name]  # one extrinsic Poisson input per neuron
        pg = n.NodeCollection([int(drive[0])])
        assert pg.get("rate") == pytest.approx(p.extrinsic_rate[name])


def test_same_parameters_same_spikes_whatever_the_chunks(base_params):
    """Spikes depend on the parameters (seed included), not on how the simulation is chunked."""
    p = replace(base_params, sizes={"E": 80, "I": 20}, threads=1)
    whole = LIFNetwork(p).simulate(300.0)
    got = {name: ([], []) for name in p.populations}

    def keep(spikes, t):
        for name, (tt, uu) in spikes.items():
            got[name][0].append(tt)
            got[name][1].append(uu)

    LIFNetwork(p).simulate(300.0, chunk=37 * p.dt, on_chunk=keep)
    for name in p.populations:
        assert len(whole[name][0]) > 20
        np.testing.assert_array_equal(np.concatenate(got[name][0]), whole[name][0])
        np.testing.assert_array_equal(np.concatenate(got[name][1]), whole[name][1])
    other = LIFNetwork(replace(p, seed=p.seed + 1)).simulate(300.0)
    assert not np.array_equal(other["E"][0], whole["E"][0])


def test_parameters_from_config(config):
    """The 11 free parameters of the study, in its order, with the config's bounds; the network's
    probabilities and extrinsic drive are the ground truth's."""
    from lfpk.api.config import validate_config

    p = LIFParameters.from_config(validate_config(config))
    assert p.free_names == ["weight E->E", "weight E->I", "weight I->E", "weight I->I", "weight ext",
                            "delay E->E", "delay E->I", "delay I->E", "delay I->I", "C_m E", "C_m I"]
    assert [c["probability"] for c in p.connections] == [c["probability"] for c in config["connections"]]
    assert p.extrinsic_rate == {"E": 465 * 40.0, "I": 160 * 40.0}
    lo, hi = p.bounds
    assert np.all(lo < hi)
    x = (lo + hi) / 2
    q = p.with_values(x)
    np.testing.assert_array_equal(q.values(), x)
    assert q.neurons["E"]["C_m"] == x[-2] and q.extrinsic_weight == x[4]
    assert q.connections[2]["weight"] == x[2] and q.connections[3]["delay"] == x[8]
    assert p.values()[0] == config["pointnet"]["connections"][0]["weight"]  # p itself unchanged
    with pytest.raises(ValueError, match="expected 11"):
        p.with_values(x[:3])


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["pointnet"]["connections"][0].update(weight_bounds=[-1.0, 5.0]),
     r"pointnet.connections\[0\].weight_bounds: .* must not cross 0"),
    (lambda c: c["pointnet"]["connections"].pop(), r"pointnet.connections: no entry for I -> I"),
    (lambda c: c["pointnet"]["populations"]["E"].update(C_m_bounds=[300.0, 280.0]),
     r"pointnet.populations.E.C_m_bounds: \[300.0, 280.0\]; expected lower < upper"),
    (lambda c: c["pointnet"].update(delay_min=0.01), r"pointnet.delay_min: 0.01 ms must be at least simulation.dt"),
    (lambda c: c["pointnet"]["online"].update(chunk=1.03), r"pointnet.online.chunk: 1.03 ms is not a whole number of steps of simulation.dt"),
    (lambda c: c["pointnet"]["fit"].update(tstop=550.0), r"pointnet.fit.tstop: 550.0 ms leaves 50 ms"),
    (lambda c: c["pointnet"]["populations"]["I"].pop("tau_m"), r"missing key pointnet.populations.I.tau_m"),
    (lambda c: c["pointnet"]["fit"].update(population=1), r"pointnet.fit.population"),
])
def test_bad_pointnet_config_is_named(config, edit, message):
    from lfpk.api.config import ConfigError, validate_config

    cfg = copy.deepcopy(config)
    edit(cfg)
    with pytest.raises(ConfigError, match=message):
        validate_config(cfg)
