"""A fast slice of the adversarial layer harness (``tests/harness/layers.py``), drawn from fixed
seeds: correct hand-written layers and losses are never called wrong (nor refused), and planted
bugs are rarely missed and never blamed on an array they did not touch.

Correct code: never a false alarm nor a refusal, over 600 drawn cases.  Planted bugs: never
misnamed, never refused, and missed within a stated budget over 400 cases from a fixed seed (the
misses that remain are listed in the README's "What it cannot see").  A failure prints the case;
replay it with ``tests.harness.layers.run_case(Case(...))``.  Shrinking is off: a failing check
is reported as drawn, in the time of one example.
"""

import numpy as np

from tests.harness.layers import SPECS, Case, _count_arrays, regimes_for, run_case, variants

#: every spec but the naive convolution (0.5 to 2 s a check under Richardson)
FAST = tuple(sorted(n for n in SPECS if n != "conv_naive"))


def _explain(o):
    said = str(o.report) if o.report is not None else repr(o.error)
    return (f"{o.category}: {o.why}\nreproduce: from tests.harness.layers import *; "
            f"o = run_case({o.case!r}); print(o.category, o.why); print(o.report)\n{said}")


#: correct cases of the slice; none may be called wrong or refused
CORRECT = 600


def test_correct_layers_are_never_called_wrong():
    outcomes = [run_case(case, cap=20) for case in _drawn(CORRECT, seed=2027, correct=True)]
    # UNDEFINED: the regime has no gradient (zero variance, eps = 0); anything goes there;
    # UNDECIDABLE: float32 code whose rounding swamps every entry: exit 2, as the contract says
    bad = [o for o in outcomes if o.category not in ("ok", "UNDEFINED", "UNDECIDABLE")]
    assert not bad, f"{len(bad)} of {CORRECT}:\n\n" + "\n\n".join(_explain(o) for o in bad[:3])


def _drawn(count, seed, correct=False):
    """``count`` cases (correct code, or planted bugs) drawn from a fixed seed: every spec but
    the slow naive convolution, a variant, a regime it can meet, a seed."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        name = FAST[rng.integers(len(FAST))]
        spec = SPECS[name]
        bugs = variants(spec)[1:]
        variant = "correct" if correct else bugs[rng.integers(len(bugs))]
        regimes = regimes_for(spec, variant)
        case = Case(name, variant, regimes[rng.integers(len(regimes))], int(rng.integers(2 ** 31)))
        if variant == spec.generic_bug:
            k = int(rng.integers(_count_arrays(Case(name, "correct", case.regime, case.seed))))
            case = Case(name, f"{variant}:{k}", case.regime, case.seed)
        out.append(case)
    return out


#: planted-bug cases of the rate test, and the misses it allows: measured 1 to 2% (a 1e-6 error
#: in one entry of a saturated sigmoid or LSTM, where the numeric side's bound is looser than its
#: actual error; float32 code at scales 1e2-1e3), kept as a budget so that a rise fails
BUGS, MISS_BUDGET = 400, 10


def test_planted_bugs_are_rarely_missed_and_never_misnamed():
    outcomes = [run_case(case, cap=20) for case in _drawn(BUGS, seed=2026)]
    # LEFT_OUT: every wrong entry sits at a kink within the steps, which the contract leaves out;
    # DISCLOSED: float32 code, and the report says an error that size may hide at its rounding;
    # BELOW_NOISE: the bug is smaller than the correct code's own rounding there;
    # PARTIAL: named only some of the wrong arrays (none it should not)
    never = [o for o in outcomes if o.category in ("MISNAMED", "TIMEOUT", "REFUSAL")]
    assert not never, "\n\n".join(_explain(o) for o in never[:3])
    missed = [o for o in outcomes if o.category == "MISS"]
    table = "\n".join(f"  {o.case!r}: {o.why}" for o in missed)
    assert len(missed) <= MISS_BUDGET, f"{len(missed)} of {BUGS} planted bugs passed:\n{table}"
