"""A quick look at one prediction (``lfpk predict``) or ground-truth ``signals.nc`` file (``lfpk plot``).

The picture users otherwise write first, over a time window: the LFP as an image (depth x time)
and as traces across depth (mean removed, scale bar), the CSD image, the current dipole moment's
components and the EEG, each present in the file; signals of the total (black) and, for the
dipole's z component and the EEG, of each postsynaptic population (E blue, I red:
:mod:`lfpk.figures.style`). Every check of the input comes first (:func:`plot_checks`): a file of
another kind, none of the signals, a window outside the data are refused in one line naming the
file and what was expected.
"""

from __future__ import annotations

import numpy as np

from lfpk.base.errors import InputError
from lfpk.base.io import KINDS, guess_kind, read_dataset
from lfpk.figures.style import (
    GROUND_TRUTH_COLOR,
    STYLE,
    channel_spacing,
    depth_scalebar,
    depth_traces,
    population_color,
    pyplot,
    save,
)

#: signals drawn, in panel order: name -> (title, kind of panel)
PANELS = {"lfp": ("LFP", "image+traces"), "csd": ("CSD", "image"), "cdm": ("current dipole moment", "components"),
          "eeg": ("EEG", "sources"), "meg": ("MEG", "sources")}
#: length (ms) of the default window, from the file's transient or first sample
DEFAULT_WINDOW = 1000.0
#: kinds of files drawn
PLOTTED_KINDS = ("prediction", "signals")


def read_signals(path):
    """Read a prediction or a ground-truth ``signals.nc`` (refused otherwise, in one line)."""
    ds = read_dataset(path)
    kind = guess_kind(ds)
    if kind not in PLOTTED_KINDS:
        looks = f"it looks like {KINDS[kind][0].split(' (')[0]}" if kind else "it is no lfpk file of a known kind"
        raise InputError(f"{path}: expected a prediction (lfpk predict) or ground-truth signals.nc; {looks}")
    return ds


def plot_checks(ds, window=None, where="file"):
    """The signals to draw and the window (ms), after every check.

    Parameters
    ----------
    ds : xarray.Dataset
        A prediction or ``signals.nc``: variables ``(source, <channel>, time)``.
    window : (float, float), optional
        ``(start, stop)`` ms; default :data:`DEFAULT_WINDOW` ms from the file's ``transient``
        attribute (or its first sample), cut at its last sample.
    where : str
        The file's name in messages.

    Returns
    -------
    names : list of str
        Signals of :data:`PANELS` the file has, in panel order.
    window : (float, float)

    Raises
    ------
    ValueError
        No signal of :data:`PANELS`, a signal without ``source``/``time`` dims, a window that is
        not ``start < stop``, not inside the data, or holds fewer than two samples.
    """
    names = [n for n in PANELS if n in ds.data_vars]
    if not names:
        raise ValueError(f"{where}: none of the signals {', '.join(PANELS)}; expected a prediction or signals.nc "
                         f"(variables there: {', '.join(map(str, ds.data_vars)) or 'none'})")
    for n in names:
        dims = ds[n].dims
        if len(dims) != 3 or dims[0] != "source" or dims[-1] != "time":
            raise ValueError(f"{where}: variable {n!r} has dims {dims}; expected (source, <channel>, time)")
    t = np.asarray(ds["time"].values, dtype=float)
    if len(t) < 2:
        raise ValueError(f"{where}: {len(t)} time samples; expected at least two")
    if window is None:
        start = float(ds.attrs.get("transient", t[0]))
        start = start if t[0] <= start < t[-1] else float(t[0])
        window = (start, min(start + DEFAULT_WINDOW, float(t[-1])))
    start, stop = (float(w) for w in window)
    if not (np.isfinite(start) and np.isfinite(stop) and start < stop):
        raise ValueError(f"--window {start:g} {stop:g}: expected START < STOP (ms)")
    if start < t[0] or stop > t[-1]:
        raise ValueError(f"--window {start:g} {stop:g} ms is outside the data of {where} (time {t[0]:g}-{t[-1]:g} ms); "
                         "expected a window inside it")
    if int(((t >= start) & (t <= stop)).sum()) < 2:
        raise ValueError(f"--window {start:g} {stop:g} ms holds fewer than two samples of {where} (every "
                         f"{t[1] - t[0]:g} ms); expected a longer window")
    return names, (start, stop)


def _channels(ds, name):
    """Channel dimension of signal ``name`` and the contacts' depths (um) or indices."""
    cdim = ds[name].dims[1]
    for c, coord in ds.coords.items():
        if c != cdim and coord.dims == (cdim,) and str(c).endswith("_z"):
            return cdim, np.asarray(coord.values, dtype=float), "depth z (um)"
    return cdim, np.arange(ds.sizes[cdim], dtype=float), f"{cdim}"


