"""From the arrays to the report: the comparison, and the diagnosis where something failed.

Shared by every check (``gradcheck`` on a network, ``check_layer`` and ``check_function`` on
anything): each brings its analytic and numeric arrays, the tolerance its error model gives each
entry, the entries it could not compare, its notes, and what the diagnosis may use.
"""

from __future__ import annotations

import numpy as np

from .compare import compare_arrays, undecided
from .diagnose import Evidence, diagnose
from .report import Report
from .rounding import FLOAT64

__all__ = ["verdict", "Undecidable", "precision_notes"]


class Undecidable(ValueError):
    """No entry of the check could be decided (a kink everywhere, values that are not finite,
    rounding that swamps the gradient): there is no verdict to give.  The command exits 2."""


def _nothing_decided(checks):
    counts = {}
    for p in checks:
        for reason, n in p.undecided.items():
            counts[reason] = counts.get(reason, 0) + n
    why = "; ".join(f"{n} where {reason}" for reason, n in counts.items())
    return f"nothing could be decided ({why}): no verdict is possible on this input"


def verdict(params, analytic, numeric, tolerance, reasons, *, notes, evidence, **facts):
    """The ``Report``: every entry of every array in ``params`` agrees with the numeric gradient
    within its tolerance, disagrees, or cannot be decided (``reasons``: the numeric side's codes,
    to which ``compare.undecided`` adds its own).  Passed: nothing disagrees, and something was
    decided.

    ``evidence``: what the diagnosis may use beyond the arrays (``Evidence``'s keywords: the
    network, per-example gradients, the catalogue, a layer's inputs); it is only built into a
    diagnosis when something failed.  ``facts``: the report's other fields (target, method,
    mode, evaluations, network, precision).
    """
    analytic = {p.name: np.asarray(analytic[p.name], dtype=float) for p in params}
    narrow = facts.get("precision", "float64") != "float64"
    reasons = {p.name: undecided(numeric[p.name], tolerance[p.name], reasons[p.name], narrow,
                                 analytic[p.name])
               for p in params}
    checks = compare_arrays(params, analytic, numeric, tolerance, reasons)
    diagnosis, findings = "", ()
    if not all(p.passed for p in checks):
        diagnosis, findings = _diagnosed(Evidence(params, analytic, numeric, tolerance,
                                                  {n: r != 0 for n, r in reasons.items()},
                                                  **evidence))
    if not any(p.checked for p in checks):
        raise Undecidable(_nothing_decided(checks))
    return Report(passed=all(p.passed for p in checks),
                  max_relative_error=max((p.max_relative_error for p in checks), default=0.0),
                  parameters=checks, diagnosis=diagnosis, findings=findings, notes=tuple(notes),
                  arrays={p.name: (analytic[p.name], numeric[p.name], tolerance[p.name])
                          for p in params},
                  left_out={n: r != 0 for n, r in reasons.items()}, **facts)


def _diagnosed(evidence):
    """The diagnosis, or, where a rule of ours breaks on these numbers, a line saying so: the
    verdict does not depend on the diagnosis and is never lost to it."""
    try:
        return diagnose(evidence)
    except Exception as e:  # noqa: BLE001 - a bug of ours in a rule; the verdict stands
        return (f"(the diagnosis failed on these numbers: {type(e).__name__}: {e}; please report "
                "this)"), ()


def precision_notes(params, numeric, tolerance, precision):
    """What a check at a precision narrower than float64 can still miss."""
    if precision is FLOAT64:
        return []
    hides = []
    blind = []
    for p in params:
        top = float(np.max(np.abs(numeric[p.name]), initial=0.0))
        tol = float(np.max(tolerance[p.name], initial=0.0))
        if top > 0:
            hides.append(tol / top)
            if tol >= top:
                blind.append(p.name)
    notes = [f"the gradient was computed in {precision} and judged at {precision}'s rounding "
             "(a worst-case bound): an error below about "
             f"{max(hides, default=0):.0e} of an array's largest entry could still hide"]
    if blind:
        notes.append(f"at {precision} the rounding bound reaches the gradient itself in "
                     f"{', '.join(blind)}: those arrays cannot be judged at this precision")
    return notes
