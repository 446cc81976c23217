"""Running the network: ``finitialize``, the fixed-step integration with a per-step callback that
records, progress reports, and a clean stop of every rank on a failure or SIGINT / SIGTERM
(:class:`Runner`, a part of :class:`lfpk.engines.network.Network`)."""

from __future__ import annotations

import gc
import logging
import time

from lfpk.base.errors import Stopped
from lfpk.base.files import deferred_signals, raise_deferred
from lfpk.engines.network.currents import single_threaded_blas

log = logging.getLogger("lfpk.network")

#: Number of progress reports per run (every 5 %).
PROGRESS_CHUNKS = 20


class Runner:
    """Initialising and integrating the network (:meth:`simulate`, :meth:`run`)."""

    def _initialise(self):
        """``finitialize`` at ``simulation.v_init`` (the replay sets every segment to its V_rest)."""
        self.h.finitialize(self.v_init)
        self.h.fcurrent()

    def simulate(self):
        """Initialise and run to ``tstop``, logging progress every 5 % of the run (one BLAS
        thread per rank meanwhile, :func:`lfpk.engines.network.currents.single_threaded_blas`)."""
        with single_threaded_blas():
            return self._simulate()

    def _simulate(self):
        h, pc = self.h, self.pc
        t0 = time.perf_counter()
        c0 = time.process_time()
        # Free unreachable NEURON objects of earlier models in this process now, and keep the
        # garbage collector off while simulating: deleting sections mid-run changes NEURON's
        # node arrays under the readers of i_membrane_ and v (lfpk.engines.network.currents).
        gc.collect()
        gc_enabled = gc.isenabled()
        gc.disable()
        cvode = h.CVode()
        cvode.active(0)
        cvode.use_fast_imem(1)
        self._setup_recording()
        self.timings["recording_setup"] = time.perf_counter() - t0
        h.dt = self.dt
        h.celsius = self.celsius
        pc.set_maxstep(10)
        self._callback = self._step_callback
        cvode.extra_scatter_gather(0, self._callback)
        try:
            t1 = time.perf_counter()
            self._initialise()
            self.timings["initialise"] = time.perf_counter() - t1
            self._step = 0
            self._failure, self._stopped = None, False
            self._bind_readers()
            self._gather(0)
            w0, c1 = time.perf_counter(), time.process_time()
            # recording set-up, finitialize and binding the readers: before the first time step
            self.timings["setup"] = w0 - t0
            for k in range(1, PROGRESS_CHUNKS + 1):
                self._psolve(self.tstop * k / PROGRESS_CHUNKS)
                if self.rank == 0:
                    wall = time.perf_counter() - t0
                    log.info("simulated %.1f / %.1f ms (%3.0f %%), wall %.1f s (%.3g s per simulated s)",
                             h.t, self.tstop, 100.0 * k / PROGRESS_CHUNKS, wall,
                             wall / max(h.t, 1e-9) * 1000.0)
            # the time steps alone (without the set-up of the recording), wall and this rank's CPU
            self.timings["integrate"] = time.perf_counter() - w0
            self.timings["integrate_cpu"] = time.process_time() - c1
            if self._step != self.nstep:
                raise RuntimeError(f"ran {self._step} steps, expected {self.nstep}")
            if self.record_signals:
                self._flush()
                if self._base != self.nstep + 1:
                    raise RuntimeError(f"{self.nstep + 1 - self._base} time steps were not recorded")
        finally:
            cvode.extra_scatter_gather_remove(self._callback)
            if gc_enabled:
                gc.enable()
        self.timings["simulate"] = time.perf_counter() - t0
        self.timings["simulate_cpu"] = time.process_time() - c0  # CPU seconds of this rank
        # NEURON's own accounting of this rank's run (s): integration incl. event delivery, MPI
        # spike exchange, waiting for other ranks
        for k in ("step_time", "send_time", "wait_time", "event_time"):
            self.timings[f"neuron_{k}"] = float(getattr(pc, k)())
        self._simulated = True
        return self

    def _step_callback(self):
        # called after every fixed step (h.t is not updated inside pc.psolve, so count the steps)
        try:
            raise_deferred()  # SIGINT / SIGTERM received during this step (deferred by _psolve)
            self._step += 1
            if self.nhost > 1 and self._step % self.block == 0 and self._stop_vote():
                return  # every rank stops here, before the collective reduction of a flush
            if self._failure is None:
                self._gather(self._step)
        except BaseException as exc:
            # An exception raised out of this callback would make NEURON print its traceback and
            # a hoc error ("extra_scatter_gather runtime error") before psolve fails (a single
            # process), or abort every rank without clean-up (MPI): keep it instead, and stop
            # psolve at the end of this step (a single process) or carry on without recording
            # until all ranks stop together at the next vote (MPI); _psolve raises it.
            self._failure = exc
            if self.nhost == 1:
                self.h.stoprun = 1

    def _stop_vote(self):
        """Whether any rank failed or was interrupted (a collective every :attr:`block` steps, at
        the steps where a flush reduces the signals over ranks); if so, stop ``psolve`` here."""
        failed = int(self._failure is not None)
        if self.pc.allreduce(failed, 2) > 0:  # 2: maximum over ranks
            self._stopped = True
            self.h.stoprun = 1
        return self._stopped

    def _psolve(self, t):
        """``pc.psolve(t)``; an exception of the step callback (a failing write of a streamed
        block, :class:`lfpk.base.errors.Interrupted` of SIGINT / SIGTERM) is re-raised as itself.

        SIGINT / SIGTERM are deferred to the next step's callback (:func:`lfpk.base.files.deferred_signals`),
        so they interrupt the run within one time step (MPI: within :attr:`block` steps, when
        all ranks agree to stop, :meth:`_stop_vote`) and never inside NEURON's or the netCDF
        library's C code. Under MPI the ranks without a failure of their own raise
        :class:`lfpk.base.errors.Stopped` (rank 0 removes its temporary outputs either way). The
        callback never raises into NEURON (:meth:`_step_callback`), so nothing but the command's
        own line is printed.
        """
        try:
            with deferred_signals():
                self.pc.psolve(t)
        except RuntimeError:
            if self._failure is not None:
                raise self._failure from None
            raise
        finally:
            self.h.stoprun = 0
        if self._failure is not None:
            raise self._failure
        if self._stopped:
            raise Stopped(f"at step {self._step}, because another rank failed or was interrupted (rank 0 "
                          "reports why)")

    def run(self):
        """build + connect + simulate."""
        for phase in ("build", "connect", "simulate"):
            getattr(self, phase)()
            if self.rank == 0:
                log.info("%s: %.2f s", phase, self.timings[phase])
        if self.rank == 0 and "probes" in self.timings:
            log.info("probe mapping (part of simulate): %.2f s", self.timings["probes"])
        return self
