# Snakemake script: fit the point-neuron network to a ground-truth run's rates and rate spectra.
from lfpk.base.logs import log_to
from lfpk.study.pointnet.stages import fit_files

with log_to(snakemake.log[0]):
    fit_files(snakemake.params.config, snakemake.input.spikes, snakemake.output[0])
