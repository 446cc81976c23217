"""The kernel part of LFPykernels' notebook ``LIF_net_forward_model_predictions``, as written.

Nothing of the notebook is stored in lfpk. Its files -- the notebook, its parameter and methods
modules, the plotting module it imports, the ball-and-sticks template and morphologies and its
``mod`` folder (the frozen Hay et al. 2011 channels ``NaTa_t_frozen``, ``SKv3_1_frozen``,
``Ih_linearized_v2_frozen`` and ``Exp2SynI``) -- are taken from the source distribution of
LFPykernels 0.2.0 on the package index (:data:`SDIST`, downloaded by ``pip download``, checked
against :data:`SDIST_SHA256`; its ``examples/`` folder is the repository's at the release's commit
:data:`COMMIT`), each file checked against its sha256 (:data:`FILES`), into
lfpk's per-user cache (``$LFPK_CACHE_DIR``, default ``~/.cache/lfpk``) under
``lfpykernels/<commit>/``. The ``mod`` folder is compiled alone (without lfpk's own mechanisms,
whose ``Exp2SynI`` has the same name) by lfpk's mechanism builder into the run folder's ``mod``
subfolder, where the notebook's own cell finds and loads it (``neuron.load_mechanisms('mod')``);
nothing else loads mechanisms into the process.

The kernel part is the notebook's code cells 2 (imports), 4 (mechanisms), 5 and 6 (parameters) and
8 (kernels, ``H_YX``), executed in the run folder in that order. Two changes, both to the imports
of cell 2: the import line of ``KernelApprox``, ``GaussCylinderPotential`` and
``KernelApproxCurrentDipoleMoment`` is switched to ``lfpk.compat.lfpykernels`` (``--package
lfpk``) or kept (``--package lfpykernels``), and the two import lines of the NEST part (``nest``,
``pynestml``; cells 7 and 9 on) are left out, since that part is not run.

    python lif_notebook.py --package lfpk --out H_YX.npz

Offline: point ``LFPK_LFPYKERNELS_GIT`` at a clone of LFPykernels (its folder, its ``.git`` folder
or a bare repository holding :data:`COMMIT`); the files are then read from it, with the same checks.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import tarfile
from pathlib import Path

from lfpk.base import mechanisms

#: LFPykernels' repository on GitHub
REPOSITORY = "LFPy/LFPykernels"
#: the commit of LFPykernels 0.2.0 ("Bump version number to 0.2 (#73)")
COMMIT = "4feee8f72340fd41d8ee54a8749b56a4c93e25ed"
#: files of ``examples/`` fetched, with their sha256
FILES = {
    "LIF_net_forward_model_predictions.ipynb": "810c79b8ede7e46111b81ec5f1265ceae48e3b5b5acfd40cd2ce291f26c2233f",
    "example_network_parameters.py": "175b2f4d93a4d7af350aa9a36991bfe81263d3c85402155113538db4afdeffbb",
    "example_network_methods.py": "37bd7bf9a5ab64591117a72c45daae2f8e98e92530eed21fd271659d1a565cf9",
    "plotting.py": "b02f9f742b5407efe55f4576c6b3b760dbdac8f5dcaba8a0fa941f8e9cec36a1",
    "BallAndSticksTemplate.hoc": "b86c2f31ae9a5a26808cf16b1d436529af15660700376e17aaafa8a1ef105d40",
    "BallAndSticks_E.hoc": "0e9116a06dc81c7bb2f802c3db7f9ce27fd9da2f20e1b31f24bdd804de37a07d",
    "BallAndSticks_I.hoc": "8df5680a94ec58ef8e51fd6ab608c8e10d37197b46de8036fb76dc4b23848333",
    "mod/Ih_linearized_v2_frozen.mod": "79a51d71f6420a5ba6087ce2ac995c18c281589a303df92309107b58201318fb",
    "mod/NaTa_t_frozen.mod": "478080e0aee80e16d69c62a5acd7fc94307f5a9b3743133e91ca15a4b3f97eda",
    "mod/SKv3_1_frozen.mod": "affda1c49f7ef923986592275f0613a1c2de35186efc46e4a9840730a025abb8",
    "mod/exp2synI.mod": "f8a7535a38097e897b459f98786a0c8116361c8156492fb921f70b2c8b020467",
}
NOTEBOOK = "LIF_net_forward_model_predictions.ipynb"
#: the notebook's code cells that compute the kernels (imports, mechanisms, parameters, kernels)
KERNEL_CELLS = (2, 4, 5, 6, 8)
#: the notebook's import line of the three classes, and lfpk's
THEIR_IMPORT = "from lfpykernels import KernelApprox, GaussCylinderPotential, KernelApproxCurrentDipoleMoment"
OUR_IMPORT = "from lfpk.compat.lfpykernels import KernelApprox, GaussCylinderPotential, KernelApproxCurrentDipoleMoment"
#: import lines of the notebook's NEST part, not run
NEST_IMPORTS = ("import nest", "from pynestml.frontend.pynestml_frontend import to_nest, install_nest")
#: LFPykernels' release whose files are used
VERSION = "0.2.0"
#: its source distribution on the package index (it holds ``examples/``), and the archive's sha256
SDIST = f"LFPykernels-{VERSION}.tar.gz"
SDIST_SHA256 = "5a48db219eb5636922627d4f32facc7bded1470604422e1950c42a69dd26f373"
#: environment variable: a local clone of LFPykernels to read the files from instead of the index
ENV_GIT = "LFPK_LFPYKERNELS_GIT"


class NetworkUnreachable(OSError):
    """The package index cannot be reached (pip cannot download the source distribution)."""


def url(path: str) -> str:
    """Address of ``examples/<path>`` at :data:`COMMIT` on GitHub (the same bytes as in :data:`SDIST`)."""
    return f"https://raw.githubusercontent.com/{REPOSITORY}/{COMMIT}/examples/{path}"


def cache_dir() -> Path:
    """``<lfpk cache>/lfpykernels/<COMMIT>``: ``src/`` holds the fetched files, ``run/`` the run folder."""
    return mechanisms.cache_root() / "lfpykernels" / COMMIT


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: pip's messages when the index cannot be reached (then the files are unavailable, not wrong)
_UNREACHABLE = ("No matching distribution found", "Could not find a version", "NewConnectionError",
                "Max retries exceeded", "Temporary failure in name resolution", "Network is unreachable")


def _sdist(folder: Path, timeout: float) -> Path:
    """LFPykernels 0.2.0's source distribution (:data:`SDIST`) in ``folder``, downloaded by pip from the
    package index unless present with its sha256 (:data:`SDIST_SHA256`)."""
    target = folder / SDIST
    if target.is_file() and _sha256(target.read_bytes()) == SDIST_SHA256:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", f"LFPykernels=={VERSION}", "--no-deps",
                               "--no-binary", ":all:", "--dest", tmp, "--timeout", str(timeout), "--quiet"],
                              capture_output=True, text=True, check=False)
        got = Path(tmp) / SDIST
        if proc.returncode != 0 or not got.is_file():
            why = (proc.stderr.strip().splitlines() or ["no file"])[-1]
            if any(m in proc.stderr for m in _UNREACHABLE):
                raise NetworkUnreachable(f"pip download LFPykernels=={VERSION}: network unreachable ({why})")
            raise RuntimeError(f"pip download LFPykernels=={VERSION} failed: {why}")
        data = got.read_bytes()
    if _sha256(data) != SDIST_SHA256:
        raise RuntimeError(f"{SDIST}: sha256 {_sha256(data)}, expected {SDIST_SHA256}; refusing to use it")
    _write(target, data)
    return target


def _from_sdist(archive: Path, path: str) -> bytes:
    """The bytes of ``examples/<path>`` in the source distribution ``archive``."""
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile(f"{SDIST[:-len('.tar.gz')]}/examples/{path}")
        if member is None:
            raise RuntimeError(f"{archive}: examples/{path} is not a file")
        return member.read()


def _write(target: Path, data: bytes):
    """Write ``data`` to ``target`` whole or not at all (a temporary sibling renamed into place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False) as tmp:
        tmp.write(data)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp.name, 0o666 & ~mask)
    os.replace(tmp.name, target)


