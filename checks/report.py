"""Result objects of a gradient check: per entry, per parameter array, and for the whole check."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

__all__ = ["Entry", "ParameterCheck", "Report", "finite_or_none"]


def finite_or_none(value):
    """A float for JSON, or None where it is not finite (JSON has no inf or NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Entry:
    """One gradient entry: where it is, both values, the tolerance it was held to, the verdict."""

    index: tuple
    analytic: float
    numeric: float
    tolerance: float

    @property
    def error(self):
        return abs(self.analytic - self.numeric)

    @property
    def passed(self):
        return bool(self.error <= self.tolerance)

    def to_dict(self):
        return {"index": list(self.index), "analytic": finite_or_none(self.analytic),
                "numeric": finite_or_none(self.numeric), "tolerance": finite_or_none(self.tolerance),
                "passed": self.passed}


@dataclass(frozen=True)
class ParameterCheck:
    """The check of one parameter array (``W2``, ``b1``, or an input ``dx`` of a layer).

    ``max_relative_error`` is max |analytic - numeric| / max |numeric| over the array's compared
    entries: an array returned exactly k times the true gradient reads |k - 1|.
    """

    name: str
    connects: str             # "layer 1 -> layer 2"
    shape: tuple
    passed: bool
    max_relative_error: float
    checked: int              # entries compared
    mismatches: int           # entries outside their tolerance
    skipped: int = 0          # entries not decided, for any reason
    worst: tuple = ()         # the worst entries, worst first
    undecided: dict = field(default_factory=dict)  # why entries were not decided: reason -> count

    def to_dict(self):
        return {
            "name": self.name, "connects": self.connects, "shape": list(self.shape),
            "passed": self.passed, "max_relative_error": finite_or_none(self.max_relative_error),
            "checked": self.checked, "mismatches": self.mismatches, "skipped": self.skipped,
            "undecided": dict(self.undecided), "worst": [e.to_dict() for e in self.worst],
        }


@dataclass(frozen=True)
class Report:
    """The outcome of a check.

    ``passed``: every entry that could be decided agrees with the numeric gradient within its
    tolerance, which comes from the error model (``checks.rounding``), not from a fixed
    threshold, and some entry could be.  ``bool(report)`` is ``passed``, so ``assert
    gradcheck(...)`` fails on a wrong gradient.  ``max_relative_error``: the largest of the
    arrays' (see ``ParameterCheck``).  ``diagnosis``: what is wrong, in plain words, when it failed.
    ``precision``: the precision the gradient was judged at (float64, or float32 where the code
    computed in it).
    """

    passed: bool
    max_relative_error: float
    parameters: tuple
    target: str               # "variant 'code2'" or "examples/train.py:train (step)"
    method: str
    mode: str                 # "full" or "directional"
    evaluations: int
    network: str
    diagnosis: str = ""
    notes: tuple = field(default=())
    precision: str = "float64"
    findings: tuple = field(default=())
    #: name -> (analytic, numeric, tolerance) arrays, for --plot; not in to_dict()
    arrays: dict = field(default=None, repr=False, compare=False)
    #: name -> boolean array, True where the entry was not decided (for tools); not in to_dict()
    left_out: dict = field(default=None, repr=False, compare=False)

    def __repr__(self):
        """Short, with what a failed ``assert report`` needs first: the verdict, the failing
        arrays and the diagnosis (pytest shows this repr and cuts it in the middle when long)."""
        text = f"Report(passed={self.passed}, failing={self.failing!r}"
        if self.diagnosis:
            text += f", diagnosis={self.diagnosis!r}"
        if not self.decided:
            text += ", decided=False"
        elif self.undecided:
            text += f", undecided={sum(self.undecided.values())}"
        return (text + f", max_relative_error={self.max_relative_error:.3g}, "
                f"target={self.target!r}, method={self.method!r}, mode={self.mode!r})")

    def __bool__(self):
        return bool(self.passed)

    @property
    def decided(self):
        """Whether any entry could be decided (agree or disagree)."""
        return any(p.checked for p in self.parameters)

    @property
    def undecided(self):
        """reason -> how many entries could not be decided for it, over every array."""
        out = {}
        for p in self.parameters:
            for reason, n in p.undecided.items():
                out[reason] = out.get(reason, 0) + n
        return out

    def parameter(self, name):
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def failing(self):
        return [p.name for p in self.parameters if not p.passed]

    def to_dict(self):
        return {
            "passed": self.passed,
            "max_relative_error": finite_or_none(self.max_relative_error),
            "parameters": [p.to_dict() for p in self.parameters],
            "decided": self.decided,
            "undecided": self.undecided,
            "target": self.target,
            "method": self.method,
            "mode": self.mode,
            "precision": self.precision,
            "evaluations": self.evaluations,
            "network": self.network,
            "diagnosis": self.diagnosis,
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
        }

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def __str__(self):
        from .formats import render_text
        return render_text(self)

    def plot(self, path=None):
        """The report as a matplotlib ``Figure`` (needs matplotlib; see ``checks.plot``): drawn
        with the current backend (a notebook shows it; a script calls ``plt.show()``), or, with
        ``path``, saved there and kept out of pyplot.  Returns the Figure either way."""
        from .plot import plot_report
        return plot_report(self, path)

    def _repr_html_(self):
        from .formats import render_html
        return render_html(self)
