"""The rounding error model: how far a correct gradient can be from the exact one.

A correct backward pass computed in floating point is not the exact gradient.  How far off it is
depends on the evaluation order (a per-example loop, einsum, rows, BLAS blocking), the precision
(float64, float32, float16) and the forward pass it starts from.  A check may call a gradient
wrong only where the difference exceeds what any correct evaluation could produce, so the
tolerance is a bound over every order, derived below.  It is first-order (products of two
rounding errors are dropped, as in Higham, *Accuracy and Stability of Numerical Algorithms*,
ch. 3), and the result is doubled to cover the second-order terms while they stay small.

Notation: columns layout, one column per example; |.| elementwise; u the unit of rounding of the
precision bounded (``np.finfo(dtype).eps``, twice the unit roundoff, to be safe); and
gamma(n) = n u / (1 - n u), the bound on the relative error of a sum of n terms in any order:
|fl(sum_k t_k) - sum_k t_k| <= gamma(n) sum_k |t_k| (Higham, Lemma 3.1 and eq. 3.5).

Underflow: every operation may also lose an absolute eta, the smallest normal number of the
precision (Higham's model fl(x op y) = (x op y)(1 + delta) + eta, with flush-to-zero covered), so
each error below also carries eta times the number of operations behind it: in float32, an input
of 1e-93 becomes 0, and that is a correct evaluation too.

Each elementary function (sigma, sigma', the loss's delta) is assumed accurate to c = 4 units of
its own scale: ``Activation.value_scale`` for a = sigma(z) (|a| for 1/(1 + e^-z); 1 for tanh and
softplus, whose usual formulas cancel), ``Activation.prime_scale`` for sigma' (|a| where
a (1 - a) is used), ``Loss.delta_scale`` for delta^L.  A product with a zero factor (a slope of
0, a dead unit) carries no error, however large the other factor's bound.  Parameters and inputs given to code that
computes in a narrower precision are first rounded to it (``rho`` = u, else 0).

Forward pass, for l = 1 ... L (E_z, E_a the errors of z^l, a^l):

    E_a^0 = rho |x| + eta
    E_z^l = |W^l| E_a^{l-1} + gamma(n_{l-1} + 2) (|W^l| |a^{l-1}| + |b^l|) + (n_{l-1} + 2) eta
    E_a^l = |sigma'(z^l)| E_z^l + c u v^l + c eta                     v^l = value_scale

(+2: the bias addition, and the rounding of W and b themselves when rho > 0.)

Backward pass.  B^l bounds |delta^l|: B^L = |D^L| (D^L = dC_x/dz^L, from the complex step), and
B^l = |sigma'(z^l)| (|W^{l+1}|^T B^{l+1}).  The error of delta^l:

    E_d^L = |H^L| E_z^L + |G^L| c (u v^L + eta) + c u t^L + c eta
                        H^L = d delta^L / dz^L, G^L = d delta^L / da^L, t^L = Loss.delta_scale
    E_d^l = |sigma'(z^l)| (|W^{l+1}|^T E_d^{l+1} + gamma(n_{l+1}) |W^{l+1}|^T B^{l+1}
                           + (n_{l+1} + 2) eta)
            + (|W^{l+1}|^T B^{l+1}) (|sigma''(z^l)| E_z^l + c u s^l + c eta) + c eta
                                                                        s^l = prime_scale

G^L carries the output's own rounding (c u v^L) into delta^L: a - y with a tanh output written
(e^2z - 1) / (e^2z + 1) is off by eps absolute, not relative to a.
The first line of E_d^l carries the error from above and the rounding of the product with W^T;
the second, the error of sigma'(z^l): computed at a wrong z (sigma'' E_z) and rounded.  |H^L| E_z^L
is exact for elementwise outputs (H^L is diagonal: one complex step of delta^L along E_z^L gives
it) and is summed column by column for a softmax.

Gradient, with r the reduction's factor (1, 1/m or 1/(m n_L); multiplying by it rounds once):

    E(dC/dW^l) = r (E_d^l |a^{l-1}|^T + B^l (E_a^{l-1})^T + gamma(m + 1) B^l |a^{l-1}|^T
                    + (m + 2) eta) + 2 u |2 l2 W^l| + u |dC/dW^l|
    E(dC/db^l) = r (sum_x E_d^l + gamma(m + 1) sum_x B^l + (m + 2) eta) + u |dC/db^l|

The sums over the batch (BP3/BP4) are the gamma(m + 1) terms; the last terms are the L2 term's
rounding and the final rounding of the result to the precision.  Every inner product above is
bounded for any order of summation, so the bound holds for a per-example loop, einsum, the rows
layout, BLAS or not.

The numeric side (``checks.numeric``) evaluates the same chain in float64 at the same computed
forward values (the complex step pins its real parts to them), so its error obeys the same bound
with rho = 0; its own floors (the complex step's h^2 and underflow) and the finite differences'
truncation come on top.  A gradient passes when |analytic - numeric| <= E_analytic + E_numeric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .differentiate import COMPLEX_STEP

__all__ = ["Precision", "PRECISIONS", "gradient_error", "forward_errors", "gamma", "abs_weights",
           "abs_primes"]

#: c: units of rounding each elementary function (sigma, sigma', the loss's delta) may lose
C_ELEMENTARY = 4


@dataclass(frozen=True)
class Precision:
    """A floating-point precision a gradient may be computed in."""

    name: str
    eps: float
    tiny: float               # the smallest normal number: the absolute floor of an operation

    @classmethod
    def of(cls, dtype):
        dtype = np.dtype(dtype)
        return PRECISIONS.get(dtype.name, PRECISIONS["float64"])

    @property
    def dtype(self):
        return np.dtype(self.name)

    def __str__(self):
        return self.name


PRECISIONS = {name: Precision(name, float(np.finfo(name).eps), float(np.finfo(name).tiny))
              for name in ("float16", "float32", "float64")}
FLOAT64 = PRECISIONS["float64"]


def gamma(n, u):
    """n u / (1 - n u): the relative error bound of a sum of n terms in any order (inf past 1)."""
    nu = n * u
    return nu / (1 - nu) if nu < 1 else np.inf


def _times(factor, value):
    """factor * value with 0 wherever the factor is 0: an error cannot pass through a zero slope
    or a zero weight, however large (0 * inf would otherwise be NaN)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(factor == 0, 0.0, factor * value)


