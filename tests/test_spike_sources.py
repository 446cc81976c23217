"""Spikes from memory and from other simulators' formats pass the file readers' rules, in one place
(lfpk.engines.spikes.checks), and predict exactly as the text-file route (issue 24).

Real libraries make the inputs where installed: NEST 3.10 (recorders in memory), pynwb (an NWB
file), neo + quantities (SpikeTrains), h5py (a SONATA file). Brian2 needs numpy < 2.4, which this
environment does not have: its real monitors and online example run in a side environment
(tests/test_brian2_real.py); here a minimal stand-in with what lfpk reads (``t`` a Quantity-like
array with ``dim`` 's' and values in seconds, ``t_`` with ``dim`` None as Brian2's VariableView,
``i``, ``source.start``, ``clock.t``) keeps the quick checks in this process.
"""

from __future__ import annotations

import subprocess
import sys
import numpy as np
import pytest

from lfpk.engines.prediction.online import OnlinePredictor
from lfpk.engines.prediction.predict import predict, predict_files
from lfpk.engines.spikes import SpikeData, SpikeInputError, SpikeWarning, population_counts, read_spikes
from lfpk.engines.spikes.formats import from_brian2, from_neo, from_nest, read_nwb, read_sonata
from lfpk.base.io import read_dataset
from tests.test_predict import make_kernels

# the test kernels were made for 1 /s: the rate warning is not what these tests are about
pytestmark = pytest.mark.filterwarnings("ignore:the kernels' g_eff was computed:lfpk.engines.spikes.errors.SpikeWarning")

DT = 0.25
TSTOP = 200.0
MAP = {"E": [0, 7], "I": [8, 9]}


def poisson(seed=0, n=300):
    rng = np.random.default_rng(seed)
    t = np.round(rng.uniform(0, TSTOP, n), 3)
    u = rng.integers(0, 10, n)
    key = np.unique(np.c_[u, t], axis=0)  # no exact duplicates
    return key[:, 1], key[:, 0].astype(int)


def text_route(tmp_path, t, u, kern_path, name="ref"):
    f = tmp_path / f"{name}.csv"
    f.write_text("unit,time_ms\n" + "".join(f"{int(a)},{float(b)!r}\n" for a, b in zip(u, t)))
    m = tmp_path / "map.txt"
    m.write_text("E: 0-7\nI: 8-9\n")
    return predict_files(str(f), kern_path, tmp_path / f"{name}.nc", populations=str(m), tstop=TSTOP).dataset()


@pytest.fixture
def kern_path(tmp_path):
    from lfpk.base.io import write_dataset
    p = tmp_path / "k.nc"
    write_dataset(make_kernels(), p)
    return str(p)


def same(a, b, tol=1e-12):
    for v in ("lfp", "csd", "cdm", "eeg"):
        x, y = a[v].values, b[v].values
        assert x.shape == y.shape
        assert np.abs(x - y).max() <= tol * np.abs(y).max(), v
    assert (a["population_count"].values == b["population_count"].values).all()


# ---------------------------------------------------------------------------------------------
# in memory: the file path's rules
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("times, units, match", [
    ([1.0, -0.5], [0, 1], "spike time -0.5 ms is negative"),
    ([1.0, np.nan], [0, 1], "spike time nan is not finite"),
    ([1.0, np.inf], [0, 1], "spike time inf is not finite"),
    ([1.0, 250.0], [0, 1], "after the stop time 200 ms"),
    ([1.0, 50.0], [0, 5.5], "index 1: 5.5 is not an integer unit id"),
    ([1.0, 50.0], [0, 12], "unit 12 is not in the unit->population map"),
    ([1.0, 50.0, 50.0], [0, 3, 3], "duplicate spike \\(population E, unit 3, time 50.0 ms\\)"),
    ([0.01, 0.5, 1.2], [0, 1, 9], "look like seconds read as ms.*time_unit='s'"),
])
def test_spike_data_refuses_what_files_refuse(times, units, match):
    with pytest.raises(SpikeInputError, match=match):
        SpikeData(times=np.array(times), units=np.array(units), unit_population=MAP, tstop=TSTOP)


