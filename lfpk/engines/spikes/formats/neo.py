"""Neo objects (PyNN's ``get_data()``, Elephant): ``SpikeTrain`` lists, a ``Segment``, a ``Block``.

Recognised by what they have, not imported: a ``Block`` has ``segments``, a ``Segment``
``spiketrains``, a ``SpikeTrain`` ``times`` carrying a unit (``quantities``) and ``annotations``.
Each train is one unit: its id is the annotation ``id_annotation`` (PyNN: ``source_id``), else
its index in the list; its population a label (a dict ``{population: trains}``), the unit map, or
the annotation ``source_population`` (PyNN). The stop time defaults to the trains' ``t_stop``.
"""

from __future__ import annotations

import numpy as np

from lfpk.engines.spikes.checks import times_in_ms
from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.formats.parts import assemble


def _trains(obj, what):
    if hasattr(obj, "segments"):  # Block
        segs = list(obj.segments)
        if len(segs) != 1:
            raise SpikeInputError(f"{what}: a Neo Block with {len(segs)} segments (trials or runs); expected one: "
                                  "give the Segment to predict (block.segments[k])")
        obj = segs[0]
    if hasattr(obj, "spiketrains"):  # Segment
        return list(obj.spiketrains)
    trains = list(obj)
    if not all(hasattr(t, "times") and hasattr(t, "annotations") for t in trains):
        raise SpikeInputError(f"{what}: expected Neo SpikeTrains (a list), a Segment or a Block")
    return trains


def from_neo(data, populations=None, tstop=None, id_annotation="source_id", duplicates="error"):
    """Spikes of Neo objects as a :class:`lfpk.engines.spikes.SpikeData`.

    Parameters
    ----------
    data : Block, Segment, list of SpikeTrain, or dict {population: any of these}
    populations : path-like, dict or PopulationMap, optional
        Unit id -> population (for trains without a label or ``source_population``).
    tstop : float, optional
        Stop time (ms); default the latest ``t_stop`` of the trains.
    id_annotation : str
        Annotation holding the unit id (PyNN: ``source_id``); without it, the index in the list.
    duplicates : {'error', 'keep'}
    """
    groups = data.items() if isinstance(data, dict) else [(None, data)]
    parts, t_stops = [], []
    for label, obj in groups:
        what = "Neo spike trains" + (f" of {label!r}" if label is not None else "")
        for k, st in enumerate(_trains(obj, what)):
            ann = dict(getattr(st, "annotations", {}) or {})
            uid = ann.get(id_annotation, k)
            pop = label if label is not None else (None if populations is not None else ann.get("source_population"))
            name = f"{what}, train {k}" + (f" ({st.name})" if getattr(st, "name", None) else "")
            parts.append((None if pop is None else str(pop), st.times, np.full(len(st), uid), name))
            if getattr(st, "t_stop", None) is not None:
                t_stops.append(float(times_in_ms(st.t_stop, None, f"{name}: t_stop")[0][0]))
    if not parts:
        raise SpikeInputError("Neo data: no spike trains")
    if tstop is None and t_stops:
        tstop = max(t_stops)
    return assemble(parts, "Neo spike trains", "neo", populations=populations, tstop=tstop, duplicates=duplicates)
