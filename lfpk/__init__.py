"""lfpk: spike-to-signal kernels from linearised multicompartment neurons.

Implements the linearised framework of Hagen et al. (2022), PLOS Comput Biol 18(8):e1010353,
and a ground-truth multicompartment network to test it against.
"""

__version__ = "0.1.0"
