"""Synapse models of the network description (NEURON's Exp2Syn time course)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.stats

#: Synapse models: conductance based (linearised by the kernel) and current based (taken as is).
SYNAPSE_MODELS = ("Exp2Syn", "Exp2SynI")


@lru_cache(maxsize=256)
def truncated_mean(weight, sd):
    """Mean of the normal distribution (``weight``, ``sd``) truncated at 0 on the side away from
    ``weight`` (weights keep its sign; freezing the scipy.stats distribution costs about 1 ms, the
    kernel engine asks for it on every kernel)."""
    if weight < 0:
        return -truncated_mean(-weight, sd)
    return float(scipy.stats.truncnorm(-weight / sd, np.inf, loc=weight, scale=sd).mean())


class SynapseError(ValueError):
    """Invalid synapse parameters; the message names the parameter."""


@dataclass(frozen=True)
class Synapse:
    """Double-exponential synapse (NEURON Exp2Syn time course, peak-normalised).

    Parameters
    ----------
    tau1, tau2 : float
        Rise and decay time constants (ms), tau2 > tau1 > 0.
    weight : float
        Mean peak conductance (uS) for ``Exp2Syn``, peak current (nA, positive = inward) for
        ``Exp2SynI``.
    e : float
        Reversal potential (mV) of a conductance synapse.
    model : str
        ``Exp2Syn`` (conductance based, linearised around V_rest) or ``Exp2SynI`` (current based).
    weight_sd : float
        Standard deviation of the weight as a fraction of ``|weight|``; weights are drawn from a
        normal distribution redrawn when of the other sign than ``weight`` (below 0 for a
        conductance), so the mean weight is that of the normal distribution truncated at 0.
    """

    tau1: float
    tau2: float
    weight: float
    e: float = 0.0
    model: str = "Exp2Syn"
    weight_sd: float = 0.0

    def __post_init__(self):
        if self.model not in SYNAPSE_MODELS:
            raise SynapseError(f"synapse.model: {self.model!r} is not one of {SYNAPSE_MODELS}")
        if not (self.tau1 > 0 and self.tau2 > self.tau1):
            raise SynapseError(
                f"synapse.tau2: need tau2 > tau1 > 0 (ms), got tau1={self.tau1}, tau2={self.tau2}"
            )
        if self.weight_sd < 0:
            raise SynapseError(f"synapse.weight_sd: must be >= 0, got {self.weight_sd}")

    @classmethod
    def from_config(cls, syn):
        return cls(
            tau1=float(syn["tau1"]), tau2=float(syn["tau2"]), weight=float(syn["weight"]),
            e=float(syn.get("e", 0.0)), model=syn.get("model", "Exp2Syn"),
            weight_sd=float(syn.get("weight_sd", 0.0)),
        )

    @property
    def conductance_based(self) -> bool:
        return self.model == "Exp2Syn"

    @property
    def mean_weight(self) -> float:
        """Mean weight (uS or nA) of the normal distribution truncated at 0 (keeping the weight's sign)."""
        sd = self.weight_sd * abs(self.weight)
        if sd == 0 or self.weight == 0:
            return self.weight
        return truncated_mean(float(self.weight), float(sd))

    @property
    def peak_factor(self) -> float:
        """Factor normalising exp(-t/tau2) - exp(-t/tau1) to a peak of 1 (dimensionless)."""
        t_peak = self.tau1 * self.tau2 / (self.tau2 - self.tau1) * np.log(self.tau2 / self.tau1)
        return 1.0 / (np.exp(-t_peak / self.tau2) - np.exp(-t_peak / self.tau1))

    @property
    def time_integral(self) -> float:
        """Integral over time of the peak-normalised time course (ms)."""
        return self.peak_factor * (self.tau2 - self.tau1)

    def linearised_amplitude(self, V_rest):
        """Peak current (nA, positive = inward) of the synapse around ``V_rest`` (mV).

        ``-g * (V_rest - E)`` for a conductance synapse; the weight itself for a current synapse.
        """
        if self.conductance_based:
            return -self.mean_weight * (np.asarray(V_rest, dtype=float) - self.e)
        return np.full_like(np.asarray(V_rest, dtype=float), self.mean_weight)

    def with_weight(self, weight) -> "Synapse":
        return Synapse(self.tau1, self.tau2, weight, self.e, self.model, self.weight_sd)
