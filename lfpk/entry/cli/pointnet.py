"""``lfpk pointnet fit | simulate | rates``: the point-neuron network stages on the command line."""

from __future__ import annotations

from lfpk.api.config import load_config
from lfpk.base.logs import log_to
from lfpk.entry.cli.boundary import Parser
from lfpk.study.pointnet.stages import fit_files, rates_files, simulate_files


def _config(path):
    cfg = load_config(path)
    if "pointnet" not in cfg:
        raise ValueError(f"{path}: no 'pointnet' section; expected the point-neuron network's parameters "
                         "(see config/config.yaml)")
    return cfg


def _nest_guard(func, args):
    """Run ``func(args)``; a missing NEST or pymoo is bad input (one line, status 2)."""
    try:
        return func(args)
    except ImportError as exc:
        raise ValueError(str(exc) if "pip install" in str(exc) else
                         f"{exc}; the point-neuron network needs the pointnet extra: pip install 'lfpk[pointnet]'") from None


def _fit(args):
    cfg = _config(args.config)
    with log_to(None):
        result = fit_files(cfg, args.ground_truth, args.output)
    for f, v in zip(result.params.free, result.params.values()):
        print(f"{f.name:>14s} = {v:10.4f} {f.units}   [{f.lower:g}, {f.upper:g}]")
    pops = result.target.populations
    print("rates (1/s): " + ", ".join(f"{p} ground truth {a:.3f}, LIF {b:.3f} ({(b / a - 1) * 100:+.1f} %)"
                                     for p, a, b in zip(pops, result.target.rates, result.fitted.rates)))
    print(f"fit: {args.output} ({result.evaluations} simulations, {result.wall_time:.1f} s)")


def _simulate(args):
    cfg = _config(args.config)
    with log_to(None):
        out = simulate_files(cfg, args.output, fit=args.fit, kernels=args.kernels, online=args.online,
                             tstop=args.tstop, chunk=args.chunk,
                             names={k: f"--{k}" for k in ("tstop", "chunk") if getattr(args, k) is not None})
    rates = ", ".join(f"{k} {v:.3f}" for k, v in out["rates"].items())
    print(f"spikes: {args.output} ({out['spikes'].sizes['spike']} spikes; rates after the transient {rates} /s; "
          f"{out['wall_time']:.1f} s)" + (f"; online prediction: {args.online}" if args.online else ""))


def _rates(args):
    ds = rates_files(_config(args.config), args.ground_truth, args.spikes, args.output)
    for p in ds["population"].values:
        r = ds.sel(population=p)
        print(f"{p}: ground truth {float(r.rate_ground_truth):.3f} /s, LIF {float(r.rate_lif):.3f} /s "
              f"({float(r.rate_relative_error) * 100:+.1f} %)")
    print(f"rates: {args.output}")


def add_pointnet(sub):
    """Add ``pointnet`` with its subcommands to the ``lfpk`` subparsers ``sub``."""
    p = sub.add_parser(
        "pointnet", help="point-neuron (LIF, NEST) network fitted to the ground truth (Fig 14 of the paper)",
        description="The NEST iaf_psc_exp network of the config's pointnet section: fit it to a ground-truth "
        "run's rates and rate spectra (NSGA-II), simulate it (with predictions while NEST runs), compare rates. "
        "Needs the pointnet extra (pip install 'lfpk[pointnet]': nest-simulator, pymoo).")
    psub = p.add_subparsers(dest="pointnet_command", required=True, metavar="SUBCOMMAND", parser_class=Parser)

    q = psub.add_parser("fit", help="fit the free parameters (those with bounds) to a ground-truth run",
                        description="NSGA-II (pymoo) over the pointnet parameters with bounds; objectives |rate "
                        "difference| and summed |rate-spectrum difference| per population; the Pareto-front "
                        "solution of equal pseudo-weights is the fit. Population, generations, simulated time, "
                        "threads: pointnet.fit and pointnet.threads of the config.")
    q.add_argument("--config", default="config/config.yaml", help="configuration file (YAML)")
    q.add_argument("--ground-truth", required=True, help="ground-truth spikes.nc (lfpk network) of this configuration")
    q.add_argument("--output", required=True, help="fit file (.nc): fitted parameters, Pareto front, history")
    q.set_defaults(func=lambda a: _nest_guard(_fit, a), inputs=("config", "ground_truth"), outputs=("output",))

    q = psub.add_parser("simulate", help="simulate the (fitted) network; with kernels, predict signals while it runs",
                        description="Simulate the LIF network for simulation.tstop (or --tstop) in chunks (nest.Simulate calls) of "
                        "pointnet.online.chunk ms and write its spikes (spikes.nc layout, readable by lfpk predict). "
                        "With --kernels and --online, every chunk's spikes are fed to the streaming predictor, which "
                        "writes LFP, CSD, dipole, EEG, MEG and every connection's contribution as NEST runs.")
    q.add_argument("--config", default="config/config.yaml", help="configuration file (YAML)")
    q.add_argument("--fit", default=None, help="fit.nc of lfpk pointnet fit (default: the configured values)")
    q.add_argument("--output", required=True, help="spike file (.nc)")
    q.add_argument("--kernels", default=None, help="gathered kernels (kernels.nc) for the online prediction")
    q.add_argument("--online", default=None, help="online prediction file (.nc); needs --kernels")
    q.add_argument("--tstop", type=float, default=None, help="simulated time (ms), default simulation.tstop")
    q.add_argument("--chunk", type=float, default=None, help="ms per chunk, default pointnet.online.chunk")
    q.set_defaults(func=lambda a: _nest_guard(_simulate, a), inputs=("config", "fit", "kernels"),
                   outputs=("output", "online"))

    q = psub.add_parser("rates", help="rates and rate spectra of the ground truth and the LIF network")
    q.add_argument("--config", default="config/config.yaml", help="configuration file (YAML)")
    q.add_argument("--ground-truth", required=True, help="ground-truth spikes.nc")
    q.add_argument("--spikes", required=True, help="the LIF network's spikes.nc")
    q.add_argument("--output", required=True, help="rates file (.nc)")
    q.set_defaults(func=_rates, inputs=("config", "ground_truth", "spikes"), outputs=("output",))
    return p
