"""Helpers for the Snakemake workflow: the list of final targets of a configuration.

Kept in the package (not the Snakefile) so the wiring stays declarative and testable.
"""

from __future__ import annotations


def results_dir(cfg) -> str:
    """Folder of a study's outputs, ``results/<study>``."""
    return f"results/{cfg['study']}"


def all_targets_for(cfg) -> list[str]:
    """Every final output of the study described by ``cfg`` (inputs of ``rule all``)."""
    res = results_dir(cfg)
    pops = list(cfg["populations"])
    targets = ["build/mechanisms/lfpk-mechanisms.json"]
    targets += [f"{res}/morphology/{p}.{ext}" for p in pops for ext in ("hoc", "nc")]
    targets += [f"{res}/figures/morphology.{ext}" for ext in ("png", "pdf")]
    targets += [f"{res}/kernels/{CONFIG_RUN}/kernels.nc"]
    return targets


#: Kernel run whose V_rest and rates come from the config (no ground truth needed).
CONFIG_RUN = "config"


def kernel_membrane_for(cfg, run) -> list[str]:
    """Ground-truth membrane file a kernel run takes V_rest and rates from (none for ``config``)."""
    if run == CONFIG_RUN:
        return []
    return [f"{results_dir(cfg)}/network/{run}/membrane.nc"]
