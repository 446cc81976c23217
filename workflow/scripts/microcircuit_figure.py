# Snakemake script: the microcircuit's predicted LFP, CSD, contributions and spectra (one figure).
from lfpk.base.logs import log_to
from lfpk.figures.microcircuit import microcircuit_figure_files
from lfpk.figures.style import apply_style

with log_to(snakemake.log[0]):
    apply_style(snakemake.params.style)
    i = snakemake.input
    microcircuit_figure_files(i.prediction, i.spikes, i.rates, [snakemake.output.png, snakemake.output.pdf],
                              layers=snakemake.params.layers, window=snakemake.params.style.get("window"))
