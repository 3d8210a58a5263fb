"""A disagreement looked at again at nearby points (checks.nearby), and the terms a layer's
backward builds from dout and its other inputs (functions.products): correct code whose rounding
the sizes it sums do not bound (a saturated sigmoid under a naive cross-entropy, an LSTM at
input scale 1e3) is not called wrong, while an error carried from point to point still fails."""

import sys
from pathlib import Path

import numpy as np

from gradcheck import check_function

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness.layers import Case, run_case  # noqa: E402

# found by the layer harness (seed 11): x[1, 2] = 5.74, where 1 - s keeps 8 of s's bits
X = np.array([[-3.5460653132620896, -0.9017623799099671, 1.3019404198783955, 2.4017900968531856],
              [0.9854174868144038, -0.7112003814106502, 5.740437140026703, 1.2948780519848437]])
Y = np.array([[1.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]])


def naive_cross_entropy(P, wrong=0.0):
    """The textbook sigmoid cross-entropy through the probabilities, and its gradient, with
    ``wrong`` of relative error planted at x[1, 2]."""
    def f():
        x = P["x"]
        s = 1 / (1 + np.exp(-x))
        loss = -np.sum(Y * np.log(s) + (1 - Y) * np.log(1 - s)) / x.shape[0]
        g = (s - Y) / x.shape[0]
        g[1, 2] *= 1 + wrong
        return loss, {"x": g}
    return f


def test_a_complex_step_through_a_cancellation_is_not_called_wrong():
    P = {"x": X.copy()}
    report = check_function(naive_cross_entropy(P), P)
    assert report.passed and report.method == "complex_step"
    assert report.parameters[0].undecided == {
        "the rounding measured at nearby points reaches the difference (code that amplifies "
        "its rounding, a saturated unit: checks.nearby)": 1}
    assert np.array_equal(P["x"], X)


def test_an_error_carried_from_point_to_point_still_fails_there():
    for wrong in (1e-8, 1e-10):
        P = {"x": X.copy()}
        report = check_function(naive_cross_entropy(P, wrong), P)
        assert not report.passed, wrong
        assert report.parameters[0].worst[0].index == (1, 2)


def test_the_second_look_only_absolves_what_moves_from_point_to_point():
    P = {"x": X.copy()}
    report = check_function(naive_cross_entropy(P, 1e-8), P)
    assert not report.parameters[0].undecided and report.parameters[0].mismatches == 1


def test_a_saturated_lstm_at_input_scale_1e3_passes_and_its_bugs_still_fail():
    # 1 - tanh^2 of a gate at a pre-activation of about 18 keeps a few bits: its gradient of
    # 1e-13 is 20% off in correct code, at the size of the terms dout makes with x
    correct = run_case(Case("lstm_step", "correct", "scale_x=1e3", 674945963))
    assert correct.category == "ok", correct.why
    # (a 10% error in Wx is below that rounding here: the harness calls it BELOW_NOISE)
    wrong = run_case(Case("lstm_step", "no_h_to_c", "scale_x=1e3", 674945963))
    assert wrong.category == "ok", wrong.why
