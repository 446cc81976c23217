# Snakemake script: sensitivity map figure.
from lfpk.figures import apply_style
from lfpk.logs import log_to
from lfpk.study_figures import sensitivity_figure

with log_to(snakemake.log[0]):
    apply_style(snakemake.params.style)
    sensitivity_figure(snakemake.input[0], [snakemake.output.png, snakemake.output.pdf])
