"""Cross-field checks of the model parts of a config that need no NEURON (called by
:func:`lfpk.api.config.validate_config`): section groups named by connections and biophysics blocks
exist on the cells they refer to."""

from __future__ import annotations

from lfpk.model.morphology.groups import BUILTIN_GROUPS
from lfpk.model.rules import weight_factors

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
    errors += weight_scaling_errors(cfg)
    return errors


def weight_scaling_errors(cfg) -> list[str]:
    """The weight-scaling rule (:func:`lfpk.model.rules.weight_factors`) applies to
    ``weight_scaling.J`` and to every value of ``scans.J`` (one message naming the key)."""
    conns = cfg.get("connections") or []
    values = [("weight_scaling.J", (cfg.get("weight_scaling") or {}).get("J", 1.0))]
    values += [(f"scans.J[{i}]", J) for i, J in enumerate((cfg.get("scans") or {}).get("J") or [])]
    for key, J in values:
        try:
            weight_factors(conns, J)
        except (ValueError, KeyError, TypeError) as exc:
            text = str(exc).removeprefix("weight_scaling.J: ")
            return [f"{key}: {J}: {text}"]
    return []
