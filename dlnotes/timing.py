"""Wall-clock timing for the speed comparisons in the chapters: medians of interleaved rounds.

    times = median_times({"numpy": lambda: a @ b, "torch": lambda: ta @ tb}, repeat=7, number=10)
    times["numpy"] / times["torch"]        # how many times longer NumPy takes, on this machine

Every candidate is first called ``warmup`` times untimed (caches, lazy initialisation, thread
pools starting up), then timed in ``repeat`` rounds of ``number`` calls each. The rounds
interleave the candidates (round 1 of every candidate, then round 2, ...), so a burst of load on
a shared machine slows all of them alike instead of one of them; the median over the rounds
ignores the odd slow round. The result describes the machine that ran it: report ratios and
keep the numbers themselves out of prose.
"""

import statistics
import time

from dlnotes._checks import check_int


def median_times(candidates, repeat=7, number=1, warmup=1, clock=time.perf_counter):
    """{name: median over ``repeat`` rounds of the seconds per call} for each candidate.

    candidates: {name: zero-argument callable}, at least one. A round calls a candidate
    ``number`` times in a row and divides the elapsed ``clock()`` time by ``number``; raise
    ``number`` until one round lasts well above the clock's resolution (a millisecond or so).
    clock: a function returning seconds, ``time.perf_counter`` by default (tests pass a fake).
    """
    where = "median_times"
    if not isinstance(candidates, dict):
        raise TypeError(f"{where}: candidates must be a dict of name -> callable, got {type(candidates).__name__}")
    if not candidates:
        raise ValueError(f"{where}: candidates must name at least one callable, got an empty dict")
    for name, fn in candidates.items():
        if not callable(fn):
            raise TypeError(f"{where}: candidates[{name!r}] must be callable, got {type(fn).__name__}")
    repeat = check_int(repeat, "repeat", where, low=1)
    number = check_int(number, "number", where, low=1)
    warmup = check_int(warmup, "warmup", where, low=0)

    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    rounds = {name: [] for name in candidates}
    for _ in range(repeat):
        for name, fn in candidates.items():
            start = clock()
            for _ in range(number):
                fn()
            rounds[name].append((clock() - start) / number)
    return {name: statistics.median(seconds) for name, seconds in rounds.items()}
