rule mechanisms:
    input:
        mod=sorted(glob.glob("mod/*.mod")),
    output:
        "build/mechanisms/lfpk-mechanisms.json",
    log:
        f"{RESULTS}/logs/mechanisms.log",
    benchmark:
        f"{RESULTS}/benchmarks/mechanisms.tsv"
    conda:
        CONDA_ENV
    shell:
        "lfpk mechanisms --mod-dir mod --build-dir build/mechanisms > {log} 2>&1"
