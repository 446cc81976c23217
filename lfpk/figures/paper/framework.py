"""The paper-figure framework: one figure of Hagen et al. (2022) per function, labelled panels,
stacked-trace drawing, and files that say what they contain.

A figure is a :class:`PaperFigure`: a matplotlib figure in the study's style (:data:`STYLE`,
:data:`WIDTH` inches wide) whose panels are registered with a letter (:meth:`PaperFigure.panel`).
:meth:`PaperFigure.save` writes ``FigNN.png`` / ``FigNN.pdf`` atomically without timestamps and
records the panels -- letter, title, axis labels of every registered axes -- in the files'
metadata (PNG text chunk ``lfpk-panels``, PDF ``Keywords``), so tests and readers can check a
figure's content without looking at pixels (:func:`read_panels`).

Drawing helpers shared by the figures: :func:`stacked_traces` (channels stacked with a common
scale bar, the study's ``draw_lineplot``), :func:`window_indices`; colours, rcParams, scale bars
and :func:`~lfpk.figures.style.style_axes` come from :mod:`lfpk.figures.style` (re-exported here).
PIL is imported only when a figure file is read back (:func:`read_panels`). Figures of other models (the Hay-cell model's Figs 10-13, S2, S3) build on
the same pieces.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from pathlib import Path

import numpy as np

from lfpk.base.files import atomic_path
from lfpk.figures.style import (
    CYCLE,
    FORM_COLORS,
    FORM_NAMES,
    GROUND_TRUTH_COLOR,
    PAPER_STYLE,
    POPULATION_COLORS,
    nice_value,
    population_colors,
    pyplot,
    style_axes,
)
from lfpk.figures.style import scalebar as draw_scalebar

#: Figure width (inches): a journal's full text width.
WIDTH = 7.5
#: The paper figures' rcParams (:data:`lfpk.figures.style.PAPER_STYLE`).
STYLE = PAPER_STYLE
#: Colour of the ground truth (:data:`lfpk.figures.style.GROUND_TRUTH_COLOR`).
GROUND_TRUTH = GROUND_TRUTH_COLOR
#: Metadata key of the panel list.
PANELS_KEY = "lfpk-panels"


_FOOTNOTE = contextvars.ContextVar("lfpk_paper_footnote", default="")


@contextlib.contextmanager
def footnote(text):
    """Figures made inside this context carry ``text`` (e.g. the cell model's citation) at their
    bottom edge and in their metadata (``footnote``)."""
    token = _FOOTNOTE.set(str(text or ""))
    try:
        yield
    finally:
        _FOOTNOTE.reset(token)


class PaperFigure:
    """One figure of the paper.

    Parameters
    ----------
    name : str
        ``Fig02``, ``FigS1``, ...
    title : str
        What the figure shows (figure metadata; not drawn).
    height : float
        Height (inches); the width is :data:`WIDTH` unless ``width`` is given.
    """

    def __init__(self, name, title, height, width=WIDTH):
        self.plt = pyplot()
        self.name = str(name)
        self.title = str(title)
        self._rc = self.plt.rc_context(STYLE)
        self._rc.__enter__()
        self.fig = self.plt.figure(figsize=(width, height))
        self.panels = []
        self.footnote = _FOOTNOTE.get()
        if self.footnote:
            self.fig.text(0.005, 0.002, self.footnote, fontsize=5, color="0.35", ha="left", va="bottom")

    def panel(self, ax, letter, description="", dx=-0.06, dy=0.02):
        """Register ``ax`` as panel ``letter`` and draw the letter at its top-left corner.

        ``dx``, ``dy`` (figure fraction) shift the letter from the axes' top-left corner.
        """
        pos = ax.get_position()
        self.fig.text(pos.x0 + dx, pos.y1 + dy, letter, fontsize=10, fontweight="bold", ha="left", va="bottom")
        self.panels.append((str(letter), ax, str(description)))
        return ax

    def describe(self):
        """Registered panels: letter, description, title and axis labels (in registration order)."""
        out = []
        for letter, ax, desc in self.panels:
            out.append({"letter": letter, "description": desc, "title": ax.get_title(),
                        "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel()})
        return out

    def save(self, paths):
        """Write the figure to ``paths`` (format by suffix) with the panel list in the metadata."""
        meta = {"figure": self.name, "title": self.title, "panels": self.describe()}
        if self.footnote:
            meta["footnote"] = self.footnote
        panels = json.dumps(meta, sort_keys=True)
        try:
            for path in paths:
                path = Path(path)
                fmt = path.suffix.lstrip(".")
                if fmt == "png":
                    meta = {"Software": None, PANELS_KEY: panels, "Title": f"{self.name}: {self.title}"}
                elif fmt == "pdf":
                    meta = {"CreationDate": None, "Title": f"{self.name}: {self.title}", "Keywords": panels}
                else:
                    meta = None
                with atomic_path(path) as tmp:
                    self.fig.savefig(tmp, format=fmt, metadata=meta)
        finally:
            self.close()
        return self.describe()

    def close(self):
        if self.fig is not None:
            self.plt.close(self.fig)
            self.fig = None
            self._rc.__exit__(None, None, None)


def read_panels(path):
    """The panel list a paper figure's PNG file records: ``{figure, title, panels}``."""
    # Pillow (matplotlib's dependency) only when a figure file is read back
    from PIL import Image

    with Image.open(path) as im:
        text = im.text.get(PANELS_KEY)
    if text is None:
        raise ValueError(f"{path}: no panel list ({PANELS_KEY}) in the PNG metadata")
    return json.loads(text)


def window_indices(t, t0, t1):
    """Indices of samples with ``t0 <= t <= t1``."""
    t = np.asarray(t, dtype=float)
    return np.flatnonzero((t >= t0 - 1e-9) & (t <= t1 + 1e-9))


def nice_scale(x):
    """1, 2 or 5 times a power of ten, at least ``x`` (> 0); :func:`lfpk.figures.style.nice_value`."""
    return nice_value(x)


def stacked_traces(ax, t, data, scale=None, color="k", label=None, ylabels=None, units="", scalebar=True,
                   lw=None, zorder=2):
    """Draw channels stacked from top (first row) to bottom, each scaled by ``scale``.

    Parameters
    ----------
    t : array (time,)
    data : array (channel, time)
    scale : float, optional
        Value spanning one channel spacing (default: a 1-2-5 value >= the largest peak-to-peak of a
        channel after removing its mean, so traces do not overlap much).
    ylabels : list of str, optional
        Tick label of each channel.
    units : str
        Units of ``data`` (the scale bar's label picks a prefix that keeps it short).
    scalebar : bool
        Draw a scale bar of ``scale`` (one channel spacing) beside the last channel, inside the axes
        (:func:`lfpk.figures.style.scalebar`).

    Returns
    -------
    float
        The scale used (pass it to the next call for a common scale).
    """
    data = np.atleast_2d(np.asarray(data, dtype=float))
    n = data.shape[0]
    centred = data - data.mean(axis=1, keepdims=True)
    if scale is None:
        scale = nice_scale(float(np.nanmax(np.ptp(centred, axis=1))) if centred.size else 1.0)
    offsets = -np.arange(n)
    for i in range(n):
        ax.plot(t, centred[i] / scale + offsets[i], color=color, lw=lw, zorder=zorder,
                label=label if i == 0 else None)
    ax.set_yticks(offsets)
    ax.set_yticklabels(ylabels if ylabels is not None else [f"ch.{i + 1}" for i in range(n)])
    ax.set_ylim(offsets[-1] - 0.8, 0.8)
    if scalebar:
        draw_scalebar(ax, scale, units, height=1.0, y0=-n + 0.5)
    return scale


__all__ = ["CYCLE", "FORM_COLORS", "FORM_NAMES", "GROUND_TRUTH", "PANELS_KEY", "POPULATION_COLORS", "STYLE", "WIDTH",
           "PaperFigure", "footnote", "nice_scale", "population_colors", "read_panels", "stacked_traces", "style_axes",
           "window_indices"]
