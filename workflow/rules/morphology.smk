rule morphology:
    output:
        hoc=f"{RESULTS}/morphology/{{population}}.hoc",
        nc=f"{RESULTS}/morphology/{{population}}.nc",
    params:
        population=lambda wc: config["populations"][wc.population],
    log:
        f"{RESULTS}/logs/morphology/{{population}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/morphology/{{population}}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/morphology.py"


rule morphology_figure:
    input:
        expand(f"{RESULTS}/morphology/{{population}}.nc", population=POPULATIONS),
    output:
        png=f"{RESULTS}/figures/morphology.png",
        pdf=f"{RESULTS}/figures/morphology.pdf",
    log:
        f"{RESULTS}/logs/morphology_figure.log",
    benchmark:
        f"{RESULTS}/benchmarks/morphology_figure.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/morphology_figure.py"