def test_spike_data_ways_out_and_units():
    t = np.array([0.01, 0.05, 0.12])
    s = SpikeData(times=t, units=[0, 1, 9], unit_population=MAP, tstop=TSTOP, time_unit="s")
    assert s.times.tolist() == [10.0, 50.0, 120.0]
    ms = SpikeData(times=t, units=[0, 1, 9], unit_population=MAP, tstop=TSTOP, time_unit="ms")
    assert ms.times.max() == 0.12
    kept = SpikeData(times=[5.0, 5.0, 60.0], units=[3, 3, 9], unit_population=MAP, tstop=TSTOP, duplicates="keep")
    assert int(population_counts(kept, DT).sum()) == 3
    with pytest.raises(SpikeInputError, match="population 'I' of the map, which is not in populations"):
        SpikeData(times=[5.0, 60.0], units=[3, 9], unit_population=MAP, populations=["E"], tstop=TSTOP)
    later = SpikeData(times=[5.0, 150.0], units=[3, 9], unit_population=MAP)
    with pytest.raises(SpikeInputError, match="after the stop time 100 ms"):
        population_counts(later, DT, tstop=100.0)
    early = SpikeData(times=[0.5, 1.5], units=[3, 9], unit_population=MAP)  # no tstop yet: checked at binning
    with pytest.raises(SpikeInputError, match="look like seconds"):
        population_counts(early, DT, tstop=TSTOP)


def test_quantities_and_brian2_times_are_converted():
    pq = pytest.importorskip("quantities")
    t, u = poisson()
    ref = population_counts(SpikeData(times=t, units=u, unit_population=MAP, tstop=TSTOP), DT)
    q = SpikeData(times=(t / 1000.0) * pq.s, units=u, unit_population=MAP, tstop=TSTOP)
    assert (population_counts(q, DT).values == ref.values).all()
    b = SpikeData(times=Brian2Quantity(t / 1000.0), units=u, unit_population=MAP, tstop=TSTOP)
    assert (population_counts(b, DT).values == ref.values).all()
    assert b.attrs["time_units"].startswith("s (carried by the array")
    with pytest.raises(SpikeInputError, match="carry the unit s but time_unit='ms'"):
        SpikeData(times=(t / 1000.0) * pq.s, units=u, unit_population=MAP, tstop=TSTOP, time_unit="ms")
    with pytest.raises(SpikeInputError, match="not a time"):
        SpikeData(times=t * pq.mV, units=u, unit_population=MAP, tstop=TSTOP)


def test_predict_takes_spike_data_and_refuses_silent_populations():
    kern = make_kernels()
    t, u = poisson()
    sp = SpikeData(times=t, units=u, unit_population=MAP, tstop=TSTOP)
    same(predict(kern, sp), predict(kern, population_counts(sp, DT)))
    only_e = SpikeData(times=t[u < 8], units=u[u < 8], unit_population=MAP, tstop=TSTOP)
    with pytest.raises(SpikeInputError, match="population I has no spike.*allow_silent=\\['I'\\]"):
        predict(kern, only_e)
    with pytest.warns(SpikeWarning, match="population I has no spike"):
        predict(kern, only_e, allow_silent=["I"])


def test_predict_files_takes_spike_data(tmp_path, kern_path):
    t, u = poisson()
    ref = text_route(tmp_path, t, u, kern_path)
    sp = SpikeData(times=t, units=u, unit_population=MAP, tstop=TSTOP)
    res = predict_files(sp, kern_path, tmp_path / "mem.nc")
    same(res.dataset(), ref)
    assert res.attrs["spike_format"] == "memory"
    assert any("of 8 units spiking" in line for line in res.report)
    with pytest.raises(ValueError, match="time_unit apply to spike text files"):
        predict_files(sp, kern_path, tmp_path / "x.nc", time_unit="s")
    assert not (tmp_path / "x.nc").exists()


