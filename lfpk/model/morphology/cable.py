"""Segmentation rules: the number of segments of a section.

* d_lambda rule (Hines & Carnevale 2001, "NEURON: a tool for neuroscientists", The Neuroscientist
  7:123): the smallest odd number with segment length at most ``d_lambda`` times the AC length
  constant at ``frequency`` (LFPy's ``lambda100`` for ``d_lambda = 0.1``, ``frequency = 100 Hz``);
  config ``segmentation: {d_lambda, frequency}``.
* length rule: ``nseg = 1 + 2 int(L / length)`` (the template of Hay et al. 2011, PLoS Comput Biol
  7:e1002107, with ``length = 40 um``); config ``segmentation: {length}``.
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


def length_nseg(section_length, length) -> int:
    """Odd segment count ``1 + 2 int(L / length)`` of the length rule (L, length in um)."""
    return 1 + 2 * int(float(section_length) / float(length))


def segmentation_options(spec, what="segmentation"):
    """``{d_lambda, frequency}`` or ``{segment_length}`` (keyword arguments of the morphology
    classes) from a config ``segmentation`` block."""
    spec = spec or {}
    if "length" in spec:
        if "d_lambda" in spec or "frequency" in spec:
            raise ValueError(f"{what}: give either length (um) or d_lambda and frequency, not both")
        return {"segment_length": float(spec["length"])}
    try:
        return {"d_lambda": float(spec["d_lambda"]), "frequency": float(spec["frequency"])}
    except KeyError as exc:
        raise ValueError(f"{what}: missing {exc.args[0]} (the d_lambda rule needs d_lambda and frequency; "
                         "or give length)") from None


def segmentation_attrs(obj):
    """netCDF attributes describing the segmentation rule of a morphology object."""
    if getattr(obj, "segment_length", None) is not None:
        return {"segmentation": "length", "segment_length": obj.segment_length, "segment_length_units": "um"}
    return {"segmentation": "d_lambda", "d_lambda": obj.d_lambda, "frequency": obj.frequency,
            "frequency_units": "Hz"}
