COMMENT
Exp2SynSum: NEURON's Exp2Syn with order-independent event summation (lfpk).

Conductance, parameters and current are those of Exp2Syn (tau1, tau2, e; peak-normalised
factor; g = B - A, i = g*(v - e)). Exp2Syn adds every event's weight*factor to A and B as the
event is delivered, so events delivered in the same time step are added in queue order, which
with MPI depends on the spike exchange (floating-point sums are not associative). Here an
external event (flag 0) only adds its weight to `pending`; the first external event of a time
step sends a self-event (flag 1) that adds pending*factor to A and B once and resets pending.
If the weights are multiples of a common quantum (lfpk.network quantises them to 2^-48 uS),
every partial sum of them is exact in float64, so `pending` and hence the state do not depend
on the delivery order.

Timing (fixed step only). NEURON's fixed step from t delivers, before integrating, every
queued event with time <= t + dt/2 in time order, including events inserted while delivering.
An event at time te belongs to the step starting at k*dt with k = ceil((te - dt/2)/dt); the
self-event is sent to k*dt + dt/4 (or to te itself if te is later, e.g. a Poisson event in
(k*dt + dt/4, k*dt + dt/2]), so it is delivered in the same step, after all network events of the
step (their times are on the dt grid: spikes are detected at step boundaries and delays are
multiples of dt) and before the state integration: the response equals Exp2Syn's step by step.
ENDCOMMENT

NEURON {
    POINT_PROCESS Exp2SynSum
    RANGE tau1, tau2, e, i
    NONSPECIFIC_CURRENT i
    RANGE g, pending
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    tau1 = 0.1 (ms) <1e-9,1e9>
    tau2 = 10 (ms) <1e-9,1e9>
    e = 0 (mV)
}

ASSIGNED {
    v (mV)
    i (nA)
    g (uS)
    factor
    pending (uS)
    armed
}

STATE {
    A (uS)
    B (uS)
}

INITIAL {
    LOCAL tp
    if (tau1/tau2 > 0.9999) {
        tau1 = 0.9999*tau2
    }
    if (tau1/tau2 < 1e-9) {
        tau1 = tau2*1e-9
    }
    A = 0
    B = 0
    pending = 0
    armed = 0
    tp = (tau1*tau2)/(tau2 - tau1) * log(tau2/tau1)
    factor = -exp(-tp/tau1) + exp(-tp/tau2)
    factor = 1/factor
}

BREAKPOINT {
    SOLVE state METHOD cnexp
    g = B - A
    i = g*(v - e)
}

DERIVATIVE state {
    A' = -A/tau1
    B' = -B/tau2
}

NET_RECEIVE(weight (uS)) {
    LOCAL k, ts
    if (flag == 0) {
        pending = pending + weight
        if (armed == 0) {
            armed = 1
            k = -floor(-(t - 0.5*dt)/dt)
            ts = k*dt + 0.25*dt
            if (ts < t) {
                ts = t
            }
            net_send(ts - t, 1)
        }
    } else if (flag == 1) {
        A = A + pending*factor
        B = B + pending*factor
        pending = 0
        armed = 0
    }
}
