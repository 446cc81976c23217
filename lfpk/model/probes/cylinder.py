"""What the population-axis LFP and CSD probes share, whatever the soma depth distribution.

:class:`CylinderPotential` and :class:`CylinderCSD` hold the contacts, the disc or cylinder and
the matrix assembly; a subclass gives only the average over soma depths: the disc potential's
(``_depth_average``) or the cylinder's depth fraction (``_depth_fraction``). The Gaussian depths
are in :mod:`lfpk.model.probes.gauss_cylinder`, the uniform ones of a layer in
:mod:`lfpk.model.probes.uniform_cylinder`.
"""

from __future__ import annotations

import numpy as np

from lfpk.model.probes.geometry import _CellProbe, _real_scalar, _vector


class CylinderPotential(_CellProbe):
    """Population-averaged potential on the axis (mV per nA): segment currents spread over a disc
    of radius ``R`` (um) and over soma depths by the subclass's rule, conductivity ``sigma`` (S/m).
    """

    units = "mV"
    channel_dim = "channel"
    channel_coord_name = "channel_z"

    def __init__(self, cell=None, z=None, sigma=0.3, R=100.0):
        super().__init__(cell=cell)
        if z is None:
            raise ValueError("z (contact depths, um) is required")
        self.z = _vector("z", z, ndim=1)
        self.sigma = _real_scalar("sigma", sigma, positive=True)
        self.R = _real_scalar("R", R, positive=True)

    channel_coord = property(lambda self: self.z)

    @property
    def channel_attrs(self):
        return {"units": "um", "long_name": "contact depth on the population axis"}

    def _depth_average(self, mu):
        """``4 pi sigma`` times the disc potential averaged over soma depths (1/um), for axial
        contact-minus-segment distances ``mu`` (um)."""
        raise NotImplementedError

    def get_transformation_matrix(self, geometry=None):
        """Matrix mapping segment currents (nA) to contact potentials (mV).

        Parameters
        ----------
        geometry : object, optional
            Segment geometry; defaults to the probe's ``cell``.

        Returns
        -------
        ndarray
            Shape (n_z, n_seg), mV/nA.
        """
        geom = self._geometry(geometry)
        zmid = geom.z.mean(axis=-1)
        mu = self.z[:, None] - zmid[None, :]
        return self._depth_average(mu) / (4.0 * np.pi * self.sigma)


class CylinderCSD(_CellProbe):
    """Population laminar CSD (uA/mm3 per nA) in cylinders of radius ``R`` and half height ``h``
    (um) around each contact, the population disc of radius ``R_population`` (um, default ``R``),
    soma depths by the subclass's rule. Positive values are sources."""

    units = "uA/mm3"
    channel_dim = "channel"
    channel_coord_name = "channel_z"
    #: uA/mm3 per nA/um3
    NA_PER_UM3_TO_UA_PER_MM3 = 1e6

    def __init__(self, cell=None, z=None, R=150.0, h=50.0, R_population=None):
        super().__init__(cell=cell)
        if z is None:
            raise ValueError("z (cylinder centre depths, um) is required")
        self.z = _vector("z", z, ndim=1)
        self.R = _real_scalar("R", R, positive=True)
        self.h = _real_scalar("h", h, positive=True)
        self.R_population = (
            self.R if R_population is None
            else _real_scalar("R_population", R_population, positive=True)
        )

    channel_coord = property(lambda self: self.z)

    @property
    def channel_attrs(self):
        return {"units": "um", "long_name": "cylinder centre depth on the population axis"}

    @property
    def volume(self):
        """Cylinder volume (um3)."""
        return 2.0 * np.pi * self.R**2 * self.h

    def _depth_fraction(self, lower, upper):
        """Expected fraction (dimensionless) of a segment's current inside the cylinder's depths,
        the soma offset ``t`` (um) in ``[lower, upper)``."""
        raise NotImplementedError

    def get_transformation_matrix(self, geometry=None):
        """Matrix mapping segment currents (nA) to CSD (uA/mm3).

        Parameters
        ----------
        geometry : object, optional
            Segment geometry; defaults to the probe's ``cell``.

        Returns
        -------
        ndarray
            Shape (n_z, n_seg), (uA/mm3)/nA.
        """
        geom = self._geometry(geometry)
        zmid = geom.z.mean(axis=-1)
        upper = self.z[:, None] + self.h - zmid[None, :]
        lower = self.z[:, None] - self.h - zmid[None, :]
        frac_z = self._depth_fraction(lower, upper)
        frac_r = min(1.0, self.R**2 / self.R_population**2)
        return frac_z * frac_r / self.volume * self.NA_PER_UM3_TO_UA_PER_MM3
