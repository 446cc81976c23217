"""Logging set-up shared by the CLI and the workflow scripts."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path

from lfpk.base.errors import Stopped


@contextmanager
def log_to(path=None, level=logging.INFO):
    """Send the ``lfpk`` logger, stdout and stderr to ``path`` (or keep them on the console).

    Exceptions raised inside the block are written to the log file with their traceback, then
    re-raised (``SystemExit``: only its non-zero status, the script has logged its reason), so a
    failing Snakemake job's reason is in its log file. On the console, bad input
    (``ValueError``, ``OSError``), interrupts and :class:`lfpk.base.errors.Stopped` are left to the
    caller's error boundary (:func:`lfpk.entry.cli.boundary.run_command` prints them in one line).
    Every error the boundary reports as bad input is one of these: ``InputError``, ``OutputError``,
    ``ConfigError`` and ``MechanismsError`` (e.g. a missing ``--mechanisms`` folder) all derive
    from ``ValueError``.
    """
    logger = logging.getLogger("lfpk")
    logger.setLevel(level)
    if path is None:
        handler = logging.StreamHandler(sys.stderr)
        stream = None
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        stream = open(path, "w")
        handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    old = sys.stdout, sys.stderr
    if stream is not None:
        sys.stdout = sys.stderr = stream
    try:
        yield logger
    except SystemExit as exc:
        # a deliberate exit: its reason is logged by whoever exits (no traceback), its status noted
        if stream is not None and exc.code not in (None, 0):
            logger.error("exit status %s", exc.code)
        raise
    except BaseException as exc:
        if stream is not None or not isinstance(exc, (ValueError, OSError, KeyboardInterrupt, Stopped)):
            logger.exception("failed")
        raise
    finally:
        sys.stdout, sys.stderr = old
        logger.removeHandler(handler)
        if stream is not None:
            stream.close()
