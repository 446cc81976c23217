"""Errors of the kernel engine."""


class KernelError(ValueError):
    """Invalid kernel parameters; the message names the parameter."""
