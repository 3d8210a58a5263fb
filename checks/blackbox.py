"""The numeric side for code gradcheck can only evaluate: a function of arrays, or a layer.

A ``Target`` is the scalar the check differentiates, L(arrays), evaluated at sparse
perturbations of its base arrays, ``{name: (flat indices, values)}``, many at a time (so a
child process answers a batch of points in one request).  Each evaluation also gives the size
of the terms L is summed from, whose rounding bounds the evaluation's.

- **The evaluation's precision.**  Code that computes in float32 rounds every evaluation at
  float32's unit: the dtypes say so (float32 outputs or inputs), or a probe does (moved within
  float32's rounding, the inputs leave L exactly where it was).  Steps and rounding bounds are
  taken at that unit.
- **The steps** are eps^k times each entry's size, or its array's (root-mean-square) size where
  the entry is smaller: an input of scale 1e-3 is stepped by 1e-3 of itself, not by 1e-3.
- **Complex step** where the code is complex-safe.  A probe decides: a complex evaluation must
  reproduce the real one, raise no ComplexWarning (an in-place float buffer drops the imaginary
  part), and its derivative along a random direction must agree closely with a Richardson
  estimate that is itself reliable (``np.abs``, ``np.var``, ``np.sign`` and comparisons on
  complex values break the first; a reference that crosses a kink decides nothing, and the
  code is then not taken as complex-safe).
- **Richardson extrapolation** of central differences otherwise, with its error estimate.

Finite differences assume smoothness the code may not have.  An entry whose steps cross a kink
(a ReLU at 0, a max-pool tie, ``np.abs`` at 0: a jump in the first derivative) or a jump in the
second derivative (a Huber loss at |r| = 1) is left undecided, never failed: the second
differences S(t) = (f(t) + f(-t) - 2 f(0)) / t^2 of a smooth function change by a factor 4 from
one step to the next (S(t) = f'' + t^2 f''''/12 + ...); across either jump they do not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compare import KINK, NOT_SAMPLED
from .differentiate import COMPLEX_STEP, EPS, scheme
from .rounding import FLOAT64, PRECISIONS, gamma

__all__ = ["Target", "numeric", "complex_safe", "NumericResult", "evaluation_precision"]

#: points per batch of evaluations
BATCH = 256
FLOAT32 = PRECISIONS["float32"]


@dataclass(frozen=True)
class Target:
    """What the numeric side differentiates: L at the base arrays moved by sparse
    perturbations.  ``losses(moves)`` -> [(L, size of its terms)] for each move; ``terms``: how
    many terms L sums (K of the error model); ``precision``: what the code's dtypes show it
    computes in (its outputs', its inputs')."""

    names: tuple
    arrays: dict              # name -> the base array (never modified)
    losses: object
    terms: int = 1
    precision: object = FLOAT64

    def at(self, moves):
        """[(L, size)] for the moves, in batches."""
        out = []
        for start in range(0, len(moves), BATCH):
            out.extend(self.losses(moves[start:start + BATCH]))
        return out

    def scale(self, name):
        """The size of the array's entries: their root-mean-square, 1 where all are zero."""
        a = np.asarray(self.arrays[name], dtype=float)
        rms = float(np.sqrt(np.mean(np.square(a)))) if a.size else 0.0
        return rms if rms > 0 and np.isfinite(rms) else 1.0


@dataclass(frozen=True)
class NumericResult:
    gradient: dict
    error_bound: dict
    reasons: dict             # name -> why each entry is not decided (compare's codes)
    evaluations: int
    method: str
    precision: object = FLOAT64
    size: float = 0.0         # the size of the terms L sums at the base point


def _nudge(a):
    """Every nonzero entry moved within its float32 rounding interval (see Problem.nudged)."""
    a = np.asarray(a, dtype=float)
    with np.errstate(over="ignore"):
        rounded = a.astype(np.float32).astype(float)
    quarter = np.spacing(np.abs(rounded).astype(np.float32)).astype(float) / 4
    inside = np.isfinite(rounded) & (a != 0)
    return np.where(inside & (rounded != a), (a + rounded) / 2, np.where(inside, a + quarter, a))


