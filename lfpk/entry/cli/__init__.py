"""The ``lfpk`` command line: ``lfpk <command> ...`` (also ``python -m lfpk``).

:mod:`~lfpk.entry.cli.boundary` is the error boundary every command runs in (and its one-line
``Parser``); one module per command group defines its commands' options with their handlers;
:mod:`~lfpk.entry.cli.main` assembles them into :func:`main`, the console script.
"""

from lfpk.entry.cli.main import main

__all__ = ["main"]
