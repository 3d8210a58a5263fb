"""Losses C(a, y), summed over the output units and over the examples of a batch.

Each loss gives its value per example (``per_example``; the batch's C is their sum, so examples
never interact) and its output delta, BP1: delta^L = dC/dz^L.  Arrays are in the columns layout
with the output units on axis -2 and the examples on axis -1.  Values are complex-step safe.
"""

from __future__ import annotations

import numpy as np

from .activations import Softmax, Sigmoid, Softplus

__all__ = ["Loss", "HalfSquaredError", "SquaredError", "BinaryCrossEntropy",
           "CategoricalCrossEntropy", "LOSSES"]

_SOFTPLUS = Softplus()


class Loss:
    """A loss: its value for each example and dC/da; BP1 combines dC/da with sigma'."""

    name = ""

    def per_example(self, z, a, y, sigma):
        """C_x for each example x (shape ``(..., m)``), from the output layer's z and a = sigma(z)."""
        raise NotImplementedError

    def value(self, z, a, y, sigma):
        """C: the sum over the batch."""
        return self.per_example(z, a, y, sigma).sum(axis=-1)

    def gradient(self, a, y):
        """dC/da^L."""
        raise NotImplementedError

    def delta(self, z, a, y, sigma):
        """BP1: delta^L = dC/dz^L = sigma'(z^L) * dC/da^L (a Jacobian product for softmax)."""
        return sigma.backprop(z, a, self.gradient(a, y))

    def __repr__(self):
        return self.name


class HalfSquaredError(Loss):
    """C = 1/2 sum (a - y)^2, dC/da = a - y (Nielsen's QuadraticCost)."""

    name = "half_squared_error"

    def per_example(self, z, a, y, sigma):
        return 0.5 * ((a - y) ** 2).sum(axis=-2)

    def gradient(self, a, y):
        return a - y


class SquaredError(Loss):
    """C = sum (a - y)^2, dC/da = 2 (a - y)."""

    name = "squared_error"

    def per_example(self, z, a, y, sigma):
        return ((a - y) ** 2).sum(axis=-2)

    def gradient(self, a, y):
        return 2 * (a - y)


class BinaryCrossEntropy(Loss):
    """C = -sum [y log a + (1 - y) log(1 - a)], dC/da = (a - y) / (a (1 - a)).

    With a sigmoid output it is computed from z (log a = -softplus(-z), log(1 - a) = -softplus(z))
    and BP1 simplifies to delta^L = a - y (Nielsen's CrossEntropyCost.delta).
    """

    name = "binary_cross_entropy"

    def per_example(self, z, a, y, sigma):
        if isinstance(sigma, Sigmoid):
            terms = y * _SOFTPLUS(-z) + (1 - y) * _SOFTPLUS(z)
        else:
            terms = -(y * np.log(a) + (1 - y) * np.log(1 - a))
        return terms.sum(axis=-2)

    def gradient(self, a, y):
        return (a - y) / (a * (1 - a))

    def delta(self, z, a, y, sigma):
        if isinstance(sigma, Sigmoid):
            return a - y
        return super().delta(z, a, y, sigma)


class CategoricalCrossEntropy(Loss):
    """C = -sum y log a, dC/da = -y / a; with a softmax output, delta^L = a - y (sum_j y_j = 1).

    With a softmax output the value uses the stable log-softmax of z.  Note that a - y assumes
    each target column sums to 1; for other targets the general form ``a sum(y) - y`` is used.
    """

    name = "categorical_cross_entropy"

    def per_example(self, z, a, y, sigma):
        log_a = sigma.log(z) if isinstance(sigma, Softmax) else np.log(a)
        return -(y * log_a).sum(axis=-2)

    def gradient(self, a, y):
        return -y / a

    def delta(self, z, a, y, sigma):
        if isinstance(sigma, Softmax):
            return a * y.sum(axis=-2, keepdims=True) - y
        return super().delta(z, a, y, sigma)


#: Registry: the names a config may use.
LOSSES = {loss.name: loss for loss in (HalfSquaredError(), SquaredError(), BinaryCrossEntropy(),
                                       CategoricalCrossEntropy())}
