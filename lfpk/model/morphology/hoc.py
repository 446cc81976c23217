"""The hoc text of a morphology: the one writer of the ``.hoc`` files ``LFPy.Cell`` (and NEURON's
``load_file``) reads, for ball-and-stick and file cells alike.

Numbers are written as plain decimal literals that read back as the same double (Python's
``repr`` of a ``float``): a NumPy scalar's own ``repr`` (``np.float64(0.0)``) is not hoc.
"""

from __future__ import annotations


def number(value) -> str:
    """``value`` (any real number, NumPy scalars included) as a hoc number literal.

    Raises
    ------
    ValueError
        ``value`` is not finite (hoc has no literal for it).
    """
    x = float(value)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(f"hoc morphology: expected a finite number, got {x}")
    return repr(x)


def section(name, points, Ra, cm, nseg, logical_point=None) -> str:
    """One line of hoc giving section ``name`` its 3-d points and cable parameters.

    Parameters
    ----------
    name : str
        hoc name of the section, e.g. ``dend[3]``.
    points : array-like (n, 4)
        3-d points x, y, z, diameter (um).
    Ra, cm : float
        Axial resistivity (ohm cm) and membrane capacitance (uF/cm2).
    nseg : int
        Number of segments.
    logical_point : array-like (3,), optional
        NEURON's logical connection point (``pt3dstyle(1, x, y, z)``, um).
    """
    body = " ".join(f"pt3dadd({', '.join(number(v) for v in p[:4])})" for p in points)
    if logical_point is not None:
        body += f" pt3dstyle(1, {', '.join(number(v) for v in logical_point[:3])})"
    return f"{name} {{ pt3dclear() {body} Ra = {number(Ra)} cm = {number(cm)} nseg = {int(nseg)} }}"


def connect(child, orientation, parent, parent_x) -> str:
    """hoc ``connect`` of end ``orientation`` (0 or 1) of section ``child`` to position
    ``parent_x`` (0..1) of section ``parent``."""
    return f"connect {child}({number(orientation)}), {parent}({number(parent_x)})"
