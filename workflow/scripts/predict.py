# Snakemake script: predict a run's signals from its spikes with one kernel variant.
from lfpk.logs import log_to
from lfpk.predict import predict_files

with log_to(snakemake.log[0]):
    predict_files(snakemake.input.spikes, snakemake.input.kernels, snakemake.output[0])
