"""The point-neuron network in NEST: build, simulate (optionally in chunks), collect spikes.

:class:`LIFNetwork` builds the network of :class:`lfpk.study.pointnet.parameters.LIFParameters` in NEST 3
(``nest-simulator``, the ``pointnet`` extra of lfpk) and simulates it either in one
``nest.Simulate`` call or in chunks between which the spikes of the chunk are
handed to a callback and cleared from the recorders (memory bounded by a chunk), which is how
predictions are made while NEST runs (:func:`lfpk.study.pointnet.stages.simulate_files`).

Reproducibility: the network and its simulation are determined by the parameters, including
NEST's ``rng_seed`` and ``local_num_threads`` (NEST draws from one random stream per virtual
process, so the thread count is part of the model); the same parameters give the same spikes.
Neurons start at ``V_m = E_L``.
"""

from __future__ import annotations

import logging
import os
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import xarray as xr

from lfpk.base.io import software_versions, to_json
from lfpk.model.times import check_times, whole_steps

log = logging.getLogger("lfpk.pointnet")

#: Delay of the extrinsic Poisson synapses (ms): NEST's default, as the study (``LIF_net.py``).
EXTRINSIC_DELAY = 1.0


def import_nest():
    """``nest`` with its start-up banner and info messages silenced.

    Raises
    ------
    ImportError
        With the install hint, when NEST is missing.
    """
    os.environ.setdefault("PYNEST_QUIET", "1")
    # NEST's OpenMP threads meet at a barrier every min_delay slice; spinning there (the default
    # "active" policy) makes 2 threads on a busy 2-core machine 10-50 times slower (measured), so
    # waiting threads sleep unless the user chose otherwise. Read when the OpenMP runtime loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        # NEST (the pointnet extra) only when the LIF network is built
        import nest
    except ImportError as exc:
        raise ImportError("the point-neuron network needs NEST: pip install 'lfpk[pointnet]' "
                          f"(nest-simulator); import failed: {exc}") from None
    nest.verbosity = nest.VerbosityLevel.ERROR
    return nest


