"""Loading and validation of study configurations: the one loader and validator used by
``lfpk validate-config``, every ``lfpk`` command and the Snakemake workflow.

A configuration file describes the whole study, or states the file it overlays with ``extends:``
(a path relative to the extending file). :func:`load_config` resolves the chain: mappings merge key
by key, ``connections`` merge entry by entry by their (pre, post) (a new pair is appended, ``{pre,
post, remove: true}`` removes one; :func:`lfpk.study.runs.merge_keyed_list`), any other value
(numbers, strings, other lists) replaces the base's, and ``null`` removes a key of the base. The
result, and nothing else, is validated and run.

The JSON schema (``lfpk/schemas/config.schema.yaml``, also reachable as
``workflow/schemas/config.schema.yaml``) describes every key; :func:`validate_config` applies it and
then the rules a schema cannot express: numbers must be finite (infinity only as a distribution
bound), names must stay inside ``results/<study>``, the times follow the one rule of
:mod:`lfpk.model.times` and leave the samples the comparisons need after the transient,
distributions must exist (delays with no probability below 0 ms,
:func:`lfpk.model.connectivity.delay_distribution`), the model's checks (:mod:`lfpk.model.validate`:
section groups, layers and cell types, segment counts, ASCII morphology paths, probes), each part of the study's own
checks (sensitivity grid, cell check, point neurons, hybrid scheme), ``network.runs`` must not
collide with the runs the workflow derives from the scans and must each validate, and every stage
must fit in memory (:mod:`lfpk.study.resources`). Every error names the offending key path (e.g.
``connections[2].synapse.tau2``, ``network.runs.fast.simulation.dt``) and what was expected.

Files are read by the strict YAML reader :mod:`lfpk.base.yamlfile` (a key twice, an alias bomb
refused). A command that overrides config values with options checks them with the rules of
what it computes (:func:`apply_overrides`).
"""

from __future__ import annotations

import copy
import math
import re
from functools import lru_cache
from pathlib import Path

import jsonschema
import numpy as np

from lfpk.base.files import register_input
from lfpk.base.yamlfile import YAMLFileError, read_yaml
from lfpk.engines.compare import analysed_samples
from lfpk.model.connectivity import delay_distribution, frozen_distribution, multapse_pmf
from lfpk.model.paths import resolve_paths
from lfpk.model.times import time_errors
from lfpk.model.validate import config_errors as model_errors
from lfpk.study.cellcheck import config_errors as cell_check_errors
from lfpk.study.hybrid import config_errors as hybrid_errors
from lfpk.study.microcircuit import config_errors as microcircuit_errors
from lfpk.study.pointnet.parameters import config_errors as pointnet_errors
from lfpk.study.resources import memory_errors
from lfpk.study.single_cell import config_errors as single_cell_errors
from lfpk.study.sensitivity import config_errors as sensitivity_errors
from lfpk.study.runs import (  # noqa: F401  (deep_merge, j_run_name, scan_runs, RESERVED_RUNS, RUN_FIXED_KEYS: public here too)
    RESERVED_RUNS,
    RUN_FIXED_KEYS,
    deep_merge,
    kernels_only,
    j_run_name,
    named_runs,
    run_definition_error,
    scan_runs,
    structure_error,
)

SCHEMA_PATH = Path(__file__).parent.parent / "schemas" / "config.schema.yaml"

#: Top-level key naming the configuration file a file overlays.
EXTENDS = "extends"


class ConfigError(ValueError):
    """A configuration that does not satisfy the schema or a cross-field rule.

    ``problems`` lists the problems, one line each naming the key (empty when the message is
    about the file itself, e.g. not YAML)."""

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.problems = list(problems)


def _invalid(problems) -> ConfigError:
    """The error of a configuration with ``problems``: one problem on one line, several one per line."""
    if len(problems) == 1:
        return ConfigError(f"invalid configuration: {problems[0]}", problems)
    return ConfigError("invalid configuration:\n  " + "\n  ".join(problems), problems)


