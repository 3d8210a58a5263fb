"""A Network in the style of Nielsen's network2.py (chapter 3), written for gradcheck's examples:
a cross-entropy cost whose delta is a - y, and L2 regularization in update_mini_batch(mini_batch,
eta, lmbda, n), which shrinks the weights by (1 - eta lmbda / n) before the step.

Its cost is C = 1/m sum C_x + lmbda / (2 n) sum ||W||^2: reduction "batch_mean", l2 = lmbda/(2n).

    gradcheck examples/nielsen_network2.toml --impl "examples/nielsen_network2.py:partial(Network([3, 4, 2]).update_mini_batch, lmbda=5.0, n=100)"
    gradcheck examples/nielsen_network2.toml --impl "examples/nielsen_network2.py:partial(DecayingBiases([3, 4, 2]).update_mini_batch, lmbda=5.0, n=100)"
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class CrossEntropyCost:
    @staticmethod
    def fn(a, y):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        return a - y


class Network:
    def __init__(self, sizes, cost=CrossEntropyCost):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.cost = cost
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        nabla_b, nabla_w = self.summed(mini_batch)
        self.weights = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def summed(self, mini_batch):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        return nabla_b, nabla_w

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = self.cost.delta(zs[-1], activations[-1], y)
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for layer in range(2, self.num_layers):
            sp = sigmoid_prime(zs[-layer])
            delta = np.dot(self.weights[-layer + 1].transpose(), delta) * sp
            nabla_b[-layer] = delta
            nabla_w[-layer] = np.dot(delta, activations[-layer - 1].transpose())
        return nabla_b, nabla_w


class DecayingBiases(Network):
    """The planted bug: the weight decay applied to the biases too (L2 is for weights only)."""

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        nabla_b, nabla_w = self.summed(mini_batch)
        self.weights = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [(1 - eta * (lmbda / n)) * b - (eta / len(mini_batch)) * nb   # <- the slip
                       for b, nb in zip(self.biases, nabla_b)]
