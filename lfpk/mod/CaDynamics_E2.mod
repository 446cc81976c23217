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
Speed (lfpk, issue 25): cai takes cnexp's exact step at fixed ica, cai <- cai + (1 - exp(-dt/decay))
(cai_inf - cai) with cai_inf = minCai - 1e4 * gamma * decay * ica / (2 F depth), its factor
1 - exp(-dt/decay) kept per segment and computed again only when dt or decay changed since it was
last computed, instead of one exp per segment and step. Fixed time step only (the concentration is
updated by a PROCEDURE, so NEURON's variable-step CVODE refuses the mechanism).
ENDCOMMENT

NEURON {
    SUFFIX CaDynamics_E2
    USEION ca READ ica WRITE cai
    RANGE decay, gamma, minCai, depth
    RANGE decayStep, stepDt, stepDecay
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
    dt (ms)
    ica (mA/cm2)
    decayStep (1)
    stepDt (ms)
    stepDecay (ms)
}

STATE {
    cai (mM)
}

BREAKPOINT {
    SOLVE states
}

PROCEDURE states() {
    : cnexp's exact update of cai' = -1e4 gamma ica / (2 F depth) - (cai - minCai) / decay over
    : one step, decayStep = 1 - exp(-dt/decay) computed again only when dt or decay changed
    if (dt != stepDt || decay != stepDecay) {
        decayStep = 1 - exp(-dt / decay)
        stepDt = dt
        stepDecay = decay
    }
    cai = cai + decayStep * (minCai - (10000) * ica * gamma * decay / (2 * FARADAY * depth) - cai)
}
