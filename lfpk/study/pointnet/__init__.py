"""Point-neuron (LIF) network fitted to the ground truth, with kernel predictions of its signals.

Hagen et al. (2022), PLOS Comput Biol 18:e1010353, Fig 14: a NEST ``iaf_psc_exp`` network with the
ground truth's population sizes and connection probabilities, fitted by NSGA-II to the ground
truth's rates and rate spectra, whose spikes are turned into LFP, CSD, dipole, EEG and MEG by the
ground truth's kernels, offline and while NEST runs. NEST and pymoo come with the ``pointnet`` extra
(``pip install 'lfpk[pointnet]'``); importing this package does not import them.
"""

from lfpk.study.pointnet.features import RateFeatures, objectives, rate_features
from lfpk.study.pointnet.fit import FitSettings, choose_by_pseudo_weights, fit_network, pseudo_weights
from lfpk.study.pointnet.network import LIFNetwork, spikes_dataset
from lfpk.study.pointnet.parameters import FreeParameter, LIFParameters

__all__ = ["FitSettings", "FreeParameter", "LIFNetwork", "LIFParameters", "RateFeatures", "choose_by_pseudo_weights",
           "fit_network", "objectives", "pseudo_weights", "rate_features", "spikes_dataset"]
