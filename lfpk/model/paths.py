"""File paths in a config: morphology files and mechanism folders, relative to the config file."""

from __future__ import annotations

import copy
from pathlib import Path


def resolve_paths(cfg, base_dir):
    """A copy of ``cfg`` with relative ``populations.*.morphology.file``,
    ``populations.*.cell_types.*.morphology.file`` and ``mechanisms.extra_dirs`` made absolute against ``base_dir`` (the config file's folder).

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
        for morph in morphology_entries(pop):
            if isinstance(morph.get("file"), str) and not Path(morph["file"]).is_absolute():
                morph["file"] = str(base / morph["file"])
    mech = out.get("mechanisms")
    if isinstance(mech, dict) and isinstance(mech.get("extra_dirs"), list):
        mech["extra_dirs"] = [str(base / d) if isinstance(d, str) and not Path(d).is_absolute() else d
                              for d in mech["extra_dirs"]]
    return out


def morphology_entries(population):
    """The ``morphology`` blocks of a population's config entry: its own and its cell types'
    (``cell_types.<name>.morphology``, docs/layers.md), skipping anything not shaped as a mapping
    (the validator reports those)."""
    if not isinstance(population, dict):
        return []
    entries = [population.get("morphology")]
    types = population.get("cell_types")
    if isinstance(types, dict):
        entries += [t.get("morphology") for t in types.values() if isinstance(t, dict)]
    return [m for m in entries if isinstance(m, dict)]


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
        out += [str(m["file"]) for m in morphology_entries(pop) if m.get("file")]
    return sorted(set(out))
