# The hybrid scheme (Hagen et al. 2022, Figs 4-7; lfpk.study.hybrid, lfpk.engines.network.replay): the
# ground-truth run hybrid.run rebuilt with linearised cells and current synapses. Reconstructions
# replay its spikes and extrinsic drive; hybrid-kernel runs fire every population once; the eight
# approximations (reconstructions, hybrid-kernel and direct-kernel predictions) are compared with
# the ground truth in one file. MPI as the network rule (resources mpi, network.tasks ranks).


rule hybrid_reconstruction:
    input:
        mechanisms="build/mechanisms/lfpk-mechanisms.json",
        spikes=f"{RESULTS}/network/{{run}}/spikes.nc",
        membrane=f"{RESULTS}/network/{{run}}/membrane.nc",
        morphologies=morphology_files,
    output:
        f"{RESULTS}/hybrid/{{run}}/reconstruction/{{hvariant}}/signals.nc",
    log:
        f"{RESULTS}/logs/hybrid/{{run}}/reconstruction_{{hvariant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/hybrid/{{run}}/reconstruction_{{hvariant}}.tsv"
    conda:
        CONDA_ENV
    threads: NETWORK_TASKS
    resources:
        mpi="mpiexec",
        tasks=NETWORK_TASKS,
    params:
        parameters=lambda wc: network_parameters(config, wc.run),
        options=lambda wc: parse_hybrid(wc.hvariant),
        tasks=NETWORK_TASKS,
        volleys=None,
    script:
        "../scripts/hybrid.py"


rule hybrid_kernel_run:
    input:
        mechanisms="build/mechanisms/lfpk-mechanisms.json",
        spikes=f"{RESULTS}/network/{{run}}/spikes.nc",
        membrane=f"{RESULTS}/network/{{run}}/membrane.nc",
        morphologies=morphology_files,
    output:
        f"{RESULTS}/hybrid/{{run}}/kernel_run/{{hvariant}}/signals.nc",
    log:
        f"{RESULTS}/logs/hybrid/{{run}}/kernel_run_{{hvariant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/hybrid/{{run}}/kernel_run_{{hvariant}}.tsv"
    conda:
        CONDA_ENV
    threads: NETWORK_TASKS
    resources:
        mpi="mpiexec",
        tasks=NETWORK_TASKS,
    params:
        parameters=lambda wc: network_parameters(config, wc.run),
        options=lambda wc: parse_hybrid(wc.hvariant),
        tasks=NETWORK_TASKS,
        volleys=hybrid_volleys(config),
        tau=config["kernel"]["tau"],
    script:
        "../scripts/hybrid.py"


rule hybrid_kernels:
    input:
        f"{RESULTS}/hybrid/{{run}}/kernel_run/{{hvariant}}/signals.nc",
    output:
        f"{RESULTS}/hybrid/{{run}}/kernels/{{hvariant}}.nc",
    log:
        f"{RESULTS}/logs/hybrid/{{run}}/kernels_{{hvariant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/hybrid/{{run}}/kernels_{{hvariant}}.tsv"
    conda:
        CONDA_ENV
    params:
        volleys=hybrid_volleys(config),
        tau=config["kernel"]["tau"],
    script:
        "../scripts/hybrid_kernels.py"


rule hybrid_predict:
    input:
        spikes=f"{RESULTS}/network/{{run}}/spikes.nc",
        kernels=f"{RESULTS}/hybrid/{{run}}/kernels/{{hvariant}}.nc",
    output:
        f"{RESULTS}/hybrid/{{run}}/prediction/{{hvariant}}.nc",
    log:
        f"{RESULTS}/logs/hybrid/{{run}}/prediction_{{hvariant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/hybrid/{{run}}/prediction_{{hvariant}}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/predict.py"


rule hybrid_compare:
    input:
        signals=f"{RESULTS}/network/{{run}}/signals.nc",
        approximations=lambda wc: hybrid_approximation_files(config, wc.run),
    output:
        nc=f"{RESULTS}/hybrid/{{run}}/comparison.nc",
        csv=f"{RESULTS}/hybrid/{{run}}/comparison.csv",
    log:
        f"{RESULTS}/logs/hybrid/{{run}}/comparison.log",
    benchmark:
        f"{RESULTS}/benchmarks/hybrid/{{run}}/comparison.tsv"
    conda:
        CONDA_ENV
    params:
        approximations=lambda wc: hybrid_approximations(config),
    script:
        "../scripts/hybrid_compare.py"
