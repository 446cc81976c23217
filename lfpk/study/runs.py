"""The runs of a study: which ground-truth network runs a configuration asks for, and what each
lays over the configuration.

A study runs its network once as configured (run ``default``), once per value of ``scans.J`` that
differs from ``weight_scaling.J`` (run ``J<value>``, :func:`j_run_name`) and once per entry of
``network.runs`` (a partial configuration laid over the study's, :func:`deep_merge`). Kernels are
also computed from the configuration's own ``kernel.V_rest`` and ``kernel.rates`` (run ``config``,
no ground truth). This module is the one place that lists them; the configuration loader
(:mod:`lfpk.api.config`) checks ``network.runs`` against them, the workflow
(:mod:`lfpk.entry.workflow`) makes one job per run, the hybrid scheme (:mod:`lfpk.study.hybrid`)
checks that its run is one of them.

Plain mappings in, plain values out: nothing here validates a configuration (that is
:func:`lfpk.api.config.validate_config`, one layer up).
"""

from __future__ import annotations

import copy

#: The run of the configuration as is.
DEFAULT_RUN = "default"
#: Kernel run whose V_rest and rates come from the config (no ground truth needed).
CONFIG_RUN = "config"
#: Run names the workflow derives itself (the config as is, and the kernel-only run).
RESERVED_RUNS = (DEFAULT_RUN, CONFIG_RUN)
#: Keys a run of ``network.runs`` may not override: they are workflow wiring shared by all runs.
RUN_FIXED_KEYS = ("study", "scans", "network", "figures")
#: ``scope`` of a kernels-only file: kernels of its connections, no ground truth, no workflow runs.
KERNELS_SCOPE = "kernels"


def kernels_only(cfg) -> bool:
    """Whether ``cfg`` is a kernels-only file (``scope: kernels``): it has no runs."""
    return isinstance(cfg, dict) and cfg.get("scope") == KERNELS_SCOPE


#: Lists merged entry by entry, by these keys of their entries (``connections`` at any level: the
#: model's and ``pointnet.connections``)
KEYED_LISTS = {"connections": ("pre", "post")}
#: Key of an overlay's list entry that removes the base's entry of the same key
REMOVE = "remove"


def _keyed(entries, keys):
    """Whether every entry of ``entries`` is a mapping holding ``keys``."""
    return isinstance(entries, list) and all(isinstance(e, dict) and all(k in e for k in keys) for e in entries)


def merge_keyed_list(base, over, keys, where="connections"):
    """Entries of ``over`` laid over the list ``base`` by their ``keys`` (e.g. (pre, post)).

    An entry whose key is in ``base`` is merged into that entry (:func:`deep_merge`: its mappings
    key by key, ``null`` removes one of its keys), an entry with a new key is appended (in
    ``over``'s order), and an entry ``{pre: ..., post: ..., remove: true}`` removes the base's
    entry. The base's order is kept.

    Raises
    ------
    ValueError
        A key twice in ``over``, ``remove`` other than ``true``, with other keys, or of an entry
        ``base`` does not have.

    Examples
    --------
    >>> base = [{"pre": "E", "post": "E", "w": 1}, {"pre": "I", "post": "E", "w": 2}]
    >>> merge_keyed_list(base, [{"pre": "I", "post": "E", "w": 3}, {"pre": "E", "post": "I", "w": 4}],
    ...                  ("pre", "post"))
    [{'pre': 'E', 'post': 'E', 'w': 1}, {'pre': 'I', 'post': 'E', 'w': 3}, {'pre': 'E', 'post': 'I', 'w': 4}]
    >>> merge_keyed_list(base, [{"pre": "E", "post": "E", "remove": True}], ("pre", "post"))
    [{'pre': 'I', 'post': 'E', 'w': 2}]
    """
    out = [dict(e) for e in base]
    index = {tuple(e[k] for k in keys): i for i, e in enumerate(out)}
    seen, removed = set(), set()
    for j, entry in enumerate(over):
        key = tuple(entry[k] for k in keys)
        name = " -> ".join(map(str, key)) if keys == ("pre", "post") else repr(key)
        if key in seen:
            raise ValueError(f"{where}[{j}]: {name} is named twice in the overlay; state each once")
        seen.add(key)
        if REMOVE in entry:
            if entry[REMOVE] is not True or set(entry) - {*keys, REMOVE}:
                raise ValueError(f"{where}[{j}]: remove: true removes {name} and takes only "
                                 f"{' and '.join(keys)}; got {entry!r}")
            if key not in index:
                raise ValueError(f"{where}[{j}]: cannot remove {name}: the base has no such entry")
            removed.add(index[key])
        elif key in index:
            out[index[key]] = deep_merge(out[index[key]], entry)
        else:
            index[key] = len(out)
            out.append(copy.deepcopy(entry))
    return [e for i, e in enumerate(out) if i not in removed]


def deep_merge(base, over):
    """``over`` laid over ``base``: mappings merge key by key, other values replace, ``None``
    removes the key; a list of connections (key ``connections``, every entry with ``pre`` and
    ``post`` in both) merges entry by entry by (pre, post) (:func:`merge_keyed_list`).

    Parameters
    ----------
    base, over : dict
        Configuration mappings; neither is changed.

    Returns
    -------
    dict
        A new mapping (values taken from ``over`` are deep copies).

    Raises
    ------
    ValueError
        A list of connections that cannot be merged (:func:`merge_keyed_list`).

    Examples
    --------
    >>> deep_merge({"a": {"x": 1, "y": 2}, "b": 3}, {"a": {"y": 5}, "b": None})
    {'a': {'x': 1, 'y': 5}}
    """
    out = dict(base)
    for k, v in over.items():
        keys = KEYED_LISTS.get(k)
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        elif keys and _keyed(v, keys) and _keyed(out.get(k), keys):
            out[k] = merge_keyed_list(out[k], v, keys, where=k)
        else:
            out[k] = copy.deepcopy(v)
    return out


