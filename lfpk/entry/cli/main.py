"""Command-line interface: ``lfpk <command> ...`` (also ``python -m lfpk``).

Every command runs inside one error boundary (:func:`run_command`, also used by
``python -m lfpk network``): bad input (options, configuration keys, input files) ends in one line
``lfpk <command>: error: <what and where, and what was expected>`` on stderr and exit status 2,
never a traceback; Ctrl-C and SIGTERM end in ``lfpk <command>: interrupted (SIGINT)`` and status
130 / 143 with no temporary file left. Every output is written through :mod:`lfpk.base.io`'s guard, which
refuses to overwrite any input of the command. ``LFPK_DEBUG=1`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import os
import sys

from lfpk.base.errors import Stopped


class Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose usage errors are one line (with a pointer to ``--help``), status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


_every_rank = False


def report_from_every_rank():
    """From now on every MPI rank reports its errors (called once MPI has started; before, every
    rank checks the same input and only rank 0 reports, so a bad option prints one line)."""
    global _every_rank
    _every_rank = True


def _launch_rank():
    """MPI rank from the launcher's environment (0 when not under MPI)."""
    for key in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"):
        if key in os.environ:
            try:
                return int(os.environ[key])
            except ValueError:
                return 0
    return 0


def _message(exc) -> str:
    """One-line text of an exception (file name and reason for OS errors)."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__


def user_errors():
    """Exception classes that mean bad input (reported in one line, status 2)."""
    from lfpk.api.config import ConfigError
    from lfpk.base.io import InputError, OutputError
    from lfpk.base.mechanisms import MechanismsError

    return (ConfigError, InputError, OutputError, MechanismsError, ValueError, OSError)


def run_command(prog, func, *args, inputs=()):
    """Run ``func(*args)`` inside the error boundary of command ``prog``; return the exit status.

    Bad input (:func:`user_errors`) prints ``<prog>: error: <message>`` and returns 2; SIGINT /
    SIGTERM print ``<prog>: interrupted (<signal>)`` and return 128 + signal number; MemoryError
    returns 2 with the hint to reduce sizes; anything else is an internal error (status 1, the
    exception in one line; ``LFPK_DEBUG=1`` re-raises it with its traceback). ``inputs`` are
    protected from being overwritten by any output of the command (see :mod:`lfpk.base.io`).
    Under MPI only rank 0 prints.
    """
    import signal

    from lfpk.base.io import Interrupted, command_scope, terminate_as_interrupt

    debug = os.environ.get("LFPK_DEBUG", "") not in ("", "0")
    def report(text):
        rank = _launch_rank()
        if rank == 0:
            print(f"{prog}: {text}", file=sys.stderr)
        elif _every_rank:
            print(f"{prog} (rank {rank}): {text}", file=sys.stderr)

    try:
        with terminate_as_interrupt(), command_scope(inputs):
            status = func(*args)
        return int(status or 0)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        report(f"interrupted ({signal.Signals(signum).name}); outputs being written were removed")
        return 128 + int(signum)
    except MemoryError:
        if debug:
            raise
        report("error: out of memory; reduce the sizes (population sizes, tstop / dt, kernel.tau)")
        return 2
    except SystemExit:
        raise
    except Stopped as exc:
        report(f"stopped: {exc}")
        return 1
    except user_errors() as exc:
        if debug:
            raise
        report(f"error: {_message(exc)}")
        return 2
    except Exception as exc:
        if debug:
            raise
        report(f"internal error: {type(exc).__name__}: {exc} (this is a bug in lfpk: please report it "
               "with the command; LFPK_DEBUG=1 shows the traceback)")
        return 1


def _cmd_validate_config(args):
    from lfpk.api.config import load_config

    from lfpk.study.resources import estimate_memory, format_bytes
    from lfpk.entry.workflow import ground_truth_runs

    for path in args.config:
        cfg = load_config(path)
        memory = ", ".join(f"{stage} {format_bytes(need)}" + (" per rank" if stage == "network" else "")
                           for stage, (need, _, _) in estimate_memory(cfg).items())
        print(f"{path}: valid (study {cfg['study']!r}, populations {', '.join(cfg['populations'])}, "
              f"runs {', '.join(ground_truth_runs(cfg))}; estimated peak memory: {memory})")


def _cmd_mechanisms(args):
    from lfpk.base.mechanisms import compile_mechanisms

    sentinel = compile_mechanisms(args.mod_dir, args.build_dir, force=args.force, extra_dirs=args.extra_dir)
    print(f"mechanisms up to date: {sentinel}")


def _cmd_morphology(args):
    from lfpk.api.config import load_config
    from lfpk.base.io import output_folder
    from lfpk.study.stages import morphology_figure, morphology_parameters, population_morphology, write_morphology

    cfg = load_config(args.config)
    pops = args.population or list(cfg["populations"])
    for name in pops:
        if name not in cfg["populations"]:
            raise ValueError(f"--population {name!r} is not in {args.config} "
                             f"(populations: {', '.join(cfg['populations'])})")
    output_folder(args.outdir)
    out = []
    for name in pops:
        m = population_morphology(name, morphology_parameters(cfg, name))
        hoc, nc = f"{args.outdir}/{name}.hoc", f"{args.outdir}/{name}.nc"
        write_morphology(m, hoc, nc)
        out.append(nc)
        print(f"{name}: {hoc}, {nc}")
    if args.figure:
        morphology_figure(out, [args.figure])
        print(f"figure: {args.figure}")


def _cmd_fetch(args):
    from lfpk.api.config import load_config
    from lfpk.model.morphology import fetch

    cfg = load_config(args.config)
    for name in args.population or []:
        if name not in cfg["populations"]:
            raise ValueError(f"--population {name!r} is not in {args.config} "
                             f"(populations: {', '.join(cfg['populations'])})")
    srcs = fetch.sources(cfg, args.population)
    if not srcs:
        print(f"{args.config}: no population names a morphology url (nothing to fetch)")
        return
    fetch.fetch_all(cfg, args.population, timeout=args.timeout)
    for src in srcs:
        print(f"{src.population}: {src.file} (sha256 {src.sha256} verified)")


def _cmd_cell_check(args):
    from lfpk.study.cellcheck import run, summary
    from lfpk.api.config import load_config

    cfg = load_config(args.config)
    if args.population not in cfg["populations"]:
        raise ValueError(f"--population {args.population!r} is not in {args.config} "
                         f"(populations: {', '.join(cfg['populations'])})")
    ds = run(cfg, args.population, args.output, [args.figure] if args.figure else [])
    print(summary(ds))


def _parse_rates(items):
    rates = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            rates[name] = float(value)
        except ValueError:
            raise ValueError(f"--rate expects NAME=VALUE (1/s), got {item!r}") from None
    return rates


def _cmd_kernel(args):
    import copy

    from lfpk.api.config import load_config, validate_config
    from lfpk.base.io import check_output, output_folder
    from lfpk.study.stages import write_kernel_set, write_kernels

    cfg = copy.deepcopy(load_config(args.config))
    if args.V_rest is not None:
        cfg["kernel"]["V_rest"] = args.V_rest
    cfg["kernel"]["rates"].update(_parse_rates(args.rate))
    for opt, key in (("tau", "tau"), ("form", "form"), ("biophysics", "biophysics"), ("g_eff", "g_eff")):
        if getattr(args, opt) is not None:
            cfg["kernel"][key] = getattr(args, opt)
    validate_config(cfg)
    pops = list(cfg["populations"])
    pairs = []
    for post in args.post or pops:
        for pre in args.pre or pops:
            if not any(c["post"] == post and c["pre"] == pre for c in cfg["connections"]):
                if args.post and args.pre:
                    raise ValueError(
                        f"--post {post} --pre {pre}: connection {pre} -> {post} is not in {args.config}"
                    )
                continue
            pairs.append((post, pre))
    if not pairs:
        for option, names in (("--post", args.post), ("--pre", args.pre)):
            for name in names or []:
                if name not in pops:
                    raise ValueError(f"{option} {name}: not a population of {args.config} "
                                     f"(populations: {', '.join(pops)})")
        raise ValueError(f"--post {','.join(args.post or pops)} --pre {','.join(args.pre or pops)}: no such "
                         f"connection in {args.config}")
    if args.output and len(pairs) != 1:
        raise ValueError("--output names one file: give exactly one --post and one --pre (or use --outdir)")
    options = {k: v for k, v in (("biophysics", args.biophysics), ("g_eff", args.g_eff),
                                 ("form", args.form), ("tau", args.tau)) if v is not None}
    if args.gathered:
        timings = write_kernel_set(cfg, args.gathered, membrane=args.membrane, v_rest_mode=args.v_rest_mode,
                                   pairs=pairs, **options)
        for (post, pre), seconds in timings.items():
            print(f"H_{post}{pre} ({pre} -> {post}): {seconds * 1e3:.0f} ms")
        print(f"{len(timings)} kernels gathered: {args.gathered}")
        return
    if args.outdir:
        output_folder(args.outdir)
    outputs = [args.output] if args.output else [f"{args.outdir}/{post}_{pre}.nc" for post, pre in pairs]
    for out in outputs:
        check_output(out)
    timings = write_kernels(cfg, pairs, outputs, membrane=args.membrane, v_rest_mode=args.v_rest_mode,
                            **options)
    for (post, pre), out in zip(pairs, outputs):
        print(f"H_{post}{pre} ({pre} -> {post}): {out} ({timings[(post, pre)] * 1e3:.0f} ms)")


def _cmd_kernel_gather(args):
    from lfpk.study.stages import gather_kernel_files

    gather_kernel_files(args.inputs, args.output)
    print(f"gathered {len(args.inputs)} kernels: {args.output}")


def _pop_values(items, what, convert=int):
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            out[name] = convert(value)
        except ValueError:
            raise ValueError(f"{what} expects POP=VALUE, got {item!r}") from None
    return out


def _cmd_predict(args):
    import warnings

    from lfpk.api.prediction import predict_files

    signals = None
    if args.signals:
        signals = [s.strip() for s in args.signals.split(",") if s.strip()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = predict_files(
            args.spikes, args.kernels, args.output, populations=args.populations, tstop=args.tstop, dt=args.dt,
            duplicates="keep" if args.keep_duplicate_spikes else "error", time_unit=args.time_unit,
            nest_resolution=args.nest_resolution, unit_offsets=_pop_values(args.unit_offset, "--unit-offset"),
            allow_silent=args.allow_silent or False, signals=signals, contributions=args.contributions,
            decimate=args.decimate, dtype="float32" if args.float32 else "float64", compress=args.compress,
            kernel_config=args.kernel_config)
    for line in res.report:
        print(line)
    for text in [*res.warnings, *(str(w.message) for w in caught if str(w.message) not in res.warnings)]:
        print(f"lfpk predict: warning: {text}", file=sys.stderr)
    print(f"prediction: {args.output} ({res.attrs['n_spikes']} spikes, {res.n_time} samples of "
          f"{res.attrs['dt']:g} ms, signals {res.attrs['signals']})")


def _cmd_compare(args):
    from lfpk.engines.compare import compare_files, format_table

    _, table = compare_files(args.ground_truth, args.prediction, args.output, summary=args.summary,
                             transient=args.transient, approximation=args.label, psd_segment=args.psd_segment)
    print(format_table(table))
    print(f"comparison: {args.output}" + (f", summary: {args.summary}" if args.summary else ""))


def _run(args):
    """Check the command's outputs against its inputs and each other, then run it."""
    from lfpk.base.io import check_output, same_file

    inputs = []
    for name in args.inputs:
        value = getattr(args, name, None)
        inputs += value if isinstance(value, list) else [] if value is None else [value]
    outputs = [(name, getattr(args, name, None)) for name in args.outputs]
    outputs = [(name, value) for name, value in outputs if value is not None]
    for i, (name, value) in enumerate(outputs):
        check_output(value, inputs=inputs)
        for other, v2 in outputs[:i]:
            if same_file(value, v2):
                raise ValueError(f"--{name.replace('_', '-')} {value} is the same file as --{other.replace('_', '-')} "
                                 f"{v2}; expected two different files")
    return args.func(args)


