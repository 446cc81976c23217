rule morphology:
    input:
        population_morphology_files,
    output:
        hoc=f"{RESULTS}/morphology/{{population}}.hoc",
        nc=f"{RESULTS}/morphology/{{population}}.nc",
    log:
        f"{RESULTS}/logs/morphology/{{population}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/morphology/{{population}}.tsv"
    conda:
        CONDA_ENV
    params:
        parameters=lambda wc: morphology_parameters(config, wc.population),
    script:
        "../scripts/morphology.py"


rule morphology_figure:
    input:
        expand(f"{RESULTS}/morphology/{{population}}.nc", population=POPULATIONS),
    output:
        png=report(
            f"{RESULTS}/figures/morphology.png",
            caption="../report/morphology.rst",
            category="Morphologies",
        ),
        pdf=f"{RESULTS}/figures/morphology.pdf",
    log:
        f"{RESULTS}/logs/morphology_figure.log",
    benchmark:
        f"{RESULTS}/benchmarks/morphology_figure.tsv"
    conda:
        CONDA_ENV
    params:
        style=figure_style(config),
    script:
        "../scripts/morphology_figure.py"
