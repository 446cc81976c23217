"""Per-stage table of a study's job costs, from Snakemake's benchmark files.

Every rule of the workflow writes ``results/<study>/benchmarks/**.tsv`` (Snakemake's
``benchmark:`` directive: wall time ``s``, peak resident memory ``max_rss`` in MB, ``cpu_time``
in s, ``mean_load`` in %). This script groups the files by stage (the folder of the rule, the run
folders ``default``/``J*`` and kernel-variant names dropped) and prints one Markdown row per
stage: jobs, the longest job's wall time, the sum of wall times, the sum of CPU times and the
largest peak memory. The table of docs/cluster.md is made with it::

    python benchmarks/job_table.py results/paper_smoke
    python benchmarks/job_table.py results/paper_smoke --scale network=20 --scale hybrid/reconstruction=20

``--scale STAGE=F`` adds a column with the stage's CPU time multiplied by ``F`` (an extrapolation
factor the caller states, e.g. simulated time 12 s / 0.6 s = 20), so the table and its
extrapolation come from the same numbers.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

#: run folders of a study (the reference run and the J scan's runs)
RUN = re.compile(r"^(default|J\d+(\.\d+)?)$")
#: kernel variants as the workflow names them (biophysics-geff[-V_rest mode])
VARIANT = re.compile(r"_?(frozen|quasi_linear|passive)-(geff|nogeff)(-(scalar|segment))?")


def stage_of(relpath):
    """Stage name of a benchmark file's path relative to the benchmarks folder."""
    parts = [p for p in relpath.parent.parts if not RUN.match(p)]
    stem = VARIANT.sub("", relpath.stem).strip("_")
    if stem and not RUN.match(stem):
        parts.append(stem)
    return "/".join(parts) or relpath.stem


def read_benchmark(path):
    """Last row of a Snakemake benchmark file (one row per repeat) as floats."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if not rows:
        raise ValueError(f"{path}: no benchmark row")
    row = rows[-1]

    def num(key):
        try:
            return float(row[key])
        except (KeyError, TypeError, ValueError):
            return float("nan")

    return {"s": num("s"), "max_rss": num("max_rss"), "cpu_time": num("cpu_time")}


def table(results, scales=None):
    """Rows ``(stage, jobs, max wall s, sum wall s, sum CPU s, peak MB[, scaled CPU s])``."""
    bench = Path(results) / "benchmarks"
    files = sorted(bench.rglob("*.tsv"))
    if not files:
        raise FileNotFoundError(f"{bench}: no benchmark files (*.tsv)")
    stages = {}
    for f in files:
        stages.setdefault(stage_of(f.relative_to(bench)), []).append(read_benchmark(f))
    rows = []
    for name in sorted(stages):
        jobs = stages[name]
        cpu = sum(j["cpu_time"] for j in jobs)
        row = [name, len(jobs), max(j["s"] for j in jobs), sum(j["s"] for j in jobs), cpu,
               max(j["max_rss"] for j in jobs)]
        if scales is not None:
            row.append(cpu * scales.get(name, 1.0))
        rows.append(row)
    return rows


def markdown(rows, scaled=False):
    head = ["stage", "jobs", "longest job (s)", "wall, all jobs (s)", "CPU, all jobs (s)",
            "peak memory (MB)"] + (["CPU extrapolated (s)"] if scaled else [])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    total = [0.0, 0.0, 0.0]
    for r in rows:
        cells = [r[0], str(r[1]), f"{r[2]:.1f}", f"{r[3]:.1f}", f"{r[4]:.1f}", f"{r[5]:.0f}"]
        if scaled:
            cells.append(f"{r[6]:.0f}")
            total[2] += r[6]
        total[0] += r[3]
        total[1] += r[4]
        out.append("| " + " | ".join(cells) + " |")
    foot = ["all", str(sum(r[1] for r in rows)), "", f"{total[0]:.0f}", f"{total[1]:.0f}", ""]
    if scaled:
        foot.append(f"{total[2]:.0f}")
    out.append("| " + " | ".join(foot) + " |")
    return "\n".join(out)


def _scale(text):
    stage, sep, factor = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return stage, float(factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scale {text!r}: expected STAGE=FACTOR, e.g. network=20")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", help="a study's results folder, e.g. results/paper_smoke")
    ap.add_argument("--scale", action="append", type=_scale, default=[],
                    help="STAGE=FACTOR: extrapolate the stage's CPU time by FACTOR")
    args = ap.parse_args(argv)
    scales = dict(args.scale) if args.scale else None
    try:
        rows = table(args.results, scales)
    except (OSError, ValueError) as exc:
        print(f"job_table: {exc}", file=sys.stderr)
        return 2
    print(markdown(rows, scaled=scales is not None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
