"""``lfpk validate-config``: configuration files checked as the workflow would run them."""

from __future__ import annotations

from lfpk.api.config import load_config
from lfpk.study.resources import estimate_memory, format_bytes
from lfpk.study.runs import ground_truth_runs


def _cmd_validate_config(args):
    for path in args.config:
        cfg = load_config(path)
        memory = ", ".join(f"{stage} {format_bytes(need)}" + (" per rank" if stage == "network" else "")
                           for stage, (need, _, _) in estimate_memory(cfg).items())
        print(f"{path}: valid (study {cfg['study']!r}, populations {', '.join(cfg['populations'])}, "
              f"runs {', '.join(ground_truth_runs(cfg))}; estimated peak memory: {memory})")


def add_validate_config(sub):
    """Add ``validate-config`` to the ``lfpk`` subparsers ``sub``."""
    p = sub.add_parser(
        "validate-config", help="check configuration files (extends resolved) as the workflow would run them",
        description="Resolve each file's `extends:` chain and validate the result exactly as the workflow "
        "does with --configfile FILE: schema, finite numbers, names, distributions, network.runs, and memory "
        "estimates against LFPK_MEMORY_LIMIT or this machine's memory.")
    p.add_argument("config", nargs="+", help="YAML configuration file(s)")
    p.set_defaults(func=_cmd_validate_config, inputs=("config",), outputs=())
    return p
