"""The examples in the flow modules' docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["devolve.engines.flow", "devolve.engines.flow.estimates", "devolve.engines.flow.inputs",
           "devolve.engines.flow.model", "devolve.engines.flow.plan", "devolve.engines.flow.queueing",
           "devolve.engines.flow.simulate", "devolve.engines.flow.streams", "devolve.services.flow"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
