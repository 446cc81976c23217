"""The hybrid scheme: the ground-truth network rebuilt with linearised cells and driven by spikes.

Hagen et al. (2022, PLOS Comput Biol 18:e1010353; its ``example_network_reconstruction.py`` and
``example_network_kernel.py``) test the kernel method in two steps before comparing kernels
with the ground truth:

* **Reconstruction.** The same network -- same cells, positions, synapses, weights and delays
  (here: the same :class:`lfpk.model.connectivity.Connectivity`, a deterministic function of the config
  and seed, so nothing has to be saved) -- is rebuilt with linearised cells (``frozen`` or
  ``quasi_linear``, :mod:`lfpk.model.biophysics.linear`, linearised at the ground truth's median somatic
  potential of each population) and current-based synapses (each conductance synapse of weight
  g and reversal E becomes a current of peak ``-g (V_rest - E)``, :mod:`exp2synisum.mod`). No cell
  spikes: every presynaptic spike of the ground truth is replayed (NEURON's ``PatternStim``
  delivers the recorded ``(time, gid)`` list to every synapse of each gid, with the synapse's own
  delay), and the extrinsic Poisson drive is the ground truth's own trains (the same Random123
  streams, drawn inside ``Exp2SynISum`` as the ground truth draws them inside ``Exp2SynSum``)
  acting through current synapses. Optionally (``g_eff``) each segment's leak is raised by
  the time-averaged conductance of the synapses it carries: every recurrent synapse at its
  presynaptic population's mean rate and every extrinsic synapse at its Poisson rate
  (:func:`lfpk.engines.kernel.statistics.mean_conductance`, the definition the kernels use). The result
  is linear in the replayed spikes.
* **Hybrid kernels.** The same linearised network (``g_eff`` on, no extrinsic drive) with every
  neuron of population X firing once at ``t_X`` (the study: E at 200 ms, I at 400 ms); the
  response of population Y's cells divided by N_X, minus its value at lag 0, is the kernel
  H_YX (:func:`hybrid_kernels`).

Both are runs of the ground-truth network code (:class:`lfpk.engines.network.Network`: placement,
connectivity, lumped order-independent synapses, Random123 drive, probe mapping in int64 fixed
point, MPI over gids) with its cell, synapse and spike-source steps replaced
(:class:`ReplayNetwork`), so their outputs are bitwise identical for any number of ranks.
Differences from the study: the added g_eff leak reverses at V_rest (the cell rests at V_rest
exactly, the study adds it to g_pas after equalising e_pas), and the linearised cells start at
rest (the study initialises them at V_rest too).

A config whose synapses are already current based (``model: Exp2SynI``, weights in nA, no
reversal potential: the kernels-only microcircuit, hybridLFPy's scheme of Hagen et al. 2016,
Cereb Cortex 26:4461) is replayed with its weights unchanged: each synapse delivers the config's
drawn weight (nA, the sign of the connection) through ``Exp2SynISum``; ``g_eff`` is refused for
it (a current synapse adds no conductance), as the kernel engine refuses it.
"""

from __future__ import annotations

import json
import logging
import time

import numpy as np
import xarray as xr

from lfpk.base.io import read_dataset, software_versions, to_json, write_dataset
from lfpk.engines.kernel.inputs import kernel_inputs
from lfpk.engines.kernel.statistics import S_PER_CM2_PER_US_PER_UM2, mean_conductance
from lfpk.engines.network.cells import CURRENT_MODELS, quantise_weights
from lfpk.engines.network.datasets import streamed_outputs
from lfpk.engines.network.simulation import Network
from lfpk.model import biophysics
from lfpk.model.connectivity import extrinsic_counts, place_cells, synapse_type
from lfpk.model.synapse import Synapse
from lfpk.model.times import check_times

log = logging.getLogger("lfpk.network")

#: Synapse model of the replayed (current-based) synapses.
CURRENT_SYNAPSE = "Exp2SynI"
#: Membrane forms a reconstruction may use.
REPLAY_FORMS = ("frozen", "quasi_linear", "passive")


def is_current(syn):
    """Config synapse ``syn`` is current based (weights in nA, no reversal potential)."""
    return str(syn.get("model", "Exp2Syn")) in CURRENT_MODELS


