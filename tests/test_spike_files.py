"""Spike files as NEST and Brian2 write them, unit maps as ranges, and the checks before a prediction
(issue 12 section 1; issue 9: seconds taken as ms, empty or partial input, report, rate warnings)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import yaml
from test_predict import make_kernels

from lfpk.base.io import read_dataset, write_dataset
from lfpk.engines.prediction.predict import predict_files
from lfpk.engines.spikes import PopulationMap, SpikeInputError, SpikeWarning, counting, read_spikes
from lfpk.entry.cli.main import main

TSTOP = 1000.0
N_E, N_I = 80, 20  # NEST node ids 1..80 (E) and 81..100 (I)


@pytest.fixture(scope="module")
def recording():
    """Poisson-like spikes of 100 units, with times on NEST's 0.1 ms grid (unit, time)."""
    rng = np.random.default_rng(5)
    n = 3000
    units = rng.integers(1, N_E + N_I + 1, n)
    steps = rng.integers(0, int(TSTOP * 10), n)
    keep = np.unique(np.c_[units, steps], axis=0, return_index=True)[1]
    return units[keep], steps[keep] * 0.1


@pytest.fixture(scope="module")
def kernel_file(tmp_path_factory):
    return write_dataset(make_kernels(), tmp_path_factory.mktemp("k") / "kernels.nc")


NEST_HEAD = "# NEST version: 3.10.0\n# RecordingBackendASCII version: 2\nsender\ttime_ms\n"


def nest_files(folder, units, times, label="brunel", recorders=(("E", 101), ("I", 102)), vps=3):
    """One file per recorder and virtual process, as NEST's ASCII backend names and writes them;
    neuron g lives on VP g % vps; spikes unsorted within a file (update slices)."""
    folder.mkdir(parents=True, exist_ok=True)
    for pop, rid in recorders:
        sel = (units <= N_E) if pop == "E" else (units > N_E)
        for vp in range(vps):
            mine = sel & (units % vps == vp)
            order = np.argsort(-times[mine] if vp % 2 else times[mine], kind="stable")
            rows = "".join(f"{u}\t{t:.3f}\n" for u, t in zip(units[mine][order], times[mine][order]))
            (folder / f"{label}-{pop}-{rid}-{vp}.dat").write_text(NEST_HEAD + rows)
    return folder


def merged_file(path, units, times):
    path.write_text("sender,time_ms\n" + "".join(f"{u},{t:.3f}\n" for u, t in zip(units, times)))
    return path


def ranges_map(path):
    path.write_text("# NEST node ids of nest.Create\nE: 1-80\nI: 81-100\n")
    return path


def lines_map(path):
    path.write_text("unit,population\n" + "".join(f"{u},{'E' if u <= N_E else 'I'}\n" for u in range(1, 101)))
    return path


def predict_cli(tmp_path, name, kernel_file, *args):
    out = tmp_path / f"{name}.nc"
    rc = main(["predict", *map(str, args), "--kernels", str(kernel_file), "--output", str(out)])
    assert rc == 0
    return read_dataset(out)


def assert_same_prediction(a, b):
    for v in ("lfp", "csd", "cdm", "eeg", "lfp_contribution", "population_count"):
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)


# ---------------------------------------------------------------------------------------------
# several files, labels, maps
# ---------------------------------------------------------------------------------------------


def test_nest_recorders_and_threads_equal_merged_file(tmp_path, recording, kernel_file, capsys):
    units, times = recording
    folder = nest_files(tmp_path / "nest", units, times)
    assert len(list(folder.glob("*.dat"))) == 6
    merged = predict_cli(tmp_path, "merged", kernel_file, "--spikes", merged_file(tmp_path / "all.csv", units, times),
                         "--populations", lines_map(tmp_path / "map.csv"), "--tstop", TSTOP)
    capsys.readouterr()
    labelled = predict_cli(tmp_path, "labelled", kernel_file, "--spikes", f"E={folder}/brunel-E-*.dat",
                           "--spikes", f"I={folder}/brunel-I-*.dat", "--tstop", TSTOP)
    out = capsys.readouterr().out
    assert_same_prediction(merged, labelled)
    # the report names each population's spikes and id range (an id offset shows)
    n_e = int((units <= N_E).sum())
    assert f"E: {n_e} spikes, ids {units[units <= N_E].min()}-{units[units <= N_E].max()}" in out
    assert "time unit ms (header 'time_ms')" in out
    folder_and_ranges = predict_cli(tmp_path, "folder", kernel_file, "--spikes", folder,
                                    "--populations", ranges_map(tmp_path / "ranges.txt"), "--tstop", TSTOP)
    assert_same_prediction(merged, folder_and_ranges)
    assert json.loads(folder_and_ranges.attrs["rates_measured"])["E"] == pytest.approx(n_e / (N_E * 1.0))


