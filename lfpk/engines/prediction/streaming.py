"""Streaming prediction: kernels convolved with spike counts block by block (overlap-save).

For every signal S the kernels carry (``lfp``, ``csd``, ``cdm``, ``eeg``, ``meg``, or any probe's variable
with a ``lag`` dim, :func:`signal_variables`) the prediction is

    S_YX[c, n] = sum_{k >= 0} H_YX[c, k] nu_X[n - k],   S_Y = sum_X S_YX,   S = sum_Y S_Y      (1)

with ``nu_X[n]`` the spikes of population X in bin ``[n dt, (n+1) dt)`` and ``H_YX[c, k]`` the kernel
at lag ``k dt`` (Hagen et al. 2022, PLOS Comput Biol 18:e1010353, eq. 17). Eq. (1) is evaluated by
overlap-save: each block of ``L`` new count bins is transformed together with the last ``K - 1``
bins before it (``K`` kernel lags), multiplied by the kernels' transforms and transformed back;
the last ``L`` samples are exactly (1) for the block (no wrap-around, ``nfft >= L + K - 1``). The
result does not depend on the block length beyond floating-point rounding (tested to 1e-12
relative), so a recording of any length is predicted with memory bounded by the block, and spikes
of a running simulation can be fed as they come (:class:`OnlinePredictor`).

Decimation by an integer factor ``q`` (``decimate=q``): the prediction is low-passed by a
linear-phase FIR anti-alias filter ``h`` (Kaiser window, :func:`anti_alias_filter`: pass band up to
0.8 of the new Nyquist frequency with gain ``1 +- 1e-4``, stop band from the new Nyquist frequency
on, attenuation >= 80 dB), its delay compensated (zero phase), and sampled at ``n = 0, q, 2q, ...``.
As (1) is linear, the filter is applied to the kernels once, ``G = h * H`` (lags ``-m .. K + m``
for ``2m + 1`` taps), and counts are zero outside the recording, so the decimated output is exactly
``(h * S)[n q]``.

Classes:

* :class:`KernelBank` -- the kernels of every signal at lags ``0 .. K`` (from ``kernels.nc``);
* :class:`StreamingPredictor` -- counts in, signal blocks out (the core of every prediction);
* :class:`OnlinePredictor` -- spikes in (times in ms, populations), for a running NEST or Brian2
  simulation, optionally writing the prediction file as it goes.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import fft, signal

#: lfpk's own signal names, predicted first and in this order; any other kernel variable with the
#: dims post, pre, lag is predicted too (:func:`signal_variables`)
SIGNALS = ("lfp", "csd", "cdm", "eeg", "meg")
#: default block length (bins) of the overlap-save convolution
DEFAULT_BLOCK = 1 << 15
#: pass-band edge of the anti-alias filter as a fraction of the new Nyquist frequency
AA_PASS = 0.8
#: stop-band attenuation of the anti-alias filter (dB)
AA_ATTENUATION_DB = 80.0


def lag_index(lags, dt, where="kernels"):
    """Integer lag steps ``lag / dt``; raises unless every lag sits on the dt grid."""
    k = np.round(np.asarray(lags, dtype=float) / dt)
    if not np.allclose(k * dt, lags, rtol=0, atol=1e-6 * dt):
        raise ValueError(f"{where}: lag coordinate is not on a grid of dt = {dt} ms")
    return k.astype(np.int64)


def kernel_positive_part(kernel, lags, dt, where="kernels"):
    """Kernel values at lags 0, dt, ..., K dt (last axis), zero where the kernel has no lag.

    Negative lags are dropped (causal kernels are zero there by construction; non-zero values are
    ignored with a warning); FIR kernels (lags ``(0, tau]``) get a zero at lag 0.

    Parameters
    ----------
    kernel : ndarray (..., n_lags)
    lags : ndarray (n_lags,) ms
    dt : float

    Returns
    -------
    ndarray (..., K + 1)
    """
    kernel = np.asarray(kernel, dtype=float)
    k = lag_index(lags, dt, where)
    if len(np.unique(k)) != len(k):
        raise ValueError(f"{where}: repeated lags")
    neg = k < 0
    if neg.any():
        m = np.abs(kernel[..., neg]).max() if kernel[..., neg].size else 0.0
        scale = np.abs(kernel).max() if kernel.size else 0.0
        if m > 1e-12 * max(scale, np.finfo(float).tiny):
            warnings.warn(f"{where}: kernel has non-zero values at negative lags (max |H| {m:g}); the "
                          "causal prediction ignores them", stacklevel=3)
    pos = ~neg
    if not pos.any():
        raise ValueError(f"{where}: no lag >= 0")
    out = np.zeros(kernel.shape[:-1] + (int(k[pos].max()) + 1,))
    out[..., k[pos]] = kernel[..., pos]
    return out


def anti_alias_filter(q):
    """Linear-phase FIR low-pass for decimation by ``q`` (odd length ``2m + 1``, unit DC gain).

    Kaiser-window design (:func:`scipy.signal.kaiserord`, :func:`scipy.signal.firwin`; Oppenheim &
    Schafer, Discrete-Time Signal Processing, sec. 7.6): pass band ``[0, 0.8 f_N]``, stop band
    ``[f_N, fs/2]`` with ``f_N = fs / (2 q)`` the Nyquist frequency after decimation, ripple and
    attenuation ``80 dB`` (gain ``1 +- 1e-4`` in the pass band, <= 1e-4 in the stop band).

    Returns
    -------
    ndarray
        Taps (``h[m]`` is the centre), for the input sampling rate.
    """
    q = int(q)
    if q < 2:
        return np.ones(1)
    nyq_out = 0.5 / q  # in units of the input sampling rate
    width = (1.0 - AA_PASS) * nyq_out
    numtaps, beta = signal.kaiserord(AA_ATTENUATION_DB, width / 0.5)
    numtaps |= 1  # odd: type I, integer delay
    h = signal.firwin(numtaps, (AA_PASS + 1.0) / 2 * nyq_out, window=("kaiser", beta), fs=1.0)
    return h / h.sum()


#: names a signal may not have: the prediction's own coordinates and count variable
RESERVED_NAMES = ("time", "source", "post", "pre", "population", "population_count")
#: kernel variable attributes not copied to the prediction (set there, or netCDF's own)
_OWN_ATTRS = ("units", "long_name", "coordinates", "_FillValue", "missing_value")


def signal_variables(kernels):
    """Names of the kernel variables that are signals: every data variable with the dims ``post``,
    ``pre`` and ``lag`` (any probe: ``lfp``, ``csd``, ``cdm``, ``eeg``, ``meg``, an LFPykit model's
    name such as ``pointsourcepotential``, a user's name). Order: those of :data:`SIGNALS` in its
    order, then the others in the dataset's order."""
    found = [str(n) for n, v in kernels.data_vars.items() if {"post", "pre", "lag"} <= set(v.dims)]
    return [s for s in SIGNALS if s in found] + [s for s in found if s not in SIGNALS]


def signal_attrs(name, attrs):
    """Attributes of a predicted signal from its kernel variable's ``attrs``: ``units`` (default
    ``1``), ``long_name`` (without the ``kernel:`` prefix; default the name) and every other
    attribute whose value netCDF stores (text, numbers), carried over unchanged."""
    out = {"units": str(attrs.get("units", "1")),
           "long_name": str(attrs.get("long_name", name)).removeprefix("kernel: ")}
    for key, value in attrs.items():
        if key in _OWN_ATTRS or key in out:
            continue
        if isinstance(value, (str, int, float, np.integer, np.floating)) and not isinstance(value, bool):
            out[str(key)] = value
    return out


def check_signal_names(signals, coords):
    """Refuse signal names the prediction's layout already uses (:data:`RESERVED_NAMES`, a channel
    coordinate, ``<other signal>_contribution``), naming the variable to rename."""
    taken = set(RESERVED_NAMES) | set(coords)
    for name in signals:
        clash = (name in taken and "a name of the prediction's layout") or (
            name.endswith("_contribution") and name.removesuffix("_contribution") in signals
            and f"the contribution variable of signal {name.removesuffix('_contribution')!r}")
        if clash:
            raise ValueError(f"kernels: variable {name!r} is {clash}; expected another name for the signal "
                             "(rename it, e.g. kernels.rename({...}))")


class KernelBank:
    """Kernels of every signal at lags ``0 .. K`` (steps of ``dt``), from gathered kernels.

    Parameters
    ----------
    kernels : xarray.Dataset
        Gathered kernels (``kernels.nc``): variables ``(post, pre, <channel dim>, lag)``, attribute
        ``dt`` (ms).
    signals : list of str, optional
        Signals to predict (default every signal the kernels carry).

    Attributes
    ----------
    dt : float
    posts, pres : list of str
    signals : list of str
    H : dict
        Signal -> ndarray ``(post, pre, channel, K + 1)``.
    channel_dim : dict
        Signal -> name of its channel dimension.
    coords : dict
        Channel coordinates to copy to the prediction ``name -> (dims, values, attrs)``.
    attrs : dict
        Signal -> ``{'units', 'long_name', ...}`` (:func:`signal_attrs`: the kernel variable's).
    """

    def __init__(self, kernels, signals=None):
        for dim in ("post", "pre"):
            if dim not in kernels.dims:
                raise ValueError(f"kernels: dimension {dim!r} missing; expected gathered kernels (kernels.nc)")
        if "lag" not in kernels.coords:
            raise ValueError("kernels: coordinate 'lag' (ms) missing")
        lags = np.asarray(kernels["lag"].values, dtype=float)
        dt = float(kernels.attrs.get("dt", np.nan))
        if not np.isfinite(dt):
            if len(lags) < 2:
                raise ValueError("kernels: attribute 'dt' missing and not derivable from 'lag'")
            dt = float(np.median(np.diff(lags)))
        self.dt = dt
        self.posts = [str(p) for p in kernels["post"].values]
        self.pres = [str(p) for p in kernels["pre"].values]
        have = signal_variables(kernels)
        if not have:
            raise ValueError("kernels: no signal variable with dims (post, pre, <channel dim>, lag); expected "
                             f"gathered kernels (kernels.nc), e.g. {', '.join(SIGNALS)} or a probe's own name")
        if signals is None:
            signals = have
        signals = [str(s) for s in signals]
        bad = [s for s in signals if s not in have]
        if bad:
            raise ValueError(f"signals {bad} are not in the kernels (they carry {', '.join(have)})")
        if not signals:
            raise ValueError("signals: choose at least one signal")
        self.signals = signals
        self.H, self.channel_dim, self.attrs, self.coords = {}, {}, {}, {}
        for name in signals:
            var = kernels[name]
            chan = [d for d in var.dims if d not in ("post", "pre", "lag")]
            if len(chan) != 1:
                raise ValueError(f"kernels: variable {name!r} has dims {var.dims}; expected (post, pre, <channel>, lag)")
            cdim = chan[0]
            self.channel_dim[name] = cdim
            self.H[name] = kernel_positive_part(var.transpose("post", "pre", cdim, "lag").values, lags, dt,
                                                f"kernels: {name}")
            self.attrs[name] = signal_attrs(name, var.attrs)
            for cname, c in kernels.coords.items():
                if cname in ("lag", "post", "pre") or cname in self.coords:
                    continue
                if set(c.dims) <= {cdim}:
                    self.coords[cname] = (c.dims, np.asarray(c.values), dict(c.attrs))
            if cdim not in self.coords:
                self.coords[cdim] = ((cdim,), np.arange(var.sizes[cdim]), {})
        check_signal_names(self.signals, self.coords)
        self.kernel_attrs = dict(kernels.attrs)

    @property
    def n_lags(self) -> int:
        return max(h.shape[-1] for h in self.H.values())

    def n_channels(self, name) -> int:
        return self.H[name].shape[2]


class StreamingPredictor:
    """Counts in, predicted signals out, block by block (overlap-save of eq. 1).

    Parameters
    ----------
    bank : KernelBank
    contributions : bool
        Also return per-connection contributions ``S_contribution (post, pre, channel, n)``.
    decimate : int
        Output every ``decimate``-th sample after the anti-alias filter (1: none).
    block : int, optional
        Bins per overlap-save block (default :data:`DEFAULT_BLOCK`, at least 4 kernel lengths).

    Use: :meth:`push` count blocks ``(pre, n)`` (any lengths, populations in ``bank.pres`` order);
    each call returns the output samples that became complete (a dict, see :meth:`push`); after the
    last counts, :meth:`finish` returns the rest (counts after the recording are zero).
    """

    def __init__(self, bank, contributions=True, decimate=1, block=None):
        self.bank = bank
        self.contributions = bool(contributions)
        self.q = int(decimate)
        if self.q < 1:
            raise ValueError(f"decimate: expected an integer >= 1, got {decimate!r}")
        self.aa = anti_alias_filter(self.q)
        self.m = (len(self.aa) - 1) // 2  # filter delay (bins) = look-ahead of a decimated sample
        n_g = bank.n_lags + 2 * self.m  # combined kernel G = h * H, lags -m .. K + m (shifted by m)
        self.block = int(block or max(DEFAULT_BLOCK, 4 * n_g))
        if self.block < 1:
            raise ValueError(f"block: expected a positive number of bins, got {block!r}")
        self.nfft = fft.next_fast_len(self.block + n_g - 1, real=True)
        self.n_hist = n_g - 1
        self.g = {name: H if self.m == 0 else _convolve_last(H, self.aa) for name, H in bank.H.items()}
        self._G = {}  # nfft -> {signal: rfft of g} (partial blocks use a shorter transform)
        self._hist = np.zeros((len(bank.pres), self.n_hist))
        self._pending = []
        self._n_pending = 0
        self.n_in = 0  # count bins received
        self.n_full = 0  # full-rate output samples computed (index of the next one)
        self.n_out = 0  # decimated output samples returned
        self._count_rest = np.zeros((len(bank.pres), 0), dtype=np.int64)  # bins of the output bin in progress
        self._count_queue = np.zeros((len(bank.pres), 0), dtype=np.int64)  # complete output bins not yet returned
        self._block_start = 0  # index of the first bin of the next block
        self._finished = False

    # -- input ----------------------------------------------------------------------------------

    def push(self, counts, flush=False):
        """Add count bins; return the output samples that are complete.

        Parameters
        ----------
        counts : ndarray (n_pre, n)
            Spikes per bin of each presynaptic population (``bank.pres`` order), continuing the
            previous bins.
        flush : bool
            Compute a partial block now (lower latency, same result).

        Returns
        -------
        dict
            ``start`` (index of the first returned output sample, at the output rate), ``n``,
            ``signals`` ``{name: (source, channel, n)}`` (source = total, then each post),
            ``contributions`` ``{name: (post, pre, channel, n)}`` (if requested),
            ``counts`` ``(pre, n)`` spikes per output bin.
        """
        if self._finished:
            raise RuntimeError("push after finish")
        counts = np.asarray(counts)
        if counts.ndim != 2 or counts.shape[0] != len(self.bank.pres):
            raise ValueError(f"counts: expected shape (n_pre={len(self.bank.pres)}, n), got {counts.shape}")
        if counts.shape[1]:
            self._pending.append(counts.astype(float))
            self._n_pending += counts.shape[1]
            self.n_in += counts.shape[1]
        return self._run(flush)

    def finish(self, n_total=None):
        """Complete every output sample of the recording (``n_total`` bins, default all received)."""
        n_total = self.n_in if n_total is None else int(n_total)
        if n_total < self.n_in:
            raise ValueError(f"finish: {self.n_in} bins were pushed, more than n_total = {n_total}")
        if n_total > self.n_in:  # trailing empty bins
            self.push(np.zeros((len(self.bank.pres), n_total - self.n_in)))
        self.n_total = n_total
        out = self._run(flush=True, final=True)
        self._finished = True
        return out

    # -- computation ----------------------------------------------------------------------------

    def _run(self, flush, final=False):
        outs = []
        while self._n_pending >= self.block or (flush and self._n_pending) or (final and self._needs_tail()):
            outs.append(self._block(final))
        res = merge_outputs(outs, self.n_out) if outs else self._empty()
        self.n_out += res["n"]
        return res

    def _empty(self):
        b = self.bank
        return {"start": self.n_out, "n": 0,
                "signals": {s: np.zeros((len(b.posts) + 1, b.n_channels(s), 0)) for s in b.signals},
                "contributions": ({s: np.zeros((len(b.posts), len(b.pres), b.n_channels(s), 0)) for s in b.signals}
                                  if self.contributions else {}),
                "counts": np.zeros((len(b.pres), 0), dtype=np.int64)}

    def _needs_tail(self):
        return self.n_full < self.n_in  # decimation look-ahead: zero counts after the end

    def _take(self, n):
        buf = np.concatenate(self._pending, axis=1) if len(self._pending) > 1 else self._pending[0]
        block, rest = buf[:, :n], buf[:, n:]
        self._pending = [rest] if rest.shape[1] else []
        self._n_pending -= block.shape[1]
        return block

    def _block(self, final):
        if self._n_pending:
            x_new = self._take(min(self.block, self._n_pending))
        else:  # tail after the recording: zeros until every look-ahead is covered
            x_new = np.zeros((len(self.bank.pres), min(self.block, self.m + 1)))
        L = x_new.shape[1]
        x = np.concatenate([self._hist, x_new], axis=1)
        self._hist = x[:, -self.n_hist:] if self.n_hist else x[:, :0]
        nfft = self.nfft if L == self.block else min(self.nfft, 1 << int(np.ceil(np.log2(L + self.n_hist))))
        G_all = self._transforms(nfft)
        C = fft.rfft(x, nfft, axis=-1)  # (pre, f)
        # samples of G * x valid for this block: y'[j] for j = n_in_block_start .. + L - 1; the
        # decimated/filtered sample z[n] = y'[n + m]
        first = self._block_start
        self._block_start += L
        start_full = first - self.m  # full-rate index of the first sample of this block's output
        lo = max(0, -start_full)  # samples before t = 0 (the first m of the look-ahead) are dropped
        limit = self.n_in if not final else self.n_total
        hi = min(L, limit - start_full)
        keep = np.arange(lo, hi)
        keep = keep[(start_full + keep) % self.q == 0]
        idx = self.n_hist + keep
        signals, contributions = {}, {}
        for name, G in G_all.items():
            if self.contributions:
                c = fft.irfft(G * C[None, :, None, :], nfft, axis=-1)[..., idx]  # (post, pre, chan, n)
                per_post = c.sum(axis=1)
                contributions[name] = c
            else:
                per_post = fft.irfft((G * C[None, :, None, :]).sum(axis=1), nfft, axis=-1)[..., idx]
            signals[name] = np.concatenate([per_post.sum(axis=0, keepdims=True), per_post], axis=0)
        self.n_full = max(self.n_full, start_full + hi)
        counts = self._output_counts(x_new, first, len(keep), final)
        return {"n": len(keep), "signals": signals, "contributions": contributions, "counts": counts}

    def _transforms(self, nfft):
        if nfft not in self._G:
            if len(self._G) > 8:  # online use with many partial lengths: keep the cache small
                self._G.pop(next(k for k in self._G if k != self.nfft), None)
            self._G[nfft] = {name: fft.rfft(g, nfft, axis=-1) for name, g in self.g.items()}
        return self._G[nfft]

    def _output_counts(self, x_new, first, n, final):
        """Spikes per output bin ``[k q, (k+1) q)`` for the ``n`` output samples of this block.

        Complete output bins queue up (an output sample waits for its filter's look-ahead, its bin
        does not); at the end the last bin may hold fewer than ``q`` input bins.
        """
        real = x_new[:, :max(0, min(x_new.shape[1], self.n_in - first))].astype(np.int64)
        buf = np.concatenate([self._count_rest, real], axis=1)
        k = buf.shape[1] // self.q
        done = buf[:, :k * self.q].reshape(buf.shape[0], k, self.q).sum(axis=2)
        self._count_rest = buf[:, k * self.q:]
        if final and first + x_new.shape[1] >= self.n_in and self._count_rest.shape[1]:
            done = np.concatenate([done, self._count_rest.sum(axis=1, keepdims=True)], axis=1)
            self._count_rest = self._count_rest[:, :0]
        queue = np.concatenate([self._count_queue, done], axis=1)
        if queue.shape[1] < n:
            raise RuntimeError(f"internal: {n} output samples but {queue.shape[1]} complete count bins")
        self._count_queue = queue[:, n:]
        return queue[:, :n]

def _convolve_last(H, h):
    """Full convolution of every kernel trace (last axis) with filter taps ``h``."""
    n = H.shape[-1] + len(h) - 1
    nfft = fft.next_fast_len(n, real=True)
    return fft.irfft(fft.rfft(H, nfft, axis=-1) * fft.rfft(h, nfft), nfft, axis=-1)[..., :n]


def merge_outputs(outs, start=None):
    """Concatenate consecutive outputs of :meth:`StreamingPredictor.push` along time."""
    outs = [o for o in outs if o is not None]
    res = {"start": outs[0].get("start", 0) if start is None else start, "n": sum(o["n"] for o in outs),
           "signals": {}, "contributions": {}}
    for name in outs[0]["signals"]:
        res["signals"][name] = np.concatenate([o["signals"][name] for o in outs], axis=-1)
    for name in outs[0]["contributions"]:
        res["contributions"][name] = np.concatenate([o["contributions"][name] for o in outs], axis=-1)
    res["counts"] = np.concatenate([o["counts"] for o in outs], axis=-1)
    if all("time" in o for o in outs):
        res["time"] = np.concatenate([o["time"] for o in outs])
    return res


def n_output_samples(n_bins, q):
    """Output samples of a recording of ``n_bins`` bins decimated by ``q``: ``ceil(n_bins / q)``."""
    return int(math.ceil(n_bins / q))
