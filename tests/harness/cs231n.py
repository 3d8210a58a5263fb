"""Hand-written layers in the style of CS231n assignments, written for the harness from scratch:
numpy only, ``forward(...) -> (out, cache)`` and ``backward(dout, cache) -> grads``, losses as
``loss(x, y) -> (loss, dx)``.  Every function here is meant to be *correct*; the planted bugs live in
``tests.harness.layers`` as edits of these.

The code is what a student writes, quirks included: float buffers made with ``np.zeros(shape)``
(so a complex step through them is not possible), ``np.var``, ``np.maximum``, ``np.abs``, the
global ``np.random.seed`` for dropout.
"""

import numpy as np


# -- affine, with x of any shape (N, d_1, ..., d_k) -----------------------------------------------
def affine_forward(x, w, b):
    N = x.shape[0]
    x_rows = x.reshape(N, -1)
    out = x_rows.dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(N, -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


# -- elementwise nonlinearities --------------------------------------------------------------------
def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx


def leaky_relu_forward(x, lrelu_param):
    alpha = lrelu_param.get("alpha", 0.01)
    out = np.where(x > 0, x, alpha * x)
    return out, (x, alpha)


def leaky_relu_backward(dout, cache):
    x, alpha = cache
    dx = np.where(x > 0, dout, alpha * dout)
    return dx


def sigmoid_forward(x):
    out = 1 / (1 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    out = cache
    return dout * out * (1 - out)


def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    out = cache
    return dout * (1 - out ** 2)


def sigmoid(x):
    """CS231n's numerically stable sigmoid (rnn_layers.py)."""
    pos_mask = x >= 0
    neg_mask = x < 0
    z = np.zeros_like(x)
    z[pos_mask] = np.exp(-x[pos_mask])
    z[neg_mask] = np.exp(x[neg_mask])
    top = np.ones_like(x)
    top[neg_mask] = z[neg_mask]
    return top / (1 + z)


# -- batch normalisation, train mode ---------------------------------------------------------------
def batchnorm_forward(x, gamma, beta, bn_param):
    """The staged computation graph (the form the long backward walks back through)."""
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    if mode != "train":
        raise ValueError("only train mode here")
    mu = 1.0 / N * np.sum(x, axis=0)
    xmu = x - mu
    sq = xmu ** 2
    var = 1.0 / N * np.sum(sq, axis=0)
    sqrtvar = np.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    xhat = xmu * ivar
    out = gamma * xhat + beta
    bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu
    bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps)
    return out, cache


def batchnorm_backward(dout, cache):
    """The long, staged backward: one line per node of the graph."""
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N, D = dout.shape
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
    dsq = 1.0 / N * np.ones((N, D), dtype=dout.dtype) * dvar
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -1 * np.sum(dxmu1 + dxmu2, axis=0)
    dx2 = 1.0 / N * np.ones((N, D), dtype=dout.dtype) * dmu
    dx = dx1 + dx2
    return dx, dgamma, dbeta


def batchnorm_forward_var(x, gamma, beta, bn_param):
    """The short form with np.var (the one the simplified backward pairs with)."""
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    std = np.sqrt(var + eps)
    xhat = (x - mu) / std
    out = gamma * xhat + beta
    bn_param["running_mean"] = momentum * bn_param.get("running_mean", 0.0) + (1 - momentum) * mu
    bn_param["running_var"] = momentum * bn_param.get("running_var", 0.0) + (1 - momentum) * var
    return out, (xhat, gamma, std)


def batchnorm_backward_alt(dout, cache):
    """The simplified formula, on paper first: dx = (N dxhat - sum dxhat - xhat sum dxhat xhat) / N std."""
    xhat, gamma, std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dx = (1.0 / N) / std * (N * dxhat - dxhat.sum(axis=0) - xhat * np.sum(dxhat * xhat, axis=0))
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    xhat = (x - mu) / std
    out = gamma * xhat + beta
    return out, (xhat, gamma, std)


def layernorm_backward(dout, cache):
    xhat, gamma, std = cache
    D = dout.shape[1]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dx = (D * dxhat - dxhat.sum(axis=1, keepdims=True)
          - xhat * np.sum(dxhat * xhat, axis=1, keepdims=True)) / (D * std)
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    x_flat = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out_flat, cache = batchnorm_forward_var(x_flat, gamma, beta, bn_param)
    out = out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return out, (cache, x.shape)


def spatial_batchnorm_backward(dout, cache):
    bn_cache, (N, C, H, W) = cache
    dout_flat = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx_flat, dgamma, dbeta = batchnorm_backward_alt(dout_flat, bn_cache)
    dx = dx_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return dx, dgamma, dbeta


# -- inverted dropout with a fixed seed --------------------------------------------------------------
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    else:
        mask = None
        out = x
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout


# -- convolution -----------------------------------------------------------------------------------------
def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    out[n, f, i, j] = np.sum(x_pad[n, :, hs:hs + HH, ws:ws + WW] * w[f]) + b[f]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(x_pad, dout))
    dw = np.zeros_like(w, dtype=np.result_type(w, dout))
    db = np.sum(dout, axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    dw[f] += x_pad[n, :, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]
                    dx_pad[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def _im2col_indices(x_shape, HH, WW, pad, stride):
    N, C, H, W = x_shape
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    i0 = np.tile(np.repeat(np.arange(HH), WW), C)
    i1 = stride * np.repeat(np.arange(H_out), W_out)
    j0 = np.tile(np.arange(WW), HH * C)
    j1 = stride * np.tile(np.arange(W_out), H_out)
    i = i0.reshape(-1, 1) + i1.reshape(1, -1)
    j = j0.reshape(-1, 1) + j1.reshape(1, -1)
    k = np.repeat(np.arange(C), HH * WW).reshape(-1, 1)
    return k, i, j, H_out, W_out


def conv_forward_im2col(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    k, i, j, H_out, W_out = _im2col_indices(x.shape, HH, WW, pad, stride)
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    cols = x_pad[:, k, i, j]                                   # (N, C*HH*WW, H_out*W_out)
    cols = cols.transpose(1, 2, 0).reshape(C * HH * WW, -1)    # (C*HH*WW, H_out*W_out*N)
    out = w.reshape(F, -1).dot(cols) + b.reshape(-1, 1)
    out = out.reshape(F, H_out, W_out, N).transpose(3, 0, 1, 2)
    return out, (x.shape, w, cols, conv_param, (k, i, j))


def conv_backward_im2col(dout, cache):
    x_shape, w, cols, conv_param, (k, i, j) = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x_shape
    F = w.shape[0]
    db = np.sum(dout, axis=(0, 2, 3))
    dout_rows = dout.transpose(1, 2, 3, 0).reshape(F, -1)
    dw = dout_rows.dot(cols.T).reshape(w.shape)
    dcols = w.reshape(F, -1).T.dot(dout_rows)                  # (C*HH*WW, H_out*W_out*N)
    dcols = dcols.reshape(C * w.shape[2] * w.shape[3], -1, N).transpose(2, 0, 1)
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype)
    np.add.at(dx_pad, (slice(None), k, i, j), dcols)
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


# -- pooling -------------------------------------------------------------------------------------------------
def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            hs, ws = i * stride, j * stride
            out[:, :, i, j] = np.max(x[:, :, hs:hs + ph, ws:ws + pw], axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """The gradient to the first maximum of each window (np.argmax)."""
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    window = x[n, c, hs:hs + ph, ws:ws + pw]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, hs + a, ws + b] += dout[n, c, i, j]
    return dx


def max_pool_backward_eqmask(dout, cache):
    """The other common form: every entry equal to the window's max gets dout (at a tie, all)."""
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for i in range(H_out):
        for j in range(W_out):
            hs, ws = i * stride, j * stride
            window = x[:, :, hs:hs + ph, ws:ws + pw]
            mask = window == np.max(window, axis=(2, 3), keepdims=True)
            dx[:, :, hs:hs + ph, ws:ws + pw] += mask * dout[:, :, i, j][:, :, None, None]
    return dx


def avg_pool_forward(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            hs, ws = i * stride, j * stride
            out[:, :, i, j] = np.mean(x[:, :, hs:hs + ph, ws:ws + pw], axis=(2, 3))
    return out, (x, pool_param)


def avg_pool_backward(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for i in range(H_out):
        for j in range(W_out):
            hs, ws = i * stride, j * stride
            dx[:, :, hs:hs + ph, ws:ws + pw] += dout[:, :, i, j][:, :, None, None] / (ph * pw)
    return dx


# -- recurrent steps -----------------------------------------------------------------------------------------
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(prev_h.dot(Wh) + x.dot(Wx) + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dtanh = dnext_h * (1 - next_h ** 2)
    dx = dtanh.dot(Wx.T)
    dprev_h = dtanh.dot(Wh.T)
    dWx = x.T.dot(dtanh)
    dWh = prev_h.T.dot(dtanh)
    db = dtanh.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    do = dnext_h * tanh_c
    df = dc * prev_c
    di = dc * g
    dg = dc * i
    dprev_c = dc * f
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)],
                        axis=1)
    dx = da.dot(Wx.T)
    dprev_h = da.dot(Wh.T)
    dWx = x.T.dot(da)
    dWh = prev_h.T.dot(da)
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    M = b.shape[0]
    out = x.reshape(N * T, D).dot(w).reshape(N, T, M) + b
    return out, (x, w, b, out)


def temporal_affine_backward(dout, cache):
    x, w, b, out = cache
    N, T, D = x.shape
    M = b.shape[0]
    dx = dout.reshape(N * T, M).dot(w.T).reshape(N, T, D)
    dw = dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T
    db = dout.sum(axis=(0, 1))
    return dx, dw, db


def word_embedding_forward(x, W):
    out = W[x]
    return out, (x, W)


def word_embedding_backward(dout, cache):
    x, W = cache
    dW = np.zeros_like(W, dtype=np.result_type(W, dout))
    np.add.at(dW, x, dout)
    return dW


# -- losses: loss(x, y) -> (loss, dx) ------------------------------------------------------------------
def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted), axis=1, keepdims=True)
    log_probs = shifted - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y]
    margins = np.maximum(0, x - correct[:, np.newaxis] + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    num_pos = np.sum(margins > 0, axis=1)
    dx = np.zeros_like(x)
    dx[margins > 0] = 1
    dx[np.arange(N), y] -= num_pos
    dx /= N
    return loss, dx


def huber_loss(pred, target):
    """Smooth L1 (Huber with delta 1), mean over entries: C1, its second derivative jumps at |r| = 1."""
    r = pred - target
    a = np.abs(r)
    loss = np.sum(np.where(a < 1, 0.5 * r ** 2, a - 0.5)) / r.size
    grad = np.where(a < 1, r, np.sign(r)) / r.size
    return loss, grad


def l1_loss(pred, target):
    r = pred - target
    return np.sum(np.abs(r)) / r.size, np.sign(r) / r.size


def l2_loss(pred, target):
    N = pred.shape[0]
    r = pred - target
    return 0.5 * np.sum(r ** 2) / N, r / N


def sigmoid_cross_entropy(x, y):
    """Binary cross-entropy on logits, the stable form log(1 + e^x) - x y (np.logaddexp)."""
    N = x.shape[0]
    loss = np.sum(np.logaddexp(0, x) - x * y) / N
    s = np.exp(-np.logaddexp(0, -x))
    return loss, (s - y) / N


def sigmoid_cross_entropy_naive(x, y):
    """The textbook form through the probabilities: log(0) past |x| of about 37 (kept to small x)."""
    N = x.shape[0]
    s = 1 / (1 + np.exp(-x))
    loss = -np.sum(y * np.log(s) + (1 - y) * np.log(1 - s)) / N
    return loss, (s - y) / N


# -- CS231n's TwoLayerNet (assignment 2, fc_net.py) -----------------------------------------------------
def affine_relu_forward(x, w, b):
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)


