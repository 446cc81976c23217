# Snakemake script: ground truth versus predictions of every kernel variant of one run.
from lfpk.base.io import read_dataset
from lfpk.base.logs import log_to
from lfpk.figures.study import prediction_traces_figure
from lfpk.figures.style import apply_style

with log_to(snakemake.log[0]):
    apply_style(snakemake.params.style)
    signals = snakemake.input.signals
    t0 = float(read_dataset(signals).attrs["transient"])
    prediction_traces_figure(
        signals, list(snakemake.input.predictions), [snakemake.output.png, snakemake.output.pdf],
        labels=list(snakemake.params.labels), window=(t0, t0 + float(snakemake.params.style["window"])),
    )
