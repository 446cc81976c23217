"""Ground-truth network (lfpk.engines.network): lumping exactness, Poisson lumping, MPI reproducibility,
current conservation and the netCDF data contract, on tiny networks."""

import copy
import json
import signal
import subprocess
import sys

import numpy as np
import pytest
import scipy.stats

from lfpk.api.config import validate_config
from lfpk.base.mpi import clean_environment, find_mpiexec
from lfpk.engines.network import Network, poisson_source, run_network, scaled_probabilities

SIZES = {"E": 16, "I": 4}


@pytest.fixture(scope="module")
def cfg(_laptop_config_raw):
    c = copy.deepcopy(_laptop_config_raw)
    validate_config(c)
    return c


def _net(cfg, mechanisms, **kw):
    kw.setdefault("sizes", SIZES)
    kw.setdefault("probabilities", scaled_probabilities(cfg, kw["sizes"]))
    return Network(cfg, **kw)


def test_lumping_is_exact(cfg, mechanisms):
    """One Exp2SynSum per (segment, type) fed by many NetCons == one Exp2SynSum per synapse."""
    out = {}
    for lump in (True, False):
        net = _net(cfg, mechanisms, tstop=150.0, lump=lump, record_signals=False, membrane_sample=4)
        net.run()
        out[lump] = (net.gather(), dict(net.counts))
        net.close()
    (a, ca), (b, cb) = out[True], out[False]
    assert ca["synapses"] == cb["synapses"] and ca["netcons"] == cb["netcons"]
    assert ca["point_processes"] < cb["point_processes"] / 2
    assert len(a["spike_time"]) > 20, "the tiny network must spike for the test to mean something"
    assert np.array_equal(a["spike_unit"], b["spike_unit"])
    assert np.array_equal(a["spike_time"], b["spike_time"])
    va, vb = a["sample"]["E"][1], b["sample"]["E"][1]
    assert np.allclose(va, vb, rtol=0, atol=1e-6)  # mV; equal up to summation order


def _synapse_traces(h, model, events, order, tstop=12.0, var="g"):
    """``var`` of one ``model`` synapse fed by one NetStim + NetCon per (time, weight) event,
    the NetCons created in ``order``."""
    sec = h.Section(name=f"syn_{model}")
    sec.L = sec.diam = 10.0
    sec.insert("pas")
    syn = getattr(h, model)(sec(0.5))
    syn.tau1, syn.tau2 = 0.2, 1.8
    if var == "g":  # conductance synapses reverse at 0 mV
        syn.e = 0.0
    keep = [sec, syn]
    for j in order:
        t0, w = events[j]
        s = h.NetStim()
        s.start, s.number, s.noise = t0, 1, 0
        nc = h.NetCon(s, syn)
        nc.weight[0], nc.delay = w, 0.0
        keep += [s, nc]
    g = h.Vector()
    g.record(getattr(syn, f"_ref_{var}"))
    return keep, g


@pytest.mark.parametrize("ref, model, var", [("Exp2Syn", "Exp2SynSum", "g"), ("Exp2SynI", "Exp2SynISum", "i")])
def test_exp2synsum_matches_exp2syn_and_is_order_independent(mechanisms, ref, model, var):
    """Exp2SynSum (conductance) and Exp2SynISum (current, the hybrid scheme's): a single event
    gives Exp2Syn's (Exp2SynI's) trace (the summed weights are applied once per fixed step, after
    the step's events are delivered and before the integration), at any phase of the event within
    the step; many simultaneous events (quantised weights) give bitwise identical traces for any
    NetCon creation order."""
    from neuron import h

    from lfpk.engines.network import quantise_weights

    h.load_file("stdrun.hoc")
    h.dt = 0.0625
    phases = [0.0, 0.2, 0.25, 0.3, 0.49, 0.5, 0.51, 0.76, 0.99]
    single = [(1.0 + i + p * h.dt, 1e-3) for i, p in enumerate(phases)]
    rng = np.random.default_rng(3)
    many = [(2.0, w) for w in quantise_weights(rng.normal(1e-4, 1e-5, 300))]
    many += [(2.0 + h.dt * p, w) for p, w in zip(rng.random(20), quantise_weights(rng.normal(1e-4, 1e-5, 20)))]
    many += [(5.0, w) for w in quantise_weights(rng.normal(2e-4, 1e-5, 100))]
    runs = {"exp2syn": _synapse_traces(h, ref, single, range(len(single)), var=var),
            "sum": _synapse_traces(h, model, single, range(len(single)), var=var)}
    runs["ref_many"] = _synapse_traces(h, ref, many, range(len(many)), var=var)
    for k in range(3):
        runs[f"many{k}"] = _synapse_traces(h, model, many, rng.permutation(len(many)), var=var)
    h.finitialize(-65.0)
    h.continuerun(16.0)
    g = {k: np.array(v[1]) for k, v in runs.items()}
    assert np.abs(g["exp2syn"]).max() > 1e-3
    assert np.array_equal(g["exp2syn"], g["sum"])
    assert np.allclose(g["many0"], g["ref_many"], rtol=1e-12, atol=1e-15)
    assert np.array_equal(g["many0"], g["many1"]) and np.array_equal(g["many0"], g["many2"])


