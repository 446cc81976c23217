# Snakemake script: overview figure of one ground-truth run (params.config: the network part of the run's
# config, lfpk.entry.workflow.network_parameters, a dict).
from lfpk.base.logs import log_to
from lfpk.figures.study import network_overview_figure
from lfpk.figures.style import apply_style

with log_to(snakemake.log[0]):
    apply_style(snakemake.params.style)
    t0 = float(snakemake.params.config["simulation"]["transient"])
    network_overview_figure(
        snakemake.input.spikes, snakemake.input.signals, [snakemake.output.png, snakemake.output.pdf],
        config=snakemake.params.config, window=(t0, t0 + float(snakemake.params.style["window"])),
    )
