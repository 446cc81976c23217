"""Helpers for the Snakemake workflow: the list of final targets of a configuration, the
configuration of each run, and the launch of the network under MPI.

Kept in the package (not the Snakefile) so the wiring stays declarative and testable. The runs of a
study are listed by :mod:`lfpk.study.runs` (:func:`ground_truth_runs`, :func:`j_scan_runs` are
re-exported here for the rules); MPI is started by :class:`lfpk.base.mpi.MPILauncher`.
"""

from __future__ import annotations

import copy
import logging
import os
import sys
from pathlib import Path

import pandas as pd
import yaml

from lfpk.api.config import ConfigError, load_study_config, validate_config
from lfpk.base.mpi import MPILauncher
from lfpk.engines.compare import format_table
from lfpk.model.rules import VARIANT_PARTS, VARIANT_PATTERN, parse_variant, variant_name  # noqa: F401
from lfpk.study.hybrid import approximations, parse, settings, volley_times
from lfpk.study.pointnet.parameters import workflow_targets as pointnet_targets
from lfpk.study.resources import ENV_RANKS_PER_NODE
from lfpk.study.runs import (  # noqa: F401  (the list of runs, public here too for the rules)
    CONFIG_RUN,
    deep_merge,
    ground_truth_runs,
    j_run_name,
    j_scan_runs,
    kernels_only,
    named_runs,
    run_overlay,
    scan_runs,
)
from lfpk.study.stages import HEADLINE_SIGNALS, kernel_set_parameters, morphology_parameters


#: Snakemake's option naming the config files (one option with two spellings, each taking files).
CONFIGFILE_OPTIONS = ("--configfile", "--configfiles")


def command_line_configfiles(argv):
    """The config files of every ``--configfile`` / ``--configfiles`` option of a Snakemake command
    line ``argv`` (``sys.argv``), or None when the option is given at most once.

    Snakemake's parser keeps only the last of repeated options, so ``--configfile a.yaml
    --configfile b.yaml`` would run b.yaml alone and drop a.yaml without a word; the files of all
    the options are returned so the loader refuses them all in one message. An option takes the
    words after it up to the next option (``--name``, ``-x``), as Snakemake's parser does, or its
    ``--configfile=FILE`` value. A command line that is not Snakemake's (``argv[0]`` without
    ``snakemake``: the workflow run from Python) gives None.
    """
    argv = [str(a) for a in argv or []]
    if not argv or "snakemake" not in Path(argv[0]).as_posix():
        return None
    files, given = [], 0
    i = 1
    while i < len(argv):
        word = argv[i]
        name, eq, value = word.partition("=")
        i += 1
        if name not in CONFIGFILE_OPTIONS:
            continue
        given += 1
        if eq:
            files.append(value)
            continue
        while i < len(argv) and not argv[i].startswith("-"):
            files.append(argv[i])
            i += 1
    return files if given > 1 else None


#: Launchers of the network rule's ``mpi`` resource that ask a scheduler to place the ranks.
SCHEDULER_LAUNCHERS = ("srun",)


def scheduler_places_ranks(overwrite_resources) -> bool:
    """True if the network rule's ``mpi`` resource (Snakemake's ``--set-resources``, e.g. from
    ``profiles/slurm``) is a scheduler's launcher (:data:`SCHEDULER_LAUNCHERS`): its ranks get their
    own allocations (``mem_mb_per_cpu``) instead of sharing the machine that plans the workflow.

    >>> scheduler_places_ranks({"network": {"mpi": "srun --mpi=pmi2"}}), scheduler_places_ranks({})
    (True, False)
    """
    network = dict(overwrite_resources or {}).get("network") or {}
    launcher = dict(network.items()).get("mpi", "")  # a dict, or Snakemake's Resources
    launcher = str(getattr(launcher, "raw", launcher)).strip().strip("\"'")  # a Resource or a raw value
    return launcher.split(" ", 1)[0] in SCHEDULER_LAUNCHERS


