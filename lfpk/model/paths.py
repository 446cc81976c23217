"""File paths in a config: morphology files and mechanism folders, relative to the config file."""

from __future__ import annotations

import copy
from pathlib import Path


def resolve_paths(cfg, base_dir):
    """A copy of ``cfg`` with relative ``populations.*.morphology.file`` and
    ``mechanisms.extra_dirs`` made absolute against ``base_dir`` (the config file's folder).

    Absolute paths are kept; the result does not depend on the working directory, so a config
    written next to a run's outputs (``results/<study>/network/<run>/config.yaml``) still finds its
    files. It runs before the schema is applied, so it takes any shape (``populations: [1, 2]``,
    ``populations: 5``) and leaves what it does not recognise for the validator to report.
    """
    if not isinstance(cfg, dict):
        return cfg
    base = Path(base_dir).resolve()
    out = copy.deepcopy(cfg)
    pops = out.get("populations")
    for pop in (pops.values() if isinstance(pops, dict) else ()):
        morph = pop.get("morphology") if isinstance(pop, dict) else None
        if isinstance(morph, dict) and isinstance(morph.get("file"), str):
            morph["file"] = str(base / morph["file"]) if not Path(morph["file"]).is_absolute() else morph["file"]
    mech = out.get("mechanisms")
    if isinstance(mech, dict) and isinstance(mech.get("extra_dirs"), list):
        mech["extra_dirs"] = [str(base / d) if isinstance(d, str) and not Path(d).is_absolute() else d
                              for d in mech["extra_dirs"]]
    return out


def input_files(cfg, populations=None):
    """Morphology files (absolute) a config's populations use: inputs of every rule that builds cells.

    Parameters
    ----------
    cfg : dict
        Config with resolved paths (:func:`resolve_paths`).
    populations : iterable of str, optional
        Only these populations (default all).
    """
    out = []
    for name, pop in cfg["populations"].items():
        if populations is not None and name not in populations:
            continue
        f = (pop.get("morphology") or {}).get("file")
        if f:
            out.append(str(f))
    return sorted(set(out))
