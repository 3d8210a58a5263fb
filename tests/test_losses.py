import numpy as np
import pytest

from gradcheck.backprop.activations import ACTIVATIONS
from gradcheck.backprop.losses import LOSSES

rng = np.random.default_rng(3)
Z = rng.standard_normal((4, 5))
Y = rng.uniform(0.05, 0.95, size=(4, 5))
ONE_HOT = np.eye(4)[:, [0, 3, 1, 1, 2]]
SIGMOID, SOFTMAX, IDENTITY = (ACTIVATIONS[n] for n in ("sigmoid", "softmax", "identity"))


@pytest.mark.parametrize("loss, sigma, y, closed_value, closed_delta", [
    ("half_squared_error", SIGMOID, Y,
     lambda a, y: 0.5 * ((a - y) ** 2).sum(), lambda a, y: (a - y) * a * (1 - a)),
    ("squared_error", IDENTITY, Y,
     lambda a, y: ((a - y) ** 2).sum(), lambda a, y: 2 * (a - y)),
    ("binary_cross_entropy", SIGMOID, Y,
     lambda a, y: -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum(), lambda a, y: a - y),
    ("categorical_cross_entropy", SOFTMAX, ONE_HOT,
     lambda a, y: -(y * np.log(a)).sum(), lambda a, y: a - y),
])
def test_each_loss_value_and_output_delta_match_their_closed_forms(loss, sigma, y, closed_value,
                                                                    closed_delta):
    a = sigma(Z)
    C = LOSSES[loss]
    np.testing.assert_allclose(C.per_example(Z, a, y, sigma).sum(axis=-1), closed_value(a, y), rtol=1e-13)
    np.testing.assert_allclose(C.delta(Z, a, y, sigma), closed_delta(a, y), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("sigma", ["sigmoid", "softmax"])
def test_each_output_delta_is_the_complex_step_derivative_of_the_loss(loss, sigma):
    sigma, C, h = ACTIVATIONS[sigma], LOSSES[loss], 1e-30
    y = ONE_HOT if loss == "categorical_cross_entropy" else Y
    delta = C.delta(Z, sigma(Z), y, sigma)
    for j in range(Z.shape[0]):
        z = Z.astype(complex)
        z[j] += 1j * h
        np.testing.assert_allclose(C.per_example(z, sigma(z), y, sigma).imag / h, delta[j], rtol=1e-12)


def test_cross_entropy_stays_finite_for_saturated_outputs():
    z = np.array([[800.0], [-800.0]])
    y = np.array([[0.0], [1.0]])
    for loss, sigma in (("binary_cross_entropy", SIGMOID), ("categorical_cross_entropy", SOFTMAX)):
        value = LOSSES[loss].per_example(z, sigma(z), y, sigma).sum(axis=-1)
        assert np.isfinite(value) and value > 1000
