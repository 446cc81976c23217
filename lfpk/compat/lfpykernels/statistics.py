"""LFPykernels 0.2's connection statistics, with its meaning, each argument checked where it is used.

Every function refuses what it cannot honour with a ``ValueError``/``TypeError`` whose message
starts with the argument's name as the caller wrote it (``multapseParameters[1]``,
``synapsePositionArguments[0].funargs[1]``, ...).

* Multapses (``multapseFunction``, ``multapseParameters[i]``): a distribution with a ``pdf``
  (continuous, e.g. ``scipy.stats.truncnorm``) is evaluated at 1..99 synapses per pair and
  normalised; one with a ``pmf`` (discrete, e.g. ``scipy.stats.poisson``) is used as it is, its
  mean over its whole support.
* Delays (``delayFunction``, ``delayParameters[i]``, ms): the ``pdf`` sampled at
  ``linspace(-tau, tau, int(2 tau // dt + 1))`` and normalised to sum 1; negative delays allowed.
* Synapse placement (``synapsePositionArguments[i]``): on the segments of ``section`` (LFPy's
  name matching) with midpoint depth in ``(z_min, z_max)``, probability proportional to segment area
  times ``sum_h funweights[h] * fun[h](**funargs[h]).pdf(z)``, each ``funargs[h]['scale']``
  broadened to ``sqrt(scale**2 + populationParameters['scale']**2)`` (um).
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.stats

#: Synapses per connected pair on which a continuous multapse density is evaluated (LFPykernels).
MULTAPSE_COUNTS = np.arange(1, 100)


def _distribution_class(fun, where):
    """``fun`` or, for a string, the scipy.stats distribution of that name."""
    if isinstance(fun, str):
        dist = getattr(scipy.stats, fun, None)
        if dist is None or not (hasattr(dist, "pdf") or hasattr(dist, "pmf")):
            raise ValueError(f"{where}: {fun!r} is not a scipy.stats distribution")
        return dist
    if not callable(fun):
        raise TypeError(f"{where}: expected a scipy.stats distribution (or its name), got {type(fun).__name__}")
    return fun


def frozen(fun, args, where_fun, where_args):
    """``fun(**args)``: the distribution with its parameters, refused with the argument's name."""
    if not isinstance(args, dict):
        raise TypeError(f"{where_args}: expected a dict of keyword arguments, got {type(args).__name__}")
    try:
        return fun(**args)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where_args}: {exc}") from None


def multapse_mean(fun, args, where_fun, where_args):
    """Expected synapses per connected pair (dimensionless), LFPykernels' rule (module docstring)."""
    fun = _distribution_class(fun, where_fun)
    d = frozen(fun, args, where_fun, where_args)
    if hasattr(fun, "pdf"):
        pk = np.asarray(d.pdf(MULTAPSE_COUNTS), dtype=float)
        if not np.all(np.isfinite(pk)) or pk.sum() <= 0:
            raise ValueError(f"{where_args}: the multapse density has no mass on 1..99 synapses per pair")
        mean = float((MULTAPSE_COUNTS * pk).sum() / pk.sum())
    elif hasattr(fun, "pmf"):
        mean = float(d.mean())
    else:
        raise TypeError(f"{where_fun}: must be a scipy.stats distribution with a pdf (continuous) or a pmf "
                        "(discrete)")
    if not np.isfinite(mean) or mean < 0:
        raise ValueError(f"{where_args}: the multapse distribution has mean {mean}, expected a finite number >= 0")
    return mean


