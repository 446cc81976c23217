"""Checks shared by the tests of the figures: paper figures' files (Model A: test_paper_figures.py,
Model B: test_hay2011_study.py) and the one style of every figure (test_figure_style.py): figures
captured when saved, population colours of rasters, scale bars inside their axes."""

import matplotlib.figure
import numpy as np
from matplotlib.colors import to_hex

from lfpk.figures import style
from lfpk.figures.paper import read_panels


def checked_paper_figure(png, name, want=None):
    """Metadata of paper figure ``name`` (``png``, its PDF beside it) after the common checks.

    The PDF is a PDF, the PNG is not blank, the metadata names the figure, and, with ``want``
    (``{letter: (xlabel, ylabel)}``, ``''`` for no check), the panels are exactly ``want``'s
    letters in order with those axis labels.
    """
    import matplotlib.image

    assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    assert matplotlib.image.imread(png)[..., :3].std() > 0.05, f"{png} looks blank"
    meta = read_panels(png)
    assert meta["figure"] == name
    if want is not None:
        got = {p["letter"]: p for p in meta["panels"]}
        assert list(got) == list(want), (name, list(got))
        for letter, (xlabel, ylabel) in want.items():
            if xlabel:
                assert got[letter]["xlabel"] == xlabel, (name, letter, got[letter])
            if ylabel:
                assert got[letter]["ylabel"] == ylabel, (name, letter, got[letter])
    return meta


def capture_figures(monkeypatch):
    """A list that collects every matplotlib figure saved while the test runs (each once, in order;
    closed figures can still be measured by :func:`lfpk.figures.style.scalebar_problems`)."""
    figures = []
    original = matplotlib.figure.Figure.savefig

    def savefig(fig, *args, **kwargs):
        if not any(f is fig for f in figures):
            figures.append(fig)
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    return figures


def raster_colors(fig, population_of):
    """Population -> set of colours of the raster markers ('.' or '|', no line) of ``fig``; a
    marker line counts for a population when all its rows (y) belong to it (``population_of``)."""
    out = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_marker() not in (".", "|") or line.get_linestyle() != "None" or not len(line.get_ydata()):
                continue
            pops = {population_of[int(round(u))] for u in np.asarray(line.get_ydata(), dtype=float)}
            if len(pops) != 1:
                continue
            color = line.get_markeredgecolor() if line.get_marker() == "|" else line.get_markerfacecolor()
            out.setdefault(pops.pop(), set()).add(to_hex(color))
    return out


def assert_population_colors(fig, population_of, name):
    """The raster markers of E and I in ``fig`` have the style's population colours (E blue, I red)."""
    e_color, i_color = to_hex(style.POPULATION_COLORS["E"]), to_hex(style.POPULATION_COLORS["I"])
    colors = raster_colors(fig, population_of)
    assert colors.get("E") == {e_color}, (name, colors)
    assert colors.get("I") == {i_color}, (name, colors)


def assert_scalebars_fit(fig, name, at_least=1):
    """``fig`` has at least ``at_least`` scale bars, each a 1-2-5 value with its label inside its axes."""
    labels = style.scalebar_labels(fig)
    assert len(labels) >= at_least, (name, [t.get_text() for t in labels])
    problems = style.scalebar_problems(fig)
    assert not problems, (name, problems)
