"""Progress lines of long predictions: what stage runs, the fraction done and the time elapsed.

``lfpk predict`` of a long recording reads spikes, (with ``--kernel-config``) computes kernels,
then predicts and writes block by block; each can take a minute. :class:`Progress` is the one
helper every stage of :func:`lfpk.engines.prediction.predict.predict_files` reports to. It writes
lines such as::

    lfpk predict: reading spikes: 41% (12.3 s)
    lfpk predict: reading spikes: done, 3051234 spikes (29.8 s)
    lfpk predict: predicting and writing: 18% (31.0 s)

on standard error: the stage's start, then at most one line per ``interval`` seconds (default
:data:`INTERVAL`), then its end. Times are seconds since the first stage began. By default it is
on only when standard error is a terminal, so logs, pipes and Snakemake jobs stay quiet; ``True`` /
``False`` (``--progress`` / ``--quiet``) force it on or off.
"""

from __future__ import annotations

import sys
import time

#: seconds between two progress lines of one stage
INTERVAL = 2.0


class Progress:
    """Progress lines of one command's stages (see the module docstring).

    Parameters
    ----------
    enabled : bool or None
        Write lines; None (default): only when ``stream`` is a terminal.
    stream : file-like, optional
        Where to write (default ``sys.stderr`` at the time of writing).
    interval : float
        Seconds between two lines of one stage (0: every update).
    prefix : str
        Start of every line (the command).
    """

    def __init__(self, enabled=None, stream=None, interval=INTERVAL, prefix="lfpk predict"):
        self._stream = stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            try:
                enabled = bool(isatty()) if isatty is not None else False
            except (OSError, ValueError):  # a closed or detached stream
                enabled = False
        self.enabled = bool(enabled)
        self.interval = float(interval)
        self.prefix = prefix
        self.start = None  # monotonic time of the first stage (s)
        self.stage = None
        self._last = 0.0

    @classmethod
    def of(cls, progress):
        """``progress`` as a :class:`Progress`: one given as is, else ``Progress(enabled=progress)``
        (None: on when standard error is a terminal; True / False: on / off)."""
        return progress if isinstance(progress, Progress) else cls(enabled=progress)

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stderr

    def elapsed(self) -> float:
        """Seconds since the first stage began (0 before)."""
        return 0.0 if self.start is None else time.monotonic() - self.start

    def _write(self, text):
        if not self.enabled:
            return
        self.stream.write(f"{self.prefix}: {text} ({self.elapsed():.1f} s)\n")
        self.stream.flush()

    def begin(self, stage):
        """A stage starts (e.g. ``reading spikes``): its first line."""
        now = time.monotonic()
        if self.start is None:
            self.start = now
        self.stage, self._last = stage, now
        self._write(f"{stage} ...")

    def update(self, fraction, detail=None):
        """The current stage is ``fraction`` (0..1) done; a line if ``interval`` seconds passed
        since the last one. ``detail``: text after the percentage (e.g. spikes read)."""
        if not self.enabled or self.stage is None:
            return
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        pct = min(max(float(fraction), 0.0), 1.0) * 100
        self._write(f"{self.stage}: {pct:.0f}%" + (f", {detail}" if detail else ""))

    def end(self, detail=None):
        """The current stage is finished: its last line (``done``, and ``detail``)."""
        if self.stage is None:
            return
        self._write(f"{self.stage}: done" + (f", {detail}" if detail else ""))
        self.stage = None
