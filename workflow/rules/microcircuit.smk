# The microcircuit study (config with a `microcircuit` block; lfpk.study.microcircuit, issue 27):
# NEST's point-neuron microcircuit (Potjans & Diesmann 2014) gives the spikes, the kernels of the
# config's layered multicompartment description (rule kernels, run `config`, the primary variant)
# turn them into LFP, CSD, dipole and EEG, and a figure shows them. The targets are
# lfpk.entry.workflow.microcircuit_targets. NEST threads come from microcircuit.threads, not from
# --cores: they are part of the model (one random stream per thread).
from lfpk.entry.workflow import CONFIG_RUN, is_microcircuit, microcircuit_network_config

if is_microcircuit(config):
    MICROCIRCUIT = f"{RESULTS}/microcircuit"
    MICROCIRCUIT_THREADS = int(config["microcircuit"].get("threads", 1))

    rule microcircuit_simulate:
        output:
            spikes=f"{MICROCIRCUIT}/spikes.nc",
            rates=f"{MICROCIRCUIT}/rates.nc",
        log:
            f"{RESULTS}/logs/microcircuit/simulate.log",
        benchmark:
            f"{RESULTS}/benchmarks/microcircuit/simulate.tsv"
        conda:
            CONDA_ENV
        threads: MICROCIRCUIT_THREADS
        params:
            config=microcircuit_network_config(config),
        script:
            "../scripts/microcircuit_simulate.py"

    rule microcircuit_predict:
        input:
            spikes=f"{MICROCIRCUIT}/spikes.nc",
            kernels=f"{RESULTS}/kernels/{CONFIG_RUN}/{{variant}}/kernels.nc",
        output:
            f"{MICROCIRCUIT}/prediction/{{variant}}.nc",
        log:
            f"{RESULTS}/logs/microcircuit/prediction/{{variant}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/microcircuit/prediction/{{variant}}.tsv"
        conda:
            CONDA_ENV
        script:
            "../scripts/predict.py"

    rule microcircuit_figure:
        input:
            prediction=f"{MICROCIRCUIT}/prediction/{PRIMARY_VARIANT}.nc",
            spikes=f"{MICROCIRCUIT}/spikes.nc",
            rates=f"{MICROCIRCUIT}/rates.nc",
        output:
            png=report(
                f"{RESULTS}/figures/microcircuit.png",
                caption="../report/microcircuit.rst",
                category="Microcircuit",
            ),
            pdf=f"{RESULTS}/figures/microcircuit.pdf",
        log:
            f"{RESULTS}/logs/figures/microcircuit.log",
        benchmark:
            f"{RESULTS}/benchmarks/figures/microcircuit.tsv"
        conda:
            CONDA_ENV
        params:
            style=figure_style(config, "window"),
            layers=config.get("layers") or {},
        script:
            "../scripts/microcircuit_figure.py"

    # Validation of the kernel prediction against lfpk's own hybrid replay of the same spikes
    # (lfpk microcircuit validate, lfpk.study.microcircuit.validation; docs/microcircuit.md): not a
    # default target (at scale 0.1 the replay needs about 10 GB and about 1.6 hours on 2 cores, a
    # few minutes on 32 ranks), asked for by its outputs, e.g.
    #   snakemake --configfile config/microcircuit_laptop.yaml --profile profiles/slurm \
    #       results/microcircuit_laptop/microcircuit/validation/comparison.csv
    # MPI as the network rule: `{resources.mpi} -n {resources.tasks} python -m lfpk microcircuit
    # validate`, with network.tasks ranks (default 2; NETWORK_TASKS of network.smk). The outputs do
    # not depend on the rank count (bitwise the same data on 1 and 2 ranks, tested), so the launcher
    # takes the job's `tasks` resource and a profile may set another (--set-resources).
    rule microcircuit_validate:
        input:
            mechanisms="build/mechanisms/lfpk-mechanisms.json",
            spikes=f"{MICROCIRCUIT}/spikes.nc",
            morphologies=lambda wc: input_files(run_config(config, CONFIG_RUN)),
        output:
            signals=f"{MICROCIRCUIT}/validation/signals.nc",
            kernels=f"{MICROCIRCUIT}/validation/kernels.nc",
            prediction=f"{MICROCIRCUIT}/validation/prediction.nc",
            comparison=f"{MICROCIRCUIT}/validation/comparison.nc",
            summary=f"{MICROCIRCUIT}/validation/comparison.csv",
            channels=f"{MICROCIRCUIT}/validation/channels.csv",
            traces=f"{MICROCIRCUIT}/validation/traces.png",
            metrics=f"{MICROCIRCUIT}/validation/metrics.png",
            profiles=f"{MICROCIRCUIT}/validation/profiles.png",
        log:
            f"{RESULTS}/logs/microcircuit/validate.log",
        benchmark:
            f"{RESULTS}/benchmarks/microcircuit/validate.tsv"
        conda:
            CONDA_ENV
        threads: NETWORK_TASKS
        resources:
            mpi="mpiexec",
            tasks=NETWORK_TASKS,
        params:
            config=lambda wc: run_config(config, CONFIG_RUN),
        script:
            "../scripts/microcircuit_validate.py"
