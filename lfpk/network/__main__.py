"""``python -m lfpk.network``: the ground-truth network (see :func:`lfpk.network.cli.main`)."""

from lfpk.network.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