def test_online_applies_the_same_rules(tmp_path):
    kern = make_kernels()
    with pytest.raises(SpikeInputError, match="5.5 is not an integer unit id"):
        OnlinePredictor(kern, unit_population=MAP).add_spikes([1.0], units=[5.5])
    with pytest.raises(SpikeInputError, match="not finite"):
        OnlinePredictor(kern).add_spikes([np.nan], population="E")
    on = OnlinePredictor(kern, unit_population=MAP)
    on.add_spikes([0.05, 0.08], units=[1, 9])  # seconds given as numbers
    with pytest.raises(SpikeInputError, match="look like seconds"):
        on.advance(100.0)
    on = OnlinePredictor(kern, unit_population=MAP)
    on.add_spikes([10.0, 20.0], units=[1, 9])
    on.add_spikes([10.0], units=[1])  # the recorder read again
    with pytest.raises(SpikeInputError, match="duplicate spike \\(population E, unit 1, time 10.0 ms\\)"):
        on.advance(50.0)
    on = OnlinePredictor(kern, unit_population=MAP)
    on.add_spikes([10.0, 20.0], units=[1, 9])
    on.advance(50.0)
    with pytest.raises(SpikeInputError, match="read again without clearing"):
        on.add_spikes([10.0], units=[1])
    out = tmp_path / "silent.nc"
    with pytest.raises(SpikeInputError, match="population I has no spike"):
        with OnlinePredictor(kern, output=out) as on:
            on.add_spikes([10.0, 20.0], population="E")
            on.advance(50.0)
            on.close(50.0)
    assert not out.exists()


def test_online_quantity_times_equal_offline():
    pq = pytest.importorskip("quantities")
    kern = make_kernels()
    t, u = poisson()
    ref = predict(kern, SpikeData(times=t, units=u, unit_population=MAP, tstop=TSTOP), contributions=False)
    on = OnlinePredictor(kern, unit_population=MAP)
    for a in np.arange(0.0, TSTOP, 50.0):
        sel = (t >= a) & (t < a + 50.0)
        on.add_spikes((t[sel] / 1000.0) * pq.s, units=u[sel])
        on.advance(a + 50.0)
    on.close(TSTOP)
    got = on.dataset()
    assert np.abs(got["lfp"].values - ref["lfp"].values).max() <= 1e-12 * np.abs(ref["lfp"].values).max()


# ---------------------------------------------------------------------------------------------
# other simulators and formats, made by the real library where installed
# ---------------------------------------------------------------------------------------------

class Brian2Quantity(np.ndarray):
    """Stand-in of a Brian2 Quantity of time: values in seconds, ``dim`` printing as 's'."""

    def __new__(cls, seconds):
        obj = np.asarray(seconds, dtype=float).view(cls)
        obj.dim = "s"
        return obj

    def __array_finalize__(self, obj):
        self.dim = getattr(obj, "dim", "s")


class _Group:
    def __init__(self, start, n):
        self.start, self._n = start, n

    def __len__(self):
        return self._n


class _Clock:
    def __init__(self, seconds):
        self.t = Brian2Quantity(seconds)


class Brian2Monitor:
    """Stand-in of a Brian2 SpikeMonitor of a subgroup P[start:start+n]: t, i, source, clock."""

    def __init__(self, t_ms, i_local, start, n, tstop_ms):
        self.t = Brian2Quantity(np.asarray(t_ms) / 1000.0)
        self.i = np.asarray(i_local)
        self.source = _Group(start, n)
        self.clock = _Clock(tstop_ms / 1000.0)