@pytest.mark.parametrize("chunks", [None, (16, 5)], ids=["default-chunks", "small-chunks"])
def test_probe_sums_do_not_depend_on_partition(monkeypatch, chunks):
    """cell_sums over all cells == the int64 sum of cell_sums over any split of the cells, equals
    the float matrix product to the quantum, and is bitwise each cell's own BLAS product, rounded,
    within one quantum per cell of the in-order sum over its segments (also with chunks smaller
    than the data, so several cell and time chunks)."""
    from lfpk.model import recording
    from lfpk.model.recording import cell_matrices, cell_sums, row_quanta

    if chunks:
        monkeypatch.setattr(recording, "CELL_CHUNK", chunks[0])
        monkeypatch.setattr(recording, "TIME_CHUNK", chunks[1])

    rng = np.random.default_rng(5)
    n_ch, ncell, nseg, nt = 4, 37, 9, 45
    rows = 2 * n_ch + 3
    M = rng.normal(size=(rows, ncell * nseg)) * 1e-3
    I = rng.normal(size=(nt, ncell * nseg))
    q = row_quanta(n_ch)
    full = cell_sums(cell_matrices(M, nseg), I, q, np.zeros((rows, nt), dtype=np.int64))
    parts = np.zeros_like(full)
    for lo, hi in ((0, 5), (5, 6), (6, 30), (30, ncell)):
        cols = slice(lo * nseg, hi * nseg)
        parts += cell_sums(cell_matrices(M[:, cols], nseg), I[:, cols], q, np.zeros_like(full))
    assert np.array_equal(full, parts)
    ref = M @ I.T
    assert np.allclose(full * q[:, None], ref, rtol=0, atol=ncell * q.max())
    # bitwise: each cell's contribution is its own product (per TIME_CHUNK steps), rounded, whatever
    # other cells are stacked with it
    exact = np.zeros_like(full)
    in_order = np.zeros_like(full)
    for c in range(ncell):
        cols = slice(c * nseg, (c + 1) * nseg)
        Mc = np.ascontiguousarray(M[:, cols].T)  # (nseg, rows)
        for t0 in range(0, nt, recording.TIME_CHUNK):
            t1 = min(nt, t0 + recording.TIME_CHUNK)
            exact[:, t0:t1] += np.rint((I[t0:t1, cols] @ Mc) * (1.0 / q)).astype(np.int64).T
        # the segment-by-segment sum in order (the mapping before BLAS): rounding of the
        # products' sum may move a cell's value by at most one quantum
        acc = M[:, cols][:, 0, None] * I[:, cols][None, :, 0]
        for k in range(1, nseg):
            acc = acc + M[:, cols][:, k, None] * I[:, cols][None, :, k]
        in_order += np.rint(acc * (1.0 / q)[:, None]).astype(np.int64)
    assert np.array_equal(full, exact)
    assert np.abs(full - in_order).max() <= ncell


