rule kernel:
    input:
        mechanisms="build/mechanisms/lfpk-mechanisms.json",
        membrane=kernel_membrane_input,
        morphologies=population_morphology_files,
    output:
        f"{RESULTS}/kernels/{{run}}/{{variant}}/{{post}}_{{pre}}.nc",
    log:
        f"{RESULTS}/logs/kernels/{{run}}/{{variant}}/{{post}}_{{pre}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/kernels/{{run}}/{{variant}}/{{post}}_{{pre}}.tsv"
    conda:
        CONDA_ENV
    params:
        parameters=lambda wc: kernel_parameters(
            run_config(config, wc.run), wc.post, wc.pre
        ),
        options=lambda wc: parse_variant(wc.variant),
    script:
        "../scripts/kernel.py"


rule kernels_gather:
    input:
        lambda wc: expand(
            f"{RESULTS}/kernels/{wc.run}/{wc.variant}/{{post}}_{{pre}}.nc",
            zip,
            post=[c["post"] for c in config["connections"]],
            pre=[c["pre"] for c in config["connections"]],
        ),
    output:
        f"{RESULTS}/kernels/{{run}}/{{variant}}/kernels.nc",
    log:
        f"{RESULTS}/logs/kernels/{{run}}/{{variant}}/gather.log",
    benchmark:
        f"{RESULTS}/benchmarks/kernels/{{run}}/{{variant}}/gather.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/kernels_gather.py"
