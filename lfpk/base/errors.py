"""The exceptions every layer raises and the command line's error boundary reports
(:func:`lfpk.entry.cli.boundary.run_command`): bad input in one line with status 2, interrupts with
128 + the signal number, a rank stopped by its peer with status 1."""

from __future__ import annotations

import signal


class InputError(ValueError):
    """An input file that is missing, unreadable, truncated or not of the expected kind."""


class OutputError(ValueError):
    """An output that must not or cannot be written (an input, a folder, no such folder, full disk)."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM received; ``signum`` says which (exit status ``128 + signum``)."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


class Stopped(RuntimeError):
    """This process stopped because another one of the same command failed or was interrupted
    (an MPI rank whose peer reports the reason); the command line prints it in one line and
    returns 1, not as an internal error."""
