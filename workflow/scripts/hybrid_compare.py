# Snakemake script: the hybrid scheme's approximations versus the ground truth (lfpk.study.hybrid).
from lfpk.base.logs import log_to
from lfpk.engines.compare import format_table
from lfpk.study.hybrid import compare_approximation_files

with log_to(snakemake.log[0]) as log:
    entries = list(zip(snakemake.params.approximations, snakemake.input.approximations))
    _, table = compare_approximation_files(snakemake.input.signals, entries, snakemake.output.nc,
                                           snakemake.output.csv)
    t = table[(table["source"] == "total") & table["signal"].isin(["lfp", "cdm_z"])]
    log.info("approximations versus ground truth:\n%s", format_table(t))
