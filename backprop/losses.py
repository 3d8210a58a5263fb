"""Losses C(a, y), per example, summed over the output units.

Each loss gives its value per example (``per_example``) and its output delta, BP1:
delta^L = dC/dz^L.  How the examples of a batch combine into C (a sum, a mean) is the network's
``reduction``, not the loss's.  Arrays are in the columns layout with the output units on axis -2
and the examples on axis -1.  Values are complex-step safe.  Every loss is a sum over axis -2 of
terms each in its own unit's z, a and y (only a softmax couples the units): ``checks.numeric``
relies on this to take every output unit's complex step at once.

A loss also carries the facts the rest of the project needs about it: which output activation it
pairs with (where BP1 simplifies to a - y), which outputs it can be used with at all, and what
its targets look like (so configs and strategies can draw them).
"""

from __future__ import annotations

import numpy as np

from .activations import Sigmoid, Softplus

__all__ = ["Loss", "HalfSquaredError", "SquaredError", "BinaryCrossEntropy",
           "CategoricalCrossEntropy", "LOSSES", "TARGETS"]

_SOFTPLUS = Softplus()
_SIGMOID = Sigmoid()

#: the kinds of target a loss takes: any real numbers, numbers in [0, 1], one-hot columns
TARGETS = ("real", "probability", "one_hot")


class Loss:
    """A loss: its value for each example and dC/da; BP1 combines dC/da with sigma'."""

    name = ""
    #: the output activation with which BP1 simplifies (delta^L = a - y), or None
    pairs_with = None
    #: output activations the loss can be used with (None: any)
    outputs = None
    #: what the targets are: one of TARGETS
    targets = "real"

    def per_example(self, z, a, y, sigma):
        """C_x for each example x (shape ``(..., m)``), from the output layer's z and a = sigma(z)."""
        raise NotImplementedError

    def gradient(self, a, y):
        """dC/da^L."""
        raise NotImplementedError

    def delta(self, z, a, y, sigma):
        """BP1: delta^L = dC/dz^L = sigma'(z^L) * dC/da^L (a Jacobian product for softmax)."""
        if sigma.name == self.pairs_with:
            return self.paired_delta(a, y)
        return sigma.backprop(z, a, self.gradient(a, y))

    def paired_delta(self, a, y):
        """delta^L with the output activation this loss pairs with."""
        raise NotImplementedError

    def gradient_scale(self, a, y):
        """Magnitude of the terms dC/da is computed from (its rounding is a few eps times this)."""
        return np.abs(a) + np.abs(y)

    def paired_scale(self, a, y):
        """Magnitude of the terms the paired delta^L is computed from."""
        return np.abs(a) + np.abs(y)

    def delta_scale(self, z, a, y, sigma):
        """Magnitude of the terms delta^L is computed from, written any reasonable way: the paired
        a - y, or dC/da times sigma' (sigma' itself accurate to eps times ``sigma.prime_scale``)."""
        if sigma.name == self.pairs_with:
            return self.paired_scale(a, y)
        g = self.gradient_scale(a, y)
        if sigma.elementwise:
            return g * (np.abs(sigma.prime(z)) + sigma.prime_scale(z, a))
        # softmax: a * (g - sum_k a_k g_k)
        return np.abs(a) * (g + (np.abs(a) * g).sum(axis=-2, keepdims=True))

    def draw_targets(self, rng, n, m):
        """Targets (n, m) for m examples, as this loss takes them."""
        if self.targets == "one_hot":
            return np.eye(n)[:, rng.integers(0, n, size=m)]
        if self.targets == "probability":
            return rng.uniform(0, 1, size=(n, m))
        return rng.standard_normal((n, m))

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

    def gradient_scale(self, a, y):
        return 2 * (np.abs(a) + np.abs(y))


class BinaryCrossEntropy(Loss):
    """C = -sum [y log a + (1 - y) log(1 - a)], dC/da = (a - y) / (a (1 - a)).

    With a sigmoid output it is computed from z (log a = -softplus(-z), log(1 - a) = -softplus(z))
    and BP1 simplifies to delta^L = a - y (Nielsen's CrossEntropyCost.delta).
    """

    name = "binary_cross_entropy"
    pairs_with = "sigmoid"
    outputs = ("sigmoid",)
    targets = "probability"

    def per_example(self, z, a, y, sigma):
        if sigma.name == self.pairs_with:
            terms = y * _SOFTPLUS(-z) + (1 - y) * _SOFTPLUS(z)
        else:
            terms = -(y * sigma.log(z) + (1 - y) * np.log(1 - a))
        return terms.sum(axis=-2)

    def gradient(self, a, y):
        return (a - y) / (a * (1 - a))

    def gradient_scale(self, a, y):
        return (np.abs(a) + np.abs(y)) / np.abs(a * (1 - a))

    def paired_delta(self, a, y):
        return a - y


class CategoricalCrossEntropy(Loss):
    """C = -sum y log a, dC/da = -y / a; with a softmax output, delta^L = a - y (sum_j y_j = 1).

    With a softmax output the value uses the stable log-softmax of z.  Note that a - y assumes
    each target column sums to 1; for other targets the general form ``a sum(y) - y`` is used.
    """

    name = "categorical_cross_entropy"
    pairs_with = "softmax"
    outputs = ("softmax", "sigmoid")
    targets = "one_hot"

    def per_example(self, z, a, y, sigma):
        return -(y * sigma.log(z)).sum(axis=-2)

    def gradient(self, a, y):
        # -y / a, and 0 where y = 0 (its term y log a is 0 however small a is; 0 / 0 is not)
        out = np.zeros(np.broadcast(a, y).shape, dtype=np.result_type(a, y, float))
        return np.divide(-y, a, out=out, where=(y != 0))

    def gradient_scale(self, a, y):
        return np.abs(self.gradient(a, y))

    def paired_delta(self, a, y):
        return a * y.sum(axis=-2, keepdims=True) - y

    def paired_scale(self, a, y):
        return np.abs(a) * np.abs(y).sum(axis=-2, keepdims=True) + np.abs(y)

    def delta(self, z, a, y, sigma):
        if sigma.name == "sigmoid":
            # -y/a times a (1 - a) is -y (1 - a) = -y sigma(-z): no division by an a that may
            # round to 0 (the chain rule through -y/a is 0 * inf there)
            return -y * _SIGMOID(-z)
        return super().delta(z, a, y, sigma)

    def delta_scale(self, z, a, y, sigma):
        if sigma.name == "sigmoid":
            # written -y (1 - a): 1 - a is accurate to eps absolute, not relative, once a nears 1
            return np.abs(y) * (1 + np.abs(a))
        return super().delta_scale(z, a, y, sigma)


#: Registry: the names a config may use.
LOSSES = {loss.name: loss for loss in (HalfSquaredError(), SquaredError(), BinaryCrossEntropy(),
                                       CategoricalCrossEntropy())}
