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
Speed (lfpk, issue 25, as NaTa_t, SKv3_1 and Ih since issue 15): the rates are interpolated from a
table in 0.01 mV steps from -150 to 100 mV (NEURON's TABLE; outside the range the end values;
relative error below 1e-6, tests/test_hay2011_channels.py; set usetable_K_Tst = 0 for the formulas
themselves), and NEURON takes di/dv from the CONDUCTANCE hint (one current evaluation per step
instead of two). Each gate takes cnexp's exact step for x' = (x_inf - x)/x_tau at fixed v, x <- x
+ (1 - exp(-dt/x_tau)) (x_inf - x), with the factor 1 - exp(-dt/x_tau) from the same table
(rebuilt when dt or celsius changes) instead of one exp per gate, segment and step and the rates'
four exp and one pow. Fixed time step only (the gates are updated by a PROCEDURE, so NEURON's
variable-step CVODE refuses the mechanism).
Reversal potential (lfpk, issue 25): ek is a parameter of this mechanism (default -77 mV,
NEURON's for the k ion) and ik a NONSPECIFIC_CURRENT, so the mechanism does not use
NEURON's k ion, whose bookkeeping per segment and step (zeroing, summing and reading the ion
currents) took about a third of the time steps of a cell with Model A's channels; the current
and the voltages are the same to the bit (no model of lfpk changes the k concentrations).
The config's `ions: {ek: ...}` sets it (lfpk.model.biophysics.insert_active).
ENDCOMMENT

NEURON {
    SUFFIX K_Tst
    NONSPECIFIC_CURRENT ik
    RANGE gK_Tstbar, gK_Tst, ik, ek
    RANGE mInf, mTau, hInf, hTau, mStep, hStep
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gK_Tstbar = 0.00001 (S/cm2)
    ek = -77 (mV)
}

ASSIGNED {
    v (mV)
    dt (ms)
    celsius (degC)
    ik (mA/cm2)
    gK_Tst (S/cm2)
    mInf (1)
    mTau (ms)
    mStep (1)
    hInf (1)
    hTau (ms)
    hStep (1)
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
    SOLVE states
    gK_Tst = gK_Tstbar * m * m * m * m * h
    ik = gK_Tst * (v - ek)
    CONDUCTANCE gK_Tst
}

PROCEDURE states() {
    : cnexp's exact update of x' = (xInf - x)/xTau over one step, xStep = 1 - exp(-dt/xTau)
    : from the table
    rates(v)
    m = m + mStep * (mInf - m)
    h = h + hStep * (hInf - h)
}

PROCEDURE rates(vm (mV)) {
    LOCAL qt, u
    TABLE mInf, mTau, hInf, hTau, mStep, hStep DEPEND celsius, dt FROM -150 TO 100 WITH 25000
    UNITSOFF
    qt = 2.3^((celsius - 21) / 10)
    u = vm + 10
    mInf = 1 / (1 + exp(-u / 19))
    mTau = (0.34 + 0.92 * exp(-((u + 71) / 59)^2)) / qt
    hInf = 1 / (1 + exp((u + 66) / 10))
    hTau = (8 + 49 * exp(-((u + 73) / 23)^2)) / qt
    mStep = 1 - exp(-dt / mTau)
    hStep = 1 - exp(-dt / hTau)
    UNITSON
}
