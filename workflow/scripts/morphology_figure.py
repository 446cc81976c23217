# Snakemake script: figure of all populations' morphologies with segment boundaries.
from lfpk.base.logs import log_to
from lfpk.figures.style import apply_style
from lfpk.study.stages import morphology_figure

with log_to(snakemake.log[0]):
    apply_style(snakemake.params.style)
    morphology_figure(snakemake.input, [snakemake.output.png, snakemake.output.pdf])
