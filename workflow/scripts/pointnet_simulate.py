# Snakemake script: simulate the fitted point-neuron network, predicting its signals while NEST runs.
from lfpk.base.logs import log_to
from lfpk.study.pointnet.stages import simulate_files

with log_to(snakemake.log[0]):
    simulate_files(snakemake.params.config, snakemake.output.spikes, fit=snakemake.input.fit,
                   kernels=snakemake.input.kernels, online=snakemake.output.online)
