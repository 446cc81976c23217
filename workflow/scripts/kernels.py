# Snakemake script: kernels H_YX of every connection of one run and kernel variant, in one
# process, written gathered into kernels.nc (dims post, pre).
from lfpk.base.logs import log_to
from lfpk.entry.workflow import run_config
from lfpk.study.stages import write_kernel_set

with log_to(snakemake.log[0]) as log:
    membrane = snakemake.input.membrane or None
    options = dict(snakemake.params.options)
    v_rest_mode = options.pop("v_rest_mode")
    timings = write_kernel_set(run_config(snakemake.config, snakemake.wildcards.run), snakemake.output[0],
                               membrane=membrane[0] if membrane else None, v_rest_mode=v_rest_mode, **options)
    for (post, pre), seconds in timings.items():
        log.info("H_%s%s computed in %.3f s", post, pre, seconds)
    log.info("%d kernels written to %s", len(timings), snakemake.output[0])