def current_key(syn):
    """Synapse type key of the current-based version of config synapse ``syn``: the lumping key
    keeps the reversal potential, so inputs of different sign stay on separate point processes."""
    model, tau1, tau2, e = synapse_type(syn)
    return (CURRENT_SYNAPSE, tau1, tau2, e)


def replayed_weights(syn, weight, V_rest):
    """Current (nA) a replayed synapse delivers: the config's weight of a current synapse
    unchanged (quantised), else the linearised conductance :func:`synaptic_current`."""
    if is_current(syn):
        return quantise_weights(weight)
    return synaptic_current(quantise_weights(weight), V_rest, syn["e"])


def synaptic_current(weight, V_rest, e):
    """Peak current (nA, positive inward) of conductance synapses of peak ``weight`` (uS) and
    reversal ``e`` (mV) linearised at ``V_rest`` (mV): ``-weight (V_rest - e)``, quantised to
    :data:`lfpk.engines.network.WEIGHT_QUANTUM` (nA) so that sums of them are exact."""
    return quantise_weights(-np.asarray(weight, dtype=float) * (float(V_rest) - float(e)))


def replay_lead(conns, dt):
    """Time (ms) by which the replay sends spikes early and lengthens every delay: ``dt`` if a
    delay may be one step (NEURON's ``ParallelContext`` needs every delay from a gid it does not
    own, as the replayed ones, to exceed ``dt``; NEST allows one step, the microcircuit's
    truncation at ``dt``), else 0 (the arrival times are the same either way).

    Parameters
    ----------
    conns : list of dict
        :attr:`lfpk.model.connectivity.Connectivity.conns` (``delay_lower``, ms).
    dt : float
        ms.
    """
    lower = [c["delay_lower"] for c in conns if np.isfinite(c["delay_lower"])]
    steps = min([max(1.0, np.ceil(d / dt - 1e-9)) for d in lower], default=2.0)
    return float(dt) if steps <= 1 else 0.0


def volley_spikes(layout, times):
    """Spikes of a hybrid-kernel run: every cell of population X fires once at ``times[X]`` (ms).

    Returns
    -------
    spike_time, spike_unit : ndarray
        Sorted by time, then gid.
    """
    t, u = [], []
    for name in layout.names:
        if name not in times:
            continue
        gids = layout.gids(name)
        t.append(np.full(len(gids), float(times[name])))
        u.append(gids)
    if not t:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    t, u = np.concatenate(t), np.concatenate(u).astype(np.int64)
    order = np.lexsort((u, t))
    return t[order], u[order]


