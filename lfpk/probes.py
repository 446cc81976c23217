"""Linear probes mapping a kernel cell's transmembrane currents to population-averaged signals.

The kernel method (Hagen et al. 2022, PLOS Comput Biol 18:e1010353, "Methods: Kernel
approximation") simulates ONE representative cell per population, placed at the population's mean
soma position, and maps its transmembrane currents ``I_m`` (nA, one value per segment) to signals
averaged over the population's spatial distribution of somata: uniform in a disc of radius ``R``
in the x-y plane and Gaussian with standard deviation ``sigma_z`` along depth z. Every probe here
is linear, ``signal = M @ I_m``, with ``M = probe.get_transformation_matrix()`` of shape
``(n_channels, n_seg)``, in the style of LFPykit's ``LinearModel`` classes.

Probes and output units
-----------------------
=========================== ======================= ============== =========================
class                       input                   matrix shape   output units
=========================== ======================= ============== =========================
GaussCylinderPotential      I_m (nA)                (n_z, n_seg)   mV
GaussCylinderCSD            I_m (nA)                (n_z, n_seg)   uA/mm3
CurrentDipoleMoment         I_m (nA)                (3, n_seg)     nA um
PopulationAveragedModel     I_m (nA)                (n_ch, n_seg)  as the LFPykit model
FourSphereEEG               dipole moment (nA um)   (n_el, 3)      mV
MEG                         dipole moment (nA um)   (3 n_s, 3)     nA/um (H) or fT (B)
=========================== ======================= ============== =========================

Unit bookkeeping used throughout: 1 nA / (1 S/m * 1 um) = 1e-9 A / 1e-6 S = 1e-3 V = 1 mV, and
1 nA/um3 = 1e-3 uA / 1e-9 mm3 = 1e6 uA/mm3.

Segment geometry may be given as an ``lfpykit.CellGeometry`` (or any object with attributes
``x, y, z`` of shape (n_seg, 2) in um and ``d`` in um, such as ``LFPy.Cell``), as the dict of
:meth:`lfpk.morphology.BallAndStick.segments`, as the xarray Dataset of
:meth:`~lfpk.morphology.BallAndStick.segment_table`, or as a ``BallAndStick`` itself. As in
LFPykit, ``cell=None`` at construction is allowed; the geometry is then passed to
``get_transformation_matrix(geometry)`` or assigned to ``probe.cell`` later.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss
from scipy.special import erf

import lfpykit
from lfpykit import eegmegcalc

__all__ = [
    "as_cell_geometry",
    "GaussCylinderPotential",
    "GaussCylinderCSD",
    "CurrentDipoleMoment",
    "PopulationAveragedModel",
    "FourSphereEEG",
    "MEG",
    "probes_from_config",
    "gauss_cylinder_potential_quad",
]

#: Magnetic permeability of vacuum (T m / A).
MU_0 = 4e-7 * np.pi
#: B (fT) per H (nA/um): H = 1 nA/um = 1e-3 A/m, B = mu_0 H = 4 pi 1e-10 T = 4 pi 1e5 fT.
FT_PER_NA_PER_UM = MU_0 * 1e-3 * 1e15


# --------------------------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------------------------


def _real_scalar(name, value, *, positive=False, nonnegative=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def _vector(name, value, ndim=1, length=None):
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of real numbers: {err}") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-d, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if length is not None and arr.shape[-1] != length:
        raise ValueError(f"{name} must have {length} entries along its last axis, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def _locations(name, value):
    """(n, 3) array of locations (um) from a (3,) or (n, 3) input."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    return _vector(name, arr, ndim=2, length=3)


def as_cell_geometry(geometry):
    """Validated ``lfpykit.CellGeometry`` (um) from any supported segment geometry.

    Parameters
    ----------
    geometry : object
        ``lfpykit.CellGeometry``/``LFPy.Cell``-like object (attributes ``x, y, z`` (n_seg, 2) um
        and ``d`` (n_seg,) or (n_seg, 2) um), a mapping or xarray Dataset with ``x, y, z``
        (n_seg, 2) um and ``diam`` or ``d`` (n_seg,) um, or an object with a ``segments()``
        method returning such a mapping (:class:`lfpk.morphology.BallAndStick`).

    Returns
    -------
    lfpykit.CellGeometry
        A copy with float arrays (later changes of ``geometry`` do not propagate).

    Raises
    ------
    ValueError
        If arrays are missing or have the wrong shape, naming the offending array.
    """
    if geometry is None:
        raise ValueError("geometry is None")
    if hasattr(geometry, "segments") and callable(geometry.segments):
        geometry = geometry.segments()
    if hasattr(geometry, "keys") and hasattr(geometry, "__getitem__"):  # dict or xr.Dataset
        keys = set(geometry.keys())
        missing = [k for k in ("x", "y", "z") if k not in keys]
        dkey = "d" if "d" in keys else ("diam" if "diam" in keys else None)
        if missing or dkey is None:
            raise ValueError(
                f"geometry lacks {', '.join(missing + ([] if dkey else ['diam (or d)']))}"
            )
        get = lambda k: np.asarray(geometry[k], dtype=float)  # noqa: E731
    else:
        dkey = "d" if hasattr(geometry, "d") else "diam"
        for k in ("x", "y", "z", dkey):
            if not hasattr(geometry, k):
                raise ValueError(f"geometry lacks attribute {k!r} (expected x, y, z, d)")
        get = lambda k: np.asarray(getattr(geometry, k), dtype=float)  # noqa: E731
    xyz = {}
    for k in ("x", "y", "z"):
        arr = get(k)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"geometry {k} must have shape (n_seg, 2) (start, end in um), got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"geometry {k} must be finite")
        xyz[k] = arr.copy()
    n = xyz["x"].shape[0]
    if n == 0:
        raise ValueError("geometry has no segments")
    if xyz["y"].shape[0] != n or xyz["z"].shape[0] != n:
        raise ValueError(
            f"geometry x, y, z must have the same shape, got {xyz['x'].shape}, {xyz['y'].shape}, {xyz['z'].shape}"
        )
    d = get(dkey).copy()
    if not (d.shape == (n,) or d.shape == (n, 2)):
        raise ValueError(f"geometry {dkey} must have shape ({n},) or ({n}, 2), got {d.shape}")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError(f"geometry {dkey} must be finite and >= 0")
    return lfpykit.CellGeometry(x=xyz["x"], y=xyz["y"], z=xyz["z"], d=d)