def test_poisson_lumping_statistics(mechanisms):
    """A segment's drive (one NetStim at count*rate) vs count independent NetStims at rate:
    both are Poisson with mean = variance = count*rate*T per window."""
    from neuron import h

    count, rate, T, win, reps = 12, 40.0, 20000.0, 100.0, 20
    recs, keep = {"lumped": [], "separate": []}, []
    for r in range(reps):
        s = poisson_source(count * rate, (10_000 + r, 0, 7))
        v = h.Vector()
        nc = h.NetCon(s, None)
        nc.record(v)
        keep += [s, nc]
        recs["lumped"].append(v)
        vs = []
        for j in range(count):
            s = poisson_source(rate, (20_000 + r, j, 7))
            v = h.Vector()
            nc = h.NetCon(s, None)
            nc.record(v)
            keep += [s, nc]
            vs.append(v)
        recs["separate"].append(vs)
    h.dt = 0.0625
    h.finitialize(-65)
    h.ParallelContext().psolve(T)
    edges = np.arange(0.0, T + win / 2, win)
    mean_expected = count * rate * win / 1000.0  # 48 events per window
    stats = {}
    for kind in ("lumped", "separate"):
        n = []
        for item in recs[kind]:
            t = np.concatenate([np.asarray(v) for v in item]) if isinstance(item, list) else np.asarray(item)
            n.append(np.histogram(t, edges)[0])
        n = np.concatenate(n).astype(float)
        stats[kind] = n.mean(), n.var(ddof=1)
        m = len(n)
        assert n.mean() == pytest.approx(mean_expected, abs=4 * np.sqrt(mean_expected / m))
        # sample variance of Poisson counts: sd ~ sqrt(2 mu^2 / m) for large mu
        assert n.var(ddof=1) == pytest.approx(mean_expected, abs=4 * mean_expected * np.sqrt(2.0 / m))
        # windows are independent (no correlation between consecutive counts)
        assert abs(np.corrcoef(n[:-1], n[1:])[0, 1]) < 4 / np.sqrt(m)
    # inter-event intervals of the lumped source are exponential with the summed rate
    isi = np.diff(np.asarray(recs["lumped"][0]))
    assert scipy.stats.kstest(isi, "expon", args=(0, 1000.0 / (count * rate))).pvalue > 1e-3
    h.finitialize(-65)


@pytest.mark.parametrize("model", ["Exp2SynSum", "Exp2SynISum"])
def test_mechanism_drive_is_independent_poisson(mechanisms, model):
    """The built-in drive of Exp2SynSum (ground truth) and Exp2SynISum (the hybrid scheme's
    reconstructions): per synapse a Poisson train of the set rate (window counts with mean =
    variance, Fano factor 1, uncorrelated in time) and independent between synapses (pairwise
    correlations of the counts at the sampling error of independent trains)."""
    from neuron import h

    nsyn, rate, T, win = 24, 480.0, 20000.0, 100.0  # 48 arrivals per window and synapse
    sec = h.Section(name="drive_stats")
    sec.L = sec.diam = 10.0
    sec.insert("pas")
    syns = []
    for j in range(nsyn):
        s = getattr(h, model)(sec(0.5))
        s.drive_interval = 1000.0 / rate
        s.drive_weight = 0.0
        s.drive_stream.set_ids(j, j % 3, 11)
        syns.append(s)
    h.dt = 0.0625
    h.finitialize(-65)
    pc = h.ParallelContext()
    nwin = int(T / win)
    cum = np.zeros((nwin + 1, nsyn))
    for k in range(1, nwin + 1):
        pc.psolve(k * win)
        cum[k] = [s.drive_count for s in syns]
    n = np.diff(cum, axis=0)  # (window, synapse) counts
    mu = rate * win / 1000.0
    m = n.size
    assert n.mean() == pytest.approx(mu, abs=4 * np.sqrt(mu / m))
    fano = n.var(axis=0, ddof=1) / n.mean(axis=0)
    # Fano factor of Poisson counts: sd of the estimate ~ sqrt(2 / nwin) per synapse
    assert fano.mean() == pytest.approx(1.0, abs=4 * np.sqrt(2.0 / m))
    assert np.all(np.abs(fano - 1.0) < 5 * np.sqrt(2.0 / nwin))
    lag1 = np.mean([np.corrcoef(n[:-1, j], n[1:, j])[0, 1] for j in range(nsyn)])
    assert abs(lag1) < 4 / np.sqrt(m)
    c = np.corrcoef(n.T)[np.triu_indices(nsyn, 1)]  # sd 1/sqrt(nwin) each if independent
    assert abs(c.mean()) < 4 / np.sqrt(nwin * len(c))
    assert np.abs(c).max() < 5 / np.sqrt(nwin)
    assert c.std() == pytest.approx(1 / np.sqrt(nwin), rel=0.25)
    del syns, sec


