"""Command line of the ground-truth network: ``[mpiexec -n N] python -m lfpk network ...``.

The network command parses its own options (``lfpk network`` hands it everything after the
command's name; argparse's REMAINDER would not pass leading options) and runs inside the error
boundary of :mod:`lfpk.entry.cli.boundary`; every rank checks the same input before MPI starts.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import sys

from lfpk.api.config import ConfigError, load_config, validate_config
from lfpk.base.files import check_output, output_folder
from lfpk.base.io import read_dataset
from lfpk.base.logs import log_to
from lfpk.base.mechanisms import load
from lfpk.base.mpi import launch_size
from lfpk.engines.kernel.inputs import kernel_inputs
from lfpk.engines.network.datasets import run_network
from lfpk.engines.network.replay import replay_times, run_replay
from lfpk.entry.cli.boundary import Parser, name_values, run_command, start_mpi
from lfpk.model import from_config
from lfpk.model.times import check_times


def _name_values(text, kind, expected):
    """``NAME=V[,NAME=V]`` as a dict (:func:`~lfpk.entry.cli.boundary.name_values`; ``expected``
    describes the values in argparse's message)."""
    try:
        return name_values(text.split(","), kind, "")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def _parse_sizes(text):
    return _name_values(text, int, "NAME=N[,NAME=N] with integer N") if text else None


def _parse_times(text):
    return _name_values(text, float, "NAME=T[,NAME=T] with times in ms")


def build_parser():
    """The network command's own parser (``lfpk network --help``)."""
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
    g = p.add_argument_group(
        "hybrid scheme (Hagen et al. 2022)",
        "the network rebuilt with linearised cells (--biophysics frozen, quasi_linear or passive) and current "
        "synapses, driven by a ground-truth run's spikes (--replay) or by one volley per population "
        "(--volleys); writes signals.nc only")
    g.add_argument("--replay", default=None, metavar="SPIKES",
                   help="spikes.nc of the ground-truth run of this config whose spikes (and extrinsic drive) are replayed")
    g.add_argument("--volleys", type=_parse_times, default=None, metavar="E=T,I=T",
                   help="hybrid kernels: every cell of each population fires once at T (ms), no extrinsic drive")
    g.add_argument("--network-spikes", default=None, metavar="SPIKES",
                   help="with --volleys: spikes.nc of the ground-truth run (its population sizes and probabilities)")
    g.add_argument("--membrane", default=None, metavar="MEMBRANE",
                   help="membrane.nc of the ground-truth run: V_rest (median somatic potential) and rates for g_eff")
    g.add_argument("--g-eff", action="store_true",
                   help="add each segment's time-averaged synaptic conductance to its leak")
    p.add_argument("--mechanisms", default=None, help="folder of the compiled mechanisms (default $LFPK_BUILD_DIR, else the per-user cache; see lfpk.base.mechanisms)")
    p.add_argument("--log", default=None, help="log file (default: stderr)")
    return p


OUTPUT_FILES = ("spikes.nc", "signals.nc", "membrane.nc")


def checked_config(args):
    """The config of ``args.config`` with the command-line overrides applied, validated.

    The times of a ground-truth run (``--tstop``, ``--transient`` or the config's) are checked
    first by the one rule for times (:func:`lfpk.model.times.check_times`: tstop at least one step
    of simulation.dt and at most :data:`lfpk.model.times.MAX_STEPS`, whole numbers of steps, at
    least one step after the transient), naming the options. Every override is a config key
    (``--tstop`` simulation.tstop, ``--transient`` simulation.transient, ``--population-sizes``
    populations.<name>.size, ``--seed``, ``--J`` weight_scaling.J, ``--membrane-sample``
    recording.membrane_sample), so the config's rules (sizes >= 1, memory estimate) apply to the
    run as given. Raises ``ValueError`` / ``ConfigError`` naming the option or key.
    """
    cfg = load_config(args.config)
    run = copy.deepcopy(cfg)
    given = []
    for name, n in (args.population_sizes or {}).items():
        if name not in run["populations"]:
            raise ValueError(f"--population-sizes: population {name!r} is not in {args.config} "
                             f"(populations: {', '.join(run['populations'])})")
        run["populations"][name]["size"] = n
        given.append(f"--population-sizes {name}={n}")
    hybrid = bool(getattr(args, "replay", None) or getattr(args, "volleys", None))
    if not hybrid:  # the one rule for times, naming the options given (a hybrid run's: _hybrid_options)
        sim = cfg["simulation"]
        check_times(sim["dt"], tstop=sim["tstop"] if args.tstop is None else args.tstop,
                    transient=sim["transient"] if args.transient is None else args.transient,
                    names={k: f"--{k}" for k in ("tstop", "transient") if getattr(args, k) is not None})
    for opt, keys, value in (("--tstop", ("simulation", "tstop"), None if hybrid else args.tstop),
                             ("--transient", ("simulation", "transient"), args.transient),
                             ("--J", ("weight_scaling", "J"), args.J),
                             ("--membrane-sample", ("recording", "membrane_sample"), args.membrane_sample)):
        if value is not None:
            run[keys[0]][keys[1]] = value
            given.append(f"{opt} {value:g}")
    if args.seed is not None:
        run["seed"] = args.seed
        given.append(f"--seed {args.seed}")
    launched = launch_size()
    run.setdefault("network", {})["tasks"] = 1 if launched is None else launched  # memory per rank
    try:
        validate_config(run)
    except ConfigError as exc:
        raise ConfigError(f"{args.config} with {' '.join(given)}: {exc}" if given else f"{args.config}: {exc}") from None
    return cfg


def _hybrid_options(args, cfg):
    """The hybrid-scheme options, checked (None for a ground-truth run)."""
    if not (args.replay or args.volleys):
        for opt, val in (("--membrane", args.membrane), ("--g-eff", args.g_eff), ("--network-spikes", args.network_spikes)):
            if val:
                raise ValueError(f"{opt}: only with --replay or --volleys (the hybrid scheme)")
        return None
    if args.replay and args.volleys:
        raise ValueError("--replay, --volleys: give one (a reconstruction or a hybrid-kernel run)")
    if args.biophysics == "active":
        raise ValueError("--biophysics: the hybrid scheme needs a linearised form (frozen, quasi_linear or passive)")
    if not args.membrane:
        raise ValueError("--membrane: required by the hybrid scheme (the ground truth's membrane.nc: V_rest, rates)")
    for opt, val in (("--population-sizes", args.population_sizes), ("--seed", args.seed), ("--J", args.J),
                     ("--no-lump", args.no_lump), ("--transient", args.transient)):
        if val:
            raise ValueError(f"{opt}: not with the hybrid scheme (the network is the ground-truth run's)")
    spikes = args.replay or args.network_spikes
    if not spikes:
        raise ValueError("--network-spikes: required with --volleys (the ground-truth run whose network is rebuilt)")
    if args.volleys:
        bad = [p for p in args.volleys if p not in cfg["populations"]]
        if bad:
            raise ValueError(f"--volleys: population(s) {bad} not in {args.config} ({', '.join(cfg['populations'])})")
    # the run's times by the one rule (a reconstruction's: --tstop or the ground truth's, after its transient)
    attrs = {} if args.volleys else read_dataset(args.replay, kind="spikes").attrs
    replay_times(cfg, attrs, volleys=args.volleys, tstop=args.tstop,
                 names={"tstop": "--tstop", "volleys": "--volleys", "spikes": args.replay})
    kernel_inputs(cfg, args.membrane, "scalar")  # V_rest and rates the run will use: read and checked now
    return {"spikes": spikes}


def _main(argv):
    args = build_parser().parse_args(argv)
    cfg = checked_config(args)  # every rank checks the same input before MPI starts
    hybrid = _hybrid_options(args, cfg)
    inputs = [args.config] + [f for f in (args.replay, args.membrane, args.network_spikes) if f]
    output_folder(args.outdir, inputs=inputs)
    for name in (("signals.nc",) if hybrid else OUTPUT_FILES):
        check_output(os.path.join(args.outdir, name), inputs=inputs)
    pc = start_mpi()
    rank = int(pc.id())
    logpath = args.log if rank == 0 else None
    level = logging.INFO if rank == 0 else logging.WARNING
    with log_to(logpath, level=level) as logger:
        extra = from_config(cfg).extra_dirs  # the config's mechanisms.extra_dirs
        load(build_dir=args.mechanisms, extra_dirs=extra or None)
        if args.J is not None:
            cfg["weight_scaling"]["J"] = float(args.J)
        if hybrid:
            paths, timings = run_replay(cfg, args.outdir, hybrid["spikes"], args.membrane, form=args.biophysics,
                                        g_eff=args.g_eff, volleys=args.volleys, tstop=args.tstop, pc=pc,
                                        membrane_sample=args.membrane_sample,
                                        extrinsic_drive=args.extrinsic_drive)
        else:
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
    """Entry point: ``[mpiexec -n N] python -m lfpk network --config C --outdir D [options]``
    (also ``lfpk network ...``), inside the CLI's error boundary (:func:`lfpk.entry.cli.boundary.run_command`):
    bad input ends in one line and exit status 2."""
    return run_command("lfpk network", _main, sys.argv[1:] if argv is None else list(argv))


def add_network(sub):
    """Add ``network`` to the ``lfpk`` subparsers ``sub``: a placeholder for ``lfpk --help`` (the
    command line :func:`lfpk.entry.cli.main.main` hands ``lfpk network ...`` to :func:`main`)."""
    p = sub.add_parser(
        "network", add_help=False,
        help="simulate the ground-truth network (start under mpiexec for MPI); "
        "`lfpk network --help` lists its options",
    )
    p.add_argument("args", nargs=argparse.REMAINDER)
    return p
