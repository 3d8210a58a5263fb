"""A TwoLayerNet in the style of CS231n's assignment 1, written for gradcheck's examples: a params
dict (W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)), rows (X @ W1), a ReLU hidden layer, a softmax loss
averaged over the batch with reg * sum(W * W), integer labels y, and loss(X, y, reg) returning
(loss, grads).

    gradcheck examples/cs231n.toml --impl "examples/cs231n_two_layer.py:partial(TwoLayerNet(4, 10, 3).loss, reg=0.05)"
    gradcheck examples/cs231n.toml --impl "examples/cs231n_two_layer.py:partial(HalfReg(4, 10, 3).loss, reg=0.05)"
"""

import numpy as np


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {
            "W1": std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        N = X.shape[0]
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), y]).mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads["W2"] = hidden.T.dot(dscores) + self.weight_decay(reg, W2)
        grads["b2"] = dscores.sum(axis=0)
        dhidden = dscores.dot(W2.T)
        dhidden[hidden <= 0] = 0
        grads["W1"] = X.T.dot(dhidden) + 2 * reg * W1
        grads["b1"] = dhidden.sum(axis=0)
        return loss, grads

    def weight_decay(self, reg, W):
        return 2 * reg * W


class HalfReg(TwoLayerNet):
    """The planted bug: W2's regularization gradient written reg * W, for a loss with reg W^2."""

    def weight_decay(self, reg, W):
        return reg * W
