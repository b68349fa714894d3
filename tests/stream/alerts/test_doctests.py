"""Docstring examples are part of the test suite."""
import doctest
import importlib

import pytest

MODULES = ["detectors.base", "detectors.ewma", "detectors.cusum", "detectors.volume", "lifecycle", "evidence",
           "article", "payload", "silences", "webhook"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(f"stream.alerts.{name}"))
    assert result.failed == 0 and result.attempted > 0
