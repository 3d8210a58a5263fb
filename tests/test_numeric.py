import numpy as np
import pytest

from gradcheck.backprop import LOSSES, Network, backward, load_config
from tests import helpers
from gradcheck.checks.differentiate import SCHEMES as METHODS
from gradcheck.checks.numeric import (directional, numeric_gradient, output_derivatives,
                                      output_derivatives_per_unit, third_derivatives)
from gradcheck.checks.problem import Problem


def problem(layout="columns", seed=0):
    net = Network([4, 5, 3, 2], ["tanh", "sigmoid", "softmax"], "categorical_cross_entropy",
                  layout=layout, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 6))
    y = np.eye(2)[:, rng.integers(0, 2, 6)]
    return net, net.from_columns(x), net.from_columns(y)


def entrywise_complex_step(net, x, y, h=1e-20):
    """The textbook complex step, one full forward pass per parameter: the reference."""
    theta = net.theta.astype(complex)
    out = np.empty(net.theta.size)
    for k in range(theta.size):
        theta[k] += 1j * h
        views, offset = [], 0
        for name in net.names:
            size = int(np.prod(net.shapes[name]))
            views.append(theta[offset:offset + size].reshape(net.shapes[name]))
            offset += size
        weights = views[0::2] if net.bias else views
        biases = views[1::2] if net.bias else None
        out[k] = net.cost(x, y, weights, biases).imag / h
        theta[k] -= 1j * h
    return out


def flat(net, grads):
    return helpers.flat(grads, net.names)


@pytest.mark.parametrize("layout", ["columns", "rows"])
def test_the_layered_complex_step_equals_the_entrywise_complex_step(layout):
    net, x, y = problem(layout)
    fast = flat(net, numeric_gradient(Problem(net, x, y)).gradient)
    np.testing.assert_allclose(fast, entrywise_complex_step(net, x, y), rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_agrees_with_the_analytic_gradient_within_its_bound(method):
    net, x, y = problem()
    nabla_w, nabla_b = backward(net, x, y)
    analytic = np.concatenate([g.ravel() for pair in zip(nabla_w, nabla_b) for g in pair])
    ng = numeric_gradient(Problem(net, x, y), method)
    bound = flat(net, ng.error_bound)
    assert np.all(np.abs(flat(net, ng.gradient) - analytic) <= bound + 1e-300)


def test_the_complex_step_is_within_1e_13_normwise_of_the_exact_gradient():
    # the exact gradient of a smooth net: the entrywise complex step in extended care
    net, x, y = problem()
    exact = entrywise_complex_step(net, x, y)
    got = flat(net, numeric_gradient(Problem(net, x, y)).gradient)
    assert np.linalg.norm(got - exact) <= 1e-13 * np.linalg.norm(exact)


def test_the_numeric_side_never_calls_a_backward_pass(monkeypatch):
    import backprop.variants as variants
    monkeypatch.setattr(variants.BackwardPass, "__call__",
                        lambda *a: (_ for _ in ()).throw(AssertionError("backward pass called")))
    net, x, y = problem()
    for method in METHODS:
        numeric_gradient(Problem(net, x, y), method)
    p = Problem(net, x, y)
    directional(p, p.rounding())


def test_finite_differences_skip_entries_whose_steps_cross_a_relu_kink():
    net = Network([1, 1, 1], ["relu", "identity"], "squared_error", bias=False,
                  weights=[np.array([[1e-9]]), np.array([[2.0]])])
    x = np.array([[1.0]])  # z^1 = 1e-9: a central step of 6e-6 in W1 crosses the kink
    ng = numeric_gradient(Problem(net, x, np.array([[1.0]])), "central")
    assert ng.reasons["W1"].all() and not ng.reasons["W2"].any()
    assert numeric_gradient(Problem(net, x, np.array([[1.0]]))).reasons["W1"].sum() == 0


def test_the_directional_derivative_is_the_gradient_along_the_direction():
    net, x, y = problem()
    nabla_w, nabla_b = backward(net, x, y)
    analytic = {n: g for n, g in zip(net.names, [g for p in zip(nabla_w, nabla_b) for g in p])}
    p = Problem(net, x, y)
    d = directional(p, p.rounding(), seed=3)
    for name in net.names:
        assert abs(np.sum(analytic[name] * d.directions[name]) - d.estimate[name]) <= d.error_bound[name]
    assert d.evaluations == len(net.names)


def test_the_seeds_mnist_net_is_checked_with_one_evaluation_per_unit(request):
    net, x, y = load_config(request.config.rootpath / "examples" / "seed.toml")
    assert numeric_gradient(Problem(net, x, y)).evaluations == 30 + 20 + 10


def test_the_complex_step_is_within_1e_13_normwise_of_a_long_double_reference():
    """The reference: the correct backward pass run in 80-bit long double (eps 1e-19)."""
    if np.finfo(np.longdouble).eps > 1e-18:
        pytest.skip("long double is no wider than float64 on this platform")
    for layers, acts, loss in [([784, 30, 10], "sigmoid", "half_squared_error"),
                               ([6, 8, 8, 3], ["tanh", "softplus", "softmax"],
                                "categorical_cross_entropy")]:
        net = Network(layers, acts, loss, seed=3)
        rng = np.random.default_rng(3)
        x = rng.standard_normal((layers[0], 10))
        y = np.eye(layers[-1])[:, rng.integers(0, layers[-1], 10)]
        got = flat(net, numeric_gradient(Problem(net, x, y)).gradient)
        wide = net.copy()
        wide.weights = [w.astype(np.longdouble) for w in net.weights]
        wide.biases = [b.astype(np.longdouble) for b in net.biases]
        nabla_w, nabla_b = backward(wide, x.astype(np.longdouble), y.astype(np.longdouble))
        exact = np.concatenate([g.ravel() for pair in zip(nabla_w, nabla_b) for g in pair])
        error = float(np.linalg.norm((got - exact).astype(float)) / np.linalg.norm(exact.astype(float)))
        assert error <= 1e-13, error


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("output", ["sigmoid", "tanh", "identity", "softplus"])
def test_every_output_unit_stepped_at_once_equals_one_step_per_unit(loss, output):
    if LOSSES[loss].outputs and output not in LOSSES[loss].outputs:
        pytest.skip(f"{loss} does not take a {output} output")
    net = Network([3, 4, 5], ["tanh", output], loss, seed=2)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 7))
    y = LOSSES[loss].draw_targets(rng, 5, 7)
    f = net.forward(x)
    together, one_by_one = output_derivatives(net, f, y), output_derivatives_per_unit(net, f, y)
    assert together.shape == one_by_one.shape == (5, 7)
    np.testing.assert_allclose(together, one_by_one, rtol=1e-14, atol=1e-300)


