"""Fig 14 of Hagen et al. (2022): the fitted LIF network and its kernel predictions made while NEST
runs, against the multicompartment ground truth.

Top block as the paper's figure: A the LIF network's spikes (raster, rates in the legend) and
population spike counts per time step; B-E the contribution ``nu_X * H_YX`` of every connection
to the LFP (every channel) and to the current dipole moment (z) predicted online; F their sum, with
the offline prediction of the same spikes overlaid (dashed; it equals the online one). Bottom row
(comparison with the ground truth, which the paper shows in its text): G the dipole moment's power
spectrum of the ground truth, of the ground truth's own spikes through the same kernels and of
the LIF network's; H the LFP's standard deviation across depth for the same three; I the rate
spectra of the ground truth and the LIF network; J the headline numbers (rates, R^2 and r_STD).
The LIF network is another realisation of the activity than the ground truth, so its prediction is
compared with the ground truth through statistics (spectra, amplitudes), not sample by sample: its
R^2 is expected near 0, its r_STD and spectra near the ground truth's.
"""

from __future__ import annotations

import numpy as np

from lfpk.base.io import read_dataset
from lfpk.figures.inputs import require
from lfpk.figures.style import (
    GROUND_TRUTH_COLOR,
    GT_SPIKES_COLOR,
    LIF_COLOR,
    STYLE,
    channel_spacing,
    depth_scalebar,
    depth_traces,
    population_color,
    pyplot,
    save,
)


