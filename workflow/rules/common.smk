# Shared wiring: the configuration, output locations and wildcard constraints.
import os
from pathlib import Path

from lfpk.study.cellcheck import parameters as cell_check_parameters
from lfpk.base.mechanisms import ENV_BUILD_DIR, PACKAGE_MOD_DIR
from lfpk.model import input_files
from lfpk.model.morphology.fetch import sources as morphology_sources
from lfpk.model.rules import VARIANT_PATTERN
from lfpk.study.single_cell import single_cell_parameters
from lfpk.study.runs import ground_truth_runs, j_scan_runs
from lfpk.study.stages import kernel_set_parameters, morphology_parameters
from lfpk.entry.workflow import (
    HYBRID_PATTERN,
    MODEL_B_JSCAN_VARIANTS,
    MODEL_B_SOURCE,
    model_citations,
    all_targets_for,
    figure_style,
    hybrid_approximation_files,
    hybrid_approximations,
    hybrid_run,
    hybrid_volleys,
    kernel_membrane_for,
    load_workflow_config,
    metrics_summary_text,
    network_parameters,
    paper_approximation_files,
    paper_approximation_labels,
    paper_cells,
    parse_hybrid,
    parse_variant,
    primary_variant,
    run_config,
    sensitivity_parameters,
)

# The configuration is exactly one file (--configfile, default config/config.yaml) with its
# `extends:` chain resolved and the --config KEY=VALUE overrides laid over it, validated by the
# same loader as `lfpk validate-config`; Snakemake's own merge of the files is replaced by it.
# Relative morphology files and mechanism folders are taken from the folder of the file naming them.
# Under a scheduler's launcher (profiles/slurm: the network's mpi resource is srun) each rank has
# its own allocation, so the memory check does not put every rank on this machine.
_study_config, CONFIG_SOURCE = load_workflow_config(
    workflow.config_settings.configfiles,
    dict(workflow.config_settings.config),
    overwrite_resources=workflow.resource_settings.overwrite_resources,
)
config.clear()
config.update(_study_config)

# Software of every rule for --use-conda (the tested path installs it with pip into .venv).
CONDA_ENV = "../../environment.yml"
STUDY = config["study"]
RESULTS = f"results/{STUDY}"
# NMODL mechanisms: the package's .mod files compiled into the study's build folder, which every
# job (kernels, network under MPI, sensitivity) loads through LFPK_BUILD_DIR.
MECHANISMS_DIR = "build/mechanisms"
# the config's mechanisms.extra_dirs (absolute) are compiled with the package's
EXTRA_MOD_DIRS = list((config.get("mechanisms") or {}).get("extra_dirs") or [])
MOD_FILES = sorted(
    str(p) for d in [PACKAGE_MOD_DIR, *EXTRA_MOD_DIRS] for p in Path(d).glob("*.mod")
)
os.environ[ENV_BUILD_DIR] = os.path.abspath(MECHANISMS_DIR)
POPULATIONS = list(config["populations"])
# morphology files with a public source (`morphology.url`): outputs of rule fetch_morphologies
MORPHOLOGY_SOURCES = morphology_sources(config)
MORPHOLOGY_DOWNLOADS = sorted({s.file for s in MORPHOLOGY_SOURCES})
VARIANTS = list(config["kernel"]["variants"])
RUNS = ground_truth_runs(config)
J_RUNS = j_scan_runs(config)
PRIMARY_VARIANT = primary_variant(config)


wildcard_constraints:
    population="|".join(POPULATIONS),
    run="[A-Za-z0-9][A-Za-z0-9_.+-]*",
    variant=VARIANT_PATTERN,
    hvariant=HYBRID_PATTERN,


def all_targets():
    return all_targets_for(config)


def kernel_membrane_input(wildcards):
    return kernel_membrane_for(config, wildcards.run)


def morphology_files(wildcards):
    """Morphology files of every population of a run: inputs of the rules that build cells."""
    run = getattr(wildcards, "run", "default")
    return input_files(run_config(config, run))


def population_morphology_files(wildcards):
    """Morphology file of one population (its rule reruns when the file changes)."""
    return input_files(config, [wildcards.population])


def kernel_morphology_files(wildcards):
    """Morphology files of a run's postsynaptic populations (the cells its kernels are computed on)."""
    cfg = run_config(config, wildcards.run)
    return input_files(cfg, sorted({c["post"] for c in cfg["connections"]}))


def print_metrics_summary():
    text = metrics_summary_text(config)
    if text:
        print(text)


# Paper figures (workflow/rules/paper.smk): FigNN.png in the report, FigNN.pdf beside it.
PAPER = f"{RESULTS}/figures/paper"


def paper_output(name):
    return {
        "png": report(
            f"{PAPER}/{name}.png",
            caption="../report/paper.rst",
            category="Paper figures",
        ),
        "pdf": f"{PAPER}/{name}.pdf",
    }
