"""MPI for the ground-truth network: NEURON's ParallelContext on the mpich wheel's MPI."""

from __future__ import annotations

import glob
import os
import sys

MPI_ENV_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


def find_libmpi():
    """Path of the MPI shared library of the ``mpich`` wheel in this environment, or None.

    The wheel's ``lib/libmpi.so`` is a linker script (text), which NEURON cannot ``dlopen``; the
    real ELF library is ``libmpi.so.12``.
    """
    for d in (os.path.join(sys.prefix, "lib"), os.path.join(os.path.dirname(sys.executable), "..", "lib")):
        for cand in sorted(glob.glob(os.path.join(d, "libmpi.so*")), key=len, reverse=True):
            try:
                with open(cand, "rb") as f:
                    if f.read(4) == b"\x7fELF":
                        return os.path.realpath(cand)
            except OSError:
                continue
    return None


def find_mpiexec():
    """``mpiexec`` next to the interpreter (mpich wheel), else on PATH, else None."""
    import shutil

    local = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return local if os.path.exists(local) else shutil.which("mpiexec")


def launched_by_mpi():
    """True if this process was started by an MPI launcher (mpiexec, srun with PMI)."""
    return any(k in os.environ for k in MPI_ENV_VARS)


def init_parallel(mpi=None):
    """Start NEURON's MPI (if launched by MPI or ``mpi=True``) and return the ``ParallelContext``.

    Must run before NEURON's mechanisms are loaded. Raises ``RuntimeError`` if NEURON does not see
    the same number of ranks as MPI (the silent failure mode where every rank simulates the whole
    network).
    """
    if mpi is None:
        mpi = launched_by_mpi()
    size = 1
    if mpi:
        lib = find_libmpi()
        if lib and "MPI_LIB_NRN_PATH" not in os.environ:
            os.environ["MPI_LIB_NRN_PATH"] = lib
        from mpi4py import MPI

        size = MPI.COMM_WORLD.Get_size()
    # srun with a PMI the MPI library does not speak (e.g. --mpi=none) starts N unconnected
    # single-rank processes that would each simulate the whole network into the same files
    step_tasks = int(os.environ.get("SLURM_STEP_NUM_TASKS", "1"))
    if step_tasks > 1 and size != step_tasks:
        raise RuntimeError(
            f"srun started {step_tasks} tasks but MPI sees {size} rank(s): launch with a PMI this "
            "MPI speaks (srun --mpi=pmi2 for MPICH)"
        )
    from neuron import h

    if mpi:
        h.nrnmpi_init()
    pc = h.ParallelContext()
    if mpi and int(pc.nhost()) != size:
        raise RuntimeError(
            f"NEURON sees {int(pc.nhost())} rank(s) but MPI has {size}: set MPI_LIB_NRN_PATH to the "
            f"MPI library mpi4py uses (found: {find_libmpi()})"
        )
    return pc
