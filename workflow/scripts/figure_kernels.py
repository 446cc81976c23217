# Snakemake script: kernels of one run and kernel variant.
from lfpk.figures import style as figures
from lfpk.base.io import read_dataset
from lfpk.base.logs import log_to

with log_to(snakemake.log[0]):
    figures.apply_style(snakemake.params.style)
    run, variant = snakemake.wildcards.run, snakemake.wildcards.variant
    figures.kernels(read_dataset(snakemake.input[0]), [snakemake.output.png, snakemake.output.pdf],
                    title=f"Kernels H_YX, run {run}, variant {variant}")
