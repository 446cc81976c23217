"""Exceptions and warnings of spike input."""


class SpikeInputError(ValueError):
    """Invalid spike or population-map input (message names file, line/field and expectation)."""


class SpikeWarning(UserWarning):
    """Spike input that is valid but probably not what was meant (a silent population, rates that
    differ from the kernels' rates)."""
