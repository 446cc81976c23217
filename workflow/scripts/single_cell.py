# Snakemake script: step responses of one population's cell (lfpk.study.single_cell; Figs 2 and S1).
from lfpk.base.logs import log_to
from lfpk.study.single_cell import single_cell_files

with log_to(snakemake.log[0]) as log:
    ds = single_cell_files(snakemake.config, snakemake.wildcards.population, snakemake.output[0])
    log.info("population %s: V_rest %.3f mV, somatic input resistance %.1f MOhm, amplitudes %s nA",
             snakemake.wildcards.population, ds.attrs["V_rest"], ds.attrs["input_resistance"],
             list(ds["amplitude"].values.round(4)))
