"""``lfpk plot``: a quick-look figure of a prediction or ground-truth ``signals.nc`` file
(:mod:`lfpk.figures.prediction`)."""

from __future__ import annotations

from pathlib import Path

from lfpk.base.files import check_output
from lfpk.figures.prediction import plot_prediction, read_signals

#: figure formats (by the output's suffix)
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def figure_path(file, output):
    """The figure's path: ``output``, or ``file`` with the suffix ``.png``; refused unless its
    suffix is a figure format (:data:`FIGURE_SUFFIXES`)."""
    path = Path(output) if output is not None else Path(file).with_suffix(".png")
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise ValueError(f"--output {path}: expected a figure name ending in {', '.join(FIGURE_SUFFIXES)} "
                         f"(got {path.suffix or 'no suffix'})")
    return path


def _cmd_plot(args):
    path = figure_path(args.file, args.output)
    check_output(path, inputs=[args.file])  # also the default name, before the file is read
    ds = read_signals(args.file)
    plot_prediction(ds, [path], window=args.window, where=str(args.file))
    print(f"figure: {path}")


def add_plot(sub):
    """Add ``plot`` to the ``lfpk`` subparsers ``sub``."""
    p = sub.add_parser(
        "plot",
        help="quick-look figure of a prediction (lfpk predict) or ground-truth signals.nc",
        description="Draw, over a time window, the LFP as an image (depth x time) and as traces across depth "
        "(mean removed, scale bar), the CSD image, the current dipole moment (total components; z of each "
        "population, E blue, I red) and the EEG/MEG (total and each population), each that the file has. "
        "A file of another kind, one without any of these signals, or a window outside the data is refused "
        "in one line (exit status 2).",
    )
    p.add_argument("file", metavar="PREDICTION.nc", help="prediction file (lfpk predict) or signals.nc (lfpk network)")
    p.add_argument("--output", default=None, metavar="FIGURE",
                   help="figure file (.png, .pdf or .svg; default the input's name with .png), written atomically")
    p.add_argument("--window", nargs=2, type=float, default=None, metavar=("START", "STOP"),
                   help="time window (ms), inside the data; default 1000 ms from the file's transient (or its "
                   "first sample)")
    p.set_defaults(func=_cmd_plot, inputs=("file",), outputs=("output",))
    return p
