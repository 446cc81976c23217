"""The cells of a study on the command line: ``lfpk mechanisms``, ``fetch``, ``cell-check`` and
``morphology`` (compiled channels, morphology files, single-cell checks, segment tables)."""

from __future__ import annotations

from pathlib import Path

from lfpk.api.config import load_config
from lfpk.base.files import check_output, check_outputs, output_folder, same_file
from lfpk.base.mechanisms import compile_mechanisms
from lfpk.model.morphology import fetch
from lfpk.study.cellcheck import run, summary
from lfpk.study.stages import morphology_figure, morphology_parameters, population_morphology, write_morphology


def _check_populations(cfg, names, config):
    """``--population`` values that name populations of ``cfg`` (else ``ValueError``)."""
    for name in names:
        if name not in cfg["populations"]:
            raise ValueError(f"--population {name!r} is not in {config} "
                             f"(populations: {', '.join(cfg['populations'])})")


def _cmd_mechanisms(args):
    sentinel = compile_mechanisms(args.mod_dir, args.build_dir, force=args.force, extra_dirs=args.extra_dir)
    print(f"mechanisms up to date: {sentinel}")


def add_mechanisms(sub):
    """Add ``mechanisms`` to the ``lfpk`` subparsers ``sub``."""
    p = sub.add_parser(
        "mechanisms", help="compile the NMODL mechanisms (lfpk/mod and extra folders) with nrnivmodl",
        description="Compile lfpk's .mod files (and --extra-dir folders) into one library in a build folder. "
        "An existing folder is replaced only if it is empty or an lfpk build (it carries lfpk-mechanisms.json). "
        "Default folder: $LFPK_BUILD_DIR, else the per-user cache $LFPK_CACHE_DIR/mechanisms/<key> "
        "(LFPK_CACHE_DIR defaults to ~/.cache/lfpk).")
    p.add_argument("--mod-dir", default=None, help="base folder of .mod files (default: the package's lfpk/mod)")
    p.add_argument("--extra-dir", action="append", default=[], metavar="DIR",
                   help="further folder of .mod files compiled with the package's (repeatable)")
    p.add_argument("--build-dir", default=None,
                   help="output folder (default: $LFPK_BUILD_DIR or the per-user cache)")
    p.add_argument("--force", action="store_true", help="recompile even if up to date")
    p.set_defaults(func=_cmd_mechanisms, inputs=(), outputs=())
    return p


def _cmd_fetch(args):
    cfg = load_config(args.config)
    _check_populations(cfg, args.population or [], args.config)
    srcs = fetch.sources(cfg, args.population)
    if not srcs:
        print(f"{args.config}: no population names a morphology url (nothing to fetch)")
        return
    fetch.fetch_all(cfg, args.population, timeout=args.timeout)
    for src in srcs:
        print(f"{src.population}: {src.file} (sha256 {src.sha256} verified)")


def add_fetch(sub):
    """Add ``fetch`` to the ``lfpk`` subparsers ``sub``."""
    p = sub.add_parser(
        "fetch", help="download the morphology files a configuration names by url (pinned sha256)",
        description="Download every populations.<name>.morphology.url whose file is missing to its "
        "morphology.file, verify its sha256 and only then store it; an existing file is verified, never "
        "replaced. Without network access, the message says what to download and where to put it.")
    p.add_argument("--config", default="config/config.yaml", help="configuration file")
    p.add_argument("--population", action="append", help="population name (repeatable; default all)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per download attempt (default 60)")
    p.set_defaults(func=_cmd_fetch, inputs=("config",), outputs=())
    return p


def _cmd_cell_check(args):
    cfg = load_config(args.config)
    _check_populations(cfg, [args.population], args.config)
    ds = run(cfg, args.population, args.output, [args.figure] if args.figure else [])
    print(summary(ds))


def add_cell_check(sub):
    """Add ``cell-check`` to the ``lfpk`` subparsers ``sub``."""
    p = sub.add_parser(
        "cell-check", help="single-cell check: somatic step-current firing and back-propagating AP",
        description="Simulate a population's active cell under prolonged somatic current steps and a brief "
        "somatic pulse (protocols of Hay et al. 2011, or the config's cell_check block) and write the somatic "
        "and apical responses, firing rates and the back-propagating AP's amplitude and latency per apical "
        "segment (netCDF), optionally with a figure.")
    p.add_argument("--config", default="config/config.yaml", help="configuration file")
    p.add_argument("--population", required=True, help="population name")
    p.add_argument("--output", required=True, help="output netCDF file")
    p.add_argument("--figure", default=None, help="also draw the responses to this file (.png/.pdf)")
    p.set_defaults(func=_cmd_cell_check, inputs=("config",), outputs=("output", "figure"))
    return p


def _cmd_morphology(args):
    cfg = load_config(args.config)
    pops = list(dict.fromkeys(args.population or cfg["populations"]))
    _check_populations(cfg, pops, args.config)
    outputs = {name: (f"{args.outdir}/{name}.hoc", f"{args.outdir}/{name}.nc") for name in pops}
    # every output is checked before anything is computed or written; the --outdir folder is
    # created by this command, so a figure inside it is checked once the folder exists
    figure = [args.figure] if args.figure is not None else []
    in_outdir = bool(figure) and same_file(Path(args.figure).parent, args.outdir)
    if figure and not in_outdir:
        check_output(args.figure)
    output_folder(args.outdir)
    check_outputs([path for pair in outputs.values() for path in pair] + figure)
    # every morphology is read before the first is written: a file the config names (an input)
    # is refused as an output while it is still unread, not after another population replaced it
    morphologies = {name: population_morphology(name, morphology_parameters(cfg, name)) for name in pops}
    for name, m in morphologies.items():
        hoc, nc = outputs[name]
        write_morphology(m, hoc, nc)
        print(f"{name}: {hoc}, {nc}")
    if args.figure:
        morphology_figure([nc for _, nc in outputs.values()], [args.figure])
        print(f"figure: {args.figure}")


def add_morphology(sub):
    """Add ``morphology`` to the ``lfpk`` subparsers ``sub``."""
    p = sub.add_parser("morphology", help="write .hoc morphologies and segment tables (.nc)")
    p.add_argument("--config", default="config/config.yaml", help="configuration file")
    p.add_argument("--population", action="append", help="population name (repeatable; default all)")
    p.add_argument("--outdir", required=True, help="output folder (created if missing)")
    p.add_argument("--figure", default=None, help="also draw the morphologies to this file (.png/.pdf)")
    # --figure is checked by the command, after --outdir (which may hold it) is created
    p.set_defaults(func=_cmd_morphology, inputs=("config",), outputs=())
    return p
