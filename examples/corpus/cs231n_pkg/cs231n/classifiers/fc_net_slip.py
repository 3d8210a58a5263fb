"""CS231n assignment 2, cs231n/classifiers/fc_net.py, reproduced for gradcheck's corpus (the
plain path: no batch/layer normalisation, no dropout). The package imports its siblings
relatively, `from ..layers import *`. Parameters live in the dict self.params keyed W1, b1, ...,
W (fan_in, fan_out) and b (fan_out,), cast to `dtype` (float32 by default; the notebook checks
gradients with dtype=np.float64). loss(X, y) returns (loss, grads) with the mean softmax loss
over the batch plus 0.5 * reg * sum(W * W) for every W.

The planted bug (one line): the hidden layers' weight gradients leave out reg * W (the loss
still counts their L2 term); only the last layer's has it.

From examples/corpus:

    gradcheck cs231n_fc_net.toml --impl "cs231n_pkg/cs231n/classifiers/fc_net_slip.py:FullyConnectedNet([6, 5], input_dim=4, num_classes=3, reg=0.1, weight_scale=0.5, dtype=np.float64).loss"
    gradcheck cs231n_fc_net.toml --impl "cs231n_pkg/cs231n/classifiers/fc_net_slip.py:FullyConnectedNet([6, 5], input_dim=4, num_classes=3, reg=0.1, weight_scale=0.5).loss"
"""
from builtins import range
from builtins import object
import numpy as np

from ..layers import *
from ..layer_utils import *


class FullyConnectedNet(object):
    """A fully-connected network with an arbitrary number of hidden layers, ReLU nonlinearities
    and a softmax loss: {affine - relu} x (L - 1) - affine - softmax."""

    def __init__(
        self,
        hidden_dims,
        input_dim=3 * 32 * 32,
        num_classes=10,
        dropout_keep_ratio=1,
        normalization=None,
        reg=0.0,
        weight_scale=1e-2,
        dtype=np.float32,
        seed=None,
    ):
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for i in range(self.num_layers):
            self.params["W%d" % (i + 1)] = weight_scale * np.random.randn(dims[i], dims[i + 1])
            self.params["b%d" % (i + 1)] = np.zeros(dims[i + 1])

        # Cast all parameters to the correct datatype.
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """X (N, d_1, ..., d_k), y (N,) integer labels. Without y: the scores (N, C). With y:
        (loss, grads), grads keyed as self.params."""
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"

        caches = {}
        out = X
        for i in range(1, self.num_layers):
            out, caches[i] = affine_relu_forward(out, self.params["W%d" % i], self.params["b%d" % i])
        L = self.num_layers
        scores, caches[L] = affine_forward(out, self.params["W%d" % L], self.params["b%d" % L])

        # If test mode return early.
        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        loss, dscores = softmax_loss(scores, y)
        for i in range(1, L + 1):
            W = self.params["W%d" % i]
            loss += 0.5 * self.reg * np.sum(W * W)

        dout, dW, db = affine_backward(dscores, caches[L])
        grads["W%d" % L] = dW + self.reg * self.params["W%d" % L]
        grads["b%d" % L] = db
        for i in range(L - 1, 0, -1):
            dout, dW, db = affine_relu_backward(dout, caches[i])
            grads["W%d" % i] = dW   # the slip: the L2 term forgotten inside the loop
            grads["b%d" % i] = db

        return loss, grads
