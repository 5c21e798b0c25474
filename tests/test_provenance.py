"""The provenance line: what it reports, and which of its parts nbval compares across environments."""

import platform
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from nbval.plugin import get_sanitize_patterns

import dlnotes
from dlnotes import provenance

CFG = Path(__file__).resolve().parents[1] / "nbval_sanitize.cfg"


def sanitize(text):
    """Apply the sanitize file as nbval does: every (regex, replace) pair in file order."""
    for regex, replace in get_sanitize_patterns(CFG.read_text(encoding="utf-8")):
        text = re.sub(regex, replace, text)
    return text


def report_in(monkeypatch, python="3.11.7", numpy="2.4.6", torch_version="2.13.0+cpu", seed=0):
    """The line ``report`` prints in an environment with these versions."""
    monkeypatch.setattr(platform, "python_version", lambda: python)
    monkeypatch.setattr(np, "__version__", numpy)
    monkeypatch.setattr(torch, "__version__", torch_version)
    return provenance.report(seed)


def test_report_names_this_environment():
    line = provenance.report(7)
    assert line == (f"Python {platform.python_version()} | NumPy {np.__version__} | "
                    f"PyTorch {torch.__version__} | dlnotes {dlnotes.__version__} | seed 7")


@pytest.mark.parametrize("python, torch_version", [
    ("3.12.1", "2.13.0+cpu"),
    ("3.13.0", "2.13.0+cu130"),   # PyPI's Linux wheel
    ("3.11.9", "2.13.0"),         # macOS and Windows wheels carry no build label
])
def test_supported_interpreters_and_builds_compare_equal(monkeypatch, python, torch_version):
    stored = sanitize(report_in(monkeypatch))
    assert sanitize(report_in(monkeypatch, python=python, torch_version=torch_version)) == stored


@pytest.mark.parametrize("changed", [
    {"python": "3.10.14"},              # below the supported range
    {"numpy": "2.3.5"},                 # another NumPy can print other digits
    {"torch_version": "2.12.0+cpu"},    # another PyTorch release
    {"seed": 1},
])
def test_what_matters_is_still_compared(monkeypatch, changed):
    stored = sanitize(report_in(monkeypatch))
    assert sanitize(report_in(monkeypatch, **changed)) != stored
