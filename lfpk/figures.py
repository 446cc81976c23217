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
