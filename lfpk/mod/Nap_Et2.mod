COMMENT
Nap_Et2: persistent sodium current of Hay et al. (2011), PLoS Comput Biol 7:e1002107, after the
kinetics of Magistretti & Alonso (1999), J Gen Physiol 114:491 (activation time constant six
times that of NaTa_t's rate functions). Written for lfpk from the published equations (units:
v mV, t ms, rates 1/ms):

    i_na    = gNap_Et2bar * m^3 * h * (v - ena)
    m_inf   = 1 / (1 + exp(-(v + 52.6)/4.6))
    m_alpha = 0.182 * (v + 38) / (1 - exp(-(v + 38)/6))
    m_beta  = 0.124 * (-v - 38) / (1 - exp(-(-v - 38)/6))
    m_tau   = 6 / ((m_alpha + m_beta) * qt)
    h_inf   = 1 / (1 + exp((v + 48.8)/10))
    h_alpha = -2.88e-6 * (v + 17) / (1 - exp((v + 17)/4.63))
    h_beta  =  6.94e-6 * (v + 64.4) / (1 - exp(-(v + 64.4)/2.63))
    h_tau   = 1 / ((h_alpha + h_beta) * qt)
    qt = 2.3^((celsius - 21)/10)

As for NaTa_t.mod, qt follows the global `celsius` (Hay et al. fix it at 34 degC, the study's
temperature). Rates of the form c * x / (1 - exp(-x/k)) use the Taylor series k + x/2 + x^2/(12 k)
near their removable singularities (v = -38, -17, -64.4 mV).
Speed (lfpk, issue 25, as NaTa_t, SKv3_1 and Ih since issue 15): the rates are interpolated from a
table in 0.01 mV steps from -150 to 100 mV (NEURON's TABLE; outside the range the end values;
relative error below 1e-6, tests/test_hay2011_channels.py; set usetable_Nap_Et2 = 0 for the
formulas themselves), and NEURON takes di/dv from the CONDUCTANCE hint (one current evaluation per
step instead of two). Each gate takes cnexp's exact step for x' = (x_inf - x)/x_tau at fixed v,
x <- x + (1 - exp(-dt/x_tau)) (x_inf - x), with the factor 1 - exp(-dt/x_tau) from the same table
(rebuilt when dt or celsius changes) instead of one exp per gate, segment and step and the rates'
five exp and one pow. Fixed time step only (the gates are updated by a PROCEDURE, so NEURON's
variable-step CVODE refuses the mechanism).
Reversal potential (lfpk, issue 25): ena is a parameter of this mechanism (default 50 mV,
NEURON's for the na ion) and ina a NONSPECIFIC_CURRENT, so the mechanism does not use
NEURON's na ion, whose bookkeeping per segment and step (zeroing, summing and reading the ion
currents) took about a third of the time steps of a cell with Model A's channels; the current
and the voltages are the same to the bit (no model of lfpk changes the na concentrations).
The config's `ions: {ena: ...}` sets it (lfpk.model.biophysics.insert_active).
ENDCOMMENT

NEURON {
    SUFFIX Nap_Et2
    NONSPECIFIC_CURRENT ina
    RANGE gNap_Et2bar, gNap_Et2, ina, ena
    RANGE mInf, mTau, hInf, hTau, mStep, hStep
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gNap_Et2bar = 0.00001 (S/cm2)
    ena = 50 (mV)
}

ASSIGNED {
    v (mV)
    dt (ms)
    celsius (degC)
    ina (mA/cm2)
    gNap_Et2 (S/cm2)
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
    gNap_Et2 = gNap_Et2bar * m * m * m * h
    ina = gNap_Et2 * (v - ena)
    CONDUCTANCE gNap_Et2
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
    mInf = 1 / (1 + exp(-(vm + 52.6) / 4.6))
    ma = 0.182 * xlinexp(vm + 38, 6)
    mb = 0.124 * xlinexp(-(vm + 38), 6)
    mTau = 6 / ((ma + mb) * qt)
    hInf = 1 / (1 + exp((vm + 48.8) / 10))
    ha = 2.88e-6 * xlinexp(-(vm + 17), 4.63)
    hb = 6.94e-6 * xlinexp(vm + 64.4, 2.63)
    hTau = 1 / ((ha + hb) * qt)
    mStep = 1 - exp(-dt / mTau)
    hStep = 1 - exp(-dt / hTau)
    UNITSON
}
