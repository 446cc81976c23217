"""Figure of the kernels H_YX of one run and kernel variant (LFP across depth as image and traces,
dipole moment z), for ``figures/<run>/kernels_<variant>.{png,pdf}``."""

from __future__ import annotations

import numpy as np

from lfpk.figures.style import STYLE, format_quantity, pyplot, save


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
    plt = pyplot()
    posts = [str(y) for y in ds["post"].values]
    pres = [str(x) for x in ds["pre"].values]
    lags = ds["lag"].values
    sel = (lags >= lag_range[0]) & (lags <= lag_range[1])
    z = ds["channel_z"].values
    dz = np.abs(np.diff(z)).min() if len(z) > 1 else 1.0
    units = ds["lfp"].attrs.get("units", "mV")
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
                ax.set_title(f"H$_{{{post}{pre}}}$ ({pre}$\\to${post})\nLFP, scale {format_quantity(vmax, units)}"
                             if len(post) == len(pre) == 1 else f"{pre}$\\to${post}\nLFP, scale {format_quantity(vmax, units)}")
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
