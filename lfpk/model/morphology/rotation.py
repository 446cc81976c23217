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


#: Nodes of the fixed quadrature over a cell's uniform random angle about x (``rotation.random_x``):
#: the midpoint rule on [0, 2 pi), geometrically convergent for the smooth periodic integrand of a
#: kernel. 64 nodes: the laptop ball-and-stick cell (a 1000-um apical dendrite turned through
#: Gaussian synapse densities) is within 2e-5 of its peak of the 512-node kernel (3e-2 at 16 nodes,
#: 4e-3 at 32, 7e-13 at 128); docs/layers.md gives the microcircuit's types.
RANDOM_X_NODES = 64


def random_x_nodes(n=None):
    """Angles (radians) and weights of the midpoint rule over a uniform angle in [0, 2 pi).

    Parameters
    ----------
    n : int, optional
        Number of nodes (>= 1; default :data:`RANDOM_X_NODES`).

    Returns
    -------
    angles, weights : ndarray (n,)
        ``2 pi (k + 1/2) / n`` for k = 0 .. n - 1, and ``1 / n`` each (sum 1). The rule integrates
        every trigonometric polynomial of degree below ``n`` exactly.
    """
    n = int(RANDOM_X_NODES if n is None else n)
    if n < 1:
        raise ValueError(f"random_x_nodes: n must be >= 1, got {n}")
    return 2.0 * np.pi * (np.arange(n) + 0.5) / n, np.full(n, 1.0 / n)


def rotate_segments_x(seg, angle_x):
    """Segment table rotated about the x axis through the soma centre (the table's origin) by
    ``angle_x`` (radians; a cell's random rotation, applied before its random angle about z, as
    LFPy's ``Cell.set_rotation``). The table itself for ``angle_x == 0``; else a copy."""
    if not angle_x:
        return seg
    return rotate_segments(seg, rotation_matrix(x=float(angle_x)))
