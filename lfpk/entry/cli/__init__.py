"""The ``lfpk`` command line: ``lfpk <command> ...`` (also ``python -m lfpk``).

:mod:`~lfpk.entry.cli.boundary` is the error boundary every command runs in (and its one-line
``Parser``); one module per command group defines its commands' options with their handlers;
:mod:`~lfpk.entry.cli.main` assembles them into :func:`lfpk.entry.cli.main.main`, the console
script. (This package module imports nothing, so ``python -m lfpk.entry.cli.main`` runs cleanly.)
"""