class ReplayNetwork(Network):
    """The ground-truth network with linearised cells, current synapses and replayed spikes.

    Parameters
    ----------
    cfg : dict
        Validated config (the ground-truth run's).
    spike_time, spike_unit : array_like
        Presynaptic spikes to replay (ms, gid), sorted by time.
    V_rest : dict
        Linearisation potential of each population (mV, scalar).
    rates : dict, optional
        Mean rate of each population (1/s), required with ``g_eff``.
    form : str
        ``frozen``, ``quasi_linear`` or ``passive`` (:data:`REPLAY_FORMS`).
    g_eff : bool
        Add each segment's time-averaged synaptic conductance to its leak.
    extrinsic : bool
        Replay the extrinsic Poisson drive (reconstructions) or not (hybrid kernels).
    **kwargs
        Passed to :class:`lfpk.engines.network.Network` (``sizes``, ``probabilities``, ``tstop``,
        ``seed``, ``pc``, ...).
    """

    def __init__(self, cfg, spike_time, spike_unit, V_rest, rates=None, form="frozen", g_eff=True,
                 extrinsic=True, **kwargs):
        if form not in REPLAY_FORMS:
            raise ValueError(f"form: {form!r} is not one of {REPLAY_FORMS}")
        current = [i for i, c in enumerate(cfg["connections"]) if is_current(c["synapse"])]
        current += [n for n, p in cfg["populations"].items() if is_current(p["extrinsic"]["synapse"])]
        if g_eff and current:
            raise ValueError(f"g_eff: a current synapse (Exp2SynI; {current[0]}) adds no conductance to the leak; "
                             "expected g_eff off")
        super().__init__(cfg, biophysics=form, **kwargs)
        self.delay_lead = replay_lead(self.conn.conns, self.dt)
        missing = [p for p in self.layout.names if p not in V_rest]
        if missing:
            raise ValueError(f"V_rest: missing the linearisation potential of population(s) {missing} (mV)")
        self.V_rest = {p: float(V_rest[p]) for p in self.layout.names}
        if g_eff:
            missing = [p for p in self.layout.names if rates is None or p not in rates]
            if missing:
                raise ValueError(f"rates: g_eff needs the mean rate of population(s) {missing} (1/s)")
        self.rates = {p: float(r) for p, r in (rates or {}).items()}
        self.g_eff = bool(g_eff)
        self.extrinsic = bool(extrinsic)
        st = np.asarray(spike_time, dtype=float)
        su = np.asarray(spike_unit, dtype=np.int64)
        if st.shape != su.shape or st.ndim != 1:
            raise ValueError("spikes: spike_time and spike_unit must be 1-d arrays of one length")
        if len(su) and (su.min() < 0 or su.max() >= self.layout.n_cells):
            raise ValueError(f"spikes: gids outside 0..{self.layout.n_cells - 1} of the network")
        if len(st) and np.any(np.diff(st) < 0):
            raise ValueError("spikes: spike times must be sorted")
        if len(st) and st[0] < self.delay_lead:
            raise ValueError(f"spikes: a spike at {st[0]} ms; with delays of one step (dt {self.dt} ms) the replay "
                             f"takes spikes from {self.delay_lead} ms on")
        self.spike_time, self.spike_unit = st, su
        self._incoming_cache = {}

    # --- the replaced steps --------------------------------------------------------------

    def _biophysics_kwargs(self):
        return {"passive_g_pas": self.cfg["kernel"].get("passive_g_pas", 3e-4)}

    def _linear_parameters(self, pop, V_rest):
        if self.biophysics == "passive":
            return None
        model = self.layout.model
        return biophysics.measure(pop.morphology, pop.cell_biophysics, self.V_rest[pop.population], self.biophysics,
                                  self.celsius, model.mod_dirs, model.quasi_linear)

    def _membrane(self, gid, population, secs, linear, bkw):
        extra = self.effective_leak(gid) if self.g_eff else None
        biophysics.apply(self.biophysics, secs, population.cell_biophysics, V_rest=self.V_rest[population.population],
                         passive_g_pas=bkw["passive_g_pas"], extra_leak=extra, linear=linear)

    def _spike_output(self, gid, secs):
        """The linearised cells do not spike: their gids are spike sources only through replay."""

    def _extrinsic_on(self):
        return self.extrinsic

    def _extrinsic_synapse(self, population):
        syn = population.extrinsic["synapse"]
        return current_key(syn), float(replayed_weights(syn, float(syn["weight"]), self.V_rest[population.name]))

    def _incoming(self, gid):
        """The synapses onto ``gid``, each delay lengthened by :attr:`delay_lead` (the replayed
        spikes come that much earlier: the same arrival times)."""
        if gid not in self._incoming_cache:
            inc = self.conn.incoming(gid)
            if self.delay_lead:
                inc.delay = inc.delay + self.delay_lead
            self._incoming_cache[gid] = inc
        return self._incoming_cache[gid]

    def _synapse_types(self):
        return [current_key(c["synapse"]) for c in self.cfg["connections"]]

    def _weights(self, gid, inc):
        V = self.V_rest[self.layout.population(gid)]
        conns = self.cfg["connections"]
        current = np.array([is_current(c["synapse"]) for c in conns])[inc.connection]
        e = np.array([0.0 if is_current(c["synapse"]) else float(c["synapse"]["e"]) for c in conns])[inc.connection]
        w = quantise_weights(inc.weight)
        return np.where(current, w, quantise_weights(-w * (V - e)))

    def _initialise(self):
        h = self.h
        h.finitialize(self.v_init)
        for gid, cell in self.cells.items():
            v = self.V_rest[cell.population]
            for seg in cell.segments:
                seg.v = v
        h.fcurrent()

    # --- g_eff and the replayed spikes ----------------------------------------------------

    def effective_leak(self, gid):
        """Time-averaged synaptic conductance per membrane area of every segment of cell ``gid``
        (S/cm2): its recurrent synapses at their presynaptic populations' mean rates, and its
        extrinsic synapses at the Poisson rate (with ``extrinsic`` off too: a hybrid-kernel run
        has the load of the drive without its fluctuations, as the study's)."""
        name = self.layout.population(gid)
        area = self.layout.segtable(gid)["area"]
        inc = self._incoming(gid)
        g = np.zeros(len(area))
        w = quantise_weights(inc.weight)
        for ci, c in enumerate(self.cfg["connections"]):
            sel = inc.connection == ci
            if sel.any():
                g += np.bincount(inc.segment[sel], weights=mean_conductance(w[sel], self.rates[c["pre"]],
                                                                           Synapse.from_config(c["synapse"])),
                                 minlength=len(area))
        ext = self.layout.model.populations[name].extrinsic
        counts = extrinsic_counts(self.layout, gid, ext["count"])
        g += counts * mean_conductance(float(quantise_weights(float(ext["synapse"]["weight"]))), float(ext["rate"]),
                                       Synapse.from_config(ext["synapse"]))
        return g / area * S_PER_CM2_PER_US_PER_UM2

    def connect(self):
        """Connect every local cell's synapses to the gids of its presynaptic partners and load the
        spikes to replay into a ``PatternStim`` (which delivers each ``(time, gid)`` to the targets
        of the gid on this rank, with their delays, as if the gid had fired)."""
        super().connect()
        h = self.h
        t0 = time.perf_counter()
        self._replay_times = h.Vector(self.spike_time - self.delay_lead)
        self._replay_gids = h.Vector(self.spike_unit.astype(float))
        self._pattern = h.PatternStim()
        self._pattern.play(self._replay_times, self._replay_gids)
        self.timings["connect"] += time.perf_counter() - t0
        return self

    def close(self):
        for a in ("_pattern", "_replay_times", "_replay_gids"):
            if hasattr(self, a):
                delattr(self, a)
        self._incoming_cache.clear()
        super().close()


