# Single-cell check of the active cells of `cell_check.populations` (lfpk.study.cellcheck): somatic
# step-current firing and the back-propagating action potential (Hay et al. 2011's protocols).
rule cell_check:
    input:
        mechanisms="build/mechanisms/lfpk-mechanisms.json",
        morphologies=population_morphology_files,
    output:
        nc=f"{RESULTS}/cell_check/{{population}}.nc",
        png=report(
            f"{RESULTS}/figures/cell_check_{{population}}.png",
            caption="../report/cell_check.rst",
            category="Single cells",
        ),
        pdf=f"{RESULTS}/figures/cell_check_{{population}}.pdf",
    log:
        f"{RESULTS}/logs/cell_check/{{population}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/cell_check/{{population}}.tsv"
    conda:
        CONDA_ENV
    params:
        parameters=lambda wc: cell_check_parameters(config, wc.population),
    script:
        "../scripts/cell_check.py"
