"""The figure style every figure of lfpk uses: rcParams, colours, the pyplot loader, saving, cells
and scale bars.

One place for the conventions the study's figures (:mod:`lfpk.figures.study`) and the paper's
(:mod:`lfpk.figures.paper`, Fig 14 included) share:

* fonts and rcParams: :data:`STYLE` (study figures), :data:`PAPER_STYLE` (paper figures);
* colours: populations (:data:`POPULATION_COLORS`, E blue / I red as in the published figures),
  ground truth, kernel variants, approximations, membrane and kernel forms, section groups;
* :func:`pyplot` (matplotlib with the Agg backend, imported when a figure is drawn), :func:`save`
  (PNG / PDF atomically, without timestamps), :func:`draw_cell`, :func:`style_axes`;
* scale bars (:func:`scalebar`): a 1-2-5 length in a unit that keeps the label short (``100 µA um``
  rather than ``100000 nA um``, ``50 µV`` rather than ``0.05 mV``), its label inside the axes;
  :func:`scalebar_problems` lists labels that a drawn figure shows outside their axes.

matplotlib is imported inside the functions that draw: it is heavy and only needed when a figure
is made (the package's commands that make no figure must not load it).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from lfpk.base.files import atomic_path

# ---------------------------------------------------------------------------------------------
# rcParams
# ---------------------------------------------------------------------------------------------

#: rcParams of the study's figures.
STYLE = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 150,
}
#: rcParams of the paper figures (smaller fonts for a 7.5-inch page), on top of :data:`STYLE`.
PAPER_STYLE = {**STYLE, "font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "legend.fontsize": 6,
               "xtick.labelsize": 6, "ytick.labelsize": 6, "lines.linewidth": 0.8, "figure.dpi": 150}
#: Font size (points) of scale-bar labels.
SCALEBAR_FONTSIZE = 6

# ---------------------------------------------------------------------------------------------
# Colours
# ---------------------------------------------------------------------------------------------

#: Colours of the populations in every figure (the published figures: E blue, I red); the
#: microcircuit's eight (Potjans & Diesmann 2014) as E blues and I reds, darker with depth.
POPULATION_COLORS = {"E": "tab:blue", "I": "tab:red",
                     "L23E": "#6baed6", "L23I": "#fb6a4a", "L4E": "#3182bd", "L4I": "#de2d26",
                     "L5E": "#08519c", "L5I": "#a50f15", "L6E": "#08306b", "L6I": "#67000d"}
#: Colour of the ground truth (multicompartment network) in every trace and spectrum.
GROUND_TRUTH_COLOR = "k"
#: Colours of the kernel variants of the study figures, in order.
VARIANT_COLORS = ("tab:orange", "tab:green", "tab:purple", "tab:cyan", "tab:brown", "tab:pink", "tab:olive")
#: Colours of the approximations of the paper figures (and of other populations), in order.
CYCLE = ("tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray")
#: Colours of the membrane forms in the single-cell figures (Figs 2, S1).
FORM_COLORS = {"active": "k", "quasi_linear": "tab:orange", "frozen": "tab:green", "passive": "tab:purple"}
#: Display names of the membrane forms.
FORM_NAMES = {"active": "active", "quasi_linear": "quasi-linear", "frozen": "frozen", "passive": "passive"}
#: Colours of the kernel forms (Figs 5, 11).
KERNEL_FORM_COLORS = {"quasi_linear": "tab:cyan", "frozen": "tab:olive", "passive": "tab:gray"}
#: Colours of the predictions from the ground truth's spikes and from the LIF network's (Fig 14).
GT_SPIKES_COLOR = "tab:orange"
LIF_COLOR = "tab:green"
#: Colours of the dipole components x, y, z.
COMPONENT_COLORS = ("tab:gray", "tab:olive", "tab:purple")
#: Colours of a cell's section groups (morphology figures).
SECTION_COLORS = {"soma": "k", "dend": "tab:blue", "apic": "tab:red", "axon": "tab:green", "other": "0.5"}


def population_color(name, index=0):
    """Colour of population ``name`` (:data:`POPULATION_COLORS`; others: ``CYCLE[index]``)."""
    return POPULATION_COLORS.get(str(name), CYCLE[index % len(CYCLE)])


def population_colors(names):
    """Colour of each population of ``names`` (dict; :func:`population_color` in order)."""
    return {n: population_color(n, i) for i, n in enumerate(names)}


def variant_color(index):
    """Colour of the ``index``-th kernel variant of a study figure."""
    return VARIANT_COLORS[index % len(VARIANT_COLORS)]


def apply_style(figures_cfg=None):
    """Apply the config's ``figures`` section (``dpi``) to :data:`STYLE` (in place)."""
    if figures_cfg and "dpi" in figures_cfg:
        STYLE["figure.dpi"] = int(figures_cfg["dpi"])
    return STYLE


