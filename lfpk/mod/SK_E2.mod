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
Speed (lfpk, issue 25): z takes cnexp's exact step for z' = (z_inf - z)/zTau at fixed cai,
z <- z + (1 - exp(-dt/zTau)) (z_inf - z), its factor kept per segment and computed again only when
dt or zTau changed since it was last computed (instead of one exp per segment and step), and
NEURON takes di/dv from the CONDUCTANCE hint. z_inf itself is computed from the formula at every
step, not from a table: a table over cai (linear interpolation, as NEURON's TABLE does) needs
1e5 points (steps of 1e-7 mM up to 0.01 mM) to stay within 2.3e-6 of z_inf above minCai, and it
saved no measurable time on the Hay cell (docs/hay2011.md), while it would move the frozen
conductances of the kernels by up to 1e-6. Fixed time step only (the gate is updated by a
PROCEDURE, so NEURON's variable-step CVODE refuses the mechanism).
Reversal potential (lfpk, issue 25): ek is a parameter of this mechanism (default -77 mV,
NEURON's for the k ion) and ik a NONSPECIFIC_CURRENT, so the mechanism does not use
NEURON's k ion, whose bookkeeping per segment and step (zeroing, summing and reading the ion
currents) took about a third of the time steps of a cell with Model A's channels; the current
and the voltages are the same to the bit (no model of lfpk changes the k concentrations).
The config's `ions: {ek: ...}` sets it (lfpk.model.biophysics.insert_active).
ENDCOMMENT

NEURON {
    SUFFIX SK_E2
    NONSPECIFIC_CURRENT ik
    USEION ca READ cai
    RANGE gSK_E2bar, gSK_E2, ik, ek
    RANGE zInf, zStep, stepDt, stepTau
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
    ek = -77 (mV)
}

ASSIGNED {
    v (mV)
    dt (ms)
    cai (mM)
    ik (mA/cm2)
    gSK_E2 (S/cm2)
    zInf (1)
    zStep (1)
    stepDt (ms)
    stepTau (ms)
}

STATE {
    z
}

INITIAL {
    rates(cai)
    z = zInf
}

BREAKPOINT {
    SOLVE states
    gSK_E2 = gSK_E2bar * z
    ik = gSK_E2 * (v - ek)
    CONDUCTANCE gSK_E2
}

PROCEDURE states() {
    : cnexp's exact update of z' = (zInf - z)/zTau over one step, zStep = 1 - exp(-dt/zTau)
    : computed again only when dt or zTau changed
    rates(cai)
    if (dt != stepDt || zTau != stepTau) {
        zStep = 1 - exp(-dt / zTau)
        stepDt = dt
        stepTau = zTau
    }
    z = z + zStep * (zInf - z)
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
