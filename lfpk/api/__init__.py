"""Library layer: a study or network described in one config file, loaded and validated
(:mod:`~lfpk.api.config`), and the config-driven library entry points such as kernels of every
connection (:mod:`~lfpk.api.kernels`). ``import lfpk`` hands these names on. See
``docs/architecture.md``.
"""
