# Snakemake script: single-cell check of one population (step firing, back-propagating AP).
from lfpk.base.logs import log_to
from lfpk.study.cellcheck import run, summary

with log_to(snakemake.log[0]) as log:
    # the validated study config; the rule's params hold only what this check depends on
    ds = run(snakemake.config, snakemake.wildcards.population, snakemake.output.nc, [snakemake.output.png, snakemake.output.pdf])
    log.info("%s", summary(ds))
