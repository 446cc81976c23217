COMMENT
Ih: hyperpolarisation-activated cation (HCN) current of Hay et al. (2011), PLoS Comput Biol
7:e1002107, after Kole et al. (2006), J Neurosci 26:1677 (fitted at 34 degC). Written for lfpk
from the published equations (units: v mV, t ms, rates 1/ms):

    i       = gIhbar * m * (v - ehcn)            (nonspecific cation current)
    m_alpha = 0.00643 * (v + 154.9) / (exp((v + 154.9)/11.9) - 1)
    m_beta  = 0.193 * exp(v/33.1)
    m_inf = m_alpha / (m_alpha + m_beta),  m_tau = 1 / (m_alpha + m_beta)

No temperature factor (as in Hay et al.). The removable singularity of m_alpha at v = -154.9 mV is
replaced by the Taylor series of x / (1 - exp(-x/k)) (x = -(v + 154.9), k = 11.9) for |x/k| < 1e-4.
The reversal ehcn is a RANGE parameter (default -45 mV, Hay et al.).
Speed (lfpk, issue 15): the rates are interpolated from a table in 0.01 mV steps from -150 to
100 mV (NEURON's TABLE; outside the range the end values; relative error about 1e-7,
tests/test_biophysics.py; set usetable_Ih = 0 for the formulas themselves), and NEURON takes
di/dv from the CONDUCTANCE hint (one current evaluation per step instead of two). Each gate
takes cnexp's exact step for x' = (x_inf - x)/x_tau at fixed v, x <- x + (1 - exp(-dt/x_tau))
(x_inf - x), with the factor 1 - exp(-dt/x_tau) from the same table (rebuilt when dt or
celsius changes) instead of one exp per gate, segment and step. Fixed time step only (the
gates are updated by a PROCEDURE, so NEURON's variable-step CVODE refuses the mechanism).
ENDCOMMENT

NEURON {
    SUFFIX Ih
    NONSPECIFIC_CURRENT ihcn
    RANGE gIhbar, gIh, ehcn, ihcn
    RANGE mInf, mTau, mStep
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gIhbar = 0.00001 (S/cm2)
    ehcn = -45.0 (mV)
}

ASSIGNED {
    v (mV)
    dt (ms)
    ihcn (mA/cm2)
    gIh (S/cm2)
    mInf (1)
    mTau (ms)
    mStep (1)
}

STATE {
    m
}

INITIAL {
    rates(v)
    m = mInf
}

BREAKPOINT {
    SOLVE states
    gIh = gIhbar * m
    ihcn = gIh * (v - ehcn)
    CONDUCTANCE gIh
}

PROCEDURE states() {
    : cnexp's exact update of x' = (xInf - x)/xTau over one step, xStep = 1 - exp(-dt/xTau)
    : from the table
    rates(v)
    m = m + mStep * (mInf - m)
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
    LOCAL ma, mb
    TABLE mInf, mTau, mStep DEPEND celsius, dt FROM -150 TO 100 WITH 25000
    UNITSOFF
    ma = 0.00643 * xlinexp(-(vm + 154.9), 11.9)
    mb = 0.193 * exp(vm / 33.1)
    mInf = ma / (ma + mb)
    mTau = 1 / (ma + mb)
    mStep = 1 - exp(-dt / mTau)
    UNITSON
}
