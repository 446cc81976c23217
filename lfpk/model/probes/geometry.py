"""Input validation and segment geometry shared by the probes."""

from __future__ import annotations

import numbers

import lfpykit
import numpy as np


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
        method returning such a mapping (:class:`lfpk.model.morphology.BallAndStick`).

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
