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
               truncation estimated from the difference at 2h (D(2h) - D(h) = h^2 f''' / 2);
               rounding eps |f| / h.
richardson     R = (4 D(h) - D(2h)) / 3 + O(h^4),                h = eps^(1/5) max(1, |x|)
               truncation estimated from R at 2h ((R(2h) - R(h)) ~ 15 c h^4), plus a quarter of
               |D(h) - R|, which covers steps outside the asymptotic regime; rounding ~ eps |f| / h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Derivative", "Scheme", "SCHEMES", "derivative"]

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


@dataclass(frozen=True)
class Scheme:
    """A difference scheme: the offsets it evaluates f at (in units of h) and how it combines them."""

    name: str
    offsets: tuple
    step_exponent: float  # h = eps**step_exponent * max(1, |x|); unused by the complex step

    @property
    def complex(self):
        return any(isinstance(c, complex) for c in self.offsets)

    def step(self, x):
        """The step h for each x: scaled to the size of x, a power of two so x + h is exact in h."""
        if self.complex:
            return np.full(np.shape(x), COMPLEX_STEP)
        h = EPS ** self.step_exponent * np.maximum(1.0, np.abs(x))
        return 2.0 ** np.round(np.log2(h))

    def combine(self, values, h, magnitude):
        """(estimate, error bound) from f at x + c h for each offset c (``values[k]``).

        ``magnitude`` is the size of the terms f is summed from: its rounding is eps * magnitude.
        """
        v = values
        if self.name == "complex_step":
            # rounding: eps of the derivative, or of f's own size where f' cancels inside f
            estimate = v[0].imag / h
            return estimate, 4 * EPS * (np.abs(estimate) + np.abs(v[0].real)) + TINY / h
        rounding = 4 * EPS * magnitude / h
        if self.name == "forward":          # offsets 0, 1, 2
            d1, d2 = (v[1] - v[0]) / h, (v[2] - v[0]) / (2 * h)
            return d1, 2 * np.abs(d2 - d1) + rounding
        d1 = (v[0] - v[1]) / (2 * h)        # offsets +1, -1, +2, -2 ...
        d2 = (v[2] - v[3]) / (4 * h)
        if self.name == "central":
            return d1, 2 * np.abs(d2 - d1) / 3 + rounding
        d4 = (v[4] - v[5]) / (8 * h)        # richardson: offsets also +4, -4
        r1, r2 = (4 * d1 - d2) / 3, (4 * d2 - d4) / 3
        return r1, 2 * np.abs(r2 - r1) / 15 + np.abs(d1 - r1) / 4 + 2 * rounding


SCHEMES = {
    "complex_step": Scheme("complex_step", (1j,), 0.0),
    "central": Scheme("central", (1, -1, 2, -2), 1 / 3),
    "richardson": Scheme("richardson", (1, -1, 2, -2, 4, -4), 1 / 5),
    "forward": Scheme("forward", (0, 1, 2), 1 / 2),
}


def scheme(method):
    try:
        return SCHEMES[method]
    except KeyError:
        from backprop.network import suggest
        raise ValueError(f"`method` must be one of {', '.join(SCHEMES)}; got {method!r}"
                         f"{suggest(method, SCHEMES)}") from None


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
    magnitude = np.max([np.abs(np.real(v)) for v in values], axis=0)
    estimate, bound = s.combine(values, h, np.maximum(magnitude, 0.0))
    return Derivative(np.asarray(estimate, dtype=float), np.asarray(bound, dtype=float),
                      len(s.offsets), s.name)
