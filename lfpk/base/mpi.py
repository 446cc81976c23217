"""MPI for the ground-truth network: NEURON's ParallelContext on the mpich wheel's MPI, the
environment an MPI launcher gives each rank, and :class:`MPILauncher`, which starts a command on
several ranks.

The launchers this package meets (the mpich wheel's ``mpiexec``, Open MPI's ``mpirun``, SLURM's
``srun`` with PMI-2 or PMIx) tell each process its rank and the number of ranks through environment
variables; their names are listed here once (:data:`RANK_VARS`, :data:`SIZE_VARS`,
:data:`MPI_ENV_VARS`, :data:`LAUNCHER_PREFIXES`) for the command line's error boundary, the network
command and the workflow.
"""

from __future__ import annotations

import glob
import logging
import os
import shlex
import shutil
import subprocess
import sys

#: Variables holding this process's rank, in the order they are read (MPICH/PMI, Open MPI, PMIx).
RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")
#: Variables holding the number of ranks, in the order they are read (MPICH/PMI, Open MPI).
SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")
#: Variables any of which marks a process started by an MPI launcher (:func:`launched_by_mpi`).
MPI_ENV_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")
#: Prefixes of the variables a launcher sets; a launch from inside a rank (a workflow job started
#: under MPI) removes them so the new launcher does not take the old rank's place.
LAUNCHER_PREFIXES = ("PMI_", "OMPI_", "PMIX_")
#: The launcher that stands for the mpich wheel's ``mpiexec`` (:func:`find_mpiexec`).
MPIEXEC = "mpiexec"
#: Characters of a launched command's stdout and stderr kept in the log (the end of each).
OUTPUT_TAIL = 20000


def launch_rank(environ=None) -> int:
    """MPI rank from the launcher's environment (0 when not under MPI or not a number).

    Parameters
    ----------
    environ : mapping, optional
        Default ``os.environ``.

    Examples
    --------
    >>> launch_rank({"PMI_RANK": "3"}), launch_rank({}), launch_rank({"PMIX_RANK": "x"})
    (3, 0, 0)
    """
    environ = os.environ if environ is None else environ
    for key in RANK_VARS:
        if key in environ:
            try:
                return int(environ[key])
            except ValueError:
                return 0
    return 0


def launch_size(environ=None):
    """Number of ranks the launcher started (first non-empty of :data:`SIZE_VARS`), or ``None``.

    Raises
    ------
    ValueError
        The variable is not an integer.

    Examples
    --------
    >>> launch_size({"OMPI_COMM_WORLD_SIZE": "4"}), launch_size({"PMI_SIZE": ""})
    (4, None)
    """
    environ = os.environ if environ is None else environ
    given = [environ.get(k) for k in SIZE_VARS if environ.get(k)]
    return int(given[0]) if given else None