def load_workflow_config(configfiles, overrides, argv=None, overwrite_resources=None):
    """The workflow's configuration (:func:`lfpk.api.config.load_study_config`); on a bad config print
    one message naming the file and key and exit with status 2, as ``lfpk`` commands do.

    Parameters
    ----------
    configfiles : list of path
        Snakemake's ``--configfile`` files (``workflow.config_settings.configfiles``).
    overrides : dict
        Snakemake's ``--config KEY=VALUE`` values.
    argv : list of str, optional
        The command line (default ``sys.argv``): a repeated ``--configfile`` option, of which
        Snakemake keeps only the last, is refused like several files
        (:func:`command_line_configfiles`).
    overwrite_resources : mapping, optional
        Snakemake's ``--set-resources`` (``workflow.resource_settings.overwrite_resources``): when a
        scheduler places the network's ranks (:func:`scheduler_places_ranks`), the memory check
        counts one rank per node (``LFPK_RANKS_PER_NODE=1`` unless set; see
        :mod:`lfpk.study.resources`), not every rank on this machine.
    """
    if scheduler_places_ranks(overwrite_resources) and not os.environ.get(ENV_RANKS_PER_NODE, "").strip():
        os.environ[ENV_RANKS_PER_NODE] = "1"
    repeated = command_line_configfiles(sys.argv if argv is None else argv)
    if repeated is not None:
        configfiles = repeated
    try:
        cfg, source = load_study_config(configfiles, overrides)
        return (microcircuit_workflow_config(cfg) if is_microcircuit(cfg) else cfg), source
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def microcircuit_workflow_config(cfg) -> dict:
    """A validated microcircuit study's config with what the workflow's shared rules read at parse
    time and a kernels-only file may not hold: ``kernel.variants`` (the primary variant, the one
    the study computes), ``simulation.tstop`` / ``transient`` (the NEST run's, from the
    ``microcircuit`` block) and ``figures`` (:data:`MICROCIRCUIT_FIGURES`). Nothing the kernels
    depend on changes."""
    out = copy.deepcopy(cfg)
    out["kernel"]["variants"] = [primary_variant(out)]
    mc = out["microcircuit"]
    out["simulation"].setdefault("tstop", float(mc["tstop"]))
    out["simulation"].setdefault("transient", float(mc.get("transient", 0.0)))
    out.setdefault("figures", dict(MICROCIRCUIT_FIGURES))
    return out


#: The ``figures`` block of a microcircuit study (a kernels-only file has none): dots per inch and
#: the ms of traces shown after the transient (:mod:`lfpk.figures.microcircuit`).
MICROCIRCUIT_FIGURES = {"dpi": 150, "window": 250.0}


def results_dir(cfg) -> str:
    """Folder of a study's outputs, ``results/<study>``."""
    return f"results/{cfg['study']}"


def is_microcircuit(cfg) -> bool:
    """Whether ``cfg`` is a microcircuit study (a ``microcircuit`` block: the network is NEST's
    point-neuron microcircuit, :mod:`lfpk.study.microcircuit`), whose targets are
    :func:`microcircuit_targets` instead of the ground-truth study's."""
    return isinstance(cfg, dict) and cfg.get("microcircuit") is not None


def microcircuit_targets(cfg) -> list[str]:
    """The final outputs of a microcircuit study: the mechanisms, the kernels of the config's
    primary variant (run ``config``: no ground truth), the NEST network's spikes and rates
    (``microcircuit/spikes.nc``, ``rates.nc``), their prediction with the kernels
    (``microcircuit/prediction/<variant>.nc``) and its figure (``figures/microcircuit.{png,pdf}``)."""
    res = results_dir(cfg)
    variant = primary_variant(cfg)
    return ["build/mechanisms/lfpk-mechanisms.json", f"{res}/kernels/{CONFIG_RUN}/{variant}/kernels.nc",
            f"{res}/microcircuit/spikes.nc", f"{res}/microcircuit/rates.nc",
            f"{res}/microcircuit/prediction/{variant}.nc",
            *[f"{res}/figures/microcircuit.{ext}" for ext in ("png", "pdf")]]


def microcircuit_network_config(cfg) -> dict:
    """The part of a microcircuit study's config its NEST network depends on (the params of rule
    ``microcircuit_simulate``, its rerun trigger, and what it passes to
    :func:`lfpk.study.microcircuit.stages.simulate_files`): ``seed``, ``simulation.dt``, the
    ``microcircuit`` block and the populations' sizes (checked against the block's scale)."""
    return {"seed": cfg["seed"], "simulation": {"dt": cfg["simulation"]["dt"]},
            "microcircuit": copy.deepcopy(cfg["microcircuit"]),
            "populations": {name: {"size": pop["size"]} for name, pop in cfg["populations"].items()}}


