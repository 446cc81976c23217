"""Entry layer: the ``lfpk`` command line (:mod:`~lfpk.entry.cli`, with its error boundary) and the
Snakemake workflow's helpers (:mod:`~lfpk.entry.workflow`). Nothing below imports it. See
``docs/architecture.md``.
"""
