"""The output guard every stage writes through: outputs never overwrite inputs, appear only whole,
and survive no interrupt half-written.

* An output is written to a hidden temporary name in the destination folder and renamed into
  place only on success (:func:`atomic_path`, :func:`atomic_paths`), so a killed job never leaves a
  file a rerun could mistake for complete.
* An output that is the same file as an input (same resolved path, or same device and inode, e.g.
  a hard link) is refused before anything is computed or written; inputs are those passed
  explicitly and, inside a :func:`command_scope` (every ``lfpk`` command runs in one), every file
  registered with :func:`register_input` (``lfpk.base.io.read_dataset`` registers what it reads;
  so do the config loader for the files of an ``extends`` chain, the morphology reader and the
  spike readers).
* Inside a :func:`command_scope` every checked output stays *declared* until it is written: a
  file registered as an input later (a config's base file, a morphology read once the config is
  loaded) that is a declared output is refused at that moment, before the work that would
  produce the output, not only when the output is finally written.
* A missing parent folder is an error unless the caller documents that it creates it
  (``create_parent=True``: the ``--outdir`` options); an output that is a folder, or a folder that
  cannot be written (permissions, read-only file system), is an error naming the path.
* SIGINT (Ctrl-C) and SIGTERM (what SLURM sends at its time limit) remove the temporary file; while
  a library writes they are deferred to the end of the write (:func:`deferred_signals`), so an
  interrupt never leaves the HDF5 library holding its lock; a second signal during a write removes
  the temporaries and exits at once.
* A full disk is reported as ``no space left on device: <path>``.
* A temporary file names its writer (``.<name>.<host>-<pid>.<random>.tmp``), so one left by a
  writer killed beyond clean-up (SIGKILL, out of memory) is removed by the next write of that
  output (:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import errno
import os
import re
import signal
import socket
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from lfpk.base.errors import Interrupted, OutputError

# ---------------------------------------------------------------------------------------------
# Inputs of the running command
# ---------------------------------------------------------------------------------------------

class _Scope:
    """The inputs registered and the outputs declared (checked, not yet written) of one command."""

    def __init__(self):
        self.inputs = []
        self.outputs = []


#: each open :func:`command_scope`, innermost last
_scopes: list[_Scope] = []


def _identity(path):
    """(resolved path, (device, inode) or None) of ``path``."""
    p = Path(path).expanduser()
    try:
        st = os.stat(p)
        ino = (st.st_dev, st.st_ino)
    except OSError:
        ino = None
    return p.resolve(), ino


def same_file(a, b) -> bool:
    """True if ``a`` and ``b`` name the same file (resolved path, or device and inode)."""
    ra, ia = _identity(a)
    rb, ib = _identity(b)
    return ra == rb or (ia is not None and ia == ib)


@contextmanager
def command_scope(inputs=()):
    """Record the inputs of one command: every output written inside must differ from all of them.

    ``inputs`` are registered at once; files read later through :func:`read_dataset` (or
    :func:`register_input`) are added as they are read.
    """
    _scopes.append(_Scope())
    try:
        for p in inputs:
            if p is not None:
                register_input(p)
        yield
    finally:
        _scopes.pop()


def _same(a, b) -> bool:
    """True if two identities of :func:`_identity` name the same file."""
    return a[0] == b[0] or (a[1] is not None and a[1] == b[1])


def register_input(path):
    """Declare ``path`` an input of the running command (no effect outside a :func:`command_scope`).

    Raises
    ------
    OutputError
        ``path`` is an output the command declared (checked with :func:`check_output`) and has not
        written yet: reading it now and overwriting it later would lose the input.
    """
    if not _scopes:
        return
    ident = _identity(path)
    for scope in _scopes:
        for name, out in scope.outputs:
            if _same(ident, out):
                raise OutputError(f"output {name} is the input {path}: refusing to overwrite an input; "
                                  "choose another output file")
    _scopes[-1].inputs.append((str(path), ident))


def _all_inputs(inputs):
    out = [(str(p), _identity(p)) for p in inputs if p is not None]
    for scope in _scopes:
        out += scope.inputs
    return out


def _declare_output(path):
    """Remember ``path`` as an output of the running command until it is written."""
    if _scopes:
        _scopes[-1].outputs.append((str(path), _identity(path)))


def _written(path):
    """Forget the declared output ``path`` (written, or given up): reading it now is reading a result."""
    ident = _identity(path)
    for scope in _scopes:
        scope.outputs = [(n, o) for n, o in scope.outputs if not _same(ident, o)]


# ---------------------------------------------------------------------------------------------
# The output guard
# ---------------------------------------------------------------------------------------------


def check_output(path, inputs=(), create_parent=False) -> Path:
    """Check that ``path`` may be written; return it as a ``Path``.

    Inside a :func:`command_scope` the output stays declared until :func:`atomic_paths` has
    written it, so an input registered meanwhile that is this file is refused at once
    (:func:`register_input`).

    Parameters
    ----------
    path : path-like
        The output file.
    inputs : sequence of path-like
        Inputs of the computation (besides those registered in the running :func:`command_scope`).
    create_parent : bool
        Create a missing parent folder (only where the command documents it).

    Raises
    ------
    OutputError
        The output is an input, is a folder, or its folder is missing or not writable.
    """
    path = _check_output(path, inputs, create_parent)
    _declare_output(path)
    return path


def _check_output(path, inputs=(), create_parent=False, writable=True) -> Path:
    """:func:`check_output` without declaring the output (and, ``writable`` False, without the test
    of the folder's permissions: :func:`output_folder` probes them itself)."""
    path = Path(path)
    ident = _identity(path)
    for name, other in _all_inputs(inputs):
        if _same(ident, other):
            raise OutputError(f"output {path} is the input {name}: refusing to overwrite an input; "
                              "choose another output file")
    if path.is_dir():
        raise OutputError(f"output {path} is a folder; expected a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        if not create_parent:
            raise OutputError(f"output folder {parent} does not exist (for {path}); create it first")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create output folder {parent}: {exc.strerror.lower()}") from None
    elif not parent.is_dir():
        raise OutputError(f"output folder {parent} is not a folder (for {path})")
    if writable and not os.access(parent, os.W_OK | os.X_OK):  # permissions or a read-only file system
        code = errno.EROFS if _read_only(parent) else errno.EACCES
        raise OutputError(f"cannot write {path}: {os.strerror(code).lower()} (folder {parent})")
    return path


def _read_only(folder) -> bool:
    """True if ``folder`` is on a file system mounted read-only."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def check_outputs(paths, inputs=(), create_parent=False) -> list[Path]:
    """:func:`check_output` of each of ``paths``, which must also differ from each other; return
    them as ``Path`` objects.

    Raises
    ------
    OutputError
        As :func:`check_output`, or one file given twice.
    """
    paths = [check_output(p, inputs=inputs, create_parent=create_parent) for p in paths]
    for i, p in enumerate(paths):
        for q in paths[:i]:
            if same_file(p, q):
                raise OutputError(f"output {p} is given twice; expected different files")
    return paths


def output_folder(folder, inputs=()) -> Path:
    """Create (if missing) and check an output folder given by an ``--outdir`` option: it must not
    be a file and must accept a new file (probed by creating and removing one)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output folder {folder} is a file; expected a folder")
    _check_output(folder / ".lfpk-probe", inputs=inputs, create_parent=True, writable=False)
    try:
        fd, probe = tempfile.mkstemp(prefix=".lfpk-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if _disk_full(exc, folder) == errno.ENOSPC:
            raise OutputError(f"no space left on device: {folder}") from None
        raise OutputError(f"cannot write to output folder {folder}: {exc.strerror.lower()}") from None
    return folder


_temporaries: set[str] = set()
_deferred: list[int] = []


def _remove_temporaries():
    for tmp in list(_temporaries):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        _temporaries.discard(tmp)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


def _defer(signum, frame):
    if _deferred:  # a second signal while the netCDF library writes: leave now, without the lock
        _remove_temporaries()
        os._exit(128 + signum)
    _deferred.append(signum)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def terminate_as_interrupt():
    """Within the block SIGTERM raises :class:`Interrupted` (so ``finally`` clauses run), unless
    another handler is installed already. Main thread only (elsewhere a no-op)."""
    if not _main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def deferred_signals():
    """Defer SIGINT and SIGTERM to the end of the block, then raise :class:`Interrupted`.

    Wrap calls into the netCDF/HDF5 library (an exception raised inside them can leave HDF5's
    lock held, so that closing the file hangs). A second signal inside the block removes the
    temporary files of :func:`atomic_path` and exits at once with status ``128 + signum``.
    Main thread only (elsewhere a no-op).
    """
    if not _main_thread() or _deferred or signal.getsignal(signal.SIGINT) is _defer:
        yield
        return
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, _defer)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        pending = list(_deferred)
        _deferred.clear()
    if pending:
        raise Interrupted(pending[0])


def raise_deferred():
    """Inside :func:`deferred_signals`: raise :class:`Interrupted` now if SIGINT or SIGTERM was
    received, for long computations that can stop at safe points (a simulation's time steps)."""
    if _deferred:
        signum = _deferred[0]
        _deferred.clear()
        raise Interrupted(signum)


def _disk_full(exc, folder):
    """errno of a full disk or quota behind ``exc`` (None if not), also when the netCDF library
    hides it ("NetCDF: HDF error")."""
    e = exc
    while e is not None:
        if getattr(e, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
            return e.errno
        e = e.__cause__ or e.__context__
    try:
        st = os.statvfs(folder)
    except OSError:
        return None
    return errno.ENOSPC if st.f_bavail == 0 else None


def _write_error(exc, path, folder=None):
    """The :class:`OutputError` that explains a failed write of ``path`` (text; its folder
    ``folder``), or None if the failure is not about the output."""
    if isinstance(exc, OutputError):
        return exc
    folder = Path(path).parent if folder is None else folder
    code = _disk_full(exc, folder)
    if code == errno.ENOSPC:
        return OutputError(f"no space left on device: {path}")
    if code == errno.EDQUOT:
        return OutputError(f"disk quota exceeded: {path}")
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"cannot write {path}: {os.strerror(exc.errno).lower()} (folder {folder})")
    return None


@contextmanager
def atomic_paths(paths, inputs=(), create_parent=False):
    """Yield temporary paths next to ``paths``; rename them all into place only on success.

    Every path is checked first (:func:`check_output`: not an input, not a folder, parent folder
    present unless ``create_parent``; the paths must differ from each other). The temporary files
    are removed on any error, on Ctrl-C and on SIGTERM. The renames at the end run with signals
    deferred, and a failing rename restores the files replaced before it, so a set of outputs
    (e.g. a comparison and its summary table) appears completely or not at all. A full disk raises
    :class:`OutputError` ``no space left on device: <path>``.
    """
    paths = check_outputs(paths, inputs=inputs, create_parent=create_parent)
    tmps = []
    with terminate_as_interrupt():
        try:
            for path in paths:
                remove_stale_temporaries(path)
                try:
                    fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=path.parent)
                except OSError as exc:
                    raise (_write_error(exc, path) or exc) from None
                _temporaries.add(tmp)
                tmps.append(tmp)
                os.close(fd)
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)  # mkstemp: 0600; final files get the usual permissions
            yield [Path(t) for t in tmps]
            with deferred_signals():
                _replace_all(tmps, paths)
        except Exception as exc:
            err = _write_error(exc, ", ".join(map(str, paths)), paths[0].parent)
            if err is not None and err is not exc:
                raise err from exc
            raise
        finally:
            for tmp in tmps:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                _temporaries.discard(tmp)
            for path in paths:
                _written(path)


