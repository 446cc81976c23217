"""Cross-field checks of the model parts of a config that need no NEURON (called by
:func:`lfpk.config.validate_config`): section groups named by connections and biophysics blocks
exist on the cells they refer to."""

from __future__ import annotations

from lfpk.morphology.groups import BUILTIN_GROUPS

#: Groups of a ball-and-stick cell that have segments.
BALL_AND_STICK_GROUPS = ("all", "soma", "dend", "apic")


def _known_groups(pop):
    morph = pop.get("morphology") or {}
    custom = list((morph.get("groups") or {}))
    if "file" in morph:
        return list(BUILTIN_GROUPS) + custom, True
    return list(BALL_AND_STICK_GROUPS) + custom, False


def config_errors(cfg) -> list[str]:
    """One message per unknown or empty section group (naming the key)."""
    errors = []
    pops = cfg.get("populations") or {}
    for i, conn in enumerate(cfg.get("connections") or []):
        pop = pops.get(conn.get("post"))
        if pop is None:
            continue
        known, is_file = _known_groups(pop)
        for k, g in enumerate((conn.get("placement") or {}).get("sections") or []):
            if g not in known:
                kind = "" if is_file else " (a ball-and-stick cell has soma, dend and apic)"
                errors.append(f"connections[{i}].placement.sections[{k}]: section group {g!r} is not a group "
                              f"of population {conn['post']}{kind}; known: {', '.join(known)}")
    for name, pop in pops.items():
        own = pop.get("biophysics")
        block, what = (own, f"populations.{name}.biophysics") if own is not None else (cfg.get("biophysics"), "biophysics")
        if not isinstance(block, dict):
            continue
        known, _ = _known_groups(pop)
        for g in (block.get("groups") or {}):
            if g not in list(BUILTIN_GROUPS) + known:
                errors.append(f"{what}.groups.{g}: section group {g!r} is not a group of population {name}; "
                              f"known: {', '.join(known)}")
    return errors