def _metric(comparison, var, signal, band="raw"):
    """Channel median of ``var`` (r2 / r_std) of ``signal`` (total source)."""
    c = comparison[var].sel(source="total", signal=signal, band=band).isel(approximation=0)
    n = int(comparison["n_channels"].sel(signal=signal))
    v = np.asarray(c.values[:n], dtype=float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else np.nan


def _check_inputs(spikes, online, offline, signals, comparison_lif, comparison_gt, rates):
    """Raise ``ValueError`` naming the first variable an input lacks."""
    require(spikes, ("spike_time", "spike_unit", "unit_population"), "LIF spikes")
    for name, ds in (("online prediction", online), ("offline prediction", offline)):
        require(ds, ("lfp", "cdm", "lfp_contribution", "cdm_contribution"), name)
    require(signals, ("lfp", "cdm", "channel_z"), "ground truth")
    for name, ds in (("comparison (LIF)", comparison_lif), ("comparison (ground-truth spikes)", comparison_gt)):
        require(ds, ("r2", "r_std", "psd_ground_truth", "psd_prediction"), name)
    require(rates, ("rate_ground_truth", "rate_lif", "spectrum_ground_truth", "spectrum_lif"), "rates")


def _activity_panels(ax, ax_counts, spikes, online, rates, pops, t0, t1, sel):
    """A: the LIF network's raster (rates in the legend) and its population spike counts per step."""
    tp = np.asarray(online["time"].values, dtype=float)
    st = np.asarray(spikes["spike_time"].values, dtype=float)
    su = np.asarray(spikes["spike_unit"].values)
    unit_pop = dict(zip(np.asarray(spikes["unit"].values).tolist(), spikes["unit_population"].values.astype(str)))
    sp_pop = np.array([unit_pop[int(u)] for u in su]) if len(su) else np.zeros(0, dtype=str)
    in_win = (st >= t0) & (st <= t1)
    for i, p in enumerate(pops):
        k = in_win & (sp_pop == p)
        r = float(rates["rate_lif"].sel(population=p))
        ax.plot(st[k], su[k], ".", ms=1.5, mec="none", color=population_color(p, i),
                label=f"{p}: {r:.2f} /s (ground truth {float(rates['rate_ground_truth'].sel(population=p)):.2f})")
    ax.set_xlim(t0, t1)
    ax.set_ylabel("neuron (NEST node id)")
    ax.set_title("A  LIF network", loc="left")
    ax.legend(loc="upper right", markerscale=4, fontsize=6, frameon=True)
    ax.set_xticklabels([])
    counts = online["population_count"]
    for i, p in enumerate(pops):
        ax_counts.step(tp[sel], counts.sel(population=p).values[sel], where="post", color=population_color(p, i),
                       lw=0.6)
    ax_counts.set_xlim(t0, t1)
    ax_counts.set_xlabel("time (ms)")
    ax_counts.set_ylabel(f"spikes / {float(online.attrs['dt']):g} ms")


def _contribution_panels(fig, gs, online, z, t0, t1, sel):
    """B-E: the LFP (each channel at its depth, own scale bar) and dipole z contribution
    ``nu_X * H_YX`` of the first four connections, mean removed."""
    tp = np.asarray(online["time"].values, dtype=float)
    lfp_c = online["lfp_contribution"]
    cdm_c = online["cdm_contribution"].sel(component="z")
    pairs = [(str(y), str(x)) for x in online["pre"].values for y in online["post"].values]
    units = online["lfp"].attrs.get("units", "mV")
    dz = channel_spacing(z)
    for j, (y, x) in enumerate(pairs[:4]):
        ax = fig.add_subplot(gs[0:6, 1 + j])
        v = lfp_c.sel(post=y, pre=x).transpose("channel", "time").values[:, sel]
        v = v - v.mean(axis=1, keepdims=True)
        s_j = max(np.abs(v).max(), 1e-30)
        depth_traces(ax, tp[sel], v, z, s_j, dz, color="k")
        ax.set_title(f"{'BCDE'[j]}  $\\nu_{{{x}}} \\ast H_{{{y}{x}}}$", loc="left")
        ax.set_xlim(t0, t1)
        ax.set_xticklabels([])
        if j == 0:
            ax.set_ylabel("LFP: depth z (um)")
        depth_scalebar(ax, s_j, units, dz)
        ax = fig.add_subplot(gs[6:8, 1 + j])
        c = cdm_c.sel(post=y, pre=x).values[sel]
        ax.plot(tp[sel], c - c.mean(), color="k", lw=0.6)
        ax.set_xlim(t0, t1)
        ax.set_xlabel("time (ms)")
        if j == 0:
            ax.set_ylabel("$P_z$ (nA um)")


def _sum_panels(ax, ax_cdm, online, offline, z, t0, t1, sel):
    """F: the summed LFP and dipole z predicted online, the offline prediction overlaid (dashed)."""
    tp = np.asarray(online["time"].values, dtype=float)
    units = online["lfp"].attrs.get("units", "mV")
    dz = channel_spacing(z)
    total = online["lfp"].sel(source="total").transpose("channel", "time").values[:, sel]
    scale = max(np.abs(total - total.mean(axis=1, keepdims=True)).max(), 1e-30)
    off_sel = np.isin(np.asarray(offline["time"].values, dtype=float), tp[sel])
    off = offline["lfp"].sel(source="total").transpose("channel", "time").values[:, off_sel]
    depth_traces(ax, tp[sel], total - total.mean(axis=1, keepdims=True), z, scale, dz, color="k", label="online")
    depth_traces(ax, tp[sel], off - off.mean(axis=1, keepdims=True), z, scale, dz, color=LIF_COLOR, ls="--", lw=0.8,
                 label="offline")
    ax.set_title("F  $\\sum_X \\sum_Y \\nu_X \\ast H_{YX}$", loc="left")
    ax.legend(loc="upper right", fontsize=6)
    ax.set_xlim(t0, t1)
    ax.set_xticklabels([])
    depth_scalebar(ax, scale, units, dz)
    c = online["cdm"].sel(source="total", component="z").values[sel]
    co = offline["cdm"].sel(source="total", component="z").values[off_sel]
    ax_cdm.plot(tp[sel], c - c.mean(), color="k", lw=0.6)
    ax_cdm.plot(tp[sel], co - co.mean(), color=LIF_COLOR, lw=0.8, ls="--")
    ax_cdm.set_xlim(t0, t1)
    ax_cdm.set_xlabel("time (ms)")


def _dipole_spectrum_panel(ax, comparison_lif, comparison_gt, fmax):
    """G: dipole z spectra of the ground truth and of the kernel predictions from the ground
    truth's spikes and from the LIF network's."""
    f = np.asarray(comparison_lif["frequency"].values, dtype=float)
    keep = (f > 0) & (f <= fmax)
    g = comparison_lif["psd_ground_truth"].sel(source="total", signal="cdm_z").isel(channel=0).values
    a = comparison_gt["psd_prediction"].sel(source="total", signal="cdm_z").isel(channel=0, approximation=0).values
    b = comparison_lif["psd_prediction"].sel(source="total", signal="cdm_z").isel(channel=0, approximation=0).values
    ax.loglog(f[keep], g[keep], color=GROUND_TRUTH_COLOR, lw=1.0, label="ground truth")
    ax.loglog(f[keep], a[keep], color=GT_SPIKES_COLOR, lw=0.8, label="kernels x ground-truth spikes")
    ax.loglog(f[keep], b[keep], color=LIF_COLOR, lw=0.8, label="kernels x LIF spikes")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("PSD of $P_z$ ((nA um)$^2$/Hz)")
    ax.set_title("G  dipole moment spectrum", loc="left")
    ax.legend(fontsize=6, loc="lower left")


def _amplitude_panel(ax, signals, comparison_lif, comparison_gt, z, t0):
    """H: the LFP's standard deviation across depth (uV), ground truth and both predictions
    (ground truth's std times each prediction's r_STD)."""
    tg = np.asarray(signals["time"].values, dtype=float)
    after = tg >= float(comparison_lif.attrs.get("transient", t0))
    gstd = signals["lfp"].sel(source="total").transpose("channel", "time").values[:, after].std(axis=1)
    rs_gt = comparison_gt["r_std"].sel(source="total", signal="lfp", band="raw").isel(approximation=0).values[:len(z)]
    rs_lif = comparison_lif["r_std"].sel(source="total", signal="lfp", band="raw").isel(approximation=0).values[:len(z)]
    ax.plot(gstd * 1e3, z, "o-", color=GROUND_TRUTH_COLOR, ms=2, lw=1.0, label="ground truth")
    ax.plot(gstd * rs_gt * 1e3, z, "o-", color=GT_SPIKES_COLOR, ms=2, lw=0.8, label="GT spikes")
    ax.plot(gstd * rs_lif * 1e3, z, "o-", color=LIF_COLOR, ms=2, lw=0.8, label="LIF spikes")
    ax.set_xlabel("LFP std (uV)")
    ax.set_ylabel("depth z (um)")
    ax.set_title("H  LFP amplitude", loc="left")
    ax.legend(fontsize=6)


def _rate_spectra_panel(ax, rates, pops):
    """I: rate spectra of each population, ground truth (solid) and LIF network (dashed)."""
    fr = np.asarray(rates["frequency"].values, dtype=float)
    k = fr > 0
    for i, p in enumerate(pops):
        ax.semilogy(fr[k], rates["spectrum_ground_truth"].sel(population=p).values[k], color=population_color(p, i),
                    lw=1.0, label=f"{p} ground truth")
        ax.semilogy(fr[k], rates["spectrum_lif"].sel(population=p).values[k], color=population_color(p, i), lw=0.8,
                    ls="--", label=f"{p} LIF")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("rate spectrum ((1/s)$^2$/Hz)")
    ax.set_title("I  population rate spectra", loc="left")
    ax.legend(fontsize=6, ncol=2)


def _numbers_panel(ax, online, offline, comparison_lif, comparison_gt, rates, pops):
    """J: R^2 and r_STD of both predictions, the rates, and the online-offline difference (text)."""
    ax.axis("off")
    lines = ["J  vs ground truth (raw;", "LFP: channel median;", "GT: ground-truth spikes)", "",
             f"{'':12s}{'GT':>6s}{'LIF':>8s}"]
    for sig, label in (("lfp", "LFP"), ("cdm_z", "P_z")):
        for var, vlabel in (("r2", "R2"), ("r_std", "r_STD")):
            lines.append(f"{label + ' ' + vlabel:12s}{_metric(comparison_gt, var, sig):6.3f}"
                         f"{_metric(comparison_lif, var, sig):8.3f}")
    lines.append("")
    for p in pops:
        r = rates.sel(population=p)
        lines.append(f"rate {p} (1/s){float(r.rate_ground_truth):6.2f}{float(r.rate_lif):8.2f}")
    dev = _online_offline_difference(online, offline)
    lines += ["", "online vs offline:", f"max rel. diff {dev:.1e}"]
    ax.text(-0.15, 1.0, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=6.5,
            transform=ax.transAxes)


def figure14(spikes, online, offline, signals, comparison_lif, comparison_gt, rates, paths, window=100.0,
             fmax=500.0):
    """Draw Fig 14.

    Parameters
    ----------
    spikes : xarray.Dataset
        The LIF network's ``spikes.nc``.
    online, offline : xarray.Dataset
        Its prediction made while NEST ran and by ``lfpk predict`` (with contributions).
    signals : xarray.Dataset
        Ground-truth ``signals.nc``.
    comparison_lif, comparison_gt : xarray.Dataset
        ``lfpk compare`` of the LIF prediction and of the ground truth's own spikes' prediction
        (same kernels) with the ground truth.
    rates : xarray.Dataset
        ``rates.nc`` (``lfpk pointnet rates``).
    paths : sequence of path-like
    window : float
        ms of activity shown in A-F (from the transient on).
    fmax : float
        Highest frequency of the spectra (Hz).
    """
    _check_inputs(spikes, online, offline, signals, comparison_lif, comparison_gt, rates)
    plt = pyplot()
    t0 = float(spikes.attrs.get("transient", 0.0))
    t1 = min(t0 + float(window), float(spikes.attrs["tstop"]))
    pops = [str(p) for p in rates["population"].values]
    z = np.asarray(signals["channel_z"].values, dtype=float)
    tp = np.asarray(online["time"].values, dtype=float)
    sel = (tp >= t0) & (tp <= t1)
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(13.0, 10.0))
        gs = fig.add_gridspec(12, 6, left=0.06, right=0.99, top=0.94, bottom=0.05, hspace=1.0, wspace=0.6)
        _activity_panels(fig.add_subplot(gs[0:6, 0]), fig.add_subplot(gs[6:8, 0]), spikes, online, rates, pops,
                         t0, t1, sel)
        _contribution_panels(fig, gs, online, z, t0, t1, sel)
        _sum_panels(fig.add_subplot(gs[0:6, 5]), fig.add_subplot(gs[6:8, 5]), online, offline, z, t0, t1, sel)
        _dipole_spectrum_panel(fig.add_subplot(gs[9:12, 0:2]), comparison_lif, comparison_gt, fmax)
        _amplitude_panel(fig.add_subplot(gs[9:12, 2]), signals, comparison_lif, comparison_gt, z, t0)
        _rate_spectra_panel(fig.add_subplot(gs[9:12, 3:5]), rates, pops)
        _numbers_panel(fig.add_subplot(gs[9:12, 5]), online, offline, comparison_lif, comparison_gt, rates, pops)
        fig.suptitle("Fig 14: LIF network fitted to the ground truth, kernel predictions made while NEST runs",
                     y=0.99)
        save(fig, paths)


def _online_offline_difference(online, offline):
    """Largest |online - offline| / max |offline| over the signals both carry."""
    worst = 0.0
    for name in ("lfp", "csd", "cdm", "eeg", "meg"):
        if name in online and name in offline:
            a = np.asarray(online[name].values, dtype=float)
            b = np.asarray(offline[name].values, dtype=float)
            if a.shape != b.shape:
                return np.inf
            worst = max(worst, float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)))
    return worst


def figure14_files(spikes, online, offline, signals, comparison_lif, comparison_gt, rates, paths, window=100.0):
    """File-level wrapper of :func:`figure14` (paths of the inputs)."""
    figure14(read_dataset(spikes), read_dataset(online), read_dataset(offline), read_dataset(signals),
             read_dataset(comparison_lif), read_dataset(comparison_gt), read_dataset(rates), paths, window=window)
