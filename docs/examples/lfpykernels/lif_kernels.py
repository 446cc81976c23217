"""The kernel part of LFPykernels' notebook ``LIF_net_forward_model_predictions`` on lfpk.

Kernels of all four connections of an E/I network (E 8192 cells, I 1024) for a column of 13
contacts (``GaussCylinderPotential``, mV) and the current dipole moment
(``KernelApproxCurrentDipoleMoment``, nA um), as FIR coefficients (``fir=True``: lags dt..tau).
Only the import line of ``KernelApprox`` and the probes differs from the LFPykernels 0.2 script.
The notebook's parameter module is restated inline; its frozen Hay et al. (2011) channels
(third-party mod files) are replaced by a passive leak plus lfpk's ``Ih`` channel (fixed-step only,
so the cell is simulated from t = 0 as LFPykernels does), made to rest at ``Vrest`` everywhere.
This is the offline variant: ``lif_notebook.py`` runs the notebook's own cells with its own mod
files, modules and morphologies, fetched from LFPykernels' repository.

    cd docs/examples/lfpykernels && python lif_kernels.py
"""

from copy import deepcopy

import numpy as np
import scipy.stats as st

from lfpk.compat.lfpykernels import GaussCylinderPotential, KernelApprox, KernelApproxCurrentDipoleMoment

dt = 2**-4  # time step (ms)
tau = 50  # kernel lags after the spike (ms)
t_X = 200  # presynaptic spike time: after the 200 ms transient (ms)
Vrest = -65.  # assumed mean postsynaptic potential (mV)
mean_nu_X = dict(E=2.3, I=4.9)  # presynaptic rates (spikes/s)
pset = dict(weight_EE=0.00015, weight_IE=0.00012, weight_EI=0.0045, weight_II=0.0020,
            n_ext=[450, 160], g_eff=True)

population_names = ['E', 'I']
population_sizes = [8192, 1024]
morphologies = ['sticks_E.hoc', 'sticks_I.hoc']
connectionProbability = [[0.05, 0.05], [0.05, 0.05]]
populationParameters = dict(radius=150., loc=0., scale=75.)
synapseParameters = [[dict(tau1=0.2, tau2=1.8, e=0.), dict(tau1=0.2, tau2=1.8, e=0.)],
                     [dict(tau1=0.1, tau2=9.0, e=-80.), dict(tau1=0.1, tau2=9.0, e=-80.)]]
delayFunction = st.truncnorm
delayArguments = [[dict(a=(0.3 - 1.5) / 0.3, b=np.inf, loc=1.5, scale=0.3),
                   dict(a=(0.3 - 1.4) / 0.4, b=np.inf, loc=1.4, scale=0.4)],
                  [dict(a=(0.3 - 1.4) / 0.5, b=np.inf, loc=1.3, scale=0.5),  # a as in the notebook's module
                   dict(a=(0.3 - 1.2) / 0.6, b=np.inf, loc=1.2, scale=0.6)]]
multapseFunction = st.truncnorm
multapseArguments = [[dict(a=(1 - 2.) / .4, b=(10 - 2.) / .4, loc=2., scale=.4),
                      dict(a=(1 - 2.) / .6, b=(10 - 2.) / .6, loc=2., scale=.6)],
                     [dict(a=(1 - 5.) / 0.9, b=(10 - 5.) / 0.9, loc=5., scale=0.9),
                      dict(a=(1 - 5.) / 1.1, b=(10 - 5.) / 1.1, loc=5., scale=1.1)]]
synapsePositionArguments = [[dict(section=['apic', 'dend'], fun=[st.norm, st.norm],
                                  funargs=[dict(loc=0., scale=100.), dict(loc=500., scale=100.)],
                                  funweights=[0.5, 1.]),
                             dict(section=['apic', 'dend'], fun=[st.norm],
                                  funargs=[dict(loc=50., scale=100.)], funweights=[1.])],
                            [dict(section=['soma', 'apic', 'dend'], fun=[st.norm],
                                  funargs=[dict(loc=-50., scale=100.)], funweights=[1.]),
                             dict(section=['soma', 'apic', 'dend'], fun=[st.norm],
                                  funargs=[dict(loc=-100., scale=100.)], funweights=[1.])]]
