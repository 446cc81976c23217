# The package's NMODL files (lfpk/mod, package data) compiled into the study's build folder; every
# job loads it through LFPK_BUILD_DIR (set in common.smk).
rule mechanisms:
    input:
        mod=MOD_FILES,
    output:
        f"{MECHANISMS_DIR}/lfpk-mechanisms.json",
    log:
        f"{RESULTS}/logs/mechanisms.log",
    benchmark:
        f"{RESULTS}/benchmarks/mechanisms.tsv"
    conda:
        CONDA_ENV
    shell:
        "lfpk mechanisms --build-dir {MECHANISMS_DIR} > {log} 2>&1"
