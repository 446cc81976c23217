"""Bad command-line input: one line naming the file or option and what was expected, exit status
2, no traceback, no input changed and nothing half-written (every `lfpk <command>`, including
`lfpk network` / `python -m lfpk network`)."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lfpk.base.io import read_dataset
from lfpk.base.mpi import clean_environment, find_mpiexec
from lfpk.entry.cli.main import main

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def files(mechanisms, tmp_path_factory, repo):
    """Real files of every kind: kernels, a tiny ground truth, its prediction and comparison."""
    d = tmp_path_factory.mktemp("cli")
    cfg = repo / "config" / "config.yaml"
    assert main(["kernel", "--config", str(cfg), "--outdir", str(d / "k")]) == 0
    assert main(["kernel-gather", *map(str, sorted((d / "k").glob("*.nc"))), "--output", str(d / "kernels.nc")]) == 0
    for folder, option in (("kp", ["--biophysics", "passive"]), ("kr", ["--rate", "E=3"])):
        assert main(["kernel", "--config", str(cfg), "--post", "E", "--pre", "I", "--outdir", str(d / folder),
                     *option]) == 0
    net = lfpk("network", "--config", cfg, "--outdir", d / "gt", "--population-sizes", "E=16,I=4",
               "--tstop", "150", "--transient", "50", cwd=d)
    assert net.returncode == 0, net.stderr[-3000:]
    assert main(["predict", "--spikes", str(d / "gt/spikes.nc"), "--kernels", str(d / "kernels.nc"),
                 "--output", str(d / "pred.nc")]) == 0
    head = (d / "kernels.nc").read_bytes()[:3000]
    (d / "trunc.nc").write_bytes(head)
    (d / "text.nc").write_text("sender,time_ms\n1,2.0\n")
    (d / "adir").mkdir()
    for name, var, population in (("nanrate", "rate", "I"), ("nanvrest", "v_soma", "E")):  # issue 22
        mem = read_dataset(d / "gt/membrane.nc")
        mem[var].loc[{"population": population}] = np.nan
        mem.to_netcdf(d / f"{name}.nc")
    os.link(d / "kernels.nc", d / "hardlink.nc")
    return {"dir": d, "config": cfg}


def lfpk(*args, cwd=None, **kw):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(BIN / "lfpk"), *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def snapshot(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


CASES = [
    # wrong-kind, unreadable and truncated netCDF
    (["predict", "--spikes", "gt/spikes.nc", "--kernels", "gt/spikes.nc", "--output", "p.nc"],
     "gt/spikes.nc: expected gathered kernels (kernels.nc of lfpk kernel-gather: dims post, pre, lag); "
     "it looks like the network's spikes"),
    (["predict", "--spikes", "gt/spikes.nc", "--kernels", "k/E_E.nc", "--output", "p.nc"],
     "k/E_E.nc: expected gathered kernels (kernels.nc of lfpk kernel-gather: dims post, pre, lag); "
     "it looks like a single-connection kernel"),
    (["predict", "--spikes", "gt/spikes.nc", "--kernels", "trunc.nc", "--output", "p.nc"],
     "trunc.nc: unreadable or truncated netCDF file"),
    (["predict", "--spikes", "gt/spikes.nc", "--kernels", "text.nc", "--output", "p.nc"],
     "text.nc: not a netCDF file; expected gathered kernels"),
    (["predict", "--spikes", "gt/spikes.nc", "--kernels", "adir", "--output", "p.nc"],
     "adir is a folder; expected a netCDF file"),
    (["compare", "--ground-truth", "pred.nc", "--prediction", "pred.nc", "--output", "c.nc"],
     "pred.nc: expected ground-truth signals (signals.nc of lfpk network: lfp, csd, cdm by source and "
     "time); it looks like a kernel prediction"),
    (["compare", "--ground-truth", "gt/signals.nc", "--prediction", "gt/spikes.nc", "--output", "c.nc"],
     "gt/spikes.nc: expected a kernel prediction"),
    (["kernel-gather", "kernels.nc", "--output", "g.nc"],
     "kernels.nc: expected a single-connection kernel"),
    (["kernel", "--config", "{config}", "--post", "E", "--pre", "E", "--output", "x.nc",
      "--membrane", "gt/signals.nc"], "gt/signals.nc: expected ground-truth membrane potentials"),
    # values kernels cannot use in a membrane file: the file, variable and population (issue 22)
    (["kernel", "--config", "{config}", "--post", "E", "--pre", "I", "--output", "x.nc", "--membrane", "nanrate.nc"],
     "nanrate.nc: rate of population I is nan; expected the mean firing rate after the transient (1/s), finite and "
     "at least 0 (a ground-truth run with no time after its transient writes NaN)"),
    (["kernel", "--config", "{config}", "--post", "E", "--pre", "I", "--outdir", "kx", "--membrane", "nanvrest.nc"],
     "nanvrest.nc: v_soma of population E is nan; expected the median somatic potential after the transient (mV)"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--replay", "gt/spikes.nc", "--membrane",
      "nanrate.nc", "--biophysics", "frozen"], "nanrate.nc: rate of population I is nan"),
    # kernels of different variants or parameters are not gathered into one file
    (["kernel-gather", "k/E_E.nc", "kp/E_I.nc", "--output", "g.nc"],
     "k/E_E.nc and kp/E_I.nc are kernels of different variants or configurations (biophysics frozen vs passive"),
    (["kernel-gather", "k/E_E.nc", "kr/E_I.nc", "--output", "g.nc"],
     'k/E_E.nc and kr/E_I.nc are kernels of different variants or configurations (rates_used {"E": 2.5, "I": 5.0} '
     'vs {"E": 3.0, "I": 5.0}'),
    (["kernel-gather", "k/E_E.nc", "k/E_I.nc", "./k/E_E.nc", "--output", "g.nc"],
     "k/E_E.nc and ./k/E_E.nc are both kernels of E -> E; expected each connection once"),
    # an output that is an input
    (["predict", "--spikes", "gt/spikes.nc", "--kernels", "kernels.nc", "--output", "gt/spikes.nc"],
     "output gt/spikes.nc is the input gt/spikes.nc: refusing to overwrite an input"),
    (["predict", "--spikes", "gt/spikes.nc", "--kernels", "kernels.nc", "--output", "kernels.nc"],
     "output kernels.nc is the input kernels.nc"),
    (["predict", "--spikes", "gt/spikes.nc", "--kernels", "hardlink.nc", "--output", "kernels.nc"],
     "output kernels.nc is the input hardlink.nc"),
    (["compare", "--ground-truth", "gt/signals.nc", "--prediction", "pred.nc", "--output", "gt/signals.nc"],
     "output gt/signals.nc is the input gt/signals.nc"),
    (["kernel", "--config", "{config}", "--post", "E", "--pre", "E", "--output", "{config}"],
     "is the input {config}: refusing to overwrite an input"),
    (["kernel", "--config", "{config}", "--post", "E", "--pre", "E", "--output", "gt/membrane.nc",
      "--membrane", "gt/membrane.nc"], "output gt/membrane.nc is the input gt/membrane.nc"),
    (["kernel-gather", "k/E_E.nc", "k/E_I.nc", "--output", "k/E_I.nc"], "output k/E_I.nc is the input k/E_I.nc"),
    (["kernel", "--config", "{config}", "--gathered", "gt/membrane.nc", "--membrane", "gt/membrane.nc"],
     "output gt/membrane.nc is the input gt/membrane.nc"),
    (["kernel", "--config", "{config}", "--pre", "X", "--gathered", "g.nc"],
     "--pre X: not a population of {config} (populations: E, I)"),
    (["kernel", "--config", "{config}", "--pre", "X", "--outdir", "kx"],
     "--pre X: not a population of {config} (populations: E, I)"),
    (["compare", "--ground-truth", "gt/signals.nc", "--prediction", "pred.nc", "--output", "c.nc",
      "--summary", "./c.nc"], "--summary ./c.nc is the same file as --output c.nc"),
    # outputs that cannot be written
    (["predict", "--spikes", "gt/spikes.nc", "--kernels", "kernels.nc", "--output", "adir"],
     "output adir is a folder; expected a file name"),
    (["predict", "--spikes", "gt/spikes.nc", "--kernels", "kernels.nc", "--output", "nonexistent_dir/p.nc"],
     "output folder nonexistent_dir does not exist (for nonexistent_dir/p.nc); create it first"),
    (["network", "--config", "{config}", "--outdir", "text.nc"], "output folder text.nc is a file; expected a folder"),
    # compare options
    (["compare", "--ground-truth", "gt/signals.nc", "--prediction", "pred.nc", "--output", "c.nc",
      "--psd-segment", "0"], "psd_segment (--psd-segment): Welch segment length must be a positive, finite number"),
    (["compare", "--ground-truth", "gt/signals.nc", "--prediction", "pred.nc", "--output", "c.nc",
      "--psd-segment", "-8"], "got -8.0"),
    (["compare", "--ground-truth", "gt/signals.nc", "--prediction", "pred.nc", "--output", "c.nc",
      "--psd-segment", "inf"], "got inf"),
    (["compare", "--ground-truth", "gt/signals.nc", "--prediction", "pred.nc", "--output", "c.nc",
      "--psd-segment", "0.1"], "0.1 ms is shorter than 8 samples (0.5 ms at dt = 0.0625 ms)"),
    # lfpk network options
    (["network", "--config", "{config}", "--outdir", "gt2", "--population-sizes", "X=3"],
     "--population-sizes: population 'X' is not in {config} (populations: E, I)"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--population-sizes", "E=0"],
     "populations.E.size: 0 is less than the minimum of 1"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--population-sizes", "E=many"],
     "argument --population-sizes: expected NAME=N[,NAME=N] with integer N, got 'E=many'"),
    # the one rule for times (lfpk.model.times), naming the options, before any work (issue 22)
    (["network", "--config", "{config}", "--outdir", "gt2", "--tstop", "-5"],
     "--tstop: -5 ms; expected a positive time of at least one step of simulation.dt (0.0625 ms)"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--tstop", "0.01"],
     "--tstop: 0.01 ms; expected a positive time of at least one step of simulation.dt (0.0625 ms)"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--tstop", "50"],
     "simulation.transient: 500 ms leaves no time to analyse before --tstop (50 ms); expected transient <= "
     "tstop - dt (49.9375 ms)"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--tstop", "100", "--transient", "200"],
     "--transient: 200 ms leaves no time to analyse before --tstop (100 ms)"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--tstop", "100", "--transient", "-1"],
     "--transient: -1.0; expected a finite time of at least 0 ms"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--tstop", "nan"],
     "--tstop: nan; expected a positive, finite time (ms)"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--tstop", "100.03"],
     "--tstop: 100.03 ms is not a whole number of steps of simulation.dt (0.0625 ms)"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--tstop", "1e12"],
     "--tstop: 1e+12 ms is 1.6e+13 steps of simulation.dt (0.0625 ms); expected at most 2147483647 steps"),
    # ... and a hybrid run's: --tstop, or the ground truth's, after the ground truth's transient
    (["network", "--config", "{config}", "--outdir", "gt2", "--replay", "gt/spikes.nc", "--membrane",
      "gt/membrane.nc", "--biophysics", "frozen", "--tstop", "10"],
     "the transient of gt/spikes.nc: 50 ms leaves no time to analyse before --tstop (10 ms)"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--replay", "gt/spikes.nc", "--membrane",
      "gt/membrane.nc", "--biophysics", "frozen", "--tstop", "0.01"],
     "--tstop: 0.01 ms; expected a positive time of at least one step of simulation.dt"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--network-spikes", "gt/spikes.nc", "--membrane",
      "gt/membrane.nc", "--biophysics", "frozen", "--volleys", "E=10,I=30", "--tstop", "0"],
     "--tstop: 0 ms; expected a positive time of at least one step of simulation.dt"),
    (["network", "--config", "{config}", "--outdir", "gt2", "--network-spikes", "gt/spikes.nc", "--membrane",
      "gt/membrane.nc", "--biophysics", "frozen", "--volleys", "E=10.01"],
     "--volleys (last volley + kernel.tau + simulation.dt): 110.073 ms is not a whole number of steps"),
    (["network", "--config", "missing.yaml", "--outdir", "gt2"], "configuration file missing.yaml does not exist"),
    (["network", "--outdir", "gt2", "--config", "{config}", "--biophysics", "magic"],
     "argument --biophysics: invalid choice: 'magic'"),
]


@pytest.mark.parametrize("argv, message", CASES, ids=[" ".join(c[0][:1] + c[0][-2:]) for c in CASES])
def test_bad_input_is_one_line_exit_2_nothing_written(files, argv, message, capsys, monkeypatch):
    """In process (fast): every case fails before any simulation starts; the subprocess tests
    below check the same boundary from the console scripts."""
    d, cfg = files["dir"], str(files["config"])
    before = snapshot(d)
    monkeypatch.chdir(d)
    capsys.readouterr()
    try:
        rc = main([a.replace("{config}", cfg) for a in argv])
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and err.startswith(f"lfpk {argv[0]}: error: "), err
    assert message.replace("{config}", cfg) in err, err
    if "invalid configuration" not in err:
        assert err.count("\n") == 1, err
    assert snapshot(d) == before  # no input changed, nothing (half-)written
    assert not (d / "gt2").exists() and not (d / "nonexistent_dir").exists()


def test_console_script_reports_bad_input_in_one_line(files):
    proc = lfpk("predict", "--spikes", "gt/spikes.nc", "--kernels", "k/E_E.nc", "--output", "p.nc", cwd=files["dir"])
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1].startswith("lfpk predict: error: k/E_E.nc: expected gathered kernels")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("times", [["--tstop", "0.01"], ["--tstop", "50"], ["--tstop", "-5", "--transient", "0"]])
def test_network_times_refused_before_any_work(files, tmp_path, times):
    """`lfpk network` with a stop time below one step or not after the transient: one line naming
    the option, exit 2, before the network is built (it used to write NaN rates and exit 0)."""
    proc = lfpk("network", "--config", files["config"], "--outdir", "out", "--population-sizes", "E=4,I=2",
                *times, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("lfpk network: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "--tstop" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_membrane_values_are_checked_where_they_are_read(files):
    """kernel_inputs names the membrane file, variable and population of a value kernels cannot
    use (it said "extra_leak: values must be finite" from inside the linearisation)."""
    from lfpk.api.config import load_config
    from lfpk.engines.kernel.inputs import kernel_inputs

    cfg = load_config(files["config"])
    good = read_dataset(files["dir"] / "gt/membrane.nc")
    V, rates, _ = kernel_inputs(cfg, good)
    assert set(V) == set(rates) == {"E", "I"}
    for var, value, message in (("rate", -1.0, "rate of population I is -1.0; expected the mean firing rate"),
                                ("v_soma", np.inf, "v_soma of population I is inf; expected the median somatic"),
                                ("nseg", 0, "nseg of population I is 0; expected the number of segments")):
        bad = good.copy(deep=True)
        bad[var].loc[{"population": "I"}] = value
        bad.attrs["source"] = "bad.nc"
        with pytest.raises(ValueError, match=f"^bad.nc: {message}"):
            kernel_inputs(cfg, bad, "segment" if var == "nseg" else "scalar")
    bad = good.copy(deep=True)
    bad["v_segment"].values[0, 2] = np.nan
    bad.attrs["source"] = "bad.nc"
    assert kernel_inputs(cfg, bad)[0]["E"] == V["E"]  # scalar V_rest does not read v_segment
    with pytest.raises(ValueError, match=r"^bad.nc: v_segment of population E is nan at segment 2 \(1 of \d+ segments"):
        kernel_inputs(cfg, bad, "segment")


def test_kernel_with_a_nan_membrane_file_from_the_console_script(files):
    proc = lfpk("kernel", "--config", files["config"], "--post", "E", "--pre", "E", "--output", "x.nc",
                "--membrane", "nanvrest.nc", cwd=files["dir"])
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "lfpk kernel: error: nanvrest.nc: v_soma of population E is nan; expected the median somatic potential after "
        "the transient (mV), finite (a ground-truth run with no time after its transient writes NaN)")
    assert "Traceback" not in proc.stderr and "extra_leak" not in proc.stderr
    assert not (files["dir"] / "x.nc").exists()


def test_python_m_lfpk_network_under_mpi_reports_once(files, repo):
    """`python -m lfpk network` goes through the same boundary; under mpiexec only rank 0 prints."""
    cmd = [sys.executable, "-m", "lfpk", "network", "--config", str(files["config"]), "--outdir",
           str(files["dir"] / "gt2"), "--tstop", "-1"]
    mpiexec = find_mpiexec()
    if mpiexec:
        cmd = [mpiexec, "-n", "2", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=clean_environment())
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("lfpk network: error:") == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_full_disk_and_read_only_output_from_the_cli(files, tmp_path):
    from test_io_guard import _unshare

    prefix = _unshare(tmp_path)
    if prefix is None:
        pytest.skip("needs unshare -Urm with tmpfs mounts (user namespaces) to fake a full disk")
    d = files["dir"]
    script = ("mkdir -p full ro && mount -t tmpfs -o size=64k tmpfs full && mount -t tmpfs -o ro tmpfs ro && "
              f"for out in full ro; do {BIN}/lfpk compare --ground-truth {d}/gt/signals.nc --prediction "
              f"{d}/pred.nc --output $out/c.nc --summary $out/c.csv; echo \"exit $?\"; done; "
              f"{BIN}/lfpk network --config {files['config']} --outdir ro/gt; echo \"exit $?\"; ls -A full ro")
    proc = subprocess.run([*prefix, script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    err = [line for line in proc.stderr.splitlines() if line.startswith("lfpk")]
    assert err == ["lfpk compare: error: no space left on device: full/c.nc, full/c.csv",
                   "lfpk compare: error: cannot write ro/c.nc: read-only file system (folder ro)",
                   "lfpk network: error: cannot create output folder ro/gt: read-only file system"], proc.stderr
    assert proc.stdout.split() == ["exit", "2", "exit", "2", "exit", "2", "full:", "ro:"], proc.stdout


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_predict_interrupted_while_writing_leaves_nothing_and_does_not_hang(files, tmp_path, signum):
    """Ctrl-C / SIGTERM (SLURM's time limit) while the prediction is written: exit 130 / 143 within
    seconds, no output, no hidden temporary file."""
    d = files["dir"]
    rng = np.random.default_rng(1)
    tstop = 6000.0  # ms: a prediction of about 180 MB, written in about a second
    n = 4000
    lines = ["sender,time_ms"] + [f"{u},{t:.4f}" for u, t in zip(rng.integers(0, 20, n), np.sort(rng.uniform(0, tstop, n)))]
    (tmp_path / "spikes.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "map.csv").write_text("".join(f"{u},{'E' if u < 16 else 'I'}\n" for u in range(20)))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.Popen([str(BIN / "lfpk"), "predict", "--spikes", "spikes.csv", "--populations", "map.csv",
                             "--tstop", str(tstop), "--kernels", str(d / "kernels.nc"), "--output", "out.nc"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the temporary file is being filled
        tmps = [p for p in tmp_path.glob(".out.nc.*.tmp") if p.stat().st_size > 1 << 20]
        if tmps or proc.poll() is not None:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the prediction finished before it could be interrupted"
    proc.send_signal(signum)
    start = time.monotonic()
    out, err = proc.communicate(timeout=300)
    assert time.monotonic() - start < 30
    assert proc.returncode == 128 + signum, err
    assert f"lfpk predict: interrupted ({signal.Signals(signum).name})" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.csv", "spikes.csv"]


#: What NEURON prints on stderr whenever it starts without a display (not an error).
NEURON_START = ("Warning: no DISPLAY environment variable.", "--No graphics will be displayed.")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_network_interrupted_while_simulating_prints_one_line(files, tmp_path, signum):
    """Ctrl-C / SIGTERM while NEURON integrates: exit 130 / 143 and the command's one line, without
    a Python traceback or NEURON's hoc error (the step callback used to raise into NEURON), and no
    output left (the output folder stays, empty). The log goes to the console (stderr), as when a
    user runs the command: with --log the traceback went to the log file."""
    import threading

    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.Popen([str(BIN / "lfpk"), "network", "--config", str(files["config"]), "--outdir", "gt",
                             "--population-sizes", "E=16,I=4", "--tstop", "20000", "--transient", "20"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, integrating = [], threading.Event()

    def read():
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if " INFO: simulated " in line:  # the first progress report: NEURON integrates
                integrating.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert integrating.wait(600) and proc.poll() is None, "the network did not run long enough\n" + "\n".join(lines)
    proc.send_signal(signum)
    proc.wait(timeout=300)  # bounds a hang only: generous for a loaded machine
    reader.join(10)
    err = "\n".join(lines)
    assert proc.returncode == 128 + signum, err
    assert [line for line in lines if " INFO: " not in line and line not in NEURON_START] == [
        f"lfpk network: interrupted ({signal.Signals(signum).name}); outputs being written were removed"], err
    assert "Traceback" not in err and "NEURON:" not in err and "near line" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt"]
    assert list((tmp_path / "gt").iterdir()) == []  # no output, no hidden temporary


@pytest.mark.parametrize("item", ["E", "=5", "E=fast"])
def test_name_value_options_share_one_parser(item):
    """--rate, --unit-offset and the network's --population-sizes read NAME=VALUE alike: one
    function (lfpk.entry.cli.boundary.name_values), one message naming the option and the item."""
    from lfpk.entry.cli.boundary import name_values

    assert name_values(["E=2.5", " I =4"], float, "--rate") == {"E": 2.5, "I": 4.0}
    with pytest.raises(ValueError, match=rf"^--rate expects NAME=VALUE, got {item!r}$"):
        name_values([item], float, "--rate")


def test_neuron_prints_no_display_warning_through_lfpk():
    """`import lfpk` sets NEURON_MODULE_OPTIONS=-nogui unless the user set it: no "no DISPLAY"
    warning in any command's output on a headless machine; a user's own setting is kept."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "NEURON_MODULE_OPTIONS")}
    code = "import lfpk, os, neuron; print(os.environ['NEURON_MODULE_OPTIONS'])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "-nogui", proc.stderr
    assert "DISPLAY" not in proc.stderr and "graphics" not in proc.stderr, proc.stderr
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=dict(env, NEURON_MODULE_OPTIONS="-nogui -NSTACK 100000"))
    assert proc.stdout.strip() == "-nogui -NSTACK 100000", proc.stderr
