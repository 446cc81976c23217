# Snakemake script: one population's morphology (.hoc) and segment table (.nc).
from lfpk.logs import log_to
from lfpk.morphology import BallAndStick
from lfpk.stages import write_morphology

with log_to(snakemake.log[0]) as log:
    name = snakemake.wildcards.population
    morphology = BallAndStick.from_config(name, snakemake.params.population)
    write_morphology(morphology, snakemake.output.hoc, snakemake.output.nc)
    log.info("%s: %d segments, nseg %s", name, len(morphology.segments()["area"]),
             {s: morphology.nseg(s) for s in ("soma", "dend", "apic")})