def _from_git(git_dir: str, path: str) -> bytes:
    if (Path(git_dir) / ".git").is_dir():  # a clone's work tree: its git folder
        git_dir = str(Path(git_dir) / ".git")
    proc = subprocess.run(["git", "--git-dir", git_dir, "show", f"{COMMIT}:examples/{path}"],
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{ENV_GIT}={git_dir}: cannot read examples/{path} at commit {COMMIT} "
                           f"({proc.stderr.decode(errors='replace').strip()})")
    return proc.stdout


def fetch(cache: Path | None = None, git_dir: str | None = None, timeout: float = 30.) -> Path:
    """Fetch :data:`FILES` into ``<cache>/src`` unless present with the right sha256.

    Parameters
    ----------
    cache : Path, optional
        Cache folder (default :func:`cache_dir`).
    git_dir : str, optional
        A local clone's git folder to read from instead of the index (default ``$LFPK_LFPYKERNELS_GIT``).
    timeout : float
        Seconds per download.

    Returns
    -------
    Path
        ``<cache>/src``, LFPykernels' ``examples/`` folder with the fetched files.

    Raises
    ------
    NetworkUnreachable
        A file is missing and the package index cannot be reached.
    RuntimeError
        A file whose sha256 differs from :data:`FILES`, or that the server or clone does not have.
    """
    src = Path(cache or cache_dir()) / "src"
    git_dir = git_dir or os.environ.get(ENV_GIT)
    archive = None
    for path, digest in FILES.items():
        target = src / path
        if target.is_file() and _sha256(target.read_bytes()) == digest:
            continue
        if git_dir:
            data = _from_git(git_dir, path)
        else:
            archive = archive or _sdist(src.parent, timeout)  # downloaded once, when a file is missing
            data = _from_sdist(archive, path)
        got = _sha256(data)
        if got != digest:
            origin = f"{ENV_GIT}={git_dir}" if git_dir else f"{SDIST} examples/{path}"
            raise RuntimeError(f"{origin}: sha256 {got}, expected {digest}; refusing to use it")
        _write(target, data)
    return src


