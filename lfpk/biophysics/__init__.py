"""Membrane biophysics: any NMODL mechanisms per section group, and the cell's linearised forms.

* :mod:`~lfpk.biophysics.spec` -- a population's biophysics block as plain data (groups,
  mechanisms, constant or distance-dependent values), evaluated per segment;
* :mod:`~lfpk.biophysics.insert` -- inserting it into NEURON (the ground truth);
* :mod:`~lfpk.biophysics.linear` -- the ``passive``, ``frozen`` (generic, measured) and
  ``quasi_linear`` forms of the kernel cell;
* :mod:`~lfpk.biophysics.nmodl` -- the currents an NMODL file declares;
* :mod:`~lfpk.biophysics.kinetics` -- the published kinetics of NaTa_t, SKv3_1, Ih and Nap_Et2 in
  Python (reference for tests and the hand-written frozen conductance).
"""

from lfpk.biophysics.insert import MechanismError, insert_active, strip
from lfpk.biophysics.kinetics import (
    CHANNELS,
    Channel,
    frozen_conductance,
    ih_dminf_dv,
    ih_rates,
    nap_et2_dinf_dv,
    nap_et2_rates,
    nata_t_rates,
    skv3_1_rates,
)
from lfpk.biophysics.linear import FORMS, QUASI_LINEAR, LinearParameters, apply, combine_leak, linearised, measure
from lfpk.biophysics.spec import Biophysics, CellBiophysics, DistanceFunction

__all__ = [
    "Biophysics", "CellBiophysics", "DistanceFunction", "MechanismError", "insert_active", "strip",
    "apply", "measure", "linearised", "combine_leak", "LinearParameters", "FORMS", "QUASI_LINEAR",
    "CHANNELS", "Channel", "frozen_conductance", "ih_dminf_dv", "ih_rates", "nap_et2_dinf_dv",
    "nap_et2_rates", "nata_t_rates", "skv3_1_rates",
]
