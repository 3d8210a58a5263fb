"""The comparison of an analytic gradient with the numeric one, entry by entry.

Per entry the test is |analytic - numeric| <= tolerance, the tolerance coming from the error
model (``checks.rounding``) and the numeric scheme, never from a fixed rtol.  The comparison works
on any arrays described by ``Parameter`` records, a network's W1, b1, ... or a layer's x, w, b.
"""

from __future__ import annotations

import numpy as np

from .report import Entry, ParameterCheck

__all__ = ["compare_arrays", "compare_directional", "relative_error", "WORST"]

#: how many of the worst entries a report keeps per array
WORST = 5


def relative_error(analytic, numeric, compared=None):
    """max |analytic - numeric| / max |numeric| over the compared entries: k times the truth reads
    |k - 1|.  0 where both are zero; inf where only the numeric side is."""
    err = np.abs(analytic - numeric)
    ref = np.abs(numeric)
    if compared is not None:
        err, ref = err[compared], ref[compared]
    if err.size == 0:
        return 0.0
    top = float(np.max(err))
    if np.isnan(top):
        return float("inf")
    scale = float(np.max(ref))
    if scale == 0:
        return 0.0 if top == 0 else float("inf")
    return top / scale


def _worst(an, num, tol, bad, skip, k=WORST):
    """The k worst entries, failing ones first (by error over tolerance), in O(n) by partition."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.abs(an - num) / np.where(tol > 0, tol, np.finfo(float).tiny)
    ratio = np.where(np.isnan(ratio), np.inf, ratio)
    rank = np.where(skip, -1.0, ratio).ravel()
    k = min(k, rank.size)
    if k == 0:
        return ()
    top = np.argpartition(-rank, k - 1)[:k] if rank.size > k else np.arange(rank.size)
    top = top[np.argsort(-rank[top], kind="stable")]
    return tuple(Entry(tuple(int(i) for i in np.unravel_index(j, an.shape)), float(an.flat[j]),
                       float(num.flat[j]), float(tol.flat[j])) for j in top if rank[j] >= 0)


def compare_arrays(params, analytic, numeric, tolerance, skipped):
    """One ``ParameterCheck`` per record in ``params``: every entry against its tolerance."""
    checks = []
    for p in params:
        an, num = np.asarray(analytic[p.name], dtype=float), numeric[p.name]
        tol, skip = tolerance[p.name], skipped[p.name]
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(an - num) <= tol) & ~skip              # NaN counts as a mismatch
        checks.append(ParameterCheck(
            name=p.name, connects=p.connects, shape=tuple(an.shape), passed=not bad.any(),
            max_relative_error=relative_error(an, num, ~skip),
            checked=int(an.size - skip.sum()), mismatches=int(bad.sum()), skipped=int(skip.sum()),
            worst=_worst(an, num, tol, bad, skip)))
    return tuple(checks)


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