# ---------------------------------------------------------------------------------------------
# Runs (all ranks call these) and the hybrid kernels
# ---------------------------------------------------------------------------------------------


def _check_same_network(cfg, spikes, what):
    """The spikes must come from a run of this network (seed, sizes, dt, connections, J)."""
    params = json.loads(spikes.attrs.get("parameters", "{}") or "{}")
    if not params:
        raise ValueError(f"{what}: attribute 'parameters' missing; expected the spikes.nc of a ground-truth run")
    diffs = []
    if int(spikes.attrs.get("seed", -1)) != int(cfg["seed"]):
        diffs.append(f"seed {spikes.attrs.get('seed')} vs {cfg['seed']}")
    for key in ("connections", "weight_scaling"):
        if json.loads(to_json(cfg[key])) != params.get(key):
            diffs.append(f"{key} differ")
    if float(spikes.attrs.get("dt", np.nan)) != float(cfg["simulation"]["dt"]):
        diffs.append(f"dt {spikes.attrs.get('dt')} vs {cfg['simulation']['dt']} ms")
    if diffs:
        raise ValueError(f"{what}: spikes of a different network than the config ({'; '.join(diffs)}); expected "
                         "the spikes.nc of a ground-truth run of this config")


def replay_sizes(spikes):
    """Population sizes and connection probabilities of the ground-truth run of ``spikes``."""
    sizes = json.loads(spikes.attrs.get("population_sizes", "{}") or "{}")
    probs = json.loads(spikes.attrs.get("connection_probabilities", "{}") or "{}")
    probs = {tuple(k.split("->")): float(v) for k, v in probs.items()}
    return {k: int(v) for k, v in sizes.items()}, probs


