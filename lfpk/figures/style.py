"""Figures of the study (matplotlib, Agg backend, PNG and PDF with stable metadata)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

STYLE = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 150,
}


def apply_style(figures_cfg=None):
    """Apply the config's ``figures`` section (``dpi``) to :data:`STYLE` (in place)."""
    if figures_cfg and "dpi" in figures_cfg:
        STYLE["figure.dpi"] = int(figures_cfg["dpi"])
    return STYLE


SECTION_COLORS = {"soma": "k", "dend": "tab:blue", "apic": "tab:red", "axon": "tab:green", "other": "0.5"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, paths):
    """Save ``fig`` to each path (suffix decides the format), atomically, without timestamps."""
    from lfpk.base.io import atomic_path

    plt = _pyplot()
    for path in paths:
        path = Path(path)
        fmt = path.suffix.lstrip(".")
        metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None} if fmt == "png" else None
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, metadata=metadata)
    plt.close(fig)


def grid_shape(n, max_columns=4):
    """Rows and columns of a grid of ``n`` panels (at most ``max_columns`` per row)."""
    cols = min(n, max_columns)
    return int(np.ceil(n / cols)), cols


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
    """
    from matplotlib.collections import LineCollection

    x = np.asarray(seg["x"], dtype=float) + x0
    z = np.asarray(seg["z"], dtype=float) + z0
    diam = np.asarray(seg["diam"], dtype=float)
    groups = np.asarray(seg["group"] if "group" in seg else seg["section"]).astype(str)
    lines = np.stack([np.column_stack([x[:, 0], z[:, 0]]), np.column_stack([x[:, 1], z[:, 1]])], axis=1)
    colors = [color or SECTION_COLORS.get(g, "0.5") for g in groups]
    ax.add_collection(LineCollection(lines, colors=colors, linewidths=np.maximum(lw_min, diam * width_scale),
                                     capstyle="butt"))


def morphologies(tables, paths):
    """Draw every population's morphology (x-z projection, coloured by section group).

    Parameters
    ----------
    tables : dict
        Population name -> morphology segment table (xarray Dataset of the data contract).
    paths : sequence of path-like
        Output files (``.png``, ``.pdf``).
    """
    plt = _pyplot()
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


def kernels(ds, paths, title=None, lag_range=(-5.0, 40.0)):
    """Kernels H_YX of every connection: LFP across depth (image + traces) and dipole moment (z).

    Parameters
    ----------
    ds : xarray.Dataset
        Gathered kernels (dims ``post``, ``pre``, ``channel``, ``lag``; ``lfp`` mV, ``cdm`` nA um).
    paths : sequence of path-like
        Output files.
    title : str, optional
    lag_range : (float, float)
        Lags shown (ms).
    """
    plt = _pyplot()
    posts = [str(y) for y in ds["post"].values]
    pres = [str(x) for x in ds["pre"].values]
    lags = ds["lag"].values
    sel = (lags >= lag_range[0]) & (lags <= lag_range[1])
    z = ds["channel_z"].values
    dz = np.abs(np.diff(z)).min() if len(z) > 1 else 1.0
    with plt.rc_context(STYLE):
        # rows: one pair of rows (LFP, CDM) per postsynaptic population; columns: presynaptic
        fig = plt.figure(figsize=(2.6 * len(pres) + 0.8, 3.6 * len(posts) + 0.6))
        outer = fig.add_gridspec(len(posts), len(pres), hspace=0.5, wspace=0.3)
        for i, post in enumerate(posts):
            for j, pre in enumerate(pres):
                inner = outer[i, j].subgridspec(2, 1, height_ratios=[3, 1], hspace=0.12)
                ax = fig.add_subplot(inner[0])
                ax_c = fig.add_subplot(inner[1], sharex=ax)
                lfp = ds["lfp"].sel(post=post, pre=pre).values[:, sel]
                if "K" in ds and not np.isfinite(float(ds["K"].sel(post=post, pre=pre))):
                    ax.set_title(f"{pre}$\\to${post}: no connection")
                    ax.axis("off")
                    ax_c.axis("off")
                    continue
                vmax = np.abs(lfp).max() or 1.0
                ax.imshow(lfp, aspect="auto", cmap="PRGn", vmin=-vmax, vmax=vmax, interpolation="nearest",
                          extent=[lags[sel][0], lags[sel][-1], z.min() - dz / 2, z.max() + dz / 2],
                          origin="lower" if z[0] < z[-1] else "upper")
                for k, zk in enumerate(z):
                    ax.plot(lags[sel], zk + lfp[k] / vmax * dz * 0.9, color="k", lw=0.6)
                ax.set_title(f"H$_{{{post}{pre}}}$ ({pre}$\\to${post})\nLFP, scale {vmax * 1e3:.3g} uV"
                             if len(post) == len(pre) == 1 else f"{pre}$\\to${post}\nLFP, scale {vmax * 1e3:.3g} uV")
                plt.setp(ax.get_xticklabels(), visible=False)
                if j == 0:
                    ax.set_ylabel("depth z (um)")
                cdm = ds["cdm"].sel(post=post, pre=pre, component="z").values[sel]
                ax_c.plot(lags[sel], cdm, color="tab:purple", lw=0.8)
                ax_c.axhline(0, color="0.7", lw=0.5)
                if i == len(posts) - 1:
                    ax_c.set_xlabel("lag (ms)")
                if j == 0:
                    ax_c.set_ylabel("CDM z\n(nA um)")
        if title:
            fig.suptitle(title)
        fig.subplots_adjust(left=0.6 / fig.get_figwidth() + 0.05, right=0.98, bottom=0.5 / fig.get_figheight(),
                            top=1.0 - (1.0 if title else 0.5) / fig.get_figheight())
        save(fig, paths)
