"""Every file a command reads is an input no output of the command may overwrite (issue 22): the
files of a config's ``extends`` chain, the morphology files it names, spike files. Each case runs
the real command: exit status 2, one line naming the file, the input unchanged, nothing written,
and the refusal comes before the work."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lfpk.base import files
from lfpk.base.errors import OutputError
from lfpk.engines.spikes import read_spikes
from lfpk.model.morphology import synthetic

BIN = Path(sys.executable).parent


def lfpk(*args, cwd):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(BIN / "lfpk"), *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def digests(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def refused(proc, path):
    """The command ended in one line refusing to overwrite ``path``, status 2, no traceback."""
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(errors) == 1 and "refusing to overwrite an input" in errors[0], proc.stderr
    assert str(path) in errors[0], proc.stderr
    assert "H_" not in proc.stdout, proc.stdout  # no kernel was computed


@pytest.fixture
def study(tmp_path, repo):
    """A folder with the laptop config (base.yaml), an overlay extending it, and a config whose
    population E is a (synthetic) reconstructed cell from cell.asc."""
    base = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    (tmp_path / "overlay.yaml").write_text("extends: base.yaml\nkernel:\n  tau: 20.0\n")
    synthetic.write(tmp_path / "cell.asc", seed=2)
    cfg = dict(base, populations=dict(base["populations"]))
    cfg["populations"]["E"] = dict(base["populations"]["E"], morphology={"file": "cell.asc"})
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    return tmp_path


def test_kernel_output_onto_the_base_of_an_overlay_is_refused(study, mechanisms):
    before = digests(study)
    for option in ("--output", "--gathered"):
        proc = lfpk("kernel", "--config", "overlay.yaml", option, "base.yaml", "--post", "E", "--pre", "E", cwd=study)
        refused(proc, "base.yaml")
    assert digests(study) == before


def test_kernel_output_onto_the_morphology_file_is_refused(study, mechanisms):
    before = digests(study)
    for option in ("--output", "--gathered"):
        proc = lfpk("kernel", "--config", "c.yaml", option, "cell.asc", "--post", "E", "--pre", "E", cwd=study)
        refused(proc, "cell.asc")
    assert digests(study) == before


def test_morphology_outdir_holding_the_configs_morphology_is_refused_before_writing(study):
    (study / "cells").mkdir()
    proc = lfpk("morphology", "--config", "c.yaml", "--outdir", "cells", "--population", "E", cwd=study)
    assert proc.returncode == 0, proc.stderr
    (study / "cells" / "E.nc").unlink()
    cfg = yaml.safe_load((study / "c.yaml").read_text())
    cfg["populations"]["E"]["morphology"]["file"] = "cells/E.hoc"  # the user's own E.hoc
    (study / "c2.yaml").write_text(yaml.safe_dump(cfg))
    before = digests(study)
    proc = lfpk("morphology", "--config", "c2.yaml", "--outdir", "cells", cwd=study)
    refused(proc, "cells/E.hoc")
    assert digests(study) == before  # E.hoc kept, and no other file (I.hoc, *.nc) written
    assert sorted(p.name for p in (study / "cells").iterdir()) == ["E.hoc"]


def test_spike_file_read_after_its_output_was_checked_is_refused(tmp_path):
    spikes = tmp_path / "spikes.txt"
    spikes.write_text("sender,time_ms\n1,2.0\n2,3.5\n")
    before = spikes.read_bytes()
    with files.command_scope():
        files.check_output(spikes)  # what `lfpk predict --spikes E=spikes.txt --output spikes.txt` checks first
        with pytest.raises(OutputError, match=rf"output {spikes} is the input .*spikes\.txt"):
            read_spikes(f"E={spikes}", tstop=10.0)
    assert spikes.read_bytes() == before
