"""CS231n-style layers, written for gradcheck's examples: each a forward(...) -> (out, cache) and a
backward(dout, cache) -> gradients pair, and each with a planted-bug twin (``*_backward_bug``).

    gradcheck --layer examples/layers.py:affine_forward --shape x=4,3 --shape w=3,5 --shape b=5
    gradcheck --layer examples/layers.py:affine_forward,affine_backward_bug --shape x=4,3 --shape w=3,5 --shape b=5
"""

import numpy as np


# -- affine -------------------------------------------------------------------------------------
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def affine_backward_bug(dout, cache):
    """db takes the first example's dout instead of the sum over the batch."""
    dx, dw, _ = affine_backward(dout, cache)
    return dx, dw, dout[0].copy()


# -- ReLU ----------------------------------------------------------------------------------------
def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def relu_backward_bug(dout, cache):
    """The mask taken from dout instead of the input."""
    return dout * (dout > 0)


# -- batch normalisation, train mode ---------------------------------------------------------------
def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    momentum = bn_param.get("momentum", 0.9)
    bn_param["running_mean"] = momentum * bn_param.get("running_mean", 0) + (1 - momentum) * mu
    return gamma * xhat + beta, (xhat, gamma, np.sqrt(var + eps))


def batchnorm_backward(dout, cache):
    xhat, gamma, std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dx = (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (N * std)
    return dx, dgamma, dbeta


def batchnorm_backward_bug(dout, cache):
    """The mean and variance treated as constants: the terms through the batch statistics missing."""
    xhat, gamma, std = cache
    return dout * gamma / std, (dout * xhat).sum(axis=0), dout.sum(axis=0)


# -- dropout with a fixed mask (a seed in dropout_param) --------------------------------------------
def dropout_forward(x, dropout_param):
    p = dropout_param["p"]
    mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) < p) / p
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout * cache


def dropout_backward_bug(dout, cache):
    """The mask applied without the 1/p scaling that the forward used."""
    return dout * (cache > 0)


# -- a naive convolution with padding and stride ------------------------------------------------------
def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    H_out, W_out = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache, flip=False):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, F, H_out, W_out = dout.shape
    _, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    kernel = w[:, :, ::-1, ::-1] if flip else w
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
                    dw[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
                    dxp[n, :, rows, cols] += dout[n, f, i, j] * kernel[f]
    dx = dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def conv_backward_naive_bug(dout, cache):
    """dx computed with the kernel flipped (the convolution/correlation slip)."""
    return conv_backward_naive(dout, cache, flip=True)


# -- max pooling ------------------------------------------------------------------------------------
def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // stride, 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw].max(
                axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache, every_max=False):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    N, C, H_out, W_out = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    if every_max:
                        mask = np.ones_like(window) / window.size
                    else:
                        mask = np.zeros_like(window)
                        mask[np.unravel_index(np.argmax(window), window.shape)] = 1
                    dx[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw] += \
                        mask * dout[n, c, i, j]
    return dx


def max_pool_backward_naive_bug(dout, cache):
    """The gradient spread over the whole window (average pooling's backward)."""
    return max_pool_backward_naive(dout, cache, every_max=True)


# -- a vanilla RNN step ----------------------------------------------------------------------------
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache, transpose_wh=False):
    x, prev_h, Wx, Wh, next_h = cache
    dz = dnext_h * (1 - next_h ** 2)
    dWh = prev_h.T @ dz
    return dz @ Wx.T, dz @ Wh.T, x.T @ dz, dWh.T if transpose_wh else dWh, dz.sum(axis=0)


def rnn_step_backward_bug(dnext_h, cache):
    """dWh returned transposed (dz.T @ prev_h where prev_h.T @ dz is meant)."""
    return rnn_step_backward(dnext_h, cache, transpose_wh=True)


# -- losses for check_function ---------------------------------------------------------------------
def softmax_loss(scores, y):
    """The mean cross-entropy of softmax(scores) for integer labels y, and its gradient."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = scores.shape[0]
    loss = -log_probs[np.arange(N), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(N), y] -= 1
    return loss, dscores / N


def l1_loss(pred, target):
    """mean |pred - target| and its gradient sign(pred - target) / size: np.abs has a kink at 0."""
    diff = pred - target
    return np.abs(diff).mean(), np.sign(diff) / diff.size


# -- an LSTM step: two outputs, so backward takes two upstream gradients -------------------------
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    H = prev_h.shape[1]
    i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache, forget_cell_path=False):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + (0 if forget_cell_path else dnext_h * o * (1 - tc ** 2))
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                    dnext_h * tc * o * (1 - o), dc * i * (1 - g ** 2)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_step_backward_bug(dnext_h, dnext_c, cache):
    """dnext_h's path into the cell state forgotten."""
    return lstm_step_backward(dnext_h, dnext_c, cache, forget_cell_path=True)