def _midpoints(geom):
    """Segment midpoints (um), each of shape (n_seg,)."""
    return geom.x.mean(axis=-1), geom.y.mean(axis=-1), geom.z.mean(axis=-1)


class _CellProbe(lfpykit.LinearModel):
    """Base of probes acting on a cell's transmembrane currents (``input = 'imem'``).

    ``cell`` is stored as given (validated on assignment) and converted to a
    :class:`lfpykit.CellGeometry` each time a matrix is built, so a cell moved after assignment
    (e.g. ``LFPy.Cell.set_pos``) is seen at its current position.
    """

    input = "imem"
    units = ""
    long_name = ""
    channel_dim = "channel"
    #: Name of the coordinate variable along ``channel_dim`` (contract: ``channel_z`` for depth).
    channel_coord_name = None

    def __init__(self, cell=None):
        super().__init__(cell=cell)

    @property
    def cell(self):
        return self._cell

    @cell.setter
    def cell(self, value):
        if value is not None:
            as_cell_geometry(value)  # validate now, convert when used
        self._cell = value

    def _geometry(self, geometry):
        if geometry is not None:
            return as_cell_geometry(geometry)
        if self._cell is None:
            raise AttributeError(
                f"{type(self).__name__}.cell is None; pass geometry to get_transformation_matrix "
                "or set the cell attribute"
            )
        return as_cell_geometry(self._cell)

    @property
    def channel_attrs(self):
        """netCDF attributes of the channel coordinate."""
        return {}


# --------------------------------------------------------------------------------------------
# Gaussian-cylinder LFP
# --------------------------------------------------------------------------------------------

# Fixed quadrature rules of the Gaussian-smoothed disc potential (see GaussCylinderPotential).
_GC_GAUSS_BREAKS = np.array([-9.0, -4.0, -1.5, 0.0, 1.5, 4.0, 9.0])  # u = mu + k sigma_z
_GC_N_UNIFORM = 8  # equally spaced extra breakpoints across the t range (log-scale in |u|)
_GC_GL = leggauss(8)  # Gauss-Legendre nodes per piece of the t rule
_GC_GH_RATIO = 1.5  # R / sigma_z above which the Gauss-Hermite rule is used
_GC_GH = hermegauss(48)  # probabilists' Gauss-Hermite nodes of the smooth part


def _smoothed_disc_hermite(mu, R, sigma_z):
    """4 pi sigma E[phi_disc] for a wide disc (R >= 1.5 sigma_z, |mu| <= 100 R); 1/um."""
    # Wide disc: E|u| in closed form (mean of the folded normal distribution,
    # Leone, Nelson & Nottingham 1961, Technometrics 3:543):
    #   E|u| = sigma_z sqrt(2/pi) exp(-mu^2 / 2 sigma_z^2) + mu erf(mu / (sqrt 2 sigma_z)),
    # and E sqrt(R^2 + u^2) by Gauss-Hermite; the integrand is analytic in the strip
    # |Im xi| < R / sigma_z >= 1.5, where 48 nodes give < 1e-9 relative error.
    x, w = _GC_GH
    u = mu[..., None] + sigma_z * x
    e_sqrt = np.sqrt(R * R + u * u) @ (w / np.sqrt(2.0 * np.pi))
    e_abs = (sigma_z * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * (mu / sigma_z) ** 2)
             + mu * erf(mu / (np.sqrt(2.0) * sigma_z)))
    return 2.0 * (e_sqrt - e_abs) / (R * R)


