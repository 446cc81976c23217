# Snakemake script: one ground-truth network run under MPI.
# The (validated, possibly --config-overridden) config of the run is written next to the outputs
# and `{resources.mpi} -n {threads} python -m lfpk network` is launched on it
# (lfpk.entry.workflow.launch_network, through lfpk.base.mpi.MPILauncher), so the same code path
# serves the CLI, the workflow and cluster profiles (resources.mpi = "srun").
from pathlib import Path

from lfpk.base.logs import log_to
from lfpk.entry.workflow import launch_network, run_config

with log_to(snakemake.log[0]) as log:
    run = snakemake.wildcards.run
    log.info("run %s", run)
    # ranks come from the config (network.tasks), not from --cores, so outputs do not depend on it
    launch_network(run_config(snakemake.config, run), Path(snakemake.output.spikes).parent,
                   int(snakemake.params.tasks), snakemake.resources.get("mpi", "mpiexec"), snakemake.log[0], log=log)
