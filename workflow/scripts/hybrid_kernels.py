# Snakemake script: hybrid-scheme kernels H_YX from a hybrid-kernel run (lfpk.engines.network.replay).
from lfpk.base.logs import log_to
from lfpk.engines.network.replay import hybrid_kernel_files

with log_to(snakemake.log[0]) as log:
    ds = hybrid_kernel_files(snakemake.input[0], snakemake.output[0], snakemake.params.volleys,
                             float(snakemake.params.tau))
    log.info("hybrid kernels of %s -> %s (posts %s, pres %s)", snakemake.input[0], snakemake.output[0],
             list(ds["post"].values), list(ds["pre"].values))
