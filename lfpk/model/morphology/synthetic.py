"""A procedurally generated pyramidal-like cell, written as SWC or Neurolucida ASC.

The project ships no third-party morphology; tests and benchmarks that need a reconstructed-looking
cell generate this one instead: a cylindrical soma, a tapering apical trunk with oblique branches
and a branching tuft, basal dendrites branching twice, and an axon stub, every branch sampled every
``step`` um with a small random wiggle. The same seed gives the same file.

The geometry is made up (loosely after the proportions of a rat L5 pyramidal cell) and is not a
model of any real neuron; it exists to exercise file morphologies (many sections, tapering
diameters, branch points, 3-d points not on a line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: SWC structure types (Cannon et al. 1998, J Neurosci Methods 84:49).
SWC_TYPES = {"soma": 1, "axon": 2, "dend": 3, "apic": 4}
#: Neurolucida tree kinds.
ASC_KINDS = {"axon": "Axon", "dend": "Dendrite", "apic": "Apical"}


@dataclass
class Branch:
    """Unbranched piece of a tree: 3-d points (n, 4: x, y, z, diameter um) and child branches."""

    kind: str
    points: np.ndarray
    children: list = field(default_factory=list)


def _grow(rng, start, direction, length, d0, d1, step, wiggle):
    direction = np.asarray(direction, float) / np.linalg.norm(direction)
    n = max(2, int(round(length / step)) + 1)
    s = np.linspace(0.0, length, n)
    pts = np.asarray(start, float)[None, :] + s[:, None] * direction[None, :]
    jitter = rng.normal(0.0, wiggle, (n, 3))
    jitter[0] = 0.0
    jitter -= np.outer(jitter @ direction, direction)  # lateral only
    pts = pts + np.cumsum(jitter, axis=0) * 0.5
    d = np.linspace(d0, d1, n)
    return np.column_stack([pts, d])


def _tree(rng, kind, start, direction, lengths, d0, d1, step, wiggle, spread):
    """Binary tree with ``len(lengths)`` levels (branch lengths per level, um)."""
    n_levels = len(lengths)
    dd = np.linspace(d0, d1, n_levels + 1)
    pts = _grow(rng, start, direction, lengths[0], dd[0], dd[1], step, wiggle)
    branch = Branch(kind, pts)
    if n_levels > 1:
        direction = np.asarray(direction, float) / np.linalg.norm(direction)
        helper = np.array([1.0, 0.0, 0.0]) if abs(direction[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        u = np.cross(direction, helper)
        u /= np.linalg.norm(u)
        phi = rng.uniform(0, 2 * np.pi)
        u = np.cos(phi) * u + np.sin(phi) * np.cross(direction, u)
        for sign in (1.0, -1.0):
            child_dir = direction + sign * spread * u
            branch.children.append(_tree(rng, kind, pts[-1, :3], child_dir, lengths[1:], dd[1], d1, step,
                                         wiggle, spread))
    return branch


def pyramidal_cell(seed=1, step=10.0, wiggle=1.0, apical_length=800.0, n_obliques=9, n_basal=7):
    """Soma (3 points) and trees of a made-up pyramidal cell.

    Returns
    -------
    soma : ndarray (3, 4)
        Soma points (x, y, z, diameter um), along z centred at the origin.
    trees : list of Branch
        Axon, basal dendrites and the apical dendrite (each attached to the soma).
    """
    rng = np.random.default_rng(seed)
    r = 9.0
    soma = np.array([[0.0, 0.0, -r, 2 * r], [0.0, 0.0, 0.0, 2 * r], [0.0, 0.0, r, 2 * r]])
    trees = [Branch("axon", _grow(rng, [0, 0, -r], [0, 0, -1], 150.0, 1.2, 0.8, step, wiggle * 0.3))]
    for k in range(n_basal):
        ang = 2 * np.pi * k / n_basal + rng.uniform(-0.2, 0.2)
        direction = [np.cos(ang), np.sin(ang), -0.6 + rng.uniform(-0.3, 0.3)]
        start = [0.8 * r * np.cos(ang), 0.8 * r * np.sin(ang), -0.4 * r]
        trees.append(_tree(rng, "dend", start, direction, [40.0, 90.0, 120.0, 110.0], 1.6, 0.5, step, wiggle, 0.9))
    # apical trunk in pieces between oblique branch points, then a tuft
    heights = np.linspace(80.0, 0.75 * apical_length, n_obliques)
    d_trunk = lambda zz: 3.5 - 2.0 * zz / apical_length  # noqa: E731
    z0 = r
    trunk_root = None
    parent = None
    for i, zb in enumerate(list(heights) + [apical_length]):
        pts = _grow(rng, [0, 0, z0] if parent is None else parent.points[-1, :3], [0, 0, 1], zb - z0,
                    d_trunk(z0), d_trunk(zb), step, wiggle * 0.5)
        piece = Branch("apic", pts)
        if parent is None:
            trunk_root = piece
        else:
            parent.children.append(piece)
        if i < n_obliques:
            ang = np.pi * i + rng.uniform(-0.5, 0.5)
            piece.children.append(_tree(rng, "apic", pts[-1, :3], [np.cos(ang), np.sin(ang), 0.5],
                                        [110.0, 120.0], 1.1, 0.5, step, wiggle, 0.7))
        parent = piece
        z0 = zb
    for k in range(3):
        ang = 2 * np.pi * k / 3 + rng.uniform(-0.3, 0.3)
        parent.children.append(_tree(rng, "apic", parent.points[-1, :3], [np.cos(ang), np.sin(ang), 1.2],
                                     [120.0, 130.0, 110.0], 1.4, 0.5, step, wiggle, 0.6))
    trees.append(trunk_root)
    return soma, trees


def to_swc(soma, trees) -> str:
    """SWC text (id, type, x, y, z, radius, parent) of a soma and its trees."""
    rows = []

    def add(t, p, parent):
        rows.append((len(rows) + 1, t, p[0], p[1], p[2], p[3] / 2.0, parent))
        return len(rows)

    last = None
    for p in soma:
        last = add(1, p, -1 if last is None else last)
    soma_ids = list(range(1, len(soma) + 1))

    def walk(branch, parent_id, skip_first):
        pid = parent_id
        for p in branch.points[1:] if skip_first else branch.points:  # a child starts at its parent's end
            pid = add(SWC_TYPES[branch.kind], p, pid)
        for child in branch.children:
            walk(child, pid, True)

    for tree in trees:
        # attach to the soma point nearest the tree's first point
        d = np.linalg.norm(soma[:, :3] - tree.points[0, :3], axis=1)
        walk(tree, soma_ids[int(np.argmin(d))], False)
    lines = ["# made-up pyramidal cell generated by lfpk.model.morphology.synthetic (not a real neuron)"]
    lines += [f"{i} {t} {x:.4f} {y:.4f} {z:.4f} {r:.4f} {p}" for i, t, x, y, z, r, p in rows]
    return "\n".join(lines) + "\n"


def to_asc(soma, trees) -> str:
    """Neurolucida ASC text of a soma (contour) and its trees."""
    out = ['; made-up pyramidal cell generated by lfpk.model.morphology.synthetic (not a real neuron)',
           '("CellBody"', "  (Color Red)", "  (CellBody)"]
    # soma contour: a ring of points around the soma centre in the x-z plane
    r = soma[0, 3] / 2.0
    for a in np.linspace(0, 2 * np.pi, 16, endpoint=False):
        out.append(f"  ({r * np.cos(a):.4f} 0.0000 {r * np.sin(a):.4f} 0.1000)")
    out.append(")")

    def fmt(p, indent):
        return f"{indent}({p[0]:.4f} {p[1]:.4f} {p[2]:.4f} {p[3]:.4f})"

    def walk(branch, indent, first):
        pts = branch.points if first else branch.points[1:]
        for p in pts:
            out.append(fmt(p, indent))
        if branch.children:
            out.append(f"{indent}(")
            for k, child in enumerate(branch.children):
                if k:
                    out.append(f"{indent}|")
                walk(child, indent + "  ", False)
            out.append(f"{indent})")

    for tree in trees:
        out.append(f"( (Color Green)\n  ({ASC_KINDS[tree.kind]})")
        walk(tree, "  ", True)
        out.append(")")
    return "\n".join(out) + "\n"


def write(path, seed=1, **kwargs):
    """Write the made-up pyramidal cell to ``path`` (``.swc`` or ``.asc``); return the path."""
    path = Path(path)
    soma, trees = pyramidal_cell(seed=seed, **kwargs)
    text = to_swc(soma, trees) if path.suffix.lower() == ".swc" else to_asc(soma, trees)
    path.write_text(text)
    return path
