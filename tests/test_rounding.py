"""The error model: correct code never fails, whatever its summation order or precision, and
small planted errors still do."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.backprop import Network, backward
from gradcheck.checks import gradcheck
from gradcheck.checks.problem import Problem
from gradcheck.checks.rounding import PRECISIONS, gamma, gradient_error
from gradcheck.checks.strategies import networks_with_batches
from tests.helpers import never_called_wrong
from tests.styles import STYLES

SOME = max(20, settings.default.max_examples // 5)
#: outputs whose gradient is never zero, so a planted error always changes something
SMOOTH_OUTPUTS = ("sigmoid", "tanh", "identity", "softmax")

#: regimes of networks where rounding is hardest, as hypothesis strategies
REGIMES = {
    "ordinary": networks_with_batches(max_width=5, reductions=("sum", "batch_mean", "mean"),
                                      max_l2=0.5),
    "saturated": networks_with_batches(max_width=4, max_weight=12.0, max_input=3.0),
    "tiny": networks_with_batches(max_width=4, max_weight=1e-60),
    "huge_batch": networks_with_batches(max_layers=2, max_width=3, min_size=60, max_size=150),
    "width_1": networks_with_batches(max_layers=5, max_width=1),
    "deep": networks_with_batches(min_layers=6, max_layers=9, max_width=4, max_weight=1.5),
    "extreme_softmax": networks_with_batches(min_width=2, max_width=4, outputs=("softmax",),
                                             loss_names=("categorical_cross_entropy",),
                                             max_weight=40.0),
}


@settings(max_examples=SOME)
@given(st.sampled_from(sorted(STYLES)), st.sampled_from(sorted(REGIMES)), st.data())
def test_correct_code_passes_in_every_style_and_regime(style, regime, data):
    net, x, y = data.draw(REGIMES[regime])
    never_called_wrong(gradcheck, net, x, y, impl=STYLES[style](net))


@pytest.mark.parametrize("style", sorted(STYLES))
@given(problem=networks_with_batches(max_width=5, max_size=6, reductions=("sum", "batch_mean"),
                                     max_l2=0.1))
def test_each_style_passes_on_every_network(style, problem):
    net, x, y = problem
    never_called_wrong(gradcheck, net, x, y, impl=STYLES[style](net))


@settings(max_examples=SOME)
@given(networks_with_batches(max_width=5, min_size=2, generic=True, min_weight=0.25,
                             max_weight=1.5, hidden=("sigmoid", "tanh", "softplus"),
                             outputs=SMOOTH_OUTPUTS), st.data())
def test_a_planted_one_in_a_million_error_always_fails(problem, data):
    net, x, y = problem
    exact = net.named(*backward(net, x, y))
    name = data.draw(st.sampled_from(net.names))
    k = int(np.argmax(np.abs(exact[name])))

    def planted(weights, biases, x_, y_):
        grads = net.named(*backward(net, x_, y_))
        grads[name].flat[k] *= 1 + 1e-6
        return net.split(grads)

    report = gradcheck(net, x, y, impl=planted)
    assert not report.passed and report.failing == [name], str(report)


@settings(max_examples=SOME)
@given(networks_with_batches(max_width=5, min_size=2, generic=True, min_weight=0.25,
                             max_weight=1.5, hidden=("sigmoid", "tanh"),
                             outputs=SMOOTH_OUTPUTS), st.data())
def test_float32_code_with_a_real_bug_still_fails(problem, data):
    net, x, y = problem
    name = data.draw(st.sampled_from(net.names))
    right = STYLES["float32"](net)

    def ten_percent_off(weights, biases, x_, y_):
        grads = net.named(*right(weights, biases, x_, y_))
        grads[name] = grads[name] * np.float32(1.1)
        return net.split(grads)

    report = gradcheck(net, x, y, impl=ten_percent_off)
    assert report.precision == "float32"
    assert not report.passed and name in report.failing, str(report)


def test_float32_code2_fails_and_correct_float32_passes_with_a_note():
    net = Network([784, 30, 20, 10], "sigmoid", bias=False, seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (784, 10)), rng.uniform(0, 1, (10, 10))
    right = gradcheck(net, x, y, impl=STYLES["float32"](net))
    assert right.passed and right.precision == "float32"
    assert any("could still hide" in note for note in right.notes)

    def code2_float32(weights, biases, x_, y_):
        w32 = [w.astype(np.float32) for w in weights]
        a = [x_.astype(np.float32)]
        for w in w32:
            a.append(1 / (1 + np.exp(-(w @ a[-1]))))
        delta, grads = a[-1] - y_.astype(np.float32), [None] * 3
        for k in reversed(range(3)):
            tmp = delta * a[k + 1] * (1 - a[k + 1])
            grads[k] = tmp @ a[k].T
            delta = w32[k].T @ delta                  # code (2)
        return grads, None

    wrong = gradcheck(net, x, y, impl=code2_float32)
    assert not wrong.passed and wrong.precision == "float32" and "`code2`" in wrong.diagnosis


def test_gamma_is_the_any_order_bound_and_infinite_past_one():
    u = PRECISIONS["float64"].eps
    assert gamma(10, u) == pytest.approx(10 * u)
    assert gamma(2**53, u) == np.inf


def test_the_float32_bound_is_wider_than_the_float64_one_by_the_ratio_of_their_eps():
    net = Network([4, 5, 3], "tanh", seed=0)
    x = np.random.default_rng(0).standard_normal((4, 6))
    problem = Problem(net, x, np.zeros((3, 6)))
    e64 = gradient_error(problem, PRECISIONS["float64"])
    e32 = gradient_error(problem, PRECISIONS["float32"], inputs_rounded=True)
    ratio = PRECISIONS["float32"].eps / PRECISIONS["float64"].eps
    for name in net.names:
        assert np.all(e32[name] >= 0.9 * ratio * e64[name])
