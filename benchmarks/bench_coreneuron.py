"""Benchmark: lfpk's ground-truth network under CoreNEURON against the same network under NEURON.

One MPI run builds the network of a config once (lfpk's own cells, synapses and in-mechanism
Poisson drive; spikes only: no per-step current readout, no membrane sample) and integrates it
several times in the same processes, alternating NEURON and CoreNEURON (``from neuron import
coreneuron; coreneuron.enable = True``, in-memory model transfer, ``cvode.cache_efficient(1)``,
``pc.psolve``), so both see the same machine load. Printed per engine: the core-seconds per
simulated second of ``pc.psolve`` (ranks x wall time / simulated time; CoreNEURON's includes the
model transfer, also printed on its own: a run of one time step), the CPU time summed over ranks,
the ratio NEURON / CoreNEURON, and the spike comparison (bitwise identical or not; per population
rate, ISI CV, Fano factor, population-rate band powers as in ``bench_paper_slice.py``).

With ``--engines ... neuron-read coreneuron-blocks`` it also measures the per-step readout of every
segment's ``i_membrane_``: under NEURON as lfpk reads it (a per-step callback with
``SegmentReader``, whose ``LfpkAddress`` exists only during that run: CoreNEURON refuses a model
holding one), under CoreNEURON by ``psolve`` in blocks of ``--block`` steps with ``Vector.record``
(set up once, run last); the currents of the two are compared bitwise (checksums summed in step
order). Results: docs/coreneuron.md.

The mechanisms are compiled with ``nrnivmodl -coreneuron`` (both libraries, NEURON's and
CoreNEURON's) from ``lfpk/mod`` into ``--build-dir`` (default ``build/coreneuron``), made here
if missing. ``address.mod`` (``LfpkAddress``) is left out unless it compiles for CoreNEURON: its
VERBATIM calls ``hoc_pgetarg``, which CoreNEURON does not have, and a spikes-only run does not
read currents.

Usage (from the repository root; the Model B laptop network at 150 ms took 6-13 min on a loaded
2-core machine)::

    .venv/bin/python benchmarks/bench_coreneuron.py                       # config/hay2011_laptop.yaml
    .venv/bin/python benchmarks/bench_coreneuron.py --sizes E=64 I=8 --tstop 100
    .venv/bin/python benchmarks/bench_coreneuron.py --config config/paper.yaml --sizes E=2048 I=512
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: engines run in each round, in this order (the first round transfers nothing twice)
ENGINES = ("neuron", "coreneuron", "neuron-blocks", "coreneuron-blocks", "neuron-read")
#: (reference, compared) engines: spikes only; per-step currents (lfpk's reader under NEURON,
#: blocks of Vector.record under CoreNEURON); Vector.record blocks under both
PAIRS = (("neuron", "coreneuron"), ("neuron-read", "coreneuron-blocks"), ("neuron-blocks", "coreneuron-blocks"))


def compile_coreneuron(build_dir, mod_dir, cflags=None):
    """``nrnivmodl -coreneuron`` of ``mod_dir``'s files into ``build_dir`` (once); returns the
    NEURON library (``x86_64/libnrnmech.so``; CoreNEURON's ``libcorenrnmech.so`` beside it).
    ``cflags`` (e.g. ``"-O3 -march=native"``) go to both compilations (``nrnivmodl -incflags``),
    after the default ``-O2``."""
    build_dir = Path(build_dir).resolve()
    lib = next(iter(build_dir.glob("*/libnrnmech.so")), None)
    if lib is not None and next(iter(build_dir.glob("*/libcorenrnmech*")), None) is not None:
        return lib
    nrnivmodl = shutil.which("nrnivmodl", path=str(Path(sys.executable).parent)) or "nrnivmodl"
    mod = build_dir / "mod"
    mod.mkdir(parents=True, exist_ok=True)
    for f in sorted(Path(mod_dir).glob("*.mod")):
        if f.name == "address.mod" and "CORENEURON_BUILD" not in f.read_text():
            continue  # hoc_pgetarg in VERBATIM: no CoreNEURON equivalent (see the module docstring)
        shutil.copyfile(f, mod / f.name)
    extra = ["-incflags", cflags] if cflags else []
    p = subprocess.run([nrnivmodl, "-coreneuron", *extra, "mod"], cwd=build_dir, capture_output=True, text=True,
                       check=False)
    if p.returncode:
        raise SystemExit(f"nrnivmodl -coreneuron failed in {build_dir}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return next(build_dir.glob("*/libnrnmech.so"))


def _sizes(items):
    out = {}
    for it in items or ():
        k, _, v = it.partition("=")
        if not v.isdigit():
            raise SystemExit(f"--sizes: expected POP=N, got {it!r}")
        out[k] = int(v)
    return out


def worker(args):
    """One MPI rank: build once, integrate with each engine ``--rounds`` times, report on rank 0."""
    from lfpk.api.config import load_config
    from lfpk.base.mpi import init_parallel
    from lfpk.engines.network import Network
    from lfpk.engines.network.currents import SegmentReader
    from lfpk.engines.network.simulation import scaled_probabilities

    pc = init_parallel()
    from neuron import coreneuron, h  # deferred: NEURON after MPI

    if not h.nrn_load_dll(args.library):
        raise SystemExit(f"NEURON could not load {args.library}")
    rank, nhost = int(pc.id()), int(pc.nhost())
    cfg = load_config(args.config)
    sizes = _sizes(args.sizes)
    probs = scaled_probabilities(cfg, sizes) if sizes else None
    t0 = time.perf_counter()
    net = Network(cfg, sizes=sizes or None, probabilities=probs, tstop=args.tstop, record_signals=False,
                  membrane_sample=0, pc=pc)
    net.build()
    net.connect()
    build = time.perf_counter() - t0
    cvode = h.CVode()
    cvode.active(0)
    cvode.use_fast_imem(int(args.fast_imem))
    h.dt = net.dt
    h.celsius = net.celsius
    pc.set_maxstep(10)
    coreneuron.verbose = 0

    segs = [seg for g in sorted(net.cells) for seg in net.cells[g].segments]
    recorders = []
    checksums = {}
    modes = {}

    def record(on):
        """Vector.record of every local segment's i_membrane_ (once; never removed)."""
        if on and not recorders:
            for seg in segs:
                v = h.Vector()
                v.record(seg._ref_i_membrane_)
                recorders.append(v)

    def integrate(engine, tstop):
        if engine == "neuron-read":
            return integrate_read(tstop)
        blocks = engine.endswith("-blocks")
        coreneuron.enable = engine.startswith("coreneuron")
        cvode.cache_efficient(int(engine.startswith("coreneuron") or args.cache_efficient))
        if blocks:
            record(True)
        net.tvec.resize(0)
        net.idvec.resize(0)
        h.finitialize(net.v_init)
        pc.barrier()
        w0, c0 = time.perf_counter(), time.process_time()
        if not blocks:
            pc.psolve(tstop)
        else:  # psolve block by block; after each, the block's currents into one numpy array
            buf = np.empty((args.block + 1, len(segs)))
            step, total = 0, np.zeros(len(segs))
            while step < net.nstep:
                step = min(step + args.block, net.nstep)
                pc.psolve(step * net.dt)
                n = None
                for j, v in enumerate(recorders):
                    a = v.as_numpy()
                    n = len(a)
                    buf[:n, j] = a
                    v.resize(0)
                for row in buf[:n]:  # step by step: a checksum of every value, summed in step order
                    total += row
            checksums[engine] = total
        pc.barrier()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        return wall, cpu, np.array(net.tvec), np.array(net.idvec, dtype=np.int64)

    def integrate_read(tstop):
        """NEURON as lfpk runs it: a per-step callback reads every segment's i_membrane_
        (lfpk.engines.network.currents.SegmentReader) into a block buffer (no probe mapping)."""
        coreneuron.enable = False
        cvode.cache_efficient(int(args.cache_efficient))
        # its LfpkAddress (address.mod) is laid out differently by CoreNEURON's translator (it adds
        # v_unused to an ARTIFICIAL_CELL, NEURON's does not): CoreNEURON refuses a model holding
        # one, so the reader lives only during this run
        reader = SegmentReader(segs, "i_membrane_")
        buf = np.empty((args.block, len(segs)))
        total = np.zeros(len(segs))
        state = {"j": 0}

        def callback():
            reader.read(buf[state["j"]])
            state["j"] += 1
            if state["j"] == args.block:
                for row in buf:  # step order, as the *-blocks engines
                    total[:] += row
                state["j"] = 0

        cvode.extra_scatter_gather(0, callback)
        net.tvec.resize(0)
        net.idvec.resize(0)
        h.finitialize(net.v_init)
        modes["neuron-read"] = reader.bind()  # "view" (numpy gather, lfpk's way) or "handles"
        buf[0] = reader.read(np.empty(len(segs)))  # the value at t = 0, as Vector.record has it
        state["j"] = 1
        pc.barrier()
        w0, c0 = time.perf_counter(), time.process_time()
        pc.psolve(tstop)
        pc.barrier()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        cvode.extra_scatter_gather_remove(callback)
        for row in buf[:state["j"]]:
            total[:] += row
        checksums["neuron-read"] = total
        reader.close()  # frees its LfpkAddress: CoreNEURON refuses a model holding one
        return wall, cpu, np.array(net.tvec), np.array(net.idvec, dtype=np.int64)

    res = {e: [] for e in ENGINES}
    spikes = {}
    transfer = None
    if "coreneuron" in args.engines:  # model transfer + one step: CoreNEURON's fixed cost per psolve
        transfer = integrate("coreneuron", net.dt)[0]
    # the *-blocks engines last: removing ~1e5 Vector.record requests takes NEURON a time
    # quadratic in their number, so they are set up once and never removed
    blocks = [e for e in args.engines if e.endswith("-blocks")]
    if len(blocks) > 1 or (blocks and args.rounds > 1):
        raise SystemExit("--engines: at most one *-blocks engine, with --rounds 1")
    engines = [e for e in args.engines if e not in blocks]
    for r in range(args.rounds):
        order = engines if r % 2 == 0 else engines[::-1]
        for e in order + (blocks if r == args.rounds - 1 else []):
            wall, cpu, t, g = integrate(e, net.tstop)
            res[e].append((wall, cpu))
            spikes.setdefault(e, (t, g))
            if rank == 0:
                print(f"  round {r + 1} {e}: psolve {wall:.1f} s wall", flush=True)
    cpu = {e: pc.py_gather([c for _, c in v], 0) for e, v in res.items() if v}
    parts = {e: pc.py_gather(v, 0) for e, v in spikes.items()}
    sums = pc.py_gather(checksums, 0)
    nseg = int(pc.allreduce(len(segs), 1))
    if rank == 0:
        out = {"build": build, "nhost": nhost, "tstop": net.tstop, "transient": net.transient,
               "transfer": transfer, "segments": nseg,
               "currents_identical": {f"{a} = {b}": all(np.array_equal(c[a], c[b]) for c in sums)
                                      for a, b in PAIRS[1:] if a in sums[0] and b in sums[0]},
               "reader": modes.get("neuron-read"), "sizes": dict(net.layout.sizes),
               "gids": {p: [int(g) for g in net.layout.gids(p)] for p in net.layout.names},
               "wall": {e: [w for w, _ in v] for e, v in res.items() if v},
               "cpu": {e: np.sum(c, axis=0).tolist() for e, c in cpu.items()}}
        sp = {}
        for e, ps in parts.items():
            t = np.concatenate([p[0] for p in ps])
            g = np.concatenate([p[1] for p in ps])
            o = np.lexsort((t, g))
            sp[e] = (t[o], g[o])
        np.savez(args.result + ".npz", **{f"{e}_{k}": v[i] for e, v in sp.items() for i, k in enumerate("tg")})
        Path(args.result + ".json").write_text(json.dumps(out))
    pc.barrier()
    pc.done()
    return 0


def statistics(t, g, gids, transient, tstop):
    """Per population: rate, ISI CV, Fano factor, band powers (bench_paper_slice.spike_statistics)."""
    import xarray as xr
    from bench_paper_slice import spike_statistics

    pops = sorted(gids, key=lambda p: min(gids[p]))
    unit_pop = np.empty(sum(len(v) for v in gids.values()), dtype=object)
    for p in pops:
        unit_pop[gids[p]] = p
    ds = xr.Dataset({"spike_time": ("spike", t), "spike_unit": ("spike", g),
                     "unit_population": ("unit", unit_pop.astype(str))}, coords={"population": pops})
    return spike_statistics(ds, transient, tstop)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(REPO / "config" / "hay2011_laptop.yaml"))
    ap.add_argument("--sizes", nargs="*", help="population sizes POP=N (probabilities scaled to keep in-degrees)")
    ap.add_argument("--tstop", type=float, default=150.0, help="simulated time (ms)")
    ap.add_argument("--transient", type=float, default=50.0, help="excluded from the statistics (ms)")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="runs per engine (alternating order)")
    ap.add_argument("--engines", nargs="+", default=list(ENGINES[:2]), choices=ENGINES,
                    help="*-blocks: psolve in blocks of --block steps with Vector.record of every "
                    "segment's i_membrane_ read after each block")
    ap.add_argument("--block", type=int, default=256, help="time steps per block (*-blocks engines)")
    ap.add_argument("--build-dir", default=str(REPO / "build" / "coreneuron"))
    ap.add_argument("--cflags", default=None, help="extra compiler flags of both mechanism libraries "
                    "(e.g. '-O3 -march=native'; use its own --build-dir)")
    ap.add_argument("--no-fast-imem", dest="fast_imem", action="store_false",
                    help="without cvode.use_fast_imem(1) (lfpk's network always uses it)")
    ap.add_argument("--cache-efficient", action="store_true", help="NEURON with cvode.cache_efficient(1) too")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--library", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)
    if not Path(args.config).is_file():
        ap.error(f"--config: {args.config} is not a file; expected a config (YAML)")
    try:
        _sizes(args.sizes)
    except SystemExit as exc:
        ap.error(str(exc))
    from lfpk.base.mpi import clean_environment, find_mpiexec

    lib = compile_coreneuron(args.build_dir, REPO / "lfpk" / "mod", args.cflags)
    env = clean_environment()
    env["OMP_NUM_THREADS"] = "1"  # CoreNEURON is built with OpenMP: one thread per rank
    # NEURON looks for CoreNEURON's mechanism library here (else ./x86_64, else its built-ins)
    env["CORENEURONLIB"] = str(next(lib.parent.glob("libcorenrnmech.so")))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    result = str(Path(args.build_dir).resolve() / f"result-{os.getpid()}")
    cmd = [sys.executable, __file__, "--worker", "--library", str(lib), "--result", result,
           "--config", args.config, "--tstop", str(args.tstop), "--rounds", str(args.rounds),
           "--engines", *args.engines, "--block", str(args.block), *(["--sizes", *args.sizes] if args.sizes else []),
           *([] if args.fast_imem else ["--no-fast-imem"]), *(["--cache-efficient"] if args.cache_efficient else [])]
    if args.ranks > 1:
        cmd = [find_mpiexec(), "-n", str(args.ranks), *cmd]
    print(f"CoreNEURON vs NEURON: {args.config} sizes {args.sizes or 'of the config'}, tstop {args.tstop} ms, "
          f"{args.ranks} rank(s), fast_imem {int(args.fast_imem)}, extra flags {args.cflags!r}, load average {os.getloadavg()[0]:.2f}", flush=True)
    p = subprocess.run(cmd, env=env, text=True, check=False)
    if p.returncode:
        raise SystemExit(f"worker failed (exit {p.returncode}): {' '.join(cmd)}")
    info = json.loads(Path(result + ".json").read_text())
    sp = np.load(result + ".npz")
    sim_s = info["tstop"] / 1000.0
    n = info["nhost"]
    print(f"network {info['sizes']}, build+connect {info['build']:.1f} s (rank 0), load average {os.getloadavg()[0]:.2f}")
    rate = {}
    for e, walls in info["wall"].items():
        rate[e] = n * min(walls) / sim_s
        print(f"  {e:>10}: core-s per simulated s {rate[e]:8.1f} (best of {len(walls)}; all: "
              f"{', '.join(f'{n * w / sim_s:.1f}' for w in walls)}), CPU s per simulated s "
              f"{min(info['cpu'][e]) / sim_s:8.1f}")
    if info["transfer"] is not None:
        print(f"  CoreNEURON psolve of one step (model transfer and back): {info['transfer']:.2f} s wall")
    for base, e in PAIRS:
        if base in rate and e in rate:
            same = all(np.array_equal(sp[f"{base}_{k}"], sp[f"{e}_{k}"]) for k in "tg")
            print(f"  {base} / {e}: {rate[base] / rate[e]:.2f}x (wall of psolve), "
                  f"{min(info['cpu'][base]) / min(info['cpu'][e]):.2f}x (CPU); spikes bitwise identical: "
                  f"{same} ({len(sp[f'{base}_t'])} vs {len(sp[f'{e}_t'])})")
    if info["reader"]:
        print(f"  neuron-read: lfpk's SegmentReader in mode {info['reader']!r} (\"view\" needs LfpkAddress)")
    for pair, same in info["currents_identical"].items():
        print(f"  i_membrane_ of all {info['segments']} segments at every step, {pair}: bitwise identical: {same}")
    transient = min(args.transient, info["tstop"] / 2)
    print(f"  statistics after {transient} ms: rate (1/s), ISI CV, Fano factor (5 ms), band powers "
          "2-10/10-30/30-100/100-300 Hz")
    for e in info["wall"]:
        st = statistics(sp[f"{e}_t"], sp[f"{e}_g"], info["gids"], transient, info["tstop"])
        for pop, s in st.items():
            print(f"  {e:>10} {pop}: {s['rate']:7.3f} {s['cv']:6.3f} {s['fano']:7.3f}  "
                  + " ".join(f"{b:.3g}" for b in s["bands"]))
    for suffix in (".json", ".npz"):
        os.remove(result + suffix)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
