"""The ground-truth network on this process's share of the cells (build, connect, record, simulate).

:class:`Network` is put together from its parts: :class:`~lfpk.engines.network.cells.CellBuilder`
(building the cells, :mod:`~lfpk.engines.network.cells`), :class:`~lfpk.engines.network.wiring.Wiring`
(connecting them, :mod:`~lfpk.engines.network.wiring`), :class:`~lfpk.engines.network.signals.Recorder`
(recording and streaming the signals, :mod:`~lfpk.engines.network.signals`),
:class:`~lfpk.engines.network.running.Runner` (initialising and integrating,
:mod:`~lfpk.engines.network.running`) and :class:`~lfpk.engines.network.results.Results` (this rank's
results and their combination over ranks, :mod:`~lfpk.engines.network.results`).
"""

from __future__ import annotations

from lfpk.engines.network.cells import (
    DEFAULT_SPIKE_THRESHOLD,
    EXTRINSIC_DRIVES,
    CellBuilder,
)
from lfpk.engines.network.results import Results
from lfpk.engines.network.running import Runner
from lfpk.engines.network.signals import Recorder
from lfpk.engines.network.wiring import Wiring
from lfpk.model.connectivity import Connectivity, place_cells

#: Time steps of transmembrane currents buffered before mapping them to the probes.
DEFAULT_BLOCK = 256


def scaled_probabilities(cfg, sizes):
    """Connection probabilities keeping every in-degree ``C * N_pre`` of the config (capped at 1).

    Parameters
    ----------
    cfg : dict
        Config (its ``populations[].size`` and ``connections[].probability`` are the reference).
    sizes : dict
        New population sizes.

    Returns
    -------
    dict
        ``{(pre, post): C}``.
    """
    out = {}
    for c in cfg["connections"]:
        n0 = cfg["populations"][c["pre"]]["size"]
        n1 = sizes.get(c["pre"], n0)
        out[(c["pre"], c["post"])] = min(1.0, float(c["probability"]) * n0 / n1)
    return out


class Network(CellBuilder, Wiring, Recorder, Runner, Results):
    """The ground-truth network of one config on this process's share of the cells.

    Parameters
    ----------
    cfg : dict
        Validated config.
    sizes : dict, optional
        Population sizes overriding the config's.
    probabilities : dict, optional
        ``{(pre, post): C}`` overriding the connection probabilities (see
        :func:`scaled_probabilities`).
    tstop : float, optional
        Simulated time (ms) overriding ``simulation.tstop``.
    seed : int, optional
        Overrides ``cfg["seed"]``.
    lump : bool
        Exact synapse lumping (default). ``False`` creates one point process per synapse (and one
        per extrinsic source), for the exactness test.
    biophysics : str
        Membrane form (:data:`lfpk.model.biophysics.FORMS`; ``active`` is the ground truth).
    record_signals : bool
        Map transmembrane currents to the probes.
    membrane_sample : int, optional
        Cells per population with recorded membrane potentials (default
        ``recording.membrane_sample``).
    pc : ParallelContext, optional
        From :func:`init_parallel` (default ``h.ParallelContext()``).
    extrinsic_drive : {"mechanism", "netstim"}
        Extrinsic Poisson drive drawn inside the lumped synapse (default; no event-queue
        traffic) or by one NetStim + NetCon per segment (the former implementation, kept for
        benchmarks and checks). The same Random123 streams give the same trains, bitwise.
    """

    def __init__(self, cfg, sizes=None, probabilities=None, tstop=None, seed=None, lump=True,
                 biophysics="active", record_signals=True, membrane_sample=None, pc=None,
                 block=DEFAULT_BLOCK, transient=None, extrinsic_drive="mechanism"):
        from neuron import h  # deferred: importing NEURON starts its interpreter

        self.h = h
        self.cfg = cfg
        sim = cfg["simulation"]
        self.dt = float(sim["dt"])
        self.tstop = float(sim["tstop"] if tstop is None else tstop)
        self.nstep = int(round(self.tstop / self.dt))
        self.tstop = self.nstep * self.dt
        self.transient = min(float(sim["transient"] if transient is None else transient), self.tstop)
        self.celsius = float(sim["celsius"])
        self.v_init = float(sim["v_init"])
        self.spike_threshold = float(sim.get("spike_threshold", DEFAULT_SPIKE_THRESHOLD))
        self.layout = place_cells(cfg, sizes, seed)
        self.seed = self.layout.seed
        self.probabilities = probabilities
        self.conn = Connectivity(cfg, self.layout, probabilities)
        self.lump = bool(lump)
        self.biophysics = biophysics
        self.record_signals = record_signals
        rec = cfg.get("recording", {})
        self.membrane_sample = int(rec.get("membrane_sample", 50) if membrane_sample is None else membrane_sample)
        self.membrane_dt = float(rec.get("membrane_dt", 1.0))
        self.membrane_every = max(1, int(round(self.membrane_dt / self.dt)))
        self.block = int(block)
        self.pc = pc if pc is not None else h.ParallelContext()
        self.rank = int(self.pc.id())
        self.nhost = int(self.pc.nhost())
        self.local_gids = list(range(self.rank, self.layout.n_cells, self.nhost))
        self.cells = {}
        self.netcons = []
        self.stims = []
        self.timings = {}
        self.counts = {"netcons": 0, "synapses": 0, "point_processes": 0, "netstims": 0, "drives": 0}
        if extrinsic_drive not in EXTRINSIC_DRIVES:
            raise ValueError(f"extrinsic_drive: expected one of {', '.join(EXTRINSIC_DRIVES)}, got {extrinsic_drive!r}")
        self.extrinsic_drive = extrinsic_drive
        self._callback = None
        self._built = self._connected = self._simulated = False
        self._streaming, self._sink = False, None

    def close(self):
        """Release NEURON objects and gids so another network can be built in this process."""
        self.pc.gid_clear()
        self.netcons.clear()
        self.stims.clear()
        self.cells.clear()
        for a in ("_currents", "_voltages"):
            if hasattr(self, a):
                getattr(self, a).close()
        for a in ("_currents", "_voltages", "tvec", "idvec"):
            if hasattr(self, a):
                delattr(self, a)
