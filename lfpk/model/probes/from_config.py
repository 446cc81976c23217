"""The kernel engine's probes of one population, from the study configuration."""

from __future__ import annotations

import numpy as np

from lfpk.model.probes.dipole import CurrentDipoleMoment
from lfpk.model.probes.gauss_cylinder import GaussCylinderCSD, GaussCylinderPotential
from lfpk.model.probes.head import MEG, FourSphereEEG
from lfpk.model.probes.population import PopulationAveragedModel
from lfpk.model.probes.uniform_cylinder import (
    UniformCylinderCSD,
    UniformCylinderPotential,
)


def probes_from_config(cfg, population, cell=None, random_rotation=False):
    """Probes of the kernel engine for one population, from a validated config.

    Parameters
    ----------
    cfg : dict
        Validated configuration (:func:`lfpk.api.config.load_config`).
    population : str or dict
        Population name (key of ``cfg['populations']``) or its config entry (needs
        ``placement.radius`` and either ``placement.z_sd`` or a ``layer`` of ``cfg['layers']``,
        um). With a ``layer`` the somata are uniform in depth between the layer's bounds and
        ``cell`` is placed at the layer's mid-depth.
    cell : object, optional
        Kernel cell geometry (placed at the population's mean soma position); may be supplied
        later via ``get_transformation_matrix(geometry)`` or ``probe.cell``.
    random_rotation : bool
        The population's cells are rotated about z by random angles (``rotation.random_z``): the
        dipole's x and y components and the ``probes.models`` average over the rotation.

    Returns
    -------
    dict
        Insertion-ordered ``name -> probe`` with keys ``'lfp'`` (GaussCylinderPotential, or
        UniformCylinderPotential for a layer; mV), ``'csd'`` (GaussCylinderCSD, or
        UniformCylinderCSD for a layer; uA/mm3), ``'cdm'`` (CurrentDipoleMoment, nA um),
        ``'eeg'`` (FourSphereEEG, mV) and ``'meg'`` (MEG, H in nA/um). Every probe has
        ``input`` (``'imem'``: apply to segment currents; ``'cdm'``: apply to the ``'cdm'``
        output), ``units``, ``long_name``, ``channel_dim``, ``channel_coord`` and
        ``channel_attrs`` for netCDF attributes.

    Notes
    -----
    The config's ``probes.lfp.contact_radius`` (disc-averaged contacts of the ground truth) is
    not used: the Gaussian-cylinder potential is evaluated on the axis, and a 5-um contact
    average changes it by O((contact_radius / R)^2).

    A population (or cell type entry) with a ``layer`` gets the exact uniform-depth LFP and CSD
    (:mod:`lfpk.model.probes.uniform_cylinder`); the dipole, EEG and MEG do not depend on the soma
    depth, and ``probes.models`` average over the Gaussian of the layer's standard deviation
    ``(z_top - z_bottom) / sqrt(12)`` (``placement.z_sd`` when the entry gives it).
    """
    probes = cfg["probes"]
    where = f"populations.{population}" if isinstance(population, str) else "population"
    if isinstance(population, str):
        try:
            population = cfg["populations"][population]
        except KeyError:
            raise ValueError(
                f"population {population!r} not in config populations {sorted(cfg['populations'])}"
            ) from None
    placement = population["placement"]
    R = placement["radius"]
    z = np.asarray(probes["channel_z"], dtype=float)
    eeg = probes["eeg"]
    out = {}
    thickness = _layer_thickness(cfg, population, where)
    if thickness is None:
        sigma_z = placement["z_sd"]
        out["lfp"] = GaussCylinderPotential(cell, z=z, sigma=probes["sigma"], R=R, sigma_z=sigma_z)
        out["csd"] = GaussCylinderCSD(
            cell, z=z, R=probes["csd"]["radius"], h=probes["csd"]["half_height"], sigma_z=sigma_z,
            R_population=R,
        )
    else:
        # the layer's SD, as lfpk.model.description.SomaDepth.sd, unless the entry gives z_sd
        sigma_z = placement.get("z_sd", thickness / np.sqrt(12.0))
        out["lfp"] = UniformCylinderPotential(cell, z=z, sigma=probes["sigma"], R=R, thickness=thickness)
        out["csd"] = UniformCylinderCSD(
            cell, z=z, R=probes["csd"]["radius"], h=probes["csd"]["half_height"], thickness=thickness,
            R_population=R,
        )
    out["cdm"] = CurrentDipoleMoment(cell, random_rotation=random_rotation)
    out["eeg"] = FourSphereEEG(
        radii=eeg["radii"], sigmas=eeg["sigmas"], dipole_location=eeg["dipole_location"],
        electrode_locations=eeg["electrode_location"],
    )
    out["meg"] = MEG(sensor_locations=probes["meg"]["sensor_location"],
                     dipole_location=eeg["dipole_location"])
    for name, spec in (probes.get("models") or {}).items():
        if name in out:
            raise ValueError(f"probes.models.{name}: name clashes with the built-in probe {name!r}")
        kwargs = {k: np.asarray(v, dtype=float) if isinstance(v, list) else v
                  for k, v in (spec.get("kwargs") or {}).items()}  # LFPykit wants arrays
        order = spec.get("order")
        model = PopulationAveragedModel(
            spec["model"], cell, model_kwargs=kwargs, R=R, sigma_z=sigma_z,
            order=None if order is None else tuple(order), tolerance=float(spec.get("tolerance", 0.01)),
            random_rotation=random_rotation,
        )
        model.channel_dim = f"{name}_channel"
        out[name] = model
    return out


def _layer_thickness(cfg, entry, where):
    """Thickness ``z_top - z_bottom`` (um) of the soma layer of a population or cell type entry
    (its ``layer``, bounds from ``cfg['layers']``), or None for an entry without a layer."""
    layer = entry.get("layer")
    if layer is None:
        return None
    layers = cfg.get("layers") or {}
    try:
        bottom, top = layers[layer]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{where}.layer: {layer!r} is not a layer of the config (layers: {', '.join(layers)})") from None
    return float(top) - float(bottom)