def replay_times(cfg, attrs, volleys=None, tstop=None, names=None):
    """Simulated time and transient (ms) of a hybrid-scheme run, checked by the one rule for times.

    Parameters
    ----------
    cfg : dict
        Validated config of the ground-truth run (``simulation.dt``, ``kernel.tau``).
    attrs : dict
        Global attributes of the ground truth's ``spikes.nc`` (its ``tstop`` and ``transient``, ms).
    volleys : dict, optional
        ``{population: t (ms)}`` of a hybrid-kernel run: no transient, and by default the run ends
        one kernel window ``kernel.tau`` and one step after the last volley.
    tstop : float, optional
        Simulated time (ms); default the ground truth's (reconstruction) or the last volley +
        ``kernel.tau`` + ``simulation.dt`` (hybrid kernels).
    names : dict, optional
        Names in messages: ``tstop`` (of a given ``tstop``, e.g. ``--tstop``), ``volleys`` (e.g.
        ``--volleys``) and ``spikes`` (the ground truth's spike file).

    Returns
    -------
    tstop, transient : float
        ms.

    Raises
    ------
    ValueError
        Times that break :func:`lfpk.model.times.check_times`: ``tstop`` at least one step of
        ``simulation.dt``, a whole number of steps and at most :data:`lfpk.model.times.MAX_STEPS`,
        and the ground truth's transient leaving at least one step before it (a reconstruction's
        signals are compared after that transient).
    """
    names = {"tstop": "tstop", "volleys": "volleys", "spikes": "the ground truth's spikes", **(names or {})}
    dt = float(cfg["simulation"]["dt"])
    if volleys:
        if tstop is None:
            names["tstop"] = f"{names['volleys']} (last volley + kernel.tau + simulation.dt)"
            tstop = max(volleys.values()) + float(cfg["kernel"]["tau"]) + dt
        check_times(dt, tstop=tstop, names={"tstop": names["tstop"]})
        return float(tstop), 0.0
    if tstop is None:
        names["tstop"] = f"the tstop of {names['spikes']}"
        tstop = attrs["tstop"]
    transient = attrs.get("transient", cfg["simulation"]["transient"])
    check_times(dt, tstop=tstop, transient=transient,
                names={"tstop": names["tstop"], "transient": f"the transient of {names['spikes']}"})
    return float(tstop), float(transient)


def replayed_spikes(cfg, spikes, sizes, volleys=None, tstop=None):
    """The spikes a hybrid-scheme run replays, and its simulated time and transient.

    Parameters
    ----------
    cfg : dict
        Validated config of the ground-truth run.
    spikes : xarray.Dataset
        The ground truth's ``spikes.nc``.
    sizes : dict
        Population sizes of the ground-truth run (:func:`replay_sizes`).
    volleys : dict, optional
        ``{population: t (ms)}``: a hybrid-kernel run (:func:`volley_spikes`) instead of a
        reconstruction (the ground truth's own spikes).
    tstop : float, optional
        Simulated time (ms); default the ground truth's (reconstruction) or the last volley + the
        kernel window ``kernel.tau`` + 1 step (hybrid kernels).

    Returns
    -------
    spike_time : ndarray
        ms, sorted.
    spike_unit : ndarray
        gid of each spike (int64).
    tstop, transient : float
        ms (no transient for hybrid kernels).
    mode : str
        Description of the run.
    """
    tstop, transient = replay_times(cfg, spikes.attrs, volleys, tstop)
    if volleys:
        st, su = volley_spikes(place_cells(cfg, sizes), volleys)
        mode = "hybrid kernels: every cell of each population fires once at " + to_json(volleys) + " ms"
    else:
        st = np.asarray(spikes["spike_time"].values, dtype=float)
        su = np.asarray(spikes["spike_unit"].values, dtype=np.int64)
        mode = "reconstruction: the ground truth's spikes and extrinsic drive replayed"
    return st, su, tstop, transient, mode


def _replay_attrs(net, mode, volleys, g_eff, rates, provenance, what, n_spikes):
    """Attributes of a hybrid-scheme run's ``signals.nc`` (mode, synapses, V_rest (mV) and rates
    (1/s) used, their provenance, volleys (ms), the replayed spikes)."""
    return {
        "title": "hybrid scheme: " + ("hybrid-kernel run" if volleys else "reconstruction") + " of the ground truth",
        "hybrid_mode": "kernel" if volleys else "reconstruction",
        "hybrid_description": mode,
        "synapses": ("current based (Exp2SynISum): the config's current weights (nA)" if any(
            is_current(c["synapse"]) for c in net.cfg["connections"]) else
            "current based (Exp2SynISum): -g (V_rest - E) per synapse"),
        "g_eff_on": int(bool(g_eff)),
        "V_rest_used": to_json(net.V_rest),
        "rates_used": to_json(rates),
        "provenance": to_json(provenance),
        "volleys": to_json(volleys or {}),
        "replayed_spikes": what,
        "n_replayed_spikes": int(n_spikes),
    }


