# Snakemake script: metrics of every kernel variant of one run.
from lfpk.base.logs import log_to
from lfpk.figures.study import metrics_figure
from lfpk.figures.style import apply_style

with log_to(snakemake.log[0]):
    apply_style(snakemake.params.style)
    metrics_figure(list(snakemake.input), [snakemake.output.png, snakemake.output.pdf])
