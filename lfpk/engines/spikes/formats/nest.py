"""NEST 3 spike recorders in memory: ``spike_recorder`` NodeCollections or their ``events``.

Recognised by what they have (NEST is not imported: the caller's kernel is left alone): a
recorder has ``get`` (``rec.get("events")``: ``senders``, ``times`` in ms; with
``time_in_steps``: ``times`` in steps and ``offsets``, time = step x resolution - offset); a
neuron NodeCollection has ``tolist`` (its node ids). Populations: a dict ``{population: recorder}``
labels the spikes; a dict ``{population: neurons}`` (NodeCollections, id ranges or lists) maps
node ids, and gives the populations' sizes for the rates.
"""

from __future__ import annotations

import numpy as np

from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.formats.parts import assemble, map_of_groups


def _events(rec, what):
    """A list of event dicts of a recorder NodeCollection (one per recorder), or of an events dict."""
    if isinstance(rec, dict):
        return [rec]
    if hasattr(rec, "get") and hasattr(rec, "tolist"):
        ev = rec.get("events")
        return list(ev) if isinstance(ev, (tuple, list)) else [ev]
    raise SpikeInputError(f"{what}: expected a NEST spike_recorder (NodeCollection) or its events dict, got "
                          f"{type(rec).__name__}")


def _times(ev, what, resolution):
    if "senders" not in ev or "times" not in ev:
        raise SpikeInputError(f"{what}: events lack 'senders' or 'times'; expected a spike_recorder's events")
    if "offsets" in ev:  # time_in_steps
        if not (resolution and resolution > 0):
            raise SpikeInputError(f"{what}: events are in steps (time_in_steps); give the resolution in ms "
                                  "(resolution=nest.resolution)")
        return np.asarray(ev["times"], dtype=np.float64) * float(resolution) - np.asarray(ev["offsets"], float)
    return np.asarray(ev["times"], dtype=np.float64)


def from_nest(recorders, populations=None, tstop=None, resolution=None, duplicates="error"):
    """Spikes of NEST spike recorders (``record_to: memory``) as a :class:`lfpk.engines.spikes.SpikeData`.

    Parameters
    ----------
    recorders : NodeCollection, events dict, list of them, or dict {population: recorder}
        The recorders (or ``rec.events``); a dict labels each recorder's spikes with a population.
    populations : dict {population: NodeCollection or ids}, path-like or PopulationMap, optional
        Node id -> population; NodeCollections of the neurons are taken as their node ids.
    tstop : float
        Stop time (ms), e.g. ``nest.biological_time``.
    resolution : float, optional
        Simulation resolution (ms), for recorders with ``time_in_steps``.
    duplicates : {'error', 'keep'}

    Times are ms (NEST's unit, stated).
    """
    if isinstance(populations, dict) and any(hasattr(v, "tolist") for v in populations.values()):
        populations = map_of_groups({p: (v.tolist() if hasattr(v, "tolist") else v) for p, v in
                                     populations.items()}, "NEST populations")
    if isinstance(recorders, dict) and not ("senders" in recorders and "times" in recorders):
        groups = list(recorders.items())
    elif isinstance(recorders, (list, tuple)):
        groups = [(None, r) for r in recorders]
    else:
        groups = [(None, recorders)]
    parts = []
    for label, rec in groups:
        what = "NEST spike recorder" + (f" of {label!r}" if label is not None else "")
        for ev in _events(rec, what):
            parts.append((label, _times(ev, what, resolution), np.asarray(ev["senders"]), what))
    return assemble(parts, "NEST spike recorders", "nest", populations=populations, tstop=tstop, time_unit="ms",
                    duplicates=duplicates, stated_by="NEST (ms)")
