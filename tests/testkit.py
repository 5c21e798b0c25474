"""Helper functions shared by the unit tests (fixtures are in ``tests/conftest.py``)."""

import re

import numpy as np
import pytest


def raises_exactly(exc, message):
    """pytest.raises that matches the whole message literally."""
    return pytest.raises(exc, match=f"^{re.escape(message)}$")


def snapshot(*objects):
    """Copies of every array and scalar reachable from ``objects`` through dicts, lists, tuples
    and the attributes of dlnotes objects, keyed by path: the state a refused call must keep."""
    found = {}

    def walk(value, path, seen):
        if isinstance(value, np.ndarray):
            found[path] = value.copy()
        elif isinstance(value, (int, float, bool, str, type(None), np.generic)):
            found[path] = value
        elif id(value) in seen:
            return
        elif isinstance(value, dict):
            seen.add(id(value))
            for key, item in value.items():
                walk(item, f"{path}[{key!r}]", seen)
        elif isinstance(value, (list, tuple)):
            seen.add(id(value))
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]", seen)
        elif type(value).__module__.startswith("dlnotes") and hasattr(value, "__dict__"):
            seen.add(id(value))
            for key, item in vars(value).items():
                walk(item, f"{path}.{key}", seen)

    for i, obj in enumerate(objects):
        walk(obj, f"arg{i}", set())
    return found


def assert_unchanged(before, *objects):
    """Assert that every array and scalar reachable from ``objects`` equals ``before`` (a
    ``snapshot`` of the same objects) bit for bit: same keys, dtypes, shapes and bytes."""
    after = snapshot(*objects)
    assert after.keys() == before.keys(), sorted(after.keys() ^ before.keys())
    for path, old in before.items():
        new = after[path]
        if isinstance(old, np.ndarray):
            assert (new.dtype, new.shape) == (old.dtype, old.shape), path
            assert new.tobytes() == old.tobytes(), f"{path} changed"
        else:
            assert type(new) is type(old), path
            assert new == old or (new != new and old != old), f"{path} changed"
