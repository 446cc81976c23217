# Morphology files named by `populations.<name>.morphology.url`, downloaded (once) to their
# `morphology.file` with the pinned sha256 checked before they are stored. Without network access
# the job fails with a message saying what to download and where to put it; a file put there by
# hand is used as it is (and checked against the sha256 by every rule that builds a cell).
if MORPHOLOGY_DOWNLOADS:

    localrules:
        fetch_morphologies,

    rule fetch_morphologies:
        output:
            MORPHOLOGY_DOWNLOADS,
        log:
            f"{RESULTS}/logs/fetch_morphologies.log",
        conda:
            CONDA_ENV
        params:
            sources=[vars(s) for s in MORPHOLOGY_SOURCES],
        script:
            "../scripts/fetch_morphologies.py"