def _smoothed_disc_sinh(mu, R, sigma_z):
    """4 pi sigma E[phi_disc] by the u = R sinh t rule, valid for any R, sigma_z > 0; 1/um."""
    # Narrow disc: the substitution u = R sinh t maps the disc kernel to a bounded function,
    #   (sqrt(R^2+u^2) - |u|) du = R^2 e^{-|t|} cosh t dt = (R^2 / 2)(1 + e^{-2|t|}) dt,
    # so 4 pi sigma E[phi_disc] = integral (1 + e^{-2|t|}) N(R sinh t; mu, sigma_z^2) dt.
    # The t axis is cut at t = 0 (kink), at the images of mu + k sigma_z (Gaussian bulk and
    # tails, |k| <= 9: truncated mass < 3e-19) and at 8 equally spaced points (t is logarithmic
    # in |u| >> R); each of the 15 pieces gets an 8-node Gauss-Legendre rule.
    tb = np.arcsinh((mu[..., None] + _GC_GAUSS_BREAKS * sigma_z) / R)
    t_lo, t_hi = tb[..., :1], tb[..., -1:]
    kink = np.clip(0.0, t_lo, t_hi)
    frac = np.linspace(0.0, 1.0, _GC_N_UNIFORM + 2)[1:-1]
    uniform = t_lo + (t_hi - t_lo) * frac
    edges = np.sort(np.concatenate([tb, kink, uniform], axis=-1), axis=-1)
    lo, hi = edges[..., :-1, None], edges[..., 1:, None]
    x, w = _GC_GL
    half = 0.5 * (hi - lo)
    # integrand (1 + e^{-2|t|}) exp(-xi^2 / 2), xi = (R sinh t - mu) / sigma_z, evaluated in
    # place with e^t computed once (min(e^t, e^-t)^2 = e^{-2|t|})
    et = 0.5 * (lo + hi) + half * x
    np.exp(et, out=et)
    inv = 1.0 / et
    xi = et - inv
    xi *= 0.5 * R / sigma_z
    xi -= (mu / sigma_z)[..., None, None]
    xi *= xi
    xi *= -0.5
    np.exp(xi, out=xi)
    np.minimum(et, inv, out=et)
    et *= et
    et += 1.0
    et *= xi
    return np.sum((et @ w) * half[..., 0], axis=-1) / (sigma_z * np.sqrt(2.0 * np.pi))


def _smoothed_disc(mu, R, sigma_z):
    """Gaussian average of the on-axis potential of a unit-current disc, times ``4 pi sigma``.

    Returns ``4 pi sigma * E[phi_disc(mu + sigma_z * xi)]``, ``xi ~ N(0, 1)``, where
    ``phi_disc(u) = (sqrt(R^2 + u^2) - |u|) / (2 pi sigma R^2)``, for an array ``mu`` (um) of
    axial contact-minus-source distances; output in 1/um.
    """
    mu = np.asarray(mu, dtype=float)
    # plain disc in the cancellation-free form 4 pi sigma phi_disc(u) = 2 / (sqrt(R^2+u^2) + |u|)
    plain = 2.0 / (np.hypot(R, mu) + np.abs(mu))
    if sigma_z == 0.0:
        return plain
    # Wide disc and moderate distance: Gauss-Hermite rule (the difference E sqrt - E|u| loses
    # about log10(2 mu^2 / R^2) digits, <= 4.3 for |mu| <= 100 R); elsewhere the sinh rule.
    out = np.empty(mu.shape)
    use_gh = (R >= _GC_GH_RATIO * sigma_z) & (np.abs(mu) <= 100.0 * R)
    out[use_gh] = _smoothed_disc_hermite(mu[use_gh], R, sigma_z)
    out[~use_gh] = _smoothed_disc_sinh(mu[~use_gh], R, sigma_z)
    # Gaussian narrower than 1e-9 of the distance scale: plain disc (error O(sigma_z/R) < 1e-9)
    tiny = sigma_z <= 1e-9 * np.hypot(R, mu)
    return np.where(tiny, plain, out)


def gauss_cylinder_potential_quad(z, z_source, sigma, R, sigma_z, epsrel=1e-12):
    """Reference: :class:`GaussCylinderPotential` entries by adaptive quadrature (slow).

    One ``scipy.integrate.quad`` call per (contact, segment) of
    ``int phi_disc(z_e - z') N(z'; z_i, sigma_z^2) dz'`` over ``z_i +- 12 sigma_z`` with
    breakpoints at the kink ``z' = z_e`` and the Gaussian centre. For testing and benchmarking.

    Parameters
    ----------
    z : array_like
        Contact depths (um), shape (n_z,).
    z_source : array_like
        Segment midpoint depths (um), shape (n_seg,).
    sigma : float
        Conductivity (S/m).
    R : float
        Disc radius (um).
    sigma_z : float
        Depth standard deviation (um), > 0.
    epsrel : float
        Relative tolerance of ``quad``.

    Returns
    -------
    ndarray
        (n_z, n_seg) potential per unit current (mV/nA).
    """
    from scipy.integrate import quad

    z = np.atleast_1d(np.asarray(z, dtype=float))
    z_source = np.atleast_1d(np.asarray(z_source, dtype=float))
    norm = 1.0 / (sigma_z * np.sqrt(2.0 * np.pi))

    def integrand(zp, z_e, z_i):
        u = z_e - zp
        disc = 1.0 / (2.0 * np.pi * sigma * (np.sqrt(R * R + u * u) + abs(u)))
        return disc * norm * np.exp(-0.5 * ((zp - z_i) / sigma_z) ** 2)

    M = np.empty((z.size, z_source.size))
    for j, z_e in enumerate(z):
        for i, z_i in enumerate(z_source):
            a, b = z_i - 12.0 * sigma_z, z_i + 12.0 * sigma_z
            pts = [p for p in (z_e, z_i) if a < p < b]
            M[j, i] = quad(integrand, a, b, args=(z_e, z_i), points=pts or None,
                           epsabs=1e-300, epsrel=epsrel, limit=2000)[0]
    return M


