"""The cortical microcircuit of Potjans & Diesmann (2014) as an lfpk study (issue 27).

* :mod:`.parameters` -- the point-neuron model's facts (Potjans & Diesmann 2014, Cereb Cortex
  24:785; NEST's ``Potjans_2014`` example) and the down-scaling rule with weight and DC
  compensation;
* :mod:`.network` -- the network in NEST (``iaf_psc_exp``, fixed-total-number connections,
  Poisson background, optional thalamic volley), its spikes in the ``spikes.nc`` layout and rates;
* :mod:`.stages` -- :func:`~.stages.simulate_files` (configuration -> ``spikes.nc``, ``rates.nc``),
  :func:`~.stages.nest_example_files` (a run of NEST's own example -> ``spikes.nc``);
* :mod:`.nest_example` -- the ASCII spike files of NEST's ``Potjans_2014`` example;
* :mod:`.tables` -- layers, the 16 cell types, their occurrences, morphologies and the
  layer-specificity tables of hybridLFPy's microcircuit example (Hagen et al. 2016, Cereb Cortex
  26:4461; Binzegger et al. 2004);
* :mod:`.layered` -- the multicompartment side in lfpk's layered config format.

NEST is imported only when a network is built.
"""

from lfpk.study.microcircuit.network import MicrocircuitNetwork, isi_cv, rates_dataset
from lfpk.study.microcircuit.parameters import MicrocircuitParameters
from lfpk.study.microcircuit.stages import config_errors, nest_example_files, simulate_files

__all__ = ["MicrocircuitNetwork", "MicrocircuitParameters", "config_errors", "isi_cv", "nest_example_files",
           "rates_dataset", "simulate_files"]
