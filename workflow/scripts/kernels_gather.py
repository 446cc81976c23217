# Snakemake script: gather a run's per-connection kernels into kernels.nc (dims post, pre).
from lfpk.logs import log_to
from lfpk.stages import gather_kernel_files

with log_to(snakemake.log[0]):
    gather_kernel_files(list(snakemake.input), snakemake.output[0])
