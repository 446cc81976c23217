"""An independent computation of a kernel through LFPy and LFPykit (tests and benchmarks).

The kernel of one connection, computed the way LFPykernels' ``KernelApprox`` does it, from
the inputs of the lfpk engine (leak per segment, synapse weights per segment, time constants,
delays, population geometry) but with none of lfpk's cell or probe code:

* the cell is an ``LFPy.Cell`` loaded from the morphology file by LFPy itself (its own
  segmentation, ``set_rotation`` and ``set_pos``), with a ``pas`` leak per segment;
* one ``LFPy.Synapse`` (``Exp2SynI``) per segment, all activated at once; ``simulate(rec_imem)``;
* LFP: the Gaussian-averaged disc potential of every (contact, segment) by adaptive quadrature
  (:func:`lfpk.model.probes.gauss_cylinder_potential_quad`, one ``scipy.integrate.quad`` per entry);
* CSD: LFPykit's ``LaminarCurrentSourceDensity`` in the method's point-source treatment (each
  segment's current at its midpoint on the population axis), averaged over the Gaussian depth
  distribution segment by segment with a composite Gauss-Legendre rule (8 nodes per piece)
  cut wherever the segment crosses a cylinder boundary (so every piece is smooth), times the
  radial fraction ``min(1, R^2 / R_pop^2)``;
* dipole: LFPykit's ``CurrentDipoleMoment``;
* delays: the binned delay distribution, convolved with ``numpy.convolve``.

``LFPy.Cell`` deletes every NEURON section of the process when it is built (its default
``delete_sections=True``), which breaks any lfpk kernel cell or network alive in that process;
:func:`run_isolated` therefore computes the reference in a fresh interpreter
(``python -m lfpk.engines.kernel.reference IN.npz OUT.npz``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import lfpykit
import numpy as np
from numpy.polynomial.legendre import leggauss

from lfpk.base import mechanisms
from lfpk.engines.kernel.errors import KernelError
from lfpk.model.probes.gauss_cylinder import gauss_cylinder_potential_quad


def inputs(engine, post, pre, V_rest, rates=None):
    """Everything the reference needs from the engine's statistics, as a dict of arrays.

    The engine's cell is configured at ``V_rest`` (scalar) and ``rates`` (with g_eff).
    """
    o = engine.options
    pop = engine.populations[post]
    if getattr(pop, "random_x", False):
        raise KernelError(f"populations.{post}.rotation.random_x: the LFPy reference computes one cell's orientation; "
                          "compare a config without random_x")
    c = engine.connections[(post, pre)]
    syn = c.scaled_synapse
    cell = engine.cell(post)
    cell.configure(V_rest, engine.g_eff(post, rates) if o.g_eff else None)
    amp = float(syn.linearised_amplitude(float(V_rest)))
    cfg = engine.model.config
    pr = cfg["probes"]
    morph = pop.morphology
    if morph.file is None:
        hoc = tempfile.NamedTemporaryFile("w", suffix=".hoc", delete=False)
        hoc.write(morph.to_hoc())
        hoc.close()
        morphology, rotation = hoc.name, {}
    else:
        morphology, rotation = morph.file, dict(morph.rotation)
    return {
        "morphology": morphology,
        "rotation": np.array([rotation.get(k, 0.0) for k in "xyz"]),
        "Ra": morph.Ra, "cm": morph.cm, "d_lambda": morph.d_lambda, "frequency": morph.frequency,
        "g_leak": np.asarray(cell.g_leak, dtype=float),
        "V_rest": float(V_rest),
        # the first type's f_y k_out synapses (f_y = 1 without indegree_factors: exact)
        "weights": engine.counts(post, pre).k_out * engine.indegree_factor(post, pre) * engine.synapse_probabilities(
            post, pre) * amp,
        "tau1": syn.tau1, "tau2": syn.tau2,
        "delay_p": engine.delay_probabilities(post, pre),
        "z_mean": pop.z_mean, "R": pop.radius, "z_sd": pop.z_sd,
        "dt": o.dt, "n": o.n_positive, "celsius": o.celsius,
        "channel_z": np.asarray(pr["channel_z"], dtype=float), "sigma": float(pr["sigma"]),
        "csd_radius": float(pr["csd"]["radius"]), "csd_half_height": float(pr["csd"]["half_height"]),
    }


def _scalar(inp, key):
    v = inp[key]
    return v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v


def compute(inp):
    """The reference kernel in this process (deletes every NEURON section of the process).

    Returns
    -------
    dict
        ``lfp`` (mV), ``csd`` (uA/mm3), ``cdm`` (nA um) of shape (channels, n_lags) for lags
        0..tau, ``imem`` (nA, before delays), ``n_segments`` and ``seconds`` (wall time of the
        cell, simulation and probes).
    """
    import LFPy  # deferred: LFPy loads NEURON, and only the reference kernel needs it

    t0 = time.perf_counter()
    dt, n = float(_scalar(inp, "dt")), int(_scalar(inp, "n"))
    V_rest = float(_scalar(inp, "V_rest"))
    cell = LFPy.Cell(morphology=str(_scalar(inp, "morphology")), nsegs_method="lambda_f",
                     lambda_f=float(_scalar(inp, "frequency")), d_lambda=float(_scalar(inp, "d_lambda")),
                     Ra=float(_scalar(inp, "Ra")), cm=float(_scalar(inp, "cm")), dt=dt, tstart=0.0,
                     tstop=(n + 1) * dt, v_init=V_rest, celsius=float(_scalar(inp, "celsius")),
                     passive=False, delete_sections=True)
    rx, ry, rz = (float(a) for a in inp["rotation"])
    if rx or ry or rz:
        cell.set_rotation(x=rx, y=ry, z=rz)
    cell.set_pos(0.0, 0.0, float(_scalar(inp, "z_mean")))
    g = np.asarray(inp["g_leak"])
    if cell.totnsegs != len(g):
        raise RuntimeError(f"LFPy segmented the cell into {cell.totnsegs} segments, lfpk into {len(g)}")
    for sec in cell.allseclist:
        sec.insert("pas")
    for seg, gi in zip((seg for sec in cell.allseclist for seg in sec), g):
        seg.pas.g = gi
        seg.pas.e = V_rest
    for idx, w in enumerate(inp["weights"]):
        if w != 0:
            s = LFPy.Synapse(cell, idx=idx, syntype="Exp2SynI", weight=w, tau1=float(_scalar(inp, "tau1")),
                             tau2=float(_scalar(inp, "tau2")))
            s.set_spike_times(np.array([2 * dt]))
    cell.simulate(rec_imem=True)
    imem = cell.imem[:, 2:2 + n]
    zmid = cell.z.mean(axis=1)
    cz = np.asarray(inp["channel_z"])
    sd = float(_scalar(inp, "z_sd"))
    R = float(_scalar(inp, "R"))
    M_lfp = gauss_cylinder_potential_quad(cz, zmid, float(_scalar(inp, "sigma")), R, sd)
    # CSD: LFPykit's laminar CSD of point sources at the segment midpoints on the axis, averaged
    # over the depth distribution per segment, pieces cut at the cylinder boundaries
    h = float(_scalar(inp, "csd_half_height"))
    r_csd = float(_scalar(inp, "csd_radius"))
    zz = np.column_stack([cz - h, cz + h])
    M_csd = _laminar_csd_average(zmid, zz, r_csd, sd)
    M_csd = M_csd * min(1.0, r_csd**2 / R**2) * 1e6  # nA/um3 -> uA/mm3
    M_cdm = lfpykit.CurrentDipoleMoment(cell).get_transformation_matrix()
    p = np.asarray(inp["delay_p"])
    out = {}
    for name, M in (("lfp", M_lfp), ("csd", M_csd), ("cdm", M_cdm)):
        sig = np.array([np.convolve(row, p)[:n] for row in M @ imem])
        out[name] = sig - sig[:, :1]
    out["imem"] = imem
    out["n_segments"] = cell.totnsegs
    out["seconds"] = time.perf_counter() - t0
    return out


def _laminar_csd_average(zmid, zz, r, sd, nodes=8, span=8.0):
    """(channels, segments) depth-averaged LFPykit laminar CSD (nA/um3 per nA) of point sources."""
    xg, wg = leggauss(nodes)
    eps = 1e-3  # um: a point source is a segment this short along z
    out = np.zeros((len(zz), len(zmid)))
    bounds = np.unique(zz.ravel())
    for i, z0 in enumerate(zmid):
        cuts = np.concatenate([[-span * sd], bounds - z0, [span * sd]])
        cuts = np.unique(np.clip(cuts, -span * sd, span * sd))
        lo, hi = cuts[:-1, None], cuts[1:, None]
        dz = (0.5 * (lo + hi) + 0.5 * (hi - lo) * xg).ravel()
        w = (0.5 * (hi - lo) * wg).ravel() * np.exp(-0.5 * (dz / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
        zero = np.zeros((len(dz), 2))
        geom = lfpykit.CellGeometry(x=zero, y=zero, z=np.column_stack([z0 + dz - eps / 2, z0 + dz + eps / 2]),
                                    d=np.ones(len(dz)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # LFPykit: "compartments should be shorter"
            M = lfpykit.LaminarCurrentSourceDensity(geom, z=zz, r=np.full(len(zz), r)).get_transformation_matrix()
        out[:, i] = M @ w
    return out


def run_isolated(inp, timeout=1800):
    """:func:`compute` in a fresh Python process (see the module docstring); returns its dict."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, **inp)
        env = dict(os.environ, MPLBACKEND="Agg")
        build = _loaded_build_dir()
        if build is not None:  # the same compiled mechanisms as this process (no compile)
            env["LFPK_BUILD_DIR"] = str(build)
        proc = subprocess.run([sys.executable, "-m", "lfpk.engines.kernel.reference", str(src), str(dst)],
                              capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp)
        if proc.returncode != 0:
            raise RuntimeError(f"reference kernel failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        with np.load(dst) as f:
            return {k: f[k] for k in f.files}


def _loaded_build_dir():
    lib = mechanisms.loaded_library()
    if lib is None:
        return None
    for folder in Path(lib).parents:
        if (folder / mechanisms.SENTINEL).is_file():
            return folder
    return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    mechanisms.load()  # Exp2SynI
    with np.load(argv[0], allow_pickle=False) as f:
        inp = {k: f[k] for k in f.files}
    np.savez(argv[1], **compute(inp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
