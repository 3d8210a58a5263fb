"""The 3-layer model of deeplearning.ai's "Gradient Checking" exercise, written for gradcheck's
examples: forward_propagation_n(X, Y, parameters) -> (cost, cache) and
backward_propagation_n(X, Y, cache) -> gradients keyed dW1, db1, dZ1, dA1, ...

The exercise ships backward_propagation_n with two mistakes for learners to find (dW2 doubled,
db1 four times too large); backward_propagation_n_fixed has neither.

    gradcheck examples/dlai_gradient_checking.toml --impl "examples/dlai_gradient_checking.py:lambda X, Y, parameters: backward_propagation_n(X, Y, forward_propagation_n(X, Y, parameters)[1])"
    gradcheck examples/dlai_gradient_checking.toml --impl "examples/dlai_gradient_checking.py:lambda X, Y, parameters: backward_propagation_n_fixed(X, Y, forward_propagation_n(X, Y, parameters)[1])"
"""

import numpy as np


def relu(x):
    return np.maximum(0, x)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def forward_propagation_n(X, Y, parameters):
    m = X.shape[1]
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1. / m * np.sum(logprobs)
    return cost, (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)


def _backward(X, Y, cache, dW2_factor, db1_factor):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1. / m * np.dot(dZ3, A2.T)
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1. / m * np.dot(dZ2, A1.T) * dW2_factor
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T)
    db1 = db1_factor / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
            "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


def backward_propagation_n(X, Y, cache):
    """As the exercise ships it: dW2 multiplied by 2, db1 by 4."""
    return _backward(X, Y, cache, dW2_factor=2, db1_factor=4.)


def backward_propagation_n_fixed(X, Y, cache):
    return _backward(X, Y, cache, dW2_factor=1, db1_factor=1.)
