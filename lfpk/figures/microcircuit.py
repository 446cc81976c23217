"""The microcircuit study's figure (issue 27): the signals the kernels predict from the spikes of
NEST's Potjans & Diesmann (2014) microcircuit, with the cortical layers drawn.

One figure, 4 rows of 3 panels:

* A: raster of the window (every population, E blues / I reds darker with depth:
  :data:`lfpk.figures.style.POPULATION_COLORS`); B: rates after the transient against NEST's
  full-scale rates; C: the current dipole moment's z component, total and per population;
* D-F: the LFP across depth: image of the window, traces (mean removed, scale bar), and the SD
  over the analysed time (after the transient) of the total and of each population's contribution;
* G-I: the same for the CSD;
* J: LFP power spectra of every channel (Welch, colour by depth); K: dipole-moment (z) spectra,
  total and per population; L: EEG over the window, total and per population.

"Population" here is the prediction's ``source``: the signal of the cells of a postsynaptic
population (the sum over its presynaptic populations, :func:`lfpk.engines.prediction.predict.predict`).
Layer boundaries (the config's ``layers``) are dashed grey lines in every depth panel, with the
layer names at the right of the SD panels.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from lfpk.base.io import read_dataset
from lfpk.figures.style import (
    GROUND_TRUTH_COLOR,
    STYLE,
    channel_spacing,
    depth_scalebar,
    depth_traces,
    display_unit,
    population_color,
    pyplot,
    save,
)

#: Length of the traces' window after the transient when none is given (ms).
WINDOW = 250.0
#: Welch segment length of the spectra (ms): 1 Hz resolution at 1 s.
SEGMENT = 1000.0
#: Largest dipole power, relative to the largest of any source, that counts as none (a population
#: whose kernels average randomly turned cells: their expected dipole is zero to rounding).
ZERO_DIPOLE = 1e-20
#: Highest frequency of the spectra (Hz).
FMAX = 500.0
#: Colour map of the depth images (diverging, zero white) and of the channels' spectra.
IMAGE_CMAP = "PRGn"
CHANNEL_CMAP = "viridis"


def layer_lines(ax, layers, names=False):
    """Dashed grey lines at the layers' bounds (um); with ``names`` their names at the right edge."""
    bounds = sorted({float(b) for lo_hi in layers.values() for b in lo_hi})
    for b in bounds:
        ax.axhline(b, color="0.6", lw=0.5, ls="--", zorder=0.5)
    if names:
        for name, (lo, hi) in layers.items():
            ax.text(1.0, 0.5 * (float(lo) + float(hi)), f" {name}", transform=ax.get_yaxis_transform(),
                    ha="left", va="center", fontsize=6, color="0.4", clip_on=False)


def _window(ds, window, transient):
    """The drawn time window (ms): ``window`` as (start, stop), as a length after the transient, or
    :data:`WINDOW` ms after it; cut to the prediction's time axis."""
    t = np.asarray(ds["time"].values, dtype=float)
    if window is None or np.isscalar(window):
        length = WINDOW if window is None else float(window)
        start = float(transient)
        stop = start + length
    else:
        start, stop = (float(w) for w in window)
    start, stop = max(start, float(t[0])), min(stop, float(t[-1]))
    if not stop > start:
        raise ValueError(f"window [{start:g}, {stop:g}] ms holds no samples of the prediction (0-{t[-1]:g} ms)")
    return start, stop


def _depth_panels(fig, axes, ds, name, sel, after, layers, title, letters):
    """Image, traces and SD-by-source panels of the depth-resolved signal ``name`` (lfp or csd)."""
    var = ds[name]
    units = str(var.attrs.get("units", "1"))
    cdim = var.dims[1]
    z = np.asarray(ds[f"{cdim}_z"].values if f"{cdim}_z" in ds.coords else ds["channel_z"].values, dtype=float)
    t = np.asarray(ds["time"].values, dtype=float)[sel]
    total = var.sel(source="total").transpose(cdim, "time").values.astype(float)
    win = total[:, sel]
    dz = channel_spacing(z, default=100.0)
    ax_im, ax_tr, ax_sd = axes
    vmax = float(np.abs(win - win.mean(axis=1, keepdims=True)).max()) or 1.0
    order = np.argsort(z)
    im = ax_im.imshow((win - win.mean(axis=1, keepdims=True))[order], aspect="auto", origin="lower", cmap=IMAGE_CMAP,
                      vmin=-vmax, vmax=vmax, interpolation="nearest",
                      extent=(t[0], t[-1], z.min() - dz / 2, z.max() + dz / 2))
    cax = ax_im.inset_axes([1.02, 0.0, 0.03, 1.0])
    fig.colorbar(im, cax=cax)
    cax.set_title(units, fontsize=6, loc="left")
    ax_im.set_ylabel("depth z (um)")
    ax_im.set_title(f"{letters[0]}  {title}, total (mean removed)")
    v = win - win.mean(axis=1, keepdims=True)
    scale = float(np.abs(v).max()) or 1.0
    depth_traces(ax_tr, t, v, z, scale, dz, color=GROUND_TRUTH_COLOR, lw=0.5)
    ax_tr.set_ylim(z.min() - dz, z.max() + dz)
    ax_tr.set_xlim(t[0], t[-1])
    ax_tr.set_title(f"{letters[1]}  {title} traces")
    depth_scalebar(ax_tr, scale, units, dz)
    sources = [str(s) for s in ds["source"].values]
    sd = {src: var.sel(source=src).transpose(cdim, "time").values[:, after].astype(float).std(axis=1) for src in sources}
    factor, shown = display_unit(float(max(v.max() for v in sd.values())) or 1.0, units)
    for i, src in enumerate(sources):
        color = GROUND_TRUTH_COLOR if src == "total" else population_color(src, i - 1)
        ax_sd.plot(sd[src] * factor, z, color=color, lw=1.2 if src == "total" else 0.8, label=src, marker=".", ms=2)
    ax_sd.set_ylim(z.min() - dz, z.max() + dz)
    ax_sd.set_xlabel(f"SD ({shown})")
    ax_sd.set_title(f"{letters[2]}  {title} SD by population")
    for ax in axes:
        layer_lines(ax, layers, names=ax is ax_sd)
    for ax in (ax_tr, ax_sd):
        ax.set_yticklabels([])