@lru_cache(maxsize=1)
def load_schema():
    return read_yaml(SCHEMA_PATH)


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


def _describe(error, prefix=()) -> str:
    path = list(error.absolute_path)
    full = list(prefix) + path
    if error.validator == "additionalProperties" and not error.validator_value is True:
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = sorted(error.schema.get("properties", {}))
        keys = ", ".join(_key_path(full + [k]) for k in extra)
        return f"unknown key {keys}; allowed keys here: {', '.join(allowed)}"
    if error.validator == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else "?"
        desc = _description_at(path + [missing])
        desc = " ".join(desc.split()) if isinstance(desc, str) else desc
        return f"missing key {_key_path(full + [missing])}" + (f" ({desc})" if desc else "")
    desc = _description_at(path) or error.schema.get("description")
    desc = " ".join(desc.split()) if isinstance(desc, str) else desc  # folded YAML text: one line
    message = error.message
    if error.validator == "pattern":
        message = f"{error.instance!r} does not match {error.validator_value!r}"
    text = f"{_key_path(full)}: {message}"
    if desc:
        text += f" (expected: {desc})"
    return text


def _pattern(validator, pattern, instance, schema):
    """``pattern`` matching the whole string: ``$`` does not accept a trailing newline (Python's
    ``re.search`` would let ``"laptop\\n"`` through ``^...$``)."""
    if isinstance(instance, str):
        strict = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
        if not re.search(strict, instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@lru_cache(maxsize=1)
def _validator():
    cls = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})
    return cls(load_schema())


# ---------------------------------------------------------------------------------------------
# Rules the schema cannot express
# ---------------------------------------------------------------------------------------------


def _non_finite_errors(node, path=(), in_params=False) -> list[str]:
    """NaN anywhere, and infinities outside distribution parameters (where ``b: .inf`` is a bound)."""
    errors = []
    if isinstance(node, dict):
        for k, v in node.items():
            errors += _non_finite_errors(v, path + (k,), in_params or k == "params")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            errors += _non_finite_errors(v, path + (i,), in_params)
    elif isinstance(node, float) and not math.isfinite(node):
        if math.isnan(node):
            errors.append(f"{_key_path(path)}: NaN; expected a finite number")
        elif not in_params:
            errors.append(f"{_key_path(path)}: {node}; expected a finite number (infinity is allowed "
                          "only as a distribution bound, e.g. delays.params.b)")
    return errors


def _distribution_errors(cfg) -> list[str]:
    """Every distribution exists and takes its parameters; delays have no mass below 0 ms; the
    multapse distribution has mass on 1..99."""
    errors = []
    for i, conn in enumerate(cfg["connections"]):
        for key, check in (("multapses", lambda spec, what: multapse_pmf(spec, what=what)),
                           ("delays", delay_distribution)):
            try:
                check(conn[key], f"connections[{i}].{key}")
            except ValueError as exc:
                errors.append(str(exc))
        for j, d in enumerate(conn["placement"].get("densities") or []):
            where = f"connections[{i}].placement.densities[{j}]"
            if "distribution" in d:
                extra = [k for k in ("mean", "sd") if k in d]
                if extra:
                    errors.append(f"{where}: {' and '.join(extra)} belong to a Gaussian; a scipy.stats density "
                                  "takes its parameters in params (loc, scale in um)")
                try:
                    dist = frozen_distribution({"distribution": d["distribution"], "params": d.get("params", {})}, where)
                    if not hasattr(dist, "pdf"):
                        errors.append(f"{where}.distribution: {d['distribution']!r} has no density (pdf)")
                except ValueError as exc:
                    errors.append(str(exc))
                if d.get("z_min", -math.inf) >= d.get("z_max", math.inf):
                    errors.append(f"{where}: z_min ({d['z_min']} um) must be below z_max ({d['z_max']} um)")
            else:
                missing = [k for k in ("mean", "sd") if k not in d]
                if missing:
                    errors.append(f"{where}: missing key {', '.join(missing)} (a Gaussian {{weight, mean, sd}} um, "
                                  "or a scipy.stats density {weight, distribution, params})")
                extra = [k for k in ("params", "z_min", "z_max") if k in d]
                if extra:
                    errors.append(f"{where}: {', '.join(extra)} belong to a scipy.stats density (give distribution)")
    return errors


