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
Speed (lfpk, issue 25, as NaTa_t, SKv3_1 and Ih since issue 15): the rates are interpolated from a
table in 0.01 mV steps from -150 to 100 mV (NEURON's TABLE; outside the range the end values;
relative error below 1e-6, tests/test_hay2011_channels.py; set usetable_Im = 0 for the formulas
themselves), and NEURON takes di/dv from the CONDUCTANCE hint (one current evaluation per step
instead of two). Each gate takes cnexp's exact step for x' = (x_inf - x)/x_tau at fixed v, x <- x
+ (1 - exp(-dt/x_tau)) (x_inf - x), with the factor 1 - exp(-dt/x_tau) from the same table
(rebuilt when dt or celsius changes) instead of one exp per segment and step and the rates' two
exp and one pow. Fixed time step only (the gates are updated by a PROCEDURE, so NEURON's
variable-step CVODE refuses the mechanism).
Reversal potential (lfpk, issue 25): ek is a parameter of this mechanism (default -77 mV,
NEURON's for the k ion) and ik a NONSPECIFIC_CURRENT, so the mechanism does not use
NEURON's k ion, whose bookkeeping per segment and step (zeroing, summing and reading the ion
currents) took about a third of the time steps of a cell with Model A's channels; the current
and the voltages are the same to the bit (no model of lfpk changes the k concentrations).
The config's `ions: {ek: ...}` sets it (lfpk.model.biophysics.insert_active).
ENDCOMMENT

NEURON {
    SUFFIX Im
    NONSPECIFIC_CURRENT ik
    RANGE gImbar, gIm, ik, ek
    RANGE mInf, mTau, mStep
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gImbar = 0.00001 (S/cm2)
    ek = -77 (mV)
}

ASSIGNED {
    v (mV)
    dt (ms)
    celsius (degC)
    ik (mA/cm2)
    gIm (S/cm2)
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
    gIm = gImbar * m
    ik = gIm * (v - ek)
    CONDUCTANCE gIm
}

PROCEDURE states() {
    : cnexp's exact update of x' = (xInf - x)/xTau over one step, xStep = 1 - exp(-dt/xTau)
    : from the table
    rates(v)
    m = m + mStep * (mInf - m)
}

PROCEDURE rates(vm (mV)) {
    LOCAL qt, ma, mb
    TABLE mInf, mTau, mStep DEPEND celsius, dt FROM -150 TO 100 WITH 25000
    UNITSOFF
    qt = 2.3^((celsius - 21) / 10)
    ma = 3.3e-3 * exp(2.5 * 0.04 * (vm + 35))
    mb = 3.3e-3 * exp(-2.5 * 0.04 * (vm + 35))
    mInf = ma / (ma + mb)
    mTau = 1 / ((ma + mb) * qt)
    mStep = 1 - exp(-dt / mTau)
    UNITSON
}
