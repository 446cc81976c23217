COMMENT
Exp2SynI: current-based double-exponential synapse for lfpk.

The synaptic current follows the peak-normalised difference of two exponentials used by NEURON's
conductance-based Exp2Syn, but is independent of the membrane potential:

    i(t) = -w * factor * (exp(-t/tau2) - exp(-t/tau1)),   t >= 0 after an event of weight w (nA)

with factor chosen so the peak of (exp(-t/tau2) - exp(-t/tau1)) * factor is 1, reached at
t_peak = tau1*tau2/(tau2-tau1) * ln(tau2/tau1). A positive weight is an inward (depolarising)
current of peak w nA (i is NEURON's outward-positive NONSPECIFIC_CURRENT). Used for the
linearised synapses of the kernel cell: a conductance synapse of weight g (uS) and reversal E (mV)
around V_rest becomes w = -g * (V_rest - E) (nA).
ENDCOMMENT

NEURON {
    POINT_PROCESS Exp2SynI
    RANGE tau1, tau2, i
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
}

PARAMETER {
    tau1 = 0.2 (ms) <1e-9, 1e9>
    tau2 = 1.8 (ms) <1e-9, 1e9>
}

ASSIGNED {
    v (mV)
    i (nA)
    factor (1)
}

STATE {
    rise (nA)
    decay (nA)
}

INITIAL {
    LOCAL t_peak
    if (tau1 / tau2 > 0.9999) {
        tau1 = 0.9999 * tau2
    }
    rise = 0
    decay = 0
    t_peak = (tau1 * tau2) / (tau2 - tau1) * log(tau2 / tau1)
    factor = 1 / (exp(-t_peak / tau2) - exp(-t_peak / tau1))
}

BREAKPOINT {
    SOLVE kinetics METHOD cnexp
    i = -(decay - rise)
}

DERIVATIVE kinetics {
    rise' = -rise / tau1
    decay' = -decay / tau2
}

NET_RECEIVE(weight (nA)) {
    rise = rise + weight * factor
    decay = decay + weight * factor
}