def _image(fig, ax, t, values, z, label, units, title):
    vmax = float(np.abs(values).max()) or 1.0
    dz = channel_spacing(z, default=1.0)
    order = np.argsort(z)
    im = ax.imshow(values[order], aspect="auto", origin="lower", cmap="PRGn", vmin=-vmax, vmax=vmax,
                   interpolation="nearest", extent=(t[0], t[-1], z.min() - dz / 2, z.max() + dz / 2))
    cax = ax.inset_axes([1.01, 0.0, 0.015, 1.0])  # outside the axes: the time axes stay aligned
    fig.colorbar(im, cax=cax, label=f"{title} ({units})")
    ax.set_ylabel(label)
    ax.set_title(f"{title}, total")


def plot_prediction(ds, paths, window=None, where="file"):
    """Draw the quick look of ``ds`` (see the module docstring) into ``paths`` (PNG, PDF, SVG).

    Parameters
    ----------
    ds : xarray.Dataset
        A prediction or ``signals.nc``.
    paths : sequence of path-like
    window : (float, float), optional
        ``(start, stop)`` ms (:func:`plot_checks`).
    where : str
        The file's name in messages and the title.
    """
    names, (start, stop) = plot_checks(ds, window, where)
    t_all = np.asarray(ds["time"].values, dtype=float)
    sel = (t_all >= start) & (t_all <= stop)
    t = t_all[sel]
    sources = [str(s) for s in ds["source"].values]
    panels = [(n, kind) for n in names for kind in PANELS[n][1].split("+")]
    plt = pyplot()
    with plt.rc_context(STYLE):
        heights = [2.0 if kind in ("image", "traces") else 1.0 for _, kind in panels]
        fig, axes = plt.subplots(len(panels), 1, figsize=(7.5, 1.6 * sum(heights) + 0.8), sharex=True,
                                 squeeze=False, gridspec_kw={"height_ratios": heights})
        for ax, (name, kind) in zip(axes[:, 0], panels):
            var = ds[name]
            units = str(var.attrs.get("units", "1"))
            title = PANELS[name][0]
            values = var.sel(source="total").transpose(..., "time").values[:, sel].astype(float)
            if kind in ("image", "traces"):
                cdim, z, label = _channels(ds, name)
                if kind == "image":
                    _image(fig, ax, t, values, z, label, units, title)
                else:
                    v = values - values.mean(axis=1, keepdims=True)
                    dz = channel_spacing(z, default=1.0)
                    scale = float(np.abs(v).max()) or 1.0
                    depth_traces(ax, t, v, z, scale, dz, color=GROUND_TRUTH_COLOR, lw=0.6)
                    ax.set_ylim(z.min() - dz, z.max() + dz)
                    ax.set_ylabel(label)
                    ax.set_title(f"{title}, total (mean removed)")
                    depth_scalebar(ax, scale, units, dz)
            elif kind == "components":
                cdim = var.dims[1]
                for k, comp in enumerate(ds[cdim].values):
                    ls = ("-", "--", ":")[k % 3]
                    ax.plot(t, values[k], color=GROUND_TRUTH_COLOR, lw=0.7, ls=ls, label=f"total {comp}")
                if "z" in [str(c) for c in ds[cdim].values]:
                    for i, src in enumerate(s for s in sources if s != "total"):
                        pz = var.sel(source=src, **{cdim: "z"}).values[sel]
                        ax.plot(t, pz, color=population_color(src, i), lw=0.6, label=f"{src} z")
                ax.set_ylabel(f"{units}")
                ax.set_title(title)
                ax.legend(loc="upper right", ncol=6, frameon=False, fontsize=6)
            else:  # one line per source (first channel of each)
                ax.plot(t, values[0], color=GROUND_TRUTH_COLOR, lw=0.7, label="total")
                for i, src in enumerate(s for s in sources if s != "total"):
                    ax.plot(t, var.sel(source=src).transpose(..., "time").values[0, sel], lw=0.6,
                            color=population_color(src, i), label=src)
                ax.set_ylabel(units)
                ax.set_title(f"{title} ({var.dims[1]} {ds[var.dims[1]].values[0]})")
                ax.legend(loc="upper right", ncol=6, frameon=False, fontsize=6)
        axes[-1, 0].set_xlabel("time (ms)")
        axes[-1, 0].set_xlim(start, stop)
        fig.suptitle(f"{where}: {start:g}-{stop:g} ms", fontsize=8)
        fig.tight_layout(rect=(0, 0, 1, 0.985))
        save(fig, paths)
