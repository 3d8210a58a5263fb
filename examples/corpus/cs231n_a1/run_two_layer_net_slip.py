"""The way the two_layer_net notebook of CS231n assignment 1 trains its toy model, as a script,
for gradcheck's corpus: a TwoLayerNet(4, 10, 3, std=1e-1) at module level and
net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100, verbose=False).

    gradcheck cs231n_a1_train.toml --impl cs231n_a1/run_two_layer_net_slip.py

The planted bug: the model comes from neural_net_slip.py (dscores not divided by N).
"""
import numpy as np

from neural_net_slip import TwoLayerNet

input_size = 4
hidden_size = 10
num_classes = 3
num_inputs = 5


def init_toy_model():
    np.random.seed(0)
    return TwoLayerNet(input_size, hidden_size, num_classes, std=1e-1)


def init_toy_data():
    np.random.seed(1)
    X = 10 * np.random.randn(num_inputs, input_size)
    y = np.array([0, 1, 2, 2, 1])
    return X, y


net = init_toy_model()
X, y = init_toy_data()

stats = net.train(X, y, X, y,
                  learning_rate=1e-1, reg=5e-6,
                  num_iters=100, verbose=False)

print('Final training loss: ', stats['loss_history'][-1])
