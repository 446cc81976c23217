"""Rotations of cell geometry, in the convention of LFPy's ``Cell.set_rotation``.

LFPy (Hagen et al. 2018, Front Neuroinform 12:92) rotates the segment coordinates about the soma
position by the angles ``x``, ``y``, ``z`` (radians) in this order; for ``x`` it right-multiplies
the row vectors ``r - r_soma`` by ``R_x(-x)``, which equals left-multiplying the column vectors by
the usual right-handed rotation ``R_x(x)``; likewise for ``y`` and ``z``. The combined rotation of
column vectors is therefore ``R = R_z(z) R_y(y) R_x(x)``. Published parameters (e.g. the Hay et
al. 2011 cell of Hagen et al. 2022: ``x = 4.729``, ``y = -3.166``) carry over unchanged.
"""

from __future__ import annotations

import numpy as np


def rotation_matrix(x=0.0, y=0.0, z=0.0):
    """(3, 3) matrix rotating column vectors about x, then y, then z (angles in radians).

    Returns
    -------
    ndarray
        ``R_z(z) @ R_y(y) @ R_x(x)`` with the right-handed elementary rotations.
    """
    cx, sx = np.cos(x), np.sin(x)
    cy, sy = np.cos(y), np.sin(y)
    cz, sz = np.cos(z), np.sin(z)
    Rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]])
    Ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    Rz = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    return Rz @ Ry @ Rx


def is_identity(angles) -> bool:
    """True if the rotation ``{x, y, z}`` (radians) is no rotation at all."""
    return not any(float(angles.get(k, 0.0)) for k in ("x", "y", "z"))


def rotate_points(points, R, centre=(0.0, 0.0, 0.0)):
    """Rotate points (..., 3) (um) by ``R`` about ``centre`` (um)."""
    points = np.asarray(points, dtype=float)
    c = np.asarray(centre, dtype=float)
    return (points - c) @ R.T + c


def rotate_segments(seg, R):
    """Segment table (dict of x, y, z (n, 2) um) rotated by ``R`` about the origin (a copy)."""
    out = dict(seg)
    start = np.stack([seg["x"][:, 0], seg["y"][:, 0], seg["z"][:, 0]], axis=-1) @ R.T
    end = np.stack([seg["x"][:, 1], seg["y"][:, 1], seg["z"][:, 1]], axis=-1) @ R.T
    for i, k in enumerate("xyz"):
        out[k] = np.column_stack([start[:, i], end[:, i]])
    return out
