"""Population-averaged LFP and CSD for somata uniform in depth within a layer (exact forms).

The populations of a layered network (``layers``, ``populations.<p>.layer``, a cell type's
``layer``; docs/layers.md) have their somata uniform in the disc of radius ``R`` and uniform in
depth between the layer's bounds ``[z_bottom, z_top]`` (:class:`lfpk.model.description.SomaDepth`
of kind ``uniform``). The probes here average the representative cell's contribution over exactly
this distribution; :mod:`lfpk.model.probes.gauss_cylinder` holds the Gaussian-depth probes of the
populations placed by ``placement.z_mean`` and ``z_sd``.

Derivation (the LFP). A unit current spread uniformly over a disc of radius ``R`` (the x-y
distribution of the somata) gives on the disc's axis, at axial distance ``u`` (um), the potential

    phi_disc(u) = (sqrt(R^2 + u^2) - |u|) / (2 pi sigma R^2)            (mV/nA, sigma in S/m)

(e.g. Hagen et al. 2022, PLOS Comput Biol 18:e1010353, Methods). A segment at depth ``z_i`` of the
cell placed at the layer's mid-depth, seen from the contact at depth ``z_e``, has
``mu = z_e - z_i``; the soma offsets ``t`` uniform on ``[-w, w]`` (``w`` half the layer's
thickness) put ``u = mu - t`` uniform on ``[u1, u2] = [mu - w, mu + w]``, so

    E[phi_disc] = 1 / (2 w) int_{u1}^{u2} phi_disc(u) du
                = (F(u2) - F(u1)) / (4 pi sigma w R^2),

    F(u) = (u sqrt(R^2 + u^2) + R^2 asinh(u / R)) / 2 - u |u| / 2        (um^2)

(``d/du`` of the first part is ``sqrt(R^2 + u^2)``, of ``u |u| / 2`` it is ``|u|``). Since
``u sqrt(R^2 + u^2) - u |u| = u R^2 / (sqrt(R^2 + u^2) + |u|)``, ``F = R^2 g / 2`` with the
dimensionless

    g(u) = h(u) + asinh(u / R),    h(u) = u / (s(u) + |u|),    s(u) = sqrt(R^2 + u^2),

    4 pi sigma E[phi_disc] = (g(u2) - g(u1)) / (2 w)                     (1/um).

Evaluated as written, ``g(u2) - g(u1)`` cancels for a thin layer or a far contact. Without
cancellation:

* ``u1 < 0 < u2`` (the interval holds the kink): ``h(u2) - h(u1)`` and ``asinh(u2/R) -
  asinh(u1/R)`` are sums of positive terms; used as written (and ``2 w >= |u1| + |u2|``).
* ``u1, u2`` of one sign, ``a_k = |u_k|``, ``s_k = s(u_k)``:

      (h(u2) - h(u1)) / (2 w) = R^2 (a1 + a2) / ((a2 s1 + a1 s2) (s1 + a1) (s2 + a2)),
      asinh(u2/R) - asinh(u1/R) = asinh(X),    X = 2 w (a1 + a2) / (a2 s1 + a1 s2),

  from ``h(q) - h(p) = R^2 (q^2 - p^2) / ((q s_p + p s_q)(s_p + p)(s_q + q))`` for ``0 <= p <= q``
  and ``asinh x - asinh y = asinh(x sqrt(1 + y^2) - y sqrt(1 + x^2))`` with the numerator
  rationalised; ``asinh(X) / (2 w)`` keeps full relative precision as ``w -> 0`` (``X -> 0``).

The limit ``w -> 0`` is the plain disc ``2 / (s(mu) + |mu|)``; ``w = 0`` is evaluated as such.

The CSD. The current of a segment at the cell's mid-depth position ``z_i`` falls in the contact's
cylinder ``z_e - h <= z < z_e + h`` for the soma offsets ``t`` with ``lower <= t < upper``,
``lower = z_e - h - z_i``, ``upper = z_e + h - z_i``; its expected fraction over ``t`` uniform on
``[-w, w]`` is the overlap length ``max(0, min(upper, w) - max(lower, -w)) / (2 w)`` (exact; a
piecewise-linear function of depth).

Both forms are exact up to rounding; the segments are point currents at their midpoint depths and
their x-y offsets are ignored, as in :class:`lfpk.model.probes.GaussCylinderPotential`.
"""

