"""Spike input: text/CSV and netCDF readers, validation messages, binning."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from lfpk.base.io import write_dataset
from lfpk.engines.spikes import SpikeData, SpikeInputError, n_bins, population_counts, read_population_map, read_spikes

MAP = {0: "E", 1: "E", 2: "E", 3: "I", 4: "I"}


def write_map(path, header=True):
    lines = (["unit,population"] if header else []) + [f"{u},{p}" for u, p in MAP.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def spikes_nc(path, times, units, tstop=100.0, dt=0.1, **drop):
    pops = np.array([MAP[u] for u in range(5)])
    ds = xr.Dataset(
        {"spike_time": ("spike", np.asarray(times, float), {"units": "ms", "long_name": "spike time"}),
         "spike_unit": ("spike", np.asarray(units, np.int64), {"units": "1", "long_name": "unit"}),
         "unit_population": ("unit", pops, {"units": "1", "long_name": "population"}),
         "x": ("unit", np.zeros(5), {"units": "um", "long_name": "x"}),
         "y": ("unit", np.zeros(5), {"units": "um", "long_name": "y"}),
         "z": ("unit", np.zeros(5), {"units": "um", "long_name": "z"})},
        coords={"unit": np.arange(5)}, attrs={"tstop": tstop, "dt": dt, "transient": 0.0, "seed": 1})
    for k in drop:
        ds = ds.drop_vars(k)
    write_dataset(ds, path)
    return path


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------


def test_text_nest_style_with_comments_and_header(tmp_path):
    f = tmp_path / "spikes.dat"
    f.write_text("# NEST version: 3.6\n# RecordingBackendASCII version: 2\nsender\ttime_ms\n"
                 "3\t12.5\n0\t1.0\n4\t99.9\n")
    sp = read_spikes(f, populations=write_map(tmp_path / "map.csv"), tstop=100.0)
    # unsorted input accepted and sorted by time
    assert sp.times.tolist() == [1.0, 12.5, 99.9]
    assert sp.units.tolist() == [0, 3, 4]
    assert sp.attrs["input_sorted"] == 0
    assert sp.populations == ["E", "I"]
    assert sp.population_of_spikes().tolist() == ["E", "I", "I"]


@pytest.mark.parametrize("text", ["0,1.0\n3,2.5\n", "0 1.0\n3   2.5\n", "i,t\n0,1.0\n3,2.5\n",
                                  "unit; time (ms)\n0; 1.0\n3; 2.5\n", "time_ms,sender\n1.0,0\n2.5,3\n"])
def test_text_layouts(tmp_path, text):
    f = tmp_path / "spikes.csv"
    f.write_text(text)
    sp = read_spikes(f, populations=MAP, tstop=10.0)
    assert sp.times.tolist() == [1.0, 2.5]
    assert sp.units.tolist() == [0, 3]
    assert sp.attrs["input_sorted"] == 1


def test_population_map_csv_with_and_without_header(tmp_path):
    assert read_population_map(write_map(tmp_path / "a.csv")) == MAP
    assert read_population_map(write_map(tmp_path / "b.csv", header=False)) == MAP


def test_netcdf_reader(tmp_path):
    p = spikes_nc(tmp_path / "spikes.nc", [5.0, 1.0, 7.0], [4, 0, 1], tstop=50.0)
    sp = read_spikes(p)
    assert sp.times.tolist() == [1.0, 5.0, 7.0] and sp.units.tolist() == [0, 4, 1]
    assert sp.tstop == 50.0 and sp.dt == 0.1
    assert sp.unit_population == MAP


# ---------------------------------------------------------------------------------------------
# validation: file, line/field and expectation named
# ---------------------------------------------------------------------------------------------

BAD_TEXT = [
    ("unit,time\n0,1.0\n3\n", "line 3", "expected 2 columns"),
    ("unit,time\n0,1.0\n3,abc\n", "line 3", "is not a number"),
    ("0,1.0\nx,2.0\n", "line 2", "not an integer unit id"),
    ("0,1.0\n1.5,2.0\n", "line 2", "not an integer unit id"),
    ("0,1.0\n\n7,2.0\n", "line 3", "not in the unit->population map"),
    ("0,1.0\n1,-0.5\n", "line 2", "negative"),
    ("0,1.0\n1,nan\n", "line 2", "not finite"),
    ("0,1.0\n1,inf\n", "line 2", "not finite"),
    ("0,1.0\n1,100.5\n", "line 2", "after the stop time"),
    ("0,5.0\n1,2.0\n0,5.0\n", "line 3", "duplicate spike"),
    ("neuron,spiketime\n0,1.0\n", "line 1", "lacks a time column"),
    ("sender\ttime_ms\n0\t1.0\n# comment\nsender\ttime_s\n1\t2.0\n", "line 4", "not an integer unit id"),
]


@pytest.mark.parametrize("text,line,expect", BAD_TEXT)
def test_bad_text_rejected_naming_file_and_line(tmp_path, text, line, expect):
    f = tmp_path / "bad_spikes.csv"
    f.write_text(text)
    with pytest.raises(SpikeInputError) as exc:
        read_spikes(f, populations=MAP, tstop=100.0)
    msg = str(exc.value)
    assert str(f) in msg and line in msg and expect in msg, msg


def test_duplicates_message_names_both_lines_and_keep_option(tmp_path):
    f = tmp_path / "dup.csv"
    f.write_text("0,5.0\n1,2.0\n0,5.0\n")
    with pytest.raises(SpikeInputError, match=r"line 3.*line 1"):
        read_spikes(f, populations=MAP, tstop=10.0)
    sp = read_spikes(f, populations=MAP, tstop=10.0, duplicates="keep")
    assert sp.n_spikes == 3 and sp.attrs["n_duplicates"] == 1
    assert int(population_counts(sp, 1.0).sum()) == 3


def test_same_time_different_units_is_not_a_duplicate(tmp_path):
    f = tmp_path / "sync.csv"
    f.write_text("0,5.0\n1,5.0\n3,5.0\n")
    assert read_spikes(f, populations=MAP, tstop=10.0).n_spikes == 3


def test_text_needs_map_and_tstop(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("0,1.0\n")
    with pytest.raises(SpikeInputError, match="population map"):
        read_spikes(f, tstop=10.0)
    with pytest.raises(SpikeInputError, match="tstop"):
        read_spikes(f, populations=MAP)


def test_bad_population_map(tmp_path):
    m = tmp_path / "map.csv"
    m.write_text("unit,population\n0,E\n1\n")
    with pytest.raises(SpikeInputError, match=r"map.csv, line 3: expected 2 fields"):
        read_population_map(m)
    m.write_text("unit,population\n0,E\n0,I\n")
    with pytest.raises(SpikeInputError, match=r"line 3: unit 0 is mapped to 'I' here and to 'E' by .*line 2"):
        read_population_map(m)
    m.write_text("0,E\nzz,I\n")
    with pytest.raises(SpikeInputError, match=r"line 2, column 'unit'"):
        read_population_map(m)


@pytest.mark.parametrize("times,units,field,expect", [
    ([1.0, -2.0], [0, 1], "spike index 1", "negative"),
    ([1.0, np.nan], [0, 1], "spike index 1", "not finite"),
    ([1.0, 60.0], [0, 1], "spike index 1", "after the stop time"),
    ([1.0, 2.0], [0, 9], "spike index 1", "not in the unit->population map"),
])
def test_bad_netcdf_rejected_naming_variable_and_index(tmp_path, times, units, field, expect):
    p = spikes_nc(tmp_path / "spikes.nc", times, units, tstop=50.0)
    with pytest.raises(SpikeInputError) as exc:
        read_spikes(p)
    msg = str(exc.value)
    assert str(p) in msg and "spike_time" in msg and field in msg and expect in msg, msg


def test_netcdf_missing_variable(tmp_path):
    p = spikes_nc(tmp_path / "spikes.nc", [1.0], [0], spike_unit=True)
    with pytest.raises(SpikeInputError, match=r"variable 'spike_unit' is missing"):
        read_spikes(p)


# ---------------------------------------------------------------------------------------------
# binning
# ---------------------------------------------------------------------------------------------


def test_population_counts_conserve_spikes_and_bin_rule():
    rng = np.random.default_rng(3)
    dt, tstop = 0.1, 50.0
    t = np.concatenate([rng.uniform(0, tstop, 5000), [0.0, tstop, 0.3, 0.7, 49.9]])
    u = rng.integers(0, 5, len(t))
    sp = SpikeData(times=t, units=u, unit_population=MAP, populations=["E", "I"], tstop=tstop)
    c = population_counts(sp, dt)
    assert c.dims == ("population", "time")
    assert c.sizes["time"] == n_bins(tstop, dt) == 501
    np.testing.assert_allclose(c["time"].values, np.arange(501) * dt)
    assert int(c.sum()) == len(t)
    for pop in ("E", "I"):
        assert int(c.sel(population=pop).sum()) == int(sum(MAP[int(x)] == pop for x in u))
    # bin [k dt, (k+1) dt): a spike on an edge (0.3 = 3 dt in floats 0.30000000000000004 or
    # 0.29999999999999999) belongs to the bin starting there; tstop falls in the last bin
    one = SpikeData(times=np.array([0.0, 0.3, 0.7, 0.0999, tstop]), units=np.array([0, 0, 0, 3, 3]),
                    unit_population=MAP, populations=["E", "I"], tstop=tstop)
    c1 = population_counts(one, dt)
    assert np.flatnonzero(c1.sel(population="E").values).tolist() == [0, 3, 7]
    assert np.flatnonzero(c1.sel(population="I").values).tolist() == [0, 500]


def test_counts_from_netcdf_match_text(tmp_path):
    rng = np.random.default_rng(0)
    t = np.round(rng.uniform(0, 100, 300), 4)
    u = rng.integers(0, 5, 300)
    keep = np.unique(np.c_[u, t], axis=0, return_index=True)[1]
    t, u = t[keep], u[keep]
    nc = spikes_nc(tmp_path / "spikes.nc", t, u, tstop=100.0)
    txt = tmp_path / "spikes.csv"
    txt.write_text("unit,time_ms\n" + "".join(f"{a},{float(b)!r}\n" for a, b in zip(u, t)))
    a = population_counts(read_spikes(nc), 0.25)
    b = population_counts(read_spikes(txt, populations=MAP, tstop=100.0), 0.25)
    xr.testing.assert_equal(a.drop_attrs(), b.drop_attrs())
    assert int(a.sum()) == len(t)
