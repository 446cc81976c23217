"""The segment table: the morphology data contract shared by every stage.

A segment table is a mapping of numpy arrays, one row per segment in the cell's segment order
(sections in their creation order, each from its 0 end to its 1 end):

============== ========= ====== ===========================================================
key            shape     units  meaning
============== ========= ====== ===========================================================
``x, y, z``    (n, 2)    um     start and end point (relative to the soma centre)
``diam``       (n,)      um     diameter
``length``     (n,)      um     length
``area``       (n,)      um2    membrane area
``section``    (n,)      1      section name
``group``      (n,)      1      type group (:mod:`lfpk.model.morphology.groups`)
``x_norm``     (n,)      1      segment centre along its section (NEURON's x)
``path_distance`` (n,)   um     path length from the soma centre to the segment centre
============== ========= ====== ===========================================================

and the index of the segment at the soma centre (spike detection, somatic potential).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

#: netCDF attributes of the segment table's variables.
VARIABLES = {
    "x": ("um", "segment end x coordinate"),
    "y": ("um", "segment end y coordinate"),
    "z": ("um", "segment end z coordinate"),
    "diam": ("um", "segment diameter"),
    "length": ("um", "segment length"),
    "area": ("um2", "segment membrane area"),
    "section": ("1", "section name"),
    "group": ("1", "section type group (soma, dend, apic, axon, other)"),
    "x_norm": ("1", "segment centre position along its section (NEURON x)"),
    "path_distance": ("um", "path length from the soma centre to the segment centre"),
}


def midpoints(seg):
    """Segment midpoints (n, 3) um."""
    return np.stack([seg["x"].mean(axis=1), seg["y"].mean(axis=1), seg["z"].mean(axis=1)], axis=-1)


def soma_centre(seg):
    """Soma centre (3,) um: mean of the soma segments' midpoints (LFPy's ``somapos``).

    Raises ``ValueError`` for a cell without soma segments.
    """
    soma = np.asarray(seg["group"]).astype(str) == "soma"
    if not soma.any():
        raise ValueError("the cell has no soma section (no section name starting with 'soma')")
    return midpoints(seg)[soma].mean(axis=0)


def soma_index(seg) -> int:
    """Index of the soma segment whose midpoint is nearest the soma centre (first on ties)."""
    soma = np.flatnonzero(np.asarray(seg["group"]).astype(str) == "soma")
    if not len(soma):
        raise ValueError("the cell has no soma section (no section name starting with 'soma')")
    d = np.linalg.norm(midpoints(seg)[soma] - soma_centre(seg), axis=1)
    return int(soma[np.argmin(d)])


def dataset(seg, attrs):
    """Segment table as a labelled xarray Dataset (dims ``segment``, ``end``)."""
    n = len(seg["diam"])
    data = {}
    for key, (units, long_name) in VARIABLES.items():
        if key not in seg:
            continue
        value = np.asarray(seg[key])
        if value.dtype.kind in "US":
            value = value.astype(str)
        dims = ("segment", "end") if key in ("x", "y", "z") else ("segment",)
        data[key] = (dims, value, {"units": units, "long_name": long_name})
    return xr.Dataset(data, coords={"segment": np.arange(n), "end": ["start", "end"]},
                      attrs={"soma_index": soma_index(seg), **attrs})


def from_dataset(ds):
    """Segment table mapping (numpy arrays) from its Dataset."""
    out = {k: ds[k].values for k in VARIABLES if k in ds}
    for k in ("section", "group"):
        if k in out:
            out[k] = out[k].astype(str)
    return out
