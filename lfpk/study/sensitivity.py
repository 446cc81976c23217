"""Sensitivity of kernel predictions to the presynaptic rates (g_eff) and the linearisation potential.

Hagen et al. (2022, PLOS Comput Biol 18:e1010353) show how the accuracy of kernel predictions of
the current dipole moment depends on the two quantities the kernels take from the ground truth:
the presynaptic firing rates (which set the effective leak ``g_eff``) and the resting potential
``V_rest`` around which the synapses and the channels are linearised. This module recomputes the
kernels of every connection on a grid of

* ``rate_scale`` s: presynaptic rates ``nu_X = s * nu_X(run)`` used for ``g_eff`` (the rates
  measured in the ground-truth run's ``membrane.nc``), and with ``scale_extrinsic`` (the default,
  as the study: ``nu_ext = 40 /s x s``) the extrinsic drive's rate too;
* ``v_rest_offset`` d (mV): ``V_rest = V_rest(run) + d`` (scalar median somatic potential, or the
  per-segment medians plus d, as the variant says),

predicts the signals again from the ground-truth spike counts (the same causal FFT convolution as
:func:`lfpk.engines.prediction.predict.predict`) and compares them with the ground truth after the transient with the
metrics of :mod:`lfpk.compare` (R^2 = squared Pearson correlation, r_STD = std(prediction) /
std(ground truth), raw and elliptic low-pass). Only the kernels change along the grid, so the
map is computed "from kernels only": no network is simulated.

One :class:`lfpk.engines.kernel.KernelEngine` serves the whole grid (its cells are re-parametrised in
place); the spike counts are binned once. Without g_eff the rates do not enter the kernels, so the
kernels of one offset are computed once and reused along ``rate_scale`` (the map is then constant
along that axis, exactly).

Output (:func:`sensitivity_scan`): an ``xarray.Dataset`` with dims ``(rate_scale,
v_rest_offset)``; see the function's docstring. :func:`sensitivity_files` is the file-level stage
(grid from the config's ``sensitivity`` block).
"""

from __future__ import annotations

import logging
import time as _time
from dataclasses import dataclass

import numpy as np
import xarray as xr

from lfpk.base.io import read_dataset, software_versions, to_json, write_dataset
from lfpk.engines.compare import LOWPASS, analysed_samples, band_metrics, grid_steps
from lfpk.engines.compare import r2 as r2_fn
from lfpk.engines.compare import r_std as r_std_fn
from lfpk.engines.kernel import KernelEngine
from lfpk.engines.kernel.batch import engine_kernels
from lfpk.engines.kernel.inputs import kernel_inputs
from lfpk.engines.prediction.predict import causal_convolve, kernel_positive_part
from lfpk.engines.spikes import population_counts, read_spikes
from lfpk.model.rules import parse_variant

log = logging.getLogger("lfpk.sensitivity")

#: Signals of the sensitivity map (CDM z always; LFP optional).
CDM_COMPONENT = "z"
#: Metrics of the map: CDM z raw and low-passed, and (with ``lfp``) the LFP channel medians.
CDM_METRICS = ("r2", "r_std", "r2_lowpass", "r_std_lowpass")
LFP_METRICS = ("lfp_r2_median", "lfp_r_std_median")
#: Units and long name of each metric.
METRIC_DESCRIPTIONS = {
    "r2": ("1", "R^2 (squared Pearson correlation) of predicted and ground-truth CDM z"),
    "r_std": ("1", "r_STD = std(predicted CDM z) / std(ground-truth CDM z)"),
    "r2_lowpass": ("1", "R^2 of low-passed predicted and low-passed ground-truth CDM z"),
    "r_std_lowpass": ("1", "r_STD of low-passed predicted and low-passed ground-truth CDM z"),
    "lfp_r2_median": ("1", "median over LFP channels of R^2 (raw)"),
    "lfp_r_std_median": ("1", "median over LFP channels of r_STD (raw)"),
}


def _require(ds, names, what):
    for name in names:
        if name not in ds.variables:
            raise ValueError(f"{what}: missing variable {name!r}")


def _counts(spikes):
    """Population spike counts (population, time) from a spikes dataset or a counts DataArray."""
    if isinstance(spikes, xr.DataArray):
        counts = spikes
    else:
        _require(spikes, ("population_count",), "spikes")
        counts = spikes["population_count"]
    if set(counts.dims) != {"population", "time"}:
        raise ValueError(f"spikes: population_count has dims {counts.dims}; expected (population, time)")
    return counts.transpose("population", "time")