class GaussCylinderPotential(_CellProbe):
    """Population-averaged extracellular potential on the population axis.

    Each segment's current ``I`` (nA) is spread uniformly over a disc of radius ``R`` in the x-y
    plane centred on the population axis (cells uniformly distributed in a cylinder) and along
    depth by a Gaussian of standard deviation ``sigma_z`` around the segment's midpoint depth
    (spread of somata in depth), in an infinite homogeneous medium of conductivity ``sigma``.
    The on-axis potential of a uniform disc current at axial distance ``u`` is
    ``I / (2 pi sigma R^2) * (sqrt(R^2 + u^2) - |u|)`` (e.g. Hagen et al. 2022, Methods), here
    averaged over the Gaussian depth distribution.

    Segment treatment (as LFPykernels' ``GaussCylinderPotential``): each segment is a point
    current at its midpoint depth; the segment's x-y offset is ignored (disc centred on the axis).

    Numerics (fixed rules, vectorised over all contacts and segments, no adaptive quadrature):
    for ``R >= 1.5 sigma_z`` the ``|u|`` part is the folded-normal mean in closed form and the
    smooth ``sqrt(R^2 + u^2)`` part uses 48-node Gauss-Hermite quadrature. Otherwise the
    substitution ``u = R sinh t`` turns the disc kernel into ``(R^2/2)(1 + e^{-2|t|}) dt``, so the
    average is ``1/(4 pi sigma) int (1 + e^{-2|t|}) N(R sinh t; mu, sigma_z^2) dt``, evaluated
    by composite Gauss-Legendre (15 pieces x 8 nodes, cut at t = 0, at the images of
    mu + k sigma_z, k in {0, +-1.5, +-4, +-9}, and at 8 equally spaced points). Both agree with
    adaptive quadrature to ~1e-8 relative or better for R in [1e-3, 1e5] um, sigma_z in
    [1e-3, 300] um, |mu| <= 1e4 um.
    ``sigma_z = 0`` gives the plain disc formula exactly.

    Parameters
    ----------
    cell : object or None
        Segment geometry (see :func:`as_cell_geometry`), or None to supply it later.
    z : array_like
        Contact depths on the axis (um), 1-d, shape (n_z,).
    sigma : float
        Extracellular conductivity (S/m), > 0.
    R : float
        Disc radius of the population (um), > 0.
    sigma_z : float
        Standard deviation of the soma depth distribution (um), >= 0.

    Attributes
    ----------
    units : str
        ``'mV'`` (potential per segment current in nA).
    """

    units = "mV"
    long_name = "population-averaged extracellular potential (Gaussian cylinder)"
    channel_dim = "channel"
    channel_coord_name = "channel_z"

    def __init__(self, cell=None, z=None, sigma=0.3, R=100.0, sigma_z=50.0):
        super().__init__(cell=cell)
        if z is None:
            raise ValueError("z (contact depths, um) is required")
        self.z = _vector("z", z, ndim=1)
        self.sigma = _real_scalar("sigma", sigma, positive=True)
        self.R = _real_scalar("R", R, positive=True)
        self.sigma_z = _real_scalar("sigma_z", sigma_z, nonnegative=True)

    channel_coord = property(lambda self: self.z)

    @property
    def channel_attrs(self):
        return {"units": "um", "long_name": "contact depth on the population axis"}

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
        return _smoothed_disc(mu, self.R, self.sigma_z) / (4.0 * np.pi * self.sigma)


# --------------------------------------------------------------------------------------------
# Gaussian-cylinder CSD
# --------------------------------------------------------------------------------------------