def run_replay(cfg, outdir, spikes, membrane, form="frozen", g_eff=True, volleys=None, tstop=None, pc=None,
               membrane_sample=None, extrinsic_drive="mechanism"):
    """Simulate one hybrid-scheme run and write ``signals.nc`` (all ranks call this).

    Parameters
    ----------
    cfg : dict
        Validated config of the ground-truth run.
    outdir : path-like
        Output folder.
    spikes : path-like or xarray.Dataset
        The ground truth's ``spikes.nc``: its spikes are replayed (reconstruction), or, with
        ``volleys``, only its network (sizes, probabilities) is taken.
    membrane : path-like or xarray.Dataset
        The ground truth's ``membrane.nc``: V_rest (median somatic potential) and rates.
    form : str
        ``frozen``, ``quasi_linear`` or ``passive``.
    g_eff : bool
    volleys : dict, optional
        ``{population: t (ms)}``: a hybrid-kernel run (every cell of each population fires once at
        its time, no extrinsic drive) instead of a reconstruction.
    tstop : float, optional
        Simulated time (ms); default the ground truth's (reconstruction) or the last volley + the
        kernel window ``kernel.tau`` + 1 step (hybrid kernels).
    extrinsic_drive : {"mechanism", "netstim"}
        The replayed extrinsic drive drawn inside ``Exp2SynISum`` (default) or by one NetStim +
        NetCon per segment; the same trains, bitwise (:class:`lfpk.engines.network.Network`).

    Returns
    -------
    (paths, timings) on rank 0, ``(None, None)`` elsewhere.
    """
    sp = spikes if isinstance(spikes, xr.Dataset) else read_dataset(spikes, kind="spikes")
    what = str(spikes) if not isinstance(spikes, xr.Dataset) else "spikes"
    _check_same_network(cfg, sp, what)
    sizes, probs = replay_sizes(sp)
    V_rest, rates, provenance = kernel_inputs(cfg, membrane, "scalar")
    st, su, tstop, transient, mode = replayed_spikes(cfg, sp, sizes, volleys, tstop)
    net = ReplayNetwork(cfg, st, su, V_rest, rates, form=form, g_eff=g_eff, extrinsic=not volleys,
                        sizes=sizes, probabilities=probs or None, tstop=tstop, transient=transient, pc=pc,
                        membrane_sample=membrane_sample, extrinsic_drive=extrinsic_drive)
    if net.rank == 0:
        log.info("hybrid scheme (%s), %s cells on %d rank(s), %s, g_eff %s, V_rest %s mV, tstop %.1f ms",
                 form, net.layout.sizes, net.nhost, mode, g_eff, {k: round(v, 3) for k, v in net.V_rest.items()},
                 net.tstop)
    attrs = _replay_attrs(net, mode, volleys, g_eff, rates, provenance, what, len(st))
    # signals.nc written block by block as the run goes, as the ground truth's
    with streamed_outputs(net, outdir, names=("signals",), attrs=attrs) as finish:
        net.run()
        res = net.gather()
        if net.rank == 0:
            paths, timings = finish(res)
    net.close()
    if net.rank != 0:
        return None, None
    return paths, timings


