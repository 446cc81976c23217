COMMENT
QuasiIh: quasi-active (linearised) version of the Ih current of Ih.mod around a holding potential
V_r, after Remme & Rinzel (2011), J Comput Neurosci 31:13, and Ness et al. (2016), PLoS Comput
Biol 12:e1004713 (Methods, "quasi-active" channels). Linearising i = gIhbar*m*(v - ehcn) in v and
m around (V_r, m_inf(V_r)) gives, with w the deviation of m from m_inf(V_r),

    i       = gIhbar * m_inf(V_r) * (v - V_r) + gIhbar * (V_r - ehcn) * w
    m_tau(V_r) * dw/dt = dm_inf/dV(V_r) * (v - V_r) - w,        w(0) = 0

so i = 0 at v = V_r: the static current gIhbar*m_inf(V_r)*(V_r - ehcn) is left to the leak, whose
reversal the caller sets so the membrane rests at V_r. m_inf, m_tau as in Ih.mod (Hay et al. 2011,
after Kole et al. 2006); with m_inf = a/(a + b),

    dm_inf/dV = m_inf (1 - m_inf) (d ln a/dV - d ln b/dV)
    d ln b/dV = 1/33.1,   d ln a/dV = -(1/x - 1/(k (exp(x/k) - 1))),  x = -(V + 154.9), k = 11.9

(the bracket tends to 1/(2k) - x/(12 k^2) as x -> 0). mInf, mTau, dmInf are evaluated at V_r in
INITIAL (set V_r before finitialize). Units: v, V_r, ehcn mV; t ms; gIhbar S/cm2; dmInf 1/mV.
ENDCOMMENT

NEURON {
    SUFFIX QuasiIh
    NONSPECIFIC_CURRENT i
    RANGE gIhbar, ehcn, V_r, i
    RANGE mInf, mTau, dmInf
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gIhbar = 0.00001 (S/cm2)
    ehcn = -45.0 (mV)
    V_r = -65.0 (mV)
}

ASSIGNED {
    v (mV)
    i (mA/cm2)
    mInf (1)
    mTau (ms)
    dmInf (/mV)
}

STATE {
    w
}

INITIAL {
    rates(V_r)
    w = 0
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    i = gIhbar * (mInf * (v - V_r) + (V_r - ehcn) * w)
}

DERIVATIVE states {
    w' = (dmInf * (v - V_r) - w) / mTau
}

FUNCTION xlinexp(x, k) {
    : x / (1 - exp(-x/k)), continuous through x = 0 where it equals k
    if (fabs(x / k) < 1e-4) {
        xlinexp = k + x / 2 + x * x / (12 * k)
    } else {
        xlinexp = x / (1 - exp(-x / k))
    }
}

FUNCTION dlogxlinexp(x, k) {
    : d/dx ln(x / (1 - exp(-x/k))) = 1/x - 1/(k (exp(x/k) - 1)), continuous through x = 0
    if (fabs(x / k) < 1e-4) {
        dlogxlinexp = 1 / (2 * k) - x / (12 * k * k)
    } else {
        dlogxlinexp = 1 / x - 1 / (k * (exp(x / k) - 1))
    }
}

PROCEDURE rates(vm (mV)) {
    LOCAL ma, mb, x
    UNITSOFF
    x = -(vm + 154.9)
    ma = 0.00643 * xlinexp(x, 11.9)
    mb = 0.193 * exp(vm / 33.1)
    mInf = ma / (ma + mb)
    mTau = 1 / (ma + mb)
    : d ln a/dV = -dlogxlinexp(x) because dx/dV = -1
    dmInf = mInf * (1 - mInf) * (-dlogxlinexp(x, 11.9) - 1 / 33.1)
    UNITSON
}
