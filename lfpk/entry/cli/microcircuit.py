"""``lfpk microcircuit simulate | from-nest | validate``: the Potjans & Diesmann (2014) microcircuit on the command line."""

from __future__ import annotations

import logging

from lfpk.api.config import load_config
from lfpk.base.logs import log_to
from lfpk.entry.cli.boundary import Parser, start_mpi
from lfpk.study.microcircuit.stages import nest_example_files, simulate_files
from lfpk.study.microcircuit.validation import prepare, validate


def _config(path):
    cfg = load_config(path)
    if not cfg.get("microcircuit"):
        raise ValueError(f"{path}: no 'microcircuit' section; expected the microcircuit's point-neuron network "
                         "(see config/microcircuit_laptop.yaml)")
    return cfg


def _simulate(args):
    cfg = _config(args.config)
    try:
        with log_to(None):
            out = simulate_files(cfg, args.output, rates=args.rates, tstop=args.tstop, chunk=args.chunk,
                                 names={k: f"--{k}" for k in ("tstop", "chunk") if getattr(args, k) is not None
                                        or k == "chunk"},
                                 kernels=args.kernels, online=args.online)
    except ImportError as exc:
        raise ValueError(f"{exc}; the microcircuit needs NEST: pip install 'lfpk[pointnet]'") from None
    r = out["rates"]
    rates = ", ".join(f"{p} {v:.3f}" for p, v in zip(r["population"].values, r["rate"].values))
    print(f"spikes: {args.output} ({out['n_spikes']} spikes; rates after the transient {rates} /s; built in "
          f"{out['build_time']:.1f} s, simulated in {out['simulate_time']:.1f} s)"
          + (f"; rates: {args.rates}" if args.rates else "") + (f"; online prediction: {args.online}" if args.online
                                                                  else ""))


def _from_nest(args):
    ds = nest_example_files(args.data, args.output, tstop=args.tstop, transient=args.transient, dt=args.dt)
    print(f"spikes: {args.output} ({ds.sizes['spike']} spikes of {ds.sizes['unit']} neurons from {args.data})")


def _validate(args):
    """``[mpiexec -n N] python -m lfpk microcircuit validate ...``: every rank checks the same input
    before MPI starts (rank 0 reports bad input in one line), then starts MPI for NEURON
    (:func:`lfpk.base.mpi.init_parallel`: mpi4py, then ``h.nrnmpi_init()``, before the
    mechanisms are loaded); the replay runs on every rank, the rest on rank 0, which alone logs
    (``--log``) and prints."""
    cfg = _config(args.config)
    prepare(cfg, args.spikes, args.outdir, args.tstop, args.transient)
    pc = start_mpi()
    rank = int(pc.id())
    with log_to(args.log if rank == 0 else None, level=logging.INFO if rank == 0 else logging.WARNING):
        out = validate(cfg, args.spikes, args.outdir, tstop=args.tstop, transient=args.transient, pc=pc)
    # no barrier: the other ranks end once the replay is summed onto rank 0 (a barrier would keep
    # them polling a core each while rank 0 computes the kernels and the figures)
    pc.done()
    if out is None:
        return
    s = out["summary"]
    total = s[(s["source"] == "total") & (s["band"] == "raw")]
    rows = "; ".join(f"{r.signal} R^2 {r.r2_median:.3f} r_STD {r.r_std_median:.3f}" for r in total.itertuples())
    run = out["timings"]["replay_run"]
    print(f"validation: {args.outdir} (replay vs kernels, total, medians over channels: {rows}; figures traces.png, "
          f"metrics.png, profiles.png; replay of {run['n_cells']} cells on {run['n_ranks']} rank(s) in "
          f"{out['timings']['replay']:.1f} s)")


