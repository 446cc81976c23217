"""Depth profiles of a ground truth against a kernel prediction (the microcircuit validation's
``profiles.png``): how large the LFP and CSD are at each depth and which frequencies carry them.

One figure, 2 rows of 3 panels, every statistic over the analysed time (after the transient):

* A: the LFP's standard deviation against depth, total: ground truth (black) and prediction
  (colour); B: the same per population (ground truth solid, prediction dashed, population colours:
  :data:`lfpk.figures.style.POPULATION_COLORS`); C: the CSD's standard deviation, total;
* D, E: the LFP's power spectral density against depth and frequency (Welch, log10 colour scale
  shared by both): ground truth, prediction; F: their ratio, log2(prediction / ground truth), so
  the frequencies and depths where the kernels miss power (< 0) or add it (> 0) show at a glance.

The layer bounds (the config's ``layers``) are dashed grey lines in every panel, their names at the
right of C. These are the quantities Hagen et al. (2016, Cereb Cortex 26:4461) draw for the
microcircuit's hybrid LFP (the LFP and CSD variance against depth by population, the LFP spectrum
against depth); here the kernel prediction stands beside the hybrid replay of the same spikes.
"""

from __future__ import annotations

import numpy as np

from lfpk.base.io import read_dataset
from lfpk.figures.inputs import require
from lfpk.figures.microcircuit import FMAX, layer_lines, welch_psd
from lfpk.figures.style import (
    GROUND_TRUTH_COLOR,
    STYLE,
    channel_spacing,
    display_unit,
    population_color,
    pyplot,
    save,
    variant_color,
)

#: Welch segment length of the depth spectra (ms): 256 ms, Hagen et al. (2016)'s 256 samples at 1 kHz.
SEGMENT = 256.0
#: Colour limits of the log2 power ratio (panel F).
RATIO_LIMIT = 3.0


def _after(ds, transient):
    t = np.asarray(ds["time"].values, dtype=float)
    keep = t >= float(transient)
    if keep.sum() < 2:
        raise ValueError(f"transient: {transient:g} ms leaves fewer than 2 samples of the signals (0-{t[-1]:g} ms)")
    return keep, float(np.median(np.diff(t)))


def _depth(ds, name):
    var = ds[name]
    cdim = next(d for d in var.dims if d not in ("source", "time"))
    z = ds[f"{cdim}_z"] if f"{cdim}_z" in ds else ds["channel_z"]
    return var, cdim, np.asarray(z.values, dtype=float)


def _sd(ds, name, source, keep):
    var, cdim, _ = _depth(ds, name)
    return var.sel(source=source).transpose(cdim, "time").values[:, keep].astype(float).std(axis=1)


