"""Units at a kink, where sigma' jumps (a ReLU at z = 0) and the gradient is not defined.

A unit counts as at its kink when |z| is within the rounding of z itself: a correct backward pass
may then take either side (relu'(0) is 0 in one convention and 1 in another), so no verdict is
possible there.  The check drops the examples that put a unit there when others remain; when
every example does, it leaves out the entries whose gradient passes through such a unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rounding import FLOAT64

__all__ = ["Kinks", "find_kinks"]


@dataclass(frozen=True)
class Kinks:
    """Where the network's units sit at a kink, for a batch."""

    at_kink: list             # (n_l, m) bool per layer l = 1 ... L (index 0 None)
    examples: np.ndarray      # (m,) bool: the example puts some unit at a kink

    @property
    def some(self):
        """Some examples, not all: drop those and check the others."""
        return bool(self.examples.any() and not self.examples.all())

    @property
    def every(self):
        return bool(self.examples.all())

    def undefined(self, problem):
        """{name: bool mask} of the entries whose gradient passes through a unit at a kink."""
        net, f = problem.net, problem.forward
        W, _ = net.columns()
        dep = [None] * (net.L + 1)
        dep[net.L] = self.at_kink[net.L]
        for l in range(net.L - 1, 0, -1):
            dep[l] = self.at_kink[l] | ((np.abs(W[l + 1]).T @ dep[l + 1]) > 0)
        out = {}
        for l in range(1, net.L + 1):
            d = dep[l].astype(float)
            out[f"W{l}"] = net.from_columns((d @ (f.a[l - 1] != 0).T) > 0)
            if net.bias:
                out[f"b{l}"] = net.from_columns(d.any(axis=1, keepdims=True))
        return out


def find_kinks(problem, precision=FLOAT64, inputs_rounded=False):
    """The units of every kinked layer whose |z| is within the error bound of z, for a forward
    pass computed in ``precision`` in any order (``checks.rounding``), and within that of ours."""
    net, f, m = problem.net, problem.forward, problem.m
    if not any(sigma.kinked for sigma in net.sigmas):
        return Kinks([None] + [np.zeros(z.shape, dtype=bool) for z in f.z[1:]],
                     np.zeros(m, dtype=bool))
    E_z, _ = problem.forward_errors(precision, inputs_rounded)
    ours, _ = problem.forward_errors(FLOAT64)
    at_kink = [None]
    for l in range(1, net.L + 1):
        kink = np.zeros(f.z[l].shape, dtype=bool)
        if net.sigmas[l - 1].kinked:
            kink = np.abs(f.z[l]) <= 2 * (E_z[l] + ours[l])
        at_kink.append(kink)
    examples = np.zeros(m, dtype=bool)
    for kink in at_kink[1:]:
        examples |= kink.any(axis=0)
    return Kinks(at_kink, examples)