class GaussCylinderCSD(_CellProbe):
    """Population laminar current source density in cylinders around each contact.

    Each segment's current (point at its midpoint depth, as in :class:`GaussCylinderPotential`)
    is spread over depth by a Gaussian of standard deviation ``sigma_z`` and uniformly over the
    population disc of radius ``R_population`` (default ``R``). The CSD of contact ``z_e`` is
    the current inside the cylinder ``r < R``, ``z_e - h <= z < z_e + h`` divided by its volume
    ``2 pi R^2 h``. The depth fraction is
    ``(erf((z_e + h - z_i) / (sqrt 2 sigma_z)) - erf((z_e - h - z_i) / (sqrt 2 sigma_z))) / 2``;
    the radial fraction is ``min(1, R^2 / R_population^2)``. Positive values are sources
    (outward transmembrane current), as in LFPykit's ``LaminarCurrentSourceDensity``, the ground
    truth's counterpart.

    Parameters
    ----------
    cell : object or None
        Segment geometry (see :func:`as_cell_geometry`), or None to supply it later.
    z : array_like
        Cylinder centre depths (um), 1-d, shape (n_z,).
    R : float
        Cylinder radius (um), > 0.
    h : float
        Cylinder half height (um), > 0.
    sigma_z : float
        Standard deviation of the soma depth distribution (um), >= 0 (0: segment midpoints are
        counted in the half-open interval ``[z_e - h, z_e + h)``).
    R_population : float, optional
        Radius of the population disc (um), > 0; default ``R``.

    Attributes
    ----------
    units : str
        ``'uA/mm3'``; 1 nA/um3 = 1e6 uA/mm3.
    """

    units = "uA/mm3"
    long_name = "population laminar current source density (Gaussian cylinder)"
    channel_dim = "channel"
    channel_coord_name = "channel_z"
    #: uA/mm3 per nA/um3
    NA_PER_UM3_TO_UA_PER_MM3 = 1e6

    def __init__(self, cell=None, z=None, R=150.0, h=50.0, sigma_z=50.0, R_population=None):
        super().__init__(cell=cell)
        if z is None:
            raise ValueError("z (cylinder centre depths, um) is required")
        self.z = _vector("z", z, ndim=1)
        self.R = _real_scalar("R", R, positive=True)
        self.h = _real_scalar("h", h, positive=True)
        self.sigma_z = _real_scalar("sigma_z", sigma_z, nonnegative=True)
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
        if self.sigma_z > 0:
            s = np.sqrt(2.0) * self.sigma_z
            frac_z = 0.5 * (erf(upper / s) - erf(lower / s))
        else:
            frac_z = ((lower <= 0) & (upper > 0)).astype(float)
        frac_r = min(1.0, self.R**2 / self.R_population**2)
        return frac_z * frac_r / self.volume * self.NA_PER_UM3_TO_UA_PER_MM3


# --------------------------------------------------------------------------------------------
# current dipole moment
# --------------------------------------------------------------------------------------------


