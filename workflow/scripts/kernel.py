# Snakemake script: kernel H_{post,pre} of one connection for one run and kernel variant.
from lfpk.logs import log_to
from lfpk.stages import write_kernels
from lfpk.workflow import run_config

with log_to(snakemake.log[0]) as log:
    post, pre = snakemake.wildcards.post, snakemake.wildcards.pre
    membrane = snakemake.input.membrane or None
    options = dict(snakemake.params.options)
    v_rest_mode = options.pop("v_rest_mode")
    timings = write_kernels(run_config(snakemake.config, snakemake.wildcards.run), [(post, pre)], [snakemake.output[0]],
                            membrane=membrane[0] if membrane else None, v_rest_mode=v_rest_mode,
                            **options)
    log.info("H_%s%s written in %.3f s", post, pre, timings[(post, pre)])