extSynapseParameters = dict(syntype='Exp2Syn', weight=0.0002, tau1=0.2, tau2=1.8, e=0.)
netstim_interval = 25.  # mean interval of the extrinsic input (ms)


def set_leak_and_Ih(cell, Vrest):
    """Passive leak (soma and dendrites differ) and lfpk's Ih channel (S/cm2, mV)."""
    for sec in cell.template.all:
        sec.insert('pas')
        sec.insert('Ih')
        sec.e_pas = Vrest
        soma = 'soma' in sec.name()
        sec.g_pas = 0.0000338 if soma else 0.0000589
        sec.gIhbar_Ih = 0.0002 if soma else 0.002


def make_cell_uniform(cell, Vrest):
    """Reversal of the leak such that every segment rests at Vrest (mV)."""
    import neuron  # deferred: the cell exists, NEURON is loaded
    neuron.h.finitialize(Vrest)
    neuron.h.fcurrent()
    for sec in cell.template.all:
        for seg in sec:
            seg.e_pas = seg.v + seg.ihcn_Ih / seg.g_pas


cellParameters = dict(templatefile='SticksTemplate.hoc', templatename='SticksTemplate',
                      templateargs=None, delete_sections=False)

gauss_cyl_potential = GaussCylinderPotential(
    cell=None, z=np.linspace(1000., -200., 13), sigma=0.3,
    R=populationParameters['radius'], sigma_z=populationParameters['scale'])
current_dipole_moment = KernelApproxCurrentDipoleMoment(cell=None)

H_YX = dict()
weights = [[pset['weight_EE'], pset['weight_IE']], [pset['weight_EI'], pset['weight_II']]]
for i, (X, N_X) in enumerate(zip(population_names, population_sizes)):
    for j, (Y, N_Y, morphology) in enumerate(zip(population_names, population_sizes, morphologies)):
        cell_parameters = deepcopy(cellParameters)
        cell_parameters.update(dict(morphology=morphology, custom_fun=[set_leak_and_Ih, make_cell_uniform],
                                    custom_fun_args=[dict(Vrest=Vrest), dict(Vrest=Vrest)]))
        kernel = KernelApprox(
            X=population_names,
            Y=Y,
            N_X=np.array(population_sizes),
            N_Y=N_Y,
            C_YX=np.array(connectionProbability[i]),
            cellParameters=cell_parameters,
            populationParameters=populationParameters,
            multapseFunction=multapseFunction,
            multapseParameters=[multapseArguments[ii][j] for ii in range(2)],
            delayFunction=delayFunction,
            delayParameters=[delayArguments[ii][j] for ii in range(2)],
            synapseParameters=[dict(weight=weights[ii][j], syntype='Exp2Syn', **synapseParameters[ii][j])
                               for ii in range(2)],
            synapsePositionArguments=[synapsePositionArguments[ii][j] for ii in range(2)],
            extSynapseParameters=extSynapseParameters,
            nu_ext=1000. / netstim_interval,
            n_ext=pset['n_ext'][j],
            nu_X=mean_nu_X,
        )
        H_YX[f'{Y}:{X}'] = kernel.get_kernel(
            probes=[gauss_cyl_potential, current_dipole_moment],
            Vrest=Vrest, dt=dt, X=X, t_X=t_X, tau=tau, g_eff=pset['g_eff'], fir=True)

if __name__ == "__main__":
    for key, kernels in H_YX.items():
        print(key, {name: (h.shape, float(f"{np.abs(h).max():.4g}")) for name, h in kernels.items()})
