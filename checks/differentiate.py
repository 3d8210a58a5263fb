"""Numerical differentiation schemes, each with its error model.

A scheme evaluates f at x + c h for a few offsets c (complex for the complex step) and combines
the values into an estimate of f'(x) with an error bound.  ``derivative(f, x)`` applies a scheme
elementwise to a vectorized f; ``checks.numeric`` applies the same schemes to a network's loss.

With eps = np.finfo(float64).eps, the schemes and their error terms are:

complex step   f'(x) = Im f(x + i h) / h + O(h^2 f''')
               No subtraction, so no cancellation: h = 1e-20 makes the truncation term vanish
               (h^2 = 1e-40 relative) and the result is exact to rounding of f's own evaluation,
               down to derivatives of about tiny / h = 2e-288, below which Im f underflows.  One
               evaluation.  Needs f analytic and written without abs/conj/float().
forward        f'(x) = (f(x + h) - f(x)) / h + h f''/2,           h = sqrt(eps) max(1, |x|)
               truncation estimated from the same difference at 2h; rounding 2 eps |f| / h.
               (Each truncation estimate below is doubled: it is an estimate, not a bound.)
central        f'(x) = (f(x + h) - f(x - h)) / 2h + h^2 f'''/6,  h = eps^(1/3) max(1, |x|)
               truncation estimated from the difference at 2h (D(2h) - D(h) = h^2 f''' / 2),
               or, where a bound on |f'''| is known from f's structure (a smooth network's,
               ``checks.numeric``), from that bound with no second step; rounding eps |f| / h.
richardson     R = (4 D(h) - D(2h)) / 3 + O(h^4),                h = eps^(1/5) max(1, |x|)
               truncation estimated from R at 2h ((R(2h) - R(h)) ~ 15 c h^4), plus a quarter of
               |D(h) - R|, which covers steps outside the asymptotic regime; rounding ~ eps |f| / h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backprop.registry import lookup

__all__ = ["Derivative", "Scheme", "SCHEMES", "scheme", "derivative"]

EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).tiny
#: the complex step: small enough that h^2 vanishes, large enough that h f' rarely underflows
COMPLEX_STEP = 1e-20


@dataclass(frozen=True)
class Derivative:
    """An estimate of f'(x) with its error bound and the evaluations of f it took."""

    estimate: np.ndarray
    error_bound: np.ndarray
    evaluations: int
    method: str


class Scheme:
    """A difference scheme: the offsets it evaluates f at (in units of h), its step, and how it
    combines the values into an estimate with an error bound.  Each subclass is one scheme."""

    name = ""
    offsets = ()
    step_exponent = 0.0   # h = eps**step_exponent * max(1, |x|)
    complex = False
    #: the offsets evaluated when a bound on the derivative the truncation depends on is known
    #: from the function's structure (``checks.numeric``): then no second step is needed to
    #: estimate it.  None where the scheme has no such form.
    structural_offsets = None

    def step(self, x, scale=1.0, eps=EPS):
        """The step h for each x: eps^k times the size of x, or ``scale`` where x is smaller (the
        size of the array x belongs to, not an absolute 1: an input of 1e-3 takes a step of
        1e-3 of itself), a power of two so x + h is exact in h.  ``eps``: the rounding unit of
        the function's evaluations (float32's for code that computes in float32)."""
        h = eps ** self.step_exponent * np.maximum(scale, np.abs(x))
        return 2.0 ** np.round(np.log2(h))

    @property
    def evaluations(self):
        """Evaluations of f per derivative (the value at offset 0 is known already)."""
        return sum(1 for c in self.offsets if c != 0)

    def combine(self, values, h, rounding):
        """(estimate, error bound) from f at x + c h for each offset c (``values[k]``).

        ``rounding`` bounds the rounding error of each value of f; a difference of two values
        divided by h loses 2 rounding / h to it.
        """
        raise NotImplementedError

    def __repr__(self):
        return self.name


