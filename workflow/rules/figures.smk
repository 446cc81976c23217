# Figures of the study; each registered for `snakemake --report` with a caption.


rule figure_network:
    input:
        spikes=f"{RESULTS}/network/{{run}}/spikes.nc",
        signals=f"{RESULTS}/network/{{run}}/signals.nc",
        morphologies=morphology_files,
    output:
        png=report(
            f"{RESULTS}/figures/{{run}}/network.png",
            caption="../report/network.rst",
            category="Ground truth",
            subcategory="{run}",
        ),
        pdf=f"{RESULTS}/figures/{{run}}/network.pdf",
    log:
        f"{RESULTS}/logs/figures/{{run}}/network.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{run}}/network.tsv"
    conda:
        CONDA_ENV
    params:
        style=figure_style(config, "window"),
        # the network's part of the run's config (a config itself): the cells, probes and wiring drawn
        config=lambda wc: network_parameters(config, wc.run),
    script:
        "../scripts/figure_network.py"


rule figure_kernels:
    input:
        f"{RESULTS}/kernels/{{run}}/{{variant}}/kernels.nc",
    output:
        png=report(
            f"{RESULTS}/figures/{{run}}/kernels_{{variant}}.png",
            caption="../report/kernels.rst",
            category="Kernels",
            subcategory="{run}",
        ),
        pdf=f"{RESULTS}/figures/{{run}}/kernels_{{variant}}.pdf",
    log:
        f"{RESULTS}/logs/figures/{{run}}/kernels_{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{run}}/kernels_{{variant}}.tsv"
    conda:
        CONDA_ENV
    params:
        style=figure_style(config),
    script:
        "../scripts/figure_kernels.py"


rule figure_traces:
    input:
        signals=f"{RESULTS}/network/{{run}}/signals.nc",
        predictions=lambda wc: expand(
            f"{RESULTS}/prediction/{wc.run}/{{variant}}.nc", variant=VARIANTS
        ),
    output:
        png=report(
            f"{RESULTS}/figures/{{run}}/traces.png",
            caption="../report/traces.rst",
            category="Prediction",
            subcategory="{run}",
        ),
        pdf=f"{RESULTS}/figures/{{run}}/traces.pdf",
    log:
        f"{RESULTS}/logs/figures/{{run}}/traces.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{run}}/traces.tsv"
    conda:
        CONDA_ENV
    params:
        style=figure_style(config, "window"),
        labels=VARIANTS,
    script:
        "../scripts/figure_traces.py"


rule figure_metrics:
    input:
        lambda wc: expand(
            f"{RESULTS}/comparison/{wc.run}/{{variant}}.nc", variant=VARIANTS
        ),
    output:
        png=report(
            f"{RESULTS}/figures/{{run}}/metrics.png",
            caption="../report/metrics.rst",
            category="Prediction",
            subcategory="{run}",
        ),
        pdf=f"{RESULTS}/figures/{{run}}/metrics.pdf",
    log:
        f"{RESULTS}/logs/figures/{{run}}/metrics.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{run}}/metrics.tsv"
    conda:
        CONDA_ENV
    params:
        style=figure_style(config),
    script:
        "../scripts/figure_metrics.py"


rule sensitivity:
    input:
        mechanisms="build/mechanisms/lfpk-mechanisms.json",
        spikes=f"{RESULTS}/network/{{run}}/spikes.nc",
        signals=f"{RESULTS}/network/{{run}}/signals.nc",
        membrane=f"{RESULTS}/network/{{run}}/membrane.nc",
        morphologies=morphology_files,
    output:
        f"{RESULTS}/sensitivity/{{run}}.nc",
    log:
        f"{RESULTS}/logs/sensitivity/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/sensitivity/{{run}}.tsv"
    conda:
        CONDA_ENV
    params:
        parameters=lambda wc: sensitivity_parameters(config, wc.run),
    script:
        "../scripts/sensitivity.py"


rule scan_gather:
    input:
        comparisons=expand(
            f"{RESULTS}/comparison/{{run}}/{{variant}}.nc", run=RUNS, variant=VARIANTS
        ),
        membranes=expand(f"{RESULTS}/network/{{run}}/membrane.nc", run=RUNS),
    output:
        f"{RESULTS}/scan/metrics.nc",
    log:
        f"{RESULTS}/logs/scan/gather.log",
    benchmark:
        f"{RESULTS}/benchmarks/scan/gather.tsv"
    conda:
        CONDA_ENV
    params:
        runs=RUNS,
        variants=VARIANTS,
        J=[run_config(config, r)["weight_scaling"]["J"] for r in RUNS],
    script:
        "../scripts/scan_gather.py"


rule figure_jscan:
    input:
        scan=f"{RESULTS}/scan/metrics.nc",
        spikes=expand(f"{RESULTS}/network/{{run}}/spikes.nc", run=RUNS),
        signals=expand(f"{RESULTS}/network/{{run}}/signals.nc", run=RUNS),
        predictions=expand(
            f"{RESULTS}/prediction/{{run}}/{PRIMARY_VARIANT}.nc", run=RUNS
        ),
    output:
        png=report(
            f"{RESULTS}/figures/jscan.png",
            caption="../report/jscan.rst",
            category="Scans",
        ),
        pdf=f"{RESULTS}/figures/jscan.pdf",
    log:
        f"{RESULTS}/logs/figures/jscan.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/jscan.tsv"
    conda:
        CONDA_ENV
    params:
        style=figure_style(config, "window"),
        runs=RUNS,
        variant=PRIMARY_VARIANT,
    script:
        "../scripts/figure_jscan.py"
