# Snakemake script: compare a prediction with the run's ground truth (labelled by the rule's
# params.label, else by its kernel variant).
from lfpk.base.logs import log_to
from lfpk.engines.compare import compare_files, format_table

with log_to(snakemake.log[0]) as log:
    label = getattr(snakemake.params, "label", None) or snakemake.wildcards.variant
    _, table = compare_files(
        snakemake.input.signals, snakemake.input.prediction, snakemake.output.nc,
        summary=snakemake.output.csv, transient=snakemake.params.transient, approximation=label,
    )
    log.info("metrics of %s:\n%s", label, format_table(table))
