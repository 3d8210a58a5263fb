"""Units at a kink: found within the rounding of z, for the precision the code computes in."""

import numpy as np

from gradcheck.backprop import Network
from gradcheck.checks.kinks import find_kinks
from gradcheck.checks.problem import Problem
from gradcheck.checks.rounding import PRECISIONS


def test_a_relu_unit_at_zero_is_at_its_kink_and_a_smooth_net_has_none():
    net = Network([2, 2, 1], ["relu", "identity"], bias=False,
                  weights=[np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([[1.0, 1.0]])])
    kinks = find_kinks(Problem(net, np.array([[1.0, 2.0], [1.0, 0.5]]), np.zeros((1, 2))))
    assert kinks.at_kink[1].tolist() == [[True, False], [False, False]] and kinks.some
    smooth = Network([2, 2, 1], "tanh", seed=0)
    assert not find_kinks(Problem(smooth, np.zeros((2, 3)), np.zeros((1, 3)))).examples.any()


def test_float32_widens_the_kink_zone():
    # z = 1 - (1 + 1e-9) cancels: exact in float64, but 1 + 1e-9 rounds to 1 in float32
    net = Network([2, 1, 1], ["relu", "identity"], bias=False,
                  weights=[np.array([[1.0, -1.0]]), np.array([[1.0]])])
    problem = Problem(net, np.array([[1.0], [1.0 + 1e-9]]), np.zeros((1, 1)))
    assert not find_kinks(problem).every
    assert find_kinks(problem, PRECISIONS["float32"], inputs_rounded=True).every


def test_the_entries_through_a_kinked_unit_are_the_undefined_ones():
    net = Network([2, 2, 1], ["relu", "identity"], bias=False,
                  weights=[np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([[1.0, 1.0]])])
    problem = Problem(net, np.array([[1.0], [1.0]]), np.zeros((1, 1)))
    undefined = find_kinks(problem).undefined(problem)
    assert undefined["W1"].tolist() == [[True, True], [False, False]]
    assert undefined["W2"].tolist() == [[False, False]]  # a^1_0 = relu(0) = 0 is defined
