import numpy as np
import pytest

from gradcheck.backprop import VARIANTS, Network, backward
from gradcheck.checks import gradcheck

WRONG = [v for v in VARIANTS if v != "correct"]
DIAGNOSES = {
    "code2": ["first wrong layer in backward order is layer 2", "BP2", "`code2`"],
    "prime_of_z": ["`prime_of_z`"],
    "missing_transpose": ["`missing_transpose`"],
    "bias_one_example": ["b1, b2, b3 are each the first example's gradient alone",
                         "`bias_one_example`"],
    "sign_flip": ["sign flipped", "`sign_flip`"],
    "factor_two": ["exactly 2 times", "`factor_two`"],
    "mean": ["1/m = 1/6", "`mean`"],
    "overwrite": ["Every array is the last example's gradient alone", "`overwrite`"],
    "wrong_layer_prime": ["`wrong_layer_prime`"],
    "extra_output_prime": ["BP1", "`extra_output_prime`"],
    "update_first": ["`update_first`"],
}


def problem(layers=(5, 4, 4, 4), activations="sigmoid", loss="half_squared_error", m=6, seed=1,
            **kw):
    net = Network(list(layers), activations, loss, seed=seed, **kw)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((layers[0], m))
    y = rng.uniform(0, 1, (layers[-1], m))
    return net, x, y


def test_the_correct_pass_passes():
    report = gradcheck(*problem())
    assert report.passed and report.max_relative_error < 1e-14 and report.diagnosis == ""


@pytest.mark.parametrize("variant", WRONG)
def test_every_wrong_variant_fails_with_its_own_diagnosis(variant):
    report = gradcheck(*problem(), variant=variant)
    assert not report.passed
    for phrase in DIAGNOSES[variant]:
        assert phrase in report.diagnosis, report.diagnosis


def test_code2_fails_with_the_last_layer_right_and_the_earlier_ones_wrong():
    report = gradcheck(*problem(), variant="code2")
    assert [p.name for p in report.parameters if p.passed] == ["W3", "b3"]


def test_extra_output_prime_is_caught_on_a_softmax_classifier():
    net, x, _ = problem((4, 6, 3), ["tanh", "softmax"], "categorical_cross_entropy")
    y = np.eye(3)[:, [0, 1, 2, 0, 1, 2]]
    assert gradcheck(net, x, y).passed
    assert not gradcheck(net, x, y, variant="extra_output_prime").passed


@pytest.mark.parametrize("relative", [1e-8, 1e-10])
def test_a_single_entry_off_by_a_tiny_relative_amount_is_caught(relative):
    net, x, y = problem((784, 30, 10), "sigmoid", m=10, bias=False)

    def almost(weights, biases, x, y):
        nabla_w, _ = backward(net, x, y)
        k = np.unravel_index(np.argmax(np.abs(nabla_w[0])), nabla_w[0].shape)
        nabla_w[0][k] *= 1 + relative
        return nabla_w, None

    report = gradcheck(net, x, y, impl=almost)
    assert not report.passed
    assert report.parameter("W1").mismatches == 1 and report.parameter("W2").passed


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_user_functions_of_both_kinds_are_checked(mode):
    net, x, y = problem()

    def gradient(weights, biases, x, y):
        return backward(net, x, y)

    def step(weights, biases, x, y, lr):
        nabla_w, nabla_b = backward(net, x, y)
        for w, g in zip(weights, nabla_w):
            w += lr * -g
        for b, g in zip(biases, nabla_b):
            b -= lr * g

    assert gradcheck(net, x, y, impl=gradient, mode=mode).passed
    assert gradcheck(net, x, y, impl=step, impl_kind="step", mode=mode).passed


def test_a_step_that_averages_over_the_batch_is_diagnosed_as_a_mean():
    net, x, y = problem()

    def nielsen_step(weights, biases, x, y, eta):
        nabla_w, nabla_b = backward(net, x, y)
        m = x.shape[1]
        for w, g in zip(weights, nabla_w):
            w -= eta / m * g
        for b, g in zip(biases, nabla_b):
            b -= eta / m * g

    report = gradcheck(net, x, y, impl=nielsen_step, impl_kind="step")
    assert not report.passed and "1/m = 1/6" in report.diagnosis


