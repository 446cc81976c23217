COMMENT
Exp2SynISum: current-based double-exponential synapse with order-independent event summation
(lfpk).

The current of Exp2SynI (exp2syni.mod): after an event of weight w (nA, positive = inward,
depolarising) the current is

    i(t) = -w * factor * (exp(-t/tau2) - exp(-t/tau1)),   t >= 0,

with factor normalising the difference of exponentials to a peak of 1; i is NEURON's
outward-positive NONSPECIFIC_CURRENT and does not depend on v. Used by the hybrid scheme
(lfpk.network.replay): the network rebuilt with linearised cells receives every synapse as a
current w = -g (V_rest - E) (Hagen et al. 2022, PLOS Comput Biol 18:e1010353).

Events are summed as in exp2synsum.mod: an external event (flag 0) only adds its weight to
`pending`; the first one of a time step sends a self-event (flag 1) to k*dt + dt/4 (k the step
that delivers the event, or the event's own time if later) that adds pending*factor to both
states once, after every network event of the step and before the state integration. With
weights on a common binary quantum (lfpk.network.WEIGHT_QUANTUM) every partial sum is exact, so
the state does not depend on the order in which the events of a step arrive (rank count, spike
exchange). Fixed time step only.
ENDCOMMENT

NEURON {
    POINT_PROCESS Exp2SynISum
    RANGE tau1, tau2, i, pending
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
    pending (nA)
    armed
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
    if (tau1 / tau2 < 1e-9) {
        tau1 = tau2 * 1e-9
    }
    rise = 0
    decay = 0
    pending = 0
    armed = 0
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
    LOCAL k, ts
    if (flag == 0) {
        pending = pending + weight
        if (armed == 0) {
            armed = 1
            k = -floor(-(t - 0.5 * dt) / dt)
            ts = k * dt + 0.25 * dt
            if (ts < t) {
                ts = t
            }
            net_send(ts - t, 1)
        }
    } else if (flag == 1) {
        rise = rise + pending * factor
        decay = decay + pending * factor
        pending = 0
        armed = 0
    }
}
