COMMENT
QuasiSKv3_1: quasi-active (linearised) version of the Kv3.1-like potassium current of SKv3_1.mod
around a holding potential V_r, after Remme & Rinzel (2011), J Comput Neurosci 31:13, and Ness et
al. (2016), PLoS Comput Biol 12:e1004713. Linearising i = gSKv3_1bar * m * (v - ek) in v and m
around (V_r, m_inf(V_r)) gives, with w the deviation of m from m_inf(V_r),

    i        = gSKv3_1bar * ( m_inf (v - V_r) + (V_r - ek) w )
    m_tau(V_r) dw/dt = dm_inf/dV(V_r) (v - V_r) - w,      w(0) = 0
    m_inf = 1 / (1 + exp(-(V - 18.7)/9.7)),  dm_inf/dV = m_inf (1 - m_inf) / 9.7
    m_tau = 4 / (1 + exp(-(V + 46.56)/44.14))

so i = 0 at v = V_r: the static current is left to the leak, whose reversal the caller sets so the
membrane rests at V_r. Steady state and time constant as in SKv3_1.mod (Hay et al. 2011, after
Rettig et al. 1992), evaluated at V_r in INITIAL (set V_r before finitialize). The current is
non-specific; ek is a parameter (default -77 mV; lfpk copies SKv3_1's, which carries it too,
issue 25). Units: v, V_r, ek mV; t ms; gSKv3_1bar S/cm2.
ENDCOMMENT

NEURON {
    SUFFIX QuasiSKv3_1
    NONSPECIFIC_CURRENT i
    RANGE gSKv3_1bar, V_r, i, ek
    RANGE mInf, mTau, dmInf
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gSKv3_1bar = 0.00001 (S/cm2)
    V_r = -65.0 (mV)
    ek = -77 (mV)
}

ASSIGNED {
    v (mV)
    i (mA/cm2)
    mInf (1)
    mTau (ms)
    dmInf (/mV)
}

STATE {
    wm
}

INITIAL {
    rates(V_r)
    wm = 0
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    i = gSKv3_1bar * (mInf * (v - V_r) + (V_r - ek) * wm)
}

DERIVATIVE states {
    wm' = (dmInf * (v - V_r) - wm) / mTau
}

PROCEDURE rates(vm (mV)) {
    UNITSOFF
    mInf = 1 / (1 + exp(-(vm - 18.7) / 9.7))
    mTau = 4 / (1 + exp(-(vm + 46.56) / 44.14))
    dmInf = mInf * (1 - mInf) / 9.7
    UNITSON
}
