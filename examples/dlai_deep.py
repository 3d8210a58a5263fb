"""An L-layer network in the style of deeplearning.ai's "Building your Deep Neural Network: Step by
Step", written for gradcheck's examples: a parameters dict (W1 (n1, n0), b1 (n1, 1), ...),
L_model_forward(X, parameters) -> (AL, caches), and L_model_backward(AL, Y, caches) -> grads
keyed dW1, db1, dA0, ...; ReLU layers, a sigmoid output and the cross-entropy averaged over the
batch.  The check calls forward then backward in one lambda, as TARGET:

    gradcheck examples/dlai_deep.toml --impl "examples/dlai_deep.py:lambda parameters, X, Y: L_model_backward(*L_model_forward(X, parameters)[:1], Y, L_model_forward(X, parameters)[1])"
    gradcheck examples/dlai_deep.toml --impl "examples/dlai_deep.py:gradients"
    gradcheck examples/dlai_deep.toml --impl "examples/dlai_deep.py:gradients_unaveraged_db"
"""

import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z


def relu(Z):
    return np.maximum(0, Z), Z


def relu_backward(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache <= 0] = 0
    return dZ


def sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    return dA * s * (1 - s)


def linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b
    A, activation_cache = sigmoid(Z) if activation == "sigmoid" else relu(Z)
    return A, ((A_prev, W, b), activation_cache)


def L_model_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for layer in range(1, L):
        A, cache = linear_activation_forward(A, parameters["W" + str(layer)],
                                             parameters["b" + str(layer)], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)],
                                          "sigmoid")
    caches.append(cache)
    return AL, caches


def linear_backward(dZ, cache, average_db=True):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1. / m * np.dot(dZ, A_prev.T)
    db = np.sum(dZ, axis=1, keepdims=True)
    if average_db:
        db = 1. / m * db
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def L_model_backward(AL, Y, caches, average_db=True):
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    linear_cache, activation_cache = caches[L - 1]
    dA_prev, dW, db = linear_backward(sigmoid_backward(dAL, activation_cache), linear_cache,
                                      average_db)
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = dA_prev, dW, db
    for layer in reversed(range(L - 1)):
        linear_cache, activation_cache = caches[layer]
        dA_prev, dW, db = linear_backward(relu_backward(grads["dA" + str(layer + 1)],
                                                        activation_cache), linear_cache, average_db)
        grads["dA" + str(layer)] = dA_prev
        grads["dW" + str(layer + 1)] = dW
        grads["db" + str(layer + 1)] = db
    return grads


def gradients(parameters, X, Y):
    """The notebook's two calls, as a learner writes them in a cell."""
    AL, caches = L_model_forward(X, parameters)
    return L_model_backward(AL, Y, caches)


def gradients_unaveraged_db(parameters, X, Y):
    """The planted bug: db summed over the batch but not divided by m."""
    AL, caches = L_model_forward(X, parameters)
    return L_model_backward(AL, Y, caches, average_db=False)
