"""What a check will cost, from the sizes alone: its memory (to refuse before allocating) and its
arithmetic (to warn before a check that would run for minutes).

Memory.  A check holds about ``PER_PARAMETER`` float64 arrays of the parameters' size at once (the
gradient under test, the numeric gradient, the error bound, the tolerance and the comparison's
temporaries), ``PER_UNIT`` arrays of the units' size per example (z, a, their error bounds, the
delta bounds and each layer's D), and a fixed half MiB; the perturbation chunks
(``checks.numeric.CHUNK_BYTES``) stay within that.  The constants are fitted to the peak that
tracemalloc measures, which ``tests/test_budget.py`` holds within a factor 2 of this estimate.

Time.  The complex step perturbs each unit of layer l and carries the tangent through the layers
above: a rank-one step into layer l+1, then one matrix product per layer, n_l n_{k-1} n_k m
multiply-adds each.  Finite differences do that for every entry, once per offset.
"""

from __future__ import annotations

from .differentiate import scheme

__all__ = ["check_bytes", "check_flops", "refuse_if_too_big", "MEMORY_LIMIT_BYTES",
           "SLOW_SECONDS", "FLOPS_PER_SECOND"]

#: checks whose estimated working memory exceeds this are refused before anything is allocated
MEMORY_LIMIT_BYTES = 8 * 2**30
PER_PARAMETER = 9
PER_UNIT = 10
FIXED_BYTES = 2**19
#: multiply-adds per second a chunked check sustains on one core (measured on the CI machine)
FLOPS_PER_SECOND = 1.0e9
#: a check estimated to take longer than this is announced before it starts
SLOW_SECONDS = 30.0


def n_parameters(layers):
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(layers[:-1], layers[1:]))


def check_bytes(layers, m):
    """Estimated peak memory of a full check of a network with these layer sizes and batch m."""
    units = sum(layers)
    return 8 * (PER_PARAMETER * n_parameters(layers) + PER_UNIT * units * m) + FIXED_BYTES


def check_flops(layers, m, method="complex_step", smooth=False):
    """Estimated multiply-adds of the numeric side of a full check.  ``smooth``: every activation
    is smooth, so a scheme with a structural form (central) takes only its two steps per entry."""
    L = len(layers) - 1
    above = [0] * (L + 1)  # cost of carrying one perturbation from layer l to the output
    for l in range(L - 1, -1, -1):
        above[l] = layers[l + 1] * m + sum(layers[k] * layers[k - 1] * m for k in range(l + 2, L + 1))
    s = scheme(method)
    if s.complex:
        return sum(layers[l] * above[l] for l in range(1, L + 1)) + layers[L] ** 2 * m
    entries = sum(layers[l] * (layers[l - 1] + 1) * (above[l] + layers[l] * m)
                  for l in range(1, L + 1))
    steps = len(s.structural_offsets) if smooth and s.structural_offsets else s.evaluations
    return steps * entries


def refuse_if_too_big(layers, m, limit=MEMORY_LIMIT_BYTES):
    """Raise ValueError naming the estimate when a check would need more than ``limit`` bytes."""
    need = check_bytes(layers, m)
    if need > limit:
        raise ValueError(f"layers {list(layers)} with batch {m}: a check needs about "
                         f"{need / 2**30:.1f} GiB of memory; this machine's limit is "
                         f"{limit / 2**30:.0f} GiB")
    return need


def seconds(layers, m, method="complex_step", smooth=False):
    """A rough estimate of the check's duration on one core."""
    return check_flops(layers, m, method, smooth) / FLOPS_PER_SECOND
