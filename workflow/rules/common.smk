# Shared wiring: configuration validation, output locations and wildcard constraints.
import glob

from lfpk.config import validate_config
from lfpk.workflow import all_targets_for

validate_config(config)

# Software of every rule for --use-conda (the tested path installs it with pip into .venv).
CONDA_ENV = "../../environment.yml"
STUDY = config["study"]
RESULTS = f"results/{STUDY}"
POPULATIONS = list(config["populations"])


wildcard_constraints:
    population="|".join(POPULATIONS),


def all_targets():
    return all_targets_for(config)
