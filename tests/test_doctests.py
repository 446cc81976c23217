"""The examples in the public docstrings run as written (doctest), so they stay true."""

import doctest
import importlib

import pytest

#: modules whose docstrings carry examples; each must have at least one
MODULES = ["lfpk.model.rules", "lfpk.model.times", "lfpk.engines.spikes", "lfpk.entry.workflow"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name}: no docstring example found"
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} docstring examples failed"
