# Snakemake script: compare one kernel variant's prediction with the run's ground truth.
from lfpk.compare import compare_files, format_table
from lfpk.logs import log_to

with log_to(snakemake.log[0]) as log:
    _, table = compare_files(
        snakemake.input.signals, snakemake.input.prediction, snakemake.output.nc,
        summary=snakemake.output.csv, transient=snakemake.params.transient,
        approximation=snakemake.wildcards.variant,
    )
    log.info("metrics of %s:\n%s", snakemake.wildcards.variant, format_table(table))
