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


SECTION_COLORS = {"soma": "k", "dend": "tab:blue", "apic": "tab:red"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, paths):
    """Save ``fig`` to each path (suffix decides the format), atomically, without timestamps."""
    from lfpk.io import atomic_path

    plt = _pyplot()
    for path in paths:
        path = Path(path)
        fmt = path.suffix.lstrip(".")
        metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None} if fmt == "png" else None
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, metadata=metadata)
    plt.close(fig)


def morphologies(tables, paths):
    """Draw ball-and-stick morphologies side by side with their segment boundaries.

    Parameters
    ----------
    tables : dict
        Population name -> morphology segment table (xarray Dataset of the data contract).
    paths : sequence of path-like
        Output files (``.png``, ``.pdf``).
    """
    plt = _pyplot()
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(tables), figsize=(2.2 * len(tables) + 0.6, 4.5), sharey=True)
        axes = np.atleast_1d(axes)
        for ax, (name, ds) in zip(axes, tables.items()):
            z = ds["z"].values
            x = ds["x"].values
            diam = ds["diam"].values
            section = ds["section"].values.astype(str)
            for i in range(len(diam)):  # one patch per segment: a handful of segments, drawing only
                z0, z1 = sorted(z[i])
                xc = x[i].mean()
                ax.add_patch(
                    plt.Rectangle(
                        (xc - diam[i] / 2, z0), diam[i], z1 - z0,
                        facecolor=SECTION_COLORS.get(section[i], "0.5"), edgecolor="none", alpha=0.6,
                    )
                )
                for zb in (z0, z1):
                    ax.plot([xc - diam[i] / 2 - 6, xc + diam[i] / 2 + 6], [zb, zb], color="k", lw=0.4)
            width = max(60.0, float(diam.max()) * 2)
            ax.set_xlim(-width, width)
            ax.set_xticks([-width / 2, 0, width / 2])
            ax.set_aspect("auto")
            nseg = {s: int((section == s).sum()) for s in ("soma", "dend", "apic")}
            ax.set_title(f"{name}: {len(diam)} segments\n" + ", ".join(f"{k} {v}" for k, v in nseg.items()))
            ax.set_xlabel("x (um), widths not to scale")
        zall = np.concatenate([ds["z"].values.ravel() for ds in tables.values()])
        axes[0].set_ylim(zall.min() - 50, zall.max() + 50)
        axes[0].set_ylabel("z (um)")
        handles = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.6) for c in SECTION_COLORS.values()]
        axes[-1].legend(handles, list(SECTION_COLORS), loc="upper right", frameon=False)
        fig.suptitle("Ball-and-stick morphologies; ticks mark segment boundaries")
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
    pairs = [(str(y), str(x)) for y in ds["post"].values for x in ds["pre"].values]
    lags = ds["lag"].values
    sel = (lags >= lag_range[0]) & (lags <= lag_range[1])
    z = ds["channel_z"].values
    dz = np.abs(np.diff(z)).min() if len(z) > 1 else 1.0
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, len(pairs), figsize=(2.3 * len(pairs), 5.2),
                                 gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
        axes = np.asarray(axes).reshape(2, len(pairs))
        for j, (post, pre) in enumerate(pairs):
            lfp = ds["lfp"].sel(post=post, pre=pre).values[:, sel]
            vmax = np.abs(lfp).max() or 1.0
            ax = axes[0, j]
            ax.imshow(lfp, aspect="auto", cmap="PRGn", vmin=-vmax, vmax=vmax, interpolation="nearest",
                      extent=[lags[sel][0], lags[sel][-1], z.min() - dz / 2, z.max() + dz / 2],
                      origin="lower" if z[0] < z[-1] else "upper")
            for k, zk in enumerate(z):
                ax.plot(lags[sel], zk + lfp[k] / vmax * dz * 0.9, color="k", lw=0.6)
            ax.set_title(f"H$_{{{post}{pre}}}$ ({pre}$\\to${post})\nLFP, scale {vmax * 1e3:.3g} uV")
            if j == 0:
                ax.set_ylabel("depth z (um)")
            cdm = ds["cdm"].sel(post=post, pre=pre, component="z").values[sel]
            axes[1, j].plot(lags[sel], cdm, color="tab:purple", lw=0.8)
            axes[1, j].axhline(0, color="0.7", lw=0.5)
            axes[1, j].set_xlabel("lag (ms)")
            if j == 0:
                axes[1, j].set_ylabel("CDM z (nA um)")
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        save(fig, paths)
