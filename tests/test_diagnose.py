"""Findings fitted from the numbers: each wrong gradient, built from a correct one by one change,
is named by array, kind and constant, on several networks and layouts, under every method."""

import numpy as np
import pytest

from gradcheck.backprop import Network, backward
from gradcheck.checks import check_function, gradcheck
from gradcheck.checks.diagnose import name_constant

NETWORKS = {
    "sigmoid [4, 3, 3, 2]": dict(layers=[4, 3, 3, 2], activations="sigmoid"),
    "tanh/softmax [3, 5, 3]": dict(layers=[3, 5, 3], activations=["tanh", "softmax"],
                                   loss="categorical_cross_entropy"),
}
M = 5


def problem(name, layout, **extra):
    spec = dict(NETWORKS[name])
    net = Network(spec.pop("layers"), spec.pop("activations"), spec.pop("loss", "half_squared_error"),
                  layout=layout, seed=11, **extra)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((net.layers[0], M))
    y = net.loss.draw_targets(rng, net.layers[-1], M)
    return net, net.from_columns(x), net.from_columns(y)


def per_example(net, x, y, k):
    cols_x, cols_y = net.to_columns(x), net.to_columns(y)
    one = net.copy()
    one.l2 = 0.0
    g = net.named(*backward(one, net.from_columns(cols_x[:, k:k + 1]),
                            net.from_columns(cols_y[:, k:k + 1])))
    return g


#: change -> (what it does to the correct gradients, the array, kind, constant)
def changes(net, x, y):
    W2 = net.parameters()["W2"]
    return {
        "sign": (lambda g: {**g, "W2": -g["W2"]}, "W2", "factor", "-1"),
        "double": (lambda g: {**g, "W1": 2 * g["W1"]}, "W1", "factor", "2"),
        "half": (lambda g: {**g, "b1": g["b1"] / 2}, "b1", "factor", "1/2"),
        "times_m": (lambda g: {**g, "W2": M * g["W2"]}, "W2", "factor", f"m = {M}"),
        "over_m": (lambda g: {**g, "b2": g["b2"] / M}, "b2", "factor", f"1/m = 1/{M}"),
        "n_L": (lambda g: {**g, "W1": net.layers[-1] * g["W1"]}, "W1", "factor",
                f"n_L = {net.layers[-1]}"),
        "zero": (lambda g: {**g, "W1": 0 * g["W1"]}, "W1", "zero", "0"),
        "first_only": (lambda g: {**g, "W1": per_example(net, x, y, 0)["W1"]}, "W1",
                       "one_example", "0"),
        "last_only": (lambda g: {**g, "b1": per_example(net, x, y, M - 1)["b1"]}, "b1",
                      "one_example", str(M - 1)),
        "one_entry": (lambda g: {**g, "W1": _bump(g["W1"], (0, 1))}, "W1", "entry", None),
        "one_row": (lambda g: {**g, "W1": _bump_row(g["W1"], 1)}, "W1", "row", None),
        "rows_flipped": (lambda g: {**g, "W1": _flip_rows(g["W1"])}, "W1", "rows_flipped", None),
        "extra_decay": (lambda g: {**g, "W2": g["W2"] + 0.3 * W2}, "W2", "l2", "0.3"),
    }


def _bump(a, index):
    a = a.copy()
    a[index] += 0.5 * np.max(np.abs(a)) + 0.1
    return a


def _bump_row(a, row):
    a = a.copy()
    a[row] = a[row] * 1.5 + 0.1
    return a


def _flip_rows(a):
    a = a.copy()
    a[0] = -a[0]
    return a


CHANGES = ["sign", "double", "half", "times_m", "over_m", "n_L", "zero", "first_only",
           "last_only", "one_entry", "one_row", "rows_flipped", "extra_decay"]


@pytest.mark.parametrize("method", ["complex_step", "central", "richardson"])
@pytest.mark.parametrize("layout", ["columns", "rows"])
@pytest.mark.parametrize("network", list(NETWORKS))
@pytest.mark.parametrize("change", CHANGES)
def test_each_wrong_gradient_is_named_by_array_kind_and_constant(change, network, layout, method):
    net, x, y = problem(network, layout)
    modify, array, kind, constant = changes(net, x, y)[change]  # indices in the layout's arrays

    def wrong(weights, biases, x_, y_):
        return net.split(modify(net.named(*backward(net, x_, y_))))

    report = gradcheck(net, x, y, impl=wrong, method=method)
    assert not report.passed and report.failing == [array], str(report)
    found = [f for f in report.findings if f.array == array]
    assert found and found[0].kind == kind, report.diagnosis
    if constant is not None:  # n_L = 2 or 3 is also the plain constant 2 or 3
        assert found[0].constant in (constant, constant.split(" = ")[-1]), report.diagnosis
    assert "code2" not in report.diagnosis and "code (2)" not in report.diagnosis


@pytest.mark.parametrize("reduction, k, key", [("sum", 1 / M, "batch_mean"),
                                               ("batch_mean", M, "sum"),
                                               ("sum", 1 / (M * 2), "mean")])
def test_a_whole_gradient_off_by_a_cost_convention_names_the_config_key(reduction, k, key):
    net, x, y = problem("sigmoid [4, 3, 3, 2]", "columns", reduction=reduction)

    def scaled(weights, biases, x_, y_):
        nabla_w, nabla_b = backward(net, x_, y_)
        return [k * g for g in nabla_w], [k * g for g in nabla_b]

    report = gradcheck(net, x, y, impl=scaled)
    assert f'reduction = "{key}"' in report.diagnosis, report.diagnosis