def evaluation_precision(target):
    """The precision the code's evaluations round at: the dtypes' (``target.precision``), or
    float32 where moving every input within its float32 rounding leaves L exactly where it was
    (code that converts its inputs to float32 cannot see the move; code in float64 moves by
    about 2^-25 of L's gradient)."""
    if target.precision is not FLOAT64:
        return target.precision
    move = {n: (np.arange(a.size), (_nudge(a) - a).ravel()) for n, a in target.arrays.items()}
    if not any(np.any(d) for _, d in move.values()):
        return FLOAT64
    (base, _), (moved, _) = target.at([{}, move])
    return FLOAT32 if base == moved and np.isfinite(base) else FLOAT64


def _dense(target, direction, scale):
    return {n: (np.arange(a.size), scale * direction[n].ravel())
            for n, a in target.arrays.items()}


def complex_safe(target, rng, eps=EPS):
    """Whether a complex evaluation reproduces the real one and its directional derivative, the
    latter checked against a Richardson estimate that is smooth and accurate along the way."""
    arrays = target.arrays
    direction = {n: rng.standard_normal(a.shape) * target.scale(n) for n, a in arrays.items()}
    h = COMPLEX_STEP
    try:
        (real, size), (zero, zero_size), (stepped, _) = target.at([
            {}, {n: (np.arange(a.size), np.zeros(a.size, dtype=complex)) for n, a in arrays.items()},
            _dense(target, direction, 1j * h)])
        real, zero, stepped = complex(real), complex(zero), complex(stepped)
    except Exception:  # a TypeError from float(), a ComplexWarning, anything: not complex-safe
        return False
    scale = max(abs(real.real), size, zero_size, 1e-300)
    if real.imag != 0 or zero.imag != 0 or abs(zero.real - real.real) > 64 * eps * scale:
        return False
    cs = stepped.imag / h
    fd = scheme("richardson")
    t = float(2.0 ** np.round(np.log2(eps ** fd.step_exponent)))
    got = target.at([_dense(target, direction, c * t) for c in fd.offsets])
    values = [float(np.real(v)) for v, _ in got]
    rounding = 64 * eps * max([scale] + [abs(v) for v in values] + [z for _, z in got])
    est, err = fd.combine(values, t, rounding)
    f0 = real.real
    if not smooth_across(values, f0, t, rounding):
        return False  # the reference crosses a kink: it decides nothing
    if not err <= 1e-6 * max(abs(est), abs(cs)):
        return False  # the reference is not accurate enough to vouch for the complex step
    return bool(abs(cs - est) <= 10 * err + 1e-8 * max(abs(cs), abs(est)))


def _entries(size, sample, rng):
    if sample is not None and sample < size:
        return np.sort(rng.choice(size, size=sample, replace=False))
    return np.arange(size)


def numeric(target, method, sample, rng):
    """The numeric gradient of every array, its error bound, the entries left undecided (a kink
    or a jump in the second derivative within the steps, or not sampled), the evaluations it took
    and the method used."""
    precision = evaluation_precision(target)
    eps = precision.eps
    used = method
    if method == "auto":
        used = "complex_step" if complex_safe(target, rng, eps) else "richardson"
    s = scheme(used)
    (f0, size0), = target.at([{}])
    f0 = float(np.real(f0))
    grads, bounds, reasons, evaluations = {}, {}, {}, 0
    for name in target.names:
        a0 = target.arrays[name]
        est, err = np.zeros(a0.shape), np.zeros(a0.shape)
        entries = _entries(a0.size, sample, rng)
        why = np.full(a0.shape, NOT_SAMPLED, dtype=np.uint8)
        why.flat[entries] = 0
        h = s.step(np.abs(np.asarray(a0, dtype=float).ravel()[entries]), target.scale(name), eps)
        for _ in range(1 if s.complex else RETRIES + 1):
            done, n = _estimate(target, s, name, entries, h, f0, size0, eps, est, err)
            evaluations += n
            entries, h = entries[~done], h[~done] / 8  # steps too large to be smooth: smaller
            if not entries.size:
                break
        why.flat[entries] = KINK
        grads[name], bounds[name], reasons[name] = est, err, why
    return NumericResult(grads, bounds, reasons, evaluations, used, precision, size0)