from __future__ import annotations

import numpy as np

from lfpk.model.probes.cylinder import CylinderCSD, CylinderPotential
from lfpk.model.probes.geometry import _real_scalar


def uniform_disc_average(mu, R, half_width):
    """Uniform depth average of the on-axis potential of a unit-current disc, times ``4 pi sigma``.

    Returns ``4 pi sigma * E[phi_disc(mu - t)]``, ``t ~ U[-w, w]``, where
    ``phi_disc(u) = (sqrt(R^2 + u^2) - |u|) / (2 pi sigma R^2)``: in closed form
    ``(g(mu + w) - g(mu - w)) / (2 w)``, ``g(u) = u / (sqrt(R^2 + u^2) + |u|) + asinh(u / R)``,
    evaluated without cancellation (module docstring).

    Parameters
    ----------
    mu : array_like
        Axial contact-minus-source distances (um) for the soma at the layer's mid-depth.
    R : float
        Disc radius (um), > 0.
    half_width : float
        Half the layer's thickness ``w`` (um), >= 0 (0: the plain disc).

    Returns
    -------
    ndarray
        Same shape as ``mu``, 1/um (divide by ``4 pi sigma``, sigma in S/m, for mV/nA).
    """
    mu = np.asarray(mu, dtype=float)
    R = float(R)
    w = float(half_width)
    if w == 0.0:
        return 2.0 / (np.hypot(R, mu) + np.abs(mu))
    u1, u2 = mu - w, mu + w
    a1, a2 = np.abs(u1), np.abs(u2)
    s1, s2 = np.hypot(R, u1), np.hypot(R, u2)
    # one sign (the kink outside the interval): the cancellation-free differences
    cross = a2 * s1 + a1 * s2  # > 0: a1 and a2 are not both 0 when w > 0
    dh = R * R * (a1 + a2) / (cross * (s1 + a1) * (s2 + a2))
    d_asinh = np.arcsinh(2.0 * w * (a1 + a2) / cross) / (2.0 * w)
    one_sign = dh + d_asinh
    # the kink inside: both differences are sums of positive terms
    straddle = (u2 / (s2 + a2) - u1 / (s1 + a1) + np.arcsinh(u2 / R) - np.arcsinh(u1 / R)) / (2.0 * w)
    return np.where((u1 < 0.0) & (u2 > 0.0), straddle, one_sign)


def uniform_slab_fraction(lower, upper, half_width):
    """Expected fraction of soma offsets ``t ~ U[-w, w]`` with ``lower <= t < upper``.

    Parameters
    ----------
    lower, upper : array_like
        Bounds (um) of the offsets that put the segment inside the cylinder.
    half_width : float
        Half the layer's thickness ``w`` (um), >= 0; 0 counts ``t = 0`` in ``[lower, upper)``.

    Returns
    -------
    ndarray
        Fractions in [0, 1] (dimensionless), broadcast shape of ``lower`` and ``upper``.
    """
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    w = float(half_width)
    if w == 0.0:
        return ((lower <= 0) & (upper > 0)).astype(float)
    overlap = np.minimum(upper, w) - np.maximum(lower, -w)
    return np.clip(overlap, 0.0, None) / (2.0 * w)