def _run_errors(cfg) -> list[str]:
    """``network.runs``: names distinct from the derived runs, overrides that keep the workflow's
    wiring (:func:`lfpk.study.runs.run_definition_error`), and merged configurations that validate
    and keep the config's populations and connections (errors prefixed ``network.runs.<run>``)."""
    errors = []
    for name, over in named_runs(cfg).items():
        where = f"network.runs.{name}"
        problem = run_definition_error(cfg, name, over)
        if problem:
            errors.append(f"{where}: {problem}")
            continue
        try:
            merged = deep_merge(cfg, over)
        except ValueError as exc:
            errors.append(f"{where}: {exc}")
            continue
        try:
            validate_config(merged, runs=False)
        except ConfigError as exc:
            errors += [f"{where}: {line}" for line in exc.problems]
            continue
        problem = structure_error(cfg, merged)
        if problem:
            errors.append(f"{where}: {problem}")
    return errors


def _window_errors(sim) -> list[str]:
    """The analysed window ``[transient, tstop]`` holds the samples the workflow's comparisons need.

    The ground truth is compared with every prediction (:func:`lfpk.engines.compare.compare`) and
    the sensitivity map on the samples after the transient, through
    :func:`lfpk.engines.compare.analysed_samples`; it is asked here about the samples
    ``[transient, tstop]`` on the grid of ``dt`` (at most a few dozen of them: the rule counts, it
    does not need the whole run). Nothing else of the workflow needs more (checked with ``tstop =
    transient + 15 dt``: network, prediction, comparison and figures run; one step less fails the
    comparison).
    """
    dt, tstop, transient = float(sim["dt"]), float(sim["tstop"]), float(sim["transient"])
    k0, k1 = round(transient / dt), round(tstop / dt)
    steps = np.arange(k0, min(k1, k0 + 64) + 1)
    try:
        analysed_samples(steps, steps, dt, transient, "of the ground truth")
    except ValueError as exc:
        return [f"simulation.tstop: {tstop:g} ms leaves {k1 - k0 + 1} samples of simulation.dt ({dt:g} ms) from "
                f"simulation.transient ({transient:g} ms) on, too few for the comparisons with the ground truth "
                f"(lfpk.engines.compare: {exc})"]
    return []


#: What a kernels-only file (``scope: kernels``) may not hold: the study's other parts, and the keys
#: of ``simulation`` and ``kernel`` only the workflow reads
NOT_KERNELS = ("network", "scans", "pointnet", "hybrid", "sensitivity", "cell_check", "single_cell", "figures",
               "recording", "simulation.tstop", "simulation.transient", "simulation.spike_threshold",
               "kernel.variants")


def _synapses(cfg):
    """``(key path, synapse)`` of every connection and extrinsic drive of a (schema-valid) config."""
    out = [(f"connections[{i}].synapse", c["synapse"]) for i, c in enumerate(cfg["connections"])]
    out += [(f"populations.{n}.extrinsic.synapse", p["extrinsic"]["synapse"]) for n, p in cfg["populations"].items()]
    return out


