"""The numeric side for code gradcheck can only evaluate: a function of arrays, or a layer.

A ``Target`` is the scalar the check differentiates, L(arrays), evaluated at sparse
perturbations of its base arrays, ``{name: (flat indices, values)}``, many at a time (so a
child process answers a batch of points in one request).  Each evaluation also gives the size
of the terms L is summed from, whose rounding bounds the evaluation's.

- **complex step** where the code is complex-safe.  A probe decides: a complex evaluation must
  reproduce the real one, raise no ComplexWarning (an in-place float buffer drops the imaginary
  part), and its derivative along a random direction must agree with Richardson's (``np.abs``,
  ``np.sign``, comparisons and ``np.maximum`` on complex values break that).
- **Richardson extrapolation** of central differences otherwise, with its error estimate.

A kink in the code (a ReLU at 0, a max-pool tie, ``np.abs`` at 0) shows in the finite
differences as a jump in the first derivative that does not shrink with the step; an entry whose
steps cross one is left out and reported, never failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compare import KINK, NOT_SAMPLED
from .differentiate import COMPLEX_STEP, EPS, scheme
from .rounding import gamma

__all__ = ["Target", "numeric", "complex_safe", "NumericResult"]

#: points per batch of evaluations
BATCH = 256


@dataclass(frozen=True)
class Target:
    """What the numeric side differentiates: L at the base arrays moved by sparse
    perturbations.  ``losses(moves)`` -> [(L, size of its terms)] for each move; ``terms``: how
    many terms L sums (K of the error model)."""

    names: tuple
    arrays: dict              # name -> the base array (never modified)
    losses: object
    terms: int = 1

    def at(self, moves):
        """[(L, size)] for the moves, in batches."""
        out = []
        for start in range(0, len(moves), BATCH):
            out.extend(self.losses(moves[start:start + BATCH]))
        return out


@dataclass(frozen=True)
class NumericResult:
    gradient: dict
    error_bound: dict
    reasons: dict             # name -> why each entry is not decided (compare's codes)
    evaluations: int
    method: str


def _dense(arrays, direction, scale):
    return {n: (np.arange(a.size), scale * direction[n].ravel()) for n, a in arrays.items()}


def complex_safe(target, rng):
    """Whether a complex evaluation reproduces the real one and its directional derivative."""
    arrays = target.arrays
    direction = {n: rng.standard_normal(a.shape) for n, a in arrays.items()}
    h = COMPLEX_STEP
    try:
        (real, _), (zero, _), (stepped, _) = target.at([
            {}, {n: (np.arange(a.size), np.zeros(a.size, dtype=complex)) for n, a in arrays.items()},
            _dense(arrays, direction, 1j * h)])
        real, zero, stepped = complex(real), complex(zero), complex(stepped)
    except Exception:  # a TypeError from float(), a ComplexWarning, anything: not complex-safe
        return False
    if real.imag != 0 or abs(zero.real - real.real) > 64 * EPS * max(abs(real.real), 1e-300):
        return False
    cs = stepped.imag / h
    if cs == 0 and all(not np.any(d) for d in direction.values()):
        return True
    fd = scheme("richardson")
    t = 2.0 ** np.round(np.log2(EPS ** 0.2))
    values = [float(np.real(v)) for v, _ in target.at(
        [_dense(arrays, direction, c * t) for c in fd.offsets])]
    est, err = fd.combine(values, t, 64 * EPS * max(abs(v) for v in values))
    return bool(abs(cs - est) <= 10 * err + 1e-8 * max(abs(cs), abs(est)))


def _entries(size, sample, rng):
    if sample is not None and sample < size:
        return np.sort(rng.choice(size, size=sample, replace=False))
    return np.arange(size)


def numeric(target, method, sample, rng, precision_eps=EPS):
    """The numeric gradient of every array, its error bound, the entries left out (a kink within
    the steps, or not sampled), the evaluations it took and the method used.

    ``precision_eps``: the rounding unit of the code's evaluations (float32's for a forward
    that computes in float32)."""
    used = method
    if method == "auto":
        used = "complex_step" if complex_safe(target, rng) else "richardson"
    s = scheme(used)
    (f0, size0), = target.at([{}])
    f0 = float(np.real(f0))
    offsets = [c for c in s.offsets if c != 0]
    grads, bounds, reasons, evaluations = {}, {}, {}, 0
    for name in target.names:
        a0 = target.arrays[name]
        est, err = np.zeros(a0.shape), np.zeros(a0.shape)
        entries = _entries(a0.size, sample, rng)
        why = np.full(a0.shape, NOT_SAMPLED, dtype=np.uint8)
        why.flat[entries] = 0
        h = s.step(np.abs(a0.ravel()[entries]))
        moves = [{name: (np.array([k]), np.array([c * hk]))} for k, hk in zip(entries, h)
                 for c in offsets]
        results = target.at(moves)
        evaluations += len(moves)
        for j, (k, hk) in enumerate(zip(entries, h)):
            got = results[j * len(offsets):(j + 1) * len(offsets)]
            values = [v if s.complex else float(np.real(v)) for v, _ in got]
            if not s.complex:
                values = _with_base(s.offsets, values, f0)
            size = max([size0] + [z for _, z in got] + [abs(np.real(v)) for v in values])
            rounding = 2 * gamma(target.terms + 8, precision_eps) * size
            e, b = s.combine(values, hk, rounding)
            est.flat[k], err.flat[k] = float(np.real(e)), float(b)
            if not s.complex and kinked(values, f0, hk, rounding):
                why.flat[k] = KINK
        grads[name], bounds[name], reasons[name] = est, err, why
    return NumericResult(grads, bounds, reasons, evaluations, used)


def _with_base(offsets, values, f0):
    """The values at every offset of the scheme, f0 where the offset is 0."""
    it = iter(values)
    return [f0 if c == 0 else next(it) for c in offsets]


def kinked(values, f0, h, rounding):
    """A jump in the first derivative within the steps.  The gap between the one-sided
    differences at step t, D+(t) - D-(t), is t f'' for a smooth function, growing with t; across
    a kink it is the jump itself, the same at every t past the kink.  So compare each step's gap
    with twice the previous one's (offsets +-h, +-2h, +-4h, ...)."""
    gaps = []
    for k in range(len(values) // 2):
        t = 2 ** k * h
        gaps.append((values[2 * k] - f0) / t - (f0 - values[2 * k + 1]) / t)
    for k in range(1, len(gaps)):
        noise = 8 * rounding / (2 ** (k - 1) * h)
        if abs(gaps[k] - 2 * gaps[k - 1]) > noise + 0.25 * (abs(gaps[k]) + 2 * abs(gaps[k - 1])):
            return True
    return False
