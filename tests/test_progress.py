"""Progress lines of lfpk predict: on a terminal, quiet in logs, --progress / --quiet (issue 24)."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys

import numpy as np
import pytest
from test_predict import write_inputs

from lfpk.engines.prediction.predict import predict_files
from lfpk.engines.prediction.progress import Progress

pytestmark = pytest.mark.filterwarnings("ignore:the kernels. g_eff was computed")

LINE = re.compile(r"^lfpk predict: (reading spikes|predicting and writing)(: \d+%.*| \.\.\.|: done.*) \(\d+\.\d s\)$")


def test_progress_is_off_unless_a_terminal_or_forced():
    buf = io.StringIO()  # not a terminal
    p = Progress(stream=buf, interval=0)
    p.begin("reading spikes")
    p.update(0.5)
    p.end()
    assert not p.enabled and buf.getvalue() == ""
    p = Progress(enabled=True, stream=buf, interval=0)
    p.begin("reading spikes")
    p.update(0.5, "10 spikes")
    p.update(1.7)  # clipped
    p.end("20 spikes")
    lines = buf.getvalue().splitlines()
    assert [line.rsplit(" (", 1)[0] for line in lines] == [
        "lfpk predict: reading spikes ...", "lfpk predict: reading spikes: 50%, 10 spikes",
        "lfpk predict: reading spikes: 100%", "lfpk predict: reading spikes: done, 20 spikes"]
    assert all(LINE.match(line) for line in lines)
    quiet = io.StringIO()
    p = Progress(enabled=True, stream=quiet, interval=3600)  # periodic lines at most once an interval
    p.begin("reading spikes")
    for f in np.linspace(0, 1, 50):
        p.update(f)
    assert len(quiet.getvalue().splitlines()) == 1


def test_every_stage_of_predict_files_reports(tmp_path):
    kpath, _, csv, mp = write_inputs(tmp_path)
    buf = io.StringIO()
    predict_files(csv, kpath, tmp_path / "p.nc", populations=mp, tstop=20.0, chunk_rows=2, block=16,
                  progress=Progress(enabled=True, stream=buf, interval=0))
    lines = buf.getvalue().splitlines()
    assert all(LINE.match(line) for line in lines), lines
    text = "\n".join(lines)
    assert "reading spikes: 40%, 2 spikes" in text  # 5 spikes read 2 at a time
    assert "reading spikes: done, 5 spikes" in text
    assert "predicting and writing: 20%, 16 of 81 samples" in text  # 81 bins in blocks of 16
    assert re.search(r"predicting and writing: done, 81 samples in .*p\.nc", text)
    seconds = [float(x) for x in re.findall(r"\((\d+\.\d) s\)$", text, re.M)]
    assert seconds == sorted(seconds)  # elapsed since the first stage


def run(args, terminal):
    """Run ``lfpk predict ARGS``; stderr on a pseudo-terminal (``terminal``) or a pipe. Returns
    (exit status, stderr text)."""
    cmd = [sys.executable, "-m", "lfpk", "predict", *map(str, args)]
    if not terminal:
        r = subprocess.run(cmd, capture_output=True, text=True)
        return r.returncode, r.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode().replace("\r\n", "\n")


def progress_lines(err):
    return [line for line in err.splitlines() if LINE.match(line)]


def test_cli_progress_on_a_terminal_only(tmp_path):
    kpath, _, csv, mp = write_inputs(tmp_path)
    args = ["--spikes", csv, "--populations", mp, "--tstop", "20", "--kernels", kpath]
    rc, err = run([*args, "--output", tmp_path / "a.nc"], terminal=True)
    assert rc == 0 and "lfpk predict: reading spikes: done, 5 spikes (" in err, err
    assert "lfpk predict: predicting and writing: done, 81 samples in" in err
    rc, err = run([*args, "--output", tmp_path / "b.nc"], terminal=False)  # a log, Snakemake
    assert rc == 0 and not progress_lines(err), err
    rc, err = run([*args, "--output", tmp_path / "c.nc", "--progress"], terminal=False)
    assert rc == 0 and "lfpk predict: reading spikes: done, 5 spikes (" in err, err
    rc, err = run([*args, "--output", tmp_path / "d.nc", "--quiet"], terminal=True)
    assert rc == 0 and not progress_lines(err), err
    rc, err = run([*args, "--output", tmp_path / "e.nc", "--quiet", "--progress"], terminal=False)
    assert rc == 2 and "not allowed with argument" in err
