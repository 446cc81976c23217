"""The command line's error boundary: what every ``lfpk`` command (and ``python -m lfpk network``)
runs inside.

Bad input (options, configuration keys, input files) ends in one line
``lfpk <command>: error: <what and where, and what was expected>`` on stderr and exit status 2,
never a traceback; Ctrl-C and SIGTERM end in ``lfpk <command>: interrupted (SIGINT)`` and status
130 / 143 with no temporary file left. Every output is written through :mod:`lfpk.base.io`'s guard,
which refuses to overwrite any input of the command. ``LFPK_DEBUG=1`` shows tracebacks. Under MPI
only rank 0 reports, until :func:`report_from_every_rank`.

The command modules (:mod:`~lfpk.entry.cli.configuration`, :mod:`~lfpk.entry.cli.cells`,
:mod:`~lfpk.entry.cli.kernels`, :mod:`~lfpk.entry.cli.network`, :mod:`~lfpk.entry.cli.signals`,
:mod:`~lfpk.entry.cli.pointnet`) import from here; :mod:`~lfpk.entry.cli.main` assembles them and
runs every parsed command through :func:`run_command` and :func:`run_parsed`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from lfpk.api.config import ConfigError
from lfpk.base.errors import InputError, Interrupted, OutputError, Stopped
from lfpk.base.files import check_output, command_scope, same_file, terminate_as_interrupt
from lfpk.base.mechanisms import MechanismsError
from lfpk.base.mpi import init_parallel, launch_rank


def name_values(items, convert, option, form="NAME=VALUE"):
    """Options of the form ``NAME=VALUE`` (each repeated, or ``NAME=V,NAME=V`` split by the caller)
    as a dict ``{NAME: convert(VALUE)}``.

    Raises
    ------
    ValueError
        ``<option> expects <form>, got '<item>'`` for an item without ``=``, without a name, or
        whose value ``convert`` refuses.
    """
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = convert(value)
        except ValueError:
            raise ValueError(f"{option} expects {form}, got {item!r}") from None
    return out


class Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose usage errors are one line (with a pointer to ``--help``), status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


_every_rank = False


def report_from_every_rank():
    """From now on every MPI rank reports its errors (called once MPI has started; before, every
    rank checks the same input and only rank 0 reports, so a bad option prints one line)."""
    global _every_rank
    _every_rank = True


def start_mpi():
    """Start MPI for NEURON (:func:`lfpk.base.mpi.init_parallel`) once every rank has checked its
    input; from then on every rank reports its errors. Returns NEURON's ParallelContext. A launch
    that cannot work (NEURON and MPI disagree on the ranks) is bad input: one line, status 2."""
    try:
        pc = init_parallel()
    except RuntimeError as exc:
        raise ValueError(f"MPI launch: {exc}") from None
    report_from_every_rank()
    return pc


def _message(exc) -> str:
    """One-line text of an exception (file name and reason for OS errors)."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__


def user_errors():
    """Exception classes that mean bad input (reported in one line, status 2)."""
    return (ConfigError, InputError, OutputError, MechanismsError, ValueError, OSError)


def run_command(prog, func, *args, inputs=()):
    """Run ``func(*args)`` inside the error boundary of command ``prog``; return the exit status.

    Bad input (:func:`user_errors`) prints ``<prog>: error: <message>`` and returns 2; SIGINT /
    SIGTERM print ``<prog>: interrupted (<signal>)`` and return 128 + signal number; MemoryError
    returns 2 with the hint to reduce sizes; anything else is an internal error (status 1, the
    exception in one line; ``LFPK_DEBUG=1`` re-raises it with its traceback). ``inputs`` are
    protected from being overwritten by any output of the command (see :mod:`lfpk.base.io`).
    Under MPI only rank 0 prints.
    """
    debug = os.environ.get("LFPK_DEBUG", "") not in ("", "0")

    def report(text):
        rank = launch_rank()
        if rank == 0:
            print(f"{prog}: {text}", file=sys.stderr)
        elif _every_rank:
            print(f"{prog} (rank {rank}): {text}", file=sys.stderr)

    try:
        with terminate_as_interrupt(), command_scope(inputs):
            status = func(*args)
        return int(status or 0)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        report(f"interrupted ({signal.Signals(signum).name}); outputs being written were removed")
        return 128 + int(signum)
    except MemoryError:
        if debug:
            raise
        report("error: out of memory; reduce the sizes (population sizes, tstop / dt, kernel.tau)")
        return 2
    except SystemExit:
        raise
    except Stopped as exc:
        report(f"stopped: {exc}")
        return 1
    except user_errors() as exc:
        if debug:
            raise
        report(f"error: {_message(exc)}")
        return 2
    except Exception as exc:
        if debug:
            raise
        report(f"internal error: {type(exc).__name__}: {exc} (this is a bug in lfpk: please report it "
               "with the command; LFPK_DEBUG=1 shows the traceback)")
        return 1


def run_parsed(args):
    """Run a parsed command (``args.func(args)``) once its outputs are checked: none is an input
    (``args.inputs`` names the options holding inputs) and no two are the same file
    (``args.outputs``)."""
    inputs = []
    for name in args.inputs:
        value = getattr(args, name, None)
        inputs += value if isinstance(value, list) else [] if value is None else [value]
    outputs = [(name, getattr(args, name, None)) for name in args.outputs]
    outputs = [(name, value) for name, value in outputs if value is not None]
    for i, (name, value) in enumerate(outputs):
        check_output(value, inputs=inputs)
        for other, v2 in outputs[:i]:
            if same_file(value, v2):
                raise ValueError(f"--{name.replace('_', '-')} {value} is the same file as --{other.replace('_', '-')} "
                                 f"{v2}; expected two different files")
    return args.func(args)
