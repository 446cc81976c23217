# Point-neuron (LIF, NEST) network fitted to a ground-truth run, with kernel predictions made while
# NEST runs and compared with the ground truth (Hagen et al. 2022, Fig 14). Only with a `pointnet`
# section in the config. NEST threads come from pointnet.threads, not from --cores: they are part of
# the model (NEST draws one random stream per thread), so outputs do not depend on --cores.
from lfpk.study.pointnet.parameters import POINTNET_RUN, config_subset

POINTNET_THREADS = int(config["pointnet"]["threads"]) if "pointnet" in config else 1


rule pointnet_fit:
    input:
        spikes=f"{RESULTS}/network/{{run}}/spikes.nc",
    output:
        f"{RESULTS}/pointnet/{{run}}/fit.nc",
    log:
        f"{RESULTS}/logs/pointnet/{{run}}/fit.log",
    benchmark:
        f"{RESULTS}/benchmarks/pointnet/{{run}}/fit.tsv"
    conda:
        CONDA_ENV
    threads: POINTNET_THREADS
    params:
        config=lambda wc: config_subset(run_config(config, wc.run)),
    script:
        "../scripts/pointnet_fit.py"


rule pointnet_simulate:
    input:
        fit=f"{RESULTS}/pointnet/{{run}}/fit.nc",
        kernels=f"{RESULTS}/kernels/{{run}}/{PRIMARY_VARIANT}/kernels.nc",
    output:
        spikes=f"{RESULTS}/pointnet/{{run}}/spikes.nc",
        online=f"{RESULTS}/pointnet/{{run}}/online.nc",
    log:
        f"{RESULTS}/logs/pointnet/{{run}}/simulate.log",
    benchmark:
        f"{RESULTS}/benchmarks/pointnet/{{run}}/simulate.tsv"
    conda:
        CONDA_ENV
    threads: POINTNET_THREADS
    params:
        config=lambda wc: config_subset(run_config(config, wc.run)),
    script:
        "../scripts/pointnet_simulate.py"


rule pointnet_offline:
    input:
        spikes=f"{RESULTS}/pointnet/{{run}}/spikes.nc",
        kernels=f"{RESULTS}/kernels/{{run}}/{PRIMARY_VARIANT}/kernels.nc",
    output:
        f"{RESULTS}/pointnet/{{run}}/offline.nc",
    log:
        f"{RESULTS}/logs/pointnet/{{run}}/offline.log",
    benchmark:
        f"{RESULTS}/benchmarks/pointnet/{{run}}/offline.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/predict.py"


rule pointnet_compare:
    input:
        signals=f"{RESULTS}/network/{{run}}/signals.nc",
        prediction=f"{RESULTS}/pointnet/{{run}}/online.nc",
    output:
        nc=f"{RESULTS}/pointnet/{{run}}/comparison.nc",
        csv=f"{RESULTS}/pointnet/{{run}}/comparison.csv",
    log:
        f"{RESULTS}/logs/pointnet/{{run}}/comparison.log",
    benchmark:
        f"{RESULTS}/benchmarks/pointnet/{{run}}/comparison.tsv"
    conda:
        CONDA_ENV
    params:
        transient=config["simulation"]["transient"],
        label=f"LIF-{PRIMARY_VARIANT}",
    script:
        "../scripts/compare.py"


rule pointnet_rates:
    input:
        ground_truth=f"{RESULTS}/network/{{run}}/spikes.nc",
        spikes=f"{RESULTS}/pointnet/{{run}}/spikes.nc",
    output:
        f"{RESULTS}/pointnet/{{run}}/rates.nc",
    log:
        f"{RESULTS}/logs/pointnet/{{run}}/rates.log",
    benchmark:
        f"{RESULTS}/benchmarks/pointnet/{{run}}/rates.tsv"
    conda:
        CONDA_ENV
    params:
        config=lambda wc: config_subset(run_config(config, wc.run)),
    script:
        "../scripts/pointnet_rates.py"


rule figure_fig14:
    input:
        spikes=f"{RESULTS}/pointnet/{POINTNET_RUN}/spikes.nc",
        online=f"{RESULTS}/pointnet/{POINTNET_RUN}/online.nc",
        offline=f"{RESULTS}/pointnet/{POINTNET_RUN}/offline.nc",
        signals=f"{RESULTS}/network/{POINTNET_RUN}/signals.nc",
        comparison_lif=f"{RESULTS}/pointnet/{POINTNET_RUN}/comparison.nc",
        comparison_gt=f"{RESULTS}/comparison/{POINTNET_RUN}/{PRIMARY_VARIANT}.nc",
        rates=f"{RESULTS}/pointnet/{POINTNET_RUN}/rates.nc",
    output:
        png=report(
            f"{RESULTS}/figures/paper/Fig14.png",
            caption="../report/pointnet.rst",
            category="Point-neuron network",
        ),
        pdf=f"{RESULTS}/figures/paper/Fig14.pdf",
    log:
        f"{RESULTS}/logs/figures/paper/Fig14.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/paper/Fig14.tsv"
    conda:
        CONDA_ENV
    params:
        style=figure_style(config),
    script:
        "../scripts/figure_fig14.py"