@pytest.mark.parametrize("case", [
    dict(layers=(3, 2), activations="sigmoid"),                          # width-1 paths, one layer
    dict(layers=(2, 1, 1, 1), activations="tanh", m=1),                  # width 1, batch 1
    dict(layers=(3, 4, 2), activations=["sigmoid", "sigmoid"], scale=40),  # saturated sigmoids
    dict(layers=(3, 8, 8, 8, 8, 2), activations="tanh"),                 # a deep tanh net
    dict(layers=(3, 5, 4), activations=["relu", "softmax"], loss="categorical_cross_entropy",
         scale=300),                                                     # extreme softmax logits
    dict(layers=(6, 7, 2), activations=["relu", "identity"], loss="squared_error", scale=1e3),
])
def test_no_false_alarm_on_hard_but_correct_networks(case):
    scale = case.pop("scale", 1)
    m = case.pop("m", 5)
    net, x, y = problem(case["layers"], case["activations"], case.get("loss", "half_squared_error"),
                        m=m)
    if net.loss.name == "categorical_cross_entropy":
        y = np.eye(net.layers[-1])[:, np.arange(m) % net.layers[-1]]
    report = gradcheck(net, x * scale, y)
    assert report.passed, str(report)


def test_a_unit_exactly_at_a_relu_kink_is_left_out_not_failed():
    net = Network([2, 2, 1], ["relu", "identity"], "squared_error", bias=False,
                  weights=[np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([[1.0, 1.0]])])
    x = np.array([[1.0, 2.0], [1.0, 0.5]])  # example 0 puts unit 0 at z = 0 exactly

    def other_convention(weights, biases, x, y):  # relu'(0) = 1
        W1, W2 = weights
        z1 = W1 @ x
        a1 = np.maximum(z1, 0)
        delta2 = 2 * (W2 @ a1 - y)
        delta1 = (W2.T @ delta2) * (z1 >= 0)
        return [delta1 @ x.T, delta2 @ a1.T], None

    report = gradcheck(net, x, np.array([[0.0, 1.0]]), impl=other_convention)
    assert report.passed and "kink" in report.notes[0]


@pytest.mark.parametrize("kwargs, message", [
    (dict(variant="code3"), "did you mean 'code2'"),
    (dict(method="complex"), "`method` must be one of"),
    (dict(mode="partial"), "`mode` must be one of full, directional"),
    (dict(impl_kind="update", impl=lambda *a: None), "`impl_kind` must be"),
    (dict(impl=42), "`impl` must be a function"),
])
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        gradcheck(*problem(), **kwargs)


def test_a_batch_of_the_wrong_shape_is_refused():
    net, x, y = problem()
    with pytest.raises(ValueError, match=r"`x` must have shape \(5, m\)"):
        gradcheck(net, x.T, y)


def test_the_report_renders_as_text_and_json():
    report = gradcheck(*problem(), variant="code2")
    text = str(report)
    assert "W1: layer 0 -> layer 1" in text and "FAIL" in text and "diagnosis:" in text
    d = report.to_dict()
    assert d["passed"] is False and isinstance(d["max_relative_error"], float)
    assert {"name", "passed", "max_relative_error"} <= set(d["parameters"][0])


@pytest.mark.parametrize("method", ["complex_step", "central", "richardson", "forward"])
def test_the_directional_mode_passes_code1_and_fails_code2_under_every_scheme(method):
    net, x, y = problem()
    assert gradcheck(net, x, y, mode="directional", method=method).passed
    assert not gradcheck(net, x, y, variant="code2", mode="directional", method=method).passed


def test_a_finite_difference_that_misjudges_its_truncation_leaves_the_entry_undecided_not_wrong():
    # found by hypothesis: central differences' truncation estimate from D(2h) - D(h) nearly
    # cancels on this saturated softmax, and the exact complex step agrees with the code
    net = Network([1, 2, 1, 2], ["identity", "relu", "softmax"], "categorical_cross_entropy",
                  bias=False, weights=[np.array([[-1.0], [0.0]]), np.array([[-2.0, 0.0]]),
                                       np.array([[0.0], [2.0]])])
    report = gradcheck(net, np.array([[2.0]]), np.array([[0.0], [1.0]]), method="central")
    assert report.passed and any("complex step agrees" in r for r in report.undecided)
    wrong = gradcheck(net, np.array([[2.0]]), np.array([[0.0], [1.0]]), method="central",
                      variant="factor_two")
    assert not wrong.passed
