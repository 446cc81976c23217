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
ENDCOMMENT

NEURON {
    SUFFIX Ca_LVAst
    USEION ca READ eca WRITE ica
    RANGE gCa_LVAstbar, gCa_LVAst, ica
    RANGE mInf, mTau, hInf, hTau
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
    celsius (degC)
    eca (mV)
    ica (mA/cm2)
    gCa_LVAst (S/cm2)
    mInf (1)
    mTau (ms)
    hInf (1)
    hTau (ms)
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
    SOLVE states METHOD cnexp
    gCa_LVAst = gCa_LVAstbar * m * m * h
    ica = gCa_LVAst * (v - eca)
}

DERIVATIVE states {
    rates(v)
    m' = (mInf - m) / mTau
    h' = (hInf - h) / hTau
}

PROCEDURE rates(vm (mV)) {
    LOCAL qt, u
    UNITSOFF
    qt = 2.3^((celsius - 21) / 10)
    u = vm + 10
    mInf = 1 / (1 + exp(-(u + 30) / 6))
    mTau = (5 + 20 / (1 + exp((u + 25) / 5))) / qt
    hInf = 1 / (1 + exp((u + 80) / 6.4))
    hTau = (20 + 50 / (1 + exp((u + 40) / 7))) / qt
    UNITSON
}