def test_brian2_monitors_equal_text_route(tmp_path, kern_path):
    t, u = poisson()
    ref = text_route(tmp_path, t, u, kern_path)
    e, i = u < 8, u >= 8
    mons = {"E": Brian2Monitor(t[e], u[e], 0, 8, TSTOP), "I": Brian2Monitor(t[i], u[i] - 8, 8, 2, TSTOP)}
    sp = from_brian2(mons)
    assert sp.tstop == TSTOP and sp.unit_population is not None
    same(predict_files(sp, kern_path, tmp_path / "b.nc").dataset(), ref)
    bare = Brian2Monitor(t, u, 0, 10, TSTOP)
    bare.t = np.asarray(bare.t)  # mon.t_: plain seconds, taken as seconds
    same(predict_files(from_brian2(bare, populations=MAP), kern_path, tmp_path / "b2.nc").dataset(), ref)
    # Brian2's mon.t_ is a VariableView whose dim is None: unit-less numbers, refused as seconds with the way out
    # (it was refused as "carry the dimension 'None', not a time")
    with pytest.raises(SpikeInputError, match="look like seconds read as ms.*time_unit='s' converts seconds"):
        SpikeData(times=UnitlessView(t / 1000.0), units=u, unit_population=MAP, tstop=TSTOP)
    assert SpikeData(times=UnitlessView(t), units=UnitlessView(u), unit_population=MAP, tstop=TSTOP).n_spikes == len(t)
    odd = Brian2Monitor(t[i], u[i] - 8, 8, 2, TSTOP)
    odd.i = Brian2Quantity(u[i] - 8)  # ids carrying seconds
    with pytest.raises(SpikeInputError, match="of 'I': i: carry the dimension s; expected integer unit ids"):
        from_brian2({"E": mons["E"], "I": odd})
    odd.i = u[i] - 7.5  # never truncated
    with pytest.raises(SpikeInputError, match="of 'I': i, index 0: 0.5 is not an integer unit id"):
        from_brian2({"E": mons["E"], "I": odd})
    empty = {p: Brian2Monitor([], [], 0, 8, TSTOP) for p in "EI"}  # never part of the Network that ran
    with pytest.raises(SpikeInputError, match="Brian2 SpikeMonitors: no spike recorded.*give them to Network"):
        from_brian2(empty)


class UnitlessView:
    """Stand-in of Brian2's VariableView of plain numbers (``mon.t_``, ``mon.i``): not an ndarray, ``dim`` None."""

    dim = None

    def __init__(self, values):
        self._values = np.asarray(values)
        self.dtype = self._values.dtype

    def __array__(self, dtype=None, copy=None):
        return self._values if dtype is None else self._values.astype(dtype)


def test_neo_equal_text_route(tmp_path, kern_path):
    neo = pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    t, u = poisson()
    ref = text_route(tmp_path, t, u, kern_path)
    trains = [neo.SpikeTrain(np.sort(t[u == k]) / 1000.0 * pq.s, t_stop=TSTOP / 1000.0 * pq.s, source_id=k,
                             source_population="E" if k < 8 else "I") for k in range(10)]
    seg = neo.Segment()
    seg.spiketrains.extend(trains)
    block = neo.Block()
    block.segments.append(seg)
    for obj in (trains, seg, block):
        sp = from_neo(obj)
        assert sp.tstop == TSTOP
        same(predict_files(sp, kern_path, tmp_path / "n.nc").dataset(), ref)
        (tmp_path / "n.nc").unlink()
    # a Neo file written by Neo's own IO (PyNN's write_data to .pkl), on the command line
    from neo.io import PickleIO

    f = tmp_path / "spikes.pkl"
    PickleIO(str(f)).write_block(block)
    code, err = lfpk_cli("predict", "--spikes", f, "--tstop", TSTOP, "--kernels", kern_path, "--output",
                         tmp_path / "p.nc")
    assert code == 0, err
    same(read_dataset(tmp_path / "p.nc"), ref)
    code, err = lfpk_cli("predict", "--spikes", f, "--tstop", TSTOP, "--time-unit", "s", "--kernels", kern_path,
                         "--output", tmp_path / "p2.nc")
    assert code == 2 and "Neo spike trains carry their time unit" in err and "Traceback" not in err, err
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    code, err = lfpk_cli("predict", "--spikes", tmp_path / "bad.pkl", "--tstop", TSTOP, "--kernels", kern_path,
                         "--output", tmp_path / "p3.nc")
    assert code == 2 and "bad.pkl" in err and "Traceback" not in err, err
    block.segments.append(neo.Segment())
    with pytest.raises(SpikeInputError, match="Block with 2 segments"):
        from_neo(block)


