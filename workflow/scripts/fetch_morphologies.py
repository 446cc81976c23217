# Snakemake script: download the configured morphology files (pinned sha256).
import sys

from lfpk.base.logs import log_to
from lfpk.model.morphology.fetch import FetchError, Source, fetch

with log_to(snakemake.log[0]) as log:
    failed = []
    for spec in snakemake.params.sources:
        src = Source(**spec)
        try:
            path = fetch(src)
            log.info("%s: %s (sha256 %s verified)%s", src.population, path, src.sha256,
                     f"; {src.citation}" if src.citation else "")
        except FetchError as exc:
            log.error("%s", exc)
            failed.append(str(exc))
    if failed:
        print("error: " + "\n".join(failed), file=sys.__stderr__)
        sys.exit(1)
