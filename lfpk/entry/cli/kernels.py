"""Kernels on the command line: ``lfpk kernel`` (spike-to-signal kernels H_YX of a configuration's
connections) and ``lfpk kernel-gather`` (per-connection files into one)."""

from __future__ import annotations

import argparse

from lfpk.api.config import apply_overrides, load_config
from lfpk.base.files import check_output, output_folder
from lfpk.entry.cli.boundary import name_values
from lfpk.study.stages import gather_kernel_files, write_kernel_set, write_kernels


def _overrides(args) -> dict:
    """The config values the options override: option text -> (key path, value)."""
    out = {}
    if args.V_rest is not None:
        out[f"--V-rest {args.V_rest:g}"] = ("kernel.V_rest", args.V_rest)
    for name, value in name_values(args.rate, float, "--rate", "NAME=VALUE (1/s)").items():
        out[f"--rate {name}={value:g}"] = (f"kernel.rates.{name}", value)
    for opt, key in (("tau", "tau"), ("form", "form"), ("biophysics", "biophysics"), ("g_eff", "g_eff")):
        value = getattr(args, opt)
        if value is not None:
            text = f"--{opt.replace('_', '-')} {value:g}" if isinstance(value, float) else (
                f"--{'' if value else 'no-'}g-eff" if isinstance(value, bool) else f"--{opt} {value}")
            out[text] = (f"kernel.{key}", value)
    return out


def _cmd_kernel(args):
    # the options are checked by the rules of what this command computes (lfpk.api.config.COMMAND_SCOPES)
    cfg = apply_overrides(load_config(args.config), _overrides(args), "kernel", source=args.config)
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


def add_kernel(sub):
    """Add ``kernel`` to the ``lfpk`` subparsers ``sub``."""
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
    return p


def _cmd_kernel_gather(args):
    gather_kernel_files(args.inputs, args.output)
    print(f"gathered {len(args.inputs)} kernels: {args.output}")


def add_kernel_gather(sub):
    """Add ``kernel-gather`` to the ``lfpk`` subparsers ``sub``."""
    p = sub.add_parser("kernel-gather", help="gather per-connection kernel files into one (dims post, pre)")
    p.add_argument("inputs", nargs="+", help="per-connection kernel files")
    p.add_argument("--output", required=True, help="gathered file (.nc)")
    p.set_defaults(func=_cmd_kernel_gather, inputs=("inputs",), outputs=("output",))
    return p