class CurrentDipoleMoment(_CellProbe):
    """Current dipole moment ``p = sum_i r_i I_i`` with ``r_i`` the segment midpoints.

    Rows are the x, y, z components as the geometry gives them (for a rotationally symmetric
    population the x and y components average to zero; they are not zeroed here).

    Parameters
    ----------
    cell : object or None
        Segment geometry (see :func:`as_cell_geometry`), or None to supply it later.

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

    def get_transformation_matrix(self, geometry=None):
        """Matrix mapping segment currents (nA) to the dipole moment (nA um).

        Returns
        -------
        ndarray
            Shape (3, n_seg), um.
        """
        geom = self._geometry(geometry)
        return np.stack(_midpoints(geom))


# --------------------------------------------------------------------------------------------
# population average of any LFPykit linear model
# --------------------------------------------------------------------------------------------


def population_nodes(R, sigma_z, order=(8, 8, 16)):
    """Fixed quadrature of the population distribution (uniform disc x Gaussian depth).

    Radial: Gauss-Legendre in r on [0, R] with weight 2 r / R^2 (the radial density of a
    uniform disc); angular: ``n_phi`` equally spaced angles (trapezoid, exact for trigonometric
    polynomials of degree < n_phi); depth: probabilists' Gauss-Hermite scaled by ``sigma_z``.

    Parameters
    ----------
    R : float
        Disc radius (um), >= 0 (0: single node on the axis).
    sigma_z : float
        Depth standard deviation (um), >= 0 (0: single node at depth 0).
    order : tuple of int
        ``(n_r, n_phi, n_z)`` numbers of nodes.

    Returns
    -------
    dx, dy, dz, w : ndarray
        Node offsets (um) and weights (summing to 1), shape (n_nodes,).
    """
    R = _real_scalar("R", R, nonnegative=True)
    sigma_z = _real_scalar("sigma_z", sigma_z, nonnegative=True)
    try:
        n_r, n_phi, n_z = (int(o) for o in order)
    except (TypeError, ValueError):
        raise ValueError(f"order must be three positive integers (n_r, n_phi, n_z), got {order!r}") from None
    if min(n_r, n_phi, n_z) < 1:
        raise ValueError(f"order must be three positive integers (n_r, n_phi, n_z), got {order!r}")
    if R > 0:
        x, w = leggauss(n_r)
        r = 0.5 * R * (1.0 + x)
        wr = w * r / R  # (R/2) dx * 2 r / R^2
        phi = 2.0 * np.pi * (np.arange(n_phi) + 0.5) / n_phi
        wphi = np.full(n_phi, 1.0 / n_phi)
    else:
        r, wr, phi, wphi = np.zeros(1), np.ones(1), np.zeros(1), np.ones(1)
    if sigma_z > 0:
        xz, wz = hermegauss(n_z)
        zz, wz = sigma_z * xz, wz / np.sqrt(2.0 * np.pi)
    else:
        zz, wz = np.zeros(1), np.ones(1)
    rr, pp, zn = np.meshgrid(r, phi, zz, indexing="ij")
    ww = wr[:, None, None] * wphi[None, :, None] * wz[None, None, :]
    return (rr * np.cos(pp)).ravel(), (rr * np.sin(pp)).ravel(), zn.ravel(), ww.ravel()


class PopulationAveragedModel(_CellProbe):
    """Any LFPykit ``LinearModel`` averaged over the population's spatial distribution.

    The cell geometry is translated to each node of a fixed (deterministic) quadrature of the
    population distribution -- uniform in a disc of radius ``R`` in x-y, Gaussian with standard
    deviation ``sigma_z`` in depth, see :func:`population_nodes` -- the LFPykit model's matrix is
    computed for each translate, and the matrices are averaged with the quadrature weights.

    Parameters
    ----------
    model_name : str
        Name of an ``lfpykit`` LinearModel class, e.g. ``'PointSourcePotential'``,
        ``'LineSourcePotential'``, ``'RecExtElectrode'``, ``'LaminarCurrentSourceDensity'``.
    cell : object or None
        Segment geometry (see :func:`as_cell_geometry`), or None to supply it later.
    model_kwargs : dict
        Keyword arguments of the model besides ``cell`` (e.g. ``x, y, z`` in um, ``sigma`` in
        S/m).
    R : float
        Population disc radius (um), >= 0.
    sigma_z : float
        Depth standard deviation (um), >= 0.
    order : tuple of int
        ``(n_r, n_phi, n_z)`` quadrature nodes (radial, angular, depth).
    units, long_name : str, optional
        Output description (default: mV for potentials, nA/um3 for ``*CurrentSourceDensity``,
        nA um for ``CurrentDipoleMoment``).

    Notes
    -----
    The quadrature converges algebraically when contacts lie inside the population (the point
    source kernel is singular there); increase ``order`` until the result is stable.
    """

    _UNITS = {
        "PointSourcePotential": "mV",
        "LineSourcePotential": "mV",
        "RecExtElectrode": "mV",
        "RecMEAElectrode": "mV",
        "OneSphereVolumeConductor": "mV",
        "LaminarCurrentSourceDensity": "nA/um3",
        "VolumetricCurrentSourceDensity": "nA/um3",
        "CurrentDipoleMoment": "nA um",
    }

    def __init__(self, model_name, cell=None, model_kwargs=None, R=100.0, sigma_z=50.0,
                 order=(8, 8, 16), units=None, long_name=None):
        super().__init__(cell=cell)
        model = getattr(lfpykit, str(model_name), None)
        if not (isinstance(model, type) and issubclass(model, lfpykit.LinearModel)):
            raise ValueError(f"model_name {model_name!r} is not an lfpykit LinearModel class")
        if model_kwargs is not None and not isinstance(model_kwargs, dict):
            raise ValueError(f"model_kwargs must be a dict, got {type(model_kwargs).__name__}")
        self.model_name = str(model_name)
        self.model = model
        self.model_kwargs = dict(model_kwargs or {})
        if "cell" in self.model_kwargs:
            raise ValueError("model_kwargs must not contain 'cell'; pass cell separately")
        self.R = _real_scalar("R", R, nonnegative=True)
        self.sigma_z = _real_scalar("sigma_z", sigma_z, nonnegative=True)
        self.order = tuple(order) if np.ndim(order) else order
        self.nodes = population_nodes(self.R, self.sigma_z, order)
        self.units = units or self._UNITS.get(self.model_name, "")
        self.long_name = long_name or f"population-averaged {self.model_name}"
        self.channel_dim = f"{self.model_name}_channel"

    @property
    def channel_coord(self):
        """Channel index (0..n_channels-1) of the model's output rows."""
        return np.arange(self.get_transformation_matrix().shape[0])

    def get_transformation_matrix(self, geometry=None):
        """Quadrature average of the LFPykit model's matrix over population positions.

        Returns
        -------
        ndarray
            Shape as the LFPykit model's matrix, (n_channels, n_seg), in ``self.units``/nA.
        """
        geom = self._geometry(geometry)
        M = None
        for dx, dy, dz, w in zip(*self.nodes):
            moved = lfpykit.CellGeometry(x=geom.x + dx, y=geom.y + dy, z=geom.z + dz, d=geom.d)
            Mi = self.model(cell=moved, **self.model_kwargs).get_transformation_matrix()
            M = w * Mi if M is None else M + w * Mi
        return M


# --------------------------------------------------------------------------------------------
# dipole-driven head models
# --------------------------------------------------------------------------------------------


