"""Offline prediction from the files NEST writes, and the same spikes from memory.

Run:  python offline_files.py [kernels.nc] [tstop_ms]
(without kernels.nc the kernels of config/config.yaml are computed first, about 10 s).

NEST 3 writes one ASCII file per recorder and virtual process (``<label>-<id>-<vp>.dat``, here 2
threads). ``lfpk.predict_files`` reads them with population labels (``E=...``), checks them (a
missing thread file, duplicates, seconds read as ms, ... are refused) and streams the prediction
into a file; ``lfpk.engines.spikes.formats.from_nest`` takes the same spikes from the recorders'
memory, and both predictions are the same.
"""

import sys
from pathlib import Path

import nest
import numpy as np

import lfpk
from lfpk.engines.spikes.formats import from_nest

kernels = sys.argv[1] if len(sys.argv) > 1 else lfpk.compute_kernels("config/config.yaml")
tstop = float(sys.argv[2]) if len(sys.argv) > 2 else 1000.0   # ms
out = Path("nest_spikes")
out.mkdir(exist_ok=True)

nest.verbosity = nest.VerbosityLevel.ERROR
nest.ResetKernel()
nest.SetKernelStatus({"resolution": 0.125, "local_num_threads": 2, "data_path": str(out), "overwrite_files": True})
E = nest.Create("iaf_psc_exp", 80)
I = nest.Create("iaf_psc_exp", 20)
drive = nest.Create("poisson_generator", params={"rate": 12000.0})
nest.Connect(drive, E + I, syn_spec={"weight": 20.0})
nest.Connect(E, E + I, {"rule": "pairwise_bernoulli", "p": 0.1}, {"weight": 10.0, "delay": 1.5})
nest.Connect(I, E + I, {"rule": "pairwise_bernoulli", "p": 0.1}, {"weight": -40.0, "delay": 1.5})
files = {p: nest.Create("spike_recorder", params={"record_to": "ascii", "label": f"brunel-{p}"}) for p in "EI"}
memory = {p: nest.Create("spike_recorder") for p in "EI"}
for p, group in (("E", E), ("I", I)):
    nest.Connect(group, files[p])
    nest.Connect(group, memory[p])
nest.Simulate(tstop)  # the ASCII files are complete when Simulate returns

# from the files: labels say the population, no unit map needed
res = lfpk.predict_files([f"E={out}/brunel-E-*.dat", f"I={out}/brunel-I-*.dat"], kernels, "prediction_files.nc",
                         tstop=tstop)
print("\n".join(res.report))
# from the recorders' memory: the neurons' NodeCollections are the unit map
spikes = from_nest(memory, populations={"E": E, "I": I}, tstop=tstop)
mem = lfpk.predict_files(spikes, kernels, "prediction_memory.nc")
a, b = res.dataset()["lfp"].values, mem.dataset()["lfp"].values
print(f"files and memory agree to {np.abs(a - b).max() / np.abs(a).max():.1e} of the LFP's scale")
