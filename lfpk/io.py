"""Labelled netCDF input/output shared by every stage.

Every file is written to a temporary name in the destination folder and renamed into place, so a
killed job never leaves a file a rerun could mistake for complete. Structured attributes are
stored as JSON strings (netCDF attributes hold only scalars, strings and 1-d arrays).
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def software_versions() -> dict:
    """Versions of the packages that determine lfpk's numbers."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("lfpk", "numpy", "scipy", "xarray", "netCDF4", "neuron", "LFPy", "LFPykit"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return str(obj)  # JSON has no inf/nan; "inf" round-trips through float()
    return obj


def to_json(obj) -> str:
    """Serialise parameters for a netCDF attribute (sorted keys, so reruns are byte-identical)."""
    return json.dumps(_jsonable(obj), sort_keys=True)


@contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; rename it to ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; final files get the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_dataset(ds, path) -> Path:
    """Write an xarray Dataset to netCDF atomically.

    Every data variable must carry ``units`` and ``long_name`` attributes (the data contract);
    a missing one raises ``ValueError`` naming the variable before anything is written.
    """
    for name, var in ds.data_vars.items():
        for attr in ("units", "long_name"):
            if attr not in var.attrs:
                raise ValueError(f"variable {name!r} lacks the {attr!r} attribute required for {path}")
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")
    return Path(path)


def read_dataset(path):
    """Open a netCDF file fully into memory (the file handle is closed on return)."""
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"netCDF file {path} does not exist")
    with xr.open_dataset(path, engine="netcdf4") as ds:
        return ds.load()
