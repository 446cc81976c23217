# Snakemake script: one table of every kernel variant's metrics for a run.
from lfpk.base.logs import log_to
from lfpk.study.stages import metrics_table

with log_to(snakemake.log[0]) as log:
    text = metrics_table(list(snakemake.input), snakemake.output[0])
    log.info("metrics:\n%s", text)