def _grid_axes(rate_scales, v_rest_offsets):
    """The grid's axes as 1-d float arrays: rate scales (finite, >= 0) and V_rest offsets (mV,
    finite), neither empty nor repeated."""
    rate_scales = np.asarray(rate_scales, dtype=float).ravel()
    v_rest_offsets = np.asarray(v_rest_offsets, dtype=float).ravel()
    if rate_scales.size == 0 or v_rest_offsets.size == 0:
        raise ValueError("sensitivity grid: rate_scales and v_rest_offsets must not be empty")
    if not (np.all(np.isfinite(rate_scales)) and np.all(rate_scales >= 0)):
        raise ValueError(f"rate_scales: must be finite and >= 0, got {rate_scales}")
    if not np.all(np.isfinite(v_rest_offsets)):
        raise ValueError(f"v_rest_offsets: must be finite (mV), got {v_rest_offsets}")
    for name, arr in (("rate_scales", rate_scales), ("v_rest_offsets", v_rest_offsets)):
        if len(np.unique(arr)) != len(arr):
            raise ValueError(f"{name}: repeated values {arr}")
    return rate_scales, v_rest_offsets


def _check_source(cfg, signals, source):
    """``source`` as text: ``total`` or a population of ``cfg``, present in ``signals``."""
    source = str(source)
    if source != "total" and source not in cfg["populations"]:
        raise ValueError(f"source: {source!r} is neither 'total' nor a population ({', '.join(cfg['populations'])})")
    if "source" not in signals.dims or source not in [str(s) for s in signals["source"].values]:
        raise ValueError(f"signals: coordinate 'source' with entry {source!r} missing")
    return source


@dataclass
class _Window:
    """The compared samples: time steps shared by the ground truth and the spike counts after the
    transient (as :func:`lfpk.engines.compare.compare`)."""

    transient: float  #: ms
    k_g: np.ndarray  #: time steps of the ground truth (multiples of dt)
    ig: np.ndarray  #: compared sample indices of the ground truth
    ip: np.ndarray  #: compared sample indices of the prediction (spike-count bins)

    @classmethod
    def of(cls, signals, counts, dt, transient=None):
        """Window of ``signals`` and ``counts`` (bin width ``dt``, ms) after ``transient`` (ms;
        default the ground truth's ``transient`` attribute)."""
        if transient is None:
            transient = float(signals.attrs.get("transient", 0.0))
        transient = float(transient)
        k_p = grid_steps(counts["time"].values, dt, "spikes: population_count")
        k_g = grid_steps(signals["time"].values, dt, "signals")
        ig, ip = analysed_samples(k_g, k_p, dt, transient, "between signals and spikes")
        return cls(transient, k_g, ig, ip)


def _ground_truth(signals, source, ig, lfp):
    """Compared ground-truth samples of ``source``: ``cdm`` (1, samples) of the z component and,
    with ``lfp``, ``lfp`` (channel, samples)."""
    gt = {"cdm": signals["cdm"].sel(source=source, component=[CDM_COMPONENT]).transpose("component", "time")
          .values[:, ig].astype(float)}
    if lfp:
        gt["lfp"] = signals["lfp"].sel(source=source).transpose(..., "time").values[:, ig].astype(float)
    return gt


def _check_channels(engine, post, signals):
    """The LFP channel depths of ``signals`` (um) must be the kernels' (``probes.channel_z``)."""
    if "channel_z" not in signals.coords:
        return
    kz = np.asarray(engine.probes(post)["lfp"][0].channel_coord, dtype=float)
    gz = np.asarray(signals["channel_z"].values, dtype=float)
    if kz.shape != gz.shape or not np.allclose(kz, gz, atol=1e-6):
        raise ValueError(f"signals: LFP channel depths {gz} differ from the config's probes.channel_z {kz}")