def test_a_forgotten_l2_term_names_the_l2_key():
    net, x, y = problem("sigmoid [4, 3, 3, 2]", "columns", l2=0.05)
    plain = net.copy()
    plain.l2 = 0.0
    report = gradcheck(net, x, y, impl=lambda w, b, x_, y_: backward(plain, x_, y_))
    assert report.failing == ["W1", "W2", "W3"]
    assert "misses the L2 term 2 l2 W exactly" in report.diagnosis and "set l2 = 0" in report.diagnosis


def test_a_transposed_square_gradient_is_named():
    net = Network([3, 3, 3, 2], "tanh", seed=4)
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))

    def transposed(weights, biases, x_, y_):
        g = net.named(*backward(net, x_, y_))
        g["W2"] = g["W2"].T.copy()
        return net.split(g)

    report = gradcheck(net, x, y, impl=transposed)
    assert report.failing == ["W2"] and "W2 is the true gradient transposed" in report.diagnosis


def test_code2_is_named_only_where_the_catalogue_matches():
    net, x, y = problem("sigmoid [4, 3, 3, 2]", "columns")
    assert "`code2`" in gradcheck(net, x, y, variant="code2").diagnosis
    for variant in ("prime_of_z", "extra_output_prime", "bias_one_example"):
        assert "code2" not in gradcheck(net, x, y, variant=variant).diagnosis


def test_the_relative_error_is_what_a_person_means():
    net, x, y = problem("sigmoid [4, 3, 3, 2]", "columns")
    for k, expected in ((2.0, 1.0), (10.0, 9.0), (-1.0, 2.0), (0.5, 0.5)):
        def times(weights, biases, x_, y_, k=k):
            nabla_w, nabla_b = backward(net, x_, y_)
            return [k * g for g in nabla_w], [k * g for g in nabla_b]
        report = gradcheck(net, x, y, impl=times)
        assert report.max_relative_error == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("k, m, n, text", [(2.0, 5, 3, "2"), (0.2, 5, 3, "1/m = 1/5"),
                                           (1 / 15, 5, 3, "1/(m n_L) = 1/15"), (3.0, 5, 3, "3"),
                                           (0.37, 5, 3, None)])
def test_constants_are_named_when_they_mean_something(k, m, n, text):
    assert name_constant(k, m, n) == text


@pytest.mark.parametrize("per_example", [False, True])
def test_step_code_that_updates_before_use_is_named(per_example):
    net = Network([3, 4, 4, 2], "sigmoid", seed=5)
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((3, 4)), rng.uniform(0, 1, (2, 4))

    def slipped_step(weights, biases, x_, y_, lr):
        a = [x_]
        for W, b in zip(weights, biases):
            a.append(1 / (1 + np.exp(-(W @ a[-1] + b))))
        delta = (a[-1] - y_) * a[-1] * (1 - a[-1])
        for k in reversed(range(len(weights))):
            weights[k] -= lr * delta @ a[k].T
            biases[k] -= lr * delta.sum(axis=1, keepdims=True)
            delta = (weights[k].T @ delta) * a[k] * (1 - a[k])  # uses the updated weights

    def one_at_a_time(weights, biases, x_vector, y_vector, lr):
        slipped_step(weights, biases, x_vector, y_vector, lr)

    impl = one_at_a_time if per_example else slipped_step
    spec = {"call": "example", "vectors": "column"} if per_example else None
    report = gradcheck(net, x, y, impl=impl, impl_spec=spec)
    assert not report.passed and report.parameter("W3").passed
    assert "updates each layer's weights before it computes the delta below" in report.diagnosis


def test_float32_code_whose_gradient_is_all_l2_term_is_judged_without_a_crash():
    """Found by the dev profile on a fresh clone: x = 0 leaves only the L2 term 2 l2 W, whose
    data part is zero; the diagnosis of the first (float64) judgment divided by it."""
    from tests.styles import STYLES
    net = Network([1, 3, 1], ["tanh", "sigmoid"], "half_squared_error", bias=False,
                  l2=0.08873546564282382, weights=[np.ones((3, 1)), np.ones((1, 3))])
    x = y = np.zeros((1, 1))
    assert gradcheck(net, x, y, impl=STYLES["float32_as_float64"](net)).passed


def test_a_denormal_l2_does_not_break_the_diagnosis():
    """Found by the ci profile on a fresh clone: l2 = 5e-324 made the L2 rule divide to inf."""
    from tests.styles import STYLES
    net = Network([1, 1, 1, 1, 1], "sigmoid", "half_squared_error", bias=False, l2=5e-324,
                  weights=[np.zeros((1, 1))] * 3 + [np.ones((1, 1))])
    x = y = np.zeros((1, 1))
    assert gradcheck(net, x, y, impl=STYLES["float32_as_float64"](net)).passed


def test_a_functions_data_term_scaled_with_its_l2_term_right_is_named():
    # CS231n's two-layer loss with dscores not divided by N, checked with check_function: every
    # array's data term is N times the truth while 2 reg W is right (found by a newcomer, who
    # was told "W1 has the wrong sign")
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    P = {"W1": rng.standard_normal((4, 6)) * 0.5, "W2": rng.standard_normal((6, 3)) * 0.5}
    reg = 0.1

    def loss():
        W1, W2 = P["W1"], P["W2"]
        h = np.maximum(0, X @ W1)
        s = h @ W2
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        value = -np.log(p[np.arange(5), y]).mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        d = p.copy()
        d[np.arange(5), y] -= 1                        # not divided by N = 5
        dh = d @ W2.T * (h > 0)
        return value, {"W1": X.T @ dh + 2 * reg * W1, "W2": h.T @ d + 2 * reg * W2}

    report = check_function(loss, P)
    assert not report.passed and "data term is exactly 5 times" in report.diagnosis