def abs_weights(net):
    """|W^l| for l = 1 ... L in the columns layout (index 0 None), computed once per check."""
    W, _ = net.columns()
    return [None] + [np.abs(w) for w in W[1:]]


def abs_primes(net, f):
    """|sigma'(z^l)| for l = 1 ... L (index 0 None; None for a layer that is not elementwise),
    computed once per check: the forward errors, B^l and E_d^l all take it."""
    return [None] + [np.abs(sigma.prime(z)) if sigma.elementwise else None
                     for sigma, z in zip(net.sigmas, f.z[1:])]


def forward_errors(net, f, u, rho, eta, absW, primes):
    """(E_z, E_a): bounds on the forward pass's errors per unit and example, index 0 .. L, for
    rounding unit u, inputs rounded by rho, underflow eta; absW = ``abs_weights(net)``, primes
    = ``abs_primes(net, f)``."""
    _, b = net.columns()
    E_a = [rho * np.abs(f.a[0]) + eta if rho else None]
    E_z = [None]
    for l in range(1, net.L + 1):
        size = absW[l] @ np.abs(f.a[l - 1]) + np.abs(b[l])
        if E_a[l - 1] is None:  # exact inputs: E_a^0 = eta, so |W| E_a^0 is a row sum
            carried = eta * absW[l].sum(axis=1, keepdims=True)
        else:
            carried = absW[l] @ E_a[l - 1]
        E_z.append(carried + gamma(net.layers[l - 1] + 2, u) * size
                   + (net.layers[l - 1] + 2) * eta)
        sigma = net.sigmas[l - 1]
        if sigma.elementwise:
            spread = _times(primes[l], E_z[l])
        else:  # softmax: |J| e <= a e + a (a . e)
            a = f.a[l]
            spread = a * E_z[l] + a * (a * E_z[l]).sum(axis=0, keepdims=True)
        E_a.append(spread + C_ELEMENTARY * (u * sigma.value_scale(f.z[l], f.a[l]) + eta))
    return E_z, E_a