class _Predictor:
    """Kernels of one grid point -> predicted signals on the analysed samples (as lfpk.predict)."""

    def __init__(self, engine, counts, dt, posts, pres, index):
        self.engine = engine
        self.posts, self.pres = posts, pres
        self.nu = counts.sel(population=pres).values.astype(float)
        self.dt = dt
        self.index = index  # sample indices of the prediction that are compared
        # the connections of the kernels, post-major (posts x pres without the unconnected pairs)
        self.pairs = [(post, pre) for post in posts for pre in pres if (post, pre) in engine.connections]

    @classmethod
    def of_source(cls, engine, cfg, counts, dt, source, index):
        """Predictor of the signal of ``source`` (``total``: every population's cells) from the
        counts of every presynaptic population."""
        posts = sorted(cfg["populations"]) if source == "total" else [source]  # cells whose signal is compared
        pres = sorted({c["pre"] for c in cfg["connections"]})
        missing = [p for p in pres if p not in [str(q) for q in counts["population"].values]]
        if missing:
            raise ValueError(f"spikes: no counts of presynaptic population(s) {missing}")
        return cls(engine, counts, dt, posts, pres, index)

    def kernels(self, V_rest, rates, signals):
        """(post, pre, channel, K+1) positive-lag kernels of each signal."""
        out = {}
        for post, pre, res in engine_kernels(self.engine, self.pairs, V_rest, rates):
            i, j = self.posts.index(post), self.pres.index(pre)
            for sig in signals:
                H = res[sig]
                if sig == "cdm":
                    comps = [str(c) for c in self.engine.probes(post)["cdm"][0].channel_coord]
                    H = H[comps.index(CDM_COMPONENT)][None]
                Hpos = kernel_positive_part(H, res["lags"], self.dt, f"kernel {pre}->{post}: {sig}")
                if sig not in out:
                    out[sig] = np.zeros((len(self.posts), len(self.pres)) + Hpos.shape)
                out[sig][i, j] = Hpos
        return out

    def predict(self, kernels):
        """Total predicted signal (channel, compared samples) per signal, summed as lfpk.predict."""
        out = {}
        for sig, H in kernels.items():
            contrib = causal_convolve(self.nu, H)
            total = contrib.sum(axis=1).sum(axis=0)
            out[sig] = total[:, self.index]
        return out


class _GridPoint:
    """The metrics of the prediction at one (rate scale, V_rest offset) of the grid.

    Kernels are recomputed at ``V_rest(run) + offset`` (mV) and ``rates(run) x scale`` (1/s) and
    cached per offset (and per scale with g_eff; without it the rates do not enter the kernels).
    With ``scale_extrinsic`` and g_eff the extrinsic drive's rate is scaled too, for the kernels of
    this point only.
    """

    def __init__(self, predictor, gt, V0, rates0, g_eff, scale_extrinsic, lfp, fs, lowpass):
        self.predictor = predictor
        self.engine = predictor.engine
        self.gt = gt
        self.V0, self.rates0 = V0, rates0
        self.g_eff = bool(g_eff)
        self.scale_extrinsic = scale_extrinsic
        self.lfp = lfp
        self.signals = ["cdm"] + (["lfp"] if lfp else [])
        self.fs = fs  # sampling rate (Hz)
        self.lowpass = lowpass
        self.posts = predictor.posts
        self.ext0 = {p: self.engine.populations[p].extrinsic for p in self.posts}

    def _prediction(self, scale, offset, cache):
        V = {p: self.V0[p] + offset for p in self.V0}
        rates = {p: r * scale for p, r in self.rates0.items()}
        key = (offset, scale if self.g_eff else None)
        if key not in cache:
            if self.scale_extrinsic and self.g_eff:
                for p in self.posts:
                    ext = self.ext0[p]
                    if ext is not None:  # the config's extrinsic block with the rate scaled
                        self.engine.populations[p].extrinsic = {**ext, "rate": float(ext["rate"]) * scale}
            try:
                cache[key] = self.predictor.predict(self.predictor.kernels(V, rates, self.signals))
            finally:
                for p in self.posts:
                    self.engine.populations[p].extrinsic = self.ext0[p]
        return cache[key]

    def metrics(self, scale, offset, cache):
        """``{metric: value}`` (:data:`CDM_METRICS`, with ``lfp`` :data:`LFP_METRICS`) at ``scale``
        and ``offset`` (mV); ``cache`` holds the predictions of the current offset."""
        pred = self._prediction(scale, offset, cache)
        gt = self.gt
        m = band_metrics(pred["cdm"], gt["cdm"], self.fs, **self.lowpass)
        out = {"r2": m["raw"][0][0], "r_std": m["raw"][1][0],
               "r2_lowpass": m["lowpass"][0][0], "r_std_lowpass": m["lowpass"][1][0]}
        if self.lfp:
            with np.errstate(invalid="ignore"):
                out["lfp_r2_median"] = np.nanmedian(r2_fn(pred["lfp"], gt["lfp"]))
                out["lfp_r_std_median"] = np.nanmedian(r_std_fn(pred["lfp"], gt["lfp"]))
        return out


