"""Compilation and loading of the NMODL mechanisms in ``mod/``.

Mechanisms are compiled with the ``nrnivmodl`` of the installed NEURON wheel into a build folder
(default ``build/mechanisms``), never into the working directory: NEURON loads ``./x86_64``
automatically and would then refuse to load the same mechanisms again by path. A sentinel file
(``lfpk-mechanisms.json``) records a digest of the ``.mod`` sources so :func:`load` can tell a
stale build from a current one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MOD_DIR = REPO_ROOT / "mod"
DEFAULT_BUILD_DIR = REPO_ROOT / "build" / "mechanisms"
SENTINEL = "lfpk-mechanisms.json"

_loaded: Path | None = None


class MechanismsError(RuntimeError):
    """Mechanisms missing, stale or failing to compile."""


def _dirs(mod_dir, build_dir):
    mod_dir = Path(mod_dir or os.environ.get("LFPK_MOD_DIR", DEFAULT_MOD_DIR)).resolve()
    build_dir = Path(build_dir or os.environ.get("LFPK_BUILD_DIR", DEFAULT_BUILD_DIR)).resolve()
    return mod_dir, build_dir


def mod_digest(mod_dir) -> str:
    """SHA-256 over the names and contents of every ``*.mod`` file in ``mod_dir``."""
    mod_dir = Path(mod_dir)
    files = sorted(mod_dir.glob("*.mod"))
    if not files:
        raise MechanismsError(f"no .mod files in {mod_dir}")
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _compile_command(mod_dir, build_dir):
    return f"lfpk mechanisms --mod-dir {mod_dir} --build-dir {build_dir}"


def _nrnivmodl() -> str:
    local = Path(sys.executable).with_name("nrnivmodl")
    if local.exists():
        return str(local)
    found = shutil.which("nrnivmodl")
    if not found:
        raise MechanismsError("nrnivmodl not found: install the NEURON wheel (pip install neuron)")
    return found


def is_current(mod_dir=None, build_dir=None) -> bool:
    """True if ``build_dir`` holds a build of exactly the current ``mod_dir`` sources."""
    mod_dir, build_dir = _dirs(mod_dir, build_dir)
    sentinel = build_dir / SENTINEL
    if not sentinel.is_file():
        return False
    info = json.loads(sentinel.read_text())
    return info.get("digest") == mod_digest(mod_dir) and (build_dir / info["library"]).is_file()


def compile_mechanisms(mod_dir=None, build_dir=None, force=False) -> Path:
    """Compile ``mod_dir`` into ``build_dir`` unless an up-to-date build exists.

    The build happens in a temporary sibling folder that replaces ``build_dir`` only once
    ``nrnivmodl`` succeeded. Returns the sentinel path.
    """
    mod_dir, build_dir = _dirs(mod_dir, build_dir)
    if not force and is_current(mod_dir, build_dir):
        return build_dir / SENTINEL
    digest = mod_digest(mod_dir)
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{build_dir.name}.", dir=build_dir.parent))
    try:
        proc = subprocess.run(
            [_nrnivmodl(), str(mod_dir)], cwd=tmp, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise MechanismsError(
                f"nrnivmodl failed on {mod_dir} (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        libs = sorted(tmp.glob("*/libnrnmech.*")) + sorted(tmp.glob("*/.libs/libnrnmech.*"))
        if not libs:
            raise MechanismsError(f"nrnivmodl produced no libnrnmech in {tmp}")
        info = {
            "digest": digest,
            "library": str(libs[0].relative_to(tmp)),
            "mod_files": sorted(f.name for f in mod_dir.glob("*.mod")),
            "mod_dir": str(mod_dir),
        }
        (tmp / SENTINEL).write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
        if build_dir.exists():
            shutil.rmtree(build_dir)
        os.replace(tmp, build_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return build_dir / SENTINEL


def load(mod_dir=None, build_dir=None) -> Path:
    """Load the compiled mechanisms into NEURON, once per process.

    Raises
    ------
    MechanismsError
        If the build is missing or older than the ``.mod`` sources; the message gives the command
        that compiles them.
    """
    global _loaded
    mod_dir, build_dir = _dirs(mod_dir, build_dir)
    sentinel = build_dir / SENTINEL
    if not sentinel.is_file():
        raise MechanismsError(
            f"mechanisms are not compiled ({sentinel} is missing); run: {_compile_command(mod_dir, build_dir)}"
        )
    if not is_current(mod_dir, build_dir):
        raise MechanismsError(
            f"mechanisms in {build_dir} are stale (the .mod files in {mod_dir} changed); run: "
            f"{_compile_command(mod_dir, build_dir)}"
        )
    library = build_dir / json.loads(sentinel.read_text())["library"]
    if _loaded is not None:
        if _loaded != library:
            raise MechanismsError(
                f"mechanisms already loaded from {_loaded}; NEURON cannot load {library} as well"
            )
        return library
    from neuron import h

    if not h.nrn_load_dll(str(library)):
        raise MechanismsError(f"NEURON could not load {library}")
    _loaded = library
    return library


def ensure_loaded(mod_dir=None, build_dir=None) -> Path:
    """Compile if needed, then load (for tests and interactive use)."""
    compile_mechanisms(mod_dir, build_dir)
    return load(mod_dir, build_dir)
