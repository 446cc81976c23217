"""Set-up: `make run` / `make test` repair a .venv left broken by an interrupted bootstrap."""

import os
import shutil
import subprocess
import sys

import pytest


def _make(folder, *args):
    python = getattr(sys, "_base_executable", None) or shutil.which("python3")
    # PIP_INSTALL=true: the bootstrap logic runs for real, the package installation is skipped
    return subprocess.run(["make", *args, f"PYTHON={python}", "PIP_INSTALL=true"], cwd=folder,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def project(repo, tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(repo / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'dummy'\n")
    return tmp_path


def _has_pip(folder):
    py = folder / ".venv" / "bin" / "python"
    return py.exists() and subprocess.run([str(py), "-c", "import pip"], capture_output=True).returncode == 0


@pytest.mark.parametrize("broken", ["without_pip", "without_python"])
def test_interrupted_venv_is_rebuilt(project, broken):
    python = getattr(sys, "_base_executable", None) or shutil.which("python3")
    venv = project / ".venv"
    if broken == "without_pip":  # `python -m venv` interrupted after the interpreter, before pip
        subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    else:  # interrupted before the interpreter was linked
        (venv / "bin").mkdir(parents=True)
    stamp = venv / ".lfpk-installed"
    stamp.touch()  # even a stamp newer than pyproject.toml does not make it an install
    os.utime(project / "pyproject.toml", (1, 1))
    assert not _has_pip(project)
    proc = _make(project, "venv")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "has no working python with pip (interrupted set-up?): rebuilding it" in proc.stdout
    assert _has_pip(project) and stamp.is_file()
    # a working install is left alone
    again = _make(project, "-q", "venv")
    assert again.returncode == 0, again.stdout + again.stderr
