import numpy as np

from gradcheck.backprop import Network
from gradcheck.backprop.training import accuracy, sgd


def test_one_sgd_step_is_eta_over_m_times_the_summed_gradient():
    from gradcheck.backprop import backward
    net = Network([3, 4, 2], seed=0)
    x = np.random.default_rng(0).standard_normal((3, 4))
    y = np.eye(2)[:, [0, 1, 0, 1]]
    nabla_w, nabla_b = backward(net, x, y)
    expected = net.weights[0] - 0.5 / 4 * nabla_w[0]
    sgd(net, x, y, epochs=1, eta=0.5, mini_batch_size=4)
    np.testing.assert_allclose(net.weights[0], expected, rtol=1e-15)


def test_training_lowers_the_loss_and_learns_a_separable_problem():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 200))
    labels = (x[0] + x[1] > 0).astype(int)
    y = np.eye(2)[:, labels]
    net = Network([2, 8, 2], "sigmoid", seed=1)
    before = net.cost(x, y)
    sgd(net, x, y, epochs=30, eta=3.0, mini_batch_size=10, seed=1)
    assert net.cost(x, y) < before / 4 and accuracy(net, x, labels) > 0.95
