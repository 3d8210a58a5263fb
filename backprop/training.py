"""Mini-batch stochastic gradient descent driven by any backward pass of the catalogue.

Nielsen's ``update_mini_batch`` semantics: the step is eta / m times the gradient summed over the
mini-batch of m examples, w <- w - (eta / m) nabla_w.
"""

from __future__ import annotations

import numpy as np

from .variants import VARIANTS

__all__ = ["sgd", "accuracy"]


def sgd(net, x, y, *, epochs, eta, mini_batch_size=10, variant="correct", seed=0, callback=None):
    """Train ``net`` in place on (x, y) (columns layout); ``callback(epoch)`` after each epoch."""
    backward = VARIANTS[variant]
    rng = np.random.default_rng(seed)
    n = x.shape[1]
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, mini_batch_size):
            batch = order[start:start + mini_batch_size]
            nabla_w, nabla_b = backward(net, x[:, batch], y[:, batch])
            step = eta / len(batch)
            for w, g in zip(net.weights, nabla_w):
                w -= step * g
            if net.bias:
                for b, g in zip(net.biases, nabla_b):
                    b -= step * g
        if not np.all(np.isfinite(net.theta)):
            break  # diverged: the remaining epochs cannot recover
        if callback:
            callback(epoch)
    return net


def accuracy(net, x, labels):
    """The fraction of columns of x whose largest output is the label."""
    with np.errstate(all="ignore"):
        out = net.feedforward(x)
    return float(np.mean(np.argmax(out, axis=0) == labels))