def all_targets_for(cfg) -> list[str]:
    """Every final output of the study described by ``cfg`` (inputs of ``rule all``): a microcircuit
    study's (:func:`microcircuit_targets`), or the ground-truth study's."""
    if is_microcircuit(cfg):
        return microcircuit_targets(cfg)
    res = results_dir(cfg)
    pops = list(cfg["populations"])
    targets = ["build/mechanisms/lfpk-mechanisms.json"]
    targets += [f"{res}/morphology/{p}.{ext}" for p in pops for ext in ("hoc", "nc")]
    targets += [f"{res}/figures/morphology.{ext}" for ext in ("png", "pdf")]
    targets += [f"{res}/kernels/{CONFIG_RUN}/{primary_variant(cfg)}/kernels.nc"]
    for run in ground_truth_runs(cfg):
        targets += [f"{res}/comparison/{run}/summary.csv"]
        # the hybrid run's network overview and sensitivity map are paper Figs 3 and 8
        figs = ["traces", "metrics"] + (["network"] if run != hybrid_run(cfg) else [])
        figs += [f"kernels_{v}" for v in cfg["kernel"]["variants"]]
        targets += [f"{res}/figures/{run}/{f}.{ext}" for f in figs for ext in ("png", "pdf")]
    targets += [f"{res}/scan/metrics.nc"] + [f"{res}/figures/jscan.{ext}" for ext in ("png", "pdf")]
    for p in (cfg.get("cell_check") or {}).get("populations") or []:
        targets += [f"{res}/cell_check/{p}.nc"] + [f"{res}/figures/cell_check_{p}.{ext}" for ext in ("png", "pdf")]
    targets += pointnet_targets(cfg, res)
    if hybrid_approximations(cfg):
        targets += [f"{res}/hybrid/{hybrid_run(cfg)}/comparison.{ext}" for ext in ("nc", "csv")]
    targets += [f"{res}/figures/paper/{name}.{ext}" for name in paper_figures(cfg) for ext in ("png", "pdf")]
    return targets


def run_config(cfg, run) -> dict:
    """Configuration of ground-truth run ``run`` (validated).

    ``default`` and the kernel-only run ``config`` are the config as is; ``J<value>`` (from
    ``scans.J``) sets ``weight_scaling.J``; a name in ``network.runs`` deep-merges its partial
    config over the config (:func:`lfpk.study.runs.run_overlay`). Errors name ``network.runs.<run>``;
    a run that is not one of :func:`lfpk.study.runs.ground_truth_runs` raises ``ValueError``.
    """
    over = run_overlay(cfg, run)
    base = copy.deepcopy(cfg)
    if over is None:
        return base
    try:
        return validate_config(deep_merge(base, over), runs=False)
    except ConfigError as exc:
        if run in named_runs(cfg):
            raise ConfigError(f"network.runs.{run}: {exc}") from None
        raise


#: Config sections the ground-truth network depends on (its rerun trigger).
NETWORK_KEYS = ("seed", "simulation", "populations", "connections", "biophysics", "mechanisms",
                "weight_scaling", "probes", "recording", "network")


def network_parameters(cfg, run) -> dict:
    """The part of run ``run``'s configuration that determines its network outputs."""
    rc = run_config(cfg, run)
    out = {k: rc[k] for k in NETWORK_KEYS if k in rc}
    net = dict(out.get("network") or {})
    net.pop("runs", None)  # other runs do not change this one
    net.setdefault("tasks", 2)  # MPI ranks: results agree across rank counts to rounding only
    out["network"] = net
    return out


#: Keys of the config's ``figures`` block every figure script reads (:func:`lfpk.figures.style.apply_style`).
FIGURE_STYLE_KEYS = ("dpi",)


def figure_style(cfg, *keys) -> dict:
    """The part of the ``figures`` block a figure rule reads (its params): :data:`FIGURE_STYLE_KEYS`
    and ``keys`` (e.g. ``window``, ms, for the figures with traces), so a change of another key
    (``figures.paper``, or ``window`` for a figure without traces) reruns no figure that ignores it."""
    fig = cfg.get("figures") or {}  # none in a kernels-only microcircuit study: the defaults
    return {k: fig[k] for k in (*FIGURE_STYLE_KEYS, *keys) if k in fig}


