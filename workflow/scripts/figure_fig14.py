# Snakemake script: Fig 14 of the paper (point-neuron network, online kernel predictions).
from lfpk.base.logs import log_to
from lfpk.figures.paper.fig14 import figure14_files
from lfpk.figures.style import apply_style

with log_to(snakemake.log[0]):
    apply_style(snakemake.params.style)
    i = snakemake.input
    figure14_files(i.spikes, i.online, i.offline, i.signals, i.comparison_lif, i.comparison_gt, i.rates,
                   [snakemake.output.png, snakemake.output.pdf])
