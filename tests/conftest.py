"""Shared settings and fixtures for the unit tests.

Fixtures defined here are found by pytest without an import. Plain helper functions live in
``tests/testkit.py`` (``from testkit import raises_exactly``): a module named ``conftest`` cannot
be imported reliably, because ``tests/book/conftest.py`` has the same module name.
"""

import os
from pathlib import Path

import pytest
import torch
from hypothesis import settings
from threadpoolctl import threadpool_limits

# On CI the examples are derived from each test's name, so a run is reproducible and a red build
# can be replayed exactly; on a developer's machine hypothesis keeps exploring new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Run torch and numpy's BLAS on one thread in every test module: the arrays in the tests are
    tiny, and on a busy machine extra threads only wait for each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium under Playwright, launched once per pytest worker and shared by every
    browser test (book pages, JupyterLab, the explorers' front ends)."""
    from playwright.sync_api import sync_playwright

    from browserkit import CHROMIUM, CHROMIUM_FLAGS

    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium); CI installs it and never skips")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()
