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
di/dv from the CONDUCTANCE hint (one current evaluation per step instead of two).
ENDCOMMENT

NEURON {
    SUFFIX SKv3_1
    USEION k READ ek WRITE ik
    RANGE gSKv3_1bar, gSKv3_1, ik
    RANGE mInf, mTau
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gSKv3_1bar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    gSKv3_1 (S/cm2)
    mInf (1)
    mTau (ms)
}

STATE {
    m
}

INITIAL {
    rates(v)
    m = mInf
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    gSKv3_1 = gSKv3_1bar * m
    ik = gSKv3_1 * (v - ek)
    CONDUCTANCE gSKv3_1 USEION k
}

DERIVATIVE states {
    rates(v)
    m' = (mInf - m) / mTau
}

PROCEDURE rates(vm (mV)) {
    TABLE mInf, mTau FROM -150 TO 100 WITH 25000
    UNITSOFF
    mInf = 1 / (1 + exp(-(vm - 18.7) / 9.7))
    mTau = 4 / (1 + exp(-(vm + 46.56) / 44.14))
    UNITSON
}
