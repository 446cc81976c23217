"""``python -m lfpk <command> ...``: the ``lfpk`` command line (:func:`lfpk.entry.cli.main.main`)."""

from lfpk.entry.cli.main import main

raise SystemExit(main())