def output_curvature(net, f, y, e):
    """|H^L| e per example, H^L = d delta^L / dz^L (e >= 0): exact for elementwise outputs."""
    sigma, loss = net.sigmas[-1], net.loss
    h = COMPLEX_STEP

    def delta(z):
        return loss.delta(z, sigma(z), y, sigma)

    if sigma.elementwise:  # H^L is diagonal
        return np.abs(delta(f.z[-1] + 1j * h * e).imag) / h
    total = np.zeros_like(e)
    n = e.shape[0]
    for j in range(n):  # column j of H^L, one complex step per output unit
        step = np.zeros(e.shape, dtype=complex)
        step[j] = 1j * h
        total += np.abs(delta(f.z[-1] + step).imag) / h * e[j]
    return total


def delta_bounds(net, D_L, absW, primes):
    """B^l >= |delta^l| for l = 1 ... L, from B^L = |D^L| through |W|^T and |sigma'| (primes =
    ``abs_primes``)."""
    B = [None] * (net.L + 1)
    B[net.L] = np.abs(D_L)
    for l in range(net.L - 1, 0, -1):
        B[l] = _times(primes[l], absW[l + 1].T @ B[l + 1])
    return B


def output_value_error(net, f, y, e):
    """|d delta^L / d a^L| e: the error of delta^L from an error e in the computed output a^L
    itself (a tanh written (e^2z - 1) / (e^2z + 1) is accurate to eps absolute, not relative);
    for an elementwise output, by a complex step in a alone.  A softmax, accurate relative to
    its value, is covered by the loss's own delta_scale."""
    sigma, loss = net.sigmas[-1], net.loss
    if not sigma.elementwise:
        return np.zeros_like(e)
    h = COMPLEX_STEP
    with np.errstate(all="ignore"):
        moved = loss.delta(f.z[-1], f.a[-1] + 1j * h * e, y, sigma)
    return np.abs(moved.imag) / h


def gradient_error(problem, precision=FLOAT64, *, inputs_rounded=False):
    """{name: bound} on |computed - exact| for every gradient entry (layout shapes), for a correct
    backward pass computed in ``precision`` (see the module docstring), on a ``Problem``.

    ``inputs_rounded``: the code received (or converted) its parameters and batch in
    ``precision``, so rho = u.
    """
    u, eta = precision.eps, precision.tiny
    rho = u if inputs_rounded else 0.0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        E_z, E_a = problem.forward_errors(precision, inputs_rounded)
        E_d = _delta_errors(problem, E_z, u, eta, rho)
        return _gradient_bounds(problem, E_d, E_a, u, eta)


