"""The answer-reading helpers the chapter checkers share: what each accepts, what it turns away
(None), and how the reader's errors and warnings are handled."""

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.exercises.answers import (
    call, close, first_hint, float_array, integer, integers, real_number, real_numbers, whole_number,
)

FINITE = st.floats(allow_nan=False, allow_infinity=False)
NOT_NUMBERS = [None, True, np.bool_(True), "0.5", b"1", 1 + 2j, float("nan"), float("inf"), -float("inf"), {}, [], ()]


# --- real_number


@pytest.mark.parametrize("answer, value", [
    (3, 3.0), (-0.25, -0.25), (np.float32(0.5), 0.5), (np.int64(7), 7.0), (Fraction(1, 4), 0.25),
])
def test_real_number_accepts_one_real(answer, value):
    got = real_number(answer)
    assert type(got) is float and got == value


@pytest.mark.parametrize("answer", NOT_NUMBERS + [[0.5], (0.5,), np.array(0.5), np.array([0.5])])
def test_real_number_turns_away_the_rest(answer):
    assert real_number(answer) is None


# --- real_numbers


@pytest.mark.parametrize("answer", [(1, 2.5), [[1, 2.5]], np.array([1.0, 2.5]), [np.int8(1), Fraction(5, 2)]])
def test_real_numbers_flattens_any_nesting(answer):
    got = real_numbers(answer, 2)
    assert got.dtype == np.float64 and got.shape == (2,)
    np.testing.assert_array_equal(got, [1.0, 2.5])


@pytest.mark.parametrize("answer", [0.5, [0.5], np.array(0.5), [[0.5]]])
def test_real_numbers_reads_one_number_in_any_wrapping(answer):
    np.testing.assert_array_equal(real_numbers(answer, 1), [0.5])


@pytest.mark.parametrize("answer", [
    (1, 2, 3), (1,), 1.0, (True, 1), (1, "2"), (1, None), (float("nan"), 1), (1, float("inf")), [1, [2]], "12",
])
def test_real_numbers_needs_exactly_n_finite_reals(answer):
    assert real_numbers(answer, 2) is None


@settings(max_examples=30, deadline=None)
@given(st.lists(FINITE, min_size=1, max_size=6))
def test_real_numbers_round_trips_a_list_of_floats(values):
    np.testing.assert_array_equal(real_numbers(values, len(values)), values)
    assert real_numbers(values, len(values) + 1) is None


# --- float_array


@pytest.mark.parametrize("answer, shape", [
    (0.5, ()), ([0.5], ()), (np.array([[0.5]]), ()), ([1, 2, 3], (1, 3)), (np.arange(6), (2, 3)),
])
def test_float_array_reshapes_the_right_number_of_entries(answer, shape):
    got = float_array(answer, shape)
    assert got.dtype == np.float64 and got.shape == shape
    np.testing.assert_array_equal(got.ravel(), np.ravel(answer))


@pytest.mark.parametrize("answer", [
    [1, [2]], ["1", "2"], [True, False], np.array([1, 2], dtype=object), [1.0, np.nan], [1.0, 2.0, 3.0], None,
])
def test_float_array_turns_away_ragged_non_numeric_and_non_finite(answer):
    assert float_array(answer, (2,)) is None


# --- integer, integers, whole_number


@pytest.mark.parametrize("answer", [5, -3, np.int64(12), np.uint8(7)])
def test_integer_accepts_integer_types(answer):
    got = integer(answer)
    assert type(got) is int and got == answer


@pytest.mark.parametrize("answer", [3.0, np.float64(3.0), True, np.bool_(False), "3", np.array(3), [3], Fraction(3, 1)])
def test_integer_turns_away_everything_else(answer):
    assert integer(answer) is None


@pytest.mark.parametrize("answer, n, value", [
    (5, 1, (5,)), ([5], 1, (5,)), ((2, 3), 2, (2, 3)), ([[2, 3]], 2, (2, 3)), (np.array([2, 3]), 2, (2, 3)),
    ([np.int32(2), 3], 2, (2, 3)),
])
def test_integers_reads_n_ints(answer, n, value):
    got = integers(answer, n)
    assert got == value and all(type(v) is int for v in got)


@pytest.mark.parametrize("answer", [(2, 3.0), (True, 1), (2, 3, 4), 5, "23", (2, "3"), np.array([2.0, 3.0])])
def test_integers_turns_away_floats_bools_and_wrong_counts(answer):
    assert integers(answer, 2) is None


