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

Events are summed as in exp2synsum.mod: an event only adds its weight to `pending`; once per
time step, in the current evaluation (BREAKPOINT), after NEURON has delivered the step's events,
pending*factor is added to both states and pending is reset. With weights on a common binary
quantum (lfpk.network.WEIGHT_QUANTUM) every partial sum is exact, so the state does not depend on
the order in which the events of a step arrive (rank count, spike exchange). The states decay by
Exp2SynI's cnexp update, x <- x + (1 - exp(-dt/tau))*(0 - x), with the factors computed once per
dt (SOLVE kinetics, in the state update).

Built-in Poisson drive, as in exp2synsum.mod (used by the hybrid scheme's reconstructions to
replay the ground truth's extrinsic drive): with drive_interval > 0 (ms) the synapse draws a
Poisson train of mean interval drive_interval from the Random123 stream `drive_stream`
(syn.drive_stream.set_ids(id1, id2, id3); restarted at sequence 0 by finitialize) exactly as
NetStim (noise = 1, start = 0) draws it, each arrival of weight drive_weight (nA) added to
pending in the step in which NEURON would deliver the NetStim's event: the NetStim's drive,
bitwise, without event-queue traffic. drive_count counts the arrivals since finitialize.

The current does not depend on v: the CONDUCTANCE hint (zero) spares NEURON the second current
evaluation it would make for di/dv. Fixed time step only.
ENDCOMMENT

NEURON {
    POINT_PROCESS Exp2SynISum
    RANGE tau1, tau2, i, pending
    NONSPECIFIC_CURRENT i
    RANGE drive_interval, drive_weight, drive_next, drive_count
    RANDOM drive_stream
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
}

PARAMETER {
    tau1 = 0.2 (ms) <1e-9, 1e9>
    tau2 = 1.8 (ms) <1e-9, 1e9>
    drive_interval = 0 (ms)
    drive_weight = 0 (nA)
}

ASSIGNED {
    v (mV)
    i (nA)
    factor (1)
    pending (nA)
    drive_next (ms)
    drive_count
    g_zero (uS)
    rise (nA)
    decay (nA)
    c1
    c2
    dt_decay (ms)
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
    g_zero = 0
    dt_decay = -1
    random_setseq(drive_stream, 0)
    drive_next = 1e300
    drive_count = 0
    if (drive_interval > 0) {
        drive_next = drive_interval * random_negexp(drive_stream)
    }
    t_peak = (tau1 * tau2) / (tau2 - tau1) * log(tau2 / tau1)
    factor = 1 / (exp(-t_peak / tau2) - exp(-t_peak / tau1))
}

BREAKPOINT {
    SOLVE kinetics
    if (drive_interval > 0) {
        while (drive_next <= t) {
            pending = pending + drive_weight
            drive_count = drive_count + 1
            drive_next = drive_next + drive_interval * random_negexp(drive_stream)
        }
    }
    if (pending != 0) {
        rise = rise + pending * factor
        decay = decay + pending * factor
        pending = 0
    }
    i = -(decay - rise)
    CONDUCTANCE g_zero
}

PROCEDURE kinetics() {
    : Exp2SynI's cnexp update of rise' = -rise/tau1, decay' = -decay/tau2, once per step
    if (dt != dt_decay) {
        c1 = 1 - exp(dt * ((-1) / tau1))
        c2 = 1 - exp(dt * ((-1) / tau2))
        dt_decay = dt
    }
    rise = rise + c1 * (0 - rise)
    decay = decay + c2 * (0 - decay)
}

NET_RECEIVE(weight (nA)) {
    pending = pending + weight
}
