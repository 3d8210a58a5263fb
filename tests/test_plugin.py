import numpy as np
import pytest

from gradcheck.backprop import Network, backward
from gradcheck.checks import PluginError, gradcheck
from gradcheck.checks.problem import Problem
from gradcheck.checks.sources import InProcess
from gradcheck.checks.usercode import load_plugin


def net_and_batch(layout="columns", bias=True):
    net = Network([3, 4, 2], "tanh", layout=layout, bias=bias, seed=2)
    rng = np.random.default_rng(2)
    x = net.from_columns(rng.standard_normal((3, 5)))
    y = net.from_columns(rng.uniform(0, 1, (2, 5)))
    return net, x, y


@pytest.mark.parametrize("layout", ["columns", "rows"])
def test_a_step_is_recovered_exactly_to_rounding_whatever_its_sign_convention(layout):
    net, x, y = net_and_batch(layout)
    exact = dict(zip(net.names, [g for pair in zip(*backward(net, x, y)) for g in pair]))

    def ascent_written_step(weights, biases, x, y, lr):   # y - a with +=, as iamtrask writes it
        nabla_w, nabla_b = backward(net, x, y)
        for w, g in zip(weights, nabla_w):
            w += lr * (-g)
        for b, g in zip(biases, nabla_b):
            b += lr * (-g)

    got = InProcess(ascent_written_step, "step").gradient(Problem(net, x, y))
    for name in net.names:
        assert np.all(np.abs(got.gradient[name] - exact[name])
                      <= got.extra[name] + 1e-17 * np.abs(exact[name]))
    assert "lr = 2^" in got.notes[0] and got.precision.name == "float64"


def test_a_step_may_return_new_arrays_instead_of_updating_in_place():
    net, x, y = net_and_batch()

    def functional_step(weights, biases, x, y, lr):
        nabla_w, nabla_b = backward(net, x, y)
        return ([w - lr * g for w, g in zip(weights, nabla_w)],
                [b - lr * g for b, g in zip(biases, nabla_b)])

    assert gradcheck(net, x, y, impl=functional_step, impl_kind="step").passed


def test_a_float32_gradient_is_judged_at_float32_and_says_so():
    net, x, y = net_and_batch()

    def single_precision(weights, biases, x, y):
        nabla_w, nabla_b = backward(net, x, y)
        return [g.astype(np.float32) for g in nabla_w], [g.astype(np.float32) for g in nabla_b]

    report = gradcheck(net, x, y, impl=single_precision)
    assert report.passed and report.precision == "float32"
    assert any("computed in float32" in note for note in report.notes)


def test_the_plugin_receives_copies_and_cannot_change_the_network():
    net, x, y = net_and_batch()
    before = net.theta.copy()

    def vandal(weights, biases, x, y):
        for w in weights:
            w[...] = 0
        return backward(net, x, y)

    gradcheck(net, x, y, impl=vandal)
    np.testing.assert_array_equal(net.theta, before)


def test_a_network_without_biases_accepts_nabla_b_none():
    net, x, y = net_and_batch(bias=False)
    assert gradcheck(net, x, y, impl=lambda w, b, x_, y_: backward(net, x_, y_)).passed


def test_missing_bias_gradients_are_refused_when_the_network_has_biases():
    net, x, y = net_and_batch()
    with pytest.raises(PluginError, match="nabla_b = None, but the network has biases"):
        gradcheck(net, x, y, impl=lambda w, b, x_, y_: (backward(net, x_, y_)[0], None))


def test_loading_names_the_function_and_the_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("def grad(w, b, x, y):\n    return w, b\n")
    fn = load_plugin(f"{path}:grad")
    assert fn.__gradcheck_name__.endswith("mine.py:grad")
