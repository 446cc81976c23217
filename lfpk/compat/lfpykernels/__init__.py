"""LFPykernels 0.2 on lfpk: change ``from lfpykernels import ...`` to
``from lfpk.compat.lfpykernels import ...`` and nothing else.

``KernelApprox`` (:mod:`~lfpk.compat.lfpykernels.approx`), ``GaussCylinderPotential`` and
``KernelApproxCurrentDipoleMoment`` (:mod:`~lfpk.compat.lfpykernels.probes`) take every argument
of LFPykernels 0.2 with its meaning and units, and ``KernelApprox.get_kernel`` returns what
LFPykernels returns: a dict keyed by probe class name of arrays (n_channels, n_lags) on the same
lags. What cannot be honoured is refused with a ``ValueError`` or ``TypeError`` naming the
argument. The argument-by-argument vocabulary, the differences and a migrated script are in
``docs/lfpykernels.md``.
"""

from lfpk.compat.lfpykernels.approx import KernelApprox
from lfpk.compat.lfpykernels.probes import GaussCylinderPotential, KernelApproxCurrentDipoleMoment

__all__ = ["GaussCylinderPotential", "KernelApprox", "KernelApproxCurrentDipoleMoment"]
