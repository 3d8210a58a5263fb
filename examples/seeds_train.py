"""The seeds' in-place training step for a sigmoid network without biases, in both versions.

    gradcheck examples/seed.toml --impl examples/seeds_train.py:train_code1 --impl-kind step
    gradcheck examples/seed.toml --impl examples/seeds_train.py:train_code2 --impl-kind step

W[k] maps layer k to layer k+1 (the seeds count from 0); A[k] are the activations, A[0] = x.
"""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(a):  # written in terms of the output a = sigmoid(z)
    return a * (1 - a)


def _forward(W, x):
    A = [x]
    for w in W:
        A.append(sigmoid(w @ A[-1]))
    return A


def train_code1(W, biases, x, y, lr):
    A = _forward(W, x)
    delta = A[-1] - y
    for k in reversed(range(len(W))):
        tmp = delta * sigmoid_prime(A[k + 1])
        delta = W[k].T @ tmp                     # code (1)
        W[k] -= lr * tmp @ A[k].T


def train_code2(W, biases, x, y, lr):
    A = _forward(W, x)
    delta = A[-1] - y
    for k in reversed(range(len(W))):
        tmp = delta * sigmoid_prime(A[k + 1])
        delta = W[k].T @ delta                   # code (2)
        W[k] -= lr * tmp @ A[k].T
