COMMENT
CaDynamics_E2: intracellular calcium in a submembrane shell of Hay et al. (2011), PLoS Comput Biol
7:e1002107, after Destexhe et al. (1994), J Comput Neurosci 1:195: calcium entering through the
membrane (ica, of which the fraction gamma stays free, the rest buffered) fills a shell of the
given depth and is removed towards a floor minCai with time constant decay. Written for lfpk from
the published equation (units: cai, minCai mM; ica mA/cm2; depth um; decay, t ms):

    dcai/dt = -1e4 * gamma * ica / (2 F depth) - (cai - minCai) / decay

with F Faraday's constant (C/mol); 1e4 converts (mA/cm2) / ((C/mol) um) to mM/ms. Its steady
state at a constant ica is  cai = minCai - 1e4 * gamma * decay * ica / (2 F depth).

As in the model's published code there is no INITIAL block: cai starts at the ca ion's initial
concentration (NEURON's cai0_ca_ion, default 5e-5 mM) and relaxes towards its steady state with
time constant decay. Hay et al. (2011) use gamma 5.01e-4 (soma) and 5.09e-4 (apical dendrite),
decay 460 and 122 ms.
ENDCOMMENT

NEURON {
    SUFFIX CaDynamics_E2
    USEION ca READ ica WRITE cai
    RANGE decay, gamma, minCai, depth
}

UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
    FARADAY = (faraday) (coulombs)
    (molar) = (1/liter)
    (mM) = (millimolar)
    (um) = (micron)
}

PARAMETER {
    gamma = 0.05 (1)
    decay = 80 (ms)
    depth = 0.1 (um)
    minCai = 1e-4 (mM)
}

ASSIGNED {
    ica (mA/cm2)
}

STATE {
    cai (mM)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
}

DERIVATIVE states {
    cai' = -(10000) * (ica * gamma / (2 * FARADAY * depth)) - (cai - minCai) / decay
}