def metrics_summary_text(cfg) -> str:
    """Headline metrics of every finished run (printed when the workflow succeeds)."""
    out = []
    for run in ground_truth_runs(cfg):
        path = Path(results_dir(cfg)) / "comparison" / run / "summary.csv"
        if path.is_file():
            t = pd.read_csv(path)
            t = t[(t["source"] == "total") & t["signal"].isin(HEADLINE_SIGNALS)]
            out.append(f"Kernel prediction vs ground truth, run {run!r} ({path}):\n{format_table(t)}")
    return "\n\n".join(out)


def kernel_membrane_for(cfg, run) -> list[str]:
    """Ground-truth membrane file a kernel run takes V_rest and rates from (none for ``config``)."""
    if run == CONFIG_RUN:
        return []
    return [f"{results_dir(cfg)}/network/{run}/membrane.nc"]


def primary_variant(cfg) -> str:
    """The config's own kernel options (``kernel.biophysics``, ``kernel.g_eff``) as a variant name."""
    return variant_name(cfg["kernel"]["biophysics"], cfg["kernel"]["g_eff"], "scalar")


def sensitivity_parameters(cfg, run) -> dict:
    """What a run's sensitivity map depends on besides its network outputs."""
    rc = run_config(cfg, run)
    return {"sensitivity": rc["sensitivity"], "kernels": kernel_set_parameters(rc)}


def launch_network(cfg, outdir, tasks, launcher, log_path, extra_args=(), log=None):
    """Run ``[launcher -n tasks] python -m lfpk network`` on ``cfg`` (written to
    ``outdir/config.yaml``) with ``extra_args``; the network's log and output are appended to
    ``log`` (a logger). Used by the network and hybrid-scheme rules, so both launch MPI alike
    (``resources.mpi`` = ``mpiexec`` locally, ``srun`` on a cluster; :class:`lfpk.base.mpi.MPILauncher`);
    raises ``RuntimeError`` on failure."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cfg = dict(cfg)
    if isinstance(cfg.get("network"), dict):
        cfg["network"] = {k: v for k, v in cfg["network"].items() if k != "runs"}  # the run's own config
    cfg_path = outdir / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    network_log = Path(str(log_path) + ".network")
    args = [sys.executable, "-m", "lfpk", "network", "--config", cfg_path, "--outdir", outdir,
            "--log", network_log, *extra_args]
    mpi = MPILauncher(tasks, launcher, log=log or logging.getLogger("lfpk.workflow"))
    mpi.run(args, program_log=network_log, name="lfpk.engines.network", program_log_title="network log")


# ---------------------------------------------------------------------------------------------
# The hybrid scheme (lfpk.study.hybrid)
# ---------------------------------------------------------------------------------------------

#: Wildcard pattern of a hybrid-scheme variant <biophysics>-<geff|nogeff>.
HYBRID_PATTERN = "(" + "|".join(VARIANT_PARTS[0]) + ")-(geff|nogeff)"


def parse_hybrid(name) -> dict:
    """Options of a hybrid-scheme variant name (:func:`lfpk.study.hybrid.parse`)."""
    return parse(name)


def hybrid_volleys(cfg) -> dict:
    """Volley times of the hybrid-kernel runs (:func:`lfpk.study.hybrid.volley_times`)."""
    return volley_times(cfg)


def hybrid_approximations(cfg) -> list[dict]:
    """The approximations the hybrid comparison takes, in order (:func:`lfpk.study.hybrid.approximations`)."""
    return approximations(cfg)


def hybrid_approximation_files(cfg, run) -> list[str]:
    """File of every approximation of run ``run`` (order of :func:`hybrid_approximations`)."""
    res = results_dir(cfg)
    out = []
    for a in hybrid_approximations(cfg):
        if a["method"] == "reconstruction":
            out.append(f"{res}/hybrid/{run}/reconstruction/{a['variant']}/signals.nc")
        elif a["method"] == "hybrid kernel":
            out.append(f"{res}/hybrid/{run}/prediction/{a['variant']}.nc")
        else:
            out.append(f"{res}/prediction/{run}/{a['variant']}.nc")
    return out


def hybrid_run(cfg) -> str:
    """The ground-truth run the hybrid scheme rebuilds (``hybrid.run``, default ``default``)."""
    return settings(cfg)["run"]


# ---------------------------------------------------------------------------------------------
# Paper figures (lfpk.figures.paper)
# ---------------------------------------------------------------------------------------------

#: The paper figures of a Model A study (results/<study>/figures/paper/<name>.{png,pdf}).
PAPER_FIGURES = ("Fig02", "FigS1", "Fig03", "Fig04", "Fig05", "Fig06", "Fig07", "Fig08", "Fig09")


#: The paper figures of a Model B study (``figures.paper: model_b``; the Hay et al. 2011 cell as E):
#: the single-cell figures and Figs 10-13, S2, S3 (:data:`lfpk.figures.paper.MODEL_B_FIGURES`).
MODEL_B_PAPER_FIGURES = ("Fig02", "FigS1", "Fig10", "Fig11", "Fig12", "Fig13", "FigS2", "FigS3")
#: Kernel variants of Model B's J-scan figures: Fig 13 (the first) and Fig S3 (scalar vs per-segment V_rest).
MODEL_B_JSCAN_VARIANTS = ("frozen-geff-scalar", "frozen-geff-segment")
#: Population whose contribution Model B's figures compare (the study: the Hay cells).
MODEL_B_SOURCE = "E"


def model_citations(cfg) -> str:
    """The citations of the study's cell models (``populations.<name>.morphology.citation``),
    joined: what its paper figures cite (Model B: Hay et al. 2011, ModelDB 139653)."""
    out = []
    for pop in cfg["populations"].values():
        c = (pop.get("morphology") or {}).get("citation")
        if c and c not in out:
            out.append(str(c))
    return "; ".join(f"cell model: {c}" for c in out)


def paper_model(cfg) -> str:
    """Which study's paper figures a config makes: ``model_a`` (default) or ``model_b``."""
    return str((cfg.get("figures") or {}).get("paper", "model_a"))


