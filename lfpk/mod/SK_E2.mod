COMMENT
SK_E2: small-conductance calcium-activated potassium (SK) current of Hay et al. (2011), PLoS
Comput Biol 7:e1002107, after the calcium dependence of Koehler et al. (1996), Science 273:1709.
Written for lfpk from the published equations (units: v mV, t ms, cai mM):

    i_k   = gSK_E2bar * z * (v - ek)
    z_inf = 1 / (1 + (0.00043 / ca)^4.8),   ca = cai, or cai + 1e-7 where cai < 1e-7 mM
    z_tau = zTau = 1 ms

The floor of ca (as in the model's published code) keeps z_inf defined at cai = 0; it never acts
at physiological concentrations (CaDynamics_E2 keeps cai above minCai = 1e-4 mM). The gate depends
on the intracellular calcium concentration only, not on v; no temperature factor.
ENDCOMMENT

NEURON {
    SUFFIX SK_E2
    USEION k READ ek WRITE ik
    USEION ca READ cai
    RANGE gSK_E2bar, gSK_E2, ik
    RANGE zInf
    GLOBAL zTau
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
    (mM) = (milli/liter)
}

PARAMETER {
    gSK_E2bar = 0.000001 (S/cm2)
    zTau = 1 (ms)
}

ASSIGNED {
    v (mV)
    ek (mV)
    cai (mM)
    ik (mA/cm2)
    gSK_E2 (S/cm2)
    zInf (1)
}

STATE {
    z
}

INITIAL {
    rates(cai)
    z = zInf
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    gSK_E2 = gSK_E2bar * z
    ik = gSK_E2 * (v - ek)
}

DERIVATIVE states {
    rates(cai)
    z' = (zInf - z) / zTau
}

PROCEDURE rates(ca (mM)) {
    LOCAL c
    UNITSOFF
    c = ca
    if (c < 1e-7) {
        c = c + 1e-7
    }
    zInf = 1 / (1 + (0.00043 / c)^4.8)
    UNITSON
}
