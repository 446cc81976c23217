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


def deep_merge(base, over):
    """``over`` laid over ``base``: mappings merge key by key, other values replace, ``None``
    removes the key.

    Parameters
    ----------
    base, over : dict
        Configuration mappings; neither is changed.

    Returns
    -------
    dict
        A new mapping (values taken from ``over`` are deep copies).

    Examples
    --------
    >>> deep_merge({"a": {"x": 1, "y": 2}, "b": 3}, {"a": {"y": 5}, "b": None})
    {'a': {'x': 1, 'y': 5}}
    """
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
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
    """
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
