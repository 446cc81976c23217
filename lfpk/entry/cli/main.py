"""Command-line interface: ``lfpk <command> ...`` (also ``python -m lfpk``).

Every command runs inside one error boundary (:mod:`lfpk.entry.cli.boundary`, also used by
``python -m lfpk network``): bad input (options, configuration keys, input files) ends in one line
``lfpk <command>: error: <what and where, and what was expected>`` on stderr and exit status 2,
never a traceback; Ctrl-C and SIGTERM end in ``lfpk <command>: interrupted (SIGINT)`` and status
130 / 143 with no temporary file left. Every output is written through :mod:`lfpk.base.io`'s guard, which
refuses to overwrite any input of the command. ``LFPK_DEBUG=1`` shows tracebacks.

This module assembles the parser from the command modules, each of which defines its commands'
options next to their handlers: :mod:`~lfpk.entry.cli.configuration` (``validate-config``),
:mod:`~lfpk.entry.cli.cells` (``mechanisms``, ``fetch``, ``cell-check``, ``morphology``),
:mod:`~lfpk.entry.cli.kernels` (``kernel``, ``kernel-gather``), :mod:`~lfpk.entry.cli.network`,
:mod:`~lfpk.entry.cli.signals` (``predict``, ``compare``), :mod:`~lfpk.entry.cli.plot` (``plot``) and
:mod:`~lfpk.entry.cli.pointnet` and :mod:`~lfpk.entry.cli.microcircuit` (the Potjans & Diesmann
microcircuit in NEST).
"""

from __future__ import annotations

import argparse
import sys

from lfpk.entry.cli import cells, configuration, kernels, microcircuit, network, plot, pointnet, signals
from lfpk.entry.cli.boundary import Parser, run_command, run_parsed

#: The commands' parsers, in the order ``lfpk --help`` lists them.
COMMANDS = (
    configuration.add_validate_config,
    cells.add_mechanisms,
    cells.add_fetch,
    cells.add_cell_check,
    cells.add_morphology,
    kernels.add_kernel,
    network.add_network,
    kernels.add_kernel_gather,
    signals.add_predict,
    signals.add_compare,
    plot.add_plot,
    pointnet.add_pointnet,
    microcircuit.add_microcircuit,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``lfpk`` parser with every command of :data:`COMMANDS`."""
    parser = Parser(
        prog="lfpk",
        description="Spike-to-signal kernels and ground-truth networks (Hagen et al. 2022 framework).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv=None) -> int:
    """Run ``lfpk <command> ...`` (``argv`` default ``sys.argv[1:]``); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["network"]:  # its own parser (argparse REMAINDER does not pass leading options)
        return network.main(argv[1:])
    args = build_parser().parse_args(argv)
    return run_command(f"lfpk {args.command}", run_parsed, args)


if __name__ == "__main__":
    raise SystemExit(main())
