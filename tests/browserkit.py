"""Debian's Chromium, as every browser test here drives it: Playwright with `/usr/bin/chromium`,
never a downloaded browser. The one `browser` fixture (tests/conftest.py) launches it once per pytest
worker; Playwright's sync API allows one running instance per process."""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SKIP_WITHOUT_CHROMIUM = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason=f"{CHROMIUM} not found (apt-get install chromium); CI installs it and never skips",
)
