"""``lfpk validate-config``: configuration files checked as the workflow would run them."""

from __future__ import annotations

from lfpk.api.config import load_config
from lfpk.study.resources import estimate_memory, format_bytes, machine_memory, network_ranks
from lfpk.study.runs import ground_truth_runs, kernels_only


def _ranks_text(cfg) -> str:
    """Memory of the network's ranks that share one machine, e.g. ``1.64 GB on 2 ranks`` or
    ``5.94 GB on 16 of 64 ranks per node`` (``LFPK_RANKS_PER_NODE``)."""
    ranks, here, _ = network_ranks(cfg)
    where = f"{here} of {ranks} ranks per node" if here != ranks else f"{ranks} rank{'s' if ranks > 1 else ''}"
    return f"{format_bytes(machine_memory(cfg)[0])} on {where}"


def _cmd_validate_config(args):
    for path in args.config:
        cfg = load_config(path)
        if kernels_only(cfg):
            memory = ", ".join(f"{stage} {format_bytes(need)}" for stage, (need, _, _) in estimate_memory(cfg).items())
            print(f"{path}: valid kernels-only file (scope: kernels; populations {', '.join(cfg['populations'])}, "
                  f"{len(cfg['connections'])} connections; estimated peak memory: {memory})")
            continue
        memory = ", ".join(f"{stage} {format_bytes(need)}" + (f" per rank ({_ranks_text(cfg)})" if stage == "network"
                                                              else "")
                           for stage, (need, _, _) in estimate_memory(cfg).items())
        print(f"{path}: valid (study {cfg['study']!r}, populations {', '.join(cfg['populations'])}, "
              f"runs {', '.join(ground_truth_runs(cfg))}; estimated peak memory: {memory})")


def add_validate_config(sub):
    """Add ``validate-config`` to the ``lfpk`` subparsers ``sub``."""
    p = sub.add_parser(
        "validate-config", help="check configuration files (extends resolved) as the workflow would run them",
        description="Resolve each file's `extends:` chain and validate the result exactly as the workflow "
        "does with --configfile FILE: schema, finite numbers, names, times, distributions, network.runs, "
        "morphology sizes and paths, probes, the sensitivity grid, and memory estimates (all network ranks of a "
        "machine) against LFPK_MEMORY_LIMIT or this machine's available memory.")
    p.add_argument("config", nargs="+", help="YAML configuration file(s)")
    p.set_defaults(func=_cmd_validate_config, inputs=("config",), outputs=())
    return p