def build_parser() -> argparse.ArgumentParser:
    from lfpk.engines.compare import PSD_SEGMENT

    parser = Parser(
        prog="lfpk",
        description="Spike-to-signal kernels and ground-truth networks (Hagen et al. 2022 framework).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "validate-config", help="check configuration files (extends resolved) as the workflow would run them",
        description="Resolve each file's `extends:` chain and validate the result exactly as the workflow "
        "does with --configfile FILE: schema, finite numbers, names, distributions, network.runs, and memory "
        "estimates against LFPK_MEMORY_LIMIT or this machine's memory.")
    p.add_argument("config", nargs="+", help="YAML configuration file(s)")
    p.set_defaults(func=_cmd_validate_config, inputs=("config",), outputs=())

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

    p = sub.add_parser(
        "fetch", help="download the morphology files a configuration names by url (pinned sha256)",
        description="Download every populations.<name>.morphology.url whose file is missing to its "
        "morphology.file, verify its sha256 and only then store it; an existing file is verified, never "
        "replaced. Without network access, the message says what to download and where to put it.")
    p.add_argument("--config", default="config/config.yaml", help="configuration file")
    p.add_argument("--population", action="append", help="population name (repeatable; default all)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per download attempt (default 60)")
    p.set_defaults(func=_cmd_fetch, inputs=("config",), outputs=())

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

    p = sub.add_parser("morphology", help="write .hoc morphologies and segment tables (.nc)")
    p.add_argument("--config", default="config/config.yaml", help="configuration file")
    p.add_argument("--population", action="append", help="population name (repeatable; default all)")
    p.add_argument("--outdir", required=True, help="output folder (created if missing)")
    p.add_argument("--figure", default=None, help="also draw the morphologies to this file (.png/.pdf)")
    p.set_defaults(func=_cmd_morphology, inputs=("config",), outputs=("figure",))

    p = sub.add_parser(
        "kernel",
        help="compute spike-to-signal kernels H_YX (one netCDF file per connection, or all gathered)",
        description="Compute kernels H_YX of the linearised framework (Hagen et al. 2022) for "
        "connections pre X -> post Y of a configuration; every probe of the config (LFP, CSD, "
        "current dipole moment, EEG, MEG) and the transmembrane currents are written.",
    )
    p.add_argument("--config", default="config/config.yaml", help="configuration file (YAML)")
    p.add_argument("--post", action="append", help="postsynaptic population Y (repeatable; default all)")
    p.add_argument("--pre", action="append", help="presynaptic population X (repeatable; default all)")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--output", help="output file for a single connection (.nc)")
    out.add_argument("--outdir", help="output folder (created if missing): one <post>_<pre>.nc per connection")
    out.add_argument("--gathered", metavar="FILE",
                     help="one file with the kernels of every selected connection (dims post, pre), as "
                     "kernel-gather would write it from the per-connection files (the workflow's kernels.nc)")
    p.add_argument("--membrane", default=None,
                   help="ground-truth membrane.nc: take V_rest and rates from it instead of the config")
    p.add_argument("--v-rest-mode", choices=["scalar", "segment"], default="scalar",
                   help="with --membrane: median somatic V_rest (scalar) or per-segment medians")
    p.add_argument("--V-rest", dest="V_rest", type=float, default=None,
                   help="linearisation potential (mV), overrides config kernel.V_rest")
    p.add_argument("--rate", action="append", metavar="POP=RATE",
                   help="presynaptic rate (1/s) for g_eff, overrides config kernel.rates (repeatable)")
    p.add_argument("--biophysics", choices=["passive", "frozen", "quasi_linear"], default=None,
                   help="kernel cell biophysics (default: config kernel.biophysics)")
    p.add_argument("--g-eff", dest="g_eff", action=argparse.BooleanOptionalAction, default=None,
                   help="raise the leak by the mean synaptic conductance (default: config kernel.g_eff)")
    p.add_argument("--form", choices=["causal", "fir"], default=None,
                   help="causal: lags [-tau, tau], zero for negative lags; fir: lags (0, tau]")
    p.add_argument("--tau", type=float, default=None, help="kernel half-width (ms), default config kernel.tau")
    p.set_defaults(func=_cmd_kernel, inputs=("config", "membrane"), outputs=("output", "gathered"))

    p = sub.add_parser(
        "network", add_help=False,
        help="simulate the ground-truth network (start under mpiexec for MPI); "
        "`lfpk network --help` lists its options",
    )
    p.add_argument("args", nargs=argparse.REMAINDER)

    p = sub.add_parser("kernel-gather", help="gather per-connection kernel files into one (dims post, pre)")
    p.add_argument("inputs", nargs="+", help="per-connection kernel files")
    p.add_argument("--output", required=True, help="gathered file (.nc)")
    p.set_defaults(func=_cmd_kernel_gather, inputs=("inputs",), outputs=("output",))
    p = sub.add_parser(
        "predict",
        help="predict LFP/CSD/CDM/EEG/MEG from population spike counts and gathered kernels",
        description="Bin spikes per population (bins [k dt, (k+1) dt), time k dt, k = 0..floor(tstop/dt)) "
        "and convolve causally with every kernel H_YX (lag 0 at the spike's bin). Writes, for every "
        "signal the kernels carry, the total and per-postsynaptic-population prediction "
        "(source, <channel>, time) and the per-connection contributions (post, pre, <channel>, time). "
        "Streams: spikes are read and binned in chunks and the convolution runs block by block "
        "(overlap-save), written block by block, so memory does not grow with the recording (besides 4 bytes "
        "per population and bin). Every spike is validated first (empty input, a presynaptic population "
        "without spikes, seconds read as ms and duplicates are refused); on any error nothing is written "
        "(exit status 2). Prints per population the spikes, id range, units and mean rate, and warns when the "
        "kernels' g_eff rates differ from the measured rates by more than 10 percent.",
    )
    p.add_argument("--spikes", required=True, action="append", metavar="[POP=]PATH",
                   help="spike file, glob or folder (repeatable; several files are one recording, e.g. NEST's "
                   "<label>-<recorder>-<thread>.dat): the network's spikes.nc, or text/CSV/.gz as NEST and Brian2 "
                   "write them (header 'sender time_ms', 'node_id', 'time_step time_offset', 'i t'; '#' comments "
                   "and repeated headers skipped). POP=PATH: every spike of those files belongs to population POP "
                   "(no unit map needed)")
    p.add_argument("--populations", default=None,
                   help="unit->population map: lines 'unit,population' and/or id ranges 'E: 1-8192' (or YAML)")
    p.add_argument("--unit-offset", action="append", metavar="POP=N",
                   help="add N to the unit ids of the files labelled POP= (Brian2 subgroup monitors count from 0)")
    p.add_argument("--tstop", type=float, default=None,
                   help="stop time (ms): defines the time axis 0..tstop and bounds spike times; required for "
                   "text spikes, overrides the tstop attribute of spikes.nc")
    p.add_argument("--time-unit", choices=["ms", "s"], default=None,
                   help="unit of spike times whose header states none ('t', 'times', no header); without it such "
                   "times are ms, and refused if they all lie within the first 1%% of tstop (seconds read as ms)")
    p.add_argument("--nest-resolution", type=float, default=None, metavar="MS",
                   help="simulation resolution (ms) for NEST time_in_steps files (time = step * resolution - offset)")
    p.add_argument("--dt", type=float, default=None,
                   help="spike bin width (ms); default and required value: the kernels' dt")
    kern = p.add_mutually_exclusive_group(required=True)
    kern.add_argument("--kernels", help="gathered kernels (kernels.nc from kernel-gather)")
    kern.add_argument("--kernel-config", metavar="CONFIG",
                      help="compute the kernels of this configuration (it must describe the spiking network) at "
                      "the spikes' measured rates, in the same command")
    p.add_argument("--output", required=True, help="prediction file (.nc), written atomically")
    p.add_argument("--keep-duplicate-spikes", action="store_true",
                   help="count exact duplicate spikes (same unit and time) instead of rejecting the input")
    p.add_argument("--allow-silent", action="append", metavar="POP",
                   help="population allowed to have no spike (warning instead of error; repeatable)")
    p.add_argument("--signals", default=None, metavar="LIST",
                   help="comma-separated signals to predict (default all the kernels carry: lfp,csd,cdm,eeg,meg)")
    p.add_argument("--no-contributions", dest="contributions", action="store_false",
                   help="do not store the per-connection contributions <signal>_contribution")
    p.add_argument("--float32", action="store_true",
                   help="store signals as float32 (computed in float64; relative rounding <= 2^-24)")
    p.add_argument("--decimate", type=int, default=1, metavar="Q",
                   help="keep every Q-th sample after a zero-phase anti-alias FIR (pass band 0.8 of the new Nyquist "
                   "frequency, >= 80 dB stop band); population_count then counts spikes per output bin")
    p.add_argument("--compress", type=int, default=0, choices=range(10), metavar="LEVEL",
                   help="zlib compression level 0 (none, default) .. 9")
    p.set_defaults(func=_cmd_predict, inputs=("spikes", "populations", "kernels", "kernel_config"),
                   outputs=("output",))

    p = sub.add_parser(
        "compare",
        help="compare a prediction with the ground truth (R^2, r_STD, PSD, coherence)",
        description="After the transient: per signal (lfp, csd, cdm_z, and eeg/meg when both files have them), "
        "channel and source (total and each population), R^2 (squared Pearson correlation) and r_STD "
        "(std prediction / std ground truth) on the raw signals and on both low-passed by a zero-phase "
        "elliptic filter (order 2, 0.1 dB ripple, 40 dB attenuation, 100 Hz); Welch PSDs and coherence "
        "(segments of --psd-segment ms, 75 %% overlap). "
        "Prints the summary table (channel median and 10/90 %% quantiles).",
    )
    p.add_argument("--ground-truth", required=True, help="ground-truth signals.nc of the network")
    p.add_argument("--prediction", required=True, help="prediction .nc from 'lfpk predict'")
    p.add_argument("--transient", type=float, default=None,
                   help="discard samples before this time (ms); default the ground truth's transient attribute")
    p.add_argument("--output", required=True, help="comparison file (.nc), written atomically")
    p.add_argument("--summary", default=None,
                   help="also write the summary table (CSV: one row per signal x source x band)")
    p.add_argument("--label", default=None,
                   help="approximation label (default from the prediction, e.g. 'frozen+g_eff')")
    p.add_argument("--psd-segment", type=float, default=PSD_SEGMENT,
                   help=f"Welch segment length (ms) for PSD and coherence (default {PSD_SEGMENT:g}: the study's "
                        "2048 samples at 16 kHz; capped at the data length)")
    p.set_defaults(func=_cmd_compare, inputs=("ground_truth", "prediction"), outputs=("output", "summary"))

    from lfpk.entry.cli.pointnet import add_parser as add_pointnet_parser

    add_pointnet_parser(sub)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["network"]:  # its own parser (argparse REMAINDER does not pass leading options)
        from lfpk.entry.cli.network import main as network_main

        return network_main(argv[1:])
    args = build_parser().parse_args(argv)
    return run_command(f"lfpk {args.command}", _run, args)


if __name__ == "__main__":
    raise SystemExit(main())