def j_run_name(J) -> str:
    """Run name of a weight-scaling scan value: ``J`` and the shortest decimal that reads back as
    the same float (``J0.975``, ``J0.9750001``, ``J1``), so distinct values never share a name.

    Examples
    --------
    >>> j_run_name(0.975), j_run_name(1.0), j_run_name(0.9750001)
    ('J0.975', 'J1', 'J0.9750001')
    """
    text = repr(float(J))
    return "J" + (text[:-2] if text.endswith(".0") else text)


def scan_runs(cfg) -> dict:
    """``{run name: J}`` of the ``scans.J`` values other than ``weight_scaling.J``.

    Examples
    --------
    >>> scan_runs({"weight_scaling": {"J": 1.0}, "scans": {"J": [0.95, 1.0, 1.05]}})
    {'J0.95': 0.95, 'J1.05': 1.05}
    """
    J0 = float(cfg["weight_scaling"]["J"])
    return {j_run_name(J): float(J) for J in (cfg.get("scans") or {}).get("J", []) if float(J) != J0}


def j_scan_runs(cfg) -> list[str]:
    """The runs of the weight-scaling scan: ``default`` and the ``scans.J`` runs (Fig 9)."""
    return [DEFAULT_RUN, *scan_runs(cfg)]


def named_runs(cfg) -> dict:
    """The configuration's ``network.runs``: ``{run name: partial configuration}`` (may be empty)."""
    return (cfg.get("network") or {}).get("runs") or {}


def ground_truth_runs(cfg) -> list[str]:
    """Names of the ground-truth network runs, in a stable order.

    ``default`` (the config as is), one ``J<value>`` run per value of ``scans.J`` that differs
    from ``weight_scaling.J`` (:func:`j_run_name`), and every entry of ``network.runs`` (whose
    names :func:`lfpk.api.config.validate_config` keeps distinct from these), sorted.

    Examples
    --------
    >>> ground_truth_runs({"weight_scaling": {"J": 1.0}, "scans": {"J": [1.05]},
    ...                    "network": {"runs": {"small": {}, "fast": {}}}})
    ['default', 'J1.05', 'fast', 'small']

    A kernels-only file (:func:`kernels_only`) has none.
    """
    if kernels_only(cfg):
        return []
    return list(dict.fromkeys([*j_scan_runs(cfg), *sorted(named_runs(cfg))]))


def run_overlay(cfg, run):
    """What run ``run`` lays over the configuration ``cfg`` (:func:`deep_merge`).

    Returns
    -------
    dict or None
        ``None`` for ``default`` and ``config`` (the config as is), the partial configuration of
        a ``network.runs`` entry, ``{"weight_scaling": {"J": J}}`` for a ``scans.J`` run.

    Raises
    ------
    ValueError
        ``run`` is none of the configured runs (the message lists them).
    """
    if run in RESERVED_RUNS:
        return None
    runs = named_runs(cfg)
    if run in runs:
        return runs[run] or {}
    scans = scan_runs(cfg)
    if run in scans:
        return {"weight_scaling": {"J": scans[run]}}
    raise ValueError(f"run {run!r} is not one of the configured ground-truth runs {ground_truth_runs(cfg)}")


def run_definition_error(cfg, name, over):
    """Why entry ``name`` of ``network.runs`` (laying ``over`` over ``cfg``) cannot be a run of the
    study, or ``None``: a reserved name, the name of a ``scans.J`` run, or an override of the keys
    every run shares (:data:`RUN_FIXED_KEYS`, ``kernel.variants``). Whether the merged configuration
    validates is :func:`lfpk.api.config.validate_config`'s to say."""
    if name in RESERVED_RUNS:
        return (f"the run name {name!r} is reserved ('default' is the config as is, 'config' the kernels from "
                "config values); choose another name")
    scans = scan_runs(cfg)
    if name in scans:
        return f"collides with the run of scans.J value {scans[name]:g}; choose another name or remove the value from scans.J"
    fixed = [k for k in RUN_FIXED_KEYS if k in over]
    if "kernel" in over and isinstance(over["kernel"], dict) and "variants" in over["kernel"]:
        fixed.append("kernel.variants")
    if fixed:
        return (f"a run cannot override {', '.join(fixed)} (shared by every run of the study); expected only "
                "model keys (simulation, populations, connections, ...)")
    return None


def structure_error(cfg, merged):
    """``None`` if configuration ``merged`` keeps the populations and connections (pre -> post, in
    order) of ``cfg``, else the message saying so (a run may change their parameters only)."""
    pops = list(cfg["populations"])
    pairs = [(c["pre"], c["post"]) for c in cfg["connections"]]
    if list(merged["populations"]) != pops or [(c["pre"], c["post"]) for c in merged["connections"]] != pairs:
        return (f"a run must keep the populations ({', '.join(pops)}) and connections (pre -> post, in order) "
                "of the config; it may change their parameters")
    return None
