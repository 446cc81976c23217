# The figures of Hagen et al. (2022) for Model B (the Hay et al. 2011 cell as E; `figures.paper:
# model_b`), drawn by lfpk.figures.paper with the layouts of Model A and compared on the E cells'
# contribution (MODEL_B_SOURCE) as the study does: Fig 10 (as Figs 4 and 6), 11 (as 5), 12 (as 7),
# 13 (as 9, frozen kernels with g_eff), S2 (as 8: sensitivity.source E), S3 (own layout). Figs 2
# and S1 come from paper.smk. HYBRID_RUN and J_RUNS are those of paper.smk / common.smk.
MODEL_B_J = [run_config(config, r)["weight_scaling"]["J"] for r in J_RUNS]


rule paper_fig10:
    input:
        signals=f"{RESULTS}/network/{HYBRID_RUN}/signals.nc",
        approximations=hybrid_approximation_files(config, HYBRID_RUN),
    output:
        **paper_output("Fig10"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig10.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig10",
        layout="Fig06",
        labels=[a["label"] for a in hybrid_approximations(config)],
        title="Model B: ground truth vs the hybrid scheme's reconstructions and kernel predictions "
        f"({MODEL_B_SOURCE} contribution)",
        source=MODEL_B_SOURCE,
        citation=model_citations(config),
    script:
        "../scripts/paper_figure.py"


rule paper_fig11:
    input:
        hybrid=paper_approximation_files(config, "hybrid kernel", kernels=True),
        direct=paper_approximation_files(config, "direct kernel", kernels=True),
    output:
        **paper_output("Fig11"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig11.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig11",
        layout="Fig05",
        hybrid_labels=paper_approximation_labels(config, "hybrid kernel"),
        direct_labels=paper_approximation_labels(config, "direct kernel"),
        posts=[MODEL_B_SOURCE],
        citation=model_citations(config),
    script:
        "../scripts/paper_figure.py"


rule paper_fig12:
    input:
        comparison=f"{RESULTS}/hybrid/{HYBRID_RUN}/comparison.nc",
    output:
        **paper_output("Fig12"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig12.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig12",
        layout="Fig07",
        source=MODEL_B_SOURCE,
        citation=model_citations(config),
    script:
        "../scripts/paper_figure.py"


rule paper_fig13:
    input:
        spikes=expand(f"{RESULTS}/network/{{run}}/spikes.nc", run=J_RUNS),
        signals=expand(f"{RESULTS}/network/{{run}}/signals.nc", run=J_RUNS),
        predictions=expand(
            f"{RESULTS}/prediction/{{run}}/{MODEL_B_JSCAN_VARIANTS[0]}.nc", run=J_RUNS
        ),
        comparisons=expand(
            f"{RESULTS}/comparison/{{run}}/{MODEL_B_JSCAN_VARIANTS[0]}.nc", run=J_RUNS
        ),
    output:
        **paper_output("Fig13"),
    log:
        f"{RESULTS}/logs/figures/paper/Fig13.log",
    conda:
        CONDA_ENV
    params:
        figure="Fig13",
        layout="Fig09",
        J=MODEL_B_J,
        variant=MODEL_B_JSCAN_VARIANTS[0],
        source=MODEL_B_SOURCE,
        citation=model_citations(config),
    script:
        "../scripts/paper_figure.py"


rule paper_figS2:
    input:
        sensitivity=f"{RESULTS}/sensitivity/{HYBRID_RUN}.nc",
    output:
        **paper_output("FigS2"),
    log:
        f"{RESULTS}/logs/figures/paper/FigS2.log",
    conda:
        CONDA_ENV
    params:
        figure="FigS2",
        layout="Fig08",
        citation=model_citations(config),
    script:
        "../scripts/paper_figure.py"


rule paper_figS3:
    input:
        comparisons=[
            f"{RESULTS}/comparison/{run}/{variant}.nc"
            for variant in MODEL_B_JSCAN_VARIANTS
            for run in J_RUNS
        ],
    output:
        **paper_output("FigS3"),
    log:
        f"{RESULTS}/logs/figures/paper/FigS3.log",
    conda:
        CONDA_ENV
    params:
        figure="FigS3",
        J=MODEL_B_J,
        labels=["scalar V_rest", "per-segment V_rest"],
        source=MODEL_B_SOURCE,
        citation=model_citations(config),
    script:
        "../scripts/paper_figure.py"