def test_mechanism_drive_equals_netstim_drive(cfg, mechanisms):
    """The in-mechanism drive and the former NetStim + NetCon drive give the same network run,
    bitwise (same Random123 streams, arrivals applied in the step NEURON delivers them)."""
    out = {}
    for drive in ("netstim", "mechanism"):
        net = _net(cfg, mechanisms, tstop=150.0, record_signals=True, membrane_sample=4, extrinsic_drive=drive)
        net.run()
        out[drive] = (net.gather(), dict(net.counts))
        net.close()
    (a, ca), (b, cb) = out["netstim"], out["mechanism"]
    assert ca["netstims"] > 0 and cb["netstims"] == 0 and cb["drives"] == ca["netstims"]
    assert len(a["spike_time"]) > 20
    assert np.array_equal(a["spike_time"], b["spike_time"]) and np.array_equal(a["spike_unit"], b["spike_unit"])
    for p in a["signal"]:
        assert np.array_equal(a["signal"][p], b["signal"][p])
        assert np.array_equal(a["sample"][p][1], b["sample"][p][1])
    with pytest.raises(ValueError, match="extrinsic_drive"):
        _net(cfg, mechanisms, extrinsic_drive="queue")


def test_current_conservation_and_probe_mapping(cfg, mechanisms):
    """Per-cell transmembrane currents sum to ~0 (no monopole), the recorded dipole equals
    sum_i r_i I_i and the LFP equals per-cell line-source matrices times the currents."""
    from lfpk.model.recording import geometry, lfp_matrix, probe_settings

    net = _net(cfg, mechanisms, tstop=40.0, membrane_sample=2)
    net.run()
    # the currents and potentials were read through the numpy view of NEURON's storage (the
    # fast path, lfpk.engines.network.currents), which the comparisons below check against i_membrane_
    assert net.reader_modes == {"i_membrane_": "view", "v": "view"}
    settings = probe_settings(cfg)
    cdm = {p: np.zeros(3) for p in net.layout.names}
    lfp = {p: np.zeros(len(settings["channel_z"])) for p in net.layout.names}
    for gid, cell in net.cells.items():
        i = np.array([s.i_membrane_ for s in cell.segments])
        assert abs(i.sum()) < 1e-9 * np.abs(i).sum() + 1e-12
        st = net.layout.segtables[cell.population]
        x0, y0, z0 = net.layout.positions[gid]
        mid = np.column_stack([st["x"].mean(1) + x0, st["y"].mean(1) + y0, st["z"].mean(1) + z0])
        cdm[cell.population] += mid.T @ i
        g = geometry(st["x"] + x0, st["y"] + y0, st["z"] + z0, st["diam"])
        lfp[cell.population] += lfp_matrix(g, settings) @ i
    for p in net.layout.names:
        rec = net.signal[p]
        assert np.allclose(rec[net.rows["cdm"], -1], cdm[p], rtol=1e-9, atol=1e-9 * np.abs(cdm[p]).max())
        assert np.allclose(rec[net.rows["lfp"], -1], lfp[p], rtol=1e-9, atol=1e-12)
        # monopole-free: shifting the origin does not change the recorded dipole, i.e. the
        # dipole of the summed currents (sum_i I_i * a) is zero at every recorded step
    net.close()