def _host():
    """This machine's short host name, as used in temporary file names (no dots)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname().split(".")[0]) or "host"


def _temporary_prefix(path):
    """``.<name>.<host>-<pid>.``: a temporary output names its writer, so that one left by a killed
    writer (SIGKILL, out of memory; nothing can clean up after those) is recognised as stale."""
    return f".{Path(path).name}.{_host()}-{os.getpid()}."


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def remove_stale_temporaries(path) -> list[Path]:
    """Remove the temporary files of output ``path`` (:func:`atomic_paths`) whose writer no longer
    runs: ``.<name>.<host>-<pid>.<random>.tmp`` of this host with no process ``pid``. Temporaries
    of running writers, of other hosts (a shared file system) and of other names are kept.
    :func:`atomic_paths` calls this before writing ``path``, so a rerun after a killed run leaves
    no temporary behind. Returns the removed paths."""
    path = Path(path)
    head, host = f".{path.name}.", _host()
    removed = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return removed
    for p in entries:
        n = p.name
        if not (n.startswith(head) and n.endswith(".tmp")):
            continue
        parts = n[len(head):-len(".tmp")].split(".")
        if len(parts) != 2:
            continue
        writer, _, pid = parts[0].rpartition("-")
        if writer != host or not pid.isdigit() or int(pid) == os.getpid() or _running(int(pid)):
            continue
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _replace_all(tmps, paths):
    """``os.replace`` each temporary onto its path; on a failure undo the replacements made."""
    if len(paths) == 1:
        os.replace(tmps[0], paths[0])
        return
    backups = {}
    done = []
    try:
        for tmp, path in zip(tmps, paths):
            if path.exists():
                backup = f"{tmp}.previous"
                try:
                    os.link(path, backup)
                    backups[path] = backup
                except OSError:
                    pass
            os.replace(tmp, path)
            done.append(path)
    except BaseException:
        for path in done:
            if path in backups:
                os.replace(backups.pop(path), path)
            else:
                os.unlink(path)
        raise
    finally:
        for backup in backups.values():
            if os.path.exists(backup):
                os.unlink(backup)


@contextmanager
def atomic_path(path, inputs=(), create_parent=False):
    """Yield a temporary path next to ``path``; rename it to ``path`` only on success.

    The single-file case of :func:`atomic_paths` (same checks, clean-up and messages).
    """
    with atomic_paths([path], inputs=inputs, create_parent=create_parent) as (tmp,):
        yield tmp