@pytest.mark.parametrize("answer, value", [(4032, 4032), (4032.0, 4032), (np.float32(-7.0), -7), (Fraction(8, 2), 4)])
def test_whole_number_accepts_reals_without_a_fraction(answer, value):
    got = whole_number(answer)
    assert type(got) is int and got == value


@pytest.mark.parametrize("answer", [2.5, float("nan"), float("inf"), True, "3", [3], np.array(3.0), None])
def test_whole_number_turns_away_everything_else(answer):
    assert whole_number(answer) is None


# --- call


def test_call_returns_the_result_and_no_error():
    assert call(divmod, 17, 5) == ((3, 2), None)


def test_call_reports_the_error_of_the_readers_function():
    def broken(x):
        return x["key"]

    with pytest.raises(TypeError) as raised:
        broken([1])
    result, error = call(broken, [1])
    assert result is None and error == f"TypeError: {raised.value}"


def test_call_catches_errors_of_a_conversion_inside_the_function():
    result, error = call(lambda: np.asarray([1, [2]], dtype=float))
    assert result is None and error.startswith("ValueError: ")


def overflowing():
    return np.exp(np.array([1000.0]))


def test_call_lets_numpy_warnings_through_unless_quiet():
    with pytest.warns(RuntimeWarning, match="overflow"):
        call(overflowing)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result, error = call(overflowing, quiet=True)
    assert error is None and np.isinf(result).all()


@pytest.mark.parametrize("quiet", [False, True])
def test_call_restores_the_numpy_error_state(quiet):
    before = np.geterr()
    with np.errstate(over="raise"):
        _, error = call(overflowing, quiet=quiet)
        assert np.geterr()["over"] == "raise"
    assert np.geterr() == before
    assert (error is None) == quiet  # quiet ignores overflow; otherwise the caller's "raise" applies


# --- close and first_hint


@pytest.mark.parametrize("value, expected, rtol, atol, ok", [
    (1.0 + 0.9e-6, 1.0, 1e-6, 1e-12, True),
    (1.0 + 1.1e-6, 1.0, 1e-6, 1e-12, False),
    (0.9e-12, 0.0, 1e-6, 1e-12, True),
    (1.1e-12, 0.0, 1e-6, 1e-12, False),
    (1.0 + 1e-9, 1.0, 1e-10, 1e-12, False),
    (1.0 + 1e-11, 1.0, 0, 1e-10, True),
    (4032, 4032, 0, 0, True),
    (4033, 4032, 0, 0, False),
    ((3, 4), (3, 4), 0, 0, True),
])
def test_close_tolerances(value, expected, rtol, atol, ok):
    assert close(value, expected, rtol, atol) is ok


def test_close_is_relative_to_the_expected_value():
    # |1.5 − 1| = 0.5 is within 0.4·|1.5| = 0.6 of 1.5, not within 0.4·|1| = 0.4 of 1
    assert close(1.0, 1.5, rtol=0.4, atol=0) and not close(1.5, 1.0, rtol=0.4, atol=0)


@pytest.mark.parametrize("value, expected", [(np.ones(3), 1.0), (np.ones((3, 1)), np.ones(3)), ([1, 1], [1, 1, 1])])
def test_close_does_not_broadcast(value, expected):
    assert not close(value, expected)


def test_first_hint_returns_the_first_matching_message():
    mistakes = [(2.0, "doubled"), (0.5, "halved"), (0.5 * (1 + 1e-8), "also halved")]
    assert first_hint(0.5, mistakes) == "halved"
    assert first_hint(2.0 * (1 + 1e-7), mistakes) == "doubled"
    assert first_hint(1.0, mistakes) is None


def test_first_hint_passes_the_tolerances_on():
    mistakes = [(0.5 * (1 + 1e-8), "halved")]
    assert first_hint(0.5, mistakes) == "halved"
    assert first_hint(0.5, mistakes, rtol=0, atol=0) is None
    assert first_hint(0.5, mistakes, rtol=0, atol=1e-8) == "halved"


def test_first_hint_skips_mistakes_of_another_shape():
    mistakes = [(np.zeros(3), "a vector"), (0.0, "a number")]
    assert first_hint(0.0, mistakes) == "a number"
    assert first_hint(np.zeros(3), mistakes) == "a vector"