class FourSphereEEG:
    """EEG potential of a current dipole in the four-sphere head model.

    Wraps ``lfpykit.eegmegcalc.FourSphereVolumeConductor`` (corrected four-sphere model of
    Naess et al. 2017, Front Neuroinform 11:25; Hagen et al. 2018, J Neurosci Methods 300:1).
    Acts on the current dipole moment (``input = 'cdm'``), not on segment currents.

    Parameters
    ----------
    radii : array_like
        Outer radii of brain, CSF, skull, scalp (um), 4 increasing positive values.
    sigmas : array_like
        Conductivities of brain, CSF, skull, scalp (S/m), 4 positive values.
    dipole_location : array_like
        Dipole position (um), shape (3,), inside the brain sphere.
    electrode_locations : array_like
        Electrode positions (um), shape (3,) or (n_el, 3), farther from the centre than the
        dipole and not outside the scalp.

    Attributes
    ----------
    units : str
        ``'mV'``.
    """

    input = "cdm"
    units = "mV"
    long_name = "EEG potential (four-sphere head model)"
    channel_dim = "electrode"

    def __init__(self, radii, sigmas, dipole_location, electrode_locations):
        self.radii = _vector("radii", radii, ndim=1, length=4)
        if self.radii[0] <= 0 or np.any(np.diff(self.radii) <= 0):
            raise ValueError(f"radii must be positive and strictly increasing, got {self.radii}")
        self.sigmas = _vector("sigmas", sigmas, ndim=1, length=4)
        if np.any(self.sigmas <= 0):
            raise ValueError(f"sigmas must be > 0, got {self.sigmas}")
        self.dipole_location = _vector("dipole_location", dipole_location, ndim=1, length=3)
        rz = np.linalg.norm(self.dipole_location)
        if not 0 < rz < self.radii[0]:
            raise ValueError(
                f"dipole_location must lie inside the brain sphere (0 < |r| < {self.radii[0]} um), |r| = {rz}"
            )
        self.electrode_locations = _locations("electrode_locations", electrode_locations)
        r = np.linalg.norm(self.electrode_locations, axis=1)
        if np.any(r > self.radii[3]) or np.any(r <= rz):
            raise ValueError(
                "electrode_locations must satisfy |dipole_location| < |r| <= radii[3] "
                f"({rz} < |r| <= {self.radii[3]} um), got |r| = {r}"
            )

    @property
    def channel_coord(self):
        return np.arange(self.electrode_locations.shape[0])

    @property
    def channel_attrs(self):
        return {"long_name": "EEG electrode index",
                "electrode_locations_um": self.electrode_locations.ravel().tolist()}

    def get_transformation_matrix(self):
        """Matrix mapping the dipole moment (nA um) to electrode potentials (mV).

        Returns
        -------
        ndarray
            Shape (n_el, 3), mV/(nA um).
        """
        model = eegmegcalc.FourSphereVolumeConductor(
            self.electrode_locations, radii=self.radii.tolist(), sigmas=self.sigmas.tolist()
        )
        return model.get_transformation_matrix(self.dipole_location)


class MEG:
    """Magnetic field of a current dipole at MEG sensors.

    ``model='infinite'`` wraps ``lfpykit.eegmegcalc.InfiniteHomogeneousVolCondMEG`` (Biot-Savart
    law, ``H = p x R / (4 pi |R|^3)``, Nunez & Srinivasan 2006), the class LFPykit's examples
    import as ``MEG``; ``model='spherical'`` wraps ``SphericallySymmetricVolCondMEG`` (Sarvas
    1987, Phys Med Biol 32:11; sphere centred at the origin). Acts on the current dipole moment
    (``input = 'cdm'``). Note: a radial dipole produces no field outside a spherically symmetric
    conductor, and a dipole parallel to the dipole-sensor line produces none in either model.

    Parameters
    ----------
    sensor_locations : array_like
        Sensor positions (um), shape (3,) or (n_s, 3).
    dipole_location : array_like
        Dipole position (um), shape (3,).
    model : {'infinite', 'spherical'}
        Volume conductor model.
    quantity : {'H', 'B'}
        Output ``H`` in nA/um (LFPykit's unit; 1 nA/um = 1e-3 A/m) or ``B = mu_0 H`` in fT
        (1 nA/um -> 4 pi 1e5 fT, :data:`FT_PER_NA_PER_UM`).

    Attributes
    ----------
    units : str
        ``'nA/um'`` or ``'fT'``.

    Notes
    -----
    Layout: rows are sensor-major, ``row = 3 * sensor + component`` (components x, y, z), so
    ``(M @ p).reshape(n_s, 3, ...)`` recovers LFPykit's (n_s, 3, ...) layout.
    """

    input = "cdm"
    channel_dim = "meg_channel"

    def __init__(self, sensor_locations, dipole_location, model="infinite", quantity="H"):
        self.sensor_locations = _locations("sensor_locations", sensor_locations)
        self.dipole_location = _vector("dipole_location", dipole_location, ndim=1, length=3)
        if model not in ("infinite", "spherical"):
            raise ValueError(f"model must be 'infinite' or 'spherical', got {model!r}")
        if quantity not in ("H", "B"):
            raise ValueError(f"quantity must be 'H' or 'B', got {quantity!r}")
        dist = np.linalg.norm(self.sensor_locations - self.dipole_location, axis=1)
        if np.any(dist == 0):
            raise ValueError("sensor_locations must differ from dipole_location")
        if model == "spherical" and np.any(
            np.linalg.norm(self.sensor_locations, axis=1) <= np.linalg.norm(self.dipole_location)
        ):
            raise ValueError("sensor_locations must be farther from the origin than dipole_location")
        self.model = model
        self.quantity = quantity
        self.units = "nA/um" if quantity == "H" else "fT"
        self.long_name = ("magnetic field H" if quantity == "H" else "magnetic flux density B") + (
            " (infinite homogeneous volume conductor)" if model == "infinite"
            else " (spherically symmetric volume conductor)"
        )

    @property
    def channel_coord(self):
        n = self.sensor_locations.shape[0]
        return np.array([f"sensor{i}_{c}" for i in range(n) for c in "xyz"])

    @property
    def channel_attrs(self):
        return {"long_name": "MEG sensor and field component (row = 3 * sensor + component)",
                "sensor_locations_um": self.sensor_locations.ravel().tolist()}

    def get_transformation_matrix(self):
        """Matrix mapping the dipole moment (nA um) to the field at the sensors.

        Returns
        -------
        ndarray
            Shape (3 n_s, 3): (nA/um)/(nA um) for H, fT/(nA um) for B.
        """
        if self.model == "infinite":
            M = eegmegcalc.InfiniteHomogeneousVolCondMEG(self.sensor_locations)
        else:
            M = eegmegcalc.SphericallySymmetricVolCondMEG(self.sensor_locations)
        M = M.get_transformation_matrix(self.dipole_location)  # (n_s, 3, 3)
        M = M.reshape(-1, 3)
        return M * FT_PER_NA_PER_UM if self.quantity == "B" else M


