# Kernels H_YX of every connection of one run and kernel variant, computed in one process (one
# linearised cell per postsynaptic population, reused for its connections) and written gathered.
# params: every connection's kernel parameters (lfpk.study.stages.kernel_set_parameters) and the
# variant, so a change reruns exactly the (run, variant) jobs whose kernels it changes.
rule kernels:
    input:
        mechanisms="build/mechanisms/lfpk-mechanisms.json",
        membrane=kernel_membrane_input,
        morphologies=kernel_morphology_files,
    output:
        f"{RESULTS}/kernels/{{run}}/{{variant}}/kernels.nc",
    log:
        f"{RESULTS}/logs/kernels/{{run}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/kernels/{{run}}/{{variant}}.tsv"
    conda:
        CONDA_ENV
    params:
        parameters=lambda wc: kernel_set_parameters(run_config(config, wc.run)),
        options=lambda wc: parse_variant(wc.variant),
    script:
        "../scripts/kernels.py"
