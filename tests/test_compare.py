"""The comparison: each entry against its own tolerance, the worst ones found exactly, the
relative error a person means."""

import numpy as np
import pytest

from gradcheck.backprop import Parameter
from gradcheck.checks.compare import _top, compare_arrays, relative_error


def test_the_k_worst_entries_are_found_exactly_whatever_the_size():
    rng = np.random.default_rng(0)
    for n in (3, 100, 23_520, 100_003):
        rank = rng.random(n)
        top = _top(rank, 5)
        assert list(top) == list(np.argsort(-rank, kind="stable")[:min(5, n)])


def test_equal_worst_entries_come_in_index_order():
    rng = np.random.default_rng(1)
    for n in (40, 23_520, 100_003):
        rank = rng.random(n)
        where = rng.choice(n, 5, replace=False)
        rank[where] = 2.0  # five equal worst entries, anywhere
        assert list(_top(rank, 5)) == sorted(where)


@pytest.mark.parametrize("k, expected", [(2.0, 1.0), (10.0, 9.0), (-1.0, 2.0), (1.0, 0.0)])
def test_an_array_k_times_the_truth_reads_k_minus_1(k, expected):
    truth = np.random.default_rng(1).standard_normal((4, 5))
    assert relative_error(k * truth, truth) == pytest.approx(expected)


def test_relative_error_of_zero_arrays_and_of_nan():
    zero = np.zeros(3)
    assert relative_error(zero, zero) == 0.0
    assert relative_error(np.ones(3), zero) == np.inf
    assert relative_error(np.array([np.nan, 0, 0]), np.ones(3)) == np.inf


def test_each_entry_is_held_to_its_own_tolerance_and_nan_always_fails():
    p = Parameter("W1", "weight", 1, (2, 2))
    numeric = {"W1": np.array([[1.0, 2.0], [3.0, 4.0]])}
    tol = {"W1": np.array([[1e-3, 1e-12], [0.0, 1.0]])}
    analytic = {"W1": numeric["W1"] + np.array([[5e-4, 1e-9], [0.0, np.nan]])}
    skipped = {"W1": np.zeros((2, 2), dtype=bool)}
    (check,) = compare_arrays((p,), analytic, numeric, tol, skipped)
    assert not check.passed and check.mismatches == 2 and check.checked == 4
    assert [e.index for e in check.worst[:2]] == [(1, 1), (0, 1)]
    assert [e.passed for e in check.worst] == [False, False, True, True]


def test_skipped_entries_are_neither_compared_nor_counted_as_worst():
    p = Parameter("b1", "bias", 1, (3, 1))
    numeric = {"b1": np.ones((3, 1))}
    analytic = {"b1": np.array([[1.0], [9.0], [1.0]])}
    tol = {"b1": np.full((3, 1), 1e-12)}
    skipped = {"b1": np.array([[False], [True], [False]])}
    (check,) = compare_arrays((p,), analytic, numeric, tol, skipped)
    assert check.passed and check.skipped == 1 and check.checked == 2
    assert all(e.index != (1, 0) for e in check.worst)
