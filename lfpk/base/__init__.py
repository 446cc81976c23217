"""Foundation layer: what every other layer stands on, importing nothing else of lfpk.

The output guard (:mod:`~lfpk.base.files`), labelled netCDF files and the block writer
(:mod:`~lfpk.base.io`), the exceptions every layer raises (:mod:`~lfpk.base.errors`), logging
(:mod:`~lfpk.base.logs`), the NMODL mechanisms shipped with the package
(:mod:`~lfpk.base.mechanisms`) and MPI: starting it for NEURON and launching ranks
(:mod:`~lfpk.base.mpi`). See ``docs/architecture.md``.
"""