class ComplexStep(Scheme):
    """f'(x) = Im f(x + i h) / h + O(h^2 f'''), with no subtraction: h = 1e-20."""

    name = "complex_step"
    offsets = (1j,)
    complex = True

    def step(self, x, scale=1.0, eps=EPS):
        return np.full(np.shape(x), COMPLEX_STEP)

    def combine(self, values, h, rounding):
        # rounding: eps of the derivative, or of f's own size where f' cancels inside f
        estimate = values[0].imag / h
        return estimate, 4 * EPS * (np.abs(estimate) + np.abs(values[0].real)) + TINY / h


class ForwardDifference(Scheme):
    """f'(x) = (f(x + h) - f(x)) / h + h f''/2; the same difference at 2h estimates the error."""

    name = "forward"
    offsets = (0, 1, 2)
    step_exponent = 1 / 2

    def combine(self, values, h, rounding):
        d1, d2 = (values[1] - values[0]) / h, (values[2] - values[0]) / (2 * h)
        return d1, 2 * np.abs(d2 - d1) + 2 * rounding / h


class Central(Scheme):
    """f'(x) = (f(x + h) - f(x - h)) / 2h + h^2 f'''/6; D(2h) - D(h) = h^2 f'''/2 estimates it."""

    name = "central"
    offsets = (1, -1, 2, -2)
    step_exponent = 1 / 3

    @staticmethod
    def differences(values, h):
        """D(h), D(2h), D(4h), ... from the values at +-h, +-2h, +-4h, ..."""
        return [(values[2 * k] - values[2 * k + 1]) / (2 ** (k + 1) * h)
                for k in range(len(values) // 2)]

    def combine(self, values, h, rounding):
        d1, d2 = self.differences(values, h)
        return d1, 2 * np.abs(d2 - d1) / 3 + rounding / h

    structural_offsets = (1, -1)

    def combine_structural(self, values, h, rounding, third):
        """(estimate, error bound) from f at x +- h alone, given ``third`` >= |f'''(x)|: the
        truncation h^2 |f'''| / 6, doubled as the estimate from D(2h) is."""
        return (values[0] - values[1]) / (2 * h), 2 * h ** 2 * third / 6 + rounding / h


class Richardson(Central):
    """R = (4 D(h) - D(2h)) / 3 + O(h^4); R(2h) - R(h) ~ 15 c h^4 estimates it, plus a quarter of
    |D(h) - R| for steps outside the asymptotic regime."""

    name = "richardson"
    offsets = (1, -1, 2, -2, 4, -4)
    step_exponent = 1 / 5
    structural_offsets = None

    def combine(self, values, h, rounding):
        d1, d2, d4 = self.differences(values, h)
        r1, r2 = (4 * d1 - d2) / 3, (4 * d2 - d4) / 3
        # (4 D(h) - D(2h)) / 3 loses 4/3 rounding/h + 1/3 rounding/2h <= 2 rounding / h
        return r1, 2 * np.abs(r2 - r1) / 15 + np.abs(d1 - r1) / 4 + 2 * rounding / h


#: Registry: the schemes a user may name (``--method``).
SCHEMES = {s.name: s for s in (ComplexStep(), Central(), Richardson(), ForwardDifference())}


def scheme(method):
    """The scheme named ``method`` (a Scheme passes through)."""
    return lookup(SCHEMES, method, "method", kind=Scheme)


def derivative(f, x, method="complex_step"):
    """f'(x) elementwise for a vectorized f, with an error bound.

    >>> d = derivative(np.sin, np.array([0.0, 1.0]))
    >>> bool(np.all(np.abs(d.estimate - np.cos([0.0, 1.0])) <= d.error_bound)), d.evaluations
    (True, 1)
    >>> d = derivative(np.exp, np.array([1.0]), method="central")
    >>> bool(abs(d.estimate[0] - np.e) <= d.error_bound[0]), d.evaluations
    (True, 4)
    """
    s = scheme(method)
    x = np.asarray(x, dtype=float)
    h = s.step(x)
    values = [f(x + c * h) for c in s.offsets]
    # a vectorized elementary f is accurate to a few ulps of its largest value
    rounding = 4 * EPS * np.max([np.abs(np.real(v)) for v in values], axis=0)
    estimate, bound = s.combine(values, h, rounding)
    return Derivative(np.asarray(estimate, dtype=float), np.asarray(bound, dtype=float),
                      len(s.offsets), s.name)
