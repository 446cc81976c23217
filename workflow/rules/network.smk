# Ground-truth network (lfpk.engines.network): one run per ground-truth variant `run` ("default" = the
# config as is). MPI through the `mpi` resource convention: a cluster profile can set
# resources mpi="srun" (and tasks) to replace the local mpiexec of the mpich wheel.
NETWORK_TASKS = int((config.get("network") or {}).get("tasks", 2))


rule network:
    input:
        mechanisms="build/mechanisms/lfpk-mechanisms.json",
        morphologies=morphology_files,
    output:
        spikes=f"{RESULTS}/network/{{run}}/spikes.nc",
        signals=f"{RESULTS}/network/{{run}}/signals.nc",
        membrane=f"{RESULTS}/network/{{run}}/membrane.nc",
    log:
        f"{RESULTS}/logs/network/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/network/{{run}}.tsv"
    conda:
        CONDA_ENV
    threads: NETWORK_TASKS
    resources:
        mpi="mpiexec",
        tasks=NETWORK_TASKS,
    params:
        parameters=lambda wc: network_parameters(config, wc.run),
        tasks=NETWORK_TASKS,
    script:
        "../scripts/network.py"