def prepare(cache: Path | None = None, git_dir: str | None = None) -> Path:
    """Fetch the files and make the run folder ``<cache>/run``.

    The run folder holds copies of the notebook's Python and hoc files and, as ``mod``, lfpk's build
    of the notebook's mod folder alone (``compile_mechanisms(mod_dir=<src>/mod, build_dir=<run>/mod)``;
    compiled once, again when the sources or NEURON change).

    Returns
    -------
    Path
        The run folder.
    """
    src = fetch(cache, git_dir)
    run = src.parent / "run"
    run.mkdir(parents=True, exist_ok=True)
    for path in FILES:
        target = run / path
        if path.endswith((".py", ".hoc")) and not (target.is_file() and
                                                    target.read_bytes() == (src / path).read_bytes()):
            _write(target, (src / path).read_bytes())
    mechanisms.compile_mechanisms(mod_dir=src / "mod", build_dir=run / "mod")
    return run


def kernel_source(notebook: Path, package: str) -> tuple[str, list[str]]:
    """The notebook's kernel part as one script, for ``package`` 'lfpk' or 'lfpykernels'.

    Returns
    -------
    source : str
        Cells :data:`KERNEL_CELLS` joined, without :data:`NEST_IMPORTS`, and with
        :data:`THEIR_IMPORT` replaced by :data:`OUR_IMPORT` when ``package`` is 'lfpk'.
    changed : list of str
        The lines of the cells that differ from the notebook (removed ones prefixed '-', added '+').
    """
    if package not in ("lfpk", "lfpykernels"):
        raise ValueError(f"package: expected 'lfpk' or 'lfpykernels', got {package!r}")
    cells = json.loads(Path(notebook).read_text())["cells"]
    lines = [line for i in KERNEL_CELLS for line in "".join(cells[i]["source"]).splitlines()]
    if lines.count(THEIR_IMPORT) != 1 or not all(lines.count(x) == 1 for x in NEST_IMPORTS):
        raise RuntimeError(f"{notebook}: expected the import lines {THEIR_IMPORT!r} and {NEST_IMPORTS} once each")
    if "H_YX['{}:{}'.format(Y, X)] = kernel.get_kernel(" not in (line.strip() for line in lines):
        raise RuntimeError(f"{notebook}: cell {KERNEL_CELLS[-1]} does not compute H_YX")
    changed = [f"-{x}" for x in NEST_IMPORTS]
    out = [line for line in lines if line not in NEST_IMPORTS]
    if package == "lfpk":
        out = [OUR_IMPORT if line == THEIR_IMPORT else line for line in out]
        changed += [f"-{THEIR_IMPORT}", f"+{OUR_IMPORT}"]
    return "\n".join(out) + "\n", changed


def run(package: str, cache: Path | None = None, seed: int = 1234) -> tuple[dict, dict]:
    """Run the kernel part in this process (call it once per process: it loads mechanisms).

    Parameters
    ----------
    package : str
        'lfpk' (the compat module) or 'lfpykernels'.
    cache : Path, optional
        Cache folder (default :func:`cache_dir`).
    seed : int
        Seed of NumPy's global random state before the notebook's cells run.

    Returns
    -------
    H_YX : dict
        The notebook's kernels: ``H_YX['<Y>:<X>'][<probe class name>]``, arrays (channels, lags).
    info : dict
        ``changed`` (lines differing from the notebook), ``mechanisms`` (the library loaded),
        ``seconds`` (wall time of the cells).
    """
    import numpy as np

    run_dir = prepare(cache)
    source, changed = kernel_source(run_dir.parent / "src" / NOTEBOOK, package)
    os.chdir(run_dir)
    sys.path.insert(0, str(run_dir))
    np.random.seed(seed)
    namespace = {"__name__": "__main__"}
    start = time.perf_counter()
    exec(compile(source, f"{NOTEBOOK} cells {KERNEL_CELLS}", "exec"), namespace)  # noqa: S102 - the notebook's cells
    seconds = time.perf_counter() - start
    if namespace.get("mech_loaded") is not True:
        raise RuntimeError("the notebook's cell 4 did not load the mechanisms from 'mod'")
    info = {"changed": changed, "seconds": seconds, "package": package,
            "mechanisms": str(run_dir / "mod" / mechanisms.read_sentinel(run_dir / "mod")["library"])}
    return namespace["H_YX"], info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--package", choices=("lfpk", "lfpykernels"), default="lfpk")
    parser.add_argument("--out", help="write the kernels to this .npz file (keys '<Y>:<X>|<probe>')")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve() if args.out else None
    H_YX, info = run(args.package)
    import numpy as np

    if out is not None:
        np.savez(out, **{f"{yx}|{probe}": h for yx, d in H_YX.items() for probe, h in d.items()})
    for yx, d in H_YX.items():
        print(yx, {probe: (h.shape, float(f"{abs(h).max():.4g}")) for probe, h in d.items()})
    print("INFO " + json.dumps(info))


if __name__ == "__main__":
    main()