def test_range_map_equals_line_map_and_yaml(tmp_path, recording):
    units, times = recording
    a = PopulationMap.read(ranges_map(tmp_path / "r.txt"))
    b = PopulationMap.read(lines_map(tmp_path / "l.csv"))
    y = tmp_path / "m.yaml"
    y.write_text(yaml.safe_dump({"E": "1-80", "I": [81, 100]}))
    c = PopulationMap.read(y)
    assert a == b == c and a.ranges() == [(1, 80, "E"), (81, 100, "I")]
    assert a.to_dict() == b.to_dict() and a.size("I") == 20 and a.id_range("E") == (1, 80)
    np.testing.assert_array_equal(a.lookup(units), b.lookup(units))
    assert a.lookup([0, 1, 80, 81, 100, 101]).tolist() == [-1, 0, 0, 1, 1, -1]
    f = merged_file(tmp_path / "s.csv", units, times)
    s1 = read_spikes(f, populations=tmp_path / "r.txt", tstop=TSTOP)
    s2 = read_spikes(f, populations=tmp_path / "l.csv", tstop=TSTOP)
    np.testing.assert_array_equal(s1.population_index, s2.population_index)
    m = tmp_path / "mixed.txt"
    m.write_text("E 1-40\n41,E\n42-80,E\nI: 81 - 100\n")
    assert PopulationMap.read(m) == a


@pytest.mark.parametrize("text,expect", [
    ("E: 1-80\nI: 50-100\n", r"line 2: units 50-80 are mapped to 'I' here and to 'E' by .*line 1"),
    ("E: 10-1\n", "id range 10-1 is empty"),
    ("E: 1-80\nI\n", "line 2: expected 2 fields"),
    ("E: 1-80\n1-2 3-4\n", "line 2: '1-2 3-4' has no population name"),
])
def test_bad_range_maps(tmp_path, text, expect):
    m = tmp_path / "map.txt"
    m.write_text(text)
    with pytest.raises(SpikeInputError, match=expect):
        PopulationMap.read(m)


def test_nest_names_steps_gzip_bom_crlf(tmp_path, recording):
    units, times = recording
    ref = read_spikes(merged_file(tmp_path / "ref.csv", units, times), populations=ranges_map(tmp_path / "m.txt"),
                      tstop=TSTOP)
    variants = {
        "node_id.txt": "node_id time_ms\n" + "".join(f"{u} {t:.3f}\n" for u, t in zip(units, times)),
        "global_id.csv": "global_id;times\n" + "".join(f"{u};{t:.3f}\n" for u, t in zip(units, times)),
        "crlf.dat": (NEST_HEAD + "".join(f"{u}\t{t:.3f}\n" for u, t in zip(units, times))).replace("\n", "\r\n"),
    }
    for name, text in variants.items():
        (tmp_path / name).write_text(text, newline="")
    (tmp_path / "bom.csv").write_bytes(("\ufeffsender,time_ms\n" + "".join(
        f"{u},{t:.3f}\n" for u, t in zip(units, times))).encode("utf-8"))
    with gzip.open(tmp_path / "spikes.dat.gz", "wt") as f:
        f.write(NEST_HEAD + "".join(f"{u}\t{t:.3f}\n" for u, t in zip(units, times)))
    # time_in_steps: time = step * resolution - offset (precise spike times within the step)
    res = 0.1
    steps = np.round(times / res).astype(int) + 1
    offsets = steps * res - times
    (tmp_path / "steps.dat").write_text(
        "# NEST version: 3.10.0\n# RecordingBackendASCII version: 2\nsender\ttime_step\ttime_offset\n"
        + "".join(f"{u}\t{s}\t{float(o)!r}\n" for u, s, o in zip(units, steps, offsets)))
    for name in [*variants, "bom.csv", "spikes.dat.gz", "steps.dat"]:
        kw = {"nest_resolution": res} if name == "steps.dat" else {}
        sp = read_spikes(tmp_path / name, populations=tmp_path / "m.txt", tstop=TSTOP, **kw)
        np.testing.assert_array_equal(sp.units, ref.units, err_msg=name)
        np.testing.assert_allclose(sp.times, ref.times, rtol=0, atol=1e-9, err_msg=name)
    with pytest.raises(SpikeInputError, match=r"time_in_steps output .* give the simulation resolution"):
        read_spikes(tmp_path / "steps.dat", populations=tmp_path / "m.txt", tstop=TSTOP)


