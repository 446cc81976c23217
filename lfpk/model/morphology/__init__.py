"""Cell morphologies: ball-and-stick cells and reconstructed cells from files, their section
groups, rotations, segmentation (d_lambda or length rule), axon stubs and the segment table
contract.

* :class:`BallAndStick` -- the study's generated cells (soma, dend, apic on the z axis);
* :class:`FileMorphology` -- SWC, Neurolucida ASC or hoc files through NEURON's Import3d;
* :func:`from_population` -- the morphology of one config population (either kind);
* :mod:`~lfpk.model.morphology.table` -- the segment table (x, y, z, diam, length, area, section,
  group, x_norm, path_distance) and the soma centre;
* :mod:`~lfpk.model.morphology.groups` -- section groups (soma, dend, apic, axon, all, config-defined);
* :mod:`~lfpk.model.morphology.rotation` -- rotations as LFPy's ``Cell.set_rotation``;
* :mod:`~lfpk.model.morphology.hoc` -- the one writer of ``.hoc`` morphology text (plain numbers);
* :mod:`~lfpk.model.morphology.synthetic` -- a made-up pyramidal cell for tests and benchmarks.
"""

from __future__ import annotations

from lfpk.model.morphology.ballstick import SECTIONS, BallAndStick
from lfpk.model.morphology.cable import d_lambda_nseg, lambda_ac, length_nseg, segmentation_options
from lfpk.model.morphology.cell import CellSections
from lfpk.model.morphology.groups import (
    BUILTIN_GROUPS,
    TYPE_GROUPS,
    compile_groups,
    group_mask,
    section_settings,
    type_group,
)
from lfpk.model.morphology.imported import FileMorphology, MorphologyError
from lfpk.model.morphology.rotation import rotation_matrix

__all__ = [
    "SECTIONS", "BallAndStick", "FileMorphology", "MorphologyError", "CellSections", "lambda_ac",
    "d_lambda_nseg", "length_nseg", "rotation_matrix", "group_mask", "type_group", "TYPE_GROUPS", "BUILTIN_GROUPS",
    "from_population",
]


def from_population(name, population, passive=(), what=None):
    """The morphology of one entry of the config's ``populations``.

    Parameters
    ----------
    name : str
        Population name.
    population : dict
        Its config entry (``morphology`` either ball-and-stick sections or ``file:``; ``Ra``,
        ``cm``, ``segmentation``, optional ``rotation``). A relative ``morphology.file`` is taken
        relative to the working directory (:func:`lfpk.model.resolve_paths` makes config paths
        absolute first).
    passive : list of (group, settings)
        Ordered biophysics group settings whose ``Ra`` / ``cm`` override the population's.
    """
    what = what or f"populations.{name}.morphology"
    morph = population["morphology"]
    if "file" in morph:
        seg = segmentation_options(population["segmentation"], f"populations.{name}.segmentation")
        return FileMorphology(name, morph["file"], Ra=population["Ra"], cm=population["cm"], **seg,
                              rotation=population.get("rotation"), groups=morph.get("groups"),
                              passive=passive, what=f"{what}.file", axon_stub=morph.get("axon_stub"),
                              sha256=morph.get("sha256"), url=morph.get("url"))
    custom = compile_groups(morph.get("groups"), f"{what}.groups")
    passive = list(passive)
    return BallAndStick.from_config(name, population,
                                    section_Ra=section_settings(SECTIONS, custom, passive, "Ra"),
                                    section_cm=section_settings(SECTIONS, custom, passive, "cm"))
