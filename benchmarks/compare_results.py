"""Compare two results/ trees file by file: are the netCDF files bitwise the same data?

Used to check that a change which should not change behaviour (a refactoring) leaves every result
of a study identical: run the study with the code before and after into two folders, then

    python benchmarks/compare_results.py BEFORE/results/laptop AFTER/results/laptop

For every ``.nc`` file in either tree: the same variables with the same dims, dtype and raw bytes
(NaN-aware: the bytes themselves are compared), and the same global and variable attributes
except those that record where or when a file was made (paths, times, hosts, software versions;
listed in :data:`VOLATILE`), whose differences are counted and shown. CSV files are compared as
text. Exit status 0 when every data variable and every other attribute is identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import netCDF4
import numpy as np

#: attribute names whose value records the making of a file, not its content
VOLATILE = ("history", "created", "date", "timings", "software", "software_versions", "versions", "host", "command",
            "provenance_paths", "log")


def _attrs(obj):
    return {k: obj.getncattr(k) for k in obj.ncattrs()}


def _same(a, b) -> bool:
    """Equal values, NaN included (numbers compared by their bytes)."""
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _volatile(name, a, b, roots) -> bool:
    if any(v in name.lower() for v in VOLATILE):
        return True
    # values that differ only by the trees' own folders (absolute paths written into attributes)
    if isinstance(a, str) and isinstance(b, str):
        return a.replace(str(roots[0]), "<root>") == b.replace(str(roots[1]), "<root>")
    return False


def compare_group(ga, gb, where, roots, report):
    ok = True
    for name in sorted(set(_attrs(ga)) | set(_attrs(gb))):
        a, b = _attrs(ga).get(name), _attrs(gb).get(name)
        if a is None or b is None or not _same(a, b):
            if a is not None and b is not None and _volatile(name, a, b, roots):
                report["volatile"].add(f"{where}:{name}")
                continue
            report["diff"].append(f"{where}: attribute {name!r} differs: {str(a)[:80]!r} vs {str(b)[:80]!r}")
            ok = False
    va, vb = ga.variables, gb.variables
    for name in sorted(set(va) | set(vb)):
        if name not in va or name not in vb:
            report["diff"].append(f"{where}: variable {name!r} only in {'after' if name in vb else 'before'}")
            ok = False
            continue
        x, y = va[name], vb[name]
        x.set_auto_maskandscale(False)
        y.set_auto_maskandscale(False)
        dx, dy = np.asarray(x[...]), np.asarray(y[...])
        if dx.dtype == object or dy.dtype == object:  # strings: compare the values
            same = dx.dtype == dy.dtype and dx.shape == dy.shape and dx.tolist() == dy.tolist()
        else:
            same = dx.dtype == dy.dtype and dx.shape == dy.shape and dx.tobytes() == dy.tobytes()
        if x.dimensions != y.dimensions or not same:
            report["diff"].append(f"{where}/{name}: data differ")
            ok = False
        for attr in sorted(set(_attrs(x)) | set(_attrs(y))):
            a, b = _attrs(x).get(attr), _attrs(y).get(attr)
            if a is None or b is None or not _same(a, b):
                if a is not None and b is not None and _volatile(attr, a, b, roots):
                    report["volatile"].add(f"{where}/{name}:{attr}")
                    continue
                report["diff"].append(f"{where}/{name}: attribute {attr!r} differs")
                ok = False
        report["variables"] += 1
    for name in sorted(set(ga.groups) | set(gb.groups)):
        if name not in ga.groups or name not in gb.groups:
            report["diff"].append(f"{where}: group {name!r} missing on one side")
            ok = False
        else:
            ok &= compare_group(ga.groups[name], gb.groups[name], f"{where}/{name}", roots, report)
    return ok


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    args = p.parse_args(argv)
    roots = (args.before.resolve().parents[1], args.after.resolve().parents[1])
    report = {"diff": [], "volatile": set(), "variables": 0}
    files = sorted({f.relative_to(args.before) for f in args.before.rglob("*.nc")}
                   | {f.relative_to(args.after) for f in args.after.rglob("*.nc")})
    texts = sorted({f.relative_to(args.before) for f in args.before.rglob("*.csv")}
                   | {f.relative_to(args.after) for f in args.after.rglob("*.csv")})
    identical = 0
    for rel in files:
        a, b = args.before / rel, args.after / rel
        if not a.exists() or not b.exists():
            report["diff"].append(f"{rel}: only in {'after' if b.exists() else 'before'}")
            continue
        with netCDF4.Dataset(a) as fa, netCDF4.Dataset(b) as fb:
            identical += compare_group(fa, fb, str(rel), roots, report)
    same_text = 0
    for rel in texts:
        a, b = args.before / rel, args.after / rel
        if a.exists() and b.exists() and a.read_bytes() == b.read_bytes():
            same_text += 1
        else:
            report["diff"].append(f"{rel}: CSV differs or is missing on one side")
    print(f"{len(files)} netCDF files, {report['variables']} variables: {identical} files identical in data and "
          f"attributes; {same_text} of {len(texts)} CSV files identical")
    if report["volatile"]:
        print(f"attributes recording the making of a file, differing and not compared: "
              f"{', '.join(sorted({v.split(':')[-1] for v in report['volatile']}))} "
              f"({len(report['volatile'])} places)")
    for line in report["diff"]:
        print("DIFF", line)
    return 0 if not report["diff"] else 1


if __name__ == "__main__":
    sys.exit(main())