def _scan(point, rate_scales, v_rest_offsets, names):
    """Metrics ``names`` over the grid: ``({name: (rate_scale, v_rest_offset) array}, {name: value at
    the reference point (scale 1, offset 0)})``; the reference is computed apart when off the grid."""
    grid = {n: np.full((len(rate_scales), len(v_rest_offsets)), np.nan) for n in names}
    for b, offset in enumerate(v_rest_offsets):
        cache = {}  # kernels of one offset (all scales when g_eff is off)
        for a, scale in enumerate(rate_scales):
            vals = point.metrics(float(scale), float(offset), cache)
            for n in names:
                grid[n][a, b] = vals[n]
    ia = np.flatnonzero(np.isclose(rate_scales, 1.0, rtol=0, atol=1e-12))
    ib = np.flatnonzero(np.isclose(v_rest_offsets, 0.0, rtol=0, atol=1e-12))
    if len(ia) and len(ib):
        ref = {n: grid[n][ia[0], ib[0]] for n in names}
    else:
        ref = point.metrics(1.0, 0.0, {})
    return grid, ref


def _lowpass_text(lp):
    return (f"elliptic low-pass (scipy.signal.ellip order {lp['order']}, rp {lp['rp']} dB, rs {lp['rs']} dB, "
            f"edge {lp['cutoff']} Hz), zero-phase (sosfiltfilt), applied to prediction and ground truth")


