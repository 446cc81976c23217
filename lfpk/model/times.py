"""The one rule for simulated times: time step, stop time, transient and chunk of every simulation.

Every simulation of lfpk (the ground-truth network, the hybrid scheme, the point-neuron network,
spike binning for predictions) steps time on a grid ``t_k = k dt`` (ms). Its times are valid when

* ``dt`` is finite and positive;
* ``tstop`` is finite, a whole number of steps (within a relative 1e-6 of a step, so decimal inputs
  such as 0.1 ms pass), at least one step, and at most :data:`MAX_STEPS` steps (time indices are
  32-bit in NEURON's and NEST's recorders; 2^31 - 1 steps of 2^-4 ms are about 37 hours);
* ``transient`` is finite, not negative, a whole number of steps and leaves at least one step to
  analyse: ``tstop - transient >= dt`` (rates, spectra and comparisons are computed over
  ``[transient, tstop)``; an empty window gives NaN rates);
* a ``chunk`` (the online simulation's step between reads) is a whole number of steps, at least one.

:func:`time_errors` returns the problems as lines naming the key (used by the configuration
validator, :mod:`lfpk.api.config`, with the config's key paths); :func:`check_times` raises the
first of them as ``ValueError`` (used by the commands, with the option names). Both say the same.
"""

from __future__ import annotations

import math

#: Largest number of time steps a simulation may take (32-bit step indices).
MAX_STEPS = 2**31 - 1

#: Relative tolerance of "a whole number of steps" (decimal time steps such as 0.1 ms are inexact).
STEP_TOLERANCE = 1e-6


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def whole_steps(t, dt) -> int | None:
    """``t / dt`` as an int if ``t`` (ms) is a finite whole number of steps of ``dt`` (ms), else None.

    >>> whole_steps(2000.0, 0.0625), whole_steps(0.3, 0.1), whole_steps(0.05, 0.1)
    (32000, 3, None)
    """
    n = _number(t) / _number(dt)
    if not math.isfinite(n) or abs(n - round(n)) > STEP_TOLERANCE * max(1.0, abs(n)):
        return None
    return int(round(n))


def time_errors(dt, tstop=None, transient=None, chunk=None, names=None) -> list[str]:
    """Problems with a simulation's times, one line each naming the key or option.

    Parameters
    ----------
    dt : float
        Time step (ms).
    tstop : float, optional
        Simulated time (ms), checked if given.
    transient : float, optional
        Initial time left out of analyses (ms), checked if given (with ``tstop``: the window
        ``[transient, tstop)`` must hold at least one step).
    chunk : float, optional
        Simulated time per chunk of an online run (ms), checked if given.
    names : dict, optional
        Name of each quantity in the messages, e.g. ``{"tstop": "--tstop"}``; defaults to the config
        keys ``simulation.dt``, ``simulation.tstop``, ``simulation.transient`` and ``chunk``.

    Returns
    -------
    list of str
        Empty if the times are valid.

    Examples
    --------
    >>> time_errors(0.1, tstop=50.0, transient=100.0)
    ['simulation.transient: 100 ms leaves no time to analyse before simulation.tstop (50 ms); expected transient <= tstop - dt (49.9 ms)']
    >>> time_errors(0.1, tstop=0.0, names={"tstop": "--tstop"})
    ['--tstop: 0 ms; expected a positive time of at least one step of simulation.dt (0.1 ms)']
    >>> time_errors(0.1, chunk=1e-9, names={"chunk": "--chunk"})
    ['--chunk: 1e-09 ms; expected at least one step of simulation.dt (0.1 ms)']
    """
    name = {"dt": "simulation.dt", "tstop": "simulation.tstop", "transient": "simulation.transient",
            "chunk": "chunk", **(names or {})}
    dt_v = _number(dt)
    if not (math.isfinite(dt_v) and dt_v > 0):
        return [f"{name['dt']}: {dt}; expected a positive, finite time step (ms)"]
    errors = []
    stop = None
    if tstop is not None:
        t = _number(tstop)
        n = whole_steps(t, dt_v)
        if not math.isfinite(t) or t < dt_v * (1 - STEP_TOLERANCE):
            errors.append(f"{name['tstop']}: {tstop:g} ms; expected a positive time of at least one step of "
                          f"{name['dt']} ({dt_v:g} ms)" if math.isfinite(t) else
                          f"{name['tstop']}: {tstop}; expected a positive, finite time (ms)")
        elif n is None:
            errors.append(f"{name['tstop']}: {t:g} ms is not a whole number of steps of {name['dt']} ({dt_v:g} ms)")
        elif n > MAX_STEPS:
            errors.append(f"{name['tstop']}: {t:g} ms is {n:.3g} steps of {name['dt']} ({dt_v:g} ms); expected at "
                          f"most {MAX_STEPS} steps ({MAX_STEPS * dt_v / 3.6e6:.3g} hours of simulated time)")
        else:
            stop = t
    if transient is not None:
        tr = _number(transient)
        if not (math.isfinite(tr) and tr >= 0):
            errors.append(f"{name['transient']}: {transient}; expected a finite time of at least 0 ms")
        elif whole_steps(tr, dt_v) is None:
            errors.append(f"{name['transient']}: {tr:g} ms is not a whole number of steps of {name['dt']} "
                          f"({dt_v:g} ms)")
        elif stop is not None and tr > stop - dt_v * (1 - STEP_TOLERANCE):
            errors.append(f"{name['transient']}: {tr:g} ms leaves no time to analyse before {name['tstop']} "
                          f"({stop:g} ms); expected transient <= tstop - dt ({stop - dt_v:g} ms)")
    if chunk is not None:
        c = _number(chunk)
        if not (math.isfinite(c) and c > 0):
            errors.append(f"{name['chunk']}: {chunk}; expected a positive, finite time (ms)")
        elif c < dt_v * (1 - STEP_TOLERANCE):
            errors.append(f"{name['chunk']}: {c:g} ms; expected at least one step of {name['dt']} ({dt_v:g} ms)")
        elif whole_steps(c, dt_v) is None:
            errors.append(f"{name['chunk']}: {c:g} ms is not a whole number of steps of {name['dt']} ({dt_v:g} ms)")
    return errors


def check_times(dt, tstop=None, transient=None, chunk=None, names=None):
    """Raise ``ValueError`` with the first problem of :func:`time_errors` (all the same arguments)."""
    errors = time_errors(dt, tstop=tstop, transient=transient, chunk=chunk, names=names)
    if errors:
        raise ValueError(errors[0] if len(errors) == 1 else "; ".join(errors))
