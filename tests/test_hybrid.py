"""The hybrid scheme (lfpk.engines.network.replay, lfpk.study.hybrid): the network rebuilt with linearised cells
and current synapses is linear in the replayed spikes, its hybrid kernels are volley responses /
N_X, and its runs are bitwise identical on 1 and 2 ranks (its current synapse Exp2SynISum is
tested with Exp2SynSum in test_network.py)."""

import numpy as np
import pytest
from test_network import cfg  # noqa: F401 - the validated laptop config (module fixture)

from lfpk.engines.network import scaled_probabilities
from lfpk.engines.network.replay import ReplayNetwork, hybrid_kernels, volley_spikes

SIZES = {"E": 12, "I": 4}
V_REST = {"E": -68.0, "I": -66.5}
RATES = {"E": 2.5, "I": 5.0}


def _signals(cfg, spikes, tstop, form="frozen", g_eff=True, extrinsic=False, extrinsic_drive="mechanism"):
    """Total and per-population signals (dict of (rows, time) arrays) of one replay run."""
    t, u = spikes
    net = ReplayNetwork(cfg, t, u, V_REST, RATES, form=form, g_eff=g_eff, extrinsic=extrinsic, sizes=SIZES,
                        probabilities=scaled_probabilities(cfg, SIZES), tstop=tstop, membrane_sample=1,
                        extrinsic_drive=extrinsic_drive)
    net.run()
    out = {p: net.signal[p].copy() for p in net.layout.names}
    info = {"layout": net.layout, "rows": net.rows, "counts": dict(net.counts)}
    net.close()
    return out, info


def _random_spikes(n_cells, tstop, rate, seed, dt=0.0625):
    """Spike trains on the dt grid (as the ground truth records them), sorted by (time, gid)."""
    rng = np.random.default_rng(seed)
    n = rng.poisson(rate * tstop / 1000.0 * n_cells)
    t = np.round(rng.uniform(1.0, tstop - 5.0, n) / dt) * dt
    u = rng.integers(0, n_cells, n)
    order = np.lexsort((u, t))
    return t[order], u[order]


@pytest.mark.parametrize("form,g_eff,extrinsic", [("frozen", True, True), ("quasi_linear", False, False)])
def test_reconstruction_is_linear_in_the_replayed_spikes(cfg, mechanisms, form, g_eff, extrinsic):
    """Superposition: signals(A + B) + signals(none) = signals(A) + signals(B), to round-off.

    The linearised cells (frozen leak, or quasi-linear Ih), current synapses and the extrinsic
    drive (when on, the same Random123 trains in every run) make the network a linear system
    driven by the replayed spikes; only floating-point rounding (the int64 probe sums are exact)
    separates the two sides."""
    tstop = 80.0
    n = sum(SIZES.values())
    A = _random_spikes(n, tstop, 40.0, 1)
    B = _random_spikes(n, tstop, 40.0, 2)
    both = tuple(np.concatenate(x) for x in zip(A, B))
    order = np.lexsort((both[1], both[0]))
    AB = (both[0][order], both[1][order])
    none = (np.zeros(0), np.zeros(0, dtype=np.int64))
    runs, info = {}, None
    for key, s in (("A", A), ("B", B), ("AB", AB), ("0", none)):
        runs[key], info = _signals(cfg, s, tstop, form, g_eff, extrinsic)
    for p in SIZES:
        lhs = runs["AB"][p] + runs["0"][p]
        rhs = runs["A"][p] + runs["B"][p]
        for probe, rows in info["rows"].items():  # per probe: its largest value sets the scale
            scale = np.abs(runs["A"][p][rows]).max()
            assert scale > 0, (p, probe)
            err = np.abs(lhs[rows] - rhs[rows]).max()
            assert err <= 1e-9 * scale, (p, probe, err, scale)
        # and the response to A alone is not trivially zero or equal to B's
        assert not np.allclose(runs["A"][p], runs["B"][p])
    if not extrinsic:  # at rest without input: exactly nothing
        assert all(np.all(runs["0"][p] == 0) for p in SIZES)