def _delta_errors(problem, E_z, u, eta, rho):
    """E_d^l for l = 1 ... L (see the module docstring); an output's own value error included."""
    net, f, y, D_L, absW, B = (problem.net, problem.forward, problem.y_cols, problem.D_L,
                               problem.absW, problem.B)
    L, c = net.L, C_ELEMENTARY
    sigma_L = net.sigmas[-1]
    t_L = net.loss.delta_scale(f.z[-1], f.a[-1], y, sigma_L)
    own = c * (u * sigma_L.value_scale(f.z[-1], f.a[-1]) + eta)
    E_d = [None] * (L + 1)
    E_d[L] = (output_curvature(net, f, y, E_z[L]) + output_value_error(net, f, y, own)
              + c * (u * t_L + eta) + rho * np.abs(D_L))
    for l in range(L - 1, 0, -1):
        absWT = absW[l + 1].T
        sigma = net.sigmas[l - 1]
        carried = absWT @ B[l + 1]
        E_d[l] = (_times(problem.abs_primes[l],
                         absWT @ E_d[l + 1] + gamma(net.layers[l + 1], u) * carried
                         + (net.layers[l + 1] + 2) * eta)
                  + _times(carried, np.abs(sigma.prime2(f.z[l])) * E_z[l]
                           + c * (u * sigma.prime_scale(f.z[l], f.a[l]) + eta)) + c * eta)
    return E_d


def _gradient_bounds(problem, E_d, E_a, u, eta):
    """The bounds on every entry from E_d (see the module docstring), NaN read as no bound.

    Each layer's weight bound is one matrix product.  With c = gamma(m + 1) + u and the outer
    2 r taken into the left factor (2 is exact; r rounds once more, as it did outside),

        2 r (E_d |a|^T + B E_a^T + c B |a|^T + (m + 2) eta)
          = [2r (E_d + c B) | 2r B | 2r (m + 2) eta] [|a| | E_a | 1]^T,

    the same sum of the same nonnegative terms in exact arithmetic: only the order of rounding
    differs, a few units of the bound's own last place.  Where E_a^0 = eta (exact inputs), B^1
    (E_a^0)^T is eta times B^1's row sums, which join the last column.  The bias bound is the
    row sum of the first m columns plus 2 r (m + 2) eta.  Every factor is nonnegative, so where
    they are all finite the product has no NaN (an overflow is inf, and inf + x stays inf) and
    the NaN pass is skipped."""
    net, f, B = problem.net, problem.forward, problem.B
    W, _ = net.columns()
    L, m = net.L, problem.m
    two_r = 2 * net.scale(m)
    c = gamma(m + 1, u) + u  # the last u B|a|^T is the result's own rounding
    const = two_r * (m + 2) * eta
    bounds, finite = {}, True
    for l in range(1, L + 1):
        left, right = _bound_factors(B[l], E_d[l], E_a[l - 1], f.a[l - 1], two_r, c, const, eta)
        finite = finite and bool(np.isfinite(left.max()) and np.isfinite(right.max()))
        ew = left @ right
        if net.l2:
            ew += 6 * u * np.abs(2 * net.l2 * W[l])
        bounds[f"W{l}"] = net.from_columns(ew)
        if net.bias:
            eb = left[:, :m].sum(axis=1, keepdims=True)
            eb += const
            bounds[f"b{l}"] = net.from_columns(eb)
    if finite:
        return bounds
    return {n: np.where(np.isnan(b), np.inf, b) for n, b in bounds.items()}


def _bound_factors(B, E_d, E_a, a, two_r, c, const, eta):
    """(left, right) with left @ right the weight bound of one layer (``_gradient_bounds``):
    right is [|a| | E_a | 1]^T, built C-contiguous for the product."""
    n, m = B.shape
    wide = E_a is not None
    left = np.empty((n, 2 * m + 1 if wide else m + 1))
    right = np.empty((left.shape[1], a.shape[0]))
    lead = left[:, :m]
    np.multiply(B, c, out=lead)
    lead += E_d
    lead *= two_r
    np.abs(a.T, out=right[:m])
    if wide:
        np.multiply(B, two_r, out=left[:, m:2 * m])
        right[m:2 * m] = E_a.T
        left[:, -1] = const
    else:  # E_a^0 = eta: B (E_a^0)^T is eta times B's row sums
        np.sum(B, axis=1, out=left[:, -1])
        left[:, -1] *= two_r * eta
        left[:, -1] += const
    right[-1] = 1.0
    return left, right
