"""Spikes of a user's own run of NEST's microcircuit example, as a ``spikes.nc``.

NEST's ``pynest/examples/Potjans_2014`` (NEST 3) writes into its ``data_path``:

* ``population_nodeids.dat``: one line ``first last`` (NEST node ids) per population, in the order
  L23E, L23I, L4E, L4I, L5E, L5I, L6E, L6I;
* ``spike_recorder-<recorder id>-<virtual process>.dat``: NEST's ASCII recording backend, three
  header lines (``# NEST version``, ``# RecordingBackendASCII``, ``sender time_ms``) then one line
  ``sender time`` per spike, for every recorder and virtual process.

:func:`nest_example_dataset` reads them (each spike assigned to its population by the sender's node
id) into the layout of :func:`lfpk.study.pointnet.network.spikes_dataset`, so ``lfpk predict``
takes a user's run as it takes lfpk's own (:func:`lfpk.study.microcircuit.stages.simulate_files`).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import xarray as xr

from lfpk.base.io import to_json
from lfpk.study.microcircuit.parameters import POPULATIONS

#: Lines before the first spike in a NEST 3 ASCII spike file.
HEADER_LINES = 3


def read_population_nodeids(path):
    """``{population: (first, last)}`` from ``population_nodeids.dat``.

    Raises
    ------
    ValueError
        Not eight lines of two increasing integers, naming the file.
    """
    path = Path(path)
    try:
        ids = np.loadtxt(path, dtype=np.int64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read NEST's population node ids ({exc}); expected 8 lines 'first last'") from None
    if ids.shape != (len(POPULATIONS), 2) or np.any(ids[:, 1] < ids[:, 0]) or np.any(ids[1:, 0] <= ids[:-1, 1]):
        raise ValueError(f"{path}: expected 8 lines 'first last' of increasing NEST node ids (L23E ... L6I), "
                         f"got {ids.tolist()}")
    return {p: (int(a), int(b)) for p, (a, b) in zip(POPULATIONS, ids)}


def read_ascii_spikes(files):
    """Senders and times (ms) of NEST 3 ASCII spike files, concatenated.

    Raises
    ------
    ValueError
        A file without NEST's header or with lines that are not ``sender time``, naming it.
    """
    senders, times = [], []
    for f in files:
        with open(f) as fh:
            head = [fh.readline() for _ in range(HEADER_LINES)]
            if not head[0].startswith("# NEST") or head[2].split()[:2] != ["sender", "time_ms"]:
                raise ValueError(f"{f}: not a NEST 3 ASCII spike file (expected the header '# NEST version', "
                                 "'# RecordingBackendASCII', 'sender time_ms')")
            body = fh.read()
        if not body.strip():  # a recorder (or virtual process) without spikes
            continue
        try:
            data = np.loadtxt(io.StringIO(body), ndmin=2)
        except ValueError as exc:
            raise ValueError(f"{f}: {exc}; expected lines 'sender time_ms'") from None
        if data.size:
            if data.shape[1] != 2:
                raise ValueError(f"{f}: {data.shape[1]} columns; expected 'sender time_ms'")
            senders.append(data[:, 0].astype(np.int64))
            times.append(data[:, 1])
    if not senders:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(senders), np.concatenate(times)


def nest_example_dataset(folder, tstop, transient=0.0, dt=0.1, prefix="spike_recorder"):
    """The spikes of NEST's microcircuit example in ``folder`` as a ``spikes.nc`` dataset.

    Parameters
    ----------
    folder : path-like
        The example's ``data_path``.
    tstop, transient, dt : float
        Simulated time, the part to discard and NEST's resolution (ms; the example's defaults:
        t_presim + t_sim = 1500, 500, 0.1), recorded as the file's attributes.
    prefix : str
        Name of the spike files (``<prefix>-*.dat``).

    Returns
    -------
    xarray.Dataset
        ``spike_time``, ``spike_unit`` (NEST node id), ``unit_population`` over ``unit``.

    Raises
    ------
    ValueError
        Missing files, a spike from a node of no population, a spike at or after ``tstop``.
    """
    folder = Path(folder)
    nodeids = read_population_nodeids(folder / "population_nodeids.dat")
    files = sorted(folder.glob(f"{prefix}-*.dat"))
    if not files:
        raise ValueError(f"{folder}: no {prefix}-*.dat spike files; expected the data_path of NEST's Potjans_2014 "
                         "example run with record_to 'ascii'")
    u, t = read_ascii_spikes(files)
    units = np.concatenate([np.arange(a, b + 1, dtype=np.int64) for a, b in nodeids.values()])
    pops = np.concatenate([np.full(b - a + 1, p) for p, (a, b) in nodeids.items()])
    if u.size and not np.isin(u, units).all():
        bad = np.unique(u[~np.isin(u, units)])[:5].tolist()
        raise ValueError(f"{folder}: spikes of node ids {bad} outside the populations of population_nodeids.dat")
    if t.size and t.max() >= tstop:
        raise ValueError(f"tstop: {tstop:g} ms, but {folder} has spikes until {t.max():g} ms; expected tstop above "
                         "the last spike (t_presim + t_sim of the example)")
    order = np.lexsort((u, t))
    return xr.Dataset(
        {"spike_time": ("spike", t[order], {"units": "ms", "long_name": "spike time"}),
         "spike_unit": ("spike", u[order], {"units": "1", "long_name": "NEST node id of the spiking neuron"}),
         "unit_population": ("unit", pops.astype(str), {"units": "1", "long_name": "population of the unit"})},
        coords={"unit": ("unit", units, {"long_name": "NEST node id"})},
        attrs={"title": "cortical microcircuit spikes (NEST's Potjans_2014 example, ASCII files)",
               "model": "Potjans & Diesmann (2014) Cereb Cortex 24:785, NEST pynest/examples/Potjans_2014",
               "source": str(folder), "tstop": float(tstop), "transient": float(transient), "dt": float(dt),
               "tstop_units": "ms", "transient_units": "ms", "dt_units": "ms",
               "population_sizes": to_json({p: b - a + 1 for p, (a, b) in nodeids.items()})})
