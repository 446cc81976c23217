"""Signals on the command line: ``lfpk predict`` (signals from spikes and kernels) and ``lfpk compare``
(a prediction against the ground truth)."""

from __future__ import annotations

import sys
import warnings

from lfpk.api.prediction import predict_files
from lfpk.engines.compare import PSD_SEGMENT, compare_files, format_table
from lfpk.entry.cli.boundary import name_values


def _cmd_predict(args):
    signals = None
    if args.signals:
        signals = [s.strip() for s in args.signals.split(",") if s.strip()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = predict_files(
            args.spikes, args.kernels, args.output, populations=args.populations, tstop=args.tstop, dt=args.dt,
            duplicates="keep" if args.keep_duplicate_spikes else "error", time_unit=args.time_unit,
            nest_resolution=args.nest_resolution, unit_offsets=name_values(args.unit_offset, int, "--unit-offset", "POP=VALUE"),
            allow_silent=args.allow_silent or False, signals=signals, contributions=args.contributions,
            decimate=args.decimate, dtype="float32" if args.float32 else "float64", compress=args.compress,
            kernel_config=args.kernel_config, t0=args.t0, progress=args.progress)
    for line in res.report:
        print(line)
    for text in [*res.warnings, *(str(w.message) for w in caught if str(w.message) not in res.warnings)]:
        print(f"lfpk predict: warning: {text}", file=sys.stderr)
    print(f"prediction: {args.output} ({res.attrs['n_spikes']} spikes, {res.n_time} samples of "
          f"{res.attrs['dt']:g} ms, signals {res.attrs['signals']})")


def add_predict(sub):
    """Add ``predict`` to the ``lfpk`` subparsers ``sub``."""
    p = sub.add_parser(
        "predict",
        help="predict LFP/CSD/CDM/EEG/MEG from population spike counts and gathered kernels",
        description="Bin spikes per population (bins [t0 + k dt, t0 + (k+1) dt), time t0 + k dt, "
        "k = 0..(tstop - t0)/dt; t0 = 0 unless --t0) "
        "and convolve causally with every kernel H_YX (lag 0 at the spike's bin). Writes, for every "
        "signal the kernels carry, the total and per-postsynaptic-population prediction "
        "(source, <channel>, time) and the per-connection contributions (post, pre, <channel>, time). "
        "Streams: spikes are read and binned in chunks and the convolution runs block by block "
        "(overlap-save), written block by block, so memory does not grow with the recording (besides 4 bytes "
        "per population and bin). Every spike is validated first (empty input, a presynaptic population "
        "without spikes, seconds read as ms and duplicates are refused); on any error nothing is written "
        "(exit status 2). Prints per population the spikes, id range, units and mean rate, and warns when the "
        "kernels' g_eff rates differ from the measured rates by more than 10 percent. On a terminal, progress lines "
        "(stage, fraction done, seconds elapsed) go to stderr (--quiet / --progress).",
    )
    p.add_argument("--spikes", required=True, action="append", metavar="[POP=]PATH",
                   help="spike file, glob or folder (repeatable; several files are one recording, e.g. NEST's "
                   "<label>-<recorder>-<thread>.dat): the network's spikes.nc, or text/CSV/.gz as NEST and Brian2 "
                   "write them (header 'sender time_ms', 'node_id', 'time_step time_offset', 'i t'; '#' comments "
                   "and repeated headers skipped). POP=PATH: every spike of those files belongs to population POP "
                   "(no unit map needed). A SONATA spikes.h5 (BMTK and other SONATA tools): each node population is "
                   "a population, or --populations maps the node ids of a file with one node population. An NWB "
                   ".nwb units table (spike times in s): each unit's population from the units table's column "
                   "'population', or --populations maps the unit ids. A Neo file .pkl or .nix (PyNN's write_data; "
                   "needs neo): each train's annotation source_population, or --populations maps source_id (a .pkl "
                   "is a pickle: it runs code when loaded). SONATA, NWB and Neo files need --tstop")
    p.add_argument("--populations", default=None,
                   help="unit->population map: lines 'unit,population' and/or id ranges 'E: 1-8192' (or YAML)")
    p.add_argument("--unit-offset", action="append", metavar="POP=N",
                   help="add N to the unit ids of the files labelled POP= (Brian2 subgroup monitors count from 0)")
    p.add_argument("--tstop", type=float, default=None,
                   help="stop time (ms): defines the time axis t0..tstop (tstop - t0 a whole number of steps of dt) "
                   "and bounds spike times; required for text, SONATA and NWB spikes, overrides the tstop "
                   "attribute of spikes.nc")
    p.add_argument("--t0", type=float, default=0.0, metavar="MS",
                   help="start of the time axis (ms, default 0): spikes recorded from t0 (a NEST recorder's start, "
                   "a file with an offset); bins [t0 + k dt, t0 + (k+1) dt), the output's time starts at t0; a spike "
                   "before t0 is refused")
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
    p.add_argument("--output", required=True,
                   help="prediction file: a netCDF name ending in .nc (also .nc4, .netcdf), written atomically")
    p.add_argument("--keep-duplicate-spikes", action="store_true",
                   help="count exact duplicate spikes (same unit and time) instead of rejecting the input")
    p.add_argument("--allow-silent", action="append", metavar="POP",
                   help="population allowed to have no spike (warning instead of error; repeatable), also one "
                   "with no spike file at all (its counts are zero)")
    p.add_argument("--signals", default=None, metavar="LIST",
                   help="comma-separated signals to predict (default every kernel variable with a lag dim: lfp, csd, "
                   "cdm, eeg, meg, or a probe's own name such as pointsourcepotential)")
    p.add_argument("--no-contributions", dest="contributions", action="store_false",
                   help="do not store the per-connection contributions <signal>_contribution")
    p.add_argument("--float32", action="store_true",
                   help="store signals as float32 (computed in float64; relative rounding <= 2^-24)")
    p.add_argument("--decimate", type=int, default=1, metavar="Q",
                   help="keep every Q-th sample after a zero-phase anti-alias FIR (pass band 0.8 of the new Nyquist "
                   "frequency, >= 80 dB stop band); population_count then counts spikes per output bin")
    p.add_argument("--compress", type=int, default=0, choices=range(10), metavar="LEVEL",
                   help="zlib compression level 0 (none, default) .. 9")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--progress", dest="progress", action="store_const", const=True, default=None,
                       help="progress lines on stderr (reading, predicting, writing: fraction done, seconds "
                       "elapsed); default: only when stderr is a terminal")
    shown.add_argument("--quiet", dest="progress", action="store_const", const=False,
                       help="no progress lines, also on a terminal")
    p.set_defaults(func=_cmd_predict, inputs=("spikes", "populations", "kernels", "kernel_config"),
                   outputs=("output",))
    return p


def _cmd_compare(args):
    _, table = compare_files(args.ground_truth, args.prediction, args.output, summary=args.summary,
                             transient=args.transient, approximation=args.label, psd_segment=args.psd_segment)
    print(format_table(table))
    print(f"comparison: {args.output}" + (f", summary: {args.summary}" if args.summary else ""))


def add_compare(sub):
    """Add ``compare`` to the ``lfpk`` subparsers ``sub``."""
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
    return p