def test_replayed_drive_in_the_synapse_equals_netstims(cfg, mechanisms):
    """A reconstruction's extrinsic drive drawn inside Exp2SynISum (the default) is the NetStim +
    NetCon drive, bitwise: the same Random123 streams as the ground truth's, each arrival applied
    in the step NEURON would deliver the NetStim's event."""
    tstop = 60.0
    spikes = _random_spikes(sum(SIZES.values()), tstop, 40.0, 3)
    runs = {d: _signals(cfg, spikes, tstop, extrinsic=True, extrinsic_drive=d) for d in ("netstim", "mechanism")}
    (a, ia), (b, ib) = runs["netstim"], runs["mechanism"]
    assert ia["counts"]["netstims"] > 0 and ib["counts"]["netstims"] == 0
    assert ib["counts"]["drives"] == ia["counts"]["netstims"]
    for p in SIZES:
        assert np.abs(a[p]).max() > 0
        assert np.array_equal(a[p], b[p]), p


def test_hybrid_kernel_is_the_volley_response_per_cell(cfg, mechanisms):
    """A hybrid kernel equals the reconstruction's response to one synchronous volley of X divided
    by N_X, minus its value at lag 0 (negative lags 0); the two-volley kernel run (E then I, as the
    study's) gives the same E kernels as an E-only volley, and its I kernels differ from an
    I-only volley by exactly the E response's increments in the I window (superposition)."""
    tau = 30.0
    volleys = {"E": 20.0, "I": 60.0}
    tstop = 60.0 + tau + 0.0625
    from lfpk.model.connectivity import place_cells

    layout = place_cells(cfg, SIZES)
    both, info = _signals(cfg, volley_spikes(layout, volleys), tstop)
    e_only, _ = _signals(cfg, volley_spikes(layout, {"E": 20.0}), tstop)
    i_only, _ = _signals(cfg, volley_spikes(layout, {"I": 60.0}), tstop)
    rows = info["rows"]
    ds = _as_signals(both, rows, layout, tstop)
    H = hybrid_kernels(ds, volleys, tau)
    dt = 0.0625
    k = int(round(tau / dt))
    assert H["lag"].values[0] == -tau and H["lag"].values[-1] == tau
    for post in SIZES:
        for pre, single in (("E", e_only), ("I", i_only)):
            i0 = int(round(volleys[pre] / dt))
            S = single[post]
            expect = (S[:, i0:i0 + k + 1] - S[:, i0:i0 + 1]) / SIZES[pre]
            if pre == "I":  # the E volley's response continues into the I window
                E = e_only[post]
                expect = expect + (E[:, i0:i0 + k + 1] - E[:, i0:i0 + 1]) / SIZES[pre]
            for name in ("lfp", "csd", "cdm"):
                got = H[name].sel(post=post, pre=pre).values
                want = expect[rows[name]]
                assert np.all(got[:, :k] == 0), (post, pre, name)
                assert np.allclose(got[:, k:], want, rtol=0, atol=1e-9 * np.abs(want).max()), (post, pre, name)
                assert np.abs(want).max() > 0
    # the E response has decayed by the I volley: its increments are a small part of the I kernel
    E = e_only["E"][rows["cdm"]][2]
    i0 = int(round(volleys["I"] / dt))
    tail = np.abs(E[i0:i0 + k + 1] - E[i0]).max() / SIZES["I"]
    assert tail < 0.05 * np.abs(H["cdm"].sel(post="E", pre="I", component="z").values).max()


