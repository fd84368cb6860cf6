"""The docstring examples of the installed package run and print what they say."""

import doctest
import importlib

import pytest

MODULES = [
    "kentro",
    "kentro._kmeans",
    "kentro._datasets",
    "kentro._threads",
    "kentro.metrics",
    "kentro.exceptions",
    "kentro._outliers",
    "kentro._select_k",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    failed, attempted = doctest.testmod(module, optionflags=flags, verbose=False)
    assert attempted > 0, f"{name} has no examples"
    assert failed == 0
