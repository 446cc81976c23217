"""Foundation layer: what every other layer stands on, importing nothing else of lfpk.

Labelled netCDF files and the output guard (:mod:`~lfpk.base.io`), logging
(:mod:`~lfpk.base.logs`), NMODL mechanisms shipped with the package (:mod:`~lfpk.base.mechanisms`)
and starting MPI (:mod:`~lfpk.base.mpi`). See ``docs/architecture.md``.
"""
