"""Stage functions called by the workflow scripts and the CLI (one per output family)."""

from __future__ import annotations

from pathlib import Path

from lfpk.io import atomic_path, write_dataset


def write_morphology(morphology, hoc_path, nc_path):
    """Write one population's ``.hoc`` morphology and its segment table ``.nc``.

    Parameters
    ----------
    morphology : lfpk.morphology.BallAndStick
    hoc_path, nc_path : path-like
        Output paths.
    """
    with atomic_path(hoc_path) as tmp:
        Path(tmp).write_text(morphology.to_hoc())
    write_dataset(morphology.segment_table(), nc_path)


def morphology_figure(nc_paths, figure_paths):
    """Figure of every population's morphology from their segment tables."""
    from lfpk import figures
    from lfpk.io import read_dataset

    tables = {}
    for p in nc_paths:
        ds = read_dataset(p)
        tables[ds.attrs["population"]] = ds
    figures.morphologies(tables, figure_paths)
