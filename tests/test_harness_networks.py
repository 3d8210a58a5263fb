"""A fast slice of the adversarial network harness (``python -m tests.harness networks``).

Hypothesis draws the slice's seed (fixed under ``HYPOTHESIS_PROFILE=ci``, which derandomizes);
from it every style (correct code written the ways users write it, and every planted mistake) is
crossed with every regime it can meet, a few cases each, built by
``tests.harness.networks.build_case`` and run through ``gradcheck``.  Correct code must pass (no
false alarm, no refusal unless the gradient is genuinely undefined there), wrong code must fail.
The assertion message is the table of what went wrong, with one replay command per kind.

A correct case that is refused only because its true gradient sits below the code's own rounding
(exit 2, "nothing could be decided", as the contract says) counts as honest, not as a refusal.
"""

import collections

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.harness import networks as H

#: cases per (style, regime) pair
PER_PAIR = 8


def _pairs():
    for style in H.STYLES:
        for regime in H.REGIMES:
            yield style, regime
    for wrong in H.WRONGS:
        for regime in H.WRONG_REGIMES:
            yield wrong, regime


@settings(max_examples=1, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_harness_slice_no_false_alarm_refusal_or_miss(seed):
    bad = collections.defaultdict(list)
    counts = collections.Counter()
    for style, regime in _pairs():
        for k in range(PER_PAIR):
            case = H.build_case(seed, k, style=style, tag=regime)
            with np.errstate(all="ignore"):
                outcome = H.run_case(case, timeout=20.0)
            counts[outcome.category] += 1
            if outcome.category in (H.FALSE_ALARM, H.REFUSAL, H.MISS, H.TIMEOUT,
                                    H.HARNESS_ERROR):
                bad[H.signature(case, outcome)].append(case)
    lines = [f"{sum(counts.values())} cases: " + ", ".join(
        f"{k} {v}" for k, v in sorted(counts.items()))]
    for sig, cases in sorted(bad.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"{len(cases):>4}  {sig}\n      python -m tests.harness replay "
                     f"{cases[0].key}")
    if bad:
        pytest.fail("\n".join(lines), pytrace=False)


@pytest.mark.parametrize("style", sorted(H.STYLES) + sorted(H.WRONGS))
def test_every_style_builds_and_runs(style):
    """The harness itself: every style draws a case and gradcheck gives it some outcome."""
    case = H.build_case(0, 0, style=style)
    outcome = H.run_case(case, timeout=20.0)
    assert outcome.category != H.HARNESS_ERROR, outcome.error
