"""A disagreement looked at again, at nearby points, before it is called wrong.

The error model bounds the rounding of a correct evaluation from the sizes of what it sums.  It
cannot see rounding that code amplifies: ``1 - s`` with s a saturated sigmoid keeps only a few
of s's bits, and everything computed from it, the numeric side's complex step included (Im
log(1 - s(x + ih)) / h divides by that rounded 1 - s), carries s's rounding magnified by
s / (1 - s).  Such an error is not a property of the gradient but of the point: it changes
from one point to the next, while a wrong gradient (a missing term, a wrong factor) is a smooth
function of the inputs and does not.

So an entry that disagrees is measured again at two nearby points, x + d and x - d, with every
input moved by d (a random sign per entry, SHIFT sqrt(u) times the entry's size, or its array's
where the entry is smaller; under finite differences at least REACH times the entry's step, so
that a staircase of amplified rounding seen through those steps is drawn anew), on both sides:
the numeric side and the code's gradient.  Over the move a smooth gradient changes by 2 d g'
(first difference) and d^2 g'' (second difference), on both sides of a correct check alike,
and so does a wrong gradient's error where it is a smooth function of the point: it cancels
from the differences of the two sides.  What is left is rounding, the numeric side's or the
code's: an entry whose disagreement is within the tolerance plus TIMES the larger departure
cannot be decided (``compare.NOISY``), never called wrong.  An error carried from point to point
still fails.

This is a measurement, not a bound: it is what the error model is extended by where it does not
reach, and it is only taken for entries that would otherwise fail.  They are looked at in rounds,
the worst first (FIRST entries, then twice as many each round, LIMIT in all): once a round finds
an entry whose disagreement stands, the verdict is earned and the rest are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .blackbox import _with_base
from .compare import NOISY
from .differentiate import scheme

__all__ = ["Nearby", "looked_again", "SHIFT", "REACH", "SPAN", "TIMES"]

#: the shift to the nearby points, in units of sqrt(u) of each entry's size
SHIFT = 2.0 ** -4
#: under finite differences, the shift is at least REACH times each entry's step (Richardson's
#: widest offset)
REACH = 4
#: and at most SPAN of its size (its array's where the entry is smaller)
SPAN = 2.0 ** -10
#: the disagreement an entry may have beyond its tolerance, in units of its measured noise
TIMES = 8
#: entries looked at in the first round, and in all
FIRST, LIMIT = 4, 64


@dataclass(frozen=True)
class Nearby:
    """What a second look needs: the numeric side's ``Target`` (``blackbox``), the code's
    gradient at a move (``gradient_at(move) -> {name: array}``), the numeric side's result
    (its method, the precision its evaluations round at, each entry's step), and a seed for the
    shift's signs."""

    target: object
    gradient_at: object
    side: object
    seed: int = 0

    @property
    def precision(self):
        return self.side.precision

    @property
    def exact(self):
        """Whether the numeric side is the complex step (moved by SHIFT sqrt(u) only)."""
        return scheme(self.side.method).complex

    def shifts(self):
        """The two moves to x + d and x - d (every entry of every input): SHIFT sqrt(u) of each
        entry's size, or, under finite differences, REACH times its step where that is larger,
        up to SPAN of its size (a staircase of rounding the code amplifies, seen through steps
        of 1e-4, is not re-drawn by a move of 1e-9; the gradient's own change over the move is
        the code's too, and cancels, see ``_noise``; a wrong gradient's error k g has a second
        difference of d^2 k g'', which TIMES of must stay below k g: SPAN keeps that for
        gradients that vary on a scale of 1/300 of the entry's size or slower)."""
        rng = np.random.default_rng([self.seed, 0x6E656172])
        size = SHIFT * np.sqrt(self.precision.eps)
        up, down = {}, {}
        for n, a in self.target.arrays.items():
            x = np.abs(np.asarray(a, dtype=float)).ravel()
            d = size * np.maximum(x, self.target.scale(n))
            if not scheme(self.side.method).complex and n in self.side.steps:
                d = np.maximum(d, np.minimum(REACH * self.side.steps[n],
                                             SPAN * np.maximum(x, self.target.scale(n))))
            d = d * rng.choice((-1.0, 1.0), x.size)
            index = np.arange(x.size)
            up[n], down[n] = (index, d), (index, -d)
        return up, down

    def numeric_at(self, shift, entries):
        """name -> the numeric side's estimates at the entries (name -> flat indices), at the
        base moved by ``shift``, each with the step it was taken with at the base."""
        s = scheme(self.side.method)
        offsets = [c for c in s.offsets if c != 0]
        plan, moves = [], []
        for n, index in entries.items():
            h = self.side.steps[n][index]
            plan.append((n, h))
            for k, step in zip(index, h):
                for c in offsets:
                    moves.append(_plus(shift, n, k, c * step))
        if any(c == 0 for c in s.offsets):
            moves.append(shift)
        got = self.target.at(moves)
        values = np.array([v for v, _ in got])
        f0 = values[-1] if any(c == 0 for c in s.offsets) else 0.0
        out, start = {}, 0
        for n, h in plan:
            block = values[start:start + h.size * len(offsets)].reshape(h.size, len(offsets))
            start += block.size
            cols = list(block.T if s.complex else np.real(block).T)
            est, _ = s.combine(_with_base(s.offsets, cols, f0), h, np.zeros(h.size))
            out[n] = np.real(est)
        return out, len(moves)


def _plus(shift, name, k, delta):
    """The shift with entry k of ``name`` moved by delta more (complex where delta is)."""
    move = dict(shift)
    index, d = shift[name]
    d = d.astype(np.result_type(d, delta))
    d[k] += delta
    move[name] = (index, d)
    return move


def looked_again(nearby, analytic, numeric, tolerance, reasons):
    """``reasons`` with NOISY where an entry that disagrees is within its tolerance plus TIMES
    its noise measured at the nearby points (see the module docstring), and the evaluations it
    took."""
    err = {n: np.abs(analytic[n] - numeric[n]).reshape(-1) for n in reasons}
    tol = {n: np.asarray(tolerance[n], dtype=float).reshape(-1) for n in reasons}
    failing = _worst_first(err, tol, reasons)
    if not failing:
        return reasons, 0
    up, down = nearby.shifts()
    grads = [nearby.gradient_at(up), nearby.gradient_at(down)]
    reasons = {n: r.copy() for n, r in reasons.items()}
    evaluations, start, width = 0, 0, FIRST
    while start < len(failing):
        entries = {}
        for _, n, k in failing[start:start + width]:
            entries.setdefault(n, []).append(k)
        start, width = start + width, 2 * width
        entries = {n: np.array(ks) for n, ks in entries.items()}
        (plus, e1), (minus, e2) = nearby.numeric_at(up, entries), nearby.numeric_at(down, entries)
        evaluations += e1 + e2
        stands = False
        for n, index in entries.items():
            code = [np.asarray(g[n], dtype=float).reshape(-1)[index] for g in grads]
            noise = _noise(numeric[n].reshape(-1)[index], (plus[n], minus[n]),
                           analytic[n].reshape(-1)[index], code, nearby.exact)
            within = err[n][index] <= tol[n][index] + TIMES * noise
            reasons[n].reshape(-1)[index[within]] = NOISY
            stands = stands or not within.all()
        if stands:
            break
    return reasons, evaluations


def _worst_first(err, tol, reasons):
    """(error over tolerance, name, flat index) of the decided entries that disagree, the worst
    first, LIMIT of them at most."""
    failing = [(float(err[n][k] / tol[n][k]) if tol[n][k] > 0 else np.inf, n, k)
               for n in reasons
               for k in np.flatnonzero((reasons[n].reshape(-1) == 0) & (err[n] > tol[n]))]
    failing.sort(key=lambda t: -t[0])
    return failing[:LIMIT]


def _noise(num0, num, an0, code, first=True):
    """An entry's rounding noise as measured at x + d and x - d: how far the numeric side's
    second difference departs from the code's, and, where ``first`` (a move too small for a
    wrong gradient's error to change over it: the complex step's), its first difference too.
    Over the move a smooth gradient changes by 2 d g' and d^2 g'', on both sides of a correct
    check alike, and so does an error carried from point to point (a missing term, a wrong
    factor: constant or smooth, it cancels from the differences); rounding, the numeric
    side's or the code's, does not.  Under finite differences the move reaches the steps, and an
    error k g changes by 2 d k g' over it: only its second difference, d^2 k g'', is small
    enough to be read as noise."""
    (plus, minus), (code_plus, code_minus) = num, code
    second = np.abs((plus + minus - 2 * num0) - (code_plus + code_minus - 2 * an0))
    if not first:
        return second
    return np.maximum(second, np.abs((plus - minus) - (code_plus - code_minus)))
