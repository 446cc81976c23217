# Snakemake script: rate x V_rest sensitivity map of one run's kernel predictions.
from lfpk.base.logs import log_to
from lfpk.entry.workflow import run_config
from lfpk.study.sensitivity import sensitivity_files

with log_to(snakemake.log[0]):
    cfg = run_config(snakemake.config, snakemake.wildcards.run)
    sensitivity_files(cfg, snakemake.input.spikes, snakemake.input.signals, snakemake.input.membrane,
                      snakemake.output[0])
