"""LFPykernels 0.2's probe classes, and the matrix of any probe it accepts, on lfpk's forward models.

``GaussCylinderPotential`` and ``KernelApproxCurrentDipoleMoment`` keep LFPykernels' names,
arguments and meaning; their matrices come from :mod:`lfpk.model.probes` (the Gaussian-cylinder
potential by fixed quadrature rules instead of one adaptive quadrature per contact and segment).

:func:`probe_matrix` gives the matrix a probe has inside ``KernelApprox.get_kernel``:

* the two classes above (and LFPykernels' own instances of them, recognised by class name): their
  matrix on the representative cell;
* LFPykit's ``PointSourcePotential`` and ``LineSourcePotential`` (by class name, as LFPykernels
  decides): the average over the population, in LFPykernels' geometry -- its Monte Carlo loop moves
  the *contacts* by positions drawn uniformly in the disc of ``radius`` and normally in depth
  around ``loc`` while the cell already sits at ``loc``, which equals moving the cell so that its
  soma lies at depth ``N(0, scale)`` (whatever ``loc``) and uniformly in the disc. lfpk computes
  that expectation by deterministic quadrature
  (:class:`lfpk.model.probes.PopulationAveragedModel`, refined to :data:`POPULATION_TOLERANCE`)
  where LFPykernels draws 2000 random positions;
* any other LFPykit ``LinearModel`` mapping transmembrane currents: ``probe.cell`` set to the
  representative cell, ``probe.get_transformation_matrix()`` (one cell, not averaged, as in
  LFPykernels).
"""

from __future__ import annotations

import numbers

import lfpykit
import numpy as np

from lfpk.model import probes as lfpk_probes

#: Relative tolerance of the population quadrature of point- and line-source probes.
POPULATION_TOLERANCE = 1e-3
#: LFPykit classes LFPykernels averages over the population (it decides by class name).
POPULATION_AVERAGED = ("PointSourcePotential", "LineSourcePotential")


def _positive_real(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value) \
            or value <= 0:
        raise ValueError(f"{name}: must be a real number > 0, got {value!r}")
    return float(value)


class GaussCylinderPotential(lfpykit.LinearModel):
    """Population-averaged potential on the population axis (LFPykernels 0.2's class).

    Each segment's transmembrane current (nA) is a uniform current disc of radius ``R`` (um)
    centred on the axis at the segment's midpoint depth, spread along depth by a Gaussian of
    standard deviation ``sigma_z`` (um), in an infinite medium of conductivity ``sigma`` (S/m);
    the potential is read at depths ``z`` (um) on the axis, in mV.

    Parameters
    ----------
    cell : object or None
        Segment geometry (``LFPy.Cell``, ``lfpykit.CellGeometry``), or None until ``get_kernel``
        sets it.
    z : array_like
        Contact depths (um), 1-d.
    sigma : float
        Extracellular conductivity (S/m), > 0.
    R : float
        Disc radius (um), > 0; usually the population radius.
    sigma_z : float
        Standard deviation of the depth spread (um), > 0; usually the population's ``scale``.
    """

    def __init__(self, cell, z, sigma=0.3, R=100, sigma_z=50.):
        super().__init__(cell=cell)
        z = np.asarray(z, dtype=float) if not isinstance(z, str) else None
        if z is None or z.ndim != 1 or z.size == 0 or not np.all(np.isfinite(z)):
            raise ValueError("z: must be a 1-d array of contact depths (um)")
        self.z = z
        self.sigma = _positive_real("sigma", sigma)
        self.R = _positive_real("R", R)
        self.sigma_z = _positive_real("sigma_z", sigma_z)

    def get_transformation_matrix(self):
        """Matrix (n_contacts, n_segments) mapping segment currents (nA) to potentials (mV).

        Raises
        ------
        AttributeError
            If ``cell`` is None.
        """
        if self.cell is None:
            raise AttributeError(f"{type(self).__name__}.cell is None")
        model = lfpk_probes.GaussCylinderPotential(z=self.z, sigma=self.sigma, R=self.R, sigma_z=self.sigma_z)
        return model.get_transformation_matrix(self.cell)


class KernelApproxCurrentDipoleMoment(lfpykit.CurrentDipoleMoment):
    """Current dipole moment with the x and y components zeroed (LFPykernels 0.2's class).

    A population symmetric about the z axis has no net x and y dipole; rows are (x, y, z) in
    nA um: zeros, zeros, and ``sum_i z_i I_i`` with ``z_i`` the segment midpoint depths (um).

    Parameters
    ----------
    cell : object or None
        Segment geometry, or None until ``get_kernel`` sets it.
    """

    def __init__(self, cell):
        super().__init__(cell=cell)

    def get_transformation_matrix(self):
        """Matrix (3, n_segments), um.

        Raises
        ------
        AttributeError
            If ``cell`` is None.
        """
        if self.cell is None:
            raise AttributeError(f"{type(self).__name__}.cell is None")
        return lfpk_probes.CurrentDipoleMoment(random_rotation=True).get_transformation_matrix(self.cell)


