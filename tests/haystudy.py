"""Model B with a stand-in cell that installs offline (tests of the Hay et al. 2011 model).

LFPy's shipped ``L23E_p23.hoc`` (a pyramidal cell with a soma, four basal dendrites and a 314 um
apical dendrite) stands in for the Hay model's ``cell1.asc``, which lfpk does not ship: the config
is ``config/hay2011_laptop.yaml`` with only the E morphology replaced (the Hay channels,
densities, distributions, segmentation rule and axon stub stay); the stand-in needs no rotation
(its apical dendrite already points along z).
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

from threepop import lfpy_hoc

REPO = Path(__file__).resolve().parents[1]


def stand_in_config(folder, study="pytest_hay", sizes=None, tstop=None, transient=None):
    """The laptop Model B config with ``L23E_p23.hoc`` (copied into ``folder``) as the E cell
    (resolved, not validated)."""
    from lfpk.api.config import read_config_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(lfpy_hoc(), folder / "L23E_p23.hoc")
    cfg = copy.deepcopy(read_config_file(REPO / "config" / "hay2011_laptop.yaml"))
    cfg["study"] = study
    E = cfg["populations"]["E"]
    morph = E["morphology"]
    for key in ("url", "sha256", "citation"):
        morph.pop(key, None)
    morph["file"] = str(folder / "L23E_p23.hoc")
    E.pop("rotation", None)
    if sizes:
        for name, n in sizes.items():
            cfg["populations"][name]["size"] = int(n)
    if tstop is not None:
        cfg["simulation"]["tstop"] = float(tstop)
    if transient is not None:
        cfg["simulation"]["transient"] = float(transient)
    return cfg


def stand_in_model(folder):
    """The :class:`lfpk.model.NetworkModel` of :func:`stand_in_config` (validated)."""
    from lfpk.api.config import validate_config
    from lfpk.model import from_config

    return from_config(validate_config(stand_in_config(folder)))
