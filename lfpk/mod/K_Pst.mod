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
Speed (lfpk, issue 25, as NaTa_t, SKv3_1 and Ih since issue 15): the rates are interpolated from a
table in 0.01 mV steps from -150 to 100 mV (NEURON's TABLE; outside the range the end values;
relative error below 1e-6 except in the 0.01 mV interval holding m_tau's switch at v = -60 mV,
where it blends the two branches (they differ by 8e-6 of the value there),
tests/test_hay2011_channels.py; set usetable_K_Pst = 0 for the formulas themselves), and NEURON
takes di/dv from the CONDUCTANCE hint (one current evaluation per step instead of two). Each gate
takes cnexp's exact step for x' = (x_inf - x)/x_tau at fixed v, x <- x + (1 - exp(-dt/x_tau))
(x_inf - x), with the factor 1 - exp(-dt/x_tau) from the same table (rebuilt when dt or celsius
changes) instead of one exp per gate, segment and step and the rates' four exp and one pow. Fixed
time step only (the gates are updated by a PROCEDURE, so NEURON's variable-step CVODE refuses the
mechanism).
Reversal potential (lfpk, issue 25): ek is a parameter of this mechanism (default -77 mV,
NEURON's for the k ion) and ik a NONSPECIFIC_CURRENT, so the mechanism does not use
NEURON's k ion, whose bookkeeping per segment and step (zeroing, summing and reading the ion
currents) took about a third of the time steps of a cell with Model A's channels; the current
and the voltages are the same to the bit (no model of lfpk changes the k concentrations).
The config's `ions: {ek: ...}` sets it (lfpk.model.biophysics.insert_active).
ENDCOMMENT

NEURON {
    SUFFIX K_Pst
    NONSPECIFIC_CURRENT ik
    RANGE gK_Pstbar, gK_Pst, ik, ek
    RANGE mInf, mTau, hInf, hTau, mStep, hStep
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gK_Pstbar = 0.00001 (S/cm2)
    ek = -77 (mV)
}

ASSIGNED {
    v (mV)
    dt (ms)
    celsius (degC)
    ik (mA/cm2)
    gK_Pst (S/cm2)
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
    gK_Pst = gK_Pstbar * m * m * h
    ik = gK_Pst * (v - ek)
    CONDUCTANCE gK_Pst
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
    mInf = 1 / (1 + exp(-(u + 1) / 12))
    if (u < -50) {
        mTau = (1.25 + 175.03 * exp(0.026 * u)) / qt
    } else {
        mTau = (1.25 + 13 * exp(-0.026 * u)) / qt
    }
    hInf = 1 / (1 + exp((u + 54) / 11))
    hTau = (360 + (1010 + 24 * (u + 55)) * exp(-((u + 75) / 48)^2)) / qt
    mStep = 1 - exp(-dt / mTau)
    hStep = 1 - exp(-dt / hTau)
    UNITSON
}
