# Snakemake script: kernels of one run and kernel variant.
from lfpk.base.io import read_dataset
from lfpk.base.logs import log_to
from lfpk.figures.kernels import kernels
from lfpk.figures.style import apply_style

with log_to(snakemake.log[0]):
    apply_style(snakemake.params.style)
    run, variant = snakemake.wildcards.run, snakemake.wildcards.variant
    kernels(read_dataset(snakemake.input[0]), [snakemake.output.png, snakemake.output.pdf],
            title=f"Kernels H_YX, run {run}, variant {variant}")
