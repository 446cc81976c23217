COMMENT
K_Pst: slow, persistent potassium current of Hay et al. (2011), PLoS Comput Biol 7:e1002107, after
the persistent component of Korngreen & Sakmann (2000), J Physiol 525:621 (layer 5 pyramidal
somata), with every voltage shifted by -10 mV (liquid junction potential) and the rates raised
from 21 to the study's temperature with Q10 = 2.3. Written for lfpk from the published equations
(units: v mV, t ms), with u = v + 10 (the shift):

    i_k   = gK_Pstbar * m^2 * h * (v - ek)
    m_inf = 1 / (1 + exp(-(u + 1)/12))
    m_tau = (1.25 + 175.03 exp(0.026 u)) / qt          for u < -50
            (1.25 + 13 exp(-0.026 u)) / qt             otherwise
    h_inf = 1 / (1 + exp((u + 54)/11))
    h_tau = (360 + (1010 + 24 (u + 55)) exp(-((u + 75)/48)^2)) / qt
    qt = 2.3^((celsius - 21)/10)

Hay et al. evaluate qt at a fixed 34 degC; here qt follows the global `celsius` (identical at the
study's 34 degC).
ENDCOMMENT

NEURON {
    SUFFIX K_Pst
    USEION k READ ek WRITE ik
    RANGE gK_Pstbar, gK_Pst, ik
    RANGE mInf, mTau, hInf, hTau
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gK_Pstbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ek (mV)
    ik (mA/cm2)
    gK_Pst (S/cm2)
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
    gK_Pst = gK_Pstbar * m * m * h
    ik = gK_Pst * (v - ek)
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
    mInf = 1 / (1 + exp(-(u + 1) / 12))
    if (u < -50) {
        mTau = (1.25 + 175.03 * exp(0.026 * u)) / qt
    } else {
        mTau = (1.25 + 13 * exp(-0.026 * u)) / qt
    }
    hInf = 1 / (1 + exp((u + 54) / 11))
    hTau = (360 + (1010 + 24 * (u + 55)) * exp(-((u + 75) / 48)^2)) / qt
    UNITSON
}