def test_streamed_signals_are_the_in_memory_signals(cfg, mechanisms, tmp_path):
    """Signals handed over block by block (summed over ranks at every flush) are bitwise those
    kept in memory, no rank holds more than one block of them, and signals.nc written as the run
    goes (the command line's path) is the file written from memory: data, coordinates,
    attributes and encoding."""
    import gc

    import xarray as xr
    from ncfiles import netcdf_layout

    from lfpk.base.io import read_dataset

    mem = _net(cfg, mechanisms, tstop=100.0, membrane_sample=2).run()
    full = {p: a.copy() for p, a in mem.isignal.items()}
    mem.close()
    got = []
    net = _net(cfg, mechanisms, tstop=100.0, membrane_sample=2)
    net.stream_signals(lambda start, blocks: got.append((start, {p: b.copy() for p, b in blocks.items()})))
    views = (lambda: sum(type(o) is memoryview for o in gc.get_objects()))
    before = views()
    net.run()
    assert views() - before < 100  # nothing kept per time step (1601 steps; NEURON's as_numpy leaks one)
    assert all(a.shape == (net.rows["cdm"].stop, net.block) for a in net.isignal.values())  # one block
    with pytest.raises(RuntimeError, match="streamed"):
        net.signal
    assert "signal" not in net.gather()
    net.close()
    lengths = [b["E"].shape[1] for _, b in got]
    assert [s for s, _ in got] == [int(x) for x in np.cumsum([0, *lengths[:-1]])]
    assert sum(lengths) == 1601 and lengths[-1] == 1601 % 256  # a partial last block
    assert np.abs(full["E"]).max() > 0
    for p in full:
        assert np.array_equal(np.concatenate([b[p] for _, b in got], axis=1), full[p]), p
    kw = dict(sizes=SIZES, tstop=100.0, transient=20.0, membrane_sample=3)
    for d in ("stream", "memory"):
        (tmp_path / d).mkdir()
    run_network(cfg, tmp_path / "stream", **kw)
    run_network(cfg, tmp_path / "memory", stream=False, **kw)
    for name in ("signals", "spikes", "membrane"):
        a, b = (tmp_path / d / f"{name}.nc" for d in ("stream", "memory"))
        assert netcdf_layout(a, skip_attrs=("timings",)) == netcdf_layout(b, skip_attrs=("timings",)), name
        da, db = read_dataset(a), read_dataset(b)
        for d in (da, db):
            del d.attrs["timings"]
        xr.testing.assert_identical(da, db)  # bitwise data
    assert "stream" in json.loads(read_dataset(tmp_path / "stream" / "signals.nc").attrs["timings"])


def test_failure_mid_run_leaves_no_output(cfg, mechanisms, tmp_path, monkeypatch):
    """An error while signals.nc is being streamed (here: the third block's write) ends the run
    with that error; no output and no temporary file is left and an earlier output is kept."""
    datasets_module = sys.modules["lfpk.engines.network.datasets"]
    write = datasets_module.SignalsWriter.__call__
    calls = []

    def failing(self, start, blocks):
        calls.append(start)
        if len(calls) == 3:
            raise OSError("injected write failure")
        return write(self, start, blocks)

    monkeypatch.setattr(datasets_module.SignalsWriter, "__call__", failing)
    (tmp_path / "signals.nc").write_text("an earlier run")
    with pytest.raises(OSError, match="injected write failure"):
        run_network(cfg, tmp_path, sizes=SIZES, tstop=100.0, transient=20.0, membrane_sample=2)
    assert calls == [0, 256, 512]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signals.nc"]
    assert (tmp_path / "signals.nc").read_text() == "an earlier run"


FAILING_WRITE = """
import sys

import lfpk.engines.network
import lfpk.entry.cli.network

datasets = sys.modules["lfpk.engines.network.datasets"]
write = datasets.SignalsWriter.__call__
calls = []


def failing(self, start, blocks):  # rank 0's third block cannot be written (a full disk)
    calls.append(start)
    if len(calls) == 3:
        raise OSError(28, "No space left on device")
    return write(self, start, blocks)


datasets.SignalsWriter.__call__ = failing
sys.exit(lfpk.entry.cli.network.main(sys.argv[1:]))
"""


