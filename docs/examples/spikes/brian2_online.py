"""Online prediction while Brian2 runs: a network_operation hands each block's spikes to lfpk.

Run:  python brian2_online.py [kernels.nc] [tstop_ms]      (needs brian2)

The recipe: every ``block`` of simulated time a ``network_operation`` reads the monitors' new
spikes (``mon.t`` carries seconds: lfpk converts it, no ``/ms`` needed; ``mon.i`` plus the
subgroup's start gives ids of the whole group) and calls ``advance`` with the clock's time. The
kernels' ``dt`` need not equal Brian2's ``dt``: spikes are binned at the kernels' dt.
``keep=False``: nothing is kept in memory, the prediction goes to prediction_brian2.nc. The spikes
also go to spikes_brian2.csv (unit, time in ms), so the prediction can be redone offline and gives
the same numbers: ``lfpk predict --spikes spikes_brian2.csv --populations map.txt --tstop 1000
--kernels kernels.nc --output offline.nc`` with map.txt holding the lines ``E: 0-79`` and ``I: 80-99``.
"""

import sys

import brian2 as b2
import numpy as np

import lfpk

kernels = lfpk.read_dataset(sys.argv[1]) if len(sys.argv) > 1 else lfpk.compute_kernels("config/config.yaml")
tstop = float(sys.argv[2]) if len(sys.argv) > 2 else 1000.0   # ms
block = 100.0                                                  # ms between predictions

b2.defaultclock.dt = 0.1 * b2.ms
G = b2.NeuronGroup(100, "dv/dt = (1.1 - v) / (10*ms) : 1 (unless refractory)", threshold="v > 1", reset="v = 0",
                   refractory=2 * b2.ms, method="exact")
G.v = "rand()"
E, I = G[:80], G[80:]
S = b2.Synapses(G, G, on_pre="v_post += 0.02 * (1 - 5 * int(i >= 80))")
S.connect(p=0.1)
mons = {"E": b2.SpikeMonitor(E), "I": b2.SpikeMonitor(I)}
seen = {p: 0 for p in mons}
spikes_file = open("spikes_brian2.csv", "w")
spikes_file.write("unit,time_ms\n")
online = lfpk.OnlinePredictor(kernels, output="prediction_brian2.nc", keep=False,
                              unit_population={"E": [0, 79], "I": [80, 99]})


def push(t):
    """Hand the spikes recorded since the last call to lfpk; advance to t."""
    for p, mon in mons.items():
        n = mon.num_spikes
        times, units = mon.t[seen[p]:n], np.asarray(mon.i[seen[p]:n]) + mon.source.start
        online.add_spikes(times, units=units)
        spikes_file.writelines(f"{u},{x!r}\n" for u, x in zip(units.tolist(), (times / b2.ms).tolist()))
        seen[p] = n
    online.advance(float(t / b2.ms))


feed = b2.NetworkOperation(push, dt=block * b2.ms, when="end")
net = b2.Network(G, S, *mons.values(), feed)
with online:
    net.run(tstop * b2.ms)
    push(net.t)                    # the last block's spikes
    online.close(tstop)
spikes_file.close()
print("Brian2 online prediction written to prediction_brian2.nc")
