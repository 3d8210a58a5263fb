"""Which line of the user's file computed a quantity: read from the watch's trace of one call.

The watch (``checks.watch``) keeps, for the first call of the user's code, every float array a
statement of the user's files bound: where (file, line, the statement's text), under what name,
and a copy of its value.  The diagnosis knows what the wrong quantity is (the delta a named
mistake computes, the gradient array that failed) and asks here for the first statement whose
array equals it, in any layout the code may keep it in (columns, rows, one example's vector)
and at any reduction (summed, or already divided by the batch size), while equal to no value
the correct pass computes there: the line that made the quantity wrong.

Values are compared at the code's precision: within 1e-6 relative to the candidate's largest
entry for float64 code, 1e-3 for float32 (the same quantity computed in another order differs
by its rounding, never by that much on a candidate that is wrong).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Line", "first_line", "layouts", "returned_line"]


@dataclass(frozen=True)
class Line:
    """A statement of the user's file: where it is and its first line."""

    file: str
    line: int
    text: str

    def __str__(self):
        return f"{Path(self.file).name} line {self.line}: `{self.code}`"

    @property
    def code(self):
        """The statement's first line without its comment."""
        return _without_comment(self.text).strip()

    def to_dict(self):
        return {"file": self.file, "line": self.line, "text": self.code}


def _without_comment(text):
    import io
    import tokenize
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                return text[:tok.start[1]]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return text


def layouts(a):
    """The array as code may hold it: itself, transposed, and a one-column (or one-row) array
    as a vector."""
    a = np.asarray(a, dtype=float)
    out = [a]
    if a.ndim == 2:
        out.append(a.T)
        if 1 in a.shape:
            out.append(a.ravel())
    return out


def _equal(value, candidate, rtol):
    if value is None or value.shape != candidate.shape:
        return False
    top = float(np.max(np.abs(candidate), initial=0.0))
    if top == 0 or not np.all(np.isfinite(value)):
        return False
    return bool(np.all(np.abs(np.asarray(value, dtype=float) - candidate) <= rtol * top))


def _matches(value, arrays, rtol):
    return any(_equal(value, form, rtol) for a in arrays for form in layouts(a))


def first_line(trace, wanted, unwanted=(), rtol=1e-6):
    """The ``Line`` of the first record of ``trace`` whose value equals one of ``wanted`` (in
    any of its ``layouts``) and none of ``unwanted``; None when no record does."""
    if trace is None:
        return None
    for record in trace.records:
        if _matches(record.value, wanted, rtol) and not _matches(record.value, unwanted, rtol):
            return Line(record.file, record.line, record.text)
    return None


def returned_line(trace, name, shape, value=None, rtol=1e-6):
    """The ``Line`` that computed the array the code returned (or, for a step, updated) as
    parameter ``name``: the updated record of that name, else the one returned record of its
    shape (or transposed), else one whose value equals ``value``; None when it is not clear."""
    if trace is None:
        return None
    for n, k in trace.updated:
        if n == name:
            r = trace.records[k]
            return Line(r.file, r.line, r.text)
    shapes = {tuple(shape), tuple(shape)[::-1]}
    returned = [trace.records[k] for k in trace.returned if tuple(trace.records[k].shape) in shapes]
    if value is not None:
        same = [r for r in returned if _matches(r.value, [value], rtol)]
        returned = same or returned
    if len(returned) == 1:
        r = returned[0]
        return Line(r.file, r.line, r.text)
    return None
