# Snakemake script: rates and rate spectra of the ground truth and the point-neuron network.
from lfpk.base.logs import log_to
from lfpk.study.pointnet.stages import rates_files

with log_to(snakemake.log[0]):
    rates_files(snakemake.params.config, snakemake.input.ground_truth, snakemake.input.spikes, snakemake.output[0])
