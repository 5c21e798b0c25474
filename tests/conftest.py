"""Shared settings for the unit tests."""

import os

from hypothesis import settings

# On CI the examples are derived from each test's name, so a run is reproducible and a red build
# can be replayed exactly; on a developer's machine hypothesis keeps exploring new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
