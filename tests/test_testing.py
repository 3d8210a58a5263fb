"""The assert helpers: a wrong gradient fails a test with the diagnosis first, and pytest shows
the user's line, not the helpers'."""

import sys
from pathlib import Path

import numpy as np
import pytest

import gradcheck
from gradcheck.backprop import Network, backward
from gradcheck.checks import (assert_function_gradients, assert_gradients_match,
                              assert_layer_gradients, assert_passed)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
import layers as L  # noqa: E402


def my_backprop(weights, biases, x, y):
    """A user's hand-written backprop for a [3, 4, 2] sigmoid net, columns layout, with biases."""
    W1, W2 = weights
    b1, b2 = biases
    a1 = 1 / (1 + np.exp(-(W1 @ x + b1)))
    a2 = 1 / (1 + np.exp(-(W2 @ a1 + b2)))
    delta2 = (a2 - y) * a2 * (1 - a2)
    delta1 = (W2.T @ delta2) * a1 * (1 - a1)
    return [delta1 @ x.T, delta2 @ a1.T], [delta1.sum(axis=1, keepdims=True),
                                           delta2.sum(axis=1, keepdims=True)]


def my_broken_backprop(weights, biases, x, y):
    nabla_w, nabla_b = my_backprop(weights, biases, x, y)
    return nabla_w, [nb / x.shape[1] for nb in nabla_b]   # a mean slipped into the biases


def test_a_user_checks_their_backprop_in_their_own_test_suite():
    net = Network([3, 4, 2], "sigmoid", seed=7)
    report = assert_gradients_match(my_backprop, net)
    assert report.passed


def test_the_assertion_message_carries_the_report_and_the_diagnosis():
    net = Network([3, 4, 2], "sigmoid", seed=7)
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(my_broken_backprop, net)
    message = str(info.value)
    assert "b1: bias of layer 1" in message and "FAIL" in message
    assert "b1, b2 are each exactly 1/m = 1/10 times the true gradient" in message


def test_a_saved_config_can_be_named_instead_of_a_network(request):
    config = request.config.rootpath / "examples" / "seed.toml"

    def seeds_gradient(weights, biases, x, y):
        from gradcheck.backprop import load_config
        net, _, _ = load_config(config)
        return backward(net, x, y)

    assert assert_gradients_match(seeds_gradient, config).passed


def test_anything_else_is_refused():
    with pytest.raises(TypeError, match="config path or a backprop.Network"):
        assert_gradients_match(my_backprop, 42)


def test_the_message_is_the_verdict_then_the_diagnosis_then_the_table():
    net = Network([3, 4, 2], "sigmoid", seed=7)
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(my_broken_backprop, net)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("gradcheck FAILED: ")
    diagnosis = next(k for k, line in enumerate(lines) if line.startswith("  diagnosis: "))
    table = next(k for k, line in enumerate(lines) if line.startswith("  b1: bias of layer 1"))
    assert diagnosis <= 3 and diagnosis < table


def test_pytest_hides_the_helpers_own_frames():
    net = Network([3, 4, 2], "sigmoid", seed=7)
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(my_broken_backprop, net)
    shown = info.traceback.filter(info)
    assert [entry.frame.code.name for entry in shown] == [
        "test_pytest_hides_the_helpers_own_frames"]


def test_a_layer_is_asserted_right_or_wrong_with_its_diagnosis():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    assert assert_layer_gradients(L.affine_forward, L.affine_backward, x, w, b).passed
    with pytest.raises(AssertionError, match="gradcheck FAILED") as info:
        assert_layer_gradients(L.affine_forward, L.affine_backward_bug, x, w, b)
    assert "diagnosis: " in str(info.value) and "b: gradient of input b" in str(info.value)


def test_a_function_is_asserted_right_or_wrong_with_its_diagnosis():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert assert_function_gradients(lambda: ((W ** 2).sum(), {"W": 2 * W}), {"W": W}).passed
    with pytest.raises(AssertionError) as info:
        assert_function_gradients(lambda: (W ** 2).sum(), {"W": W}, grad=lambda: {"W": 4 * W})
    assert "W is exactly 2 times the true gradient" in " ".join(str(info.value).split())


def test_a_check_where_nothing_could_be_decided_fails_the_assert_saying_so():
    W = np.zeros(3)  # every entry at the kink of max(W, 0)
    with pytest.raises(AssertionError) as info:
        assert_function_gradients(lambda: (np.maximum(W, 0).sum(), {"W": (W > 0) * 1.0}),
                                  {"W": W}, method="richardson")
    message = " ".join(str(info.value).split())
    assert message.startswith("gradcheck UNDECIDED: ") and "nothing could be decided" in message
    assert "kink" in message


def test_a_report_where_nothing_was_decided_fails_assert_passed_saying_so():
    from gradcheck.checks.report import ParameterCheck, Report
    p = ParameterCheck("W", "input W", (3,), True, 0.0, 0, 0, skipped=3, undecided={"a kink": 3})
    with pytest.raises(AssertionError) as info:
        assert_passed(Report(False, 0.0, (p,), "<lambda>", "richardson", "full", 18, "W (3,)"))
    message = " ".join(str(info.value).split())
    assert message.startswith("gradcheck UNDECIDED: ")
    assert "nothing could be decided" in message.split("numeric side")[0]


def test_a_report_in_hand_is_asserted_with_assert_passed():
    net = Network([3, 4, 2], "sigmoid", seed=7)
    x, y = np.ones((3, 2)), np.zeros((2, 2))
    assert assert_passed(gradcheck.gradcheck(net, x, y)).passed
    with pytest.raises(AssertionError, match="^gradcheck FAILED: variant 'code2'"):
        assert_passed(gradcheck.gradcheck(net, x, y, variant="code2"))


def test_bare_assert_of_a_report_fails_on_a_wrong_gradient():
    net = Network([3, 4, 2], "sigmoid", seed=7)
    x, y = np.ones((3, 2)), np.zeros((2, 2))
    with pytest.raises(AssertionError):
        assert gradcheck.gradcheck(net, x, y, variant="code2")


def test_the_helpers_are_exported_from_both_import_roots():
    import gradcheck.checks as checks
    for name in ("assert_gradients_match", "assert_layer_gradients", "assert_function_gradients",
                 "assert_passed"):
        assert getattr(gradcheck, name) is getattr(checks, name)
        assert name in gradcheck.__all__ and name in checks.__all__