def depth_profiles(signals, prediction, paths, transient=0.0, layers=None, label="kernels"):
    """Draw the depth profiles (module docstring) of ``signals`` against ``prediction`` into ``paths``.

    Parameters
    ----------
    signals : xarray.Dataset
        Ground truth (``signals.nc``: ``lfp`` (mV) and ``csd`` (uA/mm3) by source, channel, time (ms)).
    prediction : xarray.Dataset
        Kernel prediction of the same probes (``lfpk.predict`` layout).
    paths : sequence of path-like
        PNG and/or PDF.
    transient : float
        ms left out of every statistic.
    layers : dict, optional
        Layer name -> (lower, upper) depth bound (um).
    label : str
        The prediction's name in the legend.

    Returns
    -------
    dict
        What is drawn: ``z`` (um), ``lfp_sd`` and ``csd_sd`` (ground truth, prediction) per channel
        (signal units), ``frequency`` (Hz), ``psd`` (ground truth, prediction; channel x frequency,
        units^2/Hz) and ``log2_ratio`` (channel x frequency).
    """
    require(signals, ("lfp", "csd", "channel_z"), "ground truth")
    require(prediction, ("lfp", "csd"), "prediction")
    layers = layers or {}
    kg, dtg = _after(signals, transient)
    kp, dtp = _after(prediction, transient)
    _, _, z = _depth(signals, "lfp")
    _, _, zp = _depth(prediction, "lfp")
    if len(zp) != len(z) or not np.allclose(zp, z):
        raise ValueError("prediction: its LFP channels are not at the ground truth's depths")
    _, _, zc = _depth(signals, "csd")
    dz = channel_spacing(z, default=100.0)
    lfp_units = str(signals["lfp"].attrs.get("units", "mV"))
    csd_units = str(signals["csd"].attrs.get("units", "uA/mm3"))
    gsrc = [str(s) for s in signals["source"].values]
    psrc = [str(s) for s in prediction["source"].values]
    pops = [s for s in gsrc if s != "total" and s in psrc]
    kcol = variant_color(0)
    plt = pyplot()
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, 3, figsize=(11.0, 7.5))
        # A: LFP SD, total
        sd_g, sd_p = _sd(signals, "lfp", "total", kg), _sd(prediction, "lfp", "total", kp)
        factor, shown = display_unit(float(max(sd_g.max(), sd_p.max())) or 1.0, lfp_units)
        ax = axes[0, 0]
        ax.plot(sd_g * factor, z, color=GROUND_TRUTH_COLOR, lw=1.4, marker=".", ms=3, label="ground truth")
        ax.plot(sd_p * factor, z, color=kcol, lw=1.2, marker=".", ms=3, label=label)
        ax.set_xlabel(f"SD ({shown})")
        ax.set_ylabel("depth z (um)")
        ax.set_title("A  LFP SD, total")
        ax.legend(loc="lower right", frameon=False)
        # B: LFP SD per population
        ax = axes[0, 1]
        sds = {p: (_sd(signals, "lfp", p, kg), _sd(prediction, "lfp", p, kp)) for p in pops}
        top = max([float(max(a.max(), b.max())) for a, b in sds.values()] + [0.0]) or 1.0
        factor_b, shown_b = display_unit(top, lfp_units)
        for i, p in enumerate(pops):
            a, b = sds[p]
            color = population_color(p, i)
            ax.plot(a * factor_b, z, color=color, lw=1.1, label=p)
            ax.plot(b * factor_b, z, color=color, lw=1.1, ls="--")
        ax.set_xlabel(f"SD ({shown_b})")
        ax.set_title("B  LFP SD by population\n(solid ground truth, dashed " + label + ")")
        if pops:
            ax.legend(loc="lower right", frameon=False, ncol=2, fontsize=6)
        # C: CSD SD, total
        ax = axes[0, 2]
        cg, cp = _sd(signals, "csd", "total", kg), _sd(prediction, "csd", "total", kp)
        factor_c, shown_c = display_unit(float(max(cg.max(), cp.max())) or 1.0, csd_units)
        ax.plot(cg * factor_c, zc, color=GROUND_TRUTH_COLOR, lw=1.4, marker=".", ms=3)
        ax.plot(cp * factor_c, zc, color=kcol, lw=1.2, marker=".", ms=3)
        ax.set_xlabel(f"SD ({shown_c})")
        ax.set_title("C  CSD SD, total")
        # D-F: LFP spectra against depth
        fg, pg = welch_psd(signals["lfp"].sel(source="total").transpose(..., "time").values[:, kg].astype(float),
                           dtg, SEGMENT)
        fp, pp = welch_psd(prediction["lfp"].sel(source="total").transpose(..., "time").values[:, kp].astype(float),
                           dtp, SEGMENT)
        n = min(len(fg), len(fp))
        if n == 0 or not np.allclose(fg[:n], fp[:n]):
            raise ValueError("prediction: its time step gives other spectral frequencies than the ground truth's")
        f, pg, pp = fg[:n], pg[:, :n], pp[:, :n]
        floor = np.finfo(float).tiny
        lg, lp = np.log10(np.maximum(pg, floor)), np.log10(np.maximum(pp, floor))
        vmax = float(max(lg.max(), lp.max()))
        vmin = vmax - 6.0
        order = np.argsort(z)
        extent = (f[0], f[-1], z.min() - dz / 2, z.max() + dz / 2)
        for ax, img, title in ((axes[1, 0], lg, "D  LFP PSD, ground truth"), (axes[1, 1], lp, f"E  LFP PSD, {label}")):
            im = ax.imshow(img[order], aspect="auto", origin="lower", extent=extent, cmap="viridis", vmin=vmin,
                           vmax=vmax, interpolation="nearest")
            cax = ax.inset_axes([1.02, 0.0, 0.03, 1.0])
            fig.colorbar(im, cax=cax)
            cax.set_title(f"log10\n{lfp_units}$^2$/Hz", fontsize=6, loc="left")
            ax.set_xlabel("frequency (Hz)")
            ax.set_title(title)
        axes[1, 0].set_ylabel("depth z (um)")
        ratio = np.log2(np.maximum(pp, floor) / np.maximum(pg, floor))
        ax = axes[1, 2]
        im = ax.imshow(ratio[order], aspect="auto", origin="lower", extent=extent, cmap="RdBu_r",
                       vmin=-RATIO_LIMIT, vmax=RATIO_LIMIT, interpolation="nearest")
        cax = ax.inset_axes([1.02, 0.0, 0.03, 1.0])
        fig.colorbar(im, cax=cax)
        cax.set_title("log2", fontsize=6, loc="left")
        ax.set_xlabel("frequency (Hz)")
        ax.set_title(f"F  LFP power, {label} / ground truth")
        for row in axes:
            for ax in row:
                ax.set_ylim(z.min() - dz, z.max() + dz)
                layer_lines(ax, layers, names=ax is axes[0, 2])
        for ax in axes[1]:
            ax.set_xlim(0.0, min(FMAX, float(f[-1])))
        fig.tight_layout()
        save(fig, paths)
    return {"z": z, "lfp_sd": (sd_g, sd_p), "csd_sd": (cg, cp), "frequency": f, "psd": (pg, pp), "log2_ratio": ratio}


def depth_profiles_figure(signals_path, prediction_path, paths, transient=0.0, layers=None, label="kernels"):
    """File-level wrapper of :func:`depth_profiles`."""
    return depth_profiles(read_dataset(signals_path), read_dataset(prediction_path), paths, transient=transient,
                          layers=layers, label=label)
