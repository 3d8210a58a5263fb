# CS231n assignment 2, cs231n/layers.py (the parts FullyConnectedNet uses), reproduced for
# gradcheck's corpus: forward functions return (out, cache), backward functions take
# (dout, cache). affine_forward flattens each example to a row; biases are 1-D (M,).
from builtins import range
import numpy as np


def affine_forward(x, w, b):
    """x (N, d_1, ..., d_k), w (D, M), b (M,) -> out (N, M), cache (x, w, b)."""
    out = x.reshape(x.shape[0], -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """dout (N, M) -> dx (N, d1, ..., d_k), dw (D, M), db (M,)."""
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0)
    return dx


def softmax_loss(x, y):
    """x (N, C) class scores, y (N,) labels -> (loss, dx): the mean cross-entropy over the batch
    and its gradient with respect to x."""
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx
