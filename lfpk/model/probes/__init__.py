"""Linear probes mapping a kernel cell's transmembrane currents to population-averaged signals.

The kernel method (Hagen et al. 2022, PLOS Comput Biol 18:e1010353, "Methods: Kernel
approximation") simulates ONE representative cell per population, placed at the population's mean
soma position, and maps its transmembrane currents ``I_m`` (nA, one value per segment) to signals
averaged over the population's spatial distribution of somata: uniform in a disc of radius ``R``
in the x-y plane and Gaussian with standard deviation ``sigma_z`` along depth z (the
``UniformCylinder`` probes: uniform in depth within a layer of given thickness). Every probe here
is linear, ``signal = M @ I_m``, with ``M = probe.get_transformation_matrix()`` of shape
``(n_channels, n_seg)``, in the style of LFPykit's ``LinearModel`` classes.

Probes and output units
-----------------------
=========================== ======================= ============== =========================
class                       input                   matrix shape   output units
=========================== ======================= ============== =========================
GaussCylinderPotential      I_m (nA)                (n_z, n_seg)   mV
GaussCylinderCSD            I_m (nA)                (n_z, n_seg)   uA/mm3
UniformCylinderPotential    I_m (nA)                (n_z, n_seg)   mV
UniformCylinderCSD          I_m (nA)                (n_z, n_seg)   uA/mm3
CurrentDipoleMoment         I_m (nA)                (3, n_seg)     nA um
PopulationAveragedModel     I_m (nA)                (n_ch, n_seg)  as the LFPykit model
FourSphereEEG               dipole moment (nA um)   (n_el, 3)      mV
MEG                         dipole moment (nA um)   (3 n_s, 3)     nA/um (H) or fT (B)
=========================== ======================= ============== =========================

Unit bookkeeping used throughout: 1 nA / (1 S/m * 1 um) = 1e-9 A / 1e-6 S = 1e-3 V = 1 mV, and
1 nA/um3 = 1e-3 uA / 1e-9 mm3 = 1e6 uA/mm3.

Segment geometry may be given as an ``lfpykit.CellGeometry`` (or any object with attributes
``x, y, z`` of shape (n_seg, 2) in um and ``d`` in um, such as ``LFPy.Cell``), as the dict of
:mod:`lfpk.model.morphology.table` (a segment table), as its xarray Dataset, or as a morphology object
(:class:`lfpk.model.morphology.BallAndStick`, :class:`lfpk.model.morphology.FileMorphology`). As in LFPykit,
``cell=None`` at construction is allowed; the geometry is then passed to
``get_transformation_matrix(geometry)`` or assigned to ``probe.cell`` later.

Modules: :mod:`~lfpk.model.probes.geometry`, :mod:`~lfpk.model.probes.gauss_cylinder` (LFP, CSD),
:mod:`~lfpk.model.probes.uniform_cylinder` (LFP, CSD of somata uniform in a layer, exact),
:mod:`~lfpk.model.probes.dipole`, :mod:`~lfpk.model.probes.population` (any LFPykit model, quadrature order
by refinement), :mod:`~lfpk.model.probes.head` (EEG, MEG), :mod:`~lfpk.model.probes.from_config`.
"""

from lfpk.model.probes.dipole import CurrentDipoleMoment
from lfpk.model.probes.from_config import probes_from_config
from lfpk.model.probes.gauss_cylinder import (
    GaussCylinderCSD,
    GaussCylinderPotential,
    gauss_cylinder_potential_quad,
)
from lfpk.model.probes.geometry import as_cell_geometry
from lfpk.model.probes.head import FT_PER_NA_PER_UM, MEG, MU_0, FourSphereEEG
from lfpk.model.probes.population import PopulationAveragedModel, population_nodes
from lfpk.model.probes.uniform_cylinder import (
    UniformCylinderCSD,
    UniformCylinderPotential,
    uniform_disc_average,
    uniform_slab_fraction,
)

__all__ = [
    "FT_PER_NA_PER_UM",
    "MEG",
    "MU_0",
    "CurrentDipoleMoment",
    "FourSphereEEG",
    "GaussCylinderCSD",
    "GaussCylinderPotential",
    "PopulationAveragedModel",
    "UniformCylinderCSD",
    "UniformCylinderPotential",
    "as_cell_geometry",
    "gauss_cylinder_potential_quad",
    "population_nodes",
    "probes_from_config",
    "uniform_disc_average",
    "uniform_slab_fraction",
]
