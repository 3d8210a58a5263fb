"""A script in the style of the CS231n case study and deeplearning.ai's first weeks: the weights
are separate module-level arrays (W1, b1, W2, b2), a function of them gives the gradient, another
takes a step on the globals, and the training loop runs at module level.  One example per row
(X @ W1 + b1), tanh then sigmoid, 1/2 (a - y)^2 averaged over the batch.

    gradcheck examples/script_arrays.toml --impl "examples/script_arrays.py:gradients"
    gradcheck examples/script_arrays.toml --impl "examples/script_arrays.py:train_step"
    gradcheck examples/script_arrays.toml --impl examples/script_arrays.py

The planted-bug twins, ``gradients_slip`` and ``train_step_slip``, write tanh' as 1 - a1 (not
1 - a1^2): W1 and b1 fail.
"""

import numpy as np

rng = np.random.default_rng(0)
X = rng.standard_normal((8, 3))
Y = rng.uniform(0.1, 0.9, (8, 2))

W1 = 0.5 * rng.standard_normal((3, 4))
b1 = np.zeros((1, 4))
W2 = 0.5 * rng.standard_normal((4, 2))
b2 = np.zeros((1, 2))
learning_rate = 0.5


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gradients(X, Y, W1, b1, W2, b2, tanh_prime=lambda a: 1 - a ** 2):
    """dC/dW1, dC/db1, dC/dW2, dC/db2 of C = 1/m sum 1/2 |a2 - y|^2."""
    a1 = np.tanh(X @ W1 + b1)
    a2 = sigmoid(a1 @ W2 + b2)
    delta2 = (a2 - Y) * a2 * (1 - a2) / len(X)
    delta1 = (delta2 @ W2.T) * tanh_prime(a1)
    return {"dW1": X.T @ delta1, "db1": delta1.sum(axis=0, keepdims=True),
            "dW2": a1.T @ delta2, "db2": delta2.sum(axis=0, keepdims=True)}


def gradients_slip(X, Y, W1, b1, W2, b2):
    return gradients(X, Y, W1, b1, W2, b2, tanh_prime=lambda a: 1 - a)   # the slip


def train_step(X, Y, grads=gradients):
    global W1, b1, W2, b2
    g = grads(X, Y, W1, b1, W2, b2)
    W1 = W1 - learning_rate * g["dW1"]
    b1 = b1 - learning_rate * g["db1"]
    W2 = W2 - learning_rate * g["dW2"]
    b2 = b2 - learning_rate * g["db2"]


def train_step_slip(X, Y):
    train_step(X, Y, grads=gradients_slip)


if __name__ == "__main__":
    for epoch in range(2000):
        train_step(X, Y)
    print("final W2", W2)
