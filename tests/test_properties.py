"""Property-based verification: the claims hold for every drawn network, not one example.

The core properties run ``settings.default.max_examples`` examples: 1000 under the ``ci``
profile (derandomized), fewer under ``dev``.
"""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gradcheck.backprop import VARIANTS, Network, backward, load_config, save_config
from gradcheck.checks import derivative, gradcheck
from gradcheck.checks.problem import Problem
from gradcheck.checks.strategies import batches, networks, networks_with_batches
from tests.helpers import flat, never_called_wrong

CORE = settings.default.max_examples
SOME = max(20, CORE // 5)
SMOOTH = ("sigmoid", "tanh", "softplus")


@given(networks_with_batches())
def test_the_correct_pass_is_never_called_wrong_on_any_network(problem):
    never_called_wrong(gradcheck, *problem)


@given(networks_with_batches(hidden=SMOOTH, outputs=SMOOTH + ("identity", "softmax"),
                             generic=True, min_weight=0.25, max_weight=1.5))
def test_on_networks_in_general_position_every_entry_is_decided_and_the_correct_pass_passes(
        problem):
    report = gradcheck(*problem)
    assert report.passed and not report.undecided, str(report)


@settings(max_examples=SOME)
@given(networks_with_batches(max_width=4), st.sampled_from(["richardson", "central"]))
def test_the_correct_pass_is_never_called_wrong_under_the_finite_difference_schemes(problem,
                                                                                     method):
    never_called_wrong(gradcheck, *problem, method=method)


def unit_slope_above_layer_one(net, x):
    """BP2 loses nothing in code (2) when sigma'(z^k) = 1 for every unit and example, k >= 2."""
    f = net.forward(x)
    return all(net.sigmas[k - 1].elementwise and np.all(net.sigmas[k - 1].prime(f.z[k]) == 1)
               for k in range(2, net.L + 1))


@given(networks_with_batches(hidden=("identity", "relu", "leaky_relu", "tanh"),
                             outputs=("identity", "relu", "leaky_relu")))
def test_code2_passes_whenever_every_layer_above_the_first_has_unit_slope(problem):
    net, x, y = problem
    assume(unit_slope_above_layer_one(net, x))
    never_called_wrong(gradcheck, net, x, y, variant="code2")


@given(networks_with_batches(hidden=SMOOTH + ("identity",), outputs=SMOOTH + ("identity", "softmax"),
                             generic=True, min_weight=0.25, max_weight=1.5))
def test_code2_fails_exactly_when_a_layer_above_the_first_is_nonlinear(problem):
    # networks in general position (continuous random weights): no exact cancellations
    net, x, y = problem
    nonlinear_above = any(s.name != "identity" for s in net.sigmas[1:])
    report = gradcheck(net, x, y, variant="code2")
    assert report.passed == (not nonlinear_above), str(report)
    if nonlinear_above:
        assert report.parameters[-1].passed  # the output layer's own gradient is still right
        assert "`code2`" in report.diagnosis


@settings(max_examples=SOME)
@given(st.sampled_from([v for v in VARIANTS if v != "correct"]), st.data())
def test_every_catalogue_variant_fails_with_its_own_diagnosis_where_its_bug_applies(variant, data):
    # square hidden layers, smooth nonlinearities, biases, several examples: every bug bites
    width = data.draw(st.integers(2, 4))
    L = data.draw(st.integers(2, 4))
    net = data.draw(networks(min_layers=L, max_layers=L, min_width=width, max_width=width,
                             hidden=SMOOTH, outputs=("sigmoid",), bias=True, generic=True,
                             min_weight=0.25, max_weight=1.5, loss_names=("half_squared_error",)))
    x, y = data.draw(batches(net, min_size=2, max_size=4, generic=True, min_input=0.25))
    report = gradcheck(net, x, y, variant=variant)
    assert not report.passed
    assert f"`{variant}`" in report.diagnosis, report.diagnosis


@settings(max_examples=SOME)
@given(networks_with_batches(min_size=2, max_size=5))
def test_the_batched_gradient_is_the_sum_of_per_example_gradients(problem):
    net, x, y = problem
    whole = flat(backward(net, x, y))
    cols_x, cols_y = net.to_columns(x), net.to_columns(y)
    parts = sum(flat(backward(net, net.from_columns(cols_x[:, [k]]), net.from_columns(cols_y[:, [k]])))
                for k in range(cols_x.shape[1]))
    np.testing.assert_allclose(whole, parts, rtol=1e-10, atol=1e-12 * (1 + np.abs(parts).max()))


@settings(max_examples=SOME)
@given(networks_with_batches(layout_names=("columns",)))
def test_the_rows_layout_gives_the_transposed_gradient_of_the_same_network(problem):
    cols, x, y = problem
    rows = Network(cols.layers, [s.name for s in cols.sigmas], cols.loss.name, bias=cols.bias,
                   layout="rows", weights=[w.T for w in cols.weights],
                   biases=[b.T for b in cols.biases] if cols.bias else None)
    # equal to rounding: BLAS sums transposed memory in another order, so an entry that is zero
    # by cancellation may keep a different 1e-17 residue in each layout, at the size of the
    # terms it sums (the error model's bound for any order), not of the gradient: a gradient
    # that is all residue (weights 0, a uniform softmax) differs by 80% between the layouts
    with np.errstate(all="ignore"):
        terms = max(float(np.max(np.nan_to_num(b), initial=0.0))
                    for b in Problem(cols, x, y).rounding().values())
    for variant in ("correct", "code2"):
        # code (2) divides by a (1 - a): on a saturated output it overflows, in both layouts alike
        with np.errstate(all="ignore") if variant == "code2" else np.errstate(under="ignore"):
            gc, gr = backward(cols, x, y, variant), backward(rows, x.T, y.T, variant)
        a = flat(gc)
        b = flat(([g.T for g in gr[0]], [g.T for g in gr[1]] if gr[1] else None))
        scale = np.abs(a[np.isfinite(a)]).max(initial=0)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14 * scale + 2 * terms + 1e-300,
                                   equal_nan=True)


@settings(max_examples=SOME)
@given(networks_with_batches())
def test_save_then_load_round_trips_any_network_exactly(tmp_path_factory, problem):
    net, x, y = problem
    path = save_config(tmp_path_factory.mktemp("cfg") / "net.toml", net, x, y)
    again, x2, y2 = load_config(path)
    assert repr(again) == repr(net)
    np.testing.assert_array_equal(again.theta, net.theta)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)


@settings(max_examples=SOME)
@given(st.floats(-4, 4), st.floats(0.2, 3))
def test_complex_step_and_richardson_agree_within_their_bounds(x, k):
    f = lambda t: np.tanh(k * t) + np.exp(-t * t)
    cs, rich = derivative(f, np.array([x])), derivative(f, np.array([x]), "richardson")
    assert abs(cs.estimate[0] - rich.estimate[0]) <= cs.error_bound[0] + rich.error_bound[0]
    exact = k / np.cosh(k * x) ** 2 - 2 * x * np.exp(-x * x)
    assert abs(cs.estimate[0] - exact) <= cs.error_bound[0] + 8e-16 * (1 + abs(exact))