def _geometry_key(cell):
    return tuple(np.asarray(getattr(cell, k), dtype=float).tobytes() for k in ("x", "y", "z", "d"))


class ProbeMatrices:
    """Matrices of the probes of ``get_kernel`` on one representative cell, cached by their
    parameters and the cell's geometry (a warm call computes none of lfpk's own probes again).
    """

    def __init__(self):
        self._cache = {}

    def matrix(self, probe, where, cell, population):
        """Matrix (n_channels, n_segments) of ``probe`` in ``get_kernel`` (see module docstring).

        Parameters
        ----------
        probe : object
            A probe of the ``probes`` list.
        where : str
            Its name in messages, e.g. ``probes[1]``.
        cell : LFPy.Cell
            The representative cell (rotated, soma at depth ``loc``).
        population : dict
            ``radius``, ``loc``, ``scale`` (um).
        """
        name = type(probe).__name__
        if len(self._cache) > 64:
            self._cache.clear()
        if name == "GaussCylinderPotential" and all(hasattr(probe, a) for a in ("z", "sigma", "R", "sigma_z")):
            key = (name, np.asarray(probe.z, float).tobytes(), float(probe.sigma), float(probe.R),
                   float(probe.sigma_z), _geometry_key(cell))
            if key not in self._cache:
                z = np.asarray(probe.z, dtype=float)
                self._cache[key] = GaussCylinderPotential(cell, z, probe.sigma, probe.R,
                                                          probe.sigma_z).get_transformation_matrix()
            return self._cache[key]
        if name == "KernelApproxCurrentDipoleMoment":
            key = (name, _geometry_key(cell))
            if key not in self._cache:
                self._cache[key] = KernelApproxCurrentDipoleMoment(cell).get_transformation_matrix()
            return self._cache[key]
        if name in POPULATION_AVERAGED:
            return self._population_average(probe, where, cell, population)
        return self._lfpykit(probe, where, cell)

    def _population_average(self, probe, where, cell, population):
        name = type(probe).__name__
        try:
            kwargs = {k: np.asarray(getattr(probe, k), dtype=float) for k in ("x", "y", "z")}
            kwargs["sigma"] = float(probe.sigma)
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"{where}: a {name} needs x, y, z (um) and sigma (S/m)") from None
        radius, loc, scale = (float(population[k]) for k in ("radius", "loc", "scale"))
        key = (name, tuple(v.tobytes() for k, v in kwargs.items() if k != "sigma"), kwargs["sigma"],
               radius, loc, scale, _geometry_key(cell))
        if key not in self._cache:
            # LFPykernels moves the contacts by (dx, dy, loc + e); the same as the cell moved by
            # (-dx, -dy, -loc - e): the cell's own depth loc cancels, e ~ N(0, scale) is symmetric
            geometry = lfpykit.CellGeometry(x=np.asarray(cell.x, float), y=np.asarray(cell.y, float),
                                            z=np.asarray(cell.z, float) - loc, d=np.asarray(cell.d, float))
            model = lfpk_probes.PopulationAveragedModel(name, model_kwargs=kwargs, R=radius, sigma_z=scale,
                                                        order=None, tolerance=POPULATION_TOLERANCE)
            self._cache[key] = model.get_transformation_matrix(geometry)
        return self._cache[key]

    @staticmethod
    def _lfpykit(probe, where, cell):
        name = type(probe).__name__
        if not callable(getattr(probe, "get_transformation_matrix", None)) or not hasattr(probe, "cell"):
            raise TypeError(f"{where}: {name} is not an LFPykit forward model (needs a cell attribute and "
                            "get_transformation_matrix())")
        probe.cell = cell
        try:
            M = probe.get_transformation_matrix()
        except TypeError as exc:
            raise TypeError(f"{where}: {name} does not map transmembrane currents of a cell "
                            f"(get_transformation_matrix() failed: {exc}); LFPykernels 0.2 cannot use it either: "
                            "apply it to the KernelApproxCurrentDipoleMoment kernel yourself") from None
        finally:
            probe.cell = None
        M = np.asarray(M, dtype=float)
        if M.ndim != 2 or M.shape[1] != cell.totnsegs:
            raise ValueError(f"{where}: {name}'s matrix has shape {M.shape}, expected (n_channels, "
                             f"{cell.totnsegs}) for the cell's {cell.totnsegs} segments")
        return M