def test_sonata_equal_text_route(tmp_path, kern_path):
    h5py = pytest.importorskip("h5py")
    t, u = poisson()
    ref = text_route(tmp_path, t, u, kern_path)
    f = tmp_path / "spikes.h5"
    order = np.argsort(t, kind="stable")
    with h5py.File(f, "w") as h:
        g = h.create_group("spikes/internal")
        g.attrs["sorting"] = "by_time"
        g.create_dataset("timestamps", data=t[order] / 1000.0).attrs["units"] = "s"
        g.create_dataset("node_ids", data=u[order].astype(np.uint64))
    m = tmp_path / "map.txt"
    sp = read_sonata(f, populations=str(m), tstop=TSTOP)
    assert sp.attrs["sorting"] == "internal: by_time"
    same(predict_files(sp, kern_path, tmp_path / "s.nc").dataset(), ref)
    # the path itself, as the command line gives it
    res = predict_files([str(f)], kern_path, tmp_path / "s2.nc", populations=str(m), tstop=TSTOP)
    same(res.dataset(), ref)
    assert res.attrs["spike_format"] == "sonata"
    # and on the command line (no CLI change needed: predict_files reads .h5/.nwb paths)
    code, err = lfpk_cli("predict", "--spikes", f, "--populations", m, "--tstop", TSTOP, "--kernels", kern_path,
                         "--output", tmp_path / "s3.nc")
    assert code == 0, err
    same(read_dataset(tmp_path / "s3.nc"), ref)
    with pytest.raises(SpikeInputError, match="not in the unit->population map"):
        read_sonata(f, populations={"E": [0, 7]}, tstop=TSTOP)
    # two node populations E and I, times in ms stated
    f2 = tmp_path / "two.h5"
    with h5py.File(f2, "w") as h:
        for name, sel, off in (("E", u < 8, 0), ("I", u >= 8, 8)):
            g = h.create_group(f"spikes/{name}")
            g.create_dataset("timestamps", data=t[sel]).attrs["units"] = "ms"
            g.create_dataset("node_ids", data=u[sel] - off)
    sp2 = read_sonata(f2, tstop=TSTOP)
    assert sp2.populations == ["E", "I"]
    assert (population_counts(sp2, DT).values == population_counts(sp, DT).values).all()


def test_nwb_equal_text_route(tmp_path, kern_path):
    pynwb = pytest.importorskip("pynwb")
    from datetime import datetime, timezone
    t, u = poisson()
    ref = text_route(tmp_path, t, u, kern_path)
    nwb = pynwb.NWBFile(session_description="lfpk test", identifier="issue24",
                        session_start_time=datetime(2026, 12, 4, tzinfo=timezone.utc))
    nwb.add_unit_column(name="population", description="population of the unit")
    for k in range(10):
        nwb.add_unit(id=k, spike_times=np.sort(t[u == k]) / 1000.0, population="E" if k < 8 else "I")
    f = tmp_path / "units.nwb"
    with pynwb.NWBHDF5IO(str(f), "w") as io:
        io.write(nwb)
    sp = read_nwb(f, tstop=TSTOP)
    same(predict_files(sp, kern_path, tmp_path / "w.nc").dataset(), ref)
    res = predict_files([str(f)], kern_path, tmp_path / "w2.nc", tstop=TSTOP)
    same(res.dataset(), ref)
    with pytest.raises(SpikeInputError, match="no column 'pop'"):
        read_nwb(f, tstop=TSTOP, population_column="pop")


NEST_SCRIPT = r"""
import json, sys
import numpy as np
import nest
nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.resolution = 0.125
e = nest.Create("poisson_generator", params={"rate": 40.0})
E = nest.Create("parrot_neuron", 8)
I = nest.Create("parrot_neuron", 2)
nest.Connect(e, E + I)
recE = nest.Create("spike_recorder")
recI = nest.Create("spike_recorder")
nest.Connect(E, recE)
nest.Connect(I, recI)
nest.Simulate(200.0)
from lfpk.engines.spikes.formats import from_nest
a = from_nest({"E": recE, "I": recI}, tstop=nest.biological_time)
b = from_nest([recE, recI], populations={"E": E, "I": I}, tstop=nest.biological_time)
ev = [recE.events, recI.events]
out = {"n": a.n_spikes, "same": bool((a.times == b.times).all() and (a.units == b.units).all()),
       "sizes": [b.unit_population.size("E"), b.unit_population.size("I")],
       "t": np.concatenate([x["times"] for x in ev]).tolist(),
       "u": np.concatenate([x["senders"] for x in ev]).tolist(), "first": int(E[0].global_id)}
print(json.dumps(out))
"""


