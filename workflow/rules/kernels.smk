rule kernel:
    input:
        mechanisms="build/mechanisms/lfpk-mechanisms.json",
        membrane=kernel_membrane_input,
    output:
        f"{RESULTS}/kernels/{{run}}/{{post}}_{{pre}}.nc",
    params:
        parameters=lambda wc: kernel_parameters(config, wc.post, wc.pre),
    log:
        f"{RESULTS}/logs/kernels/{{run}}/{{post}}_{{pre}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/kernels/{{run}}/{{post}}_{{pre}}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/kernel.py"


rule kernels_gather:
    input:
        lambda wc: expand(
            f"{RESULTS}/kernels/{wc.run}/{{post}}_{{pre}}.nc",
            zip,
            post=[c["post"] for c in config["connections"]],
            pre=[c["pre"] for c in config["connections"]],
        ),
    output:
        f"{RESULTS}/kernels/{{run}}/kernels.nc",
    log:
        f"{RESULTS}/logs/kernels/{{run}}/gather.log",
    benchmark:
        f"{RESULTS}/benchmarks/kernels/{{run}}/gather.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/kernels_gather.py"
