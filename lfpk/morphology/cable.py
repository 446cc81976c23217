"""Cable quantities of the d_lambda segmentation rule.

Hines & Carnevale (2001), "NEURON: a tool for neuroscientists", The Neuroscientist 7:123: the
number of segments of a section is the smallest odd number with segment length at most
``d_lambda`` times the AC length constant at ``frequency`` (LFPy's ``lambda100`` for
``d_lambda = 0.1``, ``frequency = 100 Hz``).
"""

from __future__ import annotations

import numpy as np


def lambda_ac(diam, Ra, cm, frequency):
    """AC length constant (um) of a cylinder.

    ``lambda_f = 1e5 * sqrt(diam / (4 pi f Ra cm))`` um for ``diam`` in um, ``Ra`` in ohm cm,
    ``cm`` in uF/cm2 and ``f`` in Hz.

    Parameters
    ----------
    diam : float
        Diameter (um).
    Ra : float
        Axial resistivity (ohm cm).
    cm : float
        Specific membrane capacitance (uF/cm2).
    frequency : float
        Frequency (Hz).
    """
    return 1e5 * np.sqrt(diam / (4.0 * np.pi * frequency * Ra * cm))


def nseg_from_length_constants(electrotonic_length, d_lambda) -> int:
    """Odd segment count of the d_lambda rule for a section ``electrotonic_length`` = L / lambda_f long."""
    return int((electrotonic_length / d_lambda + 0.9) / 2) * 2 + 1


def d_lambda_nseg(length, diam, Ra, cm, d_lambda, frequency) -> int:
    """Odd number of segments of the d_lambda rule for a cylinder of ``length`` and ``diam`` (um)."""
    ratio = length / (d_lambda * lambda_ac(diam, Ra, cm, frequency))
    return int((ratio + 0.9) / 2) * 2 + 1
