"""The comparison of an analytic gradient with the numeric one, entry by entry.

Every entry is judged one of three ways:

- it **agrees**: |analytic - numeric| <= tolerance, the tolerance coming from the error model
  (``checks.rounding``) and the numeric scheme, never from a fixed rtol;
- it **disagrees**: the difference exceeds every error a correct evaluation could make;
- it **cannot be decided**, with a reason: a kink or a jump in a derivative the numeric scheme
  needs lies within its steps (the numeric side says so), the gradient is not defined there, a
  value or the error bound is not finite, or the rounding bound reaches the gradient's own size
  (the largest |entry| of the true gradient of its array), so that no verdict is earned.

The comparison works on any arrays described by ``Parameter`` records, a network's W1, b1, ... or
a layer's x, w, b.
"""

from __future__ import annotations

import numpy as np

from .report import Entry, ParameterCheck

__all__ = ["compare_arrays", "compare_directional", "relative_error", "undecided", "WORST",
           "REASONS", "KINK", "UNDEFINED", "NOT_FINITE", "SWAMPED", "NOT_SAMPLED", "ESTIMATE",
           "NOISY"]

#: how many of the worst entries a report keeps per array
WORST = 5

#: why an entry is not decided, as codes in a uint8 array per parameter (0: it is decided)
KINK, UNDEFINED, NOT_FINITE, SWAMPED, NOT_SAMPLED, ESTIMATE, NOISY = 1, 2, 3, 4, 5, 6, 7
REASONS = {KINK: "a kink, a jump in a derivative, or a loss too coarse to difference (rounding the "
                 "code amplifies) within the numeric steps",
           UNDEFINED: "the gradient is not defined there (a unit at its kink)",
           NOT_FINITE: "a value or its error bound is not finite",
           SWAMPED: "the rounding bound reaches the size of the gradient",
           NOT_SAMPLED: "not among the sampled entries",
           ESTIMATE: "the finite-difference error estimate does not hold (the exact complex "
                     "step agrees with the code)",
           NOISY: "the rounding measured at nearby points reaches the difference (code that "
                  "amplifies its rounding, a saturated unit: checks.nearby)"}


def no_reasons(shape):
    """A reason array saying every entry can be decided."""
    return np.zeros(shape, dtype=np.uint8)


def undecided(numeric, tolerance, reasons, narrow=False, analytic=None):
    """The reasons an entry cannot be decided: those the numeric side gave (``reasons``, or
    None), then a tolerance or numeric value that is not finite, then, for a gradient computed
    in a precision narrower than float64 (``narrow``), a tolerance that reaches the largest
    |numeric| entry of the array, or the entry's own size: at that precision the entry cannot be
    judged (a float16 gradient of a large network is within its rounding bound whatever it is,
    and so are 0 and twice the truth), unless ``analytic`` is outside the tolerance there.  In float64 a
    tolerance that large only meets a true gradient at the level of rounding itself, and a code
    value within it agrees with it as far as anything can."""
    out = no_reasons(np.shape(numeric)) if reasons is None else np.array(reasons, dtype=np.uint8)
    with np.errstate(invalid="ignore", over="ignore"):
        # a sum is finite only where every term is (NaN and inf carry through it); a sum that
        # overflows sends the entries to the exact test, which finds them finite
        if not (np.isfinite(np.sum(tolerance)) and np.isfinite(np.sum(numeric))):
            out[(out == 0) & ~(np.isfinite(tolerance) & np.isfinite(numeric))] = NOT_FINITE
        if not narrow:
            return out
        top = float(np.max(np.abs(numeric), initial=0.0, where=np.isfinite(numeric)))
        free = out == 0
        if top > 0:
            # at a narrow precision an entry whose tolerance reaches its own size cannot tell
            # the gradient from 0 or from twice itself: an agreement there is not decided (a
            # value outside the tolerance is still wrong, whatever the truth's size)
            vacuous = (tolerance >= top) | (tolerance >= np.abs(numeric))
            if analytic is not None:
                vacuous &= ~(np.abs(analytic - numeric) > tolerance)
            out[free & vacuous] = SWAMPED
    return out


def relative_error(analytic, numeric, compared=None, err=None):
    """max |analytic - numeric| / max |numeric| over the compared entries: k times the truth reads
    |k - 1|.  0 where both are zero; inf where only the numeric side is."""
    err = np.abs(analytic - numeric) if err is None else err
    ref = numeric
    if compared is not None:
        err, ref = err[compared], ref[compared]
    if err.size == 0:
        return 0.0
    top = float(np.max(err))
    if np.isnan(top):
        return float("inf")
    scale = max(float(np.max(ref)), -float(np.min(ref)))
    if scale == 0:
        return 0.0 if top == 0 else float("inf")
    return top / scale


