# The package's NMODL files (lfpk/mod, package data) and the config's mechanisms.extra_dirs
# compiled into the study's build folder; every job loads it through LFPK_BUILD_DIR (set in
# common.smk).
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
    params:
        build_dir=lambda wildcards, output: os.path.dirname(output[0]),
    shell:
        "lfpk mechanisms --build-dir {params.build_dir}"
        + "".join(f" --extra-dir {d}" for d in EXTRA_MOD_DIRS)
        + " > {log} 2>&1"
