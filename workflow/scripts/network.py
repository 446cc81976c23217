# Snakemake script: one ground-truth network run under MPI.
# The (validated, possibly --config-overridden) config of the workflow is written next to the
# outputs and `{resources.mpi} -n {threads} python -m lfpk.network` is launched on it, so the
# same code path serves the CLI, the workflow and cluster profiles (resources.mpi = "srun").
import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from lfpk.logs import log_to
from lfpk.network import find_mpiexec
from lfpk.workflow import run_config

with log_to(snakemake.log[0]) as log:
    run = snakemake.wildcards.run
    outdir = Path(snakemake.output.spikes).parent
    outdir.mkdir(parents=True, exist_ok=True)
    cfg = run_config(snakemake.config, run)
    cfg.get("network", {}).pop("runs", None)  # this run's own config: the other runs are not part of it
    cfg_path = outdir / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    # ranks come from the config (network.tasks), not from --cores, so outputs do not depend on it
    tasks = int(snakemake.params.tasks)
    launcher = snakemake.resources.get("mpi", "mpiexec")
    if launcher == "mpiexec":
        launcher = find_mpiexec() or "mpiexec"
    cmd = [sys.executable, "-m", "lfpk.network", "--config", str(cfg_path), "--outdir", str(outdir),
           "--log", snakemake.log[0] + ".network"]
    if tasks > 1:
        cmd = [*shlex.split(launcher), "-n", str(tasks), *cmd]
    log.info("run %s: %s", run, " ".join(cmd))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_"))}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    network_log = Path(snakemake.log[0] + ".network")
    if network_log.exists():
        log.info("network log:\n%s", network_log.read_text())
        network_log.unlink()
    if proc.stdout.strip():
        log.info("stdout:\n%s", proc.stdout[-20000:])
    if proc.stderr.strip():
        log.info("stderr:\n%s", proc.stderr[-20000:])
    if proc.returncode != 0:
        raise RuntimeError(f"lfpk.network failed with exit code {proc.returncode}: {' '.join(cmd)}")