class UniformCylinderPotential(CylinderPotential):
    """Population-averaged extracellular potential on the axis, somata uniform in depth in a layer.

    Each segment's current ``I`` (nA), a point at its midpoint depth, is spread uniformly over a
    disc of radius ``R`` around the population axis and uniformly in depth over the layer's
    ``thickness`` (the cell is placed at the layer's mid-depth), in an infinite homogeneous
    medium of conductivity ``sigma``. The matrix entry for contact ``z_e`` and segment ``z_i`` is

        M = (g(mu + w) - g(mu - w)) / (2 w) / (4 pi sigma),   mu = z_e - z_i,   w = thickness / 2,
        g(u) = u / (sqrt(R^2 + u^2) + |u|) + asinh(u / R)

    (mV/nA with sigma in S/m and lengths in um): the disc potential
    ``(sqrt(R^2 + u^2) - |u|) / (2 pi sigma R^2)`` averaged over ``u`` uniform on ``[mu - w, mu +
    w]`` in closed form, evaluated without cancellation (derivation:
    :mod:`lfpk.model.probes.uniform_cylinder`). ``thickness = 0`` gives the plain disc.

    Parameters
    ----------
    cell : object or None
        Segment geometry placed at the layer's mid-depth (see :func:`as_cell_geometry`), or None.
    z : array_like
        Contact depths on the axis (um), 1-d, shape (n_z,).
    sigma : float
        Extracellular conductivity (S/m), > 0.
    R : float
        Disc radius of the population (um), > 0.
    thickness : float
        Thickness of the soma layer, ``z_top - z_bottom`` (um), >= 0.

    Attributes
    ----------
    units : str
        ``'mV'`` (potential per segment current in nA).
    """

    long_name = "population-averaged extracellular potential (uniform-depth cylinder)"

    def __init__(self, cell=None, z=None, sigma=0.3, R=100.0, thickness=100.0):
        super().__init__(cell=cell, z=z, sigma=sigma, R=R)
        self.thickness = _real_scalar("thickness", thickness, nonnegative=True)

    @property
    def sigma_z(self):
        """Standard deviation of the soma depths, ``thickness / sqrt(12)`` (um)."""
        return self.thickness / np.sqrt(12.0)

    def _depth_average(self, mu):
        return uniform_disc_average(mu, self.R, 0.5 * self.thickness)


class UniformCylinderCSD(CylinderCSD):
    """Population laminar current source density, somata uniform in depth in a layer.

    Each segment's current (a point at its midpoint depth) is spread uniformly in depth over the
    layer's ``thickness`` (the cell placed at the layer's mid-depth) and uniformly over the
    population disc of radius ``R_population`` (default ``R``). The CSD of contact ``z_e`` is the
    current inside the cylinder ``r < R``, ``z_e - h <= z < z_e + h`` divided by its volume
    ``2 pi R^2 h``. The depth fraction is the overlap of the segment's depths with the cylinder,

        frac_z = max(0, min(upper, w) - max(lower, -w)) / (2 w),
        lower = z_e - h - z_i,   upper = z_e + h - z_i,   w = thickness / 2

    (``thickness = 0``: the midpoint counted in ``[z_e - h, z_e + h)``); the radial fraction is
    ``min(1, R^2 / R_population^2)``. Positive values are sources, as in
    :class:`lfpk.model.probes.GaussCylinderCSD`.

    Parameters
    ----------
    cell : object or None
        Segment geometry placed at the layer's mid-depth, or None to supply it later.
    z : array_like
        Cylinder centre depths (um), 1-d, shape (n_z,).
    R : float
        Cylinder radius (um), > 0.
    h : float
        Cylinder half height (um), > 0.
    thickness : float
        Thickness of the soma layer, ``z_top - z_bottom`` (um), >= 0.
    R_population : float, optional
        Radius of the population disc (um), > 0; default ``R``.

    Attributes
    ----------
    units : str
        ``'uA/mm3'``; 1 nA/um3 = 1e6 uA/mm3.
    """

    long_name = "population laminar current source density (uniform-depth cylinder)"

    def __init__(self, cell=None, z=None, R=150.0, h=50.0, thickness=100.0, R_population=None):
        super().__init__(cell=cell, z=z, R=R, h=h, R_population=R_population)
        self.thickness = _real_scalar("thickness", thickness, nonnegative=True)

    @property
    def sigma_z(self):
        """Standard deviation of the soma depths, ``thickness / sqrt(12)`` (um)."""
        return self.thickness / np.sqrt(12.0)

    def _depth_fraction(self, lower, upper):
        return uniform_slab_fraction(lower, upper, 0.5 * self.thickness)