#: times an entry whose steps are not smooth across is tried again with steps 8 times smaller
RETRIES = 2


def _estimate(target, s, name, entries, h, f0, size0, eps, est, err):
    """The scheme's estimate and bound for each entry, written into est and err; (whether each
    entry's steps were smooth across, the evaluations taken)."""
    offsets = [c for c in s.offsets if c != 0]
    moves = [{name: (np.array([k]), np.array([c * hk]))} for k, hk in zip(entries, h)
             for c in offsets]
    results = target.at(moves)
    done = np.ones(len(entries), dtype=bool)
    for j, (k, hk) in enumerate(zip(entries, h)):
        got = results[j * len(offsets):(j + 1) * len(offsets)]
        values = [v if s.complex else float(np.real(v)) for v, _ in got]
        if not s.complex:
            values = _with_base(s.offsets, values, f0)
        size = max([size0] + [z for _, z in got] + [abs(np.real(v)) for v in values])
        rounding = 2 * gamma(target.terms + 8, eps) * size
        e, b = s.combine(values, hk, rounding)
        est.flat[k], err.flat[k] = float(np.real(e)), float(b)
        # a kink shows against the values' actual noise (a few units of their size), not
        # against the worst-case bound, which would hide it: flagging is the safe side
        done[j] = s.complex or smooth_across(values, f0, hk, 8 * eps * size)
    return done, len(moves)


def _with_base(offsets, values, f0):
    """The values at every offset of the scheme, f0 where the offset is 0."""
    it = iter(values)
    return [f0 if c == 0 else next(it) for c in offsets]


def smooth_across(values, f0, h, rounding):
    """Whether the function looks smooth across the steps (values at +-h, +-2h, ...): no kink,
    and, with three step sizes, no jump in the second derivative and differences in their
    asymptotic regime."""
    return not (kinked(values, f0, h, rounding) or jump_in_second_derivative(values, f0, h, rounding)
                or not asymptotic(values, h, rounding))


def asymptotic(values, h, rounding):
    """Whether the central differences D(t) = (f(t) - f(-t)) / 2t at t = h, 2h, 4h behave as
    Richardson's error estimate assumes, D(t) = f' + t^2 f'''/6 + O(t^4): then D(4h) - D(2h) =
    4 (D(2h) - D(h)) up to O(h^4).  A kink a fraction of a step away, or a function that varies
    on a scale finer than the step (a batch norm of nearly constant inputs), breaks it; the
    estimate's error bound then means nothing.  True with fewer than three step sizes."""
    if len(values) < 6:
        return True
    D = [(values[2 * k] - values[2 * k + 1]) / (2 ** (k + 1) * h) for k in range(3)]
    noise = [rounding / (2 ** k * h) for k in range(3)]
    first, second = D[1] - D[0], D[2] - D[1]
    slack = noise[2] + 5 * noise[1] + 4 * noise[0]
    return abs(second - 4 * first) <= slack + 0.25 * (abs(second) + 4 * abs(first))


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


def jump_in_second_derivative(values, f0, h, rounding):
    """A jump in f'' within the steps (a C1 function such as a Huber loss at |r| = 1), which
    Richardson's error estimate assumes away.  The second differences S(t) = (f(t) + f(-t) -
    2 f0) / t^2 are f'' + t^2 f''''/12 + O(t^4) for a smooth f, so with three step sizes
    S(4h) - S(2h) = 4 (S(2h) - S(h)) up to O(h^4); across a jump in f'' (or in f') they are not.
    Needs the values at +-h, +-2h and +-4h (Richardson's); says nothing with fewer."""
    if len(values) < 6:
        return False
    S = [(values[2 * k] + values[2 * k + 1] - 2 * f0) / (2 ** k * h) ** 2 for k in range(3)]
    noise = [4 * rounding / (2 ** k * h) ** 2 for k in range(3)]
    first, second = S[1] - S[0], S[2] - S[1]
    slack = noise[2] + 5 * noise[1] + 4 * noise[0]
    return abs(second - 4 * first) > slack + 0.25 * (abs(second) + 4 * abs(first))
