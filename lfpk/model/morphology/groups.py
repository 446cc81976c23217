"""Section groups: named sets of a cell's segments used by synapse placement, densities and plots.

Every section belongs to one *type group*, inferred from its name the way NEURON's Import3d names
sections after the SWC / Neurolucida types (and hoc morphologies name them by convention):

========== ================================================
group      section names starting with
========== ================================================
``soma``   ``soma``
``dend``   ``dend``, ``basal`` (basal dendrites)
``apic``   ``apic`` (apical dendrite)
``axon``   ``axon``, ``myelin``, ``node``, ``hillock``, ``ais``
``other``  anything else
========== ================================================

``all`` is every segment. A config may define further groups by a regular expression matched
against the full section name (``re.fullmatch``, e.g. ``apic\\[(1[0-9]|2[0-4])\\]``); such a
group may overlap the type groups.
"""

from __future__ import annotations

import re

import numpy as np

#: Type groups in the order they are drawn and listed.
TYPE_GROUPS = ("soma", "dend", "apic", "axon", "other")
#: Name prefixes (lower case) of each type group.
_PREFIXES = (("soma", ("soma",)), ("dend", ("dend", "basal")), ("apic", ("apic",)),
             ("axon", ("axon", "myelin", "node", "hillock", "ais")))
#: Group names with a fixed meaning.
BUILTIN_GROUPS = ("all",) + TYPE_GROUPS


def type_group(section_name) -> str:
    """Type group of a section from its name (see the module docstring)."""
    base = str(section_name).rsplit(".", 1)[-1].lower()
    for group, prefixes in _PREFIXES:
        if base.startswith(prefixes):
            return group
    return "other"


def compile_groups(groups, what="morphology.groups"):
    """Validated ``{name: compiled regex}`` of config-defined groups."""
    out = {}
    for name, pattern in (groups or {}).items():
        if name in BUILTIN_GROUPS:
            raise ValueError(f"{what}.{name}: {name!r} is a built-in group ({', '.join(BUILTIN_GROUPS)})")
        try:
            out[name] = re.compile(str(pattern))
        except re.error as exc:
            raise ValueError(f"{what}.{name}: invalid regular expression {pattern!r}: {exc}") from None
    return out


def group_mask(segments, group, custom=None, what="group"):
    """Boolean mask (n_segments,) of the segments in ``group``.

    Parameters
    ----------
    segments : dict
        Segment table with ``section`` (section names) and ``group`` (type groups).
    group : str
        ``all``, a type group or a name of ``custom``.
    custom : dict, optional
        Config-defined groups ``{name: compiled regex}`` (:func:`compile_groups`).
    what : str
        Config key named in errors.
    """
    groups_col = np.asarray(segments["group"]).astype(str)
    if group == "all":
        return np.ones(len(groups_col), dtype=bool)
    if group in TYPE_GROUPS:
        return groups_col == group
    if custom and group in custom:
        rx = custom[group]
        names = np.asarray(segments["section"]).astype(str)
        uniq = {n: bool(rx.fullmatch(n)) for n in dict.fromkeys(names.tolist())}
        return np.array([uniq[n] for n in names], dtype=bool)
    known = list(BUILTIN_GROUPS) + sorted(custom or {})
    raise ValueError(f"{what}: unknown section group {group!r} (groups of this cell: {', '.join(known)})")


def group_names(custom=None):
    """Every group name a cell with config-defined groups ``custom`` knows."""
    return list(BUILTIN_GROUPS) + list(custom or {})


def section_settings(names, custom, ordered, key):
    """Per-section value of ``key`` from group settings applied in order (later ones win).

    Parameters
    ----------
    names : sequence of str
        Section names.
    custom : dict
        Config-defined groups ``{name: compiled regex}``.
    ordered : iterable of (group, settings)
        Group name and its settings mapping (e.g. a biophysics block's groups), in order.
    key : str
        Setting to collect (e.g. ``cm``, ``Ra``).

    Returns
    -------
    dict
        Section name -> value, for the sections that some group sets.
    """
    table = {"section": np.asarray(list(names)), "group": np.array([type_group(n) for n in names])}
    out = {}
    for group, settings in ordered:
        if key not in (settings or {}):
            continue
        mask = group_mask(table, group, custom)
        for name in table["section"][mask]:
            out[str(name)] = float(settings[key])
    return out
