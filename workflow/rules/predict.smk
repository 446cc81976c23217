rule predict:
    input:
        spikes=f"{RESULTS}/network/{{run}}/spikes.nc",
        kernels=f"{RESULTS}/kernels/{{run}}/{{variant}}/kernels.nc",
    output:
        f"{RESULTS}/prediction/{{run}}/{{variant}}.nc",
    log:
        f"{RESULTS}/logs/prediction/{{run}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/prediction/{{run}}/{{variant}}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/predict.py"


rule compare:
    input:
        signals=f"{RESULTS}/network/{{run}}/signals.nc",
        prediction=f"{RESULTS}/prediction/{{run}}/{{variant}}.nc",
    output:
        nc=f"{RESULTS}/comparison/{{run}}/{{variant}}.nc",
        csv=f"{RESULTS}/comparison/{{run}}/{{variant}}.csv",
    log:
        f"{RESULTS}/logs/comparison/{{run}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/comparison/{{run}}/{{variant}}.tsv"
    conda:
        CONDA_ENV
    params:
        transient=config["simulation"]["transient"],
    script:
        "../scripts/compare.py"


rule metrics_table:
    input:
        lambda wc: expand(
            f"{RESULTS}/comparison/{wc.run}/{{variant}}.csv",
            variant=config["kernel"]["variants"],
        ),
    output:
        f"{RESULTS}/comparison/{{run}}/summary.csv",
    log:
        f"{RESULTS}/logs/comparison/{{run}}/summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/comparison/{{run}}/summary.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/metrics_table.py"
