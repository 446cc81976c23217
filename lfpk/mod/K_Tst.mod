COMMENT
K_Tst: fast, transient (A-type) potassium current of Hay et al. (2011), PLoS Comput Biol
7:e1002107, after the transient component of Korngreen & Sakmann (2000), J Physiol 525:621, with
every voltage shifted by -10 mV (liquid junction potential) and the rates raised from 21 to the
study's temperature with Q10 = 2.3. Written for lfpk from the published equations (units: v mV,
t ms), with u = v + 10 (the shift):

    i_k   = gK_Tstbar * m^4 * h * (v - ek)
    m_inf = 1 / (1 + exp(-u/19))
    m_tau = (0.34 + 0.92 exp(-((u + 71)/59)^2)) / qt
    h_inf = 1 / (1 + exp((u + 66)/10))
    h_tau = (8 + 49 exp(-((u + 73)/23)^2)) / qt
    qt = 2.3^((celsius - 21)/10)

Hay et al. evaluate qt at a fixed 34 degC; here qt follows the global `celsius` (identical at the
study's 34 degC).
ENDCOMMENT

NEURON {
    SUFFIX K_Tst
    USEION k READ ek WRITE ik
    RANGE gK_Tstbar, gK_Tst, ik
    RANGE mInf, mTau, hInf, hTau
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gK_Tstbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ek (mV)
    ik (mA/cm2)
    gK_Tst (S/cm2)
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
    gK_Tst = gK_Tstbar * m * m * m * m * h
    ik = gK_Tst * (v - ek)
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
    mInf = 1 / (1 + exp(-u / 19))
    mTau = (0.34 + 0.92 * exp(-((u + 71) / 59)^2)) / qt
    hInf = 1 / (1 + exp((u + 66) / 10))
    hTau = (8 + 49 * exp(-((u + 73) / 23)^2)) / qt
    UNITSON
}