def test_failure_on_rank_0_stops_every_rank_and_leaves_nothing(repo, tmp_path):
    """Under MPI a failing write of a streamed block on rank 0 stops all ranks together at the next
    block (an exception inside NEURON's step callback would abort every rank without clean-up):
    one error line from rank 0, no hang, no output, no temporary file."""
    pytest.importorskip("mpi4py")
    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("mpiexec not found (install the 'mpi' extra)")
    script = tmp_path / "failing.py"
    script.write_text(FAILING_WRITE)
    env = clean_environment()
    cmd = [mpiexec, "-n", "2", sys.executable, str(script), "--config", str(repo / "config" / "config.yaml"),
           "--population-sizes", "E=16,I=4", "--tstop", "2000", "--transient", "20", "--membrane-sample", "2",
           "--outdir", str(tmp_path / "out")]
    p = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode != 0
    assert "lfpk network: error: no space left on device:" in p.stderr, p.stderr[-3000:]
    assert "(rank 1): stopped: at step 1024, because another rank failed" in p.stderr, p.stderr[-3000:]
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr[-3000:]
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("signum, ranks", [(signal.SIGTERM, 2), (signal.SIGINT, 1)])
def test_interrupted_run_leaves_no_output(repo, tmp_path, signum, ranks):
    """SIGTERM (SLURM's time limit; mpiexec forwards it to every rank) or Ctrl-C while signals.nc
    is being streamed: exit 128 + signal within seconds, no output, no temporary file."""
    import time

    env = clean_environment()
    cmd = [sys.executable, "-m", "lfpk", "network", "--config", str(repo / "config" / "config.yaml"),
           "--population-sizes", "E=16,I=4", "--tstop", "20000", "--transient", "20", "--membrane-sample", "2",
           "--outdir", str(tmp_path / "out"), "--log", str(tmp_path / "run.log")]
    if ranks > 1:
        pytest.importorskip("mpi4py")
        mpiexec = find_mpiexec()
        if mpiexec is None:
            pytest.skip("mpiexec not found (install the 'mpi' extra)")
        cmd = [mpiexec, "-n", str(ranks), *cmd]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:  # until blocks are being written
            log = tmp_path / "run.log"
            if log.exists() and "simulated" in log.read_text():
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert list((tmp_path / "out").glob(".signals.nc.*.tmp"))
        proc.send_signal(signum)
        start = time.monotonic()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert time.monotonic() - start < 60
    assert proc.returncode == 128 + signum, err[-3000:]
    assert f"interrupted ({signal.Signals(signum).name})" in err and "Traceback" not in err, err[-3000:]
    assert list((tmp_path / "out").iterdir()) == []


def _run_cli(args, tmp, env_extra=None, mpi=0):
    env = clean_environment()
    env.update(env_extra or {})
    cmd = [sys.executable, "-m", "lfpk", "network", *args]
    if mpi:
        mpiexec = find_mpiexec()
        if mpiexec is None:
            pytest.skip("mpiexec not found (install the 'mpi' extra)")
        cmd = [mpiexec, "-n", str(mpi), *cmd]
    p = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return p


def test_one_vs_two_ranks_identical(repo, tmp_path):
    pytest.importorskip("mpi4py")
    from lfpk.base.io import read_dataset

    common = ["--config", str(repo / "config" / "config.yaml"), "--population-sizes", "E=16,I=4",
              "--tstop", "100", "--transient", "20", "--membrane-sample", "3"]
    _run_cli([*common, "--outdir", str(tmp_path / "r1")], tmp_path)
    p = _run_cli([*common, "--outdir", str(tmp_path / "r2"), "--log", str(tmp_path / "r2.log")],
                 tmp_path, mpi=2)
    a, b = (read_dataset(tmp_path / r / "spikes.nc") for r in ("r1", "r2"))
    assert a.attrs["n_ranks"] == 1 and b.attrs["n_ranks"] == 2, p.stdout + p.stderr
    assert a.sizes["spike"] > 10
    assert np.array_equal(a["spike_time"].values, b["spike_time"].values)
    assert np.array_equal(a["spike_unit"].values, b["spike_unit"].values)
    assert np.array_equal(a["population_count"].values, b["population_count"].values)
    sa, sb = (read_dataset(tmp_path / r / "signals.nc") for r in ("r1", "r2"))
    for v in ("lfp", "csd", "cdm"):  # bitwise: exact fixed-point sums over cells and ranks
        x, y = sa[v].values, sb[v].values
        assert np.abs(x).max() > 0, v
        assert np.array_equal(x, y), (v, np.abs(x - y).max())
    ma, mb = (read_dataset(tmp_path / r / "membrane.nc") for r in ("r1", "r2"))
    assert np.array_equal(ma["sample_unit"].values, mb["sample_unit"].values)
    for v in ("v_soma_trace", "v_soma", "v_segment", "rate"):  # bitwise: order-independent synapses
        assert np.array_equal(ma[v].values, mb[v].values, equal_nan=True), v


