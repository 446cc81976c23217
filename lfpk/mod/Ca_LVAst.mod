COMMENT
Ca_LVAst: low-voltage-activated (T-type) calcium current of Hay et al. (2011), PLoS Comput Biol
7:e1002107, after the steady states of Avery & Johnston (1996), J Neurosci 16:5567, and the time
constants of Randall & Tsien (1997), Neuropharmacology 36:879, with every voltage shifted by
-10 mV (liquid junction potential) and the rates raised from 21 to the study's temperature with
Q10 = 2.3. Written for lfpk from the published equations (units: v mV, t ms), u = v + 10:

    i_ca  = gCa_LVAstbar * m^2 * h * (v - eca)
    m_inf = 1 / (1 + exp(-(u + 30)/6))
    m_tau = (5 + 20 / (1 + exp((u + 25)/5))) / qt
    h_inf = 1 / (1 + exp((u + 80)/6.4))
    h_tau = (20 + 50 / (1 + exp((u + 40)/7))) / qt
    qt = 2.3^((celsius - 21)/10)

eca follows the calcium concentrations (Nernst, NEURON's ca ion) when a mechanism such as
CaDynamics_E2 writes cai. Hay et al. evaluate qt at a fixed 34 degC; here qt follows the global
`celsius` (identical at the study's 34 degC).
Speed (lfpk, issue 25, as NaTa_t, SKv3_1 and Ih since issue 15): the rates are interpolated from a
table in 0.01 mV steps from -150 to 100 mV (NEURON's TABLE; outside the range the end values;
relative error below 1e-6, tests/test_hay2011_channels.py; set usetable_Ca_LVAst = 0 for the
formulas themselves), and NEURON takes di/dv from the CONDUCTANCE hint (one current evaluation per
step instead of two). Each gate takes cnexp's exact step for x' = (x_inf - x)/x_tau at fixed v,
x <- x + (1 - exp(-dt/x_tau)) (x_inf - x), with the factor 1 - exp(-dt/x_tau) from the same table
(rebuilt when dt or celsius changes) instead of one exp per gate, segment and step and the rates'
four exp and one pow. Fixed time step only (the gates are updated by a PROCEDURE, so NEURON's
variable-step CVODE refuses the mechanism).
ENDCOMMENT

NEURON {
    SUFFIX Ca_LVAst
    USEION ca READ eca WRITE ica
    RANGE gCa_LVAstbar, gCa_LVAst, ica
    RANGE mInf, mTau, hInf, hTau, mStep, hStep
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gCa_LVAstbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    dt (ms)
    celsius (degC)
    eca (mV)
    ica (mA/cm2)
    gCa_LVAst (S/cm2)
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
    gCa_LVAst = gCa_LVAstbar * m * m * h
    ica = gCa_LVAst * (v - eca)
    CONDUCTANCE gCa_LVAst USEION ca
}

PROCEDURE states() {
    : cnexp's exact update of x' = (xInf - x)/xTau over one step, xStep = 1 - exp(-dt/xTau)
    : from the table
    rates(v)
    m = m + mStep * (mInf - m)
    h = h + hStep * (hInf - h)
}

PROCEDURE rates(vm (mV)) {
    LOCAL qt, u
    TABLE mInf, mTau, hInf, hTau, mStep, hStep DEPEND celsius, dt FROM -150 TO 100 WITH 25000
    UNITSOFF
    qt = 2.3^((celsius - 21) / 10)
    u = vm + 10
    mInf = 1 / (1 + exp(-(u + 30) / 6))
    mTau = (5 + 20 / (1 + exp((u + 25) / 5))) / qt
    hInf = 1 / (1 + exp((u + 80) / 6.4))
    hTau = (20 + 50 / (1 + exp((u + 40) / 7))) / qt
    mStep = 1 - exp(-dt / mTau)
    hStep = 1 - exp(-dt / hTau)
    UNITSON
}
