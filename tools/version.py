"""The package's version, read from its one source without importing the package (stdlib only)."""

import re
from pathlib import Path

INIT = Path(__file__).resolve().parents[1] / "dlnotes" / "__init__.py"


def version():
    """`__version__` as written in dlnotes/__init__.py."""
    text = INIT.read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE).group(1)
