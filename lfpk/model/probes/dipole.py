"""Current dipole moment of a cell's transmembrane currents."""

from __future__ import annotations

import numpy as np

from lfpk.model.probes.geometry import _CellProbe, _midpoints


class CurrentDipoleMoment(_CellProbe):
    """Current dipole moment ``p = sum_i r_i I_i`` with ``r_i`` the segment midpoints.

    Rows are the x, y, z components as the geometry gives them (for a rotationally symmetric
    population the x and y components average to zero; they are not zeroed here).

    With ``random_rotation`` (a population of cells rotated about z by uniform random angles)
    the population average is returned: the x and y rows vanish, since the mean of
    ``R_z(theta) p`` over a uniform ``theta`` is ``(0, 0, p_z)``.

    Parameters
    ----------
    cell : object or None
        Segment geometry (see :func:`as_cell_geometry`), or None to supply it later.
    random_rotation : bool
        Average over a uniform rotation about z.

    Attributes
    ----------
    units : str
        ``'nA um'``.
    """

    units = "nA um"
    long_name = "current dipole moment"
    channel_dim = "component"
    channel_coord = np.array(["x", "y", "z"])

    @property
    def channel_attrs(self):
        return {"long_name": "Cartesian component"}

    def __init__(self, cell=None, random_rotation=False):
        super().__init__(cell=cell)
        self.random_rotation = bool(random_rotation)

    def get_transformation_matrix(self, geometry=None):
        """Matrix mapping segment currents (nA) to the dipole moment (nA um).

        Returns
        -------
        ndarray
            Shape (3, n_seg), um.
        """
        geom = self._geometry(geometry)
        M = np.stack(_midpoints(geom))
        if self.random_rotation:
            M[:2] = 0.0
        return M
