"""Command line of the ground-truth network: ``[mpiexec -n N] python -m lfpk.network ...``."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from lfpk.network.datasets import run_network
from lfpk.network.mpi import init_parallel


def _parse_sizes(text):
    if not text:
        return None
    out = {}
    for item in text.split(","):
        k, _, v = item.partition("=")
        try:
            out[k.strip()] = int(v)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected NAME=N[,NAME=N] with integer N, got {text!r}") from None
    return out


def build_parser():
    from lfpk.cli import Parser

    p = Parser(
        prog="lfpk network",
        description="Simulate the ground-truth multicompartment network (run under mpiexec for MPI).",
    )
    p.add_argument("--config", default="config/config.yaml", help="configuration file (YAML)")
    p.add_argument("--outdir", required=True,
                   help="output folder (created if missing) for spikes.nc, signals.nc, membrane.nc")
    p.add_argument("--tstop", type=float, default=None, help="simulated time (ms), overrides simulation.tstop")
    p.add_argument("--transient", type=float, default=None, help="transient (ms), overrides simulation.transient")
    p.add_argument("--population-sizes", type=_parse_sizes, default=None, metavar="E=N,I=M",
                   help="population sizes; connection probabilities are scaled to keep the config's "
                        "in-degrees (capped at 1) unless --keep-probabilities")
    p.add_argument("--keep-probabilities", action="store_true",
                   help="with --population-sizes: keep the config's connection probabilities")
    p.add_argument("--seed", type=int, default=None, help="overrides the config seed")
    p.add_argument("--J", type=float, default=None, help="overrides weight_scaling.J")
    p.add_argument("--biophysics", default="active", choices=["active", "passive", "frozen", "quasi_linear"],
                   help="active (ground truth, default), passive, frozen, quasi_linear")
    p.add_argument("--no-lump", action="store_true", help="one synapse point process per synapse (slow; for checks)")
    p.add_argument("--extrinsic-drive", default="mechanism", choices=["mechanism", "netstim"],
                   help="extrinsic Poisson drive drawn inside the synapse mechanism (default) or by one "
                        "NetStim + NetCon per segment (the former implementation; same trains, bitwise)")
    p.add_argument("--membrane-sample", type=int, default=None, help="overrides recording.membrane_sample")
    p.add_argument("--mechanisms", default=None, help="folder of the compiled mechanisms (default $LFPK_BUILD_DIR, else the per-user cache; see lfpk.mechanisms)")
    p.add_argument("--log", default=None, help="log file (default: stderr)")
    return p


OUTPUT_FILES = ("spikes.nc", "signals.nc", "membrane.nc")


def checked_config(args):
    """The config of ``args.config`` with the command-line overrides applied, validated.

    Every override is a config key (``--tstop`` simulation.tstop, ``--transient``
    simulation.transient, ``--population-sizes`` populations.<name>.size, ``--seed``, ``--J``
    weight_scaling.J, ``--membrane-sample`` recording.membrane_sample), so the config's rules
    (finite positive tstop, transient < tstop, sizes >= 1, memory estimate) apply to the run as
    given. Raises ``ValueError`` / ``ConfigError`` naming the option or key.
    """
    import copy

    from lfpk.config import ConfigError, load_config, validate_config

    cfg = load_config(args.config)
    run = copy.deepcopy(cfg)
    given = []
    for name, n in (args.population_sizes or {}).items():
        if name not in run["populations"]:
            raise ValueError(f"--population-sizes: population {name!r} is not in {args.config} "
                             f"(populations: {', '.join(run['populations'])})")
        run["populations"][name]["size"] = n
        given.append(f"--population-sizes {name}={n}")
    for opt, keys, value in (("--tstop", ("simulation", "tstop"), args.tstop),
                             ("--transient", ("simulation", "transient"), args.transient),
                             ("--J", ("weight_scaling", "J"), args.J),
                             ("--membrane-sample", ("recording", "membrane_sample"), args.membrane_sample)):
        if value is not None:
            run[keys[0]][keys[1]] = value
            given.append(f"{opt} {value:g}")
    if args.seed is not None:
        run["seed"] = args.seed
        given.append(f"--seed {args.seed}")
    launched = [os.environ.get(k) for k in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE") if os.environ.get(k)]
    run.setdefault("network", {})["tasks"] = int(launched[0]) if launched else 1  # memory per rank
    try:
        validate_config(run)
    except ConfigError as exc:
        raise ConfigError(f"{args.config} with {' '.join(given)}: {exc}" if given else f"{args.config}: {exc}") from None
    return cfg


def _main(argv):
    from lfpk.cli import report_from_every_rank
    from lfpk.io import check_output, output_folder
    from lfpk.logs import log_to
    from lfpk.mechanisms import load

    args = build_parser().parse_args(argv)
    cfg = checked_config(args)  # every rank checks the same input before MPI starts
    output_folder(args.outdir, inputs=[args.config])
    for name in OUTPUT_FILES:
        check_output(os.path.join(args.outdir, name), inputs=[args.config])
    try:
        pc = init_parallel()
    except RuntimeError as exc:  # a launch that cannot work (ranks NEURON and MPI disagree on)
        raise ValueError(f"MPI launch: {exc}") from None
    report_from_every_rank()
    rank = int(pc.id())
    logpath = args.log if rank == 0 else None
    level = logging.INFO if rank == 0 else logging.WARNING
    with log_to(logpath, level=level) as logger:
        from lfpk.model import from_config

        extra = from_config(cfg).extra_dirs  # the config's mechanisms.extra_dirs
        load(build_dir=args.mechanisms, extra_dirs=extra or None)
        if args.J is not None:
            cfg["weight_scaling"]["J"] = float(args.J)
        paths, timings, rates = run_network(
            cfg, args.outdir, sizes=args.population_sizes, tstop=args.tstop, seed=args.seed,
            scale_probabilities=not args.keep_probabilities, lump=not args.no_lump,
            biophysics=args.biophysics, membrane_sample=args.membrane_sample, pc=pc,
            transient=args.transient, extrinsic_drive=args.extrinsic_drive)
        if rank == 0:
            logger.info("done: timings (s) %s", {k: round(v, 2) for k, v in timings.items() if isinstance(v, float)})
    pc.barrier()
    pc.done()
    return 0


def main(argv=None):
    """Entry point: ``[mpiexec -n N] python -m lfpk.network --config C --outdir D [options]``
    (also ``lfpk network ...``), inside the CLI's error boundary (:func:`lfpk.cli.run_command`):
    bad input ends in one line and exit status 2."""
    from lfpk.cli import run_command

    return run_command("lfpk network", _main, sys.argv[1:] if argv is None else list(argv))
