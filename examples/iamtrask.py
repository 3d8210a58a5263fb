"""A 2-layer network in the style of iamtrask's "A Neural Network in 11 lines of Python": rows
layout (one example per row, X @ W), no biases, the error written y - a and the update with +=.

    gradcheck examples/iamtrask.toml --impl examples/iamtrask.py:train_step --impl-kind step
"""

import numpy as np


def nonlin(x, deriv=False):
    if deriv:
        return x * (1 - x)
    return 1 / (1 + np.exp(-x))


def train_step(weights, biases, X, y, lr):
    syn0, syn1 = weights
    l1 = nonlin(X @ syn0)
    l2 = nonlin(l1 @ syn1)
    l2_error = y - l2
    l2_delta = l2_error * nonlin(l2, deriv=True)
    l1_error = l2_delta @ syn1.T
    l1_delta = l1_error * nonlin(l1, deriv=True)
    syn1 += lr * l1.T @ l2_delta
    syn0 += lr * X.T @ l1_delta


def train_step_tutorial(weights, biases, X, y, lr):
    """A popular tutorial's recurrence: the hidden error is W.T @ output_error, sigma' dropped."""
    syn0, syn1 = weights
    l1 = nonlin(X @ syn0)
    l2 = nonlin(l1 @ syn1)
    l2_error = y - l2
    l2_delta = l2_error * nonlin(l2, deriv=True)
    l1_error = l2_error @ syn1.T                 # should be l2_delta @ syn1.T
    l1_delta = l1_error * nonlin(l1, deriv=True)
    syn1 += lr * l1.T @ l2_delta
    syn0 += lr * X.T @ l1_delta
