"""Result objects of a gradient check: per parameter array and for the whole network."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

__all__ = ["Entry", "ParameterCheck", "Report"]


@dataclass(frozen=True)
class Entry:
    """One gradient entry: where it is, both values, and the tolerance it was held to."""

    index: tuple
    analytic: float
    numeric: float
    tolerance: float

    @property
    def error(self):
        return abs(self.analytic - self.numeric)


@dataclass(frozen=True)
class ParameterCheck:
    """The check of one parameter array (``W2``, ``b1``, ...)."""

    name: str
    connects: str             # "layer 1 -> layer 2"
    shape: tuple
    passed: bool
    max_relative_error: float
    checked: int              # entries compared
    mismatches: int           # entries outside their tolerance
    skipped: int = 0          # entries not compared (at or across a ReLU kink)
    worst: tuple = ()         # the worst entries, worst first

    def to_dict(self):
        return {
            "name": self.name, "connects": self.connects, "shape": list(self.shape),
            "passed": self.passed, "max_relative_error": _finite(self.max_relative_error),
            "checked": self.checked, "mismatches": self.mismatches, "skipped": self.skipped,
            "worst": [{"index": list(e.index), "analytic": _finite(e.analytic),
                       "numeric": _finite(e.numeric), "tolerance": _finite(e.tolerance)}
                      for e in self.worst],
        }


def _finite(value):
    """JSON has no inf or NaN: they are written as strings."""
    value = float(value)
    return value if math.isfinite(value) else str(value)


@dataclass(frozen=True)
class Report:
    """The outcome of ``checks.gradcheck``.

    ``passed``: every compared entry is within its tolerance.  ``max_relative_error``: the largest
    over the arrays of max |analytic - numeric| / max(|numeric|, F) per entry, where F is the size of
    the terms the entry is summed from (so an entry that is zero by cancellation is not divided by
    zero).  ``diagnosis``: what is wrong, in plain words, when it failed.
    """

    passed: bool
    max_relative_error: float
    parameters: tuple
    checked: str              # "variant 'code2'" or "examples/train.py:train (step)"
    method: str
    mode: str                 # "full" or "directional"
    evaluations: int
    network: str
    diagnosis: str = ""
    notes: tuple = field(default=())

    def __repr__(self):
        failing = [p.name for p in self.parameters if not p.passed]
        return (f"Report(passed={self.passed}, max_relative_error={self.max_relative_error:.3g}, "
                f"checked={self.checked!r}, failing={failing!r}, method={self.method!r}, "
                f"mode={self.mode!r})")

    def parameter(self, name):
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def to_dict(self):
        return {
            "passed": self.passed,
            "max_relative_error": _finite(self.max_relative_error),
            "parameters": [p.to_dict() for p in self.parameters],
            "checked": self.checked,
            "method": self.method,
            "mode": self.mode,
            "evaluations": self.evaluations,
            "network": self.network,
            "diagnosis": self.diagnosis,
            "notes": list(self.notes),
        }

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self):
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [f"gradcheck {verdict}: {self.checked} on {self.network}",
                 f"  numeric side: {self.method.replace('_', ' ')}, {self.mode} check, "
                 f"{self.evaluations} evaluations"]
        width = max(len(f"{p.name}: {p.connects}") for p in self.parameters)
        for p in self.parameters:
            label = f"{p.name}: {p.connects}".ljust(width)
            status = "ok  " if p.passed else "FAIL"
            extra = f"  {p.mismatches} of {p.checked} entries off" if p.mismatches else ""
            if p.skipped:
                extra += f"  ({p.skipped} not compared: at a ReLU kink)"
            lines.append(f"  {label}  {status}  max relative error {p.max_relative_error:.2e}{extra}")
        failing = [p for p in self.parameters if not p.passed]
        if failing:
            lines.append("  worst entries (analytic vs numeric):")
            for p in failing:
                for e in p.worst[:3]:
                    where = f"{p.name}[{', '.join(map(str, e.index))}]" if e.index else p.name
                    lines.append(f"    {where:<14} {e.analytic: .10e}  {e.numeric: .10e}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        if self.diagnosis:
            lines.append(f"  diagnosis: {self.diagnosis}")
        return "\n".join(lines)
