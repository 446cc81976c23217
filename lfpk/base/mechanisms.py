"""Compilation and loading of the NMODL mechanisms shipped in ``lfpk/mod`` (plus a user's own).

The ``.mod`` files are package data (:data:`PACKAGE_MOD_DIR`), so an installed wheel carries them.
They are compiled with the ``nrnivmodl`` of the installed NEURON wheel into a *build folder*,
never into the working directory (NEURON loads ``./x86_64`` automatically and would then refuse to
load the same mechanisms again by path).

Where the build lives
---------------------
* An explicit ``build_dir`` (the study's ``build/mechanisms``, made by ``make mechanisms`` and the
  workflow's ``mechanisms`` rule; ``lfpk network --mechanisms``).
* Otherwise the environment variable ``LFPK_BUILD_DIR``, if set: one fixed folder, compiled on first
  use and recompiled whenever the sources change.
* Otherwise a per-user cache, ``$LFPK_CACHE_DIR/mechanisms/<key>`` with ``LFPK_CACHE_DIR``
  defaulting to ``$XDG_CACHE_HOME/lfpk`` or ``~/.cache/lfpk``. ``<key>`` is a digest of every
  source file, the NEURON version and the machine architecture, so builds of different sources
  (e.g. with different extra folders) or NEURON versions live side by side. Compiled on first use.

Extra mechanisms
----------------
``extra_dirs`` adds folders of a user's own ``.mod`` files, compiled together with the package's
into one library (NEURON loads one mechanism library per process). File names and mechanism names
(``SUFFIX``, ``POINT_PROCESS``, ``ARTIFICIAL_CELL``) must be unique across all folders.

Safety
------
A sentinel file :data:`SENTINEL` in the build folder records the source digest, the NEURON version
and the library path; :func:`is_current` compares them with the sources. A build is written into a
temporary sibling folder (``.<name>.tmp-*``) and renamed into place only after ``nrnivmodl``
succeeded, under an exclusive lock (``.<name>.lock``), so concurrent first uses compile once. An
existing folder is only ever replaced when it is empty or an lfpk build (it carries the sentinel or
the marker file ``.lfpk-mechanisms-build``, which survives a workflow manager deleting the sentinel,
its declared output, before a rerun); any other folder is refused -- also one holding nothing but
nrnivmodl's output (``x86_64/``: someone's own build) -- so no user file is ever deleted. A build
folder that cannot be created names where it came from (``--build-dir``, ``LFPK_BUILD_DIR`` or
the cache under ``LFPK_CACHE_DIR``) and how to choose another.
Temporaries of a killed compile are removed by the next compile. Builds get the usual permissions
(``0777 & ~umask``), readable by every user.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from lfpk.base.errors import InputError

#: the package's NMODL sources (package data)
PACKAGE_MOD_DIR = Path(__file__).resolve().parent.parent / "mod"
#: name of the sentinel file written into every build folder
SENTINEL = "lfpk-mechanisms.json"
#: environment variable: a fixed build folder (overrides the per-user cache)
ENV_BUILD_DIR = "LFPK_BUILD_DIR"
#: environment variable: root of lfpk's per-user cache (mechanisms in ``<root>/mechanisms/<key>``)
ENV_CACHE_DIR = "LFPK_CACHE_DIR"
#: marker written into a temporary build folder (only folders carrying it are cleaned up)
_IN_PROGRESS = ".lfpk-build-in-progress"
#: marker of a finished build folder: it stays when a workflow deletes the sentinel before a rerun
_BUILD_MARKER = ".lfpk-mechanisms-build"
#: what nrnivmodl writes (a build folder of earlier lfpk versions held only these and the sentinel)
_NRNIVMODL_OUTPUT = ("x86_64", "arm64", "aarch64")
_SENTINEL_VERSION = 2

_loaded: dict | None = None  # {"library": Path, "key": str} of the build loaded into this process


class MechanismsError(InputError, RuntimeError):
    """Mechanisms missing, stale, refused or failing to compile: bad input (a folder, the sources
    or a build), reported in one line like every :class:`~lfpk.base.errors.InputError` (also a
    ``RuntimeError``, as in earlier versions)."""


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------


def _resolve_dirs(mod_dir=None, extra_dirs=None) -> list[Path]:
    """Base folder (default the package's) followed by the extra folders, resolved, no repeats."""
    dirs = [Path(mod_dir or PACKAGE_MOD_DIR).expanduser().resolve()]
    for d in extra_dirs or ():
        d = Path(d).expanduser().resolve()
        if d not in dirs:
            dirs.append(d)
    return dirs


def _strip_comments(text: str) -> str:
    text = re.sub(r"^\s*COMMENT\b.*?^\s*ENDCOMMENT\b", "", text, flags=re.S | re.M)
    return re.sub(r":.*", "", text)


def _mechanism_names(text: str) -> list[str]:
    """Mechanism names an NMODL file defines (SUFFIX, POINT_PROCESS, ARTIFICIAL_CELL)."""
    return re.findall(r"\b(?:SUFFIX|POINT_PROCESS|ARTIFICIAL_CELL)\s+([A-Za-z_]\w*)", _strip_comments(text))


def mod_files(mod_dir=None, extra_dirs=None) -> list[Path]:
    """Every ``*.mod`` file of the base folder and the extra folders, sorted by file name.

    Raises
    ------
    MechanismsError
        A folder that does not exist or holds no ``.mod`` file, a file name or mechanism name
        defined in two places.
    """
    files, names, mechs = [], {}, {}
    for d in _resolve_dirs(mod_dir, extra_dirs):
        if not d.is_dir():
            raise MechanismsError(f"mechanism folder {d} does not exist; expected a folder of .mod files")
        found = sorted(d.glob("*.mod"))
        if not found:
            raise MechanismsError(f"no .mod files in {d}; expected a folder of NMODL (.mod) files")
        for f in found:
            if f.name in names:
                raise MechanismsError(f"{f}: a file named {f.name} is also in {names[f.name].parent}; expected "
                                      "unique .mod file names across mechanism folders")
            names[f.name] = f
            try:
                text = f.read_text()
            except (OSError, UnicodeDecodeError) as exc:
                raise MechanismsError(f"{f}: cannot read ({exc}); expected an NMODL text file") from None
            for m in _mechanism_names(text):
                if m in mechs:
                    raise MechanismsError(f"{f}: mechanism {m!r} is also defined in {mechs[m]}; expected each "
                                          "mechanism name once (NEURON cannot load both)")
                mechs[m] = f
            files.append(f)
    return sorted(files, key=lambda f: f.name)


def mod_digest(mod_dir=None, extra_dirs=None) -> str:
    """SHA-256 over the names and contents of every ``.mod`` file (independent of folder order)."""
    h = hashlib.sha256()
    for f in mod_files(mod_dir, extra_dirs):
        h.update(f.name.encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def neuron_version() -> str:
    """Version of the installed NEURON distribution (without importing it), or ``'unknown'``."""
    for dist in ("neuron", "neuron-nightly", "neuron-gpu", "neuron-gpu-nightly"):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return "unknown"


def build_key(mod_dir=None, extra_dirs=None) -> str:
    """Key of a build: digest of the sources, NEURON version and machine (16 hex digits)."""
    h = hashlib.sha256(f"{mod_digest(mod_dir, extra_dirs)}|{neuron_version()}|{platform.machine()}".encode())
    return h.hexdigest()[:16]


def cache_root() -> Path:
    """Root of lfpk's per-user cache: ``$LFPK_CACHE_DIR``, else ``$XDG_CACHE_HOME/lfpk``, else
    ``~/.cache/lfpk``."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache").resolve() / "lfpk"


def default_build_dir(mod_dir=None, extra_dirs=None) -> Path:
    """Build folder used when none is given: ``$LFPK_BUILD_DIR`` or the per-user cache entry."""
    env = os.environ.get(ENV_BUILD_DIR)
    if env:
        return Path(env).expanduser().resolve()
    return cache_root() / "mechanisms" / build_key(mod_dir, extra_dirs)


# ---------------------------------------------------------------------------------------------
# Build folders
# ---------------------------------------------------------------------------------------------


def read_sentinel(build_dir) -> dict | None:
    """The sentinel of ``build_dir`` as a dict, or None if absent or not an lfpk sentinel."""
    path = Path(build_dir) / SENTINEL
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or "digest" not in info or "library" not in info:
        return None
    return info


def is_current(mod_dir=None, build_dir=None, extra_dirs=None) -> bool:
    """True if ``build_dir`` holds a build of exactly the current sources for this NEURON.

    ``extra_dirs=None`` takes the extra folders recorded in the build's sentinel (so a build made
    with extra folders is checked against them); ``extra_dirs=[]`` means none.
    """
    build_dir = Path(build_dir) if build_dir is not None else default_build_dir(mod_dir, extra_dirs)
    info = read_sentinel(build_dir)
    if info is None:
        return False
    if extra_dirs is None:
        extra_dirs = info.get("extra_dirs", [])
    try:
        digest = mod_digest(mod_dir, extra_dirs)
    except MechanismsError:
        return False
    return (info["digest"] == digest and info.get("neuron", neuron_version()) == neuron_version()
            and (build_dir / info["library"]).is_file())


def _nrnivmodl() -> str:
    local = Path(sys.executable).with_name("nrnivmodl")
    if local.exists():
        return str(local)
    found = shutil.which("nrnivmodl")
    if not found:
        raise MechanismsError("nrnivmodl not found: install the NEURON wheel (pip install neuron)")
    return found


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _build_lock(build_dir: Path):
    """Exclusive lock on ``.<name>.lock`` next to ``build_dir`` (waits for another compile)."""
    lock = build_dir.parent / f".{build_dir.name}.lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise MechanismsError(f"cannot create the lock file {lock} ({exc.strerror.lower()}) for "
                              f"{_origin(build_dir)}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


_OLD_TMP = re.compile(r"[a-z0-9_]{8}")  # tempfile.mkdtemp suffix of builds before the marker existed


def clean_stale_temporaries(build_dir) -> list[Path]:
    """Remove temporary folders of killed compiles next to ``build_dir``; call under the lock.

    Only folders named ``.<name>.tmp-*`` / ``.<name>.old-*`` that carry the in-progress marker or
    a sentinel, or ``.<name>.<8 chars>`` holding nothing but nrnivmodl output, are removed.
    """
    build_dir = Path(build_dir)
    removed = []
    prefix = f".{build_dir.name}."
    if not build_dir.parent.is_dir():
        return removed
    for p in build_dir.parent.iterdir():
        if not p.name.startswith(prefix) or not p.is_dir() or p.is_symlink():
            continue
        rest = p.name[len(prefix):]
        ours = False
        if rest.startswith(("tmp-", "old-")):
            ours = (p / _IN_PROGRESS).exists() or is_build_folder(p)
        elif _OLD_TMP.fullmatch(rest):
            ours = _only_nrnivmodl_output(p)
        if ours:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _only_nrnivmodl_output(folder: Path) -> bool:
    return all(c.name in (SENTINEL, *_NRNIVMODL_OUTPUT) for c in folder.iterdir())


def is_build_folder(folder) -> bool:
    """True if ``folder`` is an lfpk mechanisms build: it carries the build marker or a sentinel.

    A folder holding only nrnivmodl's output (``x86_64/``) is not: it may be anyone's build.
    """
    folder = Path(folder)
    return (folder / _BUILD_MARKER).is_file() or read_sentinel(folder) is not None


def _origin(build_dir: Path) -> str:
    """Where ``build_dir`` came from and how to choose another (for messages)."""
    env = os.environ.get(ENV_BUILD_DIR)
    if env and Path(env).expanduser().resolve() == build_dir:
        return f"the build folder {ENV_BUILD_DIR}={env}; set {ENV_BUILD_DIR} to a writable folder"
    root = cache_root()
    if build_dir.is_relative_to(root):
        name = f"{ENV_CACHE_DIR}={os.environ[ENV_CACHE_DIR]}" if os.environ.get(ENV_CACHE_DIR) else \
            f"{root} (the default of {ENV_CACHE_DIR})"
        return (f"lfpk's mechanisms cache under {name}; set {ENV_CACHE_DIR} to a writable folder, or "
                f"{ENV_BUILD_DIR} to a build folder")
    return "the build folder given (--build-dir); give a writable folder"


def _check_replaceable(build_dir: Path):
    if not build_dir.exists() and not build_dir.is_symlink():
        return
    if not build_dir.is_dir():
        raise MechanismsError(f"build folder {build_dir} exists and is not a folder; refusing to replace it")
    if any(build_dir.iterdir()) and not is_build_folder(build_dir):
        raise MechanismsError(
            f"build folder {build_dir} exists and is not an lfpk mechanisms build (no {SENTINEL} in it); "
            "refusing to replace it: give a new or empty folder")


def compile_mechanisms(mod_dir=None, build_dir=None, force=False, extra_dirs=None) -> Path:
    """Compile the package's ``.mod`` files (and ``extra_dirs``) into ``build_dir`` unless current.

    Parameters
    ----------
    mod_dir : path-like, optional
        Base folder of ``.mod`` files (default :data:`PACKAGE_MOD_DIR`).
    build_dir : path-like, optional
        Build folder (default :func:`default_build_dir`). Replaced only if empty or an lfpk build.
    force : bool
        Recompile even if the build is current.
    extra_dirs : list of path-like, optional
        Further folders of ``.mod`` files compiled into the same library.

    Returns
    -------
    Path
        The sentinel file of the build.
    """
    extra_dirs = list(extra_dirs or [])
    build_dir = Path(build_dir).expanduser().resolve() if build_dir is not None else \
        default_build_dir(mod_dir, extra_dirs)
    files = mod_files(mod_dir, extra_dirs)  # validates the sources before anything is touched
    if not force and is_current(mod_dir, build_dir, extra_dirs):
        return build_dir / SENTINEL
    _check_replaceable(build_dir)
    try:
        build_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = "a file is in the way" if isinstance(exc, (FileExistsError, NotADirectoryError)) else \
            exc.strerror.lower()
        raise MechanismsError(f"cannot create {build_dir.parent} ({why}) for {_origin(build_dir)}") from None
    with _build_lock(build_dir):
        clean_stale_temporaries(build_dir)
        if not force and is_current(mod_dir, build_dir, extra_dirs):
            return build_dir / SENTINEL  # another process compiled it while we waited
        _check_replaceable(build_dir)
        _compile_into(files, build_dir, mod_dir, extra_dirs)
    return build_dir / SENTINEL


def _compile_into(files, build_dir: Path, mod_dir, extra_dirs):
    digest = mod_digest(mod_dir, extra_dirs)
    tmp = Path(tempfile.mkdtemp(prefix=f".{build_dir.name}.tmp-", dir=build_dir.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700: other users must read the build
        (tmp / _IN_PROGRESS).touch()
        staging = tmp / "mod"
        staging.mkdir()
        for f in files:
            shutil.copyfile(f, staging / f.name)
        proc = subprocess.run([_nrnivmodl(), "mod"], cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0:
            raise MechanismsError(
                f"nrnivmodl failed on {', '.join(str(d) for d in _resolve_dirs(mod_dir, extra_dirs))} "
                f"(exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        libs = sorted(tmp.glob("*/libnrnmech.*")) + sorted(tmp.glob("*/.libs/libnrnmech.*"))
        if not libs:
            raise MechanismsError(f"nrnivmodl produced no libnrnmech in {tmp}")
        dirs = _resolve_dirs(mod_dir, extra_dirs)
        info = {
            "lfpk_mechanisms": _SENTINEL_VERSION,
            "digest": digest,
            "key": build_key(mod_dir, extra_dirs),
            "neuron": neuron_version(),
            "machine": platform.machine(),
            "library": str(libs[0].relative_to(tmp)),
            "mod_files": [f.name for f in files],
            "mod_dir": str(dirs[0]),
            "extra_dirs": [str(d) for d in dirs[1:]],
        }
        (tmp / SENTINEL).write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
        (tmp / _BUILD_MARKER).write_text("lfpk mechanisms build folder: replaced as a whole by `lfpk mechanisms`\n")
        (tmp / _IN_PROGRESS).unlink()
        old = None
        if build_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{build_dir.name}.old-", dir=build_dir.parent))
            os.replace(build_dir, old / "build")  # keep the old build whole until the new one is in place
            (old / _IN_PROGRESS).touch()
        os.replace(tmp, build_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def _compile_command(build_dir, extra_dirs=()):
    extra = "".join(f" --extra-dir {d}" for d in extra_dirs)
    return f"lfpk mechanisms --build-dir {build_dir}{extra}"


def loaded_library() -> Path | None:
    """Library loaded into this process by :func:`load`, or None."""
    return None if _loaded is None else _loaded["library"]


def _check_same_as_loaded(digest, where):
    if _loaded["key"] != digest:
        raise MechanismsError(
            f"mechanisms already loaded from {_loaded['library']}; NEURON cannot load {where} (other sources) "
            "into the same process: load the build you need before any other (restart Python)")


def load(mod_dir=None, build_dir=None, extra_dirs=None) -> Path:
    """Load the compiled mechanisms into NEURON, once per process.

    Parameters
    ----------
    mod_dir : path-like, optional
        Base folder of ``.mod`` files (default the package's).
    build_dir : path-like, optional
        An explicit build folder: it must hold a current build (else :class:`MechanismsError`
        with the command that makes it); the extra folders it was built with are taken from its
        sentinel unless ``extra_dirs`` is given. Without ``build_dir`` the default folder
        (``$LFPK_BUILD_DIR`` or the per-user cache) is used and compiled on first use.
    extra_dirs : list of path-like, optional
        Folders of the user's own ``.mod`` files compiled with the package's.

    Returns
    -------
    Path
        The loaded library. When mechanisms are loaded already and nothing was asked explicitly,
        that library is returned; asking for a different build raises (NEURON cannot load two).
    """
    global _loaded
    explicit = build_dir is not None or mod_dir is not None or extra_dirs is not None
    if _loaded is not None and not explicit:
        return _loaded["library"]
    if build_dir is None:
        build_dir = default_build_dir(mod_dir, extra_dirs)
        if extra_dirs is None:  # a fixed $LFPK_BUILD_DIR keeps the extra folders it was built with
            extra_dirs = (read_sentinel(build_dir) or {}).get("extra_dirs", [])
        if _loaded is not None:
            _check_same_as_loaded(mod_digest(mod_dir, extra_dirs), build_dir)  # before compiling
        compile_mechanisms(mod_dir, build_dir, extra_dirs=extra_dirs)  # no-op when current
    build_dir = Path(build_dir).expanduser().resolve()
    info = read_sentinel(build_dir)
    if info is None:
        what = "does not exist" if not build_dir.exists() else \
            "is not a folder" if not build_dir.is_dir() else f"holds no build ({SENTINEL} is missing)"
        raise MechanismsError(f"mechanisms are not compiled: build folder {build_dir} {what}; run: "
                              f"{_compile_command(build_dir, extra_dirs or ())}")
    if extra_dirs is None:
        extra_dirs = info.get("extra_dirs", [])
    if not is_current(mod_dir, build_dir, extra_dirs):
        raise MechanismsError(
            f"mechanisms in {build_dir} are stale (the .mod sources or the NEURON version changed); run: "
            f"{_compile_command(build_dir, extra_dirs)}")
    library = build_dir / info["library"]
    key = info["digest"]
    if _loaded is not None:
        _check_same_as_loaded(key, library)
        return _loaded["library"]
    # NEURON on first use: importing it starts its interpreter
    from neuron import h

    if not h.nrn_load_dll(str(library)):
        raise MechanismsError(f"NEURON could not load {library}")
    _loaded = {"library": library, "key": key}
    return library


def ensure_loaded(mod_dir=None, build_dir=None, extra_dirs=None) -> Path:
    """Compile if needed (also into an explicit ``build_dir``), then load."""
    if build_dir is not None:
        compile_mechanisms(mod_dir, build_dir, extra_dirs=extra_dirs)
    return load(mod_dir, build_dir, extra_dirs)
