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

Exact, partition-independent sums (:func:`cell_sums`): every cell's contribution is its own
matrix product ``I_cell @ M_cell.T`` (time x segments times segments x rows), one BLAS product per
cell of the same shape whatever else a rank holds (a stacked ``np.matmul``; never one product over
several cells, whose blocking would depend on how many cells a rank holds), rounded to an int64
multiple of a per-probe quantum (:data:`QUANTA`) and summed over cells (and later over ranks) in
int64, which is exact and associative: the signals are bitwise identical for any number of ranks
(on one machine type: another BLAS kernel, e.g. AVX-512 instead of AVX2, may round a product
differently, as another libm may round NEURON's ``exp``).
"""

from __future__ import annotations

import warnings

import numpy as np
from lfpykit import CellGeometry, CurrentDipoleMoment, LaminarCurrentSourceDensity

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
#: Cells per stacked product and time steps per product of :func:`cell_sums` (a cell's
#: contribution depends on the time steps per product, the block, never on the cells).
CELL_CHUNK, TIME_CHUNK = 16, 256
#: Segments per block of :func:`line_source_mean` (points x segments work arrays of about 1 MB).
SEGMENT_CHUNK = 1024


#: Bytes of transmembrane currents a run may buffer between probe mappings, over all ranks
#: (:func:`buffer_steps`).
BUFFER_BUDGET = 2.0**30


def buffer_steps(n_segments, budget=BUFFER_BUDGET, largest=256, smallest=16):
    """Time steps of transmembrane currents to buffer before each probe mapping.

    The largest power of two from ``smallest`` to ``largest`` whose buffer, 8 bytes per segment
    and step over the whole network, fits ``budget``: ``steps * 8 * n_segments <= budget``
    (``smallest`` if none does). It depends on the network, not on how its cells are distributed
    over ranks, so the probe products (and their rounding, :func:`cell_sums`) are the same for any
    rank count; each rank holds its share, ``steps * 8 * local segments`` bytes.

    Parameters
    ----------
    n_segments : int
        Compartments of the whole network.
    budget : float
        Bytes (default 1 GiB, :data:`BUFFER_BUDGET`).
    largest, smallest : int
        Powers of two (steps).

    Returns
    -------
    int
    """
    steps = int(largest)
    while steps > smallest and steps * 8.0 * n_segments > budget:
        steps //= 2
    return max(int(smallest), steps)


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
        rows.append(line_source_mean(geom, pts, s["sigma"]))
    return np.array(rows)


def line_source_mean(geom, points, sigma, chunk=SEGMENT_CHUNK):
    """Line-source potential (mV/nA) of every segment averaged over ``points`` (n, 3) um.

    LFPykit's ``LineSourcePotential(geom, x, y, z, sigma).get_transformation_matrix().mean(axis=0)``
    (the line-source formula, Holt 1998, Eq. C.13: three cases by the signs of h and l, r2 at
    least the squared segment radius) with the same floating-point operations, so the same
    values bitwise, computed for blocks of ``chunk`` segments and all points at once (no Python
    loop over points, no boolean indexing, no points x segments matrix).
    """
    pts = np.asarray(points, dtype=float)
    xs, xe = geom.x[:, 0], geom.x[:, -1]
    ys, ye = geom.y[:, 0], geom.y[:, -1]
    zs, ze = geom.z[:, 0], geom.z[:, -1]
    r_limit = (geom.d.mean(axis=-1) if geom.d.ndim == 2 else geom.d) / 2
    n = len(xs)
    out = np.empty(n)
    px, py, pz = pts[:, 0, None], pts[:, 1, None], pts[:, 2, None]
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        sl = slice(a, b)
        delta_s = np.sqrt((xs[sl] - xe[sl]) ** 2 + (ys[sl] - ye[sl]) ** 2 + (zs[sl] - ze[sl]) ** 2)
        dx, dy, dz = px - xe[sl], py - ye[sl], pz - ze[sl]  # (points, segments)
        h = (dx * (xe[sl] - xs[sl]) + dy * (ye[sl] - ys[sl]) + dz * (ze[sl] - zs[sl])) / delta_s
        r2 = np.abs(dx * dx + dy * dy + dz * dz - h * h)
        r2 = np.maximum(r2, r_limit[sl] * r_limit[sl])  # LFPykit: r2[r2 < r_limit**2] = r_limit**2
        l_ = h + delta_s
        root_h = np.sqrt(h * h + r2)
        root_l = np.sqrt(l_ * l_ + r2)
        # the three cases, later ones overwriting: h >= 0 (iii); h < 0 <= l (ii); l < 0 (i, and then
        # h = l - delta_s < 0 too); h >= 0 > l cannot occur for a segment of positive length
        arg = (root_l + l_) / (root_h + h)
        np.multiply(root_h - h, (l_ + root_l) / r2, out=arg, where=h < 0)
        np.divide(root_h - h, root_l - l_, out=arg, where=l_ < 0)
        mapping = np.log(arg)
        M = 1 / (4 * np.pi * sigma * delta_s) * mapping
        out[sl] = M.mean(axis=0)
    return out


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
    """``M`` (rows, cells * nseg, cells' segments consecutive) as (cells, nseg, rows) for :func:`cell_sums`."""
    rows, n = M.shape
    return np.ascontiguousarray(M.reshape(rows, n // nseg, nseg).transpose(1, 2, 0))


def cell_sums(Mc, I, quanta, out):
    """Add ``sum_cells round(M_cell @ I_cell / quantum)`` (int64) to ``out`` (rows, time).

    Parameters
    ----------
    Mc : ndarray (cells, nseg, rows)
        From :func:`cell_matrices` (rows per nA of each segment's current).
    I : ndarray (time, cells * nseg)
        Segment currents (nA), cells' segments consecutive.
    quanta : ndarray (rows,)
        From :func:`row_quanta` (powers of 2).
    out : ndarray int64 (rows, time)

    Every cell's contribution is one matrix product of its own (time x nseg) currents and (nseg
    x rows) matrix (``np.matmul`` over a stack of cells calls BLAS once per cell, so the product,
    and its rounding, is the same whatever cells are stacked with it; up to :data:`TIME_CHUNK`
    steps per product), rounded to the quantum; the int64 sum over cells is exact. Raises
    ``OverflowError`` if a contribution exceeds :data:`MAX_QUANTA`.
    """
    ncell, nseg, rows = Mc.shape
    nt = I.shape[0]
    if ncell == 0 or nt == 0:
        return out
    cells = I.reshape(nt, ncell, nseg).transpose(1, 0, 2)  # (cells, time, nseg), a view
    scale = 1.0 / quanta
    nc, ntc = min(CELL_CHUNK, ncell), min(TIME_CHUNK, nt)
    work = np.empty((nc, ntc, rows))
    for c0 in range(0, ncell, nc):
        c1 = min(ncell, c0 + nc)
        for t0 in range(0, nt, ntc):
            t1 = min(nt, t0 + ntc)
            a = work[: c1 - c0, : t1 - t0]
            np.matmul(cells[c0:c1, t0:t1], Mc[c0:c1], out=a)
            np.multiply(a, scale, out=a)
            np.rint(a, out=a)
            big = np.abs(a).max()
            if not big < MAX_QUANTA:
                raise OverflowError(f"a cell's probe contribution of {big:.3g} quanta does not fit "
                                    "the fixed-point range (lfpk.model.recording.QUANTA)")
            out[:, t0:t1] += a.astype(np.int64).sum(axis=0).T
    return out


def to_float(isig, quanta):
    """Fixed-point signal (int64 rows x time) to float64 signal units."""
    return isig.astype(np.float64) * quanta[:, None]
