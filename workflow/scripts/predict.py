# Snakemake script: predict a run's signals from its spikes with one kernel variant.
# The network's own spikes: a population may be silent (a result of the run, not a mapping error).
from lfpk.base.logs import log_to
from lfpk.engines.prediction.predict import predict_files

with log_to(snakemake.log[0]) as log:
    result = predict_files(snakemake.input.spikes, snakemake.input.kernels, snakemake.output[0], allow_silent=True)
    for line in result.report:
        log.info("%s", line)