def _as_signals(sig, rows, layout, tstop, dt=0.0625):
    """A signals.nc-like dataset of per-population signals (the layout lfpk.engines.network writes)."""
    import xarray as xr

    from lfpk.base.io import to_json

    names = list(sig)
    t = np.arange(next(iter(sig.values())).shape[1]) * dt

    def stack(key):
        parts = [sig[p][rows[key]] for p in names]
        return np.stack([sum(parts), *parts])

    return xr.Dataset(
        {"lfp": (("source", "channel", "time"), stack("lfp"), {"units": "mV"}),
         "csd": (("source", "channel", "time"), stack("csd"), {"units": "uA/mm3"}),
         "cdm": (("source", "component", "time"), stack("cdm"), {"units": "nA um"})},
        coords={"source": ["total", *names], "component": ["x", "y", "z"], "time": t},
        attrs={"dt": dt, "population_sizes": to_json(layout.sizes), "biophysics": "frozen", "g_eff_on": 1})


def test_replay_one_vs_two_ranks_identical(repo, tmp_path):
    """A reconstruction and a hybrid-kernel run through ``python -m lfpk network`` give bitwise
    identical signals on 1 and 2 MPI ranks (as the ground truth)."""
    pytest.importorskip("mpi4py")
    from test_network import _run_cli

    from lfpk.base.io import read_dataset

    config = str(repo / "config" / "config.yaml")
    _run_cli(["--config", config, "--population-sizes", "E=12,I=4", "--tstop", "80", "--transient", "20",
              "--membrane-sample", "3", "--outdir", str(tmp_path / "gt")], tmp_path)
    gt = read_dataset(tmp_path / "gt" / "spikes.nc")
    assert gt.sizes["spike"] > 0
    common = ["--config", config, "--membrane", str(tmp_path / "gt" / "membrane.nc")]
    for name, extra in (("rec", ["--replay", str(tmp_path / "gt" / "spikes.nc"), "--biophysics", "quasi_linear",
                                 "--g-eff"]),
                        ("ker", ["--network-spikes", str(tmp_path / "gt" / "spikes.nc"), "--biophysics", "frozen",
                                 "--g-eff", "--volleys", "E=10,I=30", "--tstop", "50"])):
        _run_cli([*common, *extra, "--outdir", str(tmp_path / f"{name}1")], tmp_path)
        _run_cli([*common, *extra, "--outdir", str(tmp_path / f"{name}2")], tmp_path, mpi=2)
        a, b = (read_dataset(tmp_path / f"{name}{r}" / "signals.nc") for r in (1, 2))
        assert a.attrs["n_ranks"] == 1 and b.attrs["n_ranks"] == 2
        assert a.attrs["hybrid_mode"] == ("reconstruction" if name == "rec" else "kernel")
        assert not (tmp_path / f"{name}1" / "spikes.nc").exists()
        for v in ("lfp", "csd", "cdm"):
            assert np.abs(a[v].values).max() > 0, (name, v)
            assert np.array_equal(a[v].values, b[v].values), (name, v)


def test_hybrid_cli_errors(repo, tmp_path):
    """Hybrid options are checked before any simulation: one line, exit status 2."""
    import subprocess
    import sys

    config = str(repo / "config" / "config.yaml")
    cases = [
        (["--replay", "x.nc", "--biophysics", "frozen"], "--membrane: required by the hybrid scheme"),
        (["--replay", str(tmp_path / "missing.nc"), "--membrane", str(tmp_path / "m.nc"), "--biophysics", "frozen"],
         "missing.nc"),
        (["--replay", "x.nc", "--membrane", "m.nc", "--biophysics", "frozen", "--volleys", "E=1"], "give one"),
        (["--replay", "x.nc", "--membrane", "m.nc"], "--biophysics: the hybrid scheme needs a linearised form"),
        (["--g-eff"], "--g-eff: only with --replay or --volleys"),
        (["--volleys", "E=10,X=2", "--membrane", "m.nc", "--biophysics", "frozen", "--network-spikes", "s.nc"],
         "--volleys: population(s) ['X']"),
    ]
    for args, msg in cases:
        p = subprocess.run([sys.executable, "-m", "lfpk", "network", "--config", config, "--outdir", str(tmp_path / "o"),
                            *args], capture_output=True, text=True, timeout=120)
        assert p.returncode == 2, (args, p.stderr)
        assert msg in p.stderr and "Traceback" not in p.stderr, (args, p.stderr)
