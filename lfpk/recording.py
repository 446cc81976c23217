"""Linear probe matrices of the ground truth: transmembrane currents (nA) -> LFP, CSD, dipole.

Every probe is a matrix ``M`` (rows x segments) applied to the segment currents ``I`` (nA), so a
population's signal is ``sum_cells M_cell @ I_cell``. The network concatenates the segments of all
its local cells of one population and applies one matrix per population (no Python loop over
segments or cells during the simulation).

* ``lfp`` (mV): line-source potential (LFPykit ``LineSourcePotential``, conductivity
  ``probes.sigma``) averaged over ``probes.lfp.contact_points`` (default 50) deterministic points
  on a disc of radius ``probes.lfp.contact_radius`` centred at ``(0, 0, channel_z)`` with normal
  ``probes.lfp.contact_normal`` (default ``[1, 0, 0]``, i.e. the contact faces along x).
* ``csd`` (uA/mm3): LFPykit ``LaminarCurrentSourceDensity``: current inside the cylinder of radius
  ``probes.csd.radius`` spanning ``channel_z +/- probes.csd.half_height`` (fraction of each
  segment's length inside), divided by its volume.
* ``cdm`` (nA um): current dipole moment ``sum_i r_i I_i`` with ``r_i`` the segment midpoints
  (LFPykit ``CurrentDipoleMoment``), components x, y, z.
"""

from __future__ import annotations

import numpy as np

#: nA/um3 -> uA/mm3
NA_PER_UM3_TO_UA_PER_MM3 = 1e6

COMPONENTS = ("x", "y", "z")


def disc_points(center, normal, radius, n):
    """``n`` deterministic points evenly covering a disc (sunflower / Vogel spiral).

    Parameters
    ----------
    center : array_like (3,)
        Disc centre (um).
    normal : array_like (3,)
        Disc normal.
    radius : float
        Disc radius (um).
    n : int
        Number of points (>= 1; 1 gives the centre).

    Returns
    -------
    ndarray (n, 3)
    """
    center = np.asarray(center, dtype=float)
    if n <= 1 or radius <= 0:
        return center[None, :]
    normal = np.asarray(normal, dtype=float)
    normal = normal / np.linalg.norm(normal)
    helper = np.array([0.0, 0.0, 1.0]) if abs(normal[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(normal, helper)
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    k = np.arange(n)
    r = radius * np.sqrt((k + 0.5) / n)
    theta = k * np.pi * (3.0 - np.sqrt(5.0))
    return center + (r * np.cos(theta))[:, None] * u + (r * np.sin(theta))[:, None] * v


def probe_settings(cfg):
    """Probe parameters from the config, with the defaults of optional keys filled in."""
    pr = cfg["probes"]
    lfp = pr.get("lfp", {})
    return {
        "sigma": float(pr["sigma"]),
        "channel_z": np.asarray(pr["channel_z"], dtype=float),
        "contact_radius": float(lfp.get("contact_radius", 0.0)),
        "contact_points": int(lfp.get("contact_points", 50)),
        "contact_normal": [float(v) for v in lfp.get("contact_normal", [1.0, 0.0, 0.0])],
        "csd_radius": float(pr["csd"]["radius"]),
        "csd_half_height": float(pr["csd"]["half_height"]),
    }


def geometry(x, y, z, d):
    """LFPykit ``CellGeometry`` of a set of segments (x, y, z (n, 2) um, d (n,) um)."""
    from lfpykit import CellGeometry

    return CellGeometry(x=np.asarray(x, float), y=np.asarray(y, float), z=np.asarray(z, float),
                        d=np.asarray(d, float))


def lfp_matrix(geom, settings):
    """(channels, segments) mV/nA, disc-averaged line-source potential."""
    from lfpykit import LineSourcePotential

    s = settings
    rows = []
    for zc in s["channel_z"]:
        pts = disc_points([0.0, 0.0, zc], s["contact_normal"], s["contact_radius"], s["contact_points"])
        M = LineSourcePotential(geom, x=pts[:, 0], y=pts[:, 1], z=pts[:, 2],
                                sigma=s["sigma"]).get_transformation_matrix()
        rows.append(M.mean(axis=0))
    return np.array(rows)


def csd_matrix(geom, settings):
    """(channels, segments) (uA/mm3)/nA, laminar CSD in cylinders."""
    import warnings

    from lfpykit import LaminarCurrentSourceDensity

    s = settings
    cz = s["channel_z"]
    zz = np.column_stack([cz - s["csd_half_height"], cz + s["csd_half_height"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "compartments should be shorter" note
        M = LaminarCurrentSourceDensity(geom, z=zz, r=np.full(len(cz), s["csd_radius"])
                                        ).get_transformation_matrix()
    return M * NA_PER_UM3_TO_UA_PER_MM3


def cdm_matrix(geom):
    """(3, segments) um: current dipole moment per nA."""
    from lfpykit import CurrentDipoleMoment

    return CurrentDipoleMoment(geom).get_transformation_matrix()


def probe_matrix(x, y, z, d, settings):
    """Stacked ``[lfp; csd; cdm]`` matrix of a set of segments and the row slices of each probe."""
    n_ch = len(settings["channel_z"])
    if len(d) == 0:
        return np.zeros((2 * n_ch + 3, 0)), row_slices(n_ch)
    geom = geometry(x, y, z, d)
    M = np.vstack([lfp_matrix(geom, settings), csd_matrix(geom, settings), cdm_matrix(geom)])
    return M, row_slices(n_ch)


def row_slices(n_ch):
    return {"lfp": slice(0, n_ch), "csd": slice(n_ch, 2 * n_ch), "cdm": slice(2 * n_ch, 2 * n_ch + 3)}
