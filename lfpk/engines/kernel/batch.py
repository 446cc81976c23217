"""Kernels of several connections from one :class:`lfpk.engines.kernel.KernelEngine`.

The engine builds each postsynaptic population's linearised cell, probe matrices and
linearisation once and reuses them for every connection onto that population, so the kernels of
a set of connections are computed in one loop over the (post, pre) pairs: :func:`engine_kernels`
yields the engine's raw results (the sensitivity scan takes their positive-lag parts),
:func:`kernel_datasets` the labelled datasets of the kernel data contract (``lfpk kernel``, the
workflow's kernel jobs, :func:`lfpk.api.kernels.compute_kernels`).
"""

from __future__ import annotations

import time

from lfpk.engines.kernel.dataset import kernel_dataset
from lfpk.engines.kernel.errors import KernelError
from lfpk.engines.kernel.inputs import kernel_parameters


def check_pairs(engine, pairs):
    """Raise :class:`KernelError` naming the first (post, pre) of ``pairs`` that is not a
    connection of ``engine``'s network."""
    for post, pre in pairs:
        if (post, pre) not in engine.connections:
            raise KernelError(f"connection {pre} -> {post} is not in the configuration")


def engine_kernels(engine, pairs, V_rest, rates):
    """Yield ``(post, pre, result)`` for each (post, pre) of ``pairs``, in their order.

    Parameters
    ----------
    engine : lfpk.engines.kernel.KernelEngine
    pairs : sequence of (str, str)
        Connections (postsynaptic, presynaptic population); all are checked before the first
        kernel is computed.
    V_rest : dict
        Population -> linearisation potential (mV; float or per-segment array).
    rates : dict or None
        Presynaptic rates (1/s) for g_eff.

    Yields
    ------
    post, pre : str
    result : dict
        :meth:`lfpk.engines.kernel.KernelEngine.kernel` of the connection.
    """
    pairs = list(pairs)
    check_pairs(engine, pairs)
    for post, pre in pairs:
        yield post, pre, engine.kernel(post, pre, V_rest[post], rates=rates)


def kernel_datasets(engine, cfg, pairs, V_rest, rates, provenance=None):
    """Yield ``(post, pre, dataset, seconds)`` for each (post, pre) of ``pairs``, in their order.

    Parameters
    ----------
    engine : lfpk.engines.kernel.KernelEngine
        Engine of ``cfg`` (its probes may be replaced).
    cfg : dict
        Validated configuration; each dataset stores :func:`kernel_parameters` of its connection.
    pairs : sequence of (str, str)
        Connections (postsynaptic, presynaptic population).
    V_rest : dict
        Population -> linearisation potential (mV; float or per-segment array).
    rates : dict or None
        Presynaptic rates (1/s) for g_eff.
    provenance : dict, optional
        Where V_rest and rates came from (:func:`lfpk.engines.kernel.inputs.kernel_inputs`).

    Yields
    ------
    post, pre : str
    dataset : xarray.Dataset
        :func:`lfpk.engines.kernel.kernel_dataset` of the connection.
    seconds : float
        Wall time (s) of the kernel and its dataset (not of what the caller does between items).
    """
    kernels = engine_kernels(engine, pairs, V_rest, rates)
    while True:
        start = time.perf_counter()
        item = next(kernels, None)
        if item is None:
            return
        post, pre, result = item
        ds = kernel_dataset(engine, post, pre, result, V_rest[post], rates,
                            parameters=kernel_parameters(cfg, post, pre), provenance=provenance)
        yield post, pre, ds, time.perf_counter() - start
