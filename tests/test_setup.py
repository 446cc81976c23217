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
    """Whether ``folder/.venv`` runs pip (``python -m pip --version``, not ``import pip``)."""
    py = folder / ".venv" / "bin" / "python"
    return py.exists() and subprocess.run([str(py), "-m", "pip", "--version"], capture_output=True).returncode == 0


def _imports_pip(folder):
    py = folder / ".venv" / "bin" / "python"
    return py.exists() and subprocess.run([str(py), "-c", "import pip"], capture_output=True).returncode == 0


@pytest.mark.parametrize("broken", ["without_pip", "without_python", "in_ensurepip"])
def test_interrupted_venv_is_rebuilt(project, broken):
    python = getattr(sys, "_base_executable", None) or shutil.which("python3")
    venv = project / ".venv"
    if broken == "without_pip":  # `python -m venv` interrupted after the interpreter, before pip
        subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    elif broken == "in_ensurepip":  # killed inside ensurepip: a pip package that imports, does not run
        subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = next(venv.glob("lib/python3*/site-packages"))
        (site / "pip").mkdir()
        (site / "pip" / "__init__.py").write_text("")
        assert _imports_pip(project)
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


def _fake_venv(project, pip_runs):
    """A .venv whose python works (a script calling this interpreter) and whose ``python -m pip``
    runs or fails (``pip_runs``), with a stamp newer than pyproject.toml."""
    bin_dir = project / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    py = bin_dir / "python"
    fail = "" if pip_runs else 'case "$*" in *"-m pip"*) echo "No module named pip.__main__" >&2; exit 1;; esac\n'
    py.write_text(f"#!/bin/sh\n{fail}exec {sys.executable} \"$@\"\n")
    py.chmod(0o755)
    stamp = project / ".venv" / ".lfpk-installed"
    stamp.touch()
    os.utime(project / "pyproject.toml", (1, 1))
    return stamp


@pytest.mark.parametrize("pip_runs", [False, True], ids=["pip_broken", "pip_runs"])
def test_make_decides_on_python_m_pip(project, pip_runs):
    """The decision to rebuild is `python -m pip --version` (an `import pip` that works is not
    enough), seen in `make -n`; a working .venv is left alone."""
    stamp = _fake_venv(project, pip_runs)
    proc = _make(project, "-n", "venv")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rebuilds = "rm -rf .venv" in proc.stdout and "-m venv .venv" in proc.stdout
    assert rebuilds == (not pip_runs), proc.stdout
    assert stamp.exists() == pip_runs  # a broken .venv is not an install, whatever its stamp says


@pytest.mark.parametrize("pip_runs", [False, True], ids=["pip_broken", "pip_runs"])
def test_make_clean_removes_only_a_broken_venv(project, pip_runs):
    """`make clean` leaves nothing of an interrupted set-up (the next `make run` starts afresh)
    and keeps a working .venv."""
    _fake_venv(project, pip_runs)
    (project / "results").mkdir()
    proc = _make(project, "clean")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (project / "results").exists()
    assert (project / ".venv").exists() == pip_runs
