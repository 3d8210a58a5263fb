"""The gradient under test, as every source gives it (``checks.sources``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .rounding import FLOAT64, Precision

__all__ = ["AnalyticGradient", "IMPL_KINDS"]

#: what the user's code does when called: return the gradient, or take a step with it
IMPL_KINDS = ("gradient", "step")


@dataclass(frozen=True)
class AnalyticGradient:
    """The gradient under test: arrays by name (float64, in the network's layout shapes), what
    produced it, the precision it was computed in, and any extra tolerance (the rounding of a
    step's recovery, (before - after) / lr)."""

    gradient: dict
    target: str
    precision: Precision = FLOAT64
    inputs_rounded: bool = False
    extra: dict = field(default_factory=dict)
    notes: tuple = ()
    #: for a step: its learning rate and whether the code took one example per call
    step: dict = None
    #: the watch's record of the first call (``checks.watch.Trace``): where each array the code
    #: bound was computed, for the diagnosis to name a line; None where none was kept
    trace: object = None
    #: the code was called once per example (the trace is then of the first example's call)
    per_example: bool = False