def delay_lags(dt, tau):
    """Lags (ms) on which LFPykernels samples the delay density."""
    return np.linspace(-tau, tau, int(2 * tau // dt + 1))


def delay_transfer(fun, args, dt, tau, where_fun, where_args):
    """Delay weights on :func:`delay_lags` (sum 1), LFPykernels' rule (module docstring)."""
    fun = _distribution_class(fun, where_fun)
    d = frozen(fun, args, where_fun, where_args)
    if not callable(getattr(d, "pdf", None)):
        raise TypeError(f"{where_fun}: must be a continuous distribution with a pdf (LFPykernels samples the "
                        "delay density on the lag grid)")
    h = np.asarray(d.pdf(delay_lags(dt, tau)), dtype=float)
    if not np.all(np.isfinite(h)) or h.sum() <= 0:
        raise ValueError(f"{where_args}: the delay density is zero (or not finite) on every lag in "
                         f"[-{tau}, {tau}] ms")
    return h / h.sum()


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else None


def placement_terms(spec, population_scale, where):
    """The checked densities of one ``synapsePositionArguments`` entry, broadened.

    Returns
    -------
    section : str or list of str
    z_min, z_max : float
        Midpoint depth bounds (um).
    terms : list of (frozen distribution, weight)
    """
    if not isinstance(spec, dict):
        raise TypeError(f"{where}: expected a dict (section, fun, funargs, funweights), got {type(spec).__name__}")
    unknown = sorted(set(spec) - {"section", "z_min", "z_max", "fun", "funargs", "funweights"})
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: not an argument of LFPykernels' synapse placement "
                         "(section, z_min, z_max, fun, funargs, funweights)")
    section = spec.get("section", "allsec")
    if isinstance(section, str):
        pass
    elif _as_list(section) is not None and section and all(isinstance(s, str) for s in section):
        section = [str(s) for s in section]
    else:
        raise TypeError(f"{where}.section: expected a section name or a list of them, got {section!r}")
    bounds = []
    for key, default in (("z_min", -1e6), ("z_max", 1e6)):
        value = spec.get(key, default)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where}.{key}: expected a depth (um), got {value!r}")
        bounds.append(float(value))
    if "funargs" not in spec:
        raise ValueError(f"{where}.funargs: required (LFPykernels broadens each funargs' scale)")
    funs, args, weights = _as_list(spec.get("fun", scipy.stats.norm)), _as_list(spec["funargs"]), \
        spec.get("funweights")
    if funs is None:  # one density: fun, funargs (a dict), funweights None or a number
        funs = [spec.get("fun", scipy.stats.norm)]
        args = [spec["funargs"]] if args is None else args
        weights = [1.0] if weights is None else (_as_list(weights) or [weights])
    else:
        if args is None:
            raise TypeError(f"{where}.funargs: expected a list of dicts, one per fun")
        weights = _as_list(weights)
        if weights is None:
            raise TypeError(f"{where}.funweights: expected a list of numbers, one per fun")
    if not (len(funs) == len(args) == len(weights)) or not funs:
        raise ValueError(f"{where}.funweights: fun, funargs and funweights must have the same non-zero length, "
                         f"got {len(funs)}, {len(args)}, {len(weights)}")
    terms = []
    for h, (fun, a, w) in enumerate(zip(funs, args, weights)):
        if not isinstance(a, dict):
            raise TypeError(f"{where}.funargs[{h}]: expected a dict, got {type(a).__name__}")
        if "scale" not in a:
            raise ValueError(f"{where}.funargs[{h}]: needs 'scale' (um), which LFPykernels broadens by "
                             "populationParameters['scale']")
        if isinstance(w, (bool, np.bool_)) or not isinstance(w, numbers.Real) or not np.isfinite(w):
            raise TypeError(f"{where}.funweights[{h}]: expected a finite number, got {w!r}")
        broadened = dict(a, scale=float(np.sqrt(float(a["scale"]) ** 2 + float(population_scale) ** 2)))
        dist = _distribution_class(fun, f"{where}.fun[{h}]")
        frozen_dist = frozen(dist, broadened, f"{where}.fun[{h}]", f"{where}.funargs[{h}]")
        if not callable(getattr(frozen_dist, "pdf", None)):
            raise TypeError(f"{where}.fun[{h}]: must be a continuous distribution with a pdf over depth (um)")
        terms.append((frozen_dist, float(w)))
    return section, bounds[0], bounds[1], terms


def placement_probability(cell, spec, population_scale, where):
    """Probability (n_segments,), sum 1, of a synapse on each segment of the LFPy cell (um geometry)."""
    section, z_min, z_max, terms = placement_terms(spec, population_scale, where)
    idx = np.asarray(cell.get_idx(section=section, z_min=z_min, z_max=z_max), dtype=int)
    if idx.size == 0:
        raise ValueError(f"{where}.section: {section!r} with z in ({z_min}, {z_max}) um matches no segment "
                         "of the cell")
    zmid = np.asarray(cell.z, dtype=float)[idx].mean(axis=-1)
    density = np.zeros(idx.size)
    for dist, w in terms:
        density += np.asarray(dist.pdf(zmid), dtype=float) * w
    p = np.zeros(cell.totnsegs)
    p[idx] = np.asarray(cell.area, dtype=float)[idx] * density
    total = p.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError(f"{where}.funargs: the weighted densities are zero (or not finite) on every segment "
                         f"of {section!r}")
    return p / total