def versions():
    """:func:`lfpk.base.io.software_versions` plus NEST and pymoo."""

    out = software_versions()
    for pkg in ("nest-simulator", "pymoo"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def tics_per_ms(dt):
    """NEST's tics per ms for a resolution of ``dt`` ms: one step is 1000 tics (as the study).

    Raises ``ValueError`` unless ``1000 / dt`` is a whole number of tics.
    """
    tics = 1000.0 / float(dt)
    if not (np.isfinite(tics) and abs(tics - round(tics)) < 1e-9 * tics):
        raise ValueError(f"simulation.dt: {dt} ms is not representable in NEST with 1000 tics per step; "
                         "expected a dt that divides 1 ms into a whole number of thousandths (e.g. 0.0625, 0.1)")
    return int(round(tics))


class LIFNetwork:
    """A NEST ``iaf_psc_exp`` network (the module docstring and
    :mod:`lfpk.study.pointnet.parameters` describe the model).

    Parameters
    ----------
    params : LIFParameters

    Attributes
    ----------
    node_ids : dict
        Population -> NEST node ids (ints) of its neurons; the unit ids of the spikes.
    """

    def __init__(self, params):
        self.params = params
        self.nest = import_nest()
        self._build()

    def _build(self):
        nest = self.nest
        p = self.params
        nest.ResetKernel()
        nest.SetKernelStatus({"resolution": p.dt, "tics_per_ms": tics_per_ms(p.dt), "rng_seed": int(p.seed),
                              "local_num_threads": int(p.threads), "print_time": False})
        self.neurons, self.recorders, self.node_ids = {}, {}, {}
        for name in p.populations:
            params = dict(p.neurons[name], V_m=p.neurons[name]["E_L"])
            self.neurons[name] = nest.Create("iaf_psc_exp", p.sizes[name], params)
            self.node_ids[name] = np.asarray(self.neurons[name].tolist(), dtype=np.int64)
        drive = {name: nest.Create("poisson_generator", 1, {"rate": p.extrinsic_rate[name]})
                 for name in p.populations}
        for name in p.populations:
            self.recorders[name] = nest.Create("spike_recorder", 1, {"record_to": "memory"})
        for c in p.connections:
            nest.Connect(self.neurons[c["pre"]], self.neurons[c["post"]],
                         {"rule": "pairwise_bernoulli", "p": c["probability"]},
                         {"synapse_model": "static_synapse", "weight": self._weight(c["weight"]),
                          "delay": self._delay(c["delay"])})
        for name in p.populations:
            nest.Connect(drive[name], self.neurons[name], "all_to_all",
                         {"weight": p.extrinsic_weight, "delay": max(EXTRINSIC_DELAY, p.dt)})
            nest.Connect(self.neurons[name], self.recorders[name])
        self.n_connections = int(nest.GetKernelStatus("num_connections"))
        self.time = 0.0

    def _weight(self, J):
        """Weight spec: N(J, (weight_sd J)^2) redrawn until it has the sign of J (pA)."""
        nest = self.nest
        sd = self.params.weight_sd * abs(J)
        if sd == 0 or J == 0:
            return float(J)
        lo, hi = (0.0, np.inf) if J > 0 else (-np.inf, 0.0)
        return nest.math.redraw(nest.random.normal(mean=float(J), std=sd), min=lo, max=hi)

    def _delay(self, d):
        """Delay spec: N(d, (delay_sd d)^2) redrawn below delay_min (ms)."""
        nest = self.nest
        sd = self.params.delay_sd * d
        if sd == 0:
            return max(float(d), self.params.delay_min)
        return nest.math.redraw(nest.random.normal(mean=float(d), std=sd), min=self.params.delay_min, max=np.inf)

    # -- simulation ----------------------------------------------------------------------------

    def take_spikes(self):
        """Spikes recorded since the last call, cleared from the recorders.

        Returns
        -------
        dict
            Population -> (times (ms), node ids), each sorted by (time, id).
        """
        out = {}
        for name, rec in self.recorders.items():
            ev = rec.get("events")
            t = np.asarray(ev["times"], dtype=float)
            u = np.asarray(ev["senders"], dtype=np.int64)
            order = np.lexsort((u, t))
            out[name] = (t[order], u[order])
            rec.n_events = 0
        return out

    def chunk_steps(self, chunk):
        """Steps per chunk: ``chunk`` (ms) rounded down to a multiple of NEST's ``min_delay`` (at
        least one ``min_delay``). NEST updates the network in slices of ``min_delay`` and draws its
        random numbers slice by slice; chunks of whole slices leave the slicing, hence the spikes,
        as in one ``nest.Simulate``."""
        dt = self.params.dt
        check_times(dt, chunk=chunk)
        csteps = whole_steps(chunk, dt)
        slice_steps = max(1, int(round(float(self.nest.GetKernelStatus("min_delay")) / dt)))
        return max(slice_steps, csteps // slice_steps * slice_steps)

    def simulate(self, tstop, chunk=None, on_chunk=None):
        """Simulate from 0 to ``tstop`` (ms) and return every spike.

        Parameters
        ----------
        tstop : float
            Simulated time (ms), a whole number of steps of dt (:func:`lfpk.model.times.check_times`).
        chunk : float, optional
            Length (ms, a positive whole number of steps of dt) of each chunk, rounded down to whole ``min_delay``
            slices (:meth:`chunk_steps`); without it one ``nest.Simulate`` call. Each chunk is a
            ``nest.Simulate`` call (``Prepare``, ``Run``, ``Cleanup``), since NEST 3.10 refuses to
            clear a recorder inside a ``Prepare``/``Cleanup`` context; the spikes do not depend on
            the chunking (tested).
        on_chunk : callable, optional
            ``on_chunk(spikes, t)`` after each chunk with that chunk's spikes (as
            :meth:`take_spikes`) and the time ``t`` (ms) simulated so far. With ``on_chunk`` the
            spikes are handed over and not kept (the return value is empty), so memory stays
            bounded by a chunk.

        Returns
        -------
        dict
            Population -> (times, node ids) of all spikes (empty arrays with ``on_chunk``).
        """
        nest = self.nest
        dt = self.params.dt
        check_times(dt, tstop=tstop)
        nsteps = whole_steps(tstop, dt)
        kept = {name: ([], []) for name in self.params.populations}

        def collect(t):
            spikes = self.take_spikes()
            if on_chunk is not None:
                on_chunk(spikes, t)
            else:
                for name, (tt, uu) in spikes.items():
                    kept[name][0].append(tt)
                    kept[name][1].append(uu)

        if chunk is None:
            nest.Simulate(nsteps * dt)
            self.time = float(nest.biological_time)
            collect(self.time)
        else:
            csteps = self.chunk_steps(chunk)
            done = 0
            while done < nsteps:
                n = min(csteps, nsteps - done)
                nest.Simulate(n * dt)
                done += n
                self.time = done * dt
                collect(self.time)
        out = {}
        for name, (tt, uu) in kept.items():
            t = np.concatenate(tt) if tt else np.zeros(0)
            u = np.concatenate(uu) if uu else np.zeros(0, np.int64)
            order = np.lexsort((u, t))
            out[name] = (t[order], u[order])
        return out


def spikes_dataset(params, spikes, tstop, transient, attrs=None):
    """The network's spikes in the ``spikes.nc`` layout that ``lfpk predict`` reads.

    Parameters
    ----------
    params : LIFParameters
    spikes : dict
        Population -> (times ms, node ids), e.g. :meth:`LIFNetwork.simulate`.
    tstop, transient : float
        ms.
    attrs : dict, optional
        Extra global attributes.

    Returns
    -------
    xarray.Dataset
        ``spike_time (spike)`` ms, ``spike_unit (spike)`` NEST node id, ``unit_population (unit)``
        with the ``unit`` coordinate of node ids (E first, then I, ... in config order);
        attributes ``tstop``, ``transient``, ``dt`` (ms), the parameters (JSON).
    """

    ids, pops = [], []
    first = 1
    for name in params.populations:
        n = params.sizes[name]
        ids.append(np.arange(first, first + n, dtype=np.int64))
        pops += [name] * n
        first += n
    ids = np.concatenate(ids)
    t = np.concatenate([spikes[name][0] for name in params.populations]) if spikes else np.zeros(0)
    u = np.concatenate([spikes[name][1] for name in params.populations]) if spikes else np.zeros(0, np.int64)
    order = np.lexsort((u, t))
    t, u = t[order], u[order]
    if len(u) and not np.isin(u, ids).all():
        raise RuntimeError("NEST reported spikes of node ids outside the neuron populations")
    return xr.Dataset(
        {
            "spike_time": ("spike", t, {"units": "ms", "long_name": "spike time"}),
            "spike_unit": ("spike", u, {"units": "1", "long_name": "NEST node id of the spiking neuron"}),
            "unit_population": ("unit", np.array(pops, dtype=str), {"units": "1", "long_name": "population of the unit"}),
        },
        coords={"unit": ("unit", ids, {"long_name": "NEST node id"})},
        attrs={
            "title": "point-neuron (LIF) network spikes",
            "model": "NEST iaf_psc_exp network fitted to the ground truth (Hagen et al. 2022, Fig 14)",
            "tstop": float(tstop), "transient": float(transient), "dt": float(params.dt),
            "tstop_units": "ms", "transient_units": "ms", "dt_units": "ms",
            "population_sizes": to_json(params.sizes),
            "parameters": to_json(params.as_dict()),
            "software": to_json(versions()),
            **(attrs or {}),
        },
    )
