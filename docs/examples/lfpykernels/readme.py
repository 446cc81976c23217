"""LFPykernels' README example on lfpk: only the import line differs from the LFPykernels 0.2 script.

The kernel of inhibitory spikes (X = I) onto the excitatory population (Y = E) for a column of
13 contacts (potential, mV) and the current dipole moment (nA um). Run it from this folder (the
template and morphology files are named relative to it, as in LFPykernels' examples):

    cd docs/examples/lfpykernels && python readme.py

The synapses become current synapses ``Exp2SynI``; when no loaded mechanism defines it, lfpk
loads its own (``lfpk/mod/exp2syni.mod``, the same definition as LFPykernels' example mod file).
"""

import numpy as np
import scipy.stats as st

from lfpk.compat.lfpykernels import GaussCylinderPotential, KernelApprox, KernelApproxCurrentDipoleMoment

dt = 2**-4  # time resolution (ms)
t_X = 500  # time of synaptic activations (ms)
tau = 50  # duration of impulse response function after onset (ms)
Vrest = -65  # assumed average postsynaptic potential (mV)

X = ['E', 'I']  # presynaptic population names
N_X = np.array([8192, 1024])  # presynaptic population sizes
Y = 'E'  # postsynaptic population
N_Y = 8192  # postsynaptic population size
C_YX = np.array([0.05, 0.05])  # pairwise connection probability between populations X and Y
nu_X = {'E': 2.5, 'I': 5.0}  # assumed spike rates of each population (spikes/s)
g_eff = True  # account for changes in passive leak due to persistent synaptic activations


def set_passive(cell, Vrest):
    """Passive leak (S/cm2) reversing at Vrest (mV) in every section of the template cell."""
    for sec in cell.template.all:
        sec.insert('pas')
        sec.g_pas = 0.0003
        sec.e_pas = Vrest


cellParameters = {
    'templatefile': 'SticksTemplate.hoc',
    'templatename': 'SticksTemplate',
    'custom_fun': [set_passive],
    'custom_fun_args': [{'Vrest': Vrest}],
    'templateargs': None,
    'delete_sections': False,
    'morphology': 'sticks_E.hoc'}

populationParameters = {
    'radius': 150.0,  # population radius (um)
    'loc': 0.0,  # average depth of cell bodies (um)
    'scale': 75.0}  # standard deviation (um)

probe = GaussCylinderPotential(
    cell=None,
    z=np.linspace(1000., -200., 13),  # depth of contacts (um)
    sigma=0.3,  # tissue conductivity (S/m)
    R=populationParameters['radius'],
    sigma_z=populationParameters['scale'],
)
current_dipole_moment = KernelApproxCurrentDipoleMoment(cell=None)

kernel = KernelApprox(
    X=X,
    Y=Y,
    N_X=N_X,
    N_Y=N_Y,
    C_YX=C_YX,
    cellParameters=cellParameters,
    populationParameters=populationParameters,
    multapseFunction=st.truncnorm,
    multapseParameters=[
        {'a': (1 - 2.) / .6, 'b': (10 - 2.) / .6, 'loc': 2.0, 'scale': 0.6},
        {'a': (1 - 5.) / 1.1, 'b': (10 - 5.) / 1.1, 'loc': 5.0, 'scale': 1.1}],
    delayFunction=st.truncnorm,
    delayParameters=[{'a': -2.2, 'b': np.inf, 'loc': 1.3, 'scale': 0.5},
                     {'a': -1.5, 'b': np.inf, 'loc': 1.2, 'scale': 0.6}],
    synapseParameters=[
        {'weight': 0.00012, 'syntype': 'Exp2Syn', 'tau1': 0.2, 'tau2': 1.8, 'e': 0.0},
        {'weight': 0.002, 'syntype': 'Exp2Syn', 'tau1': 0.1, 'tau2': 9.0, 'e': -80.0}],
    synapsePositionArguments=[
        {'section': ['apic', 'dend'],
         'fun': [st.norm],
         'funargs': [{'loc': 50.0, 'scale': 100.0}],
         'funweights': [1.0]},
        {'section': ['soma', 'apic', 'dend'],
         'fun': [st.norm],
         'funargs': [{'loc': -100.0, 'scale': 100.0}],
         'funweights': [1.0]}],
    extSynapseParameters={'syntype': 'Exp2Syn', 'weight': 0.0002, 'tau1': 0.2, 'tau2': 1.8, 'e': 0.0},
    nu_ext=40.,  # external activation rate (spikes/s)
    n_ext=450,  # number of extrinsic synapses
    nu_X=nu_X,
)

H = kernel.get_kernel(
    probes=[probe, current_dipole_moment],
    Vrest=Vrest, dt=dt, X='I', t_X=t_X, tau=tau,
    g_eff=g_eff)

if __name__ == "__main__":
    for name, h in H.items():
        print(f"{name}: shape {h.shape}, peak |H| {np.abs(h).max():.4g}")