def _scope_errors(cfg) -> list[str]:
    """A kernels-only file holds what kernels need and nothing of the study's other parts; a study
    file (the network is simulated) has conductance synapses only."""
    errors = []
    if kernels_only(cfg):
        for key in NOT_KERNELS:
            head, _, tail = key.partition(".")
            node = cfg.get(head)
            if (head == "network" and cfg.get("microcircuit") is not None and isinstance(node, dict)
                    and set(node) <= {"tasks"}):
                continue  # a microcircuit file's MPI ranks of its validation (rule microcircuit_validate)
            if (tail and isinstance(node, dict) and tail in node) or (not tail and head in cfg):
                errors.append(f"{key}: not part of a kernels-only file (scope: kernels holds simulation.dt, celsius and "
                              "v_init, populations, connections, biophysics, weight_scaling, probes, kernel; "
                              "optionally study, seed, mechanisms); remove it, or remove scope for a study file")
        return errors
    try:
        synapses = _synapses(cfg)
    except (KeyError, TypeError, AttributeError):
        return []  # the schema names what is missing
    for where, syn in synapses:
        if isinstance(syn, dict) and syn.get("model") == "Exp2SynI":
            errors.append(f"{where}.model: Exp2SynI (current based) is accepted in kernels-only files (scope: kernels) "
                          "only: the study's ground-truth network, hybrid scheme and point-neuron fit are made for "
                          "conductance synapses (Exp2Syn)")
    return errors


def _cross_field_errors(cfg, runs=True, memory=True) -> list[str]:
    sim = cfg["simulation"]
    kernels = kernels_only(cfg)  # no network: dt alone is a time of the file
    errors = time_errors(sim["dt"]) if kernels else time_errors(sim["dt"], tstop=sim["tstop"],
                                                                transient=sim["transient"])  # the one rule for times
    if not errors and not kernels:
        errors += _window_errors(sim)

    def check_synapse(syn, where):
        if not syn["tau2"] > syn["tau1"]:
            errors.append(
                f"{where}.tau2: {syn['tau2']} ms must be greater than {where}.tau1 ({syn['tau1']} ms)"
            )

    pops = cfg["populations"]
    for name, pop in pops.items():
        check_synapse(pop["extrinsic"]["synapse"], f"populations.{name}.extrinsic.synapse")
    for where, syn in _synapses(cfg):
        if syn["model"] == "Exp2SynI" and "e" in syn:
            errors.append(f"{where}.e: a current synapse (Exp2SynI) has no reversal potential; remove e")
        if syn["model"] == "Exp2SynI" and cfg["kernel"]["g_eff"]:
            errors.append(f"kernel.g_eff: true needs conductance synapses; {where} is a current synapse (Exp2SynI), "
                          "which adds no conductance to the leak: set kernel.g_eff: false")
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
        if "densities" in conn["placement"] and sum(d["weight"] for d in conn["placement"]["densities"]) <= 0:
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
    source = (cfg.get("sensitivity") or {}).get("source", "total")
    if source != "total" and source not in pops:
        errors.append(f"sensitivity.source: {source!r} must be 'total' or a population ({', '.join(pops)})")
    errors += _distribution_errors(cfg)
    errors += model_errors(cfg)  # section groups, layers, morphology sizes and paths, the probes (EEG head, models)
    errors += microcircuit_errors(cfg)  # the microcircuit's NEST network (none without a microcircuit block)
    if not kernels:  # the study's other parts (a kernels-only file has none)
        errors += sensitivity_errors(cfg)  # the sensitivity map's grid
        errors += cell_check_errors(cfg)
        errors += single_cell_errors(cfg)
        errors += pointnet_errors(cfg)
        errors += hybrid_errors(cfg)  # the hybrid scheme's run, volleys and direct-kernel variants
    if errors:
        return errors
    if runs and not kernels:
        errors += _run_errors(cfg)
    if memory:
        errors += memory_errors(cfg, runs=runs)  # a kernels-only file: the kernel stage's
    return errors


