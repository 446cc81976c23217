COMMENT
Exp2SynSum: NEURON's Exp2Syn with order-independent event summation and an optional built-in
Poisson drive (lfpk). Fixed time step only.

Conductance, parameters and current are those of Exp2Syn (tau1, tau2, e; peak-normalised
factor; g = B - A, i = g*(v - e)).

Order independence. Exp2Syn adds every event's weight*factor to A and B as the event is
delivered, so events delivered in the same time step are added in queue order, which with MPI
depends on the spike exchange (floating-point sums are not associative). Here an event only adds
its weight to `pending`; once per time step, in the current evaluation (BREAKPOINT), after NEURON
has delivered the step's events, pending*factor is added to A and B and pending is reset. If the
weights are multiples of a common quantum (lfpk.network quantises them to 2^-48 uS), every
partial sum of them is exact in float64, so `pending` and hence the state do not depend on the
delivery order. NEURON evaluates BREAKPOINT twice per step (at v + 0.001 mV and at v, for
di/dv) unless told the conductance (CONDUCTANCE g, below); a second evaluation would find
pending = 0 and no new arrival, so both would see the same g.

Timing. NEURON's fixed step from t delivers every queued event with time <= t + dt/2, advances
t by dt/2, computes the currents, solves the voltages and updates the states (here SOLVE decay:
Exp2Syn's cnexp update A <- A + (1 - exp(-dt/tau1))*(0 - A), likewise B, with the factors
computed once per dt). An event therefore enters A and B in the step in which Exp2Syn would add
it, and the conductance equals Exp2Syn's step by step (bitwise for single events).

Built-in Poisson drive. With drive_interval > 0 (ms) the synapse receives a Poisson train of
mean interval drive_interval, each arrival of weight drive_weight (uS), generated inside the
mechanism instead of by a NetStim and a NetCon through the event queue: the arrival times are
drawn from the Random123 stream `drive_stream` (ids set from Python with
syn.drive_stream.set_ids(id1, id2, id3)) exactly as NetStim (noise = 1, start = 0) draws them,
t_1 = interval*negexp(), t_(n+1) = t_n + interval*negexp(), the stream restarted at sequence 0
by finitialize. Every arrival with time <= t (= step start + dt/2 in the current evaluation)
is added to pending in that step, i.e. in the step in which NEURON would deliver the NetStim's
event: the drive is that of a NetStim with the same stream, bitwise, at the cost of a comparison
per step and one random number per arrival, with no event-queue traffic. drive_count counts the
arrivals since finitialize (for tests).

Speed: di/dv is taken from the CONDUCTANCE hint g (the current is linear in v), so BREAKPOINT is
evaluated once per step (the pending weights are still applied once either way).
ENDCOMMENT

NEURON {
    POINT_PROCESS Exp2SynSum
    RANGE tau1, tau2, e, i
    NONSPECIFIC_CURRENT i
    RANGE g, pending
    RANGE drive_interval, drive_weight, drive_next, drive_count
    RANDOM drive_stream
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
    drive_interval = 0 (ms)
    drive_weight = 0 (uS)
}

ASSIGNED {
    v (mV)
    i (nA)
    g (uS)
    factor
    pending (uS)
    drive_next (ms)
    drive_count
    A (uS)
    B (uS)
    c1
    c2
    dt_decay (ms)
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
    tp = (tau1*tau2)/(tau2 - tau1) * log(tau2/tau1)
    factor = -exp(-tp/tau1) + exp(-tp/tau2)
    factor = 1/factor
    dt_decay = -1
    random_setseq(drive_stream, 0)
    drive_next = 1e300
    drive_count = 0
    if (drive_interval > 0) {
        drive_next = drive_interval*random_negexp(drive_stream)
    }
}

BREAKPOINT {
    SOLVE decay
    : Apply the step's arrivals once (NEURON may evaluate this block twice per step, at v + 0.001
    : and at v, for di/dv), and the second evaluation finds nothing left to add.
    if (drive_interval > 0) {
        while (drive_next <= t) {
            pending = pending + drive_weight
            drive_count = drive_count + 1
            drive_next = drive_next + drive_interval*random_negexp(drive_stream)
        }
    }
    if (pending != 0) {
        A = A + pending*factor
        B = B + pending*factor
        pending = 0
    }
    g = B - A
    i = g*(v - e)
    CONDUCTANCE g
}

PROCEDURE decay() {
    : Exp2Syn's cnexp update of A' = -A/tau1, B' = -B/tau2, once per step (state update)
    if (dt != dt_decay) {
        c1 = 1 - exp(dt*((-1)/tau1))
        c2 = 1 - exp(dt*((-1)/tau2))
        dt_decay = dt
    }
    A = A + c1*(0 - A)
    B = B + c2*(0 - B)
}

NET_RECEIVE(weight (uS)) {
    pending = pending + weight
}
