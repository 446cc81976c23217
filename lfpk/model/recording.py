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

Exact, partition-independent sums (:func:`cell_sums`): every cell's contribution is computed with
the same floating-point operations whatever else a rank holds (a loop over the cell's segments of
elementwise products, vectorised over cells, time and rows; no BLAS product, whose blocking
depends on the array sizes), rounded to an int64 multiple of a per-probe quantum
(:data:`QUANTA`) and summed over cells (and later over ranks) in int64, which is exact and
associative: the signals are bitwise identical for any number of ranks.
"""

from __future__ import annotations

import warnings

import numpy as np
from lfpykit import CellGeometry, CurrentDipoleMoment, LaminarCurrentSourceDensity, LineSourcePotential

#: nA/um3 -> uA/mm3
NA_PER_UM3_TO_UA_PER_MM3 = 1e6

COMPONENTS = ("x", "y", "z")

#: Fixed-point quantum of each probe's per-cell contribution (powers of 2, so scaling is exact).
#: One cell's contribution must stay below 2**62 quanta: 2**12 mV (LFP), 2**22 uA/mm3 (CSD),
#: 2**26 nA um (CDM), orders of magnitude above what a cell produces (< 1 mV at a contact
#: 10 um away, < 10 nA * 1000 um); the rounding error per cell is at most half a quantum:
#: 4.4e-16 mV, 4.5e-13 uA/mm3, 7.3e-12 nA um.
QUANTA = {"lfp": 2.0**-50, "csd": 2.0**-40, "cdm": 2.0**-36}
#: Largest per-cell contribution in quanta (checked every block).
MAX_QUANTA = 2.0**62
#: Cells and time steps per chunk of :func:`cell_sums` (keeps the work arrays in cache).
CELL_CHUNK, TIME_CHUNK = 128, 8


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
    return CellGeometry(x=np.asarray(x, float), y=np.asarray(y, float), z=np.asarray(z, float),
                        d=np.asarray(d, float))


def lfp_matrix(geom, settings):
    """(channels, segments) mV/nA, disc-averaged line-source potential."""
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


def row_quanta(n_ch):
    """Quantum (signal units) of every row of :func:`probe_matrix` (rows,)."""
    q = np.empty(2 * n_ch + 3)
    for name, sl in row_slices(n_ch).items():
        q[sl] = QUANTA[name]
    return q


def cell_matrices(M, nseg):
    """``M`` (rows, cells * nseg, cells' segments consecutive) as (nseg, rows, cells) for :func:`cell_sums`."""
    rows, n = M.shape
    return np.ascontiguousarray(M.reshape(rows, n // nseg, nseg).transpose(2, 0, 1))


def cell_sums(Mt, I, quanta, out):
    """Add ``sum_cells round(M_cell @ I_cell / quantum)`` (int64) to ``out`` (rows, time).

    Parameters
    ----------
    Mt : ndarray (nseg, rows, cells)
        From :func:`cell_matrices`.
    I : ndarray (time, cells * nseg)
        Segment currents (nA), cells' segments consecutive.
    quanta : ndarray (rows,)
        From :func:`row_quanta` (powers of 2).
    out : ndarray int64 (rows, time)

    Every cell's contribution is ``sum_s M[s] * I[s]`` accumulated in segment order with
    elementwise operations, so it does not depend on the other cells or the chunking; the int64
    sum over cells is exact. Raises ``OverflowError`` if a contribution exceeds
    :data:`MAX_QUANTA`.
    """
    nseg, rows, ncell = Mt.shape
    nt = I.shape[0]
    if ncell == 0 or nt == 0:
        return out
    B = I.reshape(nt, ncell, nseg)
    scale = (1.0 / quanta)[None, :, None]
    # time-major work arrays (time, rows, cells), the currents transposed one time chunk at a
    # time so the work set stays in cache (about 18 % faster than whole-block transposes at 1024
    # cells x 27 segments); each cell's sum runs over the segments in order either way
    for c0 in range(0, ncell, CELL_CHUNK):
        c1 = min(ncell, c0 + CELL_CHUNK)
        Mc = Mt[:, None, :, c0:c1]  # (nseg, 1, rows, cells)
        acc = np.empty((min(TIME_CHUNK, nt), rows, c1 - c0))
        tmp = np.empty_like(acc)
        Bt = np.empty((nseg, min(TIME_CHUNK, nt), c1 - c0))
        for t0 in range(0, nt, TIME_CHUNK):
            t1 = min(nt, t0 + TIME_CHUNK)
            a, tm, bt = acc[: t1 - t0], tmp[: t1 - t0], Bt[:, : t1 - t0]
            bt[...] = B[t0:t1, c0:c1, :].transpose(2, 0, 1)  # (nseg, time, cells)
            np.multiply(Mc[0], bt[0, :, None, :], out=a)
            for k in range(1, nseg):
                np.multiply(Mc[k], bt[k, :, None, :], out=tm)
                np.add(a, tm, out=a)
            np.multiply(a, scale, out=a)
            np.rint(a, out=a)
            big = np.abs(a).max()
            if not big < MAX_QUANTA:
                raise OverflowError(f"a cell's probe contribution of {big:.3g} quanta does not fit "
                                    "the fixed-point range (lfpk.model.recording.QUANTA)")
            out[:, t0:t1] += a.astype(np.int64).sum(axis=2).T
    return out


def to_float(isig, quanta):
    """Fixed-point signal (int64 rows x time) to float64 signal units."""
    return isig.astype(np.float64) * quanta[:, None]
