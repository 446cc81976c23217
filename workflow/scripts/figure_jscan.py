# Snakemake script: the weight-scaling scan figure.
from lfpk.base.logs import log_to
from lfpk.figures.study import jscan_figure
from lfpk.figures.style import apply_style

with log_to(snakemake.log[0]):
    apply_style(snakemake.params.style)
    runs = list(snakemake.params.runs)
    jscan_figure(dict(zip(runs, snakemake.input.spikes)), dict(zip(runs, snakemake.input.signals)),
                 dict(zip(runs, snakemake.input.predictions)), snakemake.input.scan,
                 [snakemake.output.png, snakemake.output.pdf], snakemake.params.variant,
                 window_length=float(snakemake.params.style["window"]))
