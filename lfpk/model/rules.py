"""The rules of the study that more than one stage applies, each written once.

Ground truth (:mod:`lfpk.engines.network`, :mod:`lfpk.model.connectivity`), kernels (:mod:`lfpk.engines.kernel`),
predictions, figures and the workflow all take these from here, so they cannot disagree:

* which synapses are excitatory and how the weight scaling ``J`` scales them
  (:func:`weight_factors`);
* the multapse count distribution and its mean (:func:`multapse_pmf`, :func:`multapse_mean`);
* spike binning on the simulation grid (:func:`n_bins`, :func:`bin_index`);
* the kernel-variant grammar ``<biophysics>-<geff|nogeff>-<scalar|segment>``
  (:func:`parse_variant`, :func:`variant_name`, :data:`VARIANT_PATTERN`).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

# ---------------------------------------------------------------------------------------------
# Weight scaling
# ---------------------------------------------------------------------------------------------

#: Reversal potential (mV) above which a conductance synapse counts as excitatory.
EXCITATORY_E_MIN = -20.0


def is_excitatory(synapse) -> bool:
    """True if a synapse (config mapping) is excitatory: a conductance synapse with ``e > -20 mV``,
    a current synapse (``model: Exp2SynI``) with a positive (inward) weight."""
    if synapse.get("model", "Exp2Syn") == "Exp2SynI":
        return float(synapse["weight"]) > 0
    return float(synapse["e"]) > EXCITATORY_E_MIN


def weight_factors(connections, J) -> list[float]:
    """Factor on the mean weight of every connection for the weight scaling ``J`` (dimensionless).

    The rule of Hagen et al. (2022, PLOS Comput Biol 18:e1010353; its ``example_network.py``),
    written once for the ground truth and the kernels. The mean weights onto each postsynaptic
    population Y are updated one after the other, each raised by a power of ``J`` set by a ratio
    of weights: first every excitatory input (:func:`is_excitatory`) of Y,

        w_YE  <-  w_YE * J ** (W_YI / w_YE),      W_YI = sum of the inhibitory mean weights onto Y,

    then every inhibitory input, with the *updated* excitatory weights,

        w_YI  <-  w_YI * J ** (W'_YE / w_YI),     W'_YE = sum of the updated excitatory weights onto Y.

    With one excitatory and one inhibitory population this is the study's sequence
    ``w_EE *= J**(w_EI/w_EE)``, ``w_IE *= J**(w_II/w_IE)``, ``w_EI *= J**(w_EE/w_EI)``,
    ``w_II *= J**(w_IE/w_II)`` (w_YX onto Y from X; the last two with the updated w_EE, w_IE):
    at J = 1.075 and the study's weights (w_EE 1.5e-4, w_IE 1.25e-4, w_EI 4.5e-3, w_II 2e-3 uS)
    E->E becomes 8.755 and E->I 3.181 times stronger, I->E 1.021 and I->I 1.014 times. The sums
    over several inputs of one kind are lfpk's generalisation to more populations (the study
    has one of each). The weights are the config's mean weights (``synapse.weight``); the
    extrinsic drive is not scaled.

    Parameters
    ----------
    connections : list of dict
        The config's ``connections`` (each with ``post``, ``synapse.e`` in mV and
        ``synapse.weight`` in uS).
    J : float
        The config's ``weight_scaling.J``.

    Returns
    -------
    list of float
        One factor per connection, in config order (all 1 at J = 1).

    Raises
    ------
    ValueError
        ``J != 1`` and a postsynaptic population receives only excitatory or only inhibitory
        inputs (the exponent of the rule is undefined), or a mean weight is not positive.

    Examples
    --------
    The study's four connections (weights in uS, reversal potentials in mV) at J = 1.075:

    >>> def conn(pre, post, w, e):
    ...     return {"pre": pre, "post": post, "synapse": {"weight": w, "e": e}}
    >>> study = [conn("E", "E", 1.5e-4, 0.0), conn("E", "I", 1.25e-4, 0.0),
    ...          conn("I", "E", 4.5e-3, -80.0), conn("I", "I", 2e-3, -80.0)]
    >>> [round(f, 3) for f in weight_factors(study, 1.075)]
    [8.755, 3.181, 1.021, 1.014]
    >>> weight_factors(study, 1.0)
    [1.0, 1.0, 1.0, 1.0]
    """
    J = float(J)
    factors = [1.0] * len(connections)
    if J == 1.0:
        return factors
    posts = list(dict.fromkeys(c["post"] for c in connections))
    for post in posts:
        idx = [i for i, c in enumerate(connections) if c["post"] == post]
        exc = [i for i in idx if is_excitatory(connections[i]["synapse"])]
        inh = [i for i in idx if i not in exc]
        if not exc or not inh:
            kind = "inhibitory" if exc else "excitatory"
            raise ValueError(f"weight_scaling.J: the weight-scaling rule (Hagen et al. 2022) needs an excitatory "
                             f"and an inhibitory input onto every population; {post} has no {kind} input "
                             "(use J = 1)")
        w = [float(c["synapse"]["weight"]) for c in connections]
        bad = [i for i in idx if not w[i] > 0]
        if bad:
            raise ValueError(f"connections[{bad[0]}].synapse.weight: must be > 0 (uS) for the weight-scaling rule")
        W_inh = sum(w[i] for i in inh)
        for i in exc:
            factors[i] = J ** (W_inh / w[i])
        W_exc = sum(w[i] * factors[i] for i in exc)  # the updated excitatory weights
        for i in inh:
            factors[i] = J ** (W_exc / w[i])
    return factors


# ---------------------------------------------------------------------------------------------
# Multapses
# ---------------------------------------------------------------------------------------------

#: Support of the multapse count distribution (LFPy's convention: 1..99).
MULTAPSE_MAX = 99


def frozen_distribution(spec, what="distribution"):
    """A frozen scipy.stats distribution from ``{distribution: name, params: {...}}``.

    ``what`` names the config entry in error messages (e.g. ``connections[0].delays``).
    """
    name = spec.get("distribution") if isinstance(spec, dict) else None
    dist = getattr(scipy.stats, str(name), None)
    if dist is None or not hasattr(dist, "rvs"):
        raise ValueError(f"{what}.distribution: {name!r} is not a scipy.stats distribution")
    params = {k: float(v) for k, v in spec.get("params", {}).items()}
    try:
        return dist(**params)
    except TypeError as exc:
        raise ValueError(f"{what}.params: {exc}") from None


def multapse_pmf(spec, kmax=MULTAPSE_MAX, what="multapses"):
    """Probabilities of 1..kmax synapses per connected pair (Hagen et al. 2022, Methods).

    Parameters
    ----------
    spec : dict
        ``{distribution, params}`` (config ``connections[].multapses``).

    Returns
    -------
    k, p : ndarray
        Counts ``1..kmax`` and their probabilities (sum 1). A continuous distribution's pdf and a
        discrete one's pmf are evaluated at ``k`` and normalised.
    """
    d = frozen_distribution(spec, what)
    k = np.arange(1, kmax + 1)
    p = d.pmf(k) if hasattr(d.dist, "pmf") else d.pdf(k)
    p = np.asarray(p, dtype=float)
    if not np.all(np.isfinite(p)) or p.sum() <= 0:
        raise ValueError(f"{what}: the distribution {spec} has no mass on 1..{kmax}")
    return k, p / p.sum()


def multapse_mean(spec, what="multapses") -> float:
    """Expected number of synapses per connected pair, ``sum_k k p_k`` (dimensionless).

    Examples
    --------
    The study's E->E multapses, a normal distribution (mean 2, sd 0.4) truncated to
    [1, 10] and taken on the integers 1..99, give 2 synapses per pair on average (within 1e-5):

    >>> spec = {"distribution": "truncnorm", "params": {"a": -2.5, "b": 20.0, "loc": 2.0, "scale": 0.4}}
    >>> round(multapse_mean(spec), 4)
    2.0
    """
    k, p = multapse_pmf(spec, what=what)
    return float((k * p).sum())


# ---------------------------------------------------------------------------------------------
# Spike binning
# ---------------------------------------------------------------------------------------------

#: Tolerance (in bins) of the bin assignment ``floor(t / dt + BIN_EPS)``: absorbs the float
#: representation of spike times that sit on a bin edge.
BIN_EPS = 1e-6


def n_bins(tstop, dt) -> int:
    """Number of bins ``floor(tstop/dt) + 1``: bin times 0, dt, ..., up to and including tstop."""
    return int(math.floor(float(tstop) / float(dt) + BIN_EPS)) + 1


def bin_index(times, dt, n):
    """Bin ``k`` (int64) of each spike time (ms): bin ``k`` is ``[k dt, (k+1) dt)``.

    ``k = floor(t/dt + BIN_EPS)``, clipped to ``0 .. n - 1`` (a time within ``BIN_EPS`` below an
    edge past the last bin stays in the last bin). Used by the network's spike counts and
    :mod:`lfpk.engines.spikes` (predictions), so both bin alike.

    Examples
    --------
    Bins of 0.5 ms up to tstop = 2 ms: a spike on an edge belongs to the bin it starts, one at
    tstop to the last bin:

    >>> n = n_bins(2.0, 0.5)
    >>> n
    5
    >>> bin_index([0.0, 0.49, 0.5, 1.2, 2.0], 0.5, n).tolist()
    [0, 0, 1, 2, 4]
    """
    b = np.floor(np.asarray(times, dtype=float) / float(dt) + BIN_EPS).astype(np.int64)
    return np.clip(b, 0, int(n) - 1)


# ---------------------------------------------------------------------------------------------
# Kernel variants
# ---------------------------------------------------------------------------------------------

#: Kernel cell forms.
KERNEL_FORMS = ("passive", "frozen", "quasi_linear")
#: Parts of a kernel variant name: <biophysics>-<geff|nogeff>-<scalar|segment>.
VARIANT_PARTS = (KERNEL_FORMS, ("geff", "nogeff"), ("scalar", "segment"))
#: Regular expression of a variant name (schema patterns and Snakemake wildcard constraints).
VARIANT_PATTERN = "(" + ")-(".join("|".join(p) for p in VARIANT_PARTS) + ")"


def parse_variant(name) -> dict:
    """Kernel options of a variant name, e.g. ``frozen-geff-scalar``.

    Returns
    -------
    dict
        ``biophysics`` (str), ``g_eff`` (bool), ``v_rest_mode`` (``scalar``/``segment``).
    """
    parts = str(name).split("-")
    if len(parts) != 3 or any(p not in allowed for p, allowed in zip(parts, VARIANT_PARTS)):
        raise ValueError(
            f"kernel variant {name!r}: expected <biophysics>-<geff|nogeff>-<scalar|segment> with "
            f"biophysics in {VARIANT_PARTS[0]}"
        )
    return {"biophysics": parts[0], "g_eff": parts[1] == "geff", "v_rest_mode": parts[2]}


def variant_name(biophysics, g_eff, v_rest_mode="scalar") -> str:
    """The variant name of kernel options (inverse of :func:`parse_variant`)."""
    return f"{biophysics}-{'geff' if g_eff else 'nogeff'}-{v_rest_mode}"
