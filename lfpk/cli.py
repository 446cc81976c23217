"""Command-line interface: ``lfpk <command> ...`` (also ``python -m lfpk``).

Each command validates its inputs first and exits with status 2 and a message naming the
offending option, key or file when they are wrong.
"""

from __future__ import annotations

import argparse
import sys


def _cmd_validate_config(args):
    from lfpk.config import load_config

    for path in args.config:
        cfg = load_config(path)
        print(f"{path}: valid (study {cfg['study']!r}, populations {', '.join(cfg['populations'])})")


def _cmd_mechanisms(args):
    from lfpk.mechanisms import compile_mechanisms

    sentinel = compile_mechanisms(args.mod_dir, args.build_dir, force=args.force)
    print(f"mechanisms up to date: {sentinel}")


def _cmd_morphology(args):
    from lfpk.config import load_config
    from lfpk.morphology import BallAndStick
    from lfpk.stages import morphology_figure, write_morphology

    cfg = load_config(args.config)
    pops = args.population or list(cfg["populations"])
    out = []
    for name in pops:
        if name not in cfg["populations"]:
            raise SystemExit(
                f"lfpk morphology: --population {name!r} is not in {args.config} "
                f"(populations: {', '.join(cfg['populations'])})"
            )
        m = BallAndStick.from_config(name, cfg["populations"][name])
        hoc, nc = f"{args.outdir}/{name}.hoc", f"{args.outdir}/{name}.nc"
        write_morphology(m, hoc, nc)
        out.append(nc)
        print(f"{name}: {hoc}, {nc}")
    if args.figure:
        morphology_figure(out, [args.figure])
        print(f"figure: {args.figure}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lfpk",
        description="Spike-to-signal kernels and ground-truth networks (Hagen et al. 2022 framework).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate-config", help="check configuration files against the schema")
    p.add_argument("config", nargs="+", help="YAML configuration file(s)")
    p.set_defaults(func=_cmd_validate_config)

    p = sub.add_parser("mechanisms", help="compile mod/*.mod with nrnivmodl into a build folder")
    p.add_argument("--mod-dir", default=None, help="folder of .mod files (default: the repository's mod/)")
    p.add_argument("--build-dir", default=None, help="output folder (default: build/mechanisms)")
    p.add_argument("--force", action="store_true", help="recompile even if up to date")
    p.set_defaults(func=_cmd_mechanisms)

    p = sub.add_parser("morphology", help="write .hoc morphologies and segment tables (.nc)")
    p.add_argument("--config", default="config/config.yaml", help="configuration file")
    p.add_argument("--population", action="append", help="population name (repeatable; default all)")
    p.add_argument("--outdir", required=True, help="output folder")
    p.add_argument("--figure", default=None, help="also draw the morphologies to this file (.png/.pdf)")
    p.set_defaults(func=_cmd_morphology)
    return parser


def main(argv=None) -> int:
    from lfpk.config import ConfigError
    from lfpk.mechanisms import MechanismsError

    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ConfigError, MechanismsError, FileNotFoundError, ValueError) as exc:
        print(f"lfpk {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
