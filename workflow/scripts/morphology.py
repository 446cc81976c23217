# Snakemake script: one population's morphology (.hoc) and segment table (.nc).
import numpy as np

from lfpk.base.logs import log_to
from lfpk.study.stages import population_morphology, write_morphology

with log_to(snakemake.log[0]) as log:
    name = snakemake.wildcards.population
    morphology = population_morphology(name, snakemake.params.parameters)
    write_morphology(morphology, snakemake.output.hoc, snakemake.output.nc)
    seg = morphology.segments()
    groups, counts = np.unique(seg["group"], return_counts=True)
    log.info("%s: %d segments (%s)%s", name, len(seg["area"]),
             ", ".join(f"{g} {n}" for g, n in zip(groups, counts)),
             f", from {morphology.file}" if morphology.file else "")