def validate_config(cfg, runs=True) -> dict:
    """Validate a configuration mapping; return it unchanged or raise :class:`ConfigError`.

    Parameters
    ----------
    cfg : dict
        Parsed configuration, ``extends`` resolved (:func:`load_config`).
    runs : bool
        Also validate every run of ``network.runs`` merged over ``cfg`` (off for a run's own config).

    Raises
    ------
    ConfigError
        With one line per problem, each naming the key path and the expectation.
    """
    if not isinstance(cfg, dict):
        raise ConfigError(f"configuration must be a mapping of keys, got {type(cfg).__name__}")
    if EXTENDS in cfg:
        raise ConfigError(f"{EXTENDS}: {cfg[EXTENDS]!r} is not resolved; load the file with "
                          "lfpk.api.config.load_config (or `lfpk validate-config FILE`)")
    schema_errors = sorted(_validator().iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path)))
    messages = list(dict.fromkeys(_describe(e) for e in schema_errors))
    messages += _non_finite_errors(cfg)
    messages += _scope_errors(cfg)
    if not messages:
        messages = _cross_field_errors(cfg, runs=runs)
    if messages:
        raise _invalid(messages)
    return cfg


#: The keys each command that overrides config values with options reads, and the stages whose
#: memory it needs (:func:`apply_overrides`). ``lfpk kernel`` builds the kernel cells and probes of
#: the model and nothing of the workflow's runs, hybrid scheme, sensitivity map or point neurons.
COMMAND_SCOPES = {
    "kernel": {"keys": ("kernel", "simulation.dt", "simulation.celsius", "simulation.v_init", "populations",
                        "connections", "biophysics", "mechanisms", "probes", "weight_scaling", "seed"),
               "stages": ("kernel",)},
}


def _about(problem, keys) -> bool:
    """Whether a validator message is about one of ``keys`` (it starts with that key path)."""
    head = problem.split(": ", 1)[0]
    return any(head == k or head.startswith((k + ".", k + "[")) for k in keys)


def apply_overrides(cfg, overrides, command, source="configuration"):
    """A copy of the validated ``cfg`` with a command's option ``overrides`` laid over it, checked
    by the rules that concern ``command`` only.

    A command that overrides a value (``lfpk kernel --tau 400``) runs part of the study, so the
    override is checked by every rule about the keys that command reads
    (:data:`COMMAND_SCOPES`) and by the memory estimate of the stages it runs, not by rules of
    other parts of the study (the hybrid scheme's volleys are the workflow's, not this command's).

    Parameters
    ----------
    cfg : dict
        A validated configuration (:func:`load_config`).
    overrides : dict
        ``option text`` (e.g. ``"--tau 400"``) -> ``(key path, value)``, the key path dotted
        (``"kernel.tau"``, ``"kernel.rates.E"``).
    command : str
        A key of :data:`COMMAND_SCOPES`.
    source : str
        The configuration's file, for messages.

    Raises
    ------
    ConfigError
        ``<source> with <options>: invalid configuration: <key>: ...``, one line per problem.
    """
    scope = COMMAND_SCOPES[command]
    out = copy.deepcopy(cfg)
    for _, (key, value) in overrides.items():
        node, parts = out, key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    given = " ".join(overrides)
    schema_errors = sorted(_validator().iter_errors(out), key=lambda e: list(map(str, e.absolute_path)))
    problems = list(dict.fromkeys(_describe(e) for e in schema_errors)) + _non_finite_errors(out) + _scope_errors(out)
    if not problems:
        problems = _cross_field_errors(out, runs=False, memory=False)
        problems += memory_errors(out, stages=scope["stages"])
    problems = [p for p in problems if _about(p, scope["keys"]) or p.startswith(("memory:", "LFPK_"))]
    if problems:
        exc = _invalid(problems)
        raise ConfigError(f"{source} with {given}: {exc}", exc.problems)
    return out


#: Parsed files by (resolved path, modification time, size): the strict YAML reader costs about
#: 100 ms for the study's config; a file read again unchanged (compute_kernels in a loop) is not parsed again
_PARSED = {}


