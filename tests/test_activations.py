import warnings

import numpy as np
import pytest

from gradcheck.backprop.activations import ACTIVATIONS

ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.elementwise]
Z = np.linspace(-6, 6, 49).reshape(7, 7)


def closed_form_prime(name, z):
    s = 1 / (1 + np.exp(-z))
    return {
        "sigmoid": s * (1 - s),
        "tanh": 1 / np.cosh(z) ** 2,
        "relu": (z > 0).astype(float),
        "leaky_relu": np.where(z > 0, 1.0, 0.01),
        "softplus": s,
        "elu": np.where(z > 0, 1.0, np.exp(np.minimum(z, 0))),
        "identity": np.ones_like(z),
    }[name]


def closed_form_value(name, z):
    return {
        "sigmoid": 1 / (1 + np.exp(-z)),
        "tanh": np.tanh(z),
        "relu": np.maximum(z, 0),
        "leaky_relu": np.where(z > 0, z, 0.01 * z),
        "softplus": np.log1p(np.exp(z)),
        "elu": np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        "identity": z,
    }[name]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_each_activation_and_its_derivative_match_their_closed_forms(name):
    act = ACTIVATIONS[name]
    np.testing.assert_allclose(act(Z), closed_form_value(name, Z), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(act.prime(Z), closed_form_prime(name, Z), rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_the_output_form_of_sigma_prime_agrees_with_the_z_form(name):
    act = ACTIVATIONS[name]
    np.testing.assert_allclose(act.prime_from_output(act(Z)), act.prime(Z), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_the_complex_step_through_each_activation_gives_its_derivative(name):
    act, h = ACTIVATIONS[name], 1e-30
    z = Z + 0.013  # off the ReLU kink
    if act.elementwise:
        np.testing.assert_allclose(act(z + 1j * h).imag / h, act.prime(z), rtol=1e-13, atol=1e-300)
    else:  # softmax: d a_j / d z_j on the diagonal of the Jacobian
        for j in range(z.shape[0]):
            dz = np.zeros_like(z, dtype=complex)
            dz[j] = 1j * h
            np.testing.assert_allclose(act(z + dz).imag[j] / h, act.prime(z)[j], rtol=1e-13)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_stay_finite_and_silent_for_huge_arguments(name):
    act = ACTIVATIONS[name]
    z = np.array([[-1e4, -745.0, -1.0, 0.0, 1.0, 745.0, 1e4]]).T * np.ones((1, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for value in (act(z), act.prime(z), act(z + 1e-20j).imag):
            assert np.all(np.isfinite(value))


def test_softmax_backprop_is_the_jacobian_vector_product():
    act = ACTIVATIONS["softmax"]
    rng = np.random.default_rng(0)
    z, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    a = act(z)
    for k in range(3):
        jacobian = np.diag(a[:, k]) - np.outer(a[:, k], a[:, k])
        np.testing.assert_allclose(act.backprop(z, a, g)[:, k], jacobian.T @ g[:, k], rtol=1e-13)


def test_softmax_of_extreme_logits_is_a_one_hot_column():
    a = ACTIVATIONS["softmax"](np.array([[1e4], [0.0], [-1e4]]))
    np.testing.assert_array_equal(a, [[1.0], [0.0], [0.0]])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activations_keep_full_relative_accuracy_near_zero(name):
    # found by hypothesis: (1 - e^2) / (1 + e^2) lost 1e-5 of tanh(1.5e-11) to cancellation
    z = np.array([[1.5e-11, -3e-9, 2e-13]])
    np.testing.assert_allclose(ACTIVATIONS[name](z), closed_form_value(name, z), rtol=4e-16)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_sigma_second_derivative_is_the_complex_step_of_sigma_prime(name):
    act, h = ACTIVATIONS[name], 1e-30
    z = Z + 0.013  # off the kinks
    np.testing.assert_allclose(act.prime2(z), act.prime(z + 1j * h).imag / h, rtol=1e-12,
                               atol=1e-300)


def test_each_activation_says_whether_it_is_kinked_or_smooth():
    facts = {name: (act.kinked, act.smooth) for name, act in ACTIVATIONS.items()}
    assert facts["relu"] == facts["leaky_relu"] == (True, False)
    assert facts["elu"] == (False, False)  # sigma' continuous, sigma'' jumps at 0
    assert facts["sigmoid"] == facts["tanh"] == facts["softplus"] == (False, True)


def test_a_new_activation_is_checked_everywhere_from_its_registry_entry():
    from gradcheck.backprop import Network
    from gradcheck.checks import gradcheck
    from gradcheck.checks.strategies import HIDDEN
    assert "elu" in HIDDEN
    net = Network([3, 4, 4, 2], ["tanh", "elu", "identity"], "squared_error", seed=1)
    x = np.random.default_rng(1).standard_normal((3, 5))
    y = np.zeros((2, 5))
    for method in ("complex_step", "central"):
        assert gradcheck(net, x, y, method=method).passed
    assert not gradcheck(net, x, y, variant="code2").passed  # drops elu' < 1 of layer 2