class TwoLayerNet:
    def __init__(self, input_dim=5, hidden_dim=6, num_classes=3, weight_scale=1e-1, reg=0.0,
                 rng=None, dtype=np.float64):
        rng = np.random.default_rng(0) if rng is None else rng
        self.reg = reg
        self.params = {
            "W1": (weight_scale * rng.standard_normal((input_dim, hidden_dim))).astype(dtype),
            "b1": (0.1 * rng.standard_normal(hidden_dim)).astype(dtype),
            "W2": (weight_scale * rng.standard_normal((hidden_dim, num_classes))).astype(dtype),
            "b2": (0.1 * rng.standard_normal(num_classes)).astype(dtype),
        }

    def loss(self, X, y=None):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        h, cache1 = affine_relu_forward(X, W1, b1)
        scores, cache2 = affine_forward(h, W2, b2)
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dh, dW2, db2 = affine_backward(dscores, cache2)
        dX, dW1, db1 = affine_relu_backward(dh, cache1)
        grads = {"W1": dW1 + self.reg * W1, "b1": db1, "W2": dW2 + self.reg * W2, "b2": db2}
        return loss, grads


# -- an nnfs-style model computing in float32 (Dense, ReLU, Dense, softmax + cross-entropy) ------------
class NNFSModel:
    """nnfs keeps float32 data (its spiral data set) and float32 weights; np.dot of two float32
    arrays stays float32, so the whole pass computes in float32 with no cast anywhere."""

    def __init__(self, n_inputs=2, n_hidden=8, n_classes=3, rng=None):
        rng = np.random.default_rng(0) if rng is None else rng
        self.params = {
            "W1": (0.5 * rng.standard_normal((n_inputs, n_hidden))).astype(np.float32),
            "b1": (0.1 * rng.standard_normal((1, n_hidden))).astype(np.float32),
            "W2": (0.5 * rng.standard_normal((n_hidden, n_classes))).astype(np.float32),
            "b2": (0.1 * rng.standard_normal((1, n_classes))).astype(np.float32),
        }

    def loss(self, X, y):
        p = self.params
        z1 = np.dot(X, p["W1"]) + p["b1"]
        a1 = np.maximum(0, z1)
        z2 = np.dot(a1, p["W2"]) + p["b2"]
        exp_values = np.exp(z2 - np.max(z2, axis=1, keepdims=True))
        probs = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        samples = len(X)
        clipped = np.clip(probs, 1e-7, 1 - 1e-7)
        loss = np.mean(-np.log(clipped[range(samples), y]))
        dz2 = probs.copy()
        dz2[range(samples), y] -= 1
        dz2 = dz2 / samples
        dW2 = np.dot(a1.T, dz2)
        db2 = np.sum(dz2, axis=0, keepdims=True)
        da1 = np.dot(dz2, p["W2"].T)
        dz1 = da1.copy()
        dz1[z1 <= 0] = 0
        dW1 = np.dot(X.T, dz1)
        db1 = np.sum(dz1, axis=0, keepdims=True)
        return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