# --------------------------------------------------------------------------------------------
# from the study configuration
# --------------------------------------------------------------------------------------------


def probes_from_config(cfg, population, cell=None):
    """Probes of the kernel engine for one population, from a validated config.

    Parameters
    ----------
    cfg : dict
        Validated configuration (:func:`lfpk.config.load_config`).
    population : str or dict
        Population name (key of ``cfg['populations']``) or its config entry (needs
        ``placement.radius`` and ``placement.z_sd``, um).
    cell : object, optional
        Kernel cell geometry (placed at the population's mean soma position); may be supplied
        later via ``get_transformation_matrix(geometry)`` or ``probe.cell``.

    Returns
    -------
    dict
        Insertion-ordered ``name -> probe`` with keys ``'lfp'`` (GaussCylinderPotential, mV),
        ``'csd'`` (GaussCylinderCSD, uA/mm3), ``'cdm'`` (CurrentDipoleMoment, nA um),
        ``'eeg'`` (FourSphereEEG, mV) and ``'meg'`` (MEG, H in nA/um). Every probe has
        ``input`` (``'imem'``: apply to segment currents; ``'cdm'``: apply to the ``'cdm'``
        output), ``units``, ``long_name``, ``channel_dim``, ``channel_coord`` and
        ``channel_attrs`` for netCDF attributes.

    Notes
    -----
    The config's ``probes.lfp.contact_radius`` (disc-averaged contacts of the ground truth) is
    not used: the Gaussian-cylinder potential is evaluated on the axis, and a 5-um contact
    average changes it by O((contact_radius / R)^2).
    """
    probes = cfg["probes"]
    if isinstance(population, str):
        try:
            population = cfg["populations"][population]
        except KeyError:
            raise ValueError(
                f"population {population!r} not in config populations {sorted(cfg['populations'])}"
            ) from None
    placement = population["placement"]
    R = placement["radius"]
    sigma_z = placement["z_sd"]
    z = np.asarray(probes["channel_z"], dtype=float)
    eeg = probes["eeg"]
    out = {}
    out["lfp"] = GaussCylinderPotential(cell, z=z, sigma=probes["sigma"], R=R, sigma_z=sigma_z)
    out["csd"] = GaussCylinderCSD(
        cell, z=z, R=probes["csd"]["radius"], h=probes["csd"]["half_height"], sigma_z=sigma_z,
        R_population=R,
    )
    out["cdm"] = CurrentDipoleMoment(cell)
    out["eeg"] = FourSphereEEG(
        radii=eeg["radii"], sigmas=eeg["sigmas"], dipole_location=eeg["dipole_location"],
        electrode_locations=eeg["electrode_location"],
    )
    out["meg"] = MEG(sensor_locations=probes["meg"]["sensor_location"],
                     dipole_location=eeg["dipole_location"])
    for name, spec in (probes.get("models") or {}).items():
        if name in out:
            raise ValueError(f"probes.models.{name}: name clashes with the built-in probe {name!r}")
        kwargs = {k: np.asarray(v, dtype=float) if isinstance(v, list) else v
                  for k, v in (spec.get("kwargs") or {}).items()}  # LFPykit wants arrays
        model = PopulationAveragedModel(
            spec["model"], cell, model_kwargs=kwargs, R=R, sigma_z=sigma_z,
            order=tuple(spec.get("order", (8, 8, 16))),
        )
        model.channel_dim = f"{name}_channel"
        out[name] = model
    return out
