"""Nielsen's backprop (network.py, chapter 2), one example at a time, summed over the batch.

    gradcheck examples/nielsen.toml --impl examples/nielsen_backprop.py:gradient

Nielsen's ``backprop(x, y)`` returns (nabla_b, nabla_w) for one example; ``gradient`` adapts it
to the contract's FUNC(weights, biases, x, y) -> (nabla_w, nabla_b) for a batch in columns.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def backprop(weights, biases, x, y):
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    activation = x
    activations = [x]
    zs = []
    for b, w in zip(biases, weights):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
    nabla_b[-1] = delta
    nabla_w[-1] = np.dot(delta, activations[-2].transpose())
    for l in range(2, len(weights) + 1):
        z = zs[-l]
        sp = sigmoid_prime(z)
        delta = np.dot(weights[-l + 1].transpose(), delta) * sp
        nabla_b[-l] = delta
        nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
    return (nabla_b, nabla_w)


def gradient(weights, biases, x, y):
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    for k in range(x.shape[1]):
        delta_nabla_b, delta_nabla_w = backprop(weights, biases, x[:, [k]], y[:, [k]])
        nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
        nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
    return nabla_w, nabla_b


def gradient_overwriting(weights, biases, x, y):
    """The same loop with the classic slip: each example overwrites the sum."""
    for k in range(x.shape[1]):
        nabla_b, nabla_w = backprop(weights, biases, x[:, [k]], y[:, [k]])
    return nabla_w, nabla_b
