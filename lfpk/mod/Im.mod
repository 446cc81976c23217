COMMENT
Im: muscarinic (M-type) potassium current of Hay et al. (2011), PLoS Comput Biol 7:e1002107, after
Adams et al. (1982), J Physiol 330:537 (bullfrog sympathetic neurones), with the rates raised from
21 to the study's temperature with Q10 = 2.3. Written for lfpk from the published equations (units:
v mV, t ms, rates 1/ms):

    i_k     = gImbar * m * (v - ek)
    m_alpha = 3.3e-3 exp( 2.5 * 0.04 (v + 35))
    m_beta  = 3.3e-3 exp(-2.5 * 0.04 (v + 35))
    m_inf = m_alpha / (m_alpha + m_beta),  m_tau = 1 / ((m_alpha + m_beta) qt)
    qt = 2.3^((celsius - 21)/10)

Hay et al. evaluate qt at a fixed 34 degC; here qt follows the global `celsius` (identical at the
study's 34 degC).
ENDCOMMENT

NEURON {
    SUFFIX Im
    USEION k READ ek WRITE ik
    RANGE gImbar, gIm, ik
    RANGE mInf, mTau
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gImbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ek (mV)
    ik (mA/cm2)
    gIm (S/cm2)
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
    gIm = gImbar * m
    ik = gIm * (v - ek)
}

DERIVATIVE states {
    rates(v)
    m' = (mInf - m) / mTau
}

PROCEDURE rates(vm (mV)) {
    LOCAL qt, ma, mb
    UNITSOFF
    qt = 2.3^((celsius - 21) / 10)
    ma = 3.3e-3 * exp(2.5 * 0.04 * (vm + 35))
    mb = 3.3e-3 * exp(-2.5 * 0.04 * (vm + 35))
    mInf = ma / (ma + mb)
    mTau = 1 / ((ma + mb) * qt)
    UNITSON
}