def test_nest_recorders_equal_text_route(tmp_path, kern_path):
    pytest.importorskip("nest")
    run = subprocess.run([sys.executable, "-c", NEST_SCRIPT], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    out = __import__("json").loads(run.stdout.strip().splitlines()[-1])
    assert out["n"] > 50 and out["same"] and out["sizes"] == [8, 2]
    t, u = np.array(out["t"]), np.array(out["u"]) - out["first"]  # node ids -> 0..9
    ref = text_route(tmp_path, t, u, kern_path)
    sp = from_nest({"E": {"senders": u[u < 8], "times": t[u < 8]}, "I": {"senders": u[u >= 8], "times": t[u >= 8]}},
                   populations=MAP, tstop=TSTOP)
    same(predict_files(sp, kern_path, tmp_path / "nest.nc").dataset(), ref)


# ---------------------------------------------------------------------------------------------
# inconsistent inputs that passed before
# ---------------------------------------------------------------------------------------------

def lfpk_cli(*args):
    run = subprocess.run([sys.executable, "-m", "lfpk", *map(str, args)], capture_output=True, text=True, timeout=120)
    return run.returncode, run.stderr


def test_missing_nest_thread_file_refused(tmp_path, kern_path):
    head = "# NEST version: 3.10.0\n# RecordingBackendASCII version: 2\nsender\ttime_ms\n"
    for vp in (0, 1, 3):  # vp 2's file is gone
        (tmp_path / f"brunel-E-101-{vp}.dat").write_text(head + f"{vp + 1}\t{10.0 + vp}\n")
    code, err = lfpk_cli("predict", "--spikes", f"E={tmp_path}/brunel-E-101-*.dat", "--tstop", TSTOP,
                         "--kernels", kern_path, "--output", tmp_path / "p.nc", "--allow-silent", "I")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "brunel-E-101-<vp>.dat: NEST per-thread file(s) of virtual process 2 missing (given: 0, 1, 3)" in err
    assert not (tmp_path / "p.nc").exists()
    (tmp_path / "brunel-E-101-2.dat").write_text(head + "3\t12.0\n")
    sp = read_spikes(f"E={tmp_path}/brunel-E-101-*.dat", tstop=TSTOP)
    assert sp.n_spikes == 4
    # the same names without NEST's header are not NEST's files: left alone
    (tmp_path / "other").mkdir()
    for k in (0, 2):
        (tmp_path / "other" / f"run-2026-{k}.csv").write_text(f"unit,time_ms\n{k},{5.0 + k}\n")
    assert read_spikes(f"E={tmp_path}/other", tstop=TSTOP).n_spikes == 2


def test_kernel_configuration_of_other_sizes_refused(tmp_path, repo):
    from lfpk.engines.prediction.predict import KernelFactory
    t, u = poisson()
    factory = KernelFactory(compute=lambda rates: make_kernels(), dt=DT, presynaptic=["E", "I"],
                            sizes={"E": 80, "I": 2}, source="other.yaml")
    sp = SpikeData(times=t, units=u, unit_population=MAP, tstop=TSTOP)
    with pytest.raises(ValueError, match="population E has 8 units in the spikes' unit map .* but 80 in the kernel "
                                         "configuration other.yaml"):
        predict_files(sp, factory, tmp_path / "p.nc")
    labelled = SpikeData(times=t, units=u, populations=["E", "I"], population_index=(u >= 8).astype(int), tstop=TSTOP)
    factory.sizes = {"E": 4, "I": 2}
    with pytest.raises(ValueError, match="population E has 8 spiking units but 4 units in the kernel configuration"):
        predict_files(labelled, factory, tmp_path / "p.nc")
    assert not (tmp_path / "p.nc").exists()
    # the command line: a unit map of 8192 E for the laptop configuration (1024 E), refused before any kernel
    f = tmp_path / "s.csv"
    f.write_text("unit,time_ms\n" + "".join(f"{k},{1.0 + k}\n" for k in range(0, 9000, 50)))
    m = tmp_path / "m.txt"
    m.write_text("E: 0-8191\nI: 8192-9215\n")
    code, err = lfpk_cli("predict", "--spikes", f, "--populations", m, "--tstop", 10000, "--kernel-config",
                         repo / "config" / "config.yaml", "--output", tmp_path / "c.nc")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "population E has 8192 units in the spikes' unit map" in err and "but 1024 in the kernel" in err


# ---------------------------------------------------------------------------------------------
# the documented examples run as written (docs/examples/spikes/)
# ---------------------------------------------------------------------------------------------

EXAMPLES = __import__("pathlib").Path(__file__).resolve().parent.parent / "docs" / "examples" / "spikes"


@pytest.mark.parametrize("name, needs, expect", [
    ("nest_online.py", "nest", "online prediction: 2001 samples to 500 ms"),
    ("offline_files.py", "nest", "files and memory agree to 0.0e+00"),
])
def test_examples_run_as_written(tmp_path, kern_path, name, needs, expect):
    """Each example with small kernels and 500 ms (brian2_online.py: tests/test_brian2_real.py)."""
    pytest.importorskip(needs)
    run = subprocess.run([sys.executable, str(EXAMPLES / name), kern_path, "500"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert expect in run.stdout, run.stdout


def test_output_name_and_allow_silent_without_files(tmp_path, kern_path):
    """--output x.csv is refused (the prediction is netCDF); --allow-silent I with only E= files works."""
    f = tmp_path / "E.dat"
    f.write_text("sender\ttime_ms\n1\t10.0\n2\t20.5\n")
    code, err = lfpk_cli("predict", "--spikes", f"E={f}", "--tstop", 100, "--kernels", kern_path, "--output",
                         tmp_path / "x.csv", "--allow-silent", "I")
    assert code == 2 and "Traceback" not in err and "expected a name ending in .nc" in err, err
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(ValueError, match="expected a name ending in .nc"):
        OnlinePredictor(make_kernels(), output=tmp_path / "y.csv")
    code, err = lfpk_cli("predict", "--spikes", f"E={f}", "--tstop", 100, "--kernels", kern_path, "--output",
                         tmp_path / "p.nc")
    assert code == 2 and "no unit of population(s) ['I']" in err and "--allow-silent I" in err, err
    code, err = lfpk_cli("predict", "--spikes", f"E={f}", "--tstop", 100, "--kernels", kern_path, "--output",
                         tmp_path / "p.nc", "--allow-silent", "I")
    assert code == 0 and "population I has no spike" in err, err
    assert read_dataset(tmp_path / "p.nc")["population_count"].sel(population="I").sum() == 0


def test_swapped_labels_refused(tmp_path, kern_path):
    for pop in "EI":
        (tmp_path / f"brunel-{pop}-{101 + (pop == 'I')}-0.dat").write_text("sender\ttime_ms\n1\t10.0\n")
    code, err = lfpk_cli("predict", "--spikes", f"E={tmp_path}/brunel-I-*.dat", "--spikes",
                         f"I={tmp_path}/brunel-E-*.dat", "--tstop", 100, "--kernels", kern_path, "--output",
                         tmp_path / "p.nc")
    assert code == 2 and "Traceback" not in err, err
    assert "brunel-I-102-0.dat' names population I, but the file is labelled E=" in err
    sp = read_spikes([f"E={tmp_path}/brunel-E-*.dat", f"I={tmp_path}/brunel-I-*.dat"], tstop=100.0)
    assert sp.n_spikes == 2


def test_readers_are_in_the_flat_api():
    """`import lfpk` gives every reader of other simulators' spikes (the flat public API)."""
    import lfpk
    from lfpk.engines.spikes import formats

    for name in ("read_sonata", "read_nwb", "from_neo", "from_nest", "from_brian2"):
        assert getattr(lfpk, name) is getattr(formats, name) and name in lfpk.__all__


def test_no_spike_at_all_names_files_or_arrays(tmp_path):
    """A recording without any spike says 'empty or header-only spike files' only for files."""
    from lfpk.engines.spikes.counting import SpikeCounts

    empty = tmp_path / "E-1-0.dat"
    empty.write_text("")

    def message(path):
        counts = SpikeCounts(counts=np.zeros((1, 10), np.int32), populations=["E"], dt=0.1, tstop=1.0, stats={},
                             units_used=[(path, "ms", "given")], n_duplicates=0, source=str(path))
        with pytest.raises(SpikeInputError) as info:
            counts.check(required=["E"])
        return str(info.value)

    assert "empty or header-only spike files" in message(empty)
    assert "no spike in the arrays or objects given" in message("<memory>")