def hybrid_kernels(signals, volleys, tau, parameters=None):
    """Kernels H_YX from a hybrid-kernel run (Hagen et al. 2022, ``Figure04-07.ipynb``).

    ``H_YX(r, lag) = (S_Y(r, t_X + lag) - S_Y(r, t_X)) / N_X`` for lags ``0 .. tau`` and 0 for
    negative lags, with ``S_Y`` the signal of postsynaptic population Y (the run's per-population
    source) and ``t_X`` the time population X's N_X cells fired. The volleys must be at least
    ``tau`` apart (each window sees one volley's response; the study: 200 ms apart, tau 100 ms).

    Parameters
    ----------
    signals : xarray.Dataset
        ``signals.nc`` of a hybrid-kernel run (:func:`run_replay` with ``volleys``).
    volleys : dict
        ``{population X: t_X (ms)}``.
    tau : float
        Kernel half-width (ms): lags ``-tau .. tau``.

    Returns
    -------
    xarray.Dataset
        ``lfp``, ``csd`` ``(post, pre, channel, lag)``, ``cdm`` ``(post, pre, component, lag)`` in
        the layout of gathered kernels (``kernels.nc``, :func:`lfpk.engines.kernel.gather_kernels`), so
        :func:`lfpk.engines.prediction.predict.predict` takes them.
    """
    dt = float(signals.attrs["dt"])
    sizes = json.loads(signals.attrs["population_sizes"])
    t = np.asarray(signals["time"].values, dtype=float)
    k = int(round(float(tau) / dt))
    times = sorted(volleys.values())
    if any(b - a < tau for a, b in zip(times, times[1:])):
        raise ValueError(f"volleys {volleys}: must be at least tau = {tau} ms apart")
    posts = [str(s) for s in signals["source"].values if str(s) != "total"]
    pres = [p for p in posts if p in volleys]
    lags = np.arange(-k, k + 1) * dt
    data = {}
    for name in ("lfp", "csd", "cdm"):
        if name not in signals:
            continue
        var = signals[name]
        chan = [d for d in var.dims if d not in ("source", "time")][0]
        out = np.zeros((len(posts), len(pres), var.sizes[chan], 2 * k + 1))
        for j, pre in enumerate(pres):
            i0 = int(round(float(volleys[pre]) / dt))
            if not (0 <= i0 and i0 + k < len(t)):
                raise ValueError(f"volley of {pre} at {volleys[pre]} ms: the run ({t[-1]} ms) does not cover "
                                 f"lags up to {tau} ms")
            for i, post in enumerate(posts):
                S = var.sel(source=post).transpose(chan, "time").values
                out[i, j, :, k:] = (S[:, i0:i0 + k + 1] - S[:, i0:i0 + 1]) / float(sizes[pre])
        data[name] = (("post", "pre", chan, "lag"), out, {
            "units": var.attrs.get("units", "1"),
            "long_name": f"kernel: {var.attrs.get('long_name', name)} (hybrid scheme)"})
    coords = {"post": posts, "pre": pres,
              "lag": ("lag", lags, {"units": "ms", "long_name": "time lag after the presynaptic spike"})}
    for cname, c in signals.coords.items():
        if cname not in ("time", "source") and set(c.dims) <= {"channel", "component"}:
            coords[cname] = (c.dims, c.values, dict(c.attrs))
    attrs = {
        "title": "hybrid-scheme kernels H_YX (response of the linearised network to one volley of X, / N_X)",
        "method": "H_YX = (S_Y(t_X + lag) - S_Y(t_X)) / N_X, zero for lag < 0 (Hagen et al. 2022, hybrid scheme)",
        "biophysics": str(signals.attrs.get("biophysics", "unknown")),
        "g_eff_on": int(signals.attrs.get("g_eff_on", -1)),
        "form": "causal",
        "tau": float(tau),
        "dt": dt,
        "volleys": to_json(volleys),
        "rates_used": signals.attrs.get("rates_used", "{}"),
        "V_rest_used": signals.attrs.get("V_rest_used", "{}"),
        "population_sizes": to_json(sizes),
        "parameters": to_json(parameters or {}),
        "software_versions": to_json(software_versions()),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def hybrid_kernel_files(signals_path, output, volleys, tau):
    """Stage: :func:`hybrid_kernels` of a hybrid-kernel run's ``signals.nc`` written to ``output``."""
    ds = hybrid_kernels(read_dataset(signals_path), volleys, tau)
    ds.attrs["signals"] = str(signals_path)
    write_dataset(ds, output, inputs=[signals_path])
    return ds


__all__ = ["CURRENT_SYNAPSE", "REPLAY_FORMS", "ReplayNetwork", "current_key", "hybrid_kernel_files",
           "hybrid_kernels", "is_current", "replay_lead", "replay_sizes", "replay_times", "replayed_spikes", "replayed_weights",
           "run_replay", "synaptic_current", "volley_spikes"]
