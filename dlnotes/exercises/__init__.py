"""Self-checking exercises: ``check("2.3", my_answer)`` says right or wrong, and why.

``verdict("2.3", my_answer)`` returns the same judgement as ``(ok, line)`` for programs and tests.

Each chapter's checkers live in ``dlnotes/exercises/chN.py`` and register themselves with
:func:`checker`. A checker receives the reader's answer and returns ``(ok, message)``; the
message explains a wrong answer without giving the solution away.
"""

import importlib

_CHECKERS = {}
_CHAPTER_MODULES = [f"dlnotes.exercises.ch{n}" for n in range(1, 8)]


def checker(exercise_id):
    """Decorator that registers ``fn(answer) -> (ok: bool, message: str)`` for ``exercise_id``."""

    def register(fn):
        if exercise_id in _CHECKERS:
            raise ValueError(f"checker: exercise {exercise_id!r} is registered twice")
        _CHECKERS[exercise_id] = fn
        return fn

    return register


def _load_all():
    for name in _CHAPTER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # a real import error inside the module: surface it
                raise


def verdict(exercise_id, answer):
    """``(ok, line)``: whether ``answer`` solves exercise ``exercise_id`` (e.g. ``"2.3"``), and the
    line :func:`check` prints, ``"Exercise 2.3: correct. ..."`` or ``"Exercise 2.3: not yet. <why>"``.
    """
    _load_all()
    if exercise_id not in _CHECKERS:
        known = ", ".join(sorted(_CHECKERS)) or "none"
        raise ValueError(f"check: exercise_id must be one of {known}, got {exercise_id!r}")
    ok, message = _CHECKERS[exercise_id](answer)
    outcome = "correct." if ok else "not yet."
    return bool(ok), f"Exercise {exercise_id}: {outcome} {message}".rstrip()


def check(exercise_id, answer):
    """Print whether ``answer`` solves exercise ``exercise_id``, and why not if it does not."""
    print(verdict(exercise_id, answer)[1])


def exercise_ids():
    """All registered exercise ids, sorted."""
    _load_all()
    return sorted(_CHECKERS)
