"""pytest configuration shared by the unit tests and the notebook regression (pytest --nbval)."""


def pytest_collectstart(collector):
    """Do not compare stderr when nbval checks a notebook.

    Library warnings (deprecations, thread-pool notices) go to stderr and vary between otherwise
    identical environments; what a chapter teaches is in stdout and the rich outputs, which stay
    compared.
    """
    if str(collector.path).endswith(".ipynb"):
        collector.skip_compare += ("stderr",)
