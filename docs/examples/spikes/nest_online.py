"""Online prediction while NEST 3 runs: spikes read from the recorders every 100 ms.

Run:  python nest_online.py [kernels.nc] [tstop_ms]
(without kernels.nc the kernels of config/config.yaml are computed first, about 10 s).

A two-population network (E: 80, I: 20 integrate-and-fire neurons driven by Poisson input) is
simulated in steps of 100 ms. After each step the new spikes of each recorder are handed to
lfpk.OnlinePredictor and the recorder is cleared (``n_events = 0``, allowed between
``nest.Simulate`` calls; inside ``nest.RunManager()`` NEST 3.10 refuses it with BadProperty, so
this example does not use the RunManager). ``keep=False`` keeps nothing in memory: the prediction
goes to prediction_online.nc as it is computed (memory stays flat for runs of any length).
"""

import sys

import nest
import numpy as np

import lfpk

kernels = lfpk.read_dataset(sys.argv[1]) if len(sys.argv) > 1 else lfpk.compute_kernels("config/config.yaml")
tstop = float(sys.argv[2]) if len(sys.argv) > 2 else 1000.0   # ms
step = 100.0                                                   # ms between predictions

nest.verbosity = nest.VerbosityLevel.ERROR
nest.ResetKernel()
nest.resolution = 0.125
E = nest.Create("iaf_psc_exp", 80)
I = nest.Create("iaf_psc_exp", 20)
drive = nest.Create("poisson_generator", params={"rate": 12000.0})
nest.Connect(drive, E + I, syn_spec={"weight": 20.0})
nest.Connect(E, E + I, {"rule": "pairwise_bernoulli", "p": 0.1}, {"weight": 10.0, "delay": 1.5})
nest.Connect(I, E + I, {"rule": "pairwise_bernoulli", "p": 0.1}, {"weight": -40.0, "delay": 1.5})
recorders = {"E": nest.Create("spike_recorder"), "I": nest.Create("spike_recorder")}
nest.Connect(E, recorders["E"])
nest.Connect(I, recorders["I"])

# node ids -> populations, so the units are checked (and duplicates found) as in a file
populations = {"E": [E[0].global_id, E[-1].global_id], "I": [I[0].global_id, I[-1].global_id]}
with lfpk.OnlinePredictor(kernels, output="prediction_online.nc", keep=False, unit_population=populations) as online:
    while nest.biological_time < tstop - 1e-9:
        nest.Simulate(min(step, tstop - nest.biological_time))
        for rec in recorders.values():
            ev = rec.events                                    # times in ms, senders = node ids
            online.add_spikes(ev["times"], units=ev["senders"])
            rec.n_events = 0                                   # clear the recorder's memory
        out = online.advance(nest.biological_time)             # new samples: out["signals"]["lfp"], out["time"]
    online.close(tstop)                                        # the tail; prediction_online.nc appears

pred = lfpk.read_dataset("prediction_online.nc")
print(f"online prediction: {pred.sizes['time']} samples to {float(pred['time'][-1]):g} ms, "
      f"LFP range {float(np.ptp(pred['lfp'].sel(source='total').values)):.3g} mV")
