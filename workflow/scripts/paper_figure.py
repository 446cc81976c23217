# Snakemake script: one paper figure (lfpk.figures.paper.make) from the rule's inputs and params.
from lfpk.base.logs import log_to
from lfpk.figures.paper import make

with log_to(snakemake.log[0]) as log:
    inputs = {name: getattr(snakemake.input, name) for name in snakemake.input.keys()}
    params = {name: getattr(snakemake.params, name) for name in snakemake.params.keys()}
    if "cells" in params:  # Figs 2, S1: params name the cells they draw; the model is the workflow's config
        params.pop("cells")
        params["config"] = snakemake.config
    panels = make(params.pop("figure"), inputs, list(snakemake.output), params)
    log.info("%s: panels %s", snakemake.output[0], ", ".join(f"{p['letter']} ({p['description']})" for p in panels))