def test_one_third_derivative_per_unit_bounds_every_entry_of_its_layer():
    # a single tanh layer under the 1/2 squared error: g(s) = r (tanh(z + s) - y)^2 / 2 has
    # g''' = r [3 t' t'' + (t - y) t'''] with t = tanh(z)
    net = Network([3, 4], "tanh", "half_squared_error", seed=3)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    G = third_derivatives(Problem(net, x, y), 1)
    t = np.tanh(net.forward(x).z[1])
    t1, t2, t3 = 1 - t ** 2, -2 * t * (1 - t ** 2), (1 - t ** 2) * (6 * t ** 2 - 2)
    exact = np.abs(3 * t1 * t2 + (t - y) * t3) * net.scale(5)
    assert np.all(G >= exact * (1 - 1e-6))
    assert np.all(G <= exact + 1e-4 * np.max(exact))


def test_central_differences_take_two_steps_per_entry_on_smooth_networks_four_on_kinked():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4)), rng.uniform(0, 1, (2, 4))
    smooth = Network([3, 4, 2], "tanh", seed=0)
    kinked = Network([3, 4, 2], ["relu", "sigmoid"], seed=0)
    per_entry = smooth.theta.size
    units = sum(smooth.layers[1:])
    assert numeric_gradient(Problem(smooth, x, y), "central").evaluations == 2 * per_entry + 4 * units
    assert numeric_gradient(Problem(kinked, x, y), "central").evaluations == 4 * per_entry
    # and the two error models agree on what the gradient is, each within its own bound
    for net in (smooth, kinked):
        exact = numeric_gradient(Problem(net, x, y), "complex_step")
        central = numeric_gradient(Problem(net, x, y), "central")
        for name in net.names:
            assert np.all(np.abs(central.gradient[name] - exact.gradient[name])
                          <= central.error_bound[name])
