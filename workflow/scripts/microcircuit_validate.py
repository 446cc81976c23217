# Snakemake script: the microcircuit's kernel prediction against lfpk's hybrid replay of its spikes,
# under MPI. The study's config, as the kernels-only file the command reads (without the keys the
# workflow adds: kernel.variants, simulation.tstop/transient, figures; lfpk.api.config.NOT_KERNELS),
# is written next to the outputs and `{resources.mpi} -n {resources.tasks} python -m lfpk
# microcircuit validate` is launched on it (lfpk.base.mpi.MPILauncher, as the network rule), so the
# same code path serves the command line, the workflow and cluster profiles (resources.mpi = "srun").
import copy
import sys
from pathlib import Path

import yaml

from lfpk.api.config import NOT_KERNELS
from lfpk.base.logs import log_to
from lfpk.base.mpi import MPILauncher


def kernels_only(cfg):
    """``cfg`` without the keys a kernels-only file may not hold."""
    out = copy.deepcopy(dict(cfg))
    for key in NOT_KERNELS:
        head, _, tail = key.partition(".")
        if tail and isinstance(out.get(head), dict):
            out[head].pop(tail, None)
        elif not tail:
            out.pop(head, None)
    return out


with log_to(snakemake.log[0]) as log:
    outdir = Path(snakemake.output.summary).parent
    outdir.mkdir(parents=True, exist_ok=True)
    cfg_path = outdir / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(kernels_only(snakemake.params.config), sort_keys=False))
    program_log = Path(snakemake.log[0] + ".validate")
    tasks = int(snakemake.resources.get("tasks", 1))
    log.info("validation of %s on %d rank(s)", snakemake.input.spikes, tasks)
    args = [sys.executable, "-m", "lfpk", "microcircuit", "validate", "--config", cfg_path,
            "--spikes", snakemake.input.spikes, "--outdir", outdir, "--log", program_log]
    MPILauncher(tasks, snakemake.resources.get("mpi", "mpiexec"), log=log).run(
        args, program_log=program_log, name="lfpk microcircuit validate", program_log_title="validation log")