def add_microcircuit(sub):
    """Add ``microcircuit`` with its subcommands to the ``lfpk`` subparsers ``sub``."""
    p = sub.add_parser(
        "microcircuit", help="the Potjans & Diesmann (2014) cortical microcircuit in NEST (spikes for lfpk predict)",
        description="The point-neuron cortical microcircuit of the config's microcircuit section (NEST's "
        "Potjans_2014 example; docs/microcircuit.md): simulate it, or convert a run of NEST's own example. "
        "Needs NEST (pip install 'lfpk[pointnet]').")
    psub = p.add_subparsers(dest="microcircuit_command", required=True, metavar="SUBCOMMAND", parser_class=Parser)
    q = psub.add_parser("simulate", help="simulate the microcircuit; write spikes.nc and rates.nc",
                        description="Build the network at microcircuit.scale / indegree_scale with NEST's weight "
                        "and DC compensation, simulate microcircuit.tstop (or --tstop) ms and write every spike "
                        "(spikes.nc, readable by lfpk predict) and the rates and ISI CVs after the transient.")
    q.add_argument("--config", default="config/microcircuit_laptop.yaml", help="configuration file (YAML)")
    q.add_argument("--output", required=True, help="spike file (.nc)")
    q.add_argument("--rates", default=None, help="rates file (.nc): rate, rate SD, ISI CV per population")
    q.add_argument("--tstop", type=float, default=None, help="simulated time (ms), default microcircuit.tstop")
    q.add_argument("--chunk", type=float, default=None,
                   help="ms per nest.Simulate call (default one call; needed with --online, e.g. 100)")
    q.add_argument("--kernels", default=None,
                   help="kernels of the config (lfpk kernel --config ...): predict the signals online as NEST runs")
    q.add_argument("--online", default=None, help="online prediction file (.nc), with --kernels and --chunk")
    q.set_defaults(func=_simulate, inputs=("config", "kernels"), outputs=("output", "rates", "online"))
    q = psub.add_parser("from-nest", help="spikes of a run of NEST's own Potjans_2014 example as spikes.nc",
                        description="Read the example's data_path (population_nodeids.dat and the ASCII "
                        "spike_recorder-*.dat files) into spikes.nc, each spike assigned to its population by "
                        "the sender's node id.")
    q.add_argument("--data", required=True, help="the example's data_path folder")
    q.add_argument("--output", required=True, help="spike file (.nc)")
    q.add_argument("--tstop", type=float, default=1500.0, help="simulated time (ms; the example: 1500)")
    q.add_argument("--transient", type=float, default=500.0, help="time to discard (ms; the example's t_presim 500)")
    q.add_argument("--dt", type=float, default=0.1, help="NEST resolution (ms; the example: 0.1)")
    q.set_defaults(func=_from_nest, inputs=("data",), outputs=("output",))
    q = psub.add_parser("validate", help="replay the spikes into the multicompartment cells; compare with the kernels",
                        description="The hybrid scheme for the microcircuit (docs/microcircuit.md): the point "
                        "network's spikes replayed into the config's multicompartment network (cell types, layer "
                        "tables, current synapses, passive cells) against the kernel prediction from the same "
                        "spikes; writes signals.nc, kernels.nc, prediction.nc, comparison.nc/.csv, channels.csv, "
                        "traces.png, metrics.png and profiles.png into --outdir. Start it under mpiexec (or srun) for MPI: the "
                        "replay's cells are distributed over the ranks, its signals summed exactly onto rank 0 "
                        "(the same outputs for any rank count), the rest runs on rank 0. At scale 0.1 the replay "
                        "needs about 10 GB in all and about 1,000 s per simulated second on 2 ranks "
                        "(docs/microcircuit.md).")
    q.add_argument("--config", default="config/microcircuit_laptop.yaml", help="configuration file (YAML)")
    q.add_argument("--spikes", required=True, help="the point network's spikes.nc (lfpk microcircuit simulate)")
    q.add_argument("--outdir", required=True, help="folder of the outputs")
    q.add_argument("--tstop", type=float, default=None, help="replayed time (ms), default the spike file's")
    q.add_argument("--transient", type=float, default=None, help="ms left out of the comparison, default the file's")
    q.add_argument("--log", default=None, help="log file of rank 0 (default: stderr)")
    q.set_defaults(func=_validate, inputs=("config", "spikes"), outputs=("log",))
    return p
