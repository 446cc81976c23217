"""Benchmark: lfpk.engines.network versus LFPy.Network on the same small network.

Both simulate the study's active ball-and-stick E/I network with the same statistics (sizes,
connection probabilities scaled to keep the config's in-degrees, multapses, delays, weights,
synapse placement, extrinsic Poisson drive, LFP/CSD/dipole probes with per-population
contributions). LFPy.Network is the reference implementation (one Exp2Syn and one NetStim per
synapse, NetCons created in Python loops, per-step Python loop over segments for the probes).
Each side runs in its own subprocess (fresh NEURON) and the wall times per phase and the ratio
are printed.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_network.py                       # 64 E / 8 I, 300 ms, 1 rank
    .venv/bin/python benchmarks/bench_network.py --sizes E=128,I=16 --tstop 500 --ranks 2
    .venv/bin/python benchmarks/bench_network.py --skip-lfpy           # lfpk only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _template(m, name):
    """hoc template creating the BallAndStick sections with geometry, nseg, Ra, cm."""
    lines = [f"begintemplate {name}", "public soma, dend, apic, all", "create soma[1], dend[1], apic[1]",
             "objref all", "proc init() {", "    all = new SectionList()"]
    for sec in ("soma", "dend", "apic"):
        z0, z1 = m.section_ends(sec)
        d = m.diam[sec]
        lines.append(f"    {sec}[0] {{ pt3dclear() pt3dadd(0, 0, {z0!r}, {d!r}) pt3dadd(0, 0, {z1!r}, {d!r}) "
                     f"Ra = {m.Ra!r} cm = {m.cm!r} nseg = {m.nseg(sec)} all.append() }}")
    lines += ["    connect dend[0](0), soma[0](0)", "    connect apic[0](0), soma[0](1)", "}",
              f"endtemplate {name}", ""]
    return "\n".join(lines)


def lfpy_worker(config, sizes, tstop, out):
    """The reference: LFPy.Network with the same statistics (run in a subprocess)."""
    import numpy as np
    import scipy.stats
    from lfpykit import CellGeometry, CurrentDipoleMoment, LaminarCurrentSourceDensity

    from lfpk.api.config import load_config
    from lfpk.base.mechanisms import load
    from lfpk.base.mpi import init_parallel
    from lfpk.engines.network import scaled_probabilities

    pc = init_parallel()
    load()
    import LFPy
    from neuron import h

    from lfpk.model import biophysics, from_config
    from lfpk.model.morphology import BallAndStick, CellSections

    cfg = load_config(config)
    model = from_config(cfg)
    sim = cfg["simulation"]
    rank = int(pc.id())
    np.random.seed(1234 + rank)
    probs = scaled_probabilities(cfg, sizes)
    tmp = Path(tempfile.mkdtemp(prefix="lfpy-bench-"))
    timings = {}
    t0 = time.perf_counter()
    net = LFPy.Network(dt=sim["dt"], tstart=0.0, tstop=tstop, v_init=sim["v_init"],
                       celsius=sim["celsius"], OUTPUTPATH=str(tmp))

    def set_biophysics(cell, population):
        t = cell.template
        h.celsius = sim["celsius"]
        sections = CellSections({"soma": t.soma[0], "dend": t.dend[0], "apic": t.apic[0]}, soma_index=0)
        biophysics.apply("active", sections, model.populations[population].cell_biophysics)

    for name, pop in cfg["populations"].items():
        m = BallAndStick.from_config(name, pop)
        tname = f"LFPKBench{name}"
        tfile = tmp / f"{tname}.hoc"
        tfile.write_text(_template(m, tname))
        hoc = tmp / f"{name}.hoc"
        hoc.write_text(m.to_hoc())
        cell_args = dict(morphology=str(hoc), templatefile=str(tfile), templatename=tname,
                         templateargs=None, delete_sections=False, nsegs_method=None, passive=False,
                         v_init=sim["v_init"], dt=sim["dt"], tstart=0.0, tstop=tstop,
                         custom_fun=[set_biophysics], custom_fun_args=[{"population": name}])
        pl = pop["placement"]
        net.create_population(Cell=LFPy.NetworkCell, POP_SIZE=sizes[name], name=name,
                              cell_args=cell_args,
                              pop_args=dict(radius=pl["radius"], loc=pl["z_mean"], scale=pl["z_sd"]),
                              rotation_args=dict(x=0.0, y=0.0))
        ext = pop["extrinsic"]
        syn = ext["synapse"]
        for cell in net.populations[name].cells:
            idx = cell.get_rand_idx_area_norm(section="allsec", nidx=int(ext["count"]))
            for i in idx:
                s = LFPy.Synapse(cell=cell, idx=i, syntype="Exp2Syn", weight=syn["weight"],
                                 tau1=syn["tau1"], tau2=syn["tau2"], e=syn["e"])
                s.set_spike_times_w_netstim(interval=1000.0 / ext["rate"], number=1e9,
                                            seed=np.random.rand() * 2**32 - 1)
    timings["build"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in cfg["connections"]:
        s = c["synapse"]
        C = probs[(c["pre"], c["post"])]
        conn = net.get_connectivity_rand(pre=c["pre"], post=c["post"], connprob=C)
        dens = c["placement"]["densities"]
        w = model.connection(c["post"], c["pre"]).weight  # the weight-scaling rule of lfpk.model.rules
        net.connect(pre=c["pre"], post=c["post"], connectivity=conn, syntype=h.Exp2Syn,
                    synparams=dict(tau1=s["tau1"], tau2=s["tau2"], e=s["e"]),
                    weightfun=np.random.normal, weightargs=dict(loc=w, scale=w * s["weight_sd"]),
                    minweight=0.0, delayfun=scipy.stats.truncnorm, delayargs=c["delays"]["params"],
                    mindelay=None, multapsefun=scipy.stats.truncnorm,
                    multapseargs=c["multapses"]["params"],
                    syn_pos_args=dict(section=c["placement"]["sections"],
                                      fun=[scipy.stats.norm] * len(dens),
                                      funargs=[dict(loc=d["mean"], scale=d["sd"]) for d in dens],
                                      funweights=[d["weight"] for d in dens]),
                    save_connections=False)
    timings["connect"] = time.perf_counter() - t0
    pr = cfg["probes"]
    cz = [float(z) for z in pr["channel_z"]]
    n = len(cz)
    dummy = CellGeometry(x=np.zeros((1, 2)), y=np.zeros((1, 2)), z=np.array([[0.0, 1000.0]]), d=np.ones(1))
    electrode = LFPy.RecExtElectrode(cell=None, x=np.zeros(n), y=np.zeros(n), z=np.array(cz),
                                     sigma=pr["sigma"], N=np.array([[1.0, 0.0, 0.0]] * n),
                                     r=pr["lfp"]["contact_radius"], n=50, method="linesource")
    zz = np.column_stack([np.array(cz) - pr["csd"]["half_height"], np.array(cz) + pr["csd"]["half_height"]])
    csd = LaminarCurrentSourceDensity(cell=dummy, z=zz, r=np.full(n, float(pr["csd"]["radius"])))
    csd.cell = None  # LFPy.Network sets its own (dummy) cell
    cdm = CurrentDipoleMoment(cell=None)
    t0 = time.perf_counter()
    spikes = net.simulate(probes=[electrode, csd, cdm], rec_pop_contributions=True, to_memory=True)
    timings["simulate"] = time.perf_counter() - t0
    counts = {}
    for name, gids, times in zip(net.population_names, spikes["gids"], spikes["times"]):
        counts[name] = int(sum(len(t) for t in times))
    allcounts = pc.py_gather(counts, 0)
    alltimes = pc.py_gather(timings, 0)
    if rank == 0:
        total = {k: sum(c[k] for c in allcounts) for k in counts}
        rates = {k: total[k] / (sizes[k] * tstop / 1000.0) for k in total}
        tim = {k: max(t[k] for t in alltimes) for k in timings}
        Path(out).write_text(json.dumps({"timings": tim, "rates": rates}))
    pc.barrier()


def _run(cmd, ranks):
    from lfpk.base.mpi import find_mpiexec

    if ranks > 1:
        cmd = [find_mpiexec(), "-n", str(ranks), *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_"))}
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=tempfile.gettempdir(), env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return wall


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    ap.add_argument("--sizes", default="E=64,I=8")
    ap.add_argument("--tstop", type=float, default=300.0)
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--skip-lfpy", action="store_true")
    ap.add_argument("--lfpy-worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sizes = {k: int(v) for k, v in (s.split("=") for s in args.sizes.split(","))}
    if args.lfpy_worker:
        lfpy_worker(args.config, sizes, args.tstop, args.lfpy_worker)
        return 0
    from lfpk.base.io import read_dataset

    work = Path(tempfile.mkdtemp(prefix="bench-network-"))
    print(f"network {sizes}, tstop {args.tstop} ms, {args.ranks} rank(s), config {args.config}")
    wall = _run([sys.executable, "-m", "lfpk", "network", "--config", args.config, "--outdir", str(work / "lfpk"),
                 "--population-sizes", args.sizes, "--tstop", str(args.tstop), "--transient", "0",
                 "--log", str(work / "lfpk.log")], args.ranks)
    mem = read_dataset(work / "lfpk" / "membrane.nc")
    tim = json.loads(mem.attrs["timings"])
    rates = dict(zip(mem["population"].values.tolist(), mem["rate"].values.tolist()))
    row = "{:<14s} {:>8.2f} {:>8.2f} {:>9.2f} {:>9.2f}   {}"
    print("{:<14s} {:>8s} {:>8s} {:>9s} {:>9s}   {}".format("", "build", "connect", "simulate", "wall", "rates (1/s)"))
    print(row.format("lfpk.engines.network", tim["build"], tim["connect"], tim["simulate"], wall,
                     {k: round(v, 2) for k, v in rates.items()}))
    if args.skip_lfpy:
        return 0
    out = work / "lfpy.json"
    wall_ref = _run([sys.executable, str(Path(__file__).resolve()), "--config", args.config, "--sizes", args.sizes,
                     "--tstop", str(args.tstop), "--lfpy-worker", str(out)], args.ranks)
    ref = json.loads(out.read_text())
    rt = ref["timings"]
    print(row.format("LFPy.Network", rt["build"], rt["connect"], rt["simulate"], wall_ref,
                     {k: round(v, 2) for k, v in ref["rates"].items()}))
    lfpk_total = tim["build"] + tim["connect"] + tim["simulate"]
    ref_total = rt["build"] + rt["connect"] + rt["simulate"]
    print(f"speed-up build+connect+simulate: {ref_total / lfpk_total:.1f}x "
          f"(connect {rt['connect'] / max(tim['connect'], 1e-9):.0f}x, simulate {rt['simulate'] / tim['simulate']:.1f}x); "
          f"wall incl. start-up and output: {wall_ref / wall:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