# ---------------------------------------------------------------------------------------------
# matplotlib, saving, axes
# ---------------------------------------------------------------------------------------------


def pyplot():
    """``matplotlib.pyplot`` with the non-interactive Agg backend."""
    # matplotlib (here and in the drawing functions below) only when a figure is drawn: heavy to load
    import matplotlib

    matplotlib.use("Agg")
    # matplotlib only when a figure is drawn (heavy to load)
    import matplotlib.pyplot as plt

    return plt


def save(fig, paths):
    """Save ``fig`` to each path (suffix decides the format), atomically, without timestamps."""
    plt = pyplot()
    for path in paths:
        path = Path(path)
        fmt = path.suffix.lstrip(".")
        metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None} if fmt == "png" else None
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, metadata=metadata)
    plt.close(fig)


def style_axes(ax):
    """Hide the top and right spines (the study's ``remove_axis_junk``)."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def no_minor_labels(ax):
    """No tick labels at the minor ticks of the x axis (log axes)."""
    # matplotlib only when a figure is drawn (heavy to load)
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())


def grid_shape(n, max_columns=4):
    """Rows and columns of a grid of ``n`` panels (at most ``max_columns`` per row)."""
    cols = min(n, max_columns)
    return int(np.ceil(n / cols)), cols


# ---------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------


def draw_cell(ax, seg, x0=0.0, z0=0.0, width_scale=1.0, color=None, lw_min=0.4):
    """Draw a cell's segments projected on the x-z plane (one line per segment).

    Parameters
    ----------
    ax : matplotlib axes
    seg : dict or xarray.Dataset
        Segment table (``x``, ``z`` (n, 2) um, ``diam`` um, ``group``).
    x0, z0 : float
        Offset of the drawing (um).
    width_scale : float
        Line width (points) per um of diameter.
    color : str, optional
        One colour for every segment (default: by section group, :data:`SECTION_COLORS`).
    lw_min : float
        Thinnest line (points).
    """
    # matplotlib only when a figure is drawn (heavy to load)
    from matplotlib.collections import LineCollection

    x = np.asarray(seg["x"], dtype=float) + x0
    z = np.asarray(seg["z"], dtype=float) + z0
    diam = np.asarray(seg["diam"], dtype=float)
    groups = np.asarray(seg["group"] if "group" in seg else seg["section"]).astype(str)
    lines = np.stack([np.column_stack([x[:, 0], z[:, 0]]), np.column_stack([x[:, 1], z[:, 1]])], axis=1)
    colors = [color or SECTION_COLORS.get(g, "0.5") for g in groups]
    ax.add_collection(LineCollection(lines, colors=colors, linewidths=np.maximum(lw_min, diam * width_scale),
                                     capstyle="butt"))


# ---------------------------------------------------------------------------------------------
# Scale bars
# ---------------------------------------------------------------------------------------------

#: ``gid`` of every scale-bar label (how :func:`scalebar_labels` finds them).
SCALEBAR_GID = "lfpk-scalebar"
#: SI prefixes a scale-bar label may use, smallest first.
_PREFIXES = (("p", 1e-12), ("n", 1e-9), ("µ", 1e-6), ("m", 1e-3), ("", 1.0), ("k", 1e3))
_PREFIX_VALUE = {"p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3}
_UNIT = re.compile(r"^([pnuµmk]?)([VA])(?![a-zA-Z])(.*)$")


def nice_value(x, round_up=True):
    """A 1-2-5 value (1, 2 or 5 times a power of ten) near ``x`` > 0.

    Parameters
    ----------
    x : float
        Value (any unit).
    round_up : bool
        The smallest 1-2-5 value >= ``x`` (default), else the largest <= ``x``.

    Returns
    -------
    float
        The value (1.0 for ``x`` not positive or not finite).
    """
    if not np.isfinite(x) or x <= 0:
        return 1.0
    e = np.floor(np.log10(x))
    steps = [m * 10.0 ** k for k in (e - 1, e, e + 1) for m in (1.0, 2.0, 5.0)]
    if round_up:
        return float(min(s for s in steps if s >= x * (1 - 1e-12)))
    return float(max(s for s in steps if s <= x * (1 + 1e-12)))


def display_unit(value, units):
    """Factor and unit that show ``value`` (in ``units``) as a number from 1 to 999.

    Volts and amperes change their SI prefix (``0.05 mV`` -> 50 ``µV``; ``1e5 nA um`` -> 100
    ``µA um``; ``uA/mm3`` -> ``nA/mm3``); other units are kept.

    Parameters
    ----------
    value : float
        Magnitude in ``units``.
    units : str
        Unit of ``value`` (e.g. ``mV``, ``nA um``, ``uA/mm3``).

    Returns
    -------
    factor : float
        Multiply ``value`` by it to get the number shown.
    units : str
        The unit shown.
    """
    m = _UNIT.match(str(units).strip())
    if m is None or not np.isfinite(value) or value == 0:
        return 1.0, str(units)
    prefix, base, rest = m.groups()
    si = abs(value) * _PREFIX_VALUE[prefix]
    chosen = _PREFIXES[0]
    for p, f in _PREFIXES:
        if si >= f * (1 - 1e-9):
            chosen = (p, f)
    return _PREFIX_VALUE[prefix] / chosen[1], f"{chosen[0]}{base}{rest}"


def format_quantity(value, units):
    """``value`` (in ``units``) as a short label, e.g. ``50 µV``, ``100 µA um`` (3 significant digits)."""
    factor, shown = display_unit(value, units)
    number = f"{value * factor:.3g}"
    return f"{number} {shown}".strip()


def scalebar(ax, value, units, height=None, y0=None, x=0.985, color="k", lw=1.2, fontsize=SCALEBAR_FONTSIZE):
    """Draw a vertical scale bar near the right edge of ``ax``, labelled inside the axes.

    Parameters
    ----------
    ax : matplotlib axes
    value : float
        What the bar stands for, in ``units`` (pass a 1-2-5 value, :func:`nice_value`).
    units : str
        Unit of ``value``; the label uses :func:`format_quantity` (a prefix that keeps it short).
    height : float, optional
        Length of the bar in the axes' y data units (default ``value``: the data are in ``units``).
    y0 : float, optional
        Bottom of the bar (y data units; default 4 % of the y range above the bottom of the axes;
        set the y limits first).
    x : float
        Horizontal position of the bar (fraction of the axes width).
    color : str
    lw : float
        Line width (points).
    fontsize : float
        Label size (points).

    Returns
    -------
    matplotlib.text.Annotation
        The label (left of the bar, right-aligned, ``gid`` :data:`SCALEBAR_GID`).
    """
    # matplotlib only when a figure is drawn (heavy to load)
    from matplotlib.lines import Line2D
    from matplotlib.transforms import blended_transform_factory

    height = float(value if height is None else height)
    if y0 is None:
        lo, hi = sorted(ax.get_ylim())
        y0 = lo + 0.04 * (hi - lo)
    trans = blended_transform_factory(ax.transAxes, ax.transData)
    ax.add_artist(Line2D([x, x], [y0, y0 + height], transform=trans, color=color, lw=lw, solid_capstyle="butt",
                         clip_on=False))
    return ax.annotate(format_quantity(value, units), xy=(x, y0 + height / 2), xycoords=trans, xytext=(-2.5, 0),
                       textcoords="offset points", ha="right", va="center", fontsize=fontsize, color=color,
                       gid=SCALEBAR_GID, annotation_clip=False,
                       bbox={"boxstyle": "square,pad=0.1", "fc": "w", "ec": "none", "alpha": 0.7})


def scalebar_labels(fig):
    """Every scale-bar label of ``fig`` (texts drawn by :func:`scalebar`)."""
    return [t for ax in fig.axes for t in ax.texts if t.get_gid() == SCALEBAR_GID]


def scalebar_problems(fig, tolerance=0.5):
    """Scale-bar labels of ``fig`` that do not fit: outside their axes or the figure, or not a
    1-2-5 value from 1 to 999 (draws the figure, also a closed one, to measure the labels).

    Parameters
    ----------
    fig : matplotlib figure
    tolerance : float
        Pixels a label may stick out.

    Returns
    -------
    list of str
        One line per problem (empty: every label fits).
    """
    # matplotlib only when a figure is drawn (heavy to load)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)  # closed: no canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    problems = []
    for t in scalebar_labels(fig):
        text = t.get_text()
        box = t.get_window_extent(renderer)
        for name, outer in (("axes", t.axes.get_window_extent(renderer)), ("figure", fig.bbox)):
            if (box.x0 < outer.x0 - tolerance or box.x1 > outer.x1 + tolerance or box.y0 < outer.y0 - tolerance
                    or box.y1 > outer.y1 + tolerance):
                problems.append(f"scale bar {text!r} ({t.axes.get_title()!r}) reaches outside its {name}")
        number = text.split(" ")[0]
        try:
            v = float(number)
        except ValueError:
            problems.append(f"scale bar {text!r}: no number")
            continue
        if not (1 <= v < 1000 and np.isclose(nice_value(v), v)):
            problems.append(f"scale bar {text!r}: not a 1-2-5 value from 1 to 999")
    return problems


# ---------------------------------------------------------------------------------------------
# Morphology figure (lfpk.study.stages calls it here)
# ---------------------------------------------------------------------------------------------


def morphologies(tables, paths):
    """Draw every population's morphology (x-z projection, coloured by section group).

    Parameters
    ----------
    tables : dict
        Population name -> morphology segment table (xarray Dataset of the data contract).
    paths : sequence of path-like
        Output files (``.png``, ``.pdf``).
    """
    plt = pyplot()
    n = len(tables)
    rows, cols = grid_shape(n)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols + 0.6, 4.6 * rows), squeeze=False)
        zall = np.concatenate([ds["z"].values.ravel() for ds in tables.values()])
        for ax, (name, ds) in zip(axes.ravel(), tables.items()):
            draw_cell(ax, ds, width_scale=0.6)
            x = ds["x"].values
            span = max(60.0, float(np.abs(x).max()) * 1.1)
            ax.set_xlim(-span, span)
            ax.set_ylim(zall.min() - 50, zall.max() + 50)
            ax.set_aspect("equal", adjustable="datalim")
            groups = ds["group"].values.astype(str) if "group" in ds else ds["section"].values.astype(str)
            counts = {g: int((groups == g).sum()) for g in SECTION_COLORS if (groups == g).any()}
            src = ds.attrs.get("file")
            ax.set_title(f"{name}: {len(groups)} segments" + (f"\n{Path(src).name}" if src else "") + "\n"
                         + ", ".join(f"{k} {v}" for k, v in counts.items()))
            ax.set_xlabel("x (um)")
            ax.set_ylabel("z (um)")
        for ax in axes.ravel()[n:]:
            ax.axis("off")
        handles = [plt.Line2D([], [], color=c, lw=2) for c in SECTION_COLORS.values()]
        axes.ravel()[n - 1].legend(handles, list(SECTION_COLORS), loc="upper right", frameon=False)
        fig.suptitle("Morphologies (x-z projection, line width ~ diameter), soma centre at the origin")
        fig.tight_layout()
        save(fig, paths)


# ---------------------------------------------------------------------------------------------
# Traces across depth
# ---------------------------------------------------------------------------------------------


def channel_spacing(z, default=1.0):
    """Smallest distance between neighbouring contacts ``z`` (um; ``default`` for one contact)."""
    z = np.asarray(z, dtype=float)
    return float(np.abs(np.diff(z)).min()) if len(z) > 1 else float(default)


def depth_traces(ax, t, traces, z, scale, spacing, color="k", lw=0.6, ls="-", label=None, **kwargs):
    """Draw traces (channel, time) at their contacts' depths ``z``.

    Parameters
    ----------
    t : array (time,)
        Time (ms).
    traces : array (channel, time)
        Signal (any unit; mean removed by the caller if wanted).
    z : array (channel,)
        Depth of each contact (um).
    scale : float
        Signal value (unit of ``traces``) drawn as 0.9 of a channel spacing.
    spacing : float
        Channel spacing (um), :func:`channel_spacing`.
    label : str, optional
        Legend label (on the first channel only).
    """
    for k, zk in enumerate(z[: len(traces)]):
        ax.plot(t, zk + traces[k] / scale * spacing * 0.9, color=color, lw=lw, ls=ls,
                label=label if k == 0 else None, **kwargs)


def depth_scalebar(ax, scale, units, spacing, **kwargs):
    """Scale bar of traces drawn by :func:`depth_traces` with ``scale``: a 1-2-5 value at most
    ``scale`` (in ``units``), as long as the traces draw it (call after the y limits are set)."""
    value = nice_value(scale, round_up=False)
    return scalebar(ax, value, units, height=value / scale * spacing * 0.9, **kwargs)
