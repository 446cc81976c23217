"""The ``lfpk`` command line: ``lfpk <command> ...`` (also ``python -m lfpk``)."""
