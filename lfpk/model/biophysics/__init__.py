"""Membrane biophysics: any NMODL mechanisms per section group, and the cell's linearised forms.

* :mod:`~lfpk.model.biophysics.spec` -- a population's biophysics block as plain data (groups,
  mechanisms, constant or distance-dependent values), evaluated per segment;
* :mod:`~lfpk.model.biophysics.insert` -- inserting it into NEURON (the ground truth);
* :mod:`~lfpk.model.biophysics.linear` -- the ``passive``, ``frozen`` (generic, measured) and
  ``quasi_linear`` forms of the kernel cell;
* :mod:`~lfpk.model.biophysics.nmodl` -- the currents an NMODL file declares;
* :mod:`~lfpk.model.biophysics.kinetics` -- the published kinetics of Hay et al.'s (2011) channels (NaTa_t,
  Nap_Et2, SKv3_1, Ih, K_Pst, K_Tst, Im, Ca_HVA, Ca_LVAst, SK_E2) in Python (reference for tests
  and the hand-written frozen conductance);
* :mod:`~lfpk.model.biophysics.calcium` -- the CaDynamics_E2 calcium shell and its resting state.
"""

from lfpk.model.biophysics.calcium import cadynamics_steady_state, nernst, resting_calcium
from lfpk.model.biophysics.insert import MechanismError, insert_active, strip
from lfpk.model.biophysics.kinetics import (
    CHANNELS,
    Channel,
    ca_hva_rates,
    ca_lvast_rates,
    frozen_conductance,
    ih_dminf_dv,
    ih_rates,
    im_rates,
    k_pst_rates,
    k_tst_rates,
    nap_et2_dinf_dv,
    nap_et2_rates,
    nata_t_rates,
    sk_e2_zinf,
    skv3_1_dminf_dv,
    skv3_1_rates,
)
from lfpk.model.biophysics.linear import (
    DEFAULT_QUASI_LINEAR,
    FORMS,
    QUASI_LINEAR,
    LinearParameters,
    apply,
    combine_leak,
    linearised,
    measure,
)
from lfpk.model.biophysics.spec import Biophysics, CellBiophysics, DistanceFunction

__all__ = [
    "Biophysics", "CellBiophysics", "DistanceFunction", "MechanismError", "insert_active", "strip",
    "apply", "measure", "linearised", "combine_leak", "LinearParameters", "FORMS", "QUASI_LINEAR", "DEFAULT_QUASI_LINEAR",
    "CHANNELS", "Channel", "frozen_conductance", "ih_dminf_dv", "ih_rates", "nap_et2_dinf_dv",
    "nap_et2_rates", "nata_t_rates", "skv3_1_rates", "k_pst_rates", "k_tst_rates", "im_rates", "ca_hva_rates",
    "ca_lvast_rates", "sk_e2_zinf", "skv3_1_dminf_dv", "cadynamics_steady_state", "nernst", "resting_calcium",
]
