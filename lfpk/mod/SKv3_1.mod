COMMENT
SKv3_1: fast non-inactivating Kv3.1-like potassium current of Hay et al. (2011), PLoS Comput Biol
7:e1002107, after Rettig et al. (1992), EMBO J 11:2473. Written for lfpk from the published
equations (units: v mV, t ms):

    i_k   = gSKv3_1bar * m * (v - ek)
    m_inf = 1 / (1 + exp(-(v - 18.7)/9.7))
    m_tau = 4 / (1 + exp(-(v + 46.56)/44.14))     (0.2 * 20 ms in Hay et al.)

No temperature factor (as in Hay et al.).
Speed (lfpk, issue 15): the rates are interpolated from a table in 0.01 mV steps from -150 to
100 mV (NEURON's TABLE; outside the range the end values; relative error about 1e-7,
tests/test_biophysics.py; set usetable_SKv3_1 = 0 for the formulas themselves), and NEURON takes
di/dv from the CONDUCTANCE hint (one current evaluation per step instead of two). Each gate
takes cnexp's exact step for x' = (x_inf - x)/x_tau at fixed v, x <- x + (1 - exp(-dt/x_tau))
(x_inf - x), with the factor 1 - exp(-dt/x_tau) from the same table (rebuilt when dt or
celsius changes) instead of one exp per gate, segment and step. Fixed time step only (the
gates are updated by a PROCEDURE, so NEURON's variable-step CVODE refuses the mechanism).
Reversal potential (lfpk, issue 25): ek is a parameter of this mechanism (default -77 mV,
NEURON's for the k ion) and ik a NONSPECIFIC_CURRENT, so the mechanism does not use
NEURON's k ion, whose bookkeeping per segment and step (zeroing, summing and reading the ion
currents) took about a third of the time steps of a cell with Model A's channels; the current
and the voltages are the same to the bit (no model of lfpk changes the k concentrations).
The config's `ions: {ek: ...}` sets it (lfpk.model.biophysics.insert_active).
ENDCOMMENT

NEURON {
    SUFFIX SKv3_1
    NONSPECIFIC_CURRENT ik
    RANGE gSKv3_1bar, gSKv3_1, ik, ek
    RANGE mInf, mTau, mStep
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gSKv3_1bar = 0.00001 (S/cm2)
    ek = -77 (mV)
}

ASSIGNED {
    v (mV)
    dt (ms)
    ik (mA/cm2)
    gSKv3_1 (S/cm2)
    mInf (1)
    mTau (ms)
    mStep (1)
}

STATE {
    m
}

INITIAL {
    rates(v)
    m = mInf
}

BREAKPOINT {
    SOLVE states
    gSKv3_1 = gSKv3_1bar * m
    ik = gSKv3_1 * (v - ek)
    CONDUCTANCE gSKv3_1
}

PROCEDURE states() {
    : cnexp's exact update of x' = (xInf - x)/xTau over one step, xStep = 1 - exp(-dt/xTau)
    : from the table
    rates(v)
    m = m + mStep * (mInf - m)
}

PROCEDURE rates(vm (mV)) {
    TABLE mInf, mTau, mStep DEPEND celsius, dt FROM -150 TO 100 WITH 25000
    UNITSOFF
    mInf = 1 / (1 + exp(-(vm - 18.7) / 9.7))
    mTau = 4 / (1 + exp(-(vm + 46.56) / 44.14))
    mStep = 1 - exp(-dt / mTau)
    UNITSON
}