#: entries per group when the worst entries are sought through group maxima
BLOCK = 64


def _top(rank, k):
    """Indices of the k largest entries of rank, largest first, equals in index order (which of
    several equal values at the k-th place are kept is arbitrary).  For a large array, through
    the maxima of BLOCK groups: the k largest entries lie in the k groups with the largest
    maxima, whatever the grouping (found the same way, so a huge array recurses).  Group j is
    every G-th entry from j (G = n // BLOCK), so the maxima are one elementwise pass down BLOCK
    contiguous rows (3x faster than rows of BLOCK).  The ranking is a stable sort, never a
    partition: numpy's argpartition slows down by 100x on many equal values (the exact zeros of a
    gradient that agrees).  The caller gives a rank without NaN."""
    n = rank.size
    if n > 2 * BLOCK * k:
        G = n // BLOCK
        whole = G * BLOCK  # the tail, shorter than BLOCK, is always a candidate
        chosen = _top(rank[:whole].reshape(BLOCK, G).max(axis=0), k)
        candidates = np.concatenate([(chosen + G * np.arange(BLOCK)[:, None]).ravel(),
                                     np.arange(whole, n)])
        candidates.sort()
        return candidates[np.argsort(np.negative(rank[candidates]), kind="stable")[:k]]
    return np.argsort(np.negative(rank), kind="stable")[:k]


def _worst(an, num, err, tol, skip, k=WORST):
    """The k worst entries by error over tolerance, failing ones first (0/0 and x/0 silenced by
    the caller)."""
    k = min(k, an.size)
    if k == 0:
        return ()
    rank = np.divide(err, tol).ravel()
    if skip is not None:
        rank[skip.ravel()] = -1.0
    if np.isnan(np.max(rank)):  # 0 / 0 is an exact zero; NaN in the gradient is the worst
        nan = np.isnan(rank)
        rank[nan] = np.where(np.isnan(err.ravel()[nan]), np.inf, 0.0)
    top = _top(rank, k)
    top = top[rank[top] >= 0]
    where = zip(*(w.tolist() for w in np.unravel_index(top, an.shape)))
    return tuple(Entry(tuple(index), a, n, t) for index, a, n, t in zip(
        where, an.flat[top].tolist(), num.flat[top].tolist(), tol.flat[top].tolist()))


def compare_arrays(params, analytic, numeric, tolerance, reasons):
    """One ``ParameterCheck`` per record in ``params``: every entry judged against its tolerance,
    or not decided for its reason (``reasons``: name -> uint8 codes, see ``undecided``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return tuple(_compare(p, np.asarray(analytic[p.name], dtype=float), numeric[p.name],
                              tolerance[p.name], reasons[p.name]) for p in params)


def _compare(p, an, num, tol, why):
    """The ``ParameterCheck`` of one array."""
    err = np.subtract(an, num)
    np.abs(err, out=err)
    skipped = int(np.count_nonzero(why))
    skip = (why != 0) if skipped else None
    ok = err <= tol                                               # NaN counts as a mismatch
    if skip is not None:
        ok |= skip
    mismatches = an.size - int(np.count_nonzero(ok))            # neither within nor skipped
    return ParameterCheck(
        name=p.name, connects=p.connects, shape=tuple(an.shape), passed=mismatches == 0,
        max_relative_error=relative_error(an, num, None if skip is None else ~skip, err),
        checked=an.size - skipped, mismatches=mismatches, skipped=skipped,
        worst=_worst(an, num, err, tol, skip), undecided=_counted(why) if skipped else {})


def _counted(why):
    """reason -> how many entries have it."""
    counts = np.bincount(why.ravel(), minlength=len(REASONS) + 1)
    return {REASONS[code]: int(n) for code, n in enumerate(counts) if code and n}


def compare_directional(params, analytic, directional, tolerance=None):
    """One ``ParameterCheck`` per array: <analytic, V> against the numeric d/dt C(theta + t V)."""
    checks = []
    for p in params:
        an = float(np.sum(np.asarray(analytic[p.name], dtype=float) * directional.directions[p.name]))
        num = directional.estimate[p.name]
        tol = directional.error_bound[p.name] + (tolerance or {}).get(p.name, 0.0)
        err = abs(an - num)
        ok = bool(err <= tol)
        if not np.isfinite(err):
            rel = float("inf")
        else:
            rel = err / abs(num) if num != 0 else (0.0 if err == 0 else float("inf"))
        checks.append(ParameterCheck(
            name=p.name, connects=p.connects, shape=tuple(np.shape(analytic[p.name])), passed=ok,
            max_relative_error=rel, checked=1, mismatches=int(not ok),
            worst=(Entry((), an, num, tol),)))
    return tuple(checks)