def _map_dataset(cfg, variant, opts, axes, grid, ref, reference, window, dt, lp, lfp, scale_extrinsic, source):
    """The sensitivity map as an ``xarray.Dataset`` (see :func:`sensitivity_scan`).

    ``axes`` is ``(rate_scales, v_rest_offsets)``, ``grid`` and ``ref`` are from :func:`_scan`,
    ``reference`` is ``(V_rest, rates)`` of the run (mV, 1/s).
    """
    rate_scales, v_rest_offsets = axes
    V0, rates0 = reference
    names = list(grid)
    dims = ("rate_scale", "v_rest_offset")
    long = METRIC_DESCRIPTIONS
    data = {n: (dims, grid[n], {"units": long[n][0], "long_name": long[n][1]}) for n in names}
    for n in names:
        data[f"{n}_reference"] = ((), float(ref[n]), {
            "units": long[n][0], "long_name": long[n][1] + " at the reference point (rate scale 1, V_rest offset 0)"})
    pops = list(cfg["populations"])
    data["V_rest_reference"] = ("population", [float(np.median(V0[p])) for p in pops], {
        "units": "mV", "long_name": "V_rest of the ground-truth run the offsets are added to"
        + (" (median over segments; per-segment values in attrs)" if opts["v_rest_mode"] == "segment" else "")})
    data["rate_reference"] = ("population", [float(rates0[p]) for p in pops], {
        "units": "1/s", "long_name": "mean rate of the ground-truth run the rate scales multiply"})
    coords = {
        "rate_scale": ("rate_scale", rate_scales, {
            "units": "1", "long_name": "factor on the presynaptic rates used for g_eff"
            + (" (and on the extrinsic rate)" if scale_extrinsic else " (extrinsic drive unscaled)")}),
        "v_rest_offset": ("v_rest_offset", v_rest_offsets, {
            "units": "mV", "long_name": "offset added to the linearisation potential V_rest"}),
        "population": ("population", pops, {"long_name": "population"}),
    }
    ig, k_g = window.ig, window.k_g
    attrs = {
        "title": f"sensitivity of kernel predictions ({variant}) to presynaptic rates and V_rest",
        "method": "kernels of every connection recomputed at V_rest(run) + offset and rates(run) x scale, "
                  "signals predicted from the ground-truth spike counts (causal FFT convolution as lfpk.predict), "
                  "compared with the ground truth after the transient (lfpk.compare metrics); "
                  "Hagen et al. 2022, PLOS Comput Biol 18:e1010353",
        "variant": str(variant),
        "biophysics": opts["biophysics"],
        "g_eff_on": int(opts["g_eff"]),
        "v_rest_mode": opts["v_rest_mode"],
        "scale_extrinsic": int(bool(scale_extrinsic)),
        "rate_scaling_note": "" if opts["g_eff"] else "g_eff off: rates do not enter the kernels; the map is "
                                                      "constant along rate_scale",
        "signal": "cdm_z (z component of the current dipole moment)" + (", lfp" if lfp else ""),
        "source": source,
        "transient": window.transient,
        "transient_units": "ms",
        "t_start": float(k_g[ig[0]] * dt),
        "t_stop": float(k_g[ig[-1]] * dt),
        "n_samples": int(len(ig)),
        "dt": dt,
        "lowpass": _lowpass_text(lp),
        "V_rest_reference_values": to_json({p: np.asarray(V0[p], dtype=float) for p in pops}),
        "rates_reference": to_json(rates0),
        "parameters": to_json({k: cfg[k] for k in ("kernel", "populations", "connections", "biophysics",
                                                   "weight_scaling", "probes") if k in cfg}),
        "software_versions": to_json(software_versions()),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def sensitivity_scan(cfg, spikes, signals, membrane, variant, rate_scales, v_rest_offsets, transient=None,
                     lfp=True, scale_extrinsic=True, lowpass_kw=None, source="total"):
    """R^2 and r_STD of kernel predictions over a grid of rate scalings and V_rest offsets.

    Parameters
    ----------
    cfg : dict
        Configuration of the ground-truth run (population sizes and connection probabilities as
        simulated: the kernels' synapse counts come from it).
    spikes : xarray.Dataset or xarray.DataArray
        ``spikes.nc`` (its ``population_count (population, time)`` is used) or population counts
        ``(population, time)`` as :func:`lfpk.engines.spikes.population_counts` returns; bin width =
        ``simulation.dt``.
    signals : xarray.Dataset
        Ground truth ``signals.nc`` (``cdm (source, component, time)``; ``lfp (source, channel,
        time)`` when ``lfp``); its entry ``source`` is compared.
    membrane : xarray.Dataset or path-like
        ``membrane.nc`` of the run: reference V_rest and rates.
    variant : str
        Kernel variant ``<biophysics>-<geff|nogeff>-<scalar|segment>`` (:func:`lfpk.model.rules.parse_variant`).
    rate_scales : sequence of float
        Factors (>= 0) on the run's presynaptic rates used for g_eff.
    v_rest_offsets : sequence of float
        Offsets (mV) added to the run's V_rest.
    transient : float, optional
        Samples before it (ms) are discarded; default the ground truth's ``transient`` attribute.
    lfp : bool
        Also map the channel median of R^2 and r_STD of the LFP.
    scale_extrinsic : bool
        Scale the extrinsic drive's rate in g_eff too (default, as the study's Fig 8:
        ``nu_ext = base rate x scale``); ``False`` scales only the network's rates.
    lowpass_kw : dict, optional
        Overrides of :data:`lfpk.engines.compare.LOWPASS`.
    source : str
        Contribution compared: ``total`` (every population's cells; default) or one population
        ``Y``, whose ground-truth contribution is compared with the sum over presynaptic X of the
        kernels H_YX convolved with nu_X (Hagen et al. 2022 compare Model B on its E cells').

    Returns
    -------
    xarray.Dataset
        ``r2``, ``r_std`` (CDM z, raw), ``r2_lowpass``, ``r_std_lowpass`` (CDM z, both low-passed)
        with dims ``(rate_scale, v_rest_offset)``; with ``lfp`` also ``lfp_r2_median``,
        ``lfp_r_std_median``; the reference point (scale 1, offset 0) as scalars ``r2_reference``,
        ``r_std_reference`` (and low-pass / LFP counterparts); ``V_rest_reference``,
        ``rate_reference (population)``. Attributes: variant, window, filter, parameters.
    """
    opts = parse_variant(variant)
    axes = _grid_axes(rate_scales, v_rest_offsets)
    _require(signals, ["cdm"] + (["lfp"] if lfp else []), "signals")
    source = _check_source(cfg, signals, source)
    counts = _counts(spikes)
    dt = float(cfg["simulation"]["dt"])
    V0, rates0, _ = kernel_inputs(cfg, membrane, opts["v_rest_mode"])
    window = _Window.of(signals, counts, dt, transient)
    lp = {**LOWPASS, **(lowpass_kw or {})}
    gt = _ground_truth(signals, source, window.ig, lfp)

    engine = KernelEngine.from_config(cfg, biophysics=opts["biophysics"], g_eff=opts["g_eff"])
    predictor = _Predictor.of_source(engine, cfg, counts, dt, source, window.ip)
    if lfp:
        _check_channels(engine, predictor.posts[0], signals)
    point = _GridPoint(predictor, gt, V0, rates0, opts["g_eff"], scale_extrinsic, lfp, 1000.0 / dt, lp)

    start = _time.perf_counter()
    names = list(CDM_METRICS) + (list(LFP_METRICS) if lfp else [])
    grid, ref = _scan(point, *axes, names)
    log.info("sensitivity scan %s: %d x %d grid in %.1f s", variant, len(axes[0]), len(axes[1]),
             _time.perf_counter() - start)
    return _map_dataset(cfg, variant, opts, axes, grid, ref, (V0, rates0), window, dt, lp, lfp, scale_extrinsic,
                        source)


def sensitivity_grid(cfg):
    """``(rate_scales, v_rest_offsets)`` from the config's ``sensitivity`` block (np.linspace)."""
    try:
        sens = cfg["sensitivity"]
        axes = []
        for key in ("rate_scales", "v_rest_offsets"):
            g = sens[key]
            axes.append(np.linspace(float(g["start"]), float(g["stop"]), int(g["num"])))
    except KeyError as exc:
        raise ValueError(f"config: sensitivity block needs variant, rate_scales and v_rest_offsets "
                         f"{{start, stop, num}}; missing {exc}") from None
    return axes[0], axes[1]


def config_errors(cfg) -> list[str]:
    """The config's ``sensitivity`` grid passes the scan's own checks (:func:`_grid_axes`: rate
    scales finite and >= 0, no value twice), checked at validation rather than after the
    ground-truth run (:func:`lfpk.api.config.validate_config`); one message per axis, naming the key."""
    try:
        rate_scales, v_rest_offsets = sensitivity_grid(cfg)
    except (ValueError, TypeError):
        return []  # the schema reports a malformed block
    errors = []
    for key, axes in (("rate_scales", (rate_scales, [0.0])), ("v_rest_offsets", ([1.0], v_rest_offsets))):
        try:
            _grid_axes(*axes)
        except ValueError as exc:
            g = cfg["sensitivity"][key]
            errors.append(f"sensitivity.{key}: the grid {{start: {g['start']}, stop: {g['stop']}, num: {g['num']}}} "
                          f"fails the scan's check: {' '.join(str(exc).removeprefix(key + ': ').split())}")
    return errors


def sensitivity_files(cfg, spikes_path, signals_path, membrane_path, output_path, variant=None, lfp=True):
    """Stage: sensitivity map of a ground-truth run, written to ``output_path`` (netCDF, atomic).

    The grid is ``np.linspace(start, stop, num)`` of ``cfg['sensitivity']['rate_scales']`` and
    ``['v_rest_offsets']``; the variant is ``cfg['sensitivity']['variant']`` unless given. The spike
    counts are binned from ``spikes_path`` exactly as ``lfpk predict`` does
    (:func:`lfpk.engines.spikes.read_spikes`, :func:`lfpk.engines.spikes.population_counts` at ``simulation.dt``).

    Returns
    -------
    xarray.Dataset
        The map written.
    """
    rate_scales, v_rest_offsets = sensitivity_grid(cfg)
    variant = variant or cfg["sensitivity"]["variant"]
    sp = read_spikes(spikes_path)
    counts = population_counts(sp, float(cfg["simulation"]["dt"]))
    signals = read_dataset(signals_path)
    ds = sensitivity_scan(cfg, counts, signals, membrane_path, variant, rate_scales, v_rest_offsets, lfp=lfp,
                          scale_extrinsic=bool(cfg["sensitivity"].get("scale_extrinsic", True)),
                          source=cfg["sensitivity"].get("source", "total"))
    ds.attrs["spikes"] = str(spikes_path)
    ds.attrs["ground_truth"] = str(signals_path)
    ds.attrs["membrane"] = str(membrane_path)
    write_dataset(ds, output_path)
    return ds
