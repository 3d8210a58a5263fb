"""Activation functions sigma and their derivatives sigma'.

Each activation is a small stateless object.  Every formula here is safe for the complex-step
method of ``checks``: no ``abs``, ``conj``, ``float()`` or ``scipy.special.expit``; branches test
``z.real`` and are chosen elementwise without evaluating the overflowing side.  They are also
stable: no overflow warning for ``|z|`` up to 1e4 and beyond.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Activation", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softplus", "ELU", "Identity", "Softmax",
    "ACTIVATIONS",
]


def _exp_of_minus_abs(z):
    """exp(-|z|) continued analytically: exp(-z) where Re z >= 0, exp(z) elsewhere (never > 1)."""
    positive = z.real >= 0
    return positive, np.exp(np.where(positive, -z, z))


class Activation:
    """sigma applied elementwise, with sigma' for BP1/BP2.

    ``backprop(z, a, g)`` maps g = dC/da to dC/dz; for elementwise activations that is
    ``g * sigma'(z)`` (the Hadamard product of BP1 and BP2).
    """

    name = ""
    elementwise = True
    #: sigma' jumps at z = 0: the gradient is undefined for a unit exactly there
    kinked = False
    #: infinitely differentiable: finite-difference steps may cross z = 0 (False for kinks, and for
    #: activations whose second derivative jumps there)
    smooth = True

    def __call__(self, z):
        raise NotImplementedError

    def prime(self, z):
        """sigma'(z), elementwise."""
        raise NotImplementedError

    def prime_from_output(self, a):
        """sigma' written in terms of the output a = sigma(z), as hand-written code often does."""
        raise NotImplementedError

    def prime2(self, z):
        """sigma''(z), elementwise (0 for piecewise-linear activations, away from their kink)."""
        return np.zeros(np.shape(z))

    def value_scale(self, z, a):
        """Magnitude of the rounding of a = sigma(z) computed any reasonable way, in units of eps.

        1/(1 + exp(-z)) is accurate relative to a; (e^2z - 1)/(e^2z + 1) for tanh, or
        log(1 + e^z) for softplus, are accurate only to eps absolute: their scale is 1.
        """
        return np.abs(a)

    def prime_scale(self, z, a):
        """Magnitude of the terms a float64 sigma' is computed from (its rounding is eps times this).

        Hand-written code often computes sigma' from the output (``a * (1 - a)``), whose absolute
        error is eps times the size of ``a``, not of sigma' itself: in a saturated unit sigma' may
        be 1e-10 while its rounding error is 1e-16.  The comparison's rounding floor uses this.
        """
        return np.abs(self.prime(z))

    def backprop(self, z, a, g):
        """dC/dz from g = dC/da: BP1/BP2's ``g * sigma'(z)``."""
        return g * self.prime(z)

    def log(self, z):
        """log sigma(z), for losses that take a log of the output (overridden where log a
        would lose accuracy to a tiny a: the complex step's Im part would underflow)."""
        return np.log(self(z))

    def __repr__(self):
        return self.name


class Sigmoid(Activation):
    """sigma(z) = 1 / (1 + exp(-z)), sigma' = sigma (1 - sigma) <= 1/4."""

    name = "sigmoid"

    def __call__(self, z):
        if not np.iscomplexobj(z):  # as finite differences need it: fewer passes, no branch
            # 1 / (1 + exp(-z)) is accurate to a few eps relative to a; below z = -709 exp(-z)
            # overflows and a = 0, off by less than the smallest normal number (the error
            # model's underflow term).  A masked or branched form took 3x longer on mixed signs.
            out = np.negative(z, out=np.empty(np.shape(z)))
            with np.errstate(over="ignore"):
                np.exp(out, out=out)
            out += 1
            np.divide(1.0, out, out=out)
            return out
        positive, e = _exp_of_minus_abs(z)
        return np.where(positive, 1 / (1 + e), e / (1 + e))

    def prime(self, z):
        # sigma(z) sigma(-z) = e / (1 + e)^2 with e = exp(-|z|): no cancellation when saturated
        _, e = _exp_of_minus_abs(z)
        return e / (1 + e) ** 2

    def prime_from_output(self, a):
        return a * (1 - a)

    def log(self, z):
        # log sigma(z) = -softplus(-z): no division by a tiny sigma, no underflow in Im
        return -SOFTPLUS(-z)

    def prime2(self, z):
        a = self(z)
        return self.prime(z) * (1 - 2 * a)

    def prime_scale(self, z, a):
        return np.abs(a)


