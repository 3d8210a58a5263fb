import numpy as np
import pytest

from gradcheck.backprop import Network, backward
from gradcheck.checks import assert_gradients_match


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