def clean_environment(environ=None) -> dict:
    """A copy of ``environ`` (default ``os.environ``) without the launcher's variables
    (:data:`LAUNCHER_PREFIXES`), for starting a new MPI job from inside a rank."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in environ.items() if not k.startswith(LAUNCHER_PREFIXES)}


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
    local = os.path.join(os.path.dirname(sys.executable), MPIEXEC)
    return local if os.path.exists(local) else shutil.which(MPIEXEC)


def launched_by_mpi():
    """True if this process was started by an MPI launcher (mpiexec, srun with PMI)."""
    return any(k in os.environ for k in MPI_ENV_VARS)


class MPILauncher:
    """Starts a command line on ``tasks`` MPI ranks and waits for it (cf. hnn-core's MPIBackend).

    Parameters
    ----------
    tasks : int
        Number of ranks; with 1 the command runs directly, without a launcher.
    launcher : str
        Launcher command line (split like a shell would), given ``-n <tasks>``: ``mpiexec`` (the
        default: the mpich wheel's next to the interpreter, else the one on PATH), ``srun`` on a
        cluster, or e.g. ``"srun --mpi=pmi2"``.
    log : logging.Logger, optional
        Where the command, its own log file and its output go (default the ``lfpk.mpi`` logger).

    Examples
    --------
    >>> MPILauncher(2, "srun --mpi=pmi2").command(["python", "-c", "pass"])
    ['srun', '--mpi=pmi2', '-n', '2', 'python', '-c', 'pass']
    >>> MPILauncher(1).command(["python", "-c", "pass"])
    ['python', '-c', 'pass']
    """

    def __init__(self, tasks=1, launcher=MPIEXEC, log=None):
        self.tasks = int(tasks)
        self.launcher = launcher
        self.log = log or logging.getLogger("lfpk.mpi")

    def __repr__(self):
        return f"MPILauncher(tasks={self.tasks}, launcher={self.launcher!r})"

    def launcher_command(self) -> list[str]:
        """The launcher's words (``mpiexec`` resolved by :func:`find_mpiexec`)."""
        launcher = (find_mpiexec() or MPIEXEC) if self.launcher == MPIEXEC else self.launcher
        return shlex.split(launcher)

    def command(self, args) -> list[str]:
        """The full command line: ``[launcher -n tasks] args`` (no launcher for one task)."""
        args = [str(a) for a in args]
        return [*self.launcher_command(), "-n", str(self.tasks), *args] if self.tasks > 1 else args

    def run(self, args, program_log=None, name=None, program_log_title="log"):
        """Run ``args`` on the ranks, in :func:`clean_environment`, and log what happened.

        The command line is logged first; after it ends, the text of ``program_log`` (a log file the
        command writes itself, e.g. its ``--log``; removed once read), then the last
        :data:`OUTPUT_TAIL` characters of its stdout and stderr.

        Parameters
        ----------
        args : sequence
            The command line of one rank (converted to strings).
        program_log : path, optional
            The command's own log file.
        name : str, optional
            What the command is, for the error message (default its first word).
        program_log_title : str
            Heading of the text of ``program_log`` in the log.

        Returns
        -------
        subprocess.CompletedProcess
            With ``args`` the full command line and the captured ``stdout``, ``stderr`` (text).

        Raises
        ------
        RuntimeError
            The command ended with a non-zero exit status (the message gives it and the command line).
        """
        cmd = self.command(args)
        self.log.info("%s", " ".join(cmd))
        proc = subprocess.run(cmd, env=clean_environment(), capture_output=True, text=True)
        if program_log is not None and os.path.exists(program_log):
            with open(program_log) as f:
                self.log.info("%s:\n%s", program_log_title, f.read())
            os.unlink(program_log)
        if proc.stdout.strip():
            self.log.info("stdout:\n%s", proc.stdout[-OUTPUT_TAIL:])
        if proc.stderr.strip():
            self.log.info("stderr:\n%s", proc.stderr[-OUTPUT_TAIL:])
        if proc.returncode != 0:
            raise RuntimeError(f"{name or cmd[0]} failed with exit code {proc.returncode}: {' '.join(cmd)}")
        return proc


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
        from mpi4py import MPI  # starts MPI: only once the process is known to run under a launcher

        size = MPI.COMM_WORLD.Get_size()
    # srun with a PMI the MPI library does not speak (e.g. --mpi=none) starts N unconnected
    # single-rank processes that would each simulate the whole network into the same files
    step_tasks = int(os.environ.get("SLURM_STEP_NUM_TASKS", "1"))
    if step_tasks > 1 and size != step_tasks:
        raise RuntimeError(
            f"srun started {step_tasks} tasks but MPI sees {size} rank(s): launch with a PMI this "
            "MPI speaks (srun --mpi=pmi2 for MPICH)"
        )
    from neuron import h  # NEURON starts its interpreter on import: only when a network is built

    if mpi:
        h.nrnmpi_init()
    pc = h.ParallelContext()
    if mpi and int(pc.nhost()) != size:
        raise RuntimeError(
            f"NEURON sees {int(pc.nhost())} rank(s) but MPI has {size}: set MPI_LIB_NRN_PATH to the "
            f"MPI library mpi4py uses (found: {find_libmpi()})"
        )
    return pc
