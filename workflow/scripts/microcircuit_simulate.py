# Snakemake script: simulate the config's point-neuron microcircuit in NEST; write spikes.nc and rates.nc.
from lfpk.base.logs import log_to
from lfpk.study.microcircuit.stages import simulate_files

with log_to(snakemake.log[0]):
    simulate_files(snakemake.params.config, snakemake.output.spikes, rates=snakemake.output.rates)
