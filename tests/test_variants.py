import numpy as np
import pytest

from gradcheck.backprop import VARIANTS, Network, backward
from tests.helpers import flat


def batch(net, m=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((net.layers[0], m))
    y = rng.uniform(0, 1, size=(net.layers[-1], m))
    return net.from_columns(x), net.from_columns(y)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "correct"])
def test_every_wrong_variant_changes_the_gradient_of_a_4_layer_sigmoid_net(variant):
    # square hidden layers, so that the shape-changing bugs run rather than raise
    net = Network([5, 4, 4, 4], "sigmoid", seed=1)
    x, y = batch(net)
    assert not np.allclose(flat(backward(net, x, y, variant)), flat(backward(net, x, y)), rtol=1e-6)


def test_every_variant_documents_the_line_it_changes_and_where_it_was_seen():
    for variant in VARIANTS.values():
        assert variant.summary and variant.line and variant.seen


@pytest.mark.parametrize("layers, activations", [
    ([4, 3], "sigmoid"),                       # a single weight layer: nothing to recur through
    ([4, 5, 3], ["tanh", "identity"]),         # one hidden layer under an identity output
    ([4, 5, 6, 3], ["sigmoid", "identity", "identity"]),
])
def test_code2_equals_the_correct_pass_where_no_sigma_prime_is_lost(layers, activations):
    net = Network(layers, activations, "squared_error", seed=2)
    x, y = batch(net)
    np.testing.assert_allclose(flat(backward(net, x, y, "code2")), flat(backward(net, x, y)),
                               rtol=1e-13, atol=1e-15)


def test_code2_differs_as_soon_as_the_output_is_a_sigmoid():
    net = Network([4, 5, 3], ["tanh", "sigmoid"], seed=2)
    x, y = batch(net)
    code2, correct = backward(net, x, y, "code2"), backward(net, x, y)
    np.testing.assert_array_equal(code2[0][1], correct[0][1])  # the last layer is right
    assert not np.allclose(code2[0][0], correct[0][0])           # the layer below is not


def test_an_unknown_variant_is_refused_with_the_nearest_name():
    net = Network([2, 2], seed=0)
    with pytest.raises(ValueError, match="did you mean 'code2'"):
        backward(net, *batch(net), variant="code_2")


def test_the_two_layouts_give_transposed_gradients():
    cols = Network([3, 4, 2], ["relu", "sigmoid"], "binary_cross_entropy", seed=5)
    rows = Network([3, 4, 2], ["relu", "sigmoid"], "binary_cross_entropy", layout="rows",
                   weights=[w.T for w in cols.weights], biases=[b.T for b in cols.biases])
    x, y = batch(cols)
    for variant in ("correct", "code2"):
        gc, gr = backward(cols, x, y, variant), backward(rows, x.T, y.T, variant)
        for a, b in zip(gc[0] + gc[1], gr[0] + gr[1]):
            np.testing.assert_array_equal(a, b.T)
