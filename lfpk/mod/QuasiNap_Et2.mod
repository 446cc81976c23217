COMMENT
QuasiNap_Et2: quasi-active (linearised) version of the persistent sodium current of Nap_Et2.mod
around a holding potential V_r, after Remme & Rinzel (2011), J Comput Neurosci 31:13, and Ness et
al. (2016), PLoS Comput Biol 12:e1004713. Linearising i = gNap_Et2bar * m^3 * h * (v - ena) in v,
m and h around (V_r, m_inf(V_r), h_inf(V_r)) gives, with wm, wh the deviations of m and h,

    i        = gNap_Et2bar * ( m_inf^3 h_inf (v - V_r)
                              + (V_r - ena) (3 m_inf^2 h_inf wm + m_inf^3 wh) )
    m_tau(V_r) dwm/dt = dm_inf/dV(V_r) (v - V_r) - wm,     wm(0) = 0
    h_tau(V_r) dwh/dt = dh_inf/dV(V_r) (v - V_r) - wh,     wh(0) = 0

    dm_inf/dV = m_inf (1 - m_inf) / 4.6,    dh_inf/dV = -h_inf (1 - h_inf) / 10

so i = 0 at v = V_r: the static current is left to the leak, whose reversal the caller sets so the
membrane rests at V_r. Steady states and time constants as in Nap_Et2.mod (Hay et al. 2011), all
evaluated at V_r in INITIAL (set V_r before finitialize). The current is non-specific; ena is
a parameter (default 50 mV; lfpk copies Nap_Et2's, which carries it too, issue 25). Units: v,
V_r, ena mV; t ms; gNap_Et2bar S/cm2.
ENDCOMMENT

NEURON {
    SUFFIX QuasiNap_Et2
    NONSPECIFIC_CURRENT i
    RANGE gNap_Et2bar, V_r, i, ena
    RANGE mInf, mTau, hInf, hTau, dmInf, dhInf
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gNap_Et2bar = 0.00001 (S/cm2)
    V_r = -65.0 (mV)
    ena = 50 (mV)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    i (mA/cm2)
    mInf (1)
    mTau (ms)
    hInf (1)
    hTau (ms)
    dmInf (/mV)
    dhInf (/mV)
}

STATE {
    wm
    wh
}

INITIAL {
    rates(V_r)
    wm = 0
    wh = 0
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    i = gNap_Et2bar * (mInf * mInf * mInf * hInf * (v - V_r)
                       + (V_r - ena) * (3 * mInf * mInf * hInf * wm + mInf * mInf * mInf * wh))
}

DERIVATIVE states {
    wm' = (dmInf * (v - V_r) - wm) / mTau
    wh' = (dhInf * (v - V_r) - wh) / hTau
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
    dmInf = mInf * (1 - mInf) / 4.6
    dhInf = -hInf * (1 - hInf) / 10
    UNITSON
}
