# Snakemake script: every run x kernel variant's metrics in one tidy dataset.
from lfpk.base.logs import log_to
from lfpk.study.scan import gather_scan_files

with log_to(snakemake.log[0]):
    runs, variants = list(snakemake.params.runs), list(snakemake.params.variants)
    comparisons = dict(zip([(r, v) for r in runs for v in variants], snakemake.input.comparisons))
    gather_scan_files(comparisons, dict(zip(runs, snakemake.input.membranes)),
                      dict(zip(runs, snakemake.params.J)), snakemake.output[0])