def test_repeated_headers_and_comment_blocks(tmp_path, recording):
    """Files concatenated with cat: their NEST comment and header blocks repeat mid-file."""
    units, times = recording
    folder = nest_files(tmp_path / "nest", units, times)
    cat = tmp_path / "cat.dat"
    cat.write_text("".join(p.read_text() for p in sorted(folder.glob("*.dat"))))
    assert cat.read_text().count("sender\ttime_ms") == 6
    sp = read_spikes(cat, populations=ranges_map(tmp_path / "m.txt"), tstop=TSTOP)
    assert sp.n_spikes == len(units)


def test_brian2_seconds_and_subgroup_offsets(tmp_path, recording, kernel_file, capsys):
    """Brian2: `i, t` with t in seconds (mon.t without /ms); SpikeMonitor(P[a:b]) ids restart at 0."""
    units, times = recording
    e, i = units <= N_E, units > N_E
    for pop, sel, first in (("E", e, 1), ("I", i, N_E + 1)):
        (tmp_path / f"mon_{pop}.txt").write_text(
            "i t\n" + "".join(f"{u - first} {float(t) / 1000.0!r}\n" for u, t in zip(units[sel], times[sel])))
    ref = predict_cli(tmp_path, "ref", kernel_file, "--spikes", merged_file(tmp_path / "all.csv", units, times),
                      "--populations", ranges_map(tmp_path / "m.txt"), "--tstop", TSTOP)
    got = predict_cli(tmp_path, "brian", kernel_file, "--spikes", f"E={tmp_path}/mon_E.txt", "--spikes",
                      f"I={tmp_path}/mon_I.txt", "--unit-offset", "E=1", "--unit-offset", f"I={N_E + 1}",
                      "--populations", tmp_path / "m.txt", "--time-unit", "s", "--tstop", TSTOP)
    for v in ("lfp", "cdm", "population_count"):
        np.testing.assert_allclose(got[v].values, ref[v].values, rtol=1e-12, atol=1e-12 * np.abs(ref[v].values).max())
    # without the offset the ids disagree with the map, named in one line
    capsys.readouterr()
    rc = main(["predict", "--spikes", f"I={tmp_path}/mon_I.txt", "--spikes", f"E={tmp_path}/mon_E.txt",
               "--unit-offset", "E=1", "--populations", str(tmp_path / "m.txt"), "--time-unit", "s",
               "--tstop", str(TSTOP), "--kernels", str(kernel_file), "--output", str(tmp_path / "x.nc")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "mon_I.txt, line 2: unit 0 is not in the unit map" in err


# ---------------------------------------------------------------------------------------------
# issue 9: seconds read as ms, empty or partial input, report, rates
# ---------------------------------------------------------------------------------------------


def test_seconds_under_unitless_header_refused(tmp_path, recording, kernel_file, capsys):
    units, times = recording
    m = ranges_map(tmp_path / "m.txt")
    for name, head in (("t.csv", "sender,t\n"), ("times.csv", "sender,times\n"), ("none.csv", "")):
        f = tmp_path / name
        f.write_text(head + "".join(f"{u},{float(t) / 1000.0!r}\n" for u, t in zip(units, times)))
        out = tmp_path / f"{name}.nc"
        capsys.readouterr()
        rc = main(["predict", "--spikes", str(f), "--populations", str(m), "--tstop", str(TSTOP),
                   "--kernels", str(kernel_file), "--output", str(out)])
        err = capsys.readouterr().err
        assert rc == 2 and not out.exists(), name
        assert err.count("\n") == 1
        assert (f"{f}: all {len(units)} spikes lie within the first 1% of tstop (latest "
                f"{float(times.max() / 1000.0)!r} of 1000 ms) and no file states the time unit: these look like "
                "seconds read as ms") in err, err
        assert "--time-unit s" in err
        # told: seconds are converted, ms accepted as they are
        assert main(["predict", "--spikes", str(f), "--populations", str(m), "--tstop", str(TSTOP), "--time-unit", "s",
                     "--kernels", str(kernel_file), "--output", str(out)]) == 0
        assert main(["predict", "--spikes", str(f), "--populations", str(m), "--tstop", str(TSTOP), "--time-unit",
                     "ms", "--kernels", str(kernel_file), "--output", str(tmp_path / f"{name}.ms.nc")]) == 0
    # a header stating ms is not second-guessed; one stating seconds is converted
    f = tmp_path / "early_ms.csv"
    f.write_text("sender,time_ms\n1,0.5\n90,0.7\n")
    assert read_spikes(f, populations=m, tstop=TSTOP).n_spikes == 2
    g = tmp_path / "s.csv"
    g.write_text("sender,time (s)\n1,0.5\n90,0.7\n")
    assert read_spikes(g, populations=m, tstop=TSTOP).times.tolist() == [500.0, 700.0]
    with pytest.raises(SpikeInputError, match=r"the header 'time \(s\)' states s but the time unit was given as ms"):
        read_spikes(g, populations=m, tstop=TSTOP, time_unit="ms")


@pytest.mark.parametrize("content", ["", NEST_HEAD, "# only comments\n\n"])
def test_empty_or_header_only_input_refused(tmp_path, kernel_file, capsys, content):
    f = tmp_path / "brunel-E-101-0.dat"
    f.write_text(content)
    out = tmp_path / "p.nc"
    rc = main(["predict", "--spikes", str(f), "--populations", str(ranges_map(tmp_path / "m.txt")),
               "--tstop", str(TSTOP), "--kernels", str(kernel_file), "--output", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists()
    assert f"{f}: no spikes (empty or header-only spike files); expected at least one spike" in err


def test_population_without_spikes_refused_unless_allowed(tmp_path, recording, kernel_file, capsys):
    units, times = recording
    folder = nest_files(tmp_path / "nest", units, times)
    for p in folder.glob("brunel-I-*.dat"):
        p.write_text(NEST_HEAD)  # the I recorder wrote headers only
    out = tmp_path / "p.nc"
    args = ["predict", "--spikes", f"E={folder}/brunel-E-*.dat", "--spikes", f"I={folder}/brunel-I-*.dat",
            "--tstop", str(TSTOP), "--kernels", str(kernel_file), "--output", str(out)]
    assert main(args) == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "population I has no spike in" in err and "give --allow-silent I" in err
    assert main([*args, "--allow-silent", "I"]) == 0
    cap = capsys.readouterr()
    assert "lfpk predict: warning: population I has no spike" in cap.err
    assert "I: 0 spikes, no ids" in cap.out
    # a population missing from the labels entirely is refused too (named with what is there)
    assert main(["predict", "--spikes", f"E={folder}/brunel-E-*.dat", "--tstop", str(TSTOP),
                 "--kernels", str(kernel_file), "--output", str(out)]) == 2
    assert "no unit of population(s) ['I']" in capsys.readouterr().err


def test_report_and_rate_warning(tmp_path, kernel_file, capsys):
    """Kernels built for rate E = 1 /s with g_eff: a recording at 1.05 /s passes quietly, one at
    2 /s warns (the prediction of a NEST network changed by 30 % for such a mismatch)."""
    m = ranges_map(tmp_path / "m.txt")
    rng = np.random.default_rng(1)
    for rate, warn in ((1.05, False), (2.0, True)):
        n_e = int(round(rate * N_E * TSTOP / 1000.0))
        t = np.sort(rng.uniform(0, TSTOP, n_e + 10))
        u = np.r_[rng.integers(1, N_E + 1, n_e), rng.integers(N_E + 1, 101, 10)]
        f = merged_file(tmp_path / f"r{rate}.csv", u, t)
        assert main(["predict", "--spikes", str(f), "--populations", str(m), "--tstop", str(TSTOP),
                     "--kernels", str(kernel_file), "--output", str(tmp_path / f"r{rate}.nc")]) == 0
        cap = capsys.readouterr()
        assert f"mean rate {rate:.4g} /s over 0-1000 ms" in cap.out
        assert "of 80 units spiking (unit map" in cap.out and "ids 1-80)" in cap.out
        assert ("rate of E of 1 /s, but the spikes have 2 /s over 0-1000 ms (+100%)" in cap.err) is warn, cap.err
    with pytest.warns(SpikeWarning, match="population I has no spike"):
        counting.SpikeCounts(np.zeros((2, 3), np.int32), ["E", "I"], 1.0, 2.0,
                             {"E": counting.PopulationStats("E", 1), "I": counting.PopulationStats("I")},
                             [], 0, "x").check(required=["E", "I"], allow_silent=True)


# ---------------------------------------------------------------------------------------------
# messages, duplicates, sources
# ---------------------------------------------------------------------------------------------


def test_messages_name_files_without_numpy_reprs(tmp_path):
    m = ranges_map(tmp_path / "m.txt")
    bad = tmp_path / "neg.csv"
    bad.write_text("sender,time_ms\n1,2.0\n2,-0.5\n")
    with pytest.raises(SpikeInputError) as exc:
        read_spikes(bad, populations=m, tstop=TSTOP)
    assert str(exc.value) == f"{bad}, line 3: spike time -0.5 ms is negative; expected times >= 0 ms"
    binary = tmp_path / "latin1.dat"
    binary.write_bytes("sender\ttime_ms\n1\t2.0\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpikeInputError, match=rf"{binary}: not UTF-8 text \(invalid continuation byte near byte \d+\)"):
        read_spikes(binary, populations=m, tstop=TSTOP)
    nc = tmp_path / "x.dat"
    nc.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(SpikeInputError, match="is a netCDF/HDF5 file; expected the suffix .nc"):
        read_spikes(nc, populations=m, tstop=TSTOP)
    gz = tmp_path / "cut.dat.gz"
    gz.write_bytes(gzip.compress(b"sender\ttime_ms\n" + b"1\t2.0\n" * 1000)[:60])
    with pytest.raises(SpikeInputError, match="truncated or corrupt gzip file"):
        read_spikes(gz, populations=m, tstop=TSTOP)


def test_overlapping_files_duplicates_refused(tmp_path, recording, capsys, kernel_file):
    """A folder holding the merged file and its parts: every spike twice, both places named."""
    units, times = recording
    folder = nest_files(tmp_path / "nest", units, times)
    merged_file(folder / "brunel-all.csv", units, times)
    out = tmp_path / "p.nc"
    rc = main(["predict", "--spikes", str(folder), "--populations", str(ranges_map(tmp_path / "m.txt")),
               "--tstop", str(TSTOP), "--kernels", str(kernel_file), "--output", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists()
    assert "duplicate spike (population" in err and "already given at" in err and "brunel-all.csv, line" in err
    assert main(["predict", "--spikes", str(folder / "brunel-all.csv"), "--spikes", str(folder / "brunel-all.csv"),
                 "--populations", str(tmp_path / "m.txt"), "--tstop", str(TSTOP), "--kernels", str(kernel_file),
                 "--output", str(out)]) == 2
    assert "given twice" in capsys.readouterr().err
    assert main(["predict", "--spikes", str(tmp_path / "nothing-*.dat"), "--populations", str(tmp_path / "m.txt"),
                 "--tstop", str(TSTOP), "--kernels", str(kernel_file), "--output", str(out)]) == 2
    assert "pattern matches no file" in capsys.readouterr().err


def test_duplicate_filter_candidates_are_verified(tmp_path, monkeypatch, recording):
    """A tiny filter flags many false candidates; the second pass finds no duplicate among them,
    and finds (with both lines) the one real duplicate across two files."""
    monkeypatch.setattr(counting, "_BLOOM_BITS_PER_SPIKE", 1)
    monkeypatch.setattr(counting.DuplicateFilter, "MIN_WORDS", 4)
    units, times = recording
    m = ranges_map(tmp_path / "m.txt")
    a = merged_file(tmp_path / "a.csv", units[:1500], times[:1500])
    b = merged_file(tmp_path / "b.csv", units[1500:], times[1500:])
    from lfpk.engines.spikes import SpikeRecording, count_recording

    seen = []
    original = counting._locate_duplicates
    monkeypatch.setattr(counting, "_locate_duplicates", lambda rec, cand: seen.append(len(cand)) or original(rec, cand))
    c = count_recording(SpikeRecording([a, b], m, TSTOP), 0.25)
    assert seen and seen[0] > 100 and c.n_spikes == len(units)
    b.write_text(b.read_text() + f"{units[7]},{times[7]:.3f}\n")
    with pytest.raises(SpikeInputError) as exc:
        count_recording(SpikeRecording([a, b], m, TSTOP), 0.25)
    n_b = len(units) - 1500 + 2
    assert f"{b}, line {n_b}: duplicate spike" in str(exc.value) and f"already given at {a}, line 9" in str(exc.value)
    keep = count_recording(SpikeRecording([a, b], m, TSTOP), 0.25, duplicates="keep")
    assert keep.n_spikes == len(units) + 1


def test_predict_help_names_every_source_and_rule(capsys):
    """--help says what --spikes, --output and --allow-silent accept (issue 24)."""
    from lfpk.entry.cli.main import main

    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("SONATA spikes.h5", "each node population is a population, or --populations maps the node ids",
                   "NWB .nwb units table", "column 'population', or --populations maps the unit ids",
                   "A Neo file .pkl or .nix", "SONATA, NWB and Neo files need --tstop", "a netCDF name ending in .nc",
                   "also one with no spike file at all", "--t0 MS", "--progress", "--quiet"):
        assert phrase in text, phrase
