# Snakemake script: kernels of one run and kernel variant.
from lfpk import figures
from lfpk.io import read_dataset
from lfpk.logs import log_to

with log_to(snakemake.log[0]):
    figures.apply_style(snakemake.params.style)
    run, variant = snakemake.wildcards.run, snakemake.wildcards.variant
    figures.kernels(read_dataset(snakemake.input[0]), [snakemake.output.png, snakemake.output.pdf],
                    title=f"Kernels H_YX, run {run}, variant {variant}")