def welch_psd(x, dt, segment=SEGMENT):
    """Welch power spectral density of ``x`` (..., time) sampled every ``dt`` ms: (f in Hz, psd in
    units^2/Hz), Hann segments of ``segment`` ms overlapping by half, 0 < f <= :data:`FMAX`."""
    fs = 1000.0 / dt
    nperseg = int(min(x.shape[-1], round(segment / dt)))
    f, p = sps.welch(x, fs=fs, nperseg=nperseg, noverlap=nperseg // 2, window="hann", detrend="constant",
                     scaling="density", axis=-1)
    keep = (f > 0) & (f <= FMAX)
    return f[keep], p[..., keep]


def microcircuit_figure(prediction, spikes, rates, paths, layers=None, window=None):
    """Draw the microcircuit figure (module docstring) into ``paths`` (PNG, PDF).

    Parameters
    ----------
    prediction : xarray.Dataset
        The kernels' prediction from the microcircuit's spikes (``lfp``, ``csd`` with
        ``channel_z``; ``cdm``; optionally ``eeg``).
    spikes : xarray.Dataset
        ``spikes.nc`` of the NEST run (``spike_time`` ms, ``spike_unit``, ``unit_population``;
        attrs ``transient``, ``tstop`` ms).
    rates : xarray.Dataset
        ``rates.nc`` (``rate``, ``rate_nest_full_scale`` per population, 1/s).
    paths : sequence of path-like
    layers : dict, optional
        Layer name -> [z_bottom, z_top] (um), drawn in the depth panels.
    window : float or (float, float), optional
        Traces' window: a length after the transient or (start, stop) ms (default :data:`WINDOW`
        ms after the transient).
    """
    layers = dict(layers or {})
    transient = float(spikes.attrs.get("transient", 0.0))
    start, stop = _window(prediction, window, transient)
    t_all = np.asarray(prediction["time"].values, dtype=float)
    dt = float(t_all[1] - t_all[0])
    sel = (t_all >= start) & (t_all <= stop)
    after = t_all >= transient
    if after.sum() < 2:
        raise ValueError(f"the prediction ends ({t_all[-1]:g} ms) before the spikes' transient ({transient:g} ms)")
    pops = [str(p) for p in rates["population"].values]
    colors = {p: population_color(p, i) for i, p in enumerate(pops)}
    plt = pyplot()
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(4, 3, figsize=(11.0, 12.0), gridspec_kw={"hspace": 0.45, "wspace": 0.4})
        fig.subplots_adjust(left=0.07, right=0.95, top=0.94, bottom=0.05)
        # A: raster
        ax = axes[0, 0]
        st = np.asarray(spikes["spike_time"].values, dtype=float)
        su = np.asarray(spikes["spike_unit"].values)
        unit_pop = dict(zip(np.asarray(spikes["unit"].values).tolist(), np.asarray(spikes["unit_population"].values).astype(str)))
        keep = (st >= start) & (st <= stop)
        sp_pop = np.array([unit_pop[u] for u in su[keep].tolist()], dtype=str)
        for p in pops:
            m = sp_pop == p
            ax.plot(st[keep][m], su[keep][m], "|", ms=1.0, mew=0.4, color=colors[p], label=p)
        ax.set_xlim(start, stop)
        ax.invert_yaxis()  # L2/3 at the top, as the layers
        ax.set_xlabel("time (ms)")
        ax.set_ylabel("NEST node id")
        ax.set_title("A  spikes (NEST)")
        # B: rates
        ax = axes[0, 1]
        x = np.arange(len(pops))
        ax.bar(x, rates["rate"].values, color=[colors[p] for p in pops], label="this run")
        ax.plot(x, rates["rate_nest_full_scale"].values, "k_", ms=10, mew=1.5, label="NEST, full scale")
        ax.set_xticks(x, pops, rotation=45)
        ax.set_ylabel("rate (1/s)")
        ax.set_title(f"B  rates after {transient:g} ms")
        ax.legend(loc="upper left", frameon=False)
        # C: dipole z
        ax = axes[0, 2]
        cdm = prediction["cdm"]
        t = t_all[sel]
        for i, src in enumerate(str(s) for s in prediction["source"].values):
            y = cdm.sel(source=src, component="z").values[sel].astype(float)
            ax.plot(t, y - y.mean(), color=GROUND_TRUTH_COLOR if src == "total" else colors.get(src, population_color(src, i)),
                    lw=1.0 if src == "total" else 0.6, label=src)
        ax.set_xlim(start, stop)
        ax.set_xlabel("time (ms)")
        ax.set_ylabel(f"P_z ({cdm.attrs.get('units', '')}, mean removed)")
        ax.set_title("C  current dipole moment z (colours: every panel)")
        ax.legend(loc="upper right", ncol=3, frameon=False, fontsize=5)
        # D-I: LFP and CSD across depth
        _depth_panels(fig, axes[1], prediction, "lfp", sel, after, layers, "LFP", "DEF")
        for ax in axes[1, :2]:
            ax.set_xlabel("time (ms)")
        if "csd" in prediction:
            _depth_panels(fig, axes[2], prediction, "csd", sel, after, layers, "CSD", "GHI")
            for ax in axes[2, :2]:
                ax.set_xlabel("time (ms)")
        else:
            for ax in axes[2]:
                ax.axis("off")
        # J: LFP spectra per channel
        ax = axes[3, 0]
        lfp = prediction["lfp"].sel(source="total")
        z = np.asarray(prediction["channel_z"].values, dtype=float)
        f, p = welch_psd(lfp.transpose(..., "time").values[:, after].astype(float), dt)
        cmap = plt.get_cmap(CHANNEL_CMAP)
        for k, zk in enumerate(z):
            ax.loglog(f, p[k], color=cmap(k / max(1, len(z) - 1)), lw=0.6, label=f"{zk:g} um" if k in (0, len(z) - 1) else None)
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel(f"PSD ({lfp.attrs.get('units', '')}^2/Hz)")
        ax.set_title("J  LFP spectra per channel")
        ax.legend(loc="lower left", frameon=False)
        # K: dipole spectra
        ax = axes[3, 1]
        spectra = {src: welch_psd(cdm.sel(source=src, component="z").values[after].astype(float), dt)
                   for src in (str(s) for s in prediction["source"].values)}
        # a population whose expected dipole vanishes (cells turned at random about x and z: the
        # kernel averages the orientations) has rounding-level power only; name it, do not plot it
        floor = ZERO_DIPOLE * max(float(np.max(p)) for _, p in spectra.values())
        silent = [src for src, (_, p) in spectra.items() if src != "total" and float(np.max(p)) <= floor]
        for i, (src, (f, p)) in enumerate(spectra.items()):
            if src in silent:
                continue
            ax.loglog(f, p, color=GROUND_TRUTH_COLOR if src == "total" else colors.get(src, population_color(src, i)),
                      lw=1.0 if src == "total" else 0.6, label=src)
        if silent:
            ax.text(0.98, 0.98, "no z dipole (turned at random):\n" + ", ".join(silent), transform=ax.transAxes,
                    ha="right", va="top", fontsize=5)
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel(f"PSD (({cdm.attrs.get('units', '')})^2/Hz)")
        ax.set_title("K  dipole moment z spectra")
        ax.legend(loc="lower left", ncol=3, frameon=False, fontsize=5)
        # L: EEG
        ax = axes[3, 2]
        if "eeg" in prediction:
            eeg = prediction["eeg"]
            edim = eeg.dims[1]
            ys = {src: eeg.sel(source=src).transpose(edim, "time").values[0, sel].astype(float)
                  for src in (str(s) for s in prediction["source"].values)}
            ys = {src: y - y.mean() for src, y in ys.items()}
            factor, shown = display_unit(float(max(np.abs(y).max() for y in ys.values())) or 1.0,
                                         str(eeg.attrs.get("units", "")))
            for i, (src, y) in enumerate(ys.items()):
                ax.plot(t, y * factor, color=GROUND_TRUTH_COLOR if src == "total" else colors.get(src, population_color(src, i)),
                        lw=1.0 if src == "total" else 0.6, label=src)
            ax.set_xlim(start, stop)
            ax.set_xlabel("time (ms)")
            ax.set_ylabel(f"EEG ({shown}, mean removed)")
            ax.set_title("L  EEG (four-sphere head)")
        else:
            ax.axis("off")
        fig.suptitle(f"{prediction.attrs.get('spike_source', 'microcircuit')}: kernel prediction; traces "
                     f"{start:g}-{stop:g} ms, SD and spectra after {transient:g} ms", fontsize=8)
        save(fig, paths)


def microcircuit_figure_files(prediction, spikes, rates, paths, layers=None, window=None):
    """:func:`microcircuit_figure` of the files ``prediction``, ``spikes``, ``rates`` (paths)."""
    microcircuit_figure(read_dataset(prediction), read_dataset(spikes), read_dataset(rates), paths,
                        layers=layers, window=window)
