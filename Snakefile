# lfpk: kernel predictions of extracellular signals versus a ground-truth multicompartment network.
# Wiring only: the science is in the lfpk package, the stages in workflow/rules/*.smk.
from snakemake.utils import min_version

min_version("8.0")


# No `configfile:` directive: Snakemake would merge it under every --configfile. The study's
# configuration is one file (default config/config.yaml), loaded in workflow/rules/common.smk.


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/mechanisms.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/morphology.smk"
include: "workflow/rules/kernels.smk"
include: "workflow/rules/network.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/hybrid.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/cellcheck.smk"
include: "workflow/rules/pointnet.smk"
include: "workflow/rules/paper.smk"
include: "workflow/rules/paper_model_b.smk"
include: "workflow/rules/microcircuit.smk"


rule all:
    default_target: True
    input:
        all_targets(),


onsuccess:
    print_metrics_summary()
