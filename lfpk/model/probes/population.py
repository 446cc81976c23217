"""Any LFPykit LinearModel averaged over a population's spatial distribution by quadrature."""

from __future__ import annotations

import lfpykit
import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss

from lfpk.model.probes.geometry import _CellProbe, _real_scalar

#: Largest depth order of the Gauss-Hermite rule.
MAX_HERMITE = 200


def population_nodes(R, sigma_z, order=(8, 8, 16)):
    """Fixed quadrature of the population distribution (uniform disc x Gaussian depth).

    Radial: Gauss-Legendre in r on [0, R] with weight 2 r / R^2 (the radial density of a
    uniform disc); angular: ``n_phi`` equally spaced angles (trapezoid, exact for trigonometric
    polynomials of degree < n_phi); depth: probabilists' Gauss-Hermite scaled by ``sigma_z`` for
    ``n_z <= 200``, above that (where NumPy's Hermite weights underflow) a composite 8-node
    Gauss-Legendre rule on +-9 ``sigma_z`` weighted by the normal density (``n_z`` rounded up to a
    multiple of 8; the truncated mass, 2e-19, is renormalised away).

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
    if sigma_z > 0 and n_z <= MAX_HERMITE:
        xz, wz = hermegauss(n_z)
        zz, wz = sigma_z * xz, wz / np.sqrt(2.0 * np.pi)
    elif sigma_z > 0:
        xg, wg = leggauss(8)
        edges = np.linspace(-9.0, 9.0, -(-n_z // 8) + 1)
        lo, hi = edges[:-1, None], edges[1:, None]
        xz = (0.5 * (lo + hi) + 0.5 * (hi - lo) * xg).ravel()
        wz = (0.5 * (hi - lo) * wg).ravel() * np.exp(-0.5 * xz**2)
        zz, wz = sigma_z * xz, wz / wz.sum()
    else:
        zz, wz = np.zeros(1), np.ones(1)
    rr, pp, zn = np.meshgrid(r, phi, zz, indexing="ij")
    ww = wr[:, None, None] * wphi[None, :, None] * wz[None, None, :]
    return (rr * np.cos(pp)).ravel(), (rr * np.sin(pp)).ravel(), zn.ravel(), ww.ravel()


#: Segments (cell copies x segments) per LFPykit call of the quadrature.
CHUNK_SEGMENTS = 200_000
#: Start of the order refinement (radial, angular, depth) and its node budget.
START_ORDER = (4, 4, 8)
MAX_NODES = 2**16
#: Default tolerance of the order refinement (relative agreement of two successive orders).
DEFAULT_TOLERANCE = 0.01


def relative_change(A, B):
    """``max |A - B| / max |B|`` (0 for two zero matrices)."""
    scale = np.abs(B).max()
    diff = np.abs(A - B).max()
    return float(diff / scale) if scale > 0 else float(diff > 0)


class PopulationAveragedModel(_CellProbe):
    """Any LFPykit ``LinearModel`` averaged over the population's spatial distribution.

    The cell geometry is translated to each node of a deterministic quadrature of the population
    distribution -- uniform in a disc of radius ``R`` in x-y, Gaussian with standard deviation
    ``sigma_z`` in depth, see :func:`population_nodes` -- and, for a population of randomly
    rotated cells, rotated about its soma's z axis by equally spaced angles; the LFPykit model's
    matrix is computed for each node and the matrices are averaged with the quadrature weights.

    Quadrature order: a fixed ``order`` (n_r, n_phi, n_z[, n_rot]), or (``order=None``, the
    default) chosen by refinement: starting from (4, 4, 8[, 4]), the order along each axis is
    doubled in turn and the axis whose doubling changes the matrix most is refined, until no
    doubling changes it by more than ``tolerance`` (relative to its largest entry; the error
    estimate of the accepted matrix, which is the more refined of the two that agree). The chosen
    order and the estimate are :attr:`order` and :attr:`error_estimate`. Refinement stops at
    2**16 nodes (:attr:`converged` False).

    Parameters
    ----------
    model_name : str
        Name of an ``lfpykit`` LinearModel class, e.g. ``'PointSourcePotential'``,
        ``'LineSourcePotential'``, ``'RecExtElectrode'``, ``'LaminarCurrentSourceDensity'``.
    cell : object or None
        Segment geometry (see :func:`as_cell_geometry`), soma centre at the population axis.
    model_kwargs : dict
        Keyword arguments of the model besides ``cell`` (e.g. ``x, y, z`` in um, ``sigma`` in
        S/m).
    R : float
        Population disc radius (um), >= 0.
    sigma_z : float
        Depth standard deviation (um), >= 0.
    order : tuple of int or None
        ``(n_r, n_phi, n_z)`` (and ``n_rot`` with ``random_rotation``) fixed quadrature nodes, or
        None to refine until ``tolerance``.
    tolerance : float
        Relative agreement of two successive orders that ends the refinement.
    random_rotation : bool
        Average also over a uniform rotation of the cell about z through the soma centre.
    units, long_name : str, optional
        Output description (default: mV for potentials, nA/um3 for ``*CurrentSourceDensity``,
        nA um for ``CurrentDipoleMoment``).
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
                 order=(8, 8, 16), units=None, long_name=None, tolerance=DEFAULT_TOLERANCE,
                 random_rotation=False):
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
        self.random_rotation = bool(random_rotation)
        self.tolerance = _real_scalar("tolerance", tolerance, positive=True)
        self.fixed_order = None if order is None else tuple(int(o) for o in order)
        if self.fixed_order is not None:
            n_axes = 4 if self.random_rotation else 3
            if len(self.fixed_order) == 3 and n_axes == 4:
                self.fixed_order = self.fixed_order + (max(self.fixed_order[1], 1),)
            population_nodes(self.R, self.sigma_z, self.fixed_order[:3])  # validates
            if len(self.fixed_order) != n_axes:
                raise ValueError(f"order must have {n_axes} entries, got {order!r}")
        self.order = self.fixed_order
        self.error_estimate = None
        self.converged = None
        self.units = units or self._UNITS.get(self.model_name, "")
        self.long_name = long_name or f"population-averaged {self.model_name}"
        self.channel_dim = f"{self.model_name}_channel"
        self._cache = {}

    @property
    def nodes(self):
        """Quadrature nodes (dx, dy, dz, weights) of the current order (positions only)."""
        return population_nodes(self.R, self.sigma_z, (self.order or START_ORDER)[:3])

    @property
    def channel_coord(self):
        """Channel index (0..n_channels-1) of the model's output rows."""
        return np.arange(self.get_transformation_matrix().shape[0])

    @property
    def quadrature_attrs(self):
        """netCDF attributes describing the quadrature (after a matrix was computed)."""
        out = {"quadrature_order": list(self.order or ()), "quadrature_axes": "radial, angular, depth"
               + (", rotation" if self.random_rotation else "")}
        if self.fixed_order is None:
            out.update(quadrature_tolerance=self.tolerance,
                       quadrature_error_estimate=self.error_estimate,
                       quadrature_converged=int(bool(self.converged)))
        return out

    def _matrix(self, geom, order):
        key = (tuple(order), geom.x.tobytes(), geom.y.tobytes(), geom.z.tobytes(), np.asarray(geom.d).tobytes())
        if key in self._cache:
            return self._cache[key]
        dx, dy, dz, w = population_nodes(self.R, self.sigma_z, order[:3])
        if self.random_rotation:
            n_rot = int(order[3])
            angles = 2.0 * np.pi * (np.arange(n_rot) + 0.5) / n_rot
        else:
            angles = np.zeros(1)
        # every (rotation, position) node is a translated copy of the cell; copies are evaluated
        # together in chunks of about CHUNK_SEGMENTS segments (one LFPykit call per chunk)
        nodes = [(a, x0, y0, z0, wi / len(angles)) for a in angles for x0, y0, z0, wi in zip(dx, dy, dz, w)]
        n_seg = geom.x.shape[0]
        per_chunk = max(1, CHUNK_SEGMENTS // n_seg)
        d = np.asarray(geom.d)
        M = None
        for k in range(0, len(nodes), per_chunk):
            chunk = nodes[k:k + per_chunk]
            xs, ys, zs = [], [], []
            for a, x0, y0, z0, _ in chunk:
                c, s_ = np.cos(a), np.sin(a)
                xs.append(c * geom.x - s_ * geom.y + x0)
                ys.append(s_ * geom.x + c * geom.y + y0)
                zs.append(geom.z + z0)
            moved = lfpykit.CellGeometry(x=np.concatenate(xs), y=np.concatenate(ys), z=np.concatenate(zs),
                                         d=np.concatenate([d] * len(chunk)))
            Mc = self.model(cell=moved, **self.model_kwargs).get_transformation_matrix()
            wts = np.array([node[4] for node in chunk])
            part = (Mc.reshape(Mc.shape[0], len(chunk), n_seg) * wts[None, :, None]).sum(axis=1)
            M = part if M is None else M + part
        self._cache[key] = M
        return M

    def _refine(self, geom):
        order = list(START_ORDER) + ([4] if self.random_rotation else [])
        if self.R == 0:
            order[0] = order[1] = 1
        if self.sigma_z == 0:
            order[2] = 1
        M = self._matrix(geom, order)
        while True:
            trials = []
            for axis in range(len(order)):
                if order[axis] == 1 and axis < 3:
                    continue  # a degenerate axis (R = 0 or sigma_z = 0) has one exact node
                trial = list(order)
                trial[axis] *= 2
                if np.prod(trial) > MAX_NODES:
                    continue
                Mt = self._matrix(geom, trial)
                trials.append((relative_change(Mt, M), trial, Mt))
            if not trials:
                self.converged = False
                self.order, self.error_estimate = tuple(order), None
                return M
            change, trial, Mt = max(trials, key=lambda t: t[0])
            if change <= self.tolerance:
                self.converged = True
                self.order, self.error_estimate = tuple(trial), change
                return Mt
            order, M = trial, Mt

    def get_transformation_matrix(self, geometry=None):
        """Quadrature average of the LFPykit model's matrix over population positions.

        Returns
        -------
        ndarray
            Shape as the LFPykit model's matrix, (n_channels, n_seg), in ``self.units``/nA.
        """
        geom = self._geometry(geometry)
        if self.fixed_order is not None:
            return self._matrix(geom, self.fixed_order)
        if len(self._cache) > 256:
            self._cache = {}
        return self._refine(geom)
