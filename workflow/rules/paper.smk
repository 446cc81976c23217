# The figures of Hagen et al. (2022) for Model A (lfpk.figures.paper; docs/figures.md): one rule per
# figure writing results/<study>/figures/paper/FigNN.{png,pdf}, plus the single-cell step
# responses they need. The hybrid scheme's run (hybrid.run, the study's J = 1) feeds Figs 3-8.
HYBRID_RUN = hybrid_run(config)


rule single_cell:
    input:
        mechanisms="build/mechanisms/lfpk-mechanisms.json",
        morphologies=population_morphology_files,
    output:
        f"{RESULTS}/single_cell/{{population}}.nc",
    log:
        f"{RESULTS}/logs/single_cell/{{population}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/single_cell/{{population}}.tsv"
    conda:
        CONDA_ENV
    params:
        parameters=lambda wc: single_cell_parameters(config, wc.population),
    script:
        "../scripts/single_cell.py"


rule paper_fig02:
    input:
        cells=expand(f"{RESULTS}/single_cell/{{population}}.nc", population=POPULATIONS),
        morphologies=morphology_files,
    output:
        **paper_output("Fig02"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig02.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig02",
        cells=paper_cells(config),  # what they draw besides the inputs: params of no other key
        citation=model_citations(config),
    script:
        "../scripts/paper_figure.py"


rule paper_figS1:
    input:
        cells=expand(f"{RESULTS}/single_cell/{{population}}.nc", population=POPULATIONS),
        morphologies=morphology_files,
    output:
        **paper_output("FigS1"),
    log:
        f"{RESULTS}/logs/figures/paper/FigS1.log",
    conda:
        CONDA_ENV
    params:
        figure="FigS1",
        cells=paper_cells(config),  # what they draw besides the inputs: params of no other key
        citation=model_citations(config),
    script:
        "../scripts/paper_figure.py"


rule paper_fig03:
    input:
        spikes=f"{RESULTS}/network/{HYBRID_RUN}/spikes.nc",
        signals=f"{RESULTS}/network/{HYBRID_RUN}/signals.nc",
        membrane=f"{RESULTS}/network/{HYBRID_RUN}/membrane.nc",
        morphologies=morphology_files,
    output:
        **paper_output("Fig03"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig03.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig03",
        window=config["figures"]["window"],
    script:
        "../scripts/paper_figure.py"


rule paper_fig04:
    input:
        signals=f"{RESULTS}/network/{HYBRID_RUN}/signals.nc",
        approximations=paper_approximation_files(config, "reconstruction"),
    output:
        **paper_output("Fig04"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig04.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig04",
        labels=paper_approximation_labels(config, "reconstruction"),
        title="ground truth vs the hybrid scheme's reconstructions (linearised cells, current synapses, "
        "replayed spikes)",
    script:
        "../scripts/paper_figure.py"


rule paper_fig05:
    input:
        hybrid=paper_approximation_files(config, "hybrid kernel", kernels=True),
        direct=paper_approximation_files(config, "direct kernel", kernels=True),
    output:
        **paper_output("Fig05"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig05.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig05",
        hybrid_labels=paper_approximation_labels(config, "hybrid kernel"),
        direct_labels=paper_approximation_labels(config, "direct kernel"),
    script:
        "../scripts/paper_figure.py"


rule paper_fig06:
    input:
        signals=f"{RESULTS}/network/{HYBRID_RUN}/signals.nc",
        approximations=paper_approximation_files(config, "hybrid kernel")
        + paper_approximation_files(config, "direct kernel"),
    output:
        **paper_output("Fig06"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig06.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig06",
        labels=paper_approximation_labels(config, "hybrid kernel")
        + paper_approximation_labels(config, "direct kernel"),
        title="ground truth vs predictions with hybrid-scheme kernels and with direct kernels",
        color_offset=len(paper_approximation_labels(config, "reconstruction")),
    script:
        "../scripts/paper_figure.py"


rule paper_fig07:
    input:
        comparison=f"{RESULTS}/hybrid/{HYBRID_RUN}/comparison.nc",
    output:
        **paper_output("Fig07"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig07.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig07",
    script:
        "../scripts/paper_figure.py"


rule paper_fig08:
    input:
        sensitivity=f"{RESULTS}/sensitivity/{HYBRID_RUN}.nc",
    output:
        **paper_output("Fig08"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig08.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig08",
    script:
        "../scripts/paper_figure.py"


rule paper_fig09:
    input:
        spikes=expand(f"{RESULTS}/network/{{run}}/spikes.nc", run=J_RUNS),
        signals=expand(f"{RESULTS}/network/{{run}}/signals.nc", run=J_RUNS),
        predictions=expand(
            f"{RESULTS}/prediction/{{run}}/{PRIMARY_VARIANT}.nc", run=J_RUNS
        ),
        comparisons=expand(
            f"{RESULTS}/comparison/{{run}}/{PRIMARY_VARIANT}.nc", run=J_RUNS
        ),
    output:
        **paper_output("Fig09"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig09.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig09",
        J=[run_config(config, r)["weight_scaling"]["J"] for r in J_RUNS],
        variant=PRIMARY_VARIANT,
    script:
        "../scripts/paper_figure.py"
