"""Loading and validation of study configurations.

The JSON schema (``lfpk/schemas/config.schema.yaml``, also reachable as
``workflow/schemas/config.schema.yaml``) describes every key; :func:`validate_config` applies it and
then the cross-field rules a schema cannot express. Every error names the offending key path
(e.g. ``connections[2].synapse.tau2``) and what was expected.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import yaml

SCHEMA_PATH = Path(__file__).parent / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration that does not satisfy the schema or a cross-field rule."""


@lru_cache(maxsize=1)
def load_schema():
    with open(SCHEMA_PATH) as f:
        return yaml.safe_load(f)


def _key_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def _resolve(node, root):
    while isinstance(node, dict) and "$ref" in node and not node.get("description"):
        node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _description_at(path):
    """The schema's description of the key at ``path`` (a $ref's sibling description wins)."""
    root = load_schema()
    node = root
    for part in path:
        node = _resolve(node, root)
        if not isinstance(node, dict):
            return None
        if isinstance(part, int):
            node = node.get("items")
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        else:
            node = node.get("additionalProperties")
    return node.get("description") if isinstance(node, dict) else None


def _describe(error) -> str:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and not error.validator_value is True:
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = sorted(error.schema.get("properties", {}))
        keys = ", ".join(_key_path(path + [k]) for k in extra)
        return f"unknown key {keys}; allowed keys here: {', '.join(allowed)}"
    if error.validator == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else "?"
        desc = _description_at(path + [missing])
        return f"missing key {_key_path(path + [missing])}" + (f" ({desc})" if desc else "")
    desc = _description_at(path) or error.schema.get("description")
    text = f"{_key_path(path)}: {error.message}"
    if desc:
        text += f" (expected: {desc})"
    return text


def _cross_field_errors(cfg) -> list[str]:
    errors = []
    sim = cfg["simulation"]
    if sim["transient"] >= sim["tstop"]:
        errors.append(
            f"simulation.transient: {sim['transient']} ms must be less than simulation.tstop "
            f"({sim['tstop']} ms)"
        )

    def check_synapse(syn, where):
        if not syn["tau2"] > syn["tau1"]:
            errors.append(
                f"{where}.tau2: {syn['tau2']} ms must be greater than {where}.tau1 ({syn['tau1']} ms)"
            )

    pops = cfg["populations"]
    for name, pop in pops.items():
        check_synapse(pop["extrinsic"]["synapse"], f"populations.{name}.extrinsic.synapse")
    seen = set()
    for i, conn in enumerate(cfg["connections"]):
        for role in ("pre", "post"):
            if conn[role] not in pops:
                errors.append(
                    f"connections[{i}].{role}: population {conn[role]!r} is not declared in "
                    f"populations (declared: {', '.join(pops)})"
                )
        key = (conn["pre"], conn["post"])
        if key in seen:
            errors.append(f"connections[{i}]: connection {key[0]} -> {key[1]} is declared twice")
        seen.add(key)
        check_synapse(conn["synapse"], f"connections[{i}].synapse")
        if sum(d["weight"] for d in conn["placement"]["densities"]) <= 0:
            errors.append(
                f"connections[{i}].placement.densities: at least one weight must be positive"
            )
    kern = cfg["kernel"]
    if kern["tau"] <= sim["dt"]:
        errors.append(
            f"kernel.tau: {kern['tau']} ms must be greater than simulation.dt ({sim['dt']} ms)"
        )
    for name in kern["rates"]:
        if name not in pops:
            errors.append(f"kernel.rates.{name}: population {name!r} is not declared in populations")
    for name in pops:
        if name not in kern["rates"]:
            errors.append(f"kernel.rates: missing key kernel.rates.{name} (rate of population {name}, 1/s)")
    radii = cfg["probes"]["eeg"]["radii"]
    if any(b <= a for a, b in zip(radii, radii[1:])):
        errors.append(f"probes.eeg.radii: {radii} must increase strictly (brain, CSF, skull, scalp)")
    for key in ("tstop", "dt"):
        if not math.isfinite(sim[key]):
            errors.append(f"simulation.{key}: must be finite")
    return errors


def validate_config(cfg) -> dict:
    """Validate a configuration mapping; return it unchanged or raise :class:`ConfigError`.

    Parameters
    ----------
    cfg : dict
        Parsed configuration (e.g. Snakemake's ``config``).

    Raises
    ------
    ConfigError
        With one line per problem, each naming the key path and the expectation.
    """
    import jsonschema

    if not isinstance(cfg, dict):
        raise ConfigError(f"configuration must be a mapping of keys, got {type(cfg).__name__}")
    validator = jsonschema.Draft202012Validator(load_schema())
    schema_errors = sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path)))
    messages = list(dict.fromkeys(_describe(e) for e in schema_errors))
    if not messages:
        messages = _cross_field_errors(cfg)
    if messages:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(messages))
    return cfg


def load_config(path) -> dict:
    """Read a YAML configuration file and validate it.

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or does not validate; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"configuration file {path} does not exist")
    try:
        with open(path) as f:
            cfg = yaml.safe_load(f)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return validate_config(cfg)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
