"""dlnotes.timing: medians of interleaved rounds, checked with a fake clock (no real sleeping)."""

import statistics
import timeit

import pytest

from dlnotes.timing import median_times


class FakeClock:
    """A clock that only moves when a timed function says how long it "took"."""

    def __init__(self):
        self.now = 0.0
        self.calls = []  # the names of the functions called, in order

    def __call__(self):
        return self.now

    def work(self, name, durations):
        """A function that advances the clock by the next entry of ``durations`` at each call."""
        durations = iter(durations)

        def fn():
            self.calls.append(name)
            self.now += next(durations)

        return fn


def test_constant_work_gives_its_duration():
    clock = FakeClock()
    times = median_times({"a": clock.work("a", [0.25] * 8)}, repeat=7, clock=clock)
    assert times == {"a": 0.25}


def test_median_ignores_slow_rounds_and_warmup_is_not_timed():
    clock = FakeClock()
    # warm-up call 1000 s, then rounds of 1, 1, 50, 1, 40 s: median 1 (the mean would be 18.6)
    fn = clock.work("a", [1000.0, 1.0, 1.0, 50.0, 1.0, 40.0])
    assert median_times({"a": fn}, repeat=5, warmup=1, clock=clock) == {"a": 1.0}


def test_rounds_report_seconds_per_call():
    clock = FakeClock()
    # two rounds of three calls: (1+2+3)/3 = 2 and (4+5+6)/3 = 5, median 3.5
    times = median_times({"a": clock.work("a", [1, 2, 3, 4, 5, 6])}, repeat=2, number=3, warmup=0, clock=clock)
    assert times["a"] == pytest.approx(statistics.median([2.0, 5.0]))


def test_candidates_are_warmed_up_then_interleaved_round_by_round():
    clock = FakeClock()
    candidates = {"a": clock.work("a", [1.0] * 9), "b": clock.work("b", [3.0] * 9)}
    times = median_times(candidates, repeat=2, number=2, warmup=1, clock=clock)
    assert clock.calls == ["a", "b"] + ["a", "a", "b", "b"] * 2
    assert times == {"a": 1.0, "b": 3.0}


def test_a_burst_of_load_slows_both_candidates_of_one_round():
    clock = FakeClock()
    load = [1, 1, 9, 1, 1]  # machine slowdown factor in each round
    a = clock.work("a", [2.0 * f for f in load])
    b = clock.work("b", [1.0 * f for f in load])
    times = median_times({"a": a, "b": b}, repeat=5, warmup=0, clock=clock)
    assert times["a"] / times["b"] == 2.0


def test_agrees_with_timeit_on_the_same_clock():
    clock = FakeClock()
    durations = [0.5, 0.7, 0.2, 0.9, 0.4, 0.6, 0.3, 0.8, 0.1]
    ours = median_times({"f": clock.work("f", durations)}, repeat=3, number=3, warmup=0, clock=clock)["f"]
    other = FakeClock()
    rounds = timeit.repeat(other.work("f", durations), timer=other, repeat=3, number=3)
    assert ours == pytest.approx(statistics.median(r / 3 for r in rounds), rel=1e-12)


def test_real_clock_returns_positive_seconds():
    times = median_times({"sum": lambda: sum(range(1000))}, repeat=3, number=10)
    assert times["sum"] > 0


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(candidates=[lambda: None]), TypeError, r"^median_times: candidates must be a dict of name -> callable, got list$"),
        (dict(candidates={}), ValueError, r"^median_times: candidates must name at least one callable, got an empty dict$"),
        (dict(candidates={"x": 3}), TypeError, r"^median_times: candidates\['x'\] must be callable, got int$"),
        (dict(candidates={"x": print}, repeat=0), ValueError, r"^median_times: repeat must be >= 1, got 0$"),
        (dict(candidates={"x": print}, number=1.5), TypeError, r"^median_times: number must be an integer, got float$"),
        (dict(candidates={"x": print}, warmup=-1), ValueError, r"^median_times: warmup must be >= 0, got -1$"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        median_times(**kwargs)
