"""Reading and checking the inputs of a figure: required variables, a run's configuration from its
``spikes.nc``, analysis windows and grid cell edges (shared by the study's and the paper's figures).
"""

from __future__ import annotations

import json

import numpy as np


def require(ds, names, what):
    """Raise ``ValueError`` naming the first variable of ``names`` that ``ds`` lacks.

    Parameters
    ----------
    ds : xarray.Dataset
    names : sequence of str
        Variables (or coordinates) the figure needs.
    what : str
        The dataset's name in the message (e.g. ``"spikes"``).
    """
    for name in names:
        if name not in ds.variables:
            raise ValueError(f"{what}: missing variable {name!r} (needed for the figure)")


def run_config(spikes):
    """The configuration of a ground-truth run from its ``spikes.nc`` attributes.

    ``parameters`` (the config, JSON) with ``population_sizes`` and ``connection_probabilities``
    (as simulated, after ``--population-sizes`` scaling) applied.

    Parameters
    ----------
    spikes : xarray.Dataset
        A run's ``spikes.nc``.

    Returns
    -------
    dict
        The configuration.
    """
    if "parameters" not in spikes.attrs:
        raise ValueError("spikes: attribute 'parameters' (the run's config, JSON) missing; pass the config")
    cfg = json.loads(spikes.attrs["parameters"])
    sizes = json.loads(spikes.attrs.get("population_sizes", "{}") or "{}")
    for p, n in sizes.items():
        if p in cfg["populations"]:
            cfg["populations"][p]["size"] = int(n)
    probs = json.loads(spikes.attrs.get("connection_probabilities", "{}") or "{}")
    for c in cfg["connections"]:
        key = f"{c['pre']}->{c['post']}"
        if key in probs:
            c["probability"] = float(probs[key])
    return cfg


def time_window(ds, window, length):
    """Analysis window ``(t0, t1)`` (ms): ``window`` if given, else ``length`` ms from the
    dataset's transient (the whole time axis if that is empty)."""
    if window is not None:
        return float(window[0]), float(window[1])
    t = np.asarray(ds["time"].values, dtype=float)
    t0 = float(ds.attrs.get("transient", t[0]))
    t1 = min(t0 + length, float(t[-1]))
    if t1 <= t0:
        t0, t1 = float(t[0]), float(t[-1])
    return t0, t1


def cell_edges(v, half):
    """Cell edges around grid values ``v`` (midpoints; ``half`` either side of a single value)."""
    v = np.asarray(v, dtype=float)
    if len(v) == 1:
        return np.array([v[0] - half, v[0] + half])
    mid = 0.5 * (v[1:] + v[:-1])
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])
