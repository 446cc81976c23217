# Snakemake script: single-cell check of one population (step firing, back-propagating AP).
from lfpk.base.logs import log_to
from lfpk.study.cellcheck import run, summary

with log_to(snakemake.log[0]) as log:
    par = snakemake.params.parameters
    cfg = dict(par["config"], cell_check=par["cell_check"])
    ds = run(cfg, snakemake.wildcards.population, snakemake.output.nc, [snakemake.output.png, snakemake.output.pdf])
    log.info("%s", summary(ds))
