COMMENT
Ca_HVA: high-voltage-activated calcium current of Hay et al. (2011), PLoS Comput Biol 7:e1002107,
after Reuveni et al. (1993), J Neurosci 13:4609. Written for lfpk from the published equations
(units: v mV, t ms, rates 1/ms):

    i_ca    = gCa_HVAbar * m^2 * h * (v - eca)
    m_alpha = 0.055 (-27 - v) / (exp((-27 - v)/3.8) - 1)
    m_beta  = 0.94 exp((-75 - v)/17)
    h_alpha = 0.000457 exp((-13 - v)/50)
    h_beta  = 0.0065 / (exp((-v - 15)/28) + 1)
    x_inf = x_alpha / (x_alpha + x_beta),  x_tau = 1 / (x_alpha + x_beta)

No temperature factor (as in Hay et al.). m_alpha has the form c * x / (1 - exp(-x/k)) with
x = v + 27, k = 3.8; its removable singularity at v = -27 mV is replaced by the Taylor series
k + x/2 + x^2/(12 k) for |x/k| < 1e-4. eca follows the calcium concentrations (Nernst, NEURON's ca
ion) when a mechanism such as CaDynamics_E2 writes cai.
Speed (lfpk, issue 25, as NaTa_t, SKv3_1 and Ih since issue 15): the rates are interpolated from a
table in 0.01 mV steps from -150 to 100 mV (NEURON's TABLE; outside the range the end values;
relative error below 1e-6, tests/test_hay2011_channels.py; set usetable_Ca_HVA = 0 for the
formulas themselves), and NEURON takes di/dv from the CONDUCTANCE hint (one current evaluation per
step instead of two). Each gate takes cnexp's exact step for x' = (x_inf - x)/x_tau at fixed v,
x <- x + (1 - exp(-dt/x_tau)) (x_inf - x), with the factor 1 - exp(-dt/x_tau) from the same table
(rebuilt when dt changes) instead of one exp per gate, segment and step and the rates' four exp.
Fixed time step only (the gates are updated by a PROCEDURE, so NEURON's variable-step CVODE
refuses the mechanism).
ENDCOMMENT

NEURON {
    SUFFIX Ca_HVA
    USEION ca READ eca WRITE ica
    RANGE gCa_HVAbar, gCa_HVA, ica
    RANGE mInf, mTau, hInf, hTau, mStep, hStep
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gCa_HVAbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    dt (ms)
    eca (mV)
    ica (mA/cm2)
    gCa_HVA (S/cm2)
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
    gCa_HVA = gCa_HVAbar * m * m * h
    ica = gCa_HVA * (v - eca)
    CONDUCTANCE gCa_HVA USEION ca
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
    LOCAL ma, mb, ha, hb
    TABLE mInf, mTau, hInf, hTau, mStep, hStep DEPEND dt FROM -150 TO 100 WITH 25000
    UNITSOFF
    ma = 0.055 * xlinexp(vm + 27, 3.8)
    mb = 0.94 * exp((-75 - vm) / 17)
    ha = 0.000457 * exp((-13 - vm) / 50)
    hb = 0.0065 / (exp((-vm - 15) / 28) + 1)
    mInf = ma / (ma + mb)
    mTau = 1 / (ma + mb)
    hInf = ha / (ha + hb)
    hTau = 1 / (ha + hb)
    mStep = 1 - exp(-dt / mTau)
    hStep = 1 - exp(-dt / hTau)
    UNITSON
}