def test_netcdf_contract(cfg, mechanisms, tmp_path, caplog):
    import logging

    from lfpk.base.io import read_dataset

    caplog.set_level(logging.INFO, logger="lfpk")
    probs = scaled_probabilities(cfg, SIZES)
    assert probs[("E", "E")] == 1.0  # capped: 0.4 * 1024 / 16 > 1
    paths, timings, rates = run_network(cfg, tmp_path, sizes=SIZES, tstop=100.0, transient=20.0,
                                        membrane_sample=3)
    assert set(paths) == {"spikes", "signals", "membrane"}
    progress = [r for r in caplog.records if "simulated" in r.getMessage()]
    assert len(progress) >= 10  # at least every 10 %
    for name in ("spikes", "signals", "membrane"):
        ds = read_dataset(tmp_path / f"{name}.nc")
        for v in ds.data_vars.values():
            assert v.attrs.get("units") is not None and v.attrs.get("long_name"), v.name
        for a in ("dt", "tstop", "transient", "seed", "parameters", "timings", "software"):
            assert a in ds.attrs, (name, a)
        assert ds.attrs["dt"] == 0.0625 and ds.attrs["tstop"] == 100.0 and ds.attrs["transient"] == 20.0
        t = json.loads(ds.attrs["timings"])
        assert {"build", "connect", "simulate", "write"} <= set(t)
        assert json.loads(ds.attrs["parameters"])["seed"] == cfg["seed"]
    sp = read_dataset(tmp_path / "spikes.nc")
    n = sum(SIZES.values())
    assert sp.sizes["unit"] == n
    assert list(sp["unit_population"].values) == ["E"] * 16 + ["I"] * 4
    assert sp["spike_time"].attrs["units"] == "ms" and sp["x"].attrs["units"] == "um"
    assert np.all(np.diff(sp["spike_time"].values) >= 0)
    assert sp["population_count"].dims == ("population", "time")
    assert sp.sizes["time"] == 1601
    assert int(sp["population_count"].sum()) == sp.sizes["spike"]
    for i, p in enumerate(["E", "I"]):
        sel = sp["unit_population"].values[sp["spike_unit"].values] == p
        assert int(sp["population_count"].values[i].sum()) == sel.sum()
    sig = read_dataset(tmp_path / "signals.nc")
    assert list(sig["source"].values) == ["total", "E", "I"]
    assert sig["lfp"].dims == ("source", "channel", "time") and sig["lfp"].attrs["units"] == "mV"
    assert sig["csd"].attrs["units"] == "uA/mm3" and sig["cdm"].attrs["units"] == "nA um"
    assert sig["cdm"].dims == ("source", "component", "time")
    assert np.allclose(sig["channel_z"].values, cfg["probes"]["channel_z"])
    assert sig["channel_z"].attrs["units"] == "um"
    assert np.array_equal(sig["time"].values, sp["time"].values)
    for v in ("lfp", "csd", "cdm"):
        x = sig[v].values
        assert np.all(np.isfinite(x))
        assert np.allclose(x[0], x[1] + x[2], rtol=1e-12, atol=1e-15)  # total = sum of populations
        assert np.abs(x[1]).max() > 0
    mem = read_dataset(tmp_path / "membrane.nc")
    assert mem["v_soma"].attrs["units"] == "mV" and mem["rate"].attrs["units"] == "1/s"
    assert list(mem["nseg"].values) == [27, 11]
    vs = mem["v_segment"].values
    assert np.all(np.isfinite(vs[0])) and np.all(np.isfinite(vs[1, :11])) and np.all(np.isnan(vs[1, 11:]))
    assert np.all((mem["v_soma"].values > -90) & (mem["v_soma"].values < -40))
    assert np.allclose(mem["rate"].values, [rates["E"], rates["I"]])
    assert mem["rate"].values[1] > 0