class Tanh(Activation):
    """sigma(z) = tanh z, sigma' = 1 - tanh^2 z."""

    name = "tanh"

    def __call__(self, z):
        # numpy's tanh is analytic on complex arguments, accurate near 0 (where (1 - e^2)/(1 + e^2)
        # would cancel) and never overflows
        return np.tanh(z)

    def prime(self, z):
        # 1 - tanh^2 z = 4 e^2 / (1 + e^2)^2 with e = exp(-|z|): stable when saturated
        _, e = _exp_of_minus_abs(z)
        return 4 * e * e / (1 + e * e) ** 2

    def prime_from_output(self, a):
        return 1 - a * a

    def prime2(self, z):
        return -2 * np.tanh(z) * self.prime(z)

    def value_scale(self, z, a):
        return np.ones(np.shape(z))

    def prime_scale(self, z, a):
        return np.ones(np.shape(z))


class ReLU(Activation):
    """sigma(z) = max(z, 0), written ``z * (Re z > 0)``; sigma'(0) is taken as 0."""

    name = "relu"
    kinked = True
    smooth = False

    def __call__(self, z):
        return z * (z.real > 0)

    def prime(self, z):
        return (z.real > 0).astype(float)

    def prime_from_output(self, a):
        return (a.real > 0).astype(float)


class LeakyReLU(Activation):
    """sigma(z) = z for Re z > 0, alpha z otherwise (alpha = 0.01)."""

    name = "leaky_relu"
    kinked = True
    smooth = False

    def __init__(self, alpha=0.01):
        self.alpha = alpha

    def __call__(self, z):
        return z * np.where(z.real > 0, 1.0, self.alpha)

    def prime(self, z):
        return np.where(z.real > 0, 1.0, self.alpha)

    def prime_from_output(self, a):
        return np.where(a.real > 0, 1.0, self.alpha)


class Softplus(Activation):
    """sigma(z) = log(1 + exp z), sigma' = 1 / (1 + exp(-z)), the logistic sigmoid."""

    name = "softplus"

    def __call__(self, z):
        # log(1 + e^z) = max(z, 0) + log1p(exp(-|z|))
        positive, e = _exp_of_minus_abs(z)
        return np.where(positive, z, 0) + np.log1p(e)

    def prime(self, z):
        return SIGMOID(z)

    def prime_from_output(self, a):
        return 1 - np.exp(-a)

    def prime2(self, z):
        return SIGMOID.prime(z)

    def value_scale(self, z, a):
        return 1 + np.abs(a)

    def prime_scale(self, z, a):
        return np.ones(np.shape(z))


class ELU(Activation):
    """sigma(z) = z for Re z > 0, alpha (e^z - 1) otherwise (alpha = 1): sigma' is continuous at 0
    but sigma'' jumps there, so finite-difference steps across 0 are not trusted."""

    name = "elu"
    smooth = False

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def __call__(self, z):
        positive = z.real > 0
        return np.where(positive, z, self.alpha * np.expm1(np.where(positive, 0, z)))

    def prime(self, z):
        positive = z.real > 0
        return np.where(positive, 1.0, self.alpha * np.exp(np.where(positive, 0, z)))

    def prime2(self, z):
        positive = z.real > 0
        return np.where(positive, 0.0, self.alpha * np.exp(np.where(positive, 0, z)))

    def prime_from_output(self, a):
        return np.where(a.real > 0, 1.0, a + self.alpha)

    def value_scale(self, z, a):
        return 1 + np.abs(a)  # alpha * (exp(z) - 1) cancels near 0

    def prime_scale(self, z, a):
        return np.ones(np.shape(z))  # a + alpha cancels


class Identity(Activation):
    """sigma(z) = z, sigma' = 1."""

    name = "identity"

    def __call__(self, z):
        return z

    def prime(self, z):
        return np.ones(np.shape(z))

    def prime_from_output(self, a):
        return np.ones(np.shape(a))


class Softmax(Activation):
    """a_j = exp z_j / sum_k exp z_k over the output units (axis 0 in the columns layout).

    Not elementwise: its Jacobian is diag(a) - a a^T, so ``backprop`` applies
    dC/dz = a * (g - sum_k a_k g_k) for each example.  Allowed on the output layer only.
    """

    name = "softmax"
    elementwise = False

    def __call__(self, z):
        # shift by the (real) largest logit: exact for the analytic continuation, never overflows
        shifted = z - z.real.max(axis=-2, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=-2, keepdims=True)

    def log(self, z):
        """log softmax(z), stable: z - logsumexp(z)."""
        shifted = z - z.real.max(axis=-2, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-2, keepdims=True))

    def prime(self, z):
        """The diagonal of the Jacobian, a (1 - a): only part of sigma' for a softmax."""
        a = self(z)
        return a * (1 - a)

    def prime_from_output(self, a):
        return a * (1 - a)

    def prime_scale(self, z, a):
        return np.ones(np.shape(z))

    def backprop(self, z, a, g):
        return a * (g - (a * g).sum(axis=-2, keepdims=True))


SIGMOID = Sigmoid()
SOFTPLUS = Softplus()

#: Registry: the names a config may use.
ACTIVATIONS = {
    act.name: act
    for act in (SIGMOID, Tanh(), ReLU(), LeakyReLU(), Softplus(), ELU(), Identity(), Softmax())
}