def paper_figures(cfg) -> list[str]:
    """The paper figures a study makes: all of :data:`PAPER_FIGURES` (Model A) or of
    :data:`MODEL_B_PAPER_FIGURES` (``figures.paper: model_b``), except those of the hybrid scheme
    a study switches off (``hybrid.reconstructions: []``: no Fig 4; ``hybrid.kernels: []``: no
    Figs 5, 6 / Fig 11; both: no Fig 7 / Figs 10, 12)."""
    s = settings(cfg)
    skip = set()
    if not s["reconstructions"]:
        skip.add("Fig04")
    if not s["kernels"]:
        skip |= {"Fig05", "Fig06", "Fig11"}
    if not s["reconstructions"] and not s["kernels"]:
        skip |= {"Fig07", "Fig10", "Fig12"}
    names = MODEL_B_PAPER_FIGURES if paper_model(cfg) == "model_b" else PAPER_FIGURES
    return [f for f in names if f not in skip]


def paper_cells(cfg) -> list:
    """What Figs 2 and S1 draw besides their inputs (the step responses): every population's
    cell, in the config's order, as ``[name, morphology_parameters]``
    (:func:`lfpk.study.stages.morphology_parameters`). Their params, so only a change of a cell
    reruns them; the figure script builds the cells from the workflow's config."""
    if is_microcircuit(cfg):  # no paper figures (cell types without a population morphology)
        return []
    return [[p, morphology_parameters(cfg, p)] for p in cfg["populations"]]


def paper_approximation_files(cfg, method, kernels=False) -> list[str]:
    """Files of the hybrid scheme's approximations of one ``method`` (:data:`lfpk.study.hybrid.METHODS`)
    for the run ``hybrid.run``: signals (default) or, with ``kernels``, the kernels of the
    hybrid-kernel and direct-kernel methods."""
    run = hybrid_run(cfg)
    res = results_dir(cfg)
    apps = [a for a in hybrid_approximations(cfg) if a["method"] == method]
    if not kernels:
        files = dict(zip([a["label"] for a in hybrid_approximations(cfg)], hybrid_approximation_files(cfg, run)))
        return [files[a["label"]] for a in apps]
    if method == "hybrid kernel":
        return [f"{res}/hybrid/{run}/kernels/{a['variant']}.nc" for a in apps]
    if method == "direct kernel":
        return [f"{res}/kernels/{run}/{a['variant']}/kernels.nc" for a in apps]
    raise ValueError(f"method {method!r} has no kernels")


def paper_approximation_labels(cfg, method) -> list[str]:
    """Labels of the hybrid scheme's approximations of one ``method``."""
    return [a["label"] for a in hybrid_approximations(cfg) if a["method"] == method]
