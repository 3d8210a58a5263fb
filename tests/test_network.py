import numpy as np
import pytest

from gradcheck.backprop import Network


def test_the_forward_pass_matches_a_hand_computation_on_nielsens_2_3_1_net():
    W1 = np.array([[0.1, -0.2], [0.4, 0.3], [-0.5, 0.6]])
    b1 = np.array([[0.1], [0.0], [-0.1]])
    W2 = np.array([[0.7, -0.8, 0.9]])
    b2 = np.array([[0.2]])
    net = Network([2, 3, 1], "sigmoid", weights=[W1, W2], biases=[b1, b2])
    x = np.array([[1.0], [2.0]])
    # by hand: z1 = (0.1 - 0.4 + 0.1, 0.4 + 0.6 + 0, -0.5 + 1.2 - 0.1) = (-0.2, 1.0, 0.6)
    s = lambda t: 1 / (1 + np.exp(-t))
    a1 = s(np.array([-0.2, 1.0, 0.6]))
    z2 = 0.7 * a1[0] - 0.8 * a1[1] + 0.9 * a1[2] + 0.2
    f = net.forward(x)
    np.testing.assert_allclose(f.z[1].ravel(), [-0.2, 1.0, 0.6], rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(f.a[2].ravel(), [s(z2)], rtol=1e-15)
    np.testing.assert_allclose(net.cost(x, [[0.5]]), 0.5 * (s(z2) - 0.5) ** 2, rtol=1e-14)


def test_the_rows_layout_computes_the_same_function_with_transposed_arrays():
    cols = Network([3, 5, 2], ["tanh", "softmax"], "categorical_cross_entropy", seed=4)
    rows = Network([3, 5, 2], ["tanh", "softmax"], "categorical_cross_entropy", layout="rows",
                   weights=[w.T for w in cols.weights], biases=[b.T for b in cols.biases])
    x = np.random.default_rng(0).standard_normal((3, 6))
    y = np.eye(2)[:, [0, 1, 1, 0, 0, 1]]
    np.testing.assert_array_equal(rows.feedforward(x.T), cols.feedforward(x).T)
    assert rows.cost(x.T, y.T) == cols.cost(x, y)
    assert rows.shapes["W1"] == (3, 5) and rows.shapes["b2"] == (1, 2)


def test_weights_and_biases_are_views_into_the_flat_parameter_vector():
    net = Network([2, 3, 1], seed=0)
    net.theta[:] = np.arange(net.theta.size)
    assert net.weights[0][0, 1] == 1 and net.biases[1][0, 0] == net.theta.size - 1
    assert net.param("W2").connects == "layer 1 -> layer 2" and net.param("b1").kind == "bias"


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(layers=[3]), ValueError, "at least two sizes"),
    (dict(layers=[3, -1, 2]), ValueError, "`layers[1]` must be a positive integer; got -1"),
    (dict(layers=[3, 2.5]), TypeError, "`layers[1]` must be a positive integer; got 2.5"),
    (dict(layers="3,2"), TypeError, "`layers` must be a list"),
    (dict(layers=[3, 2], activations="sigmod"), ValueError, "did you mean 'sigmoid'"),
    (dict(layers=[3, 2, 2], activations=["sigmoid"]), ValueError, "one name per weight layer"),
    (dict(layers=[3, 2, 2], activations=["softmax", "sigmoid"]), ValueError, "output layer only"),
    (dict(layers=[3, 2, 2], activations="softmax"), ValueError, "output layer only"),
    (dict(layers=[3, 2], loss="cross_entropy"), ValueError, "`loss` must be one of"),
    (dict(layers=[3, 2], layout="row"), ValueError, "did you mean 'rows'"),
    (dict(layers=[3, 2], bias="yes"), TypeError, "`bias` must be true or false"),
])
def test_bad_arguments_are_refused_with_a_message_naming_the_field(kwargs, error, message):
    with pytest.raises(error) as info:
        Network(**kwargs)
    assert message in str(info.value)


def test_a_cross_entropy_over_outputs_outside_0_1_is_refused_at_the_door():
    with pytest.raises(ValueError, match="takes a sigmoid output layer"):
        Network([2, 3, 1], "tanh", "binary_cross_entropy")
    with pytest.raises(ValueError, match="takes a softmax or sigmoid output layer"):
        Network([2, 3, 2], ["tanh", "identity"], "categorical_cross_entropy")
    Network([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy")
