# Snakemake script: one hybrid-scheme run under MPI (lfpk.engines.network.replay through `python -m
# lfpk.engines.network`): a reconstruction replaying the ground truth's spikes, or (params.volleys) a
# hybrid-kernel run with one volley per population.
from pathlib import Path

from lfpk.base.logs import log_to
from lfpk.entry.workflow import launch_network, run_config

with log_to(snakemake.log[0]) as log:
    opts = snakemake.params.options
    args = ["--membrane", snakemake.input.membrane, "--biophysics", opts["biophysics"]]
    args += ["--g-eff"] if opts["g_eff"] else []
    volleys = snakemake.params.volleys
    if volleys:
        args += ["--network-spikes", snakemake.input.spikes,
                 "--volleys", ",".join(f"{p}={t!r}" for p, t in volleys.items())]
    else:
        args += ["--replay", snakemake.input.spikes]
    launch_network(run_config(snakemake.config, snakemake.wildcards.run), Path(snakemake.output[0]).parent,
                   int(snakemake.params.tasks), snakemake.resources.get("mpi", "mpiexec"), snakemake.log[0],
                   extra_args=args, log=log)
