"""``python -m lfpk <command> ...``: the ``lfpk`` command line (:func:`lfpk.entry.cli.main`)."""

from lfpk.entry.cli import main

raise SystemExit(main())
