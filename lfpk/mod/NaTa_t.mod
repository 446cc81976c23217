COMMENT
NaTa_t: fast-inactivating (transient) sodium current of Hay et al. (2011), PLoS Comput Biol
7:e1002107, fitted by them to the somatic recordings of Colbert & Pan (2002), Nat Neurosci 5:533.
Written for lfpk from the published equations (units: v mV, t ms, rates 1/ms):

    i_na   = gNaTa_tbar * m^3 * h * (v - ena)
    m_alpha =  0.182 * (v + 38) / (1 - exp(-(v + 38)/6))
    m_beta  =  0.124 * (-v - 38) / (1 - exp(-(-v - 38)/6))
    h_alpha = -0.015 * (v + 66) / (1 - exp((v + 66)/6))
    h_beta  = -0.015 * (-v - 66) / (1 - exp((-v - 66)/6))
    x_inf = x_alpha / (x_alpha + x_beta),  x_tau = 1 / ((x_alpha + x_beta) * qt)
    qt = 2.3^((celsius - 21)/10)

Hay et al. evaluate qt at a fixed 34 degC; here qt follows the global `celsius` (identical at the
study's 34 degC). Each rate has the form c * x / (1 - exp(-x/k)), whose removable singularity at
x = 0 (v = -38 mV for m, v = -66 mV for h) is replaced by its Taylor series k + x/2 + x^2/(12 k)
for |x/k| < 1e-4, so rates are finite and continuous for every v.
Speed (lfpk, issue 15): the rates are interpolated from a table in 0.01 mV steps from -150 to
100 mV (NEURON's TABLE; outside the range the end values; relative error about 1e-7,
tests/test_biophysics.py; set usetable_NaTa_t = 0 for the formulas themselves), and NEURON takes
di/dv from the CONDUCTANCE hint (one current evaluation per step instead of two). Each gate
takes cnexp's exact step for x' = (x_inf - x)/x_tau at fixed v, x <- x + (1 - exp(-dt/x_tau))
(x_inf - x), with the factor 1 - exp(-dt/x_tau) from the same table (rebuilt when dt or
celsius changes) instead of one exp per gate, segment and step. Fixed time step only (the
gates are updated by a PROCEDURE, so NEURON's variable-step CVODE refuses the mechanism).
Reversal potential (lfpk, issue 25): ena is a parameter of this mechanism (default 50 mV,
NEURON's for the na ion) and ina a NONSPECIFIC_CURRENT, so the mechanism does not use
NEURON's na ion, whose bookkeeping per segment and step (zeroing, summing and reading the ion
currents) took about a third of the time steps of a cell with Model A's channels; the current
and the voltages are the same to the bit (no model of lfpk changes the na concentrations).
The config's `ions: {ena: ...}` sets it (lfpk.model.biophysics.insert_active).
ENDCOMMENT

NEURON {
    SUFFIX NaTa_t
    NONSPECIFIC_CURRENT ina
    RANGE gNaTa_tbar, gNaTa_t, ina, ena
    RANGE mInf, mTau, hInf, hTau, mStep, hStep
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gNaTa_tbar = 0.00001 (S/cm2)
    ena = 50 (mV)
}

ASSIGNED {
    v (mV)
    dt (ms)
    celsius (degC)
    ina (mA/cm2)
    gNaTa_t (S/cm2)
    mInf (1)
    mTau (ms)
    mStep (1)
    hInf (1)
    hTau (ms)
    hStep (1)
}

STATE {
    m
    h
}

INITIAL {
    rates(v)
    m = mInf
    h = hInf
}

BREAKPOINT {
    SOLVE states
    gNaTa_t = gNaTa_tbar * m * m * m * h
    ina = gNaTa_t * (v - ena)
    CONDUCTANCE gNaTa_t
}

PROCEDURE states() {
    : cnexp's exact update of x' = (xInf - x)/xTau over one step, xStep = 1 - exp(-dt/xTau)
    : from the table
    rates(v)
    m = m + mStep * (mInf - m)
    h = h + hStep * (hInf - h)
}

FUNCTION xlinexp(x, k) {
    : x / (1 - exp(-x/k)), continuous through x = 0 where it equals k
    if (fabs(x / k) < 1e-4) {
        xlinexp = k + x / 2 + x * x / (12 * k)
    } else {
        xlinexp = x / (1 - exp(-x / k))
    }
}

PROCEDURE rates(vm (mV)) {
    LOCAL qt, ma, mb, ha, hb
    TABLE mInf, mTau, hInf, hTau, mStep, hStep DEPEND celsius, dt FROM -150 TO 100 WITH 25000
    UNITSOFF
    qt = 2.3^((celsius - 21) / 10)
    ma = 0.182 * xlinexp(vm + 38, 6)
    mb = 0.124 * xlinexp(-(vm + 38), 6)
    ha = 0.015 * xlinexp(-(vm + 66), 6)
    hb = 0.015 * xlinexp(vm + 66, 6)
    mInf = ma / (ma + mb)
    mTau = 1 / ((ma + mb) * qt)
    hInf = ha / (ha + hb)
    hTau = 1 / ((ha + hb) * qt)
    mStep = 1 - exp(-dt / mTau)
    hStep = 1 - exp(-dt / hTau)
    UNITSON
}