def _parsed_yaml(path):
    """A deep copy of the YAML content of ``path`` (:func:`lfpk.base.yamlfile.read_yaml`), parsed
    again only when the file's modification time or size changed."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        if len(_PARSED) > 32:
            _PARSED.clear()
        _PARSED[key] = read_yaml(path)
    return copy.deepcopy(_PARSED[key])


def read_config_file(path, _chain=()) -> dict:
    """The configuration a file describes: its ``extends`` chain resolved, not validated.

    Relative paths in it (morphology files, mechanism folders) are made absolute against the
    file's folder (:func:`lfpk.model.resolve_paths`).

    Raises
    ------
    ConfigError
        Missing or unreadable file, not YAML, not a mapping, a bad ``extends`` or a cycle; the
        message names the file.
    """
    path = Path(path)
    register_input(path)  # every file of the chain is an input of the running command
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ConfigError(f"configuration file {path} {what}" + (f" (extended by {_chain[-1]})" if _chain else ""))
    try:
        data = _parsed_yaml(path)  # strict: a key twice or an alias bomb is refused, naming file and line
    except YAMLFileError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of configuration keys, got {type(data).__name__}")
    base = data.pop(EXTENDS, None)
    data = resolve_paths(data, path.parent)  # each file's relative paths from its own folder
    if base is None:
        return data
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(f"{path}: {EXTENDS}: expected the path of the configuration this file overlays "
                          f"(relative to {path.parent}), got {base!r}")
    base_path = (path.parent / base).resolve()
    chain = (*_chain, str(path))
    if str(base_path) in {str(Path(c).resolve()) for c in chain}:
        raise ConfigError(f"{path}: {EXTENDS}: {base} closes a cycle ({' -> '.join(chain)} -> {base_path})")
    base_cfg = read_config_file(base_path, chain)
    try:
        return deep_merge(base_cfg, data)
    except ValueError as exc:  # a list of connections that cannot be laid over the base's
        raise ConfigError(f"{path}: {exc} (overlaying {base_path})") from None


def load_config(path) -> dict:
    """Read a YAML configuration file, resolve its ``extends`` chain and validate the result.

    Raises
    ------
    ConfigError
        If the file (or a file it extends) is missing, is not YAML, or the result does not
        validate; the message names the file.
    """
    cfg = read_config_file(path)
    try:
        return validate_config(cfg)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}", exc.problems) from None


def load_study_config(configfiles, overrides=None, default="config/config.yaml") -> tuple[dict, str]:
    """The configuration the workflow runs: one ``--configfile`` (default ``default``), its
    ``extends`` resolved, ``--config KEY=VALUE`` ``overrides`` laid over it, validated.

    Returns
    -------
    (dict, str)
        The configuration and a description of where it came from (for messages).

    Raises
    ------
    ConfigError
        Several config files (a file states what it overlays with ``extends:``), or any error of
        :func:`load_config`.
    """
    files = [str(f) for f in configfiles or []]
    if len(files) > 1:
        raise ConfigError(f"{len(files)} config files given ({', '.join(files)}); give one --configfile: a "
                          f"file describes the whole study or names the file it overlays with '{EXTENDS}:'")
    path = files[0] if files else default
    cfg = read_config_file(path)
    source = str(path)
    # a microcircuit study's network is NEST's (its `microcircuit` block, lfpk.study.microcircuit):
    # lfpk's engines see only its kernels, and the workflow runs it as its own study
    if kernels_only(cfg) and cfg.get("microcircuit") is None:
        raise ConfigError(f"{source}: scope: kernels: a kernels-only file has no network, runs or figures for the "
                          f"workflow; compute its kernels with `lfpk kernel --config {source}` (or "
                          "lfpk.compute_kernels), or remove scope for a study file")
    if overrides:
        source += " with --config " + " ".join(f"{k}={v}" for k, v in dict(overrides).items())
        try:
            cfg = deep_merge(cfg, dict(overrides))
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    try:
        return validate_config(cfg), source
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}", exc.problems) from None
