"""The adversarial harness for ``check_layer`` and ``check_function``.

    python -m tests.harness layers --seconds 240 --seed 7
    python -m tests.harness layers --replay results/harness/layers-seed7.json --index 3

Hand-written CS231n-style layers (``tests.harness.cs231n``: all correct, each verified against
its own central differences) and planted bugs (here), in float64 and float32, are drawn at random
with a numerical regime (input scale, exact and near ties at kinks, zero gradients, identical
examples, tiny and large batches, float32 inputs), checked, and classified:

    ok           a correct layer passed, or a bug failed naming exactly the wrong arrays
    FALSE_ALARM  a correct layer failed
    REFUSAL      the check raised on a layer (correct or buggy) that computes finite numbers
    MISS         a bug passed: some entry it changed was compared and accepted although the
                 change exceeds the correct code's own distance from the numeric gradient; or
                 (float32 code, or a function with no kink) its entries were all left out as
                 "not compared"
    LEFT_OUT     a bug in a function with kinks passed because every entry it changed was left
                 out as a kink within the steps: what the contract allows, reported apart
    UNDECIDABLE  float32 code (correct or not) whose every entry is swamped by its rounding: the
                 check exits 2 with "nothing could be decided", as the contract says
    DISCLOSED    a bug in float32 code passed, and the report's own note says an error of that
                 size could hide at float32's rounding bound (the contract's worst case): the
                 report is honest about it; counted apart, never as ok
    BELOW_NOISE  a float64 bug passed, every entry it changed compared, and at each the correct
                 code is itself at least as far from the numeric gradient as the bug moved it
                 (a 1e-6 error in a saturated tanh's 1e-12 gradient): no tolerance could catch it
    MISNAMED     a bug failed, but ``report.failing`` names an array the bug did not touch, or
                 none that it did
    PARTIAL      a bug failed naming only some of the arrays it made wrong
    TIMEOUT      the check took longer than the per-check cap
    UNDEFINED    the regime makes the gradient genuinely undefined (batch normalisation with zero
                 variance and eps = 0): whatever gradcheck did is recorded, never counted as a
                 false alarm or a miss

Which arrays a bug makes wrong is not declared but measured: the buggy backward is run next to the
correct one on the same cache and upstream gradient, and an array counts as wrong where they
differ by more than 1e-9 (float64) or 1e-3 (float32) of its size.  A bug that changes nothing in
the drawn case (the 1/N of a softmax at N = 1) is judged as correct code.

Every non-ok case is written with its inputs (exact float values), so it replays with no
randomness: ``replay(case)`` or ``--replay``.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import signal
import sys
import time
import traceback
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gradcheck import check_function, check_layer

from . import cs231n as C

# =================================================================================================
# Regimes
# =================================================================================================
SCALES = ("1e-3", "1e-2", "1e-1", "1e1", "1e2", "1e3")
NEAR = ("1e-9", "1e-6", "1e-4", "6e-4", "2e-3", "rand")


@dataclass(frozen=True)
class Regime:
    """What the inputs look like.  ``make`` functions read the flags; the runner applies scale and
    float32 inputs to every layer alike."""

    name: str
    family: str
    value: object = None

    @property
    def undefined(self):
        return self.family == "constant_eps0"

    # flags read by the make functions
    @property
    def tie(self):
        return self.family == "tie_exact"

    @property
    def near(self):
        return float(self.value) if self.family == "near" and self.value != "rand" else (
            "rand" if self.family == "near" else None)

    @property
    def zero_grad(self):
        return self.family == "zero_grad"

    @property
    def identical(self):
        return self.family == "identical"

    @property
    def constant(self):
        return self.family in ("constant", "constant_eps0")

    def batch(self, default, large):
        if self.family == "batch":
            return {"1": 1, "2": 2, "large": large}[self.value]
        return default

    def rows(self, a):
        """a with every example (axis 0) equal to the first, under ``identical``."""
        if self.identical and a.shape[0] > 1:
            a = a.copy()
            a[1:] = a[0]
        return a

    def distance(self, rng, size=None):
        """The gap of a near tie: the regime's, or one drawn in (0, 4e-3] (about 4 steps)."""
        if self.near == "rand":
            return rng.uniform(1e-5, 4e-3, size)
        return np.full(size, self.near) if size is not None else self.near


def _regimes():
    out = {"normal": Regime("normal", "normal")}
    for s in SCALES:
        out[f"scale_all={s}"] = Regime(f"scale_all={s}", "scale_all", float(s))
        out[f"scale_x={s}"] = Regime(f"scale_x={s}", "scale_x", float(s))
    out["tie_exact"] = Regime("tie_exact", "tie_exact")
    for d in NEAR:
        out[f"near={d}"] = Regime(f"near={d}", "near", d)
    for name in ("zero_grad", "identical", "constant", "constant_eps0", "f32_inputs"):
        out[name] = Regime(name, name)
    for b in ("1", "2", "large"):
        out[f"batch={b}"] = Regime(f"batch={b}", "batch", b)
    return out


REGIMES = _regimes()
COMMON = (("normal",) + tuple(f"scale_all={s}" for s in SCALES)
          + tuple(f"scale_x={s}" for s in SCALES)
          + ("identical", "batch=1", "batch=2", "batch=large", "f32_inputs"))
KINK = ("tie_exact",) + tuple(f"near={d}" for d in NEAR)
NORM = ("constant", "constant_eps0")
SMALL_SCALES_ONLY = tuple(r for r in COMMON if not any(
    r.endswith(s) for s in ("=1e1", "=1e2", "=1e3")))


def _without(regimes, *drop):
    return tuple(r for r in regimes if r not in drop)


# =================================================================================================
# Input makers: make(rng, R) -> list of forward arguments (layers) or (params, data) (functions)
# =================================================================================================
def _n(r, shape):
    return r.standard_normal(shape)


def _kinked(r, R, x, at=0.0):
    """x with about a third of its entries put exactly at ``at`` (tie_exact) or at ``at`` +- a
    small gap (near); ``x`` unchanged otherwise."""
    if not (R.tie or R.near is not None):
        return x
    x = x.copy()
    chosen = r.random(x.shape) < 0.35
    chosen.flat[0] = True
    if R.tie:
        x[chosen] = at
    else:
        gap = R.distance(r, x.shape)
        sign = np.where(r.random(x.shape) < 0.5, -1.0, 1.0)
        x[chosen] = (at + sign * gap)[chosen]
    return x


def make_affine(r, R, square=False):
    N = R.batch(4, 64)
    x = R.rows(_n(r, (N, 2, 3)))
    w = _n(r, (6, 6 if square else 5))
    b = _n(r, (w.shape[1],))
    if R.zero_grad:
        w[:] = 0.0
    return [x, w, b]


def make_elementwise(r, R, kind="relu"):
    N = R.batch(4, 64)
    x = R.rows(_n(r, (N, 5)))
    x = _kinked(r, R, x)
    if R.zero_grad:
        if kind == "relu":
            x = -np.abs(x) - 0.5                                  # every unit dead
        elif kind == "tanh":
            x = np.sign(x) * (25 + np.abs(x))                     # 1 - tanh^2 rounds to 0
        elif kind == "sigmoid":
            x = np.where(x > 0, 40 + x, -800 + x)                 # s = 1 or s = 0 exactly
    args = [x]
    if kind == "leaky":
        args.append({"alpha": 0.1})
    return args


def make_norm(r, R, square=False, layer="batch"):
    N = R.batch(6, 64)
    D = N if square else 4
    x = _n(r, (N, D)) * 2 + 1
    x = R.rows(x)
    gamma, beta = _n(r, (D,)), _n(r, (D,))
    if R.constant:
        if layer == "batch":
            x[1:] = x[0]                        # every feature constant over the batch
        else:
            x[:] = x[:, :1]                     # every example constant over its features
    if R.zero_grad:
        gamma[:] = 0.0
    param = {"mode": "train"}
    if R.family == "constant_eps0":
        param["eps"] = 0.0
    return [x, gamma, beta, param]


def make_spatial_bn(r, R):
    N = R.batch(2, 8)
    x = R.rows(_n(r, (N, 3, 2, 3)) * 2 + 1)
    gamma, beta = _n(r, (3,)), _n(r, (3,))
    if R.constant:
        x[:] = x[:1, :, :1, :1]
    if R.zero_grad:
        gamma[:] = 0.0
    param = {"mode": "train"}
    if R.family == "constant_eps0":
        param["eps"] = 0.0
    return [x, gamma, beta, param]


def make_dropout(r, R):
    N = R.batch(4, 64)
    return [R.rows(_n(r, (N, 5))), {"mode": "train", "p": 0.6, "seed": int(r.integers(1000))}]


def make_conv(r, R, large=6):
    N = R.batch(2, large)
    x = R.rows(_n(r, (N, 3, 5, 5)))
    w = _n(r, (2, 3, 3, 3))
    b = _n(r, (2,))
    if R.zero_grad:
        w[:] = 0.0
    return [x, w, b, {"stride": 2, "pad": 1}]


def make_pool(r, R):
    N = R.batch(2, 8)
    shape = (N, 2, 4, 4)
    if R.tie:
        x = r.integers(-1, 2, shape).astype(float)         # integer grid: windows with equal maxima
    else:
        x = _n(r, shape)
        if R.near is not None:                             # a second entry of each window near its max
            for n in range(N):
                for c in range(2):
                    for i in range(2):
                        for j in range(2):
                            win = x[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
                            top = np.unravel_index(np.argmax(win), win.shape)
                            other = [(a, b) for a in range(2) for b in range(2) if (a, b) != top]
                            a, b = other[r.integers(3)]
                            sign = 1.0 if r.random() < 0.5 else -1.0
                            win[a, b] = win[top] + sign * float(R.distance(r))
    x = R.rows(x)
    return [x, {"pool_height": 2, "pool_width": 2, "stride": 2}]


def make_rnn(r, R):
    N = R.batch(3, 32)
    x, h = R.rows(_n(r, (N, 4))), R.rows(_n(r, (N, 5)))
    Wx, Wh, b = _n(r, (4, 5)) * 0.5, _n(r, (5, 5)) * 0.5, _n(r, (5,))
    if R.zero_grad:
        Wh[:] = 0.0                                        # prev_h reaches nothing: dprev_h = 0
    return [x, h, Wx, Wh, b]


def make_lstm(r, R):
    N, D, H = R.batch(3, 32), 4, 3
    x, h, c = R.rows(_n(r, (N, D))), R.rows(_n(r, (N, H))), R.rows(_n(r, (N, H)))
    Wx, Wh, b = _n(r, (D, 4 * H)) * 0.5, _n(r, (H, 4 * H)) * 0.5, _n(r, (4 * H,))
    if R.zero_grad:
        b[H:2 * H] = -1000.0                               # forget gate shut: f = 0, dprev_c = 0
    return [x, h, c, Wx, Wh, b]


def make_temporal_affine(r, R):
    N = R.batch(2, 32)
    return [R.rows(_n(r, (N, 3, 4))), _n(r, (4, 5)), _n(r, (5,))]


def make_embedding(r, R):
    N = R.batch(2, 16)
    x = r.integers(0, 5, (N, 4))
    x[0, :2] = x[0, 0]                                     # at least one repeated word
    x = R.rows(x)
    return [x, _n(r, (5, 3))]


# -- functions: (params, data) ---------------------------------------------------------------------
def make_scores(r, R, loss="softmax"):
    N, Cn = R.batch(5, 64), 4
    y = r.integers(0, Cn, N)
    if R.tie and loss == "svm":
        x = r.integers(-2, 3, (N, Cn)).astype(float)       # integer scores: margins exactly 0
    else:
        x = _n(r, (N, Cn))
    if R.near is not None and loss == "svm":               # one margin per example near 0
        for n in range(N):
            j = (y[n] + 1 + r.integers(Cn - 1)) % Cn
            sign = 1.0 if r.random() < 0.5 else -1.0
            x[n, j] = x[n, y[n]] - 1.0 + sign * float(R.distance(r))
    if R.zero_grad and loss == "svm":
        x[np.arange(N), y] += 10.0                         # every margin negative: loss 0, grad 0
    if R.identical:
        x[1:] = x[0]
        y[1:] = y[0]
    return {"x": x}, {"y": y}


def make_regression(r, R, loss="l2"):
    N, D = R.batch(4, 64), 3
    target = _n(r, (N, D))
    pred = _n(r, (N, D)) * (2.0 if loss == "huber" else 1.0)
    if loss == "huber" and (R.tie or R.near is not None):
        if R.tie:
            target = r.integers(-8, 8, (N, D)) / 4.0        # dyadic: pred - target exact
            pred = target + r.integers(-12, 12, (N, D)) / 8.0
        resid = pred - target
        chosen = r.random((N, D)) < 0.5
        chosen.flat[0] = True
        sign = np.where(r.random((N, D)) < 0.5, -1.0, 1.0)
        off = 0.0 if R.tie else np.where(r.random((N, D)) < 0.5, -1.0, 1.0) * R.distance(r, (N, D))
        resid = np.where(chosen, sign * (1.0 + off), resid)
        pred = target + resid
    elif loss == "l1":
        pred = target + _kinked(r, R, pred - target)
    if R.zero_grad:
        pred = target.copy()
    if R.identical:
        pred[1:], target[1:] = pred[0], target[0]
    return {"pred": pred}, {"target": target}


def make_logits(r, R):
    N = R.batch(5, 64)
    x = _n(r, (N, 4)) * 2
    y = (r.random((N, 4)) < 0.5).astype(float)
    if R.identical:
        x[1:], y[1:] = x[0], y[0]
    return {"x": x}, {"y": y}


def make_two_layer(r, R, dtype=np.float64):
    N, D, Hn, Cn = R.batch(5, 64), 5, 6, 3
    net = C.TwoLayerNet(D, Hn, Cn, weight_scale=0.5, reg=0.1, rng=r)
    X = _n(r, (N, D))
    y = r.integers(0, Cn, N)
    p = net.params
    if R.tie:                                              # hidden pre-activations exactly 0
        X = r.integers(-2, 3, (N, D)).astype(float)
        p["W1"] = r.integers(-1, 2, (D, Hn)) * 0.5
        p["b1"] = r.integers(-1, 2, Hn) * 0.5
    elif R.near is not None:                               # example 0's units all near their kink
        h0 = X[0] @ p["W1"] + p["b1"]
        sign = np.where(r.random(Hn) < 0.5, -1.0, 1.0)
        p["b1"] = p["b1"] - h0 + sign * R.distance(r, Hn)
    if R.zero_grad:
        p["b1"][: Hn // 2] = -1000.0                       # dead hidden units
    if R.identical:
        X[1:], y[1:] = X[0], y[0]
    params = {k: np.asarray(v, dtype=dtype) for k, v in p.items()}
    return params, {"X": X.astype(dtype), "y": y, "reg": 0.1}


def make_nnfs(r, R):
    N = R.batch(6, 64)
    model = C.NNFSModel(rng=r)
    X = _n(r, (N, 2)).astype(np.float32)
    y = r.integers(0, 3, N)
    if R.identical:
        X[1:], y[1:] = X[0], y[0]
    if R.zero_grad:
        model.params["b1"][0, :4] = -1000.0
    return dict(model.params), {"X": X, "y": y}


# =================================================================================================
# Function targets: loss(params, data) -> (loss, grads dict)
# =================================================================================================
def _pair(name, result):
    loss, d = result
    return loss, {name: d}


def softmax_target(P, D):
    return _pair("x", C.softmax_loss(P["x"], D["y"]))


def svm_target(P, D):
    return _pair("x", C.svm_loss(P["x"], D["y"]))


def huber_target(P, D):
    return _pair("pred", C.huber_loss(P["pred"], D["target"]))


def l1_target(P, D):
    return _pair("pred", C.l1_loss(P["pred"], D["target"]))


def l2_target(P, D):
    return _pair("pred", C.l2_loss(P["pred"], D["target"]))


def sce_target(P, D):
    return _pair("x", C.sigmoid_cross_entropy(P["x"], D["y"]))


def sce_naive_target(P, D):
    return _pair("x", C.sigmoid_cross_entropy_naive(P["x"], D["y"]))


def two_layer_target(P, D):
    net = C.TwoLayerNet.__new__(C.TwoLayerNet)
    net.params, net.reg = P, D["reg"]
    return net.loss(D["X"], D["y"])


def two_layer_f32_target(P, D):
    """FullyConnectedNet(dtype=np.float32): params stored in float32, X cast to the model's dtype."""
    net = C.TwoLayerNet.__new__(C.TwoLayerNet)
    net.params, net.reg = P, np.float32(D["reg"])
    return net.loss(D["X"].astype(np.float32), D["y"])


def nnfs_target(P, D):
    model = C.NNFSModel.__new__(C.NNFSModel)
    model.params = P
    return model.loss(D["X"], D["y"])


def softmax_f32_target(P, D):
    """Scores cast to float32 inside: the loss and gradient come back float32."""
    return _pair("x", C.softmax_loss(P["x"].astype(np.float32), D["y"]))


# =================================================================================================
# float32 versions of layers
# =================================================================================================
def _floats(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def float32_layer(forward, backward, returns=np.float32):
    """forward/backward computing in float32 (inputs and upstream gradients cast inside), returning
    ``returns``: float32 as CS231n's FullyConnectedNet(dtype=np.float32) does, or float64 (code
    computing in float32 and handing back float64)."""

    @functools.wraps(forward)
    def fwd(*args):
        res = forward(*[a.astype(np.float32) if _floats(a) else a for a in args])
        *outs, cache = res
        return (*[np.asarray(o).astype(returns) for o in outs], cache)

    @functools.wraps(backward)
    def bwd(*args):
        *douts, cache = args
        grads = backward(*[d.astype(np.float32) for d in douts], cache)
        if isinstance(grads, np.ndarray):
            return grads.astype(returns)
        return tuple(np.asarray(g).astype(returns) for g in grads)

    fwd.__name__ = forward.__name__ + ("_f32" if returns == np.float32 else "_f32in64")
    bwd.__name__ = backward.__name__ + ("_f32" if returns == np.float32 else "_f32in64")
    return fwd, bwd


# =================================================================================================
# Planted bugs: edits of the correct backward passes
# =================================================================================================
def affine_backward_db_one_example(dout, cache):
    dx, dw, _ = C.affine_backward(dout, cache)
    return dx, dw, dout[0].copy()


def affine_backward_dw_transposed(dout, cache):
    dx, dw, db = C.affine_backward(dout, cache)
    return dx, dw.T, db


def relu_backward_mask_from_dout(dout, cache):
    dx = dout.copy()
    dx[dout <= 0] = 0
    return dx


def leaky_relu_backward_no_slope(dout, cache):
    x, alpha = cache
    return np.where(x > 0, dout, 0.0)


def sigmoid_backward_factor2(dout, cache):
    return 2 * C.sigmoid_backward(dout, cache)


def tanh_backward_no_square(dout, cache):
    return dout * (1 - cache)


def batchnorm_backward_no_mean_term(dout, cache):
    """The long backward with the branch through mu (dx2) dropped."""
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N, D = dout.shape
    dxhat = dout * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
    dx = dxhat * ivar + 2 * xmu * (1.0 / N) * dvar
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def batchnorm_backward_alt_no_stats(dout, cache):
    """The batch mean and variance treated as constants."""
    xhat, gamma, std = cache
    return dout * gamma / std, np.sum(dout * xhat, axis=0), dout.sum(axis=0)


def batchnorm_backward_alt_wrong_axis(dout, cache):
    """sum over the features (axis 1) where the batch (axis 0) is meant; keepdims hides it."""
    xhat, gamma, std = cache
    N = dout.shape[0]
    dxhat = dout * gamma
    dx = (1.0 / N) / std * (N * dxhat - dxhat.sum(axis=1, keepdims=True)
                             - xhat * np.sum(dxhat * xhat, axis=0))
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)


def layernorm_backward_wrong_axis(dout, cache):
    """The batchnorm formula kept: sums over the batch where layernorm sums over the features."""
    xhat, gamma, std = cache
    D = dout.shape[1]
    dxhat = dout * gamma
    dx = (D * dxhat - dxhat.sum(axis=0, keepdims=True)
          - xhat * np.sum(dxhat * xhat, axis=1, keepdims=True)) / (D * std)
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)


def layernorm_backward_broadcast(dout, cache):
    """keepdims forgotten: the per-example sums (N,) broadcast along the feature axis (N == D)."""
    xhat, gamma, std = cache
    D = dout.shape[1]
    dxhat = dout * gamma
    dx = (D * dxhat - dxhat.sum(axis=1)
          - xhat * np.sum(dxhat * xhat, axis=1, keepdims=True)) / (D * std)
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)


def spatial_batchnorm_backward_no_transpose(dout, cache):
    bn_cache, (N, Cc, H, W) = cache
    dx_flat, dgamma, dbeta = C.batchnorm_backward_alt(dout.reshape(-1, Cc), bn_cache)
    return dx_flat.reshape(N, Cc, H, W), dgamma, dbeta


def dropout_backward_no_scale(dout, cache):
    _, mask = cache
    return dout * (mask > 0)


def conv_backward_naive_crop_off_by_one(dout, cache):
    """dx cropped one row low out of the padded gradient: every row of dx off by one."""
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    H, W = x.shape[2], x.shape[3]
    _, dw, db = C.conv_backward_naive(dout, cache)
    dxp = np.zeros((x.shape[0], x.shape[1], H + 2 * pad + 1, W + 2 * pad))
    # recompute dx_pad as the correct code does, then take the wrong window
    stride = conv_param["stride"]
    F, _, HH, WW = w.shape
    for n in range(x.shape[0]):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    hs, ws = i * stride, j * stride
                    dxp[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]
    dx = dxp[:, :, pad + 1:pad + 1 + H, pad:pad + W]
    return dx, dw, db


def conv_backward_im2col_dw_reshape(dout, cache):
    """dw reshaped in the wrong order: (F, HH, WW, C) read as (F, C, HH, WW)."""
    x_shape, w, cols, conv_param, (k, i, j) = cache
    dx, dw, db = C.conv_backward_im2col(dout, cache)
    F, Cc, HH, WW = w.shape
    return dx, dw.reshape(F, HH, WW, Cc).transpose(0, 3, 1, 2).reshape(w.shape) \
        if Cc != 1 else dw, db


def conv_backward_im2col_db_one_example(dout, cache):
    dx, dw, _ = C.conv_backward_im2col(dout, cache)
    return dx, dw, np.sum(dout[0], axis=(1, 2))


def max_pool_backward_window_off_by_one(dout, cache):
    """The argmax taken in the window one column to the right."""
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, Cc, H_out, W_out = dout.shape
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for n in range(N):
        for c in range(Cc):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride + 1
                    window = x[n, c, hs:hs + ph, ws:ws + pw]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, hs + a, ws + b] += dout[n, c, i, j]
    return dx


def avg_pool_backward_no_division(dout, cache):
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    return C.avg_pool_backward(dout, cache) * (ph * pw)


def rnn_step_backward_dWh_transposed(dnext_h, cache):
    dx, dh, dWx, dWh, db = C.rnn_step_backward(dnext_h, cache)
    return dx, dh, dWx, dWh.T, db


def lstm_step_backward_no_h_to_c(dnext_h, dnext_c, cache):
    """dnext_h's path into the cell state forgotten."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    dc = dnext_c
    do = dnext_h * tanh_c
    da = np.concatenate([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), do * o * (1 - o),
                         dc * i * (1 - g ** 2)], axis=1)
    return da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)


def temporal_affine_backward_db_mean(dout, cache):
    dx, dw, db = C.temporal_affine_backward(dout, cache)
    return dx, dw, db / dout.shape[1]


def word_embedding_backward_buffered(dout, cache):
    """dW[x] += dout: numpy's buffered fancy assignment counts a repeated word once."""
    x, W = cache
    dW = np.zeros_like(W, dtype=np.result_type(W, dout))
    dW[x] += dout
    return dW


def softmax_target_no_divide(P, D):
    loss, dx = C.softmax_loss(P["x"], D["y"])
    return loss, {"x": dx * P["x"].shape[0]}


def svm_target_minus_one(P, D):
    x, y = P["x"], D["y"]
    loss, dx = C.svm_loss(x, y)
    N = x.shape[0]
    dx = dx * N
    dx[np.arange(N), y] = np.where(dx[np.arange(N), y] < 0, -1.0, 0.0)
    return loss, {"x": dx / N}


def huber_target_l1_gradient(P, D):
    loss, _ = C.huber_loss(P["pred"], D["target"])
    r = P["pred"] - D["target"]
    return loss, {"pred": np.sign(r) / r.size}


def l1_target_no_divide(P, D):
    loss, g = C.l1_loss(P["pred"], D["target"])
    return loss, {"pred": g * g.size}


def l2_target_factor2(P, D):
    loss, g = C.l2_loss(P["pred"], D["target"])
    return loss, {"pred": 2 * g}


def sce_target_sign(P, D):
    loss, g = C.sigmoid_cross_entropy(P["x"], D["y"])
    return loss, {"x": -g}


def sce_naive_target_sign(P, D):
    loss, g = C.sigmoid_cross_entropy_naive(P["x"], D["y"])
    return loss, {"x": -g}


def two_layer_target_reg_factor(P, D):
    """0.5 reg ||W||^2 in the loss, 2 reg W in the gradient."""
    loss, g = two_layer_target(P, D)
    g = dict(g)
    g["W1"] = g["W1"] + D["reg"] * P["W1"]
    g["W2"] = g["W2"] + D["reg"] * P["W2"]
    return loss, g


def two_layer_target_db1_one_example(P, D):
    net = C.TwoLayerNet.__new__(C.TwoLayerNet)
    net.params, net.reg = P, D["reg"]
    X, y = D["X"], D["y"]
    h, c1 = C.affine_relu_forward(X, P["W1"], P["b1"])
    scores, c2 = C.affine_forward(h, P["W2"], P["b2"])
    loss, dscores = C.softmax_loss(scores, y)
    loss += 0.5 * net.reg * (np.sum(P["W1"] ** 2) + np.sum(P["W2"] ** 2))
    dh, dW2, db2 = C.affine_backward(dscores, c2)
    fc, relu = c1
    da = C.relu_backward(dh, relu)
    _, dW1, _ = C.affine_backward(da, fc)
    return loss, {"W1": dW1 + net.reg * P["W1"], "b1": da[0].copy(),
                  "W2": dW2 + net.reg * P["W2"], "b2": db2}


# =================================================================================================
# The catalogue
# =================================================================================================
@dataclass(frozen=True)
class Bug:
    fn: object                      # a backward (layers) or a target (functions)
    what: str
    regimes: tuple = None           # restrict the regimes (None: the spec's)
    make_kw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    name: str
    kind: str                       # "layer" or "function"
    make: object
    forward: object = None
    backward: object = None
    target: object = None
    regimes: tuple = COMMON
    bugs: dict = field(default_factory=dict)
    precision: str = "float64"      # what the code computes in: float64, float32, f32in64
    note: str = ""
    kinked: bool = False            # the function has kinks (a jump in its first derivative)

    @property
    def generic_bug(self):
        return "entry_1e-6" if self.precision == "float64" else "array_10pct"


def _layer(name, make, fwd, bwd, regimes=COMMON, bugs=None, note=""):
    return Spec(name, "layer", make, forward=fwd, backward=bwd, regimes=regimes, bugs=bugs or {},
                note=note, kinked=name in KINKED)


def _function(name, make, target, regimes=COMMON, bugs=None, precision="float64", note=""):
    return Spec(name, "function", make, target=target, regimes=regimes, bugs=bugs or {},
                precision=precision, note=note, kinked=name in KINKED)


#: the specs whose function has kinks (max, abs, a comparison with a jump in the first
#: derivative): ReLU, leaky ReLU, max pooling, the hinge, L1, and the models built with ReLU
KINKED = {"relu", "leaky_relu", "max_pool", "max_pool_eqmask", "svm_loss", "l1_loss",
          "two_layer_net", "relu_f32", "max_pool_f32", "nnfs_model_f32", "two_layer_net_f32"}


def _f32(spec, returns=np.float32, regimes=None, bugs=()):
    """The float32 twin of a layer spec; ``bugs`` names the spec's bugs carried over (cast too)."""
    fwd, bwd = float32_layer(spec.forward, spec.backward, returns)
    suffix = "_f32" if returns == np.float32 else "_f32in64"
    carried = {}
    for b in bugs:
        _, bb = float32_layer(spec.forward, spec.bugs[b].fn, returns)
        carried[b] = Bug(bb, spec.bugs[b].what, spec.bugs[b].regimes, spec.bugs[b].make_kw)
    return Spec(spec.name + suffix, "layer", spec.make, forward=fwd, backward=bwd,
                regimes=_without(regimes or spec.regimes, "f32_inputs"), bugs=carried,
                precision="float32" if returns == np.float32 else "f32in64",
                note="computes in float32", kinked=spec.kinked)


def _catalogue():
    p = functools.partial
    specs = [
        _layer("affine", make_affine, C.affine_forward, C.affine_backward,
               COMMON + ("zero_grad",),
               {"db_one_example": Bug(affine_backward_db_one_example, "bias gradient from one example"),
                "dw_transposed": Bug(affine_backward_dw_transposed, "transposed weight gradient",
                                     make_kw={"square": True})}),
        _layer("relu", make_elementwise, C.relu_forward, C.relu_backward,
               COMMON + KINK + ("zero_grad",),
               {"mask_from_dout": Bug(relu_backward_mask_from_dout, "mask from dout instead of x")}),
        _layer("leaky_relu", p(make_elementwise, kind="leaky"), C.leaky_relu_forward,
               C.leaky_relu_backward, COMMON + KINK,
               {"no_slope": Bug(leaky_relu_backward_no_slope, "negative side's slope dropped")}),
        _layer("sigmoid", p(make_elementwise, kind="sigmoid"), C.sigmoid_forward, C.sigmoid_backward,
               COMMON + ("zero_grad",), {"factor2": Bug(sigmoid_backward_factor2, "factor 2")}),
        _layer("tanh", p(make_elementwise, kind="tanh"), C.tanh_forward, C.tanh_backward,
               COMMON + ("zero_grad",), {"no_square": Bug(tanh_backward_no_square, "1 - out, not 1 - out^2")}),
        _layer("batchnorm_staged", make_norm, C.batchnorm_forward, C.batchnorm_backward,
               COMMON + ("zero_grad",) + NORM,
               {"no_mean_term": Bug(batchnorm_backward_no_mean_term, "term through the batch mean missing")}),
        _layer("batchnorm_alt", make_norm, C.batchnorm_forward_var, C.batchnorm_backward_alt,
               COMMON + ("zero_grad",) + NORM,
               {"no_stats_terms": Bug(batchnorm_backward_alt_no_stats, "terms through mean and variance missing"),
                "wrong_axis": Bug(batchnorm_backward_alt_wrong_axis, "sum over the wrong axis")}),
        _layer("layernorm", p(make_norm, layer="layer"), C.layernorm_forward, C.layernorm_backward,
               COMMON + ("zero_grad",) + NORM,
               {"wrong_axis": Bug(layernorm_backward_wrong_axis, "sum over the wrong axis"),
                "broadcast": Bug(layernorm_backward_broadcast, "broadcast along the wrong axis",
                                 regimes=_without(COMMON, "batch=1", "batch=2", "batch=large"),
                                 make_kw={"square": True})}),
        _layer("spatial_batchnorm", make_spatial_bn, C.spatial_batchnorm_forward,
               C.spatial_batchnorm_backward, COMMON + ("zero_grad",) + NORM,
               {"no_transpose": Bug(spatial_batchnorm_backward_no_transpose,
                                    "dout reshaped without the transpose (channels mixed)")}),
        _layer("dropout", make_dropout, C.dropout_forward, C.dropout_backward, COMMON,
               {"no_scale": Bug(dropout_backward_no_scale, "mask without the 1/p")}),
        _layer("conv_naive", make_conv, C.conv_forward_naive, C.conv_backward_naive,
               COMMON + ("zero_grad",),
               {"crop_off_by_one": Bug(conv_backward_naive_crop_off_by_one, "off-by-one window in dx")}),
        _layer("conv_im2col", p(make_conv, large=8), C.conv_forward_im2col, C.conv_backward_im2col,
               COMMON + ("zero_grad",),
               {"dw_reshape": Bug(conv_backward_im2col_dw_reshape, "dw reshaped in the wrong order"),
                "db_one_example": Bug(conv_backward_im2col_db_one_example, "bias gradient from one example")}),
        _layer("max_pool", make_pool, C.max_pool_forward_naive, C.max_pool_backward_naive,
               COMMON + KINK,
               {"window_off_by_one": Bug(max_pool_backward_window_off_by_one, "off-by-one pooling window")}),
        _layer("max_pool_eqmask", make_pool, C.max_pool_forward_naive, C.max_pool_backward_eqmask,
               COMMON + KINK),
        _layer("avg_pool", make_pool, C.avg_pool_forward, C.avg_pool_backward, COMMON,
               {"no_division": Bug(avg_pool_backward_no_division, "window size not divided out")}),
        _layer("rnn_step", make_rnn, C.rnn_step_forward, C.rnn_step_backward,
               COMMON + ("zero_grad",),
               {"dWh_transposed": Bug(rnn_step_backward_dWh_transposed, "transposed weight gradient")}),
        _layer("lstm_step", make_lstm, C.lstm_step_forward, C.lstm_step_backward,
               COMMON + ("zero_grad",),
               {"no_h_to_c": Bug(lstm_step_backward_no_h_to_c, "dnext_h's path into the cell missing")}),
        _layer("temporal_affine", make_temporal_affine, C.temporal_affine_forward,
               C.temporal_affine_backward, COMMON,
               {"db_mean": Bug(temporal_affine_backward_db_mean, "bias gradient averaged over time")}),
        # x is an integer array: scale_x would scale nothing differentiated
        _layer("word_embedding", make_embedding, C.word_embedding_forward, C.word_embedding_backward,
               tuple(r for r in COMMON if not r.startswith("scale_x")),
               {"buffered": Bug(word_embedding_backward_buffered, "dW[x] += dout drops repeated words")}),
        _function("softmax_loss", make_scores, softmax_target, COMMON,
                  {"no_divide": Bug(softmax_target_no_divide, "1/N missing")}),
        _function("svm_loss", p(make_scores, loss="svm"), svm_target, COMMON + KINK + ("zero_grad",),
                  {"minus_one": Bug(svm_target_minus_one, "correct class gets -1, not -count")}),
        _function("huber_loss", p(make_regression, loss="huber"), huber_target, COMMON + KINK,
                  {"l1_gradient": Bug(huber_target_l1_gradient, "sign(r) everywhere")}),
        _function("l1_loss", p(make_regression, loss="l1"), l1_target, COMMON + KINK,
                  {"no_divide": Bug(l1_target_no_divide, "1/size missing")}),
        _function("l2_loss", make_regression, l2_target, COMMON + ("zero_grad",),
                  {"factor2": Bug(l2_target_factor2, "factor 2")}),
        _function("sigmoid_ce", make_logits, sce_target, COMMON,
                  {"sign": Bug(sce_target_sign, "sign flipped")}),
        # log(s) and log(1 - s) overflow to -inf past |x| ~ 37: the textbook form is genuinely
        # broken at the large scales, so they are left out for it
        _function("sigmoid_ce_naive", make_logits, sce_naive_target, SMALL_SCALES_ONLY,
                  {"sign": Bug(sce_naive_target_sign, "sign flipped")}),
        _function("two_layer_net", make_two_layer, two_layer_target, COMMON + KINK + ("zero_grad",),
                  {"reg_factor": Bug(two_layer_target_reg_factor, "2 reg W with 0.5 reg ||W||^2"),
                   "db1_one_example": Bug(two_layer_target_db1_one_example, "b1 gradient from one example")}),
    ]
    by = {s.name: s for s in specs}
    specs += [
        _f32(by["affine"], bugs=("db_one_example",)),
        _f32(by["affine"], np.float64),
        _f32(by["relu"], bugs=("mask_from_dout",)),
        _f32(by["tanh"]),
        _f32(by["sigmoid"], np.float64),
        _f32(by["batchnorm_alt"], bugs=("no_stats_terms",)),
        _f32(by["batchnorm_staged"], np.float64),
        _f32(by["conv_im2col"]),
        _f32(by["max_pool"]),
        _f32(by["rnn_step"], bugs=("dWh_transposed",)),
        _function("softmax_loss_f32", make_scores, softmax_f32_target, _without(COMMON, "f32_inputs"),
                  precision="float32"),
        # nnfs clips the probabilities to [1e-7, 1 - 1e-7] and keeps the unclipped gradient: past
        # scale 10 the clip is active and the gradient genuinely wrong, so large scales are out
        _function("nnfs_model_f32", make_nnfs, nnfs_target,
                  _without(SMALL_SCALES_ONLY, "f32_inputs") + ("zero_grad",), precision="float32"),
        _function("two_layer_net_f32", p(make_two_layer, dtype=np.float32), two_layer_f32_target,
                  _without(COMMON, "f32_inputs") + KINK, precision="float32",
                  bugs={"reg_factor": Bug(two_layer_target_reg_factor, "2 reg W with 0.5 reg ||W||^2")}),
    ]
    return {s.name: s for s in specs}


SPECS = _catalogue()


# =================================================================================================
# Cases: drawing, building, running, classifying
# =================================================================================================
@dataclass(frozen=True)
class Case:
    spec: str
    variant: str                    # "correct", a bug's name, or "entry_1e-6:K" / "array_10pct:K"
    regime: str
    seed: int

    @property
    def correct(self):
        return self.variant == "correct"


def variants(spec):
    return ("correct",) + tuple(spec.bugs) + (spec.generic_bug,)


def regimes_for(spec, variant):
    base = variant.split(":")[0]
    if base in spec.bugs and spec.bugs[base].regimes is not None:
        return tuple(r for r in spec.bugs[base].regimes if r in spec.regimes)
    return spec.regimes


def draw(rng, names=None):
    """One case: a spec, correct half the time (else one of its bugs), a regime it supports."""
    names = sorted(SPECS) if names is None else list(names)
    spec = SPECS[names[int(rng.integers(len(names)))]]
    bugs = variants(spec)[1:]
    variant = "correct" if rng.random() < 0.5 else bugs[int(rng.integers(len(bugs)))]
    regs = regimes_for(spec, variant)
    regime = regs[int(rng.integers(len(regs)))]
    return Case(spec.name, variant, regime, int(rng.integers(2 ** 31)))


def draw_case(rng, names=None):
    """``draw``, with a generic bug's array (which one it perturbs) drawn too."""
    case = draw(rng, names)
    spec = SPECS[case.spec]
    if case.variant == spec.generic_bug:
        case = Case(case.spec, f"{case.variant}:{int(rng.integers(_count_arrays(case)))}",
                    case.regime, case.seed)
    return case


def build(case):
    """The inputs of a case: a list of forward arguments, or (params, data)."""
    spec = SPECS[case.spec]
    R = REGIMES[case.regime]
    rng = np.random.default_rng(case.seed)
    base = case.variant.split(":")[0]
    kw = spec.bugs[base].make_kw if base in spec.bugs else {}
    made = spec.make(rng, R, **kw)
    if spec.kind == "layer":
        args = list(made)
        floats = [i for i, a in enumerate(args) if _floats(a)]
        scaled = floats if R.family == "scale_all" else floats[:1]
        if R.family in ("scale_all", "scale_x"):
            for i in scaled:
                args[i] = args[i] * R.value
        if R.family == "f32_inputs":
            for i in floats:
                args[i] = args[i].astype(np.float32)
        return args
    params, data = made
    names = list(params)
    if R.family in ("scale_all", "scale_x"):
        for k in (names if R.family == "scale_all" else names[:1]):
            params[k] = params[k] * np.asarray(R.value, dtype=params[k].dtype)
        if R.family == "scale_all":
            for k, v in data.items():
                if _floats(v) and k not in ("y",):
                    data[k] = v * np.asarray(R.value, dtype=v.dtype)
    if R.family == "f32_inputs":
        params = {k: v.astype(np.float32) for k, v in params.items()}
    return params, data


def _generic(case):
    """(kind, array index) of a generic bug variant, or None."""
    if ":" in case.variant:
        kind, k = case.variant.split(":")
        return kind, int(k)
    return None


def _perturb(g, kind, precision="float64"):
    """A generic bug: one entry (the largest) 1e-6 off in relative terms, or the whole array 10%
    off, computed in the precision the code computes in (float32 code returning float64 makes its
    error in float32 too)."""
    g = np.array(g, copy=True)
    if kind == "entry_1e-6":
        k = int(np.argmax(np.abs(g)))
        g.flat[k] = g.flat[k] * (1 + 1e-6)
    elif precision == "float64":
        g = g * 1.1
    else:
        g = (g.astype(np.float32) * np.float32(1.1)).astype(g.dtype)
    return g


class Recorder:
    """Wraps a buggy backward (or target): on its first call, also runs the correct one on copies
    of the same arguments and records which arrays the bug changed, and where."""

    def __init__(self, threshold, unit=2.0 ** -53):
        self.threshold = threshold
        self.unit = unit            # the code's rounding unit: noise around a zero is a few of it
        self.wrong = None           # name -> boolean mask of the entries the bug changed
        self.beyond_rounding = set()  # the arrays it changed beyond the floor, however little
        self.good = None            # name -> the correct backward's gradient

    def record(self, names, correct, buggy):
        """An entry is wrong where the two differ by more than ``threshold`` of its array's size
        and by more than 64 units of the code's rounding times the largest gradient entry of any
        array (below that, both are rounding noise around a zero: a dgamma of 1e-13 when xhat is
        0; an array small against the others, a batchnorm's dx at input scale 1e3, is not)."""
        self.wrong = {}
        pairs = [(np.asarray(c, dtype=float), np.asarray(b, dtype=float))
                 for c, b in zip(correct, buggy)]
        self.good = {n: c for n, (c, _) in zip(names, pairs)}
        largest = max(float(np.max(np.abs(c), initial=0)) for c, _ in pairs)
        floor = 64 * self.unit * largest
        for n, (c, b) in zip(names, pairs):
            if c.shape != b.shape:
                self.wrong[n] = np.ones(c.shape, dtype=bool)
                continue
            diff = np.abs(c - b)
            scale = max(float(np.max(np.abs(c), initial=0)), float(np.max(np.abs(b), initial=0)))
            mask = (diff > self.threshold * scale) & (diff > floor)
            if scale > 0 and mask.any():
                self.wrong[n] = mask
            if np.any(diff > floor):
                self.beyond_rounding.add(n)


def _as_tuple(g):
    return (g,) if isinstance(g, np.ndarray) else tuple(g)


def layer_functions(case, recorder=None):
    """(forward, backward) of a layer case; the backward buggy and recording where it applies."""
    spec = SPECS[case.spec]
    if case.correct:
        return spec.forward, spec.backward
    gen = _generic(case)
    if gen:
        kind, k = gen

        def bug(*args):
            grads = list(_as_tuple(spec.backward(*args)))
            grads[k] = _perturb(grads[k], kind, spec.precision)
            return grads[0] if len(grads) == 1 else tuple(grads)
    else:
        bug = spec.bugs[case.variant].fn
    names = [n for n in _float_names(spec.forward, case)]

    @functools.wraps(bug)
    def backward(*args):
        *douts, cache = args
        out = bug(*args)
        if recorder is not None and recorder.wrong is None:
            good = spec.backward(*[np.array(d, copy=True) for d in douts], copy.deepcopy(cache))
            recorder.record(names, _as_tuple(good), _as_tuple(out))
        return out
    return spec.forward, backward


def _float_names(forward, case):
    import inspect
    params = list(inspect.signature(forward).parameters)
    args = build(case)
    return [params[i] for i, a in enumerate(args) if _floats(a)]


def function_target(case, recorder=None):
    """target(params, data) of a function case, buggy and recording where it applies."""
    spec = SPECS[case.spec]
    if case.correct:
        return spec.target
    gen = _generic(case)
    if gen:
        kind, k = gen

        def bug(P, D):
            loss, grads = spec.target(P, D)
            grads = dict(grads)
            name = list(P)[k]
            grads[name] = _perturb(grads[name], kind, spec.precision)
            return loss, grads
    else:
        bug = spec.bugs[case.variant].fn

    def target(P, D):
        loss, grads = bug(P, D)
        if recorder is not None and recorder.wrong is None:
            _, good = spec.target(P, D)
            recorder.record(list(P), [good[n] for n in P], [grads[n] for n in P])
        return loss, grads
    return target


def run_check(case, inputs, recorder=None):
    """The report of gradcheck on a case with the given inputs (as ``build`` makes them)."""
    spec = SPECS[case.spec]
    if spec.kind == "layer":
        fwd, bwd = layer_functions(case, recorder)
        return check_layer(fwd, bwd, *inputs)
    params, data = inputs
    target = function_target(case, recorder)
    return check_function(lambda: target(params, data), params)


class CheckTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CheckTimeout()


CATEGORIES = ("ok", "FALSE_ALARM", "REFUSAL", "UNDECIDABLE", "MISS", "MISNAMED", "PARTIAL",
              "LEFT_OUT", "DISCLOSED",
              "BELOW_NOISE", "TIMEOUT", "UNDEFINED")


def _entry_verdicts(report, name, mask):
    """(compared and wrong, left out) counts among the entries ``mask`` of array ``name``: an entry
    outside its tolerance in an array that passed was left out as not compared."""
    an, num, tol = report.arrays[name]
    off = ~(np.abs(an - num) <= tol)
    p = report.parameter(name)
    if p.passed:
        return 0, int(np.count_nonzero(off & mask))
    return int(np.count_nonzero(off & mask)), None


def _disclosed(report):
    """The fraction of an array's largest entry below which the report says an error could hide
    (its float32 note), or None."""
    import re
    for note in report.notes:
        found = re.search(r"an error below about (\S+) of an array's largest entry", note)
        if found:
            return float(found.group(1))
    return None


def _relative(report, name, mask):
    """How far the code's gradient is from the numeric one at the bug's entries, relative to the
    array's largest true entry."""
    an, num, _ = report.arrays[name]
    top = float(np.max(np.abs(num), initial=0.0))
    err = float(np.max(np.abs(an - num)[mask], initial=0.0))
    return err / top if top > 0 else np.inf


def _passed_bug(spec, report, wrong, recorder, regime=None):
    """(category, why) of a bug that passed.  Each entry the bug changed was either left out (not
    compared: a kink within the steps), or compared and accepted; an accepted one is below noise
    where the correct code itself is at least as far from the numeric gradient as the bug moved
    it (no tolerance could catch the bug without failing correct code), else missed."""
    left, below, missed = 0, 0, 0
    parts = []
    for n, mask in wrong.items():
        an, num, tol = report.arrays[n]
        good = recorder.good[n]
        if report.left_out is not None:                            # the report says which
            out = report.left_out[n] & mask
        else:
            out = ~(np.abs(an - num) <= tol) & mask                # outside tolerance, yet passed
        quiet = np.abs(an - good) <= np.abs(good - num)
        l_, b_ = int(out.sum()), int((mask & ~out & quiet).sum())
        m_ = int(mask.sum()) - l_ - b_
        left, below, missed = left + l_, below + b_, missed + m_
        parts.append(f"{n}: {int(mask.sum())} wrong entries: {l_} left out as kinks, {b_} compared "
                     f"but within the correct code's own distance from the numeric gradient, "
                     f"{m_} compared and accepted")
    why = "; ".join(parts)
    if missed and spec.precision != "float64":
        # float32 code is held to its report: a bug it accepted must be within what the report
        # says could hide at float32's rounding
        hides = _disclosed(report)
        size = max(_relative(report, n, mask) for n, mask in wrong.items())
        if hides is not None and size <= hides:
            return "DISCLOSED", why + f" (the report says errors below {hides:.0e} may hide)"
        return "MISS", why
    if missed:
        return "MISS", why
    if left:
        # left out: at a kink, or where the function varies on a scale finer than any step its
        # precision allows (batch statistics of nearly constant inputs)
        if spec.kinked or (regime is not None and regime.family == "constant"):
            return "LEFT_OUT", why
        return "MISS", why + " (this function has no kink near these inputs)"
    return "BELOW_NOISE", why


def _swamped_in_float32(spec, regime, error):
    """Nothing could be decided, every entry for the rounding bound of float32 code (or a kink):
    the contract's exit 2 for code whose float32 rounding swamps its gradient (a model at scale
    1e-3, a saturated sigmoid), not a refusal."""
    import re
    text = str(error)
    if type(error).__name__ != "Undecidable" or (spec.precision == "float64"
                                                  and regime.family != "f32_inputs"):
        return False
    reasons = re.findall(r"\d+ where ([^;)]+)", text)
    return bool(reasons) and all("rounding bound" in r or "kink" in r for r in reasons)


def classify(case, report=None, error=None, recorder=None):
    """(category, why) of a finished case."""
    spec = SPECS[case.spec]
    R = REGIMES[case.regime]
    if isinstance(error, CheckTimeout):
        cat, why = "TIMEOUT", "the check exceeded its time cap"
    elif error is not None and _swamped_in_float32(spec, R, error):
        cat, why = "UNDECIDABLE", f"{type(error).__name__}: {error}"
    elif error is not None:
        cat, why = "REFUSAL", f"{type(error).__name__}: {error}"
    else:
        cat, why = _judged(case, report, recorder, spec, R)
    if R.undefined:
        return "UNDEFINED", f"{cat}: {why}"
    return cat, why


def _judged(case, report, recorder, spec, R):
    """(category, why) of a case the check gave a report for."""
    wrong = {} if case.correct or recorder is None or recorder.wrong is None else recorder.wrong
    failing = set(report.failing)
    small = set() if case.correct or recorder is None else recorder.beyond_rounding
    if not wrong and failing and failing <= small:
        # a bug below the harness's threshold, caught all the same: not a false alarm
        return "ok", (f"failed on {sorted(failing)}, which the bug changed by less than the "
                      "threshold but beyond rounding")
    if not wrong:
        inactive = "" if case.correct else " (the bug changes nothing here: judged as correct)"
        cat = "ok" if report.passed else "FALSE_ALARM"
        return cat, ("passed" if report.passed else f"correct code failed on {sorted(failing)}") + inactive
    if report.passed:
        return _passed_bug(spec, report, wrong, recorder, R)
    expected = set(wrong)
    if failing - expected - small or not failing & expected:
        return "MISNAMED", f"failing {sorted(failing)}, the bug changed {sorted(expected)}"
    if failing < expected:
        return "PARTIAL", f"failing {sorted(failing)}, the bug changed {sorted(expected)}"
    return "ok", f"failed on {sorted(failing)} as it should"


def run_case(case, cap=30.0):
    """Everything about one case: its category and what gradcheck said."""
    spec = SPECS[case.spec]
    inputs = build(case)
    recorder = None if case.correct else (Recorder(1e-9) if spec.precision == "float64"
                                          else Recorder(1e-3, 2.0 ** -24))
    report = error = None
    tb = None
    started = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _alarm) if cap else None
    try:
        if cap:
            signal.setitimer(signal.ITIMER_REAL, cap)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            report = run_check(case, copy.deepcopy(inputs), recorder)
    except Exception as e:  # noqa: BLE001 - every exception is an outcome here
        error = e
        tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-6:])
    finally:
        if cap:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    seconds = time.perf_counter() - started
    category, why = classify(case, report, error, recorder)
    return Outcome(case, category, why, report, error, tb, seconds, inputs)


@dataclass
class Outcome:
    case: Case
    category: str
    why: str
    report: object = field(repr=False)
    error: object = field(repr=False)
    traceback: str = field(repr=False)
    seconds: float = field(repr=False)
    inputs: object = field(repr=False)

    def to_dict(self):
        spec = SPECS[self.case.spec]
        d = {"spec": self.case.spec, "variant": self.case.variant, "regime": self.case.regime,
             "seed": self.case.seed, "category": self.category, "why": self.why,
             "precision_of_code": spec.precision, "seconds": round(self.seconds, 3)}
        if self.report is not None:
            r = self.report
            d.update(passed=r.passed, failing=r.failing, method=r.method, precision=r.precision,
                     notes=list(r.notes), diagnosis=r.diagnosis,
                     arrays={p.name: {"passed": p.passed, "checked": p.checked,
                                      "skipped": p.skipped, "mismatches": p.mismatches,
                                      "max_relative_error": _finite(p.max_relative_error)}
                             for p in r.parameters},
                     report=str(r))
        if self.error is not None:
            d["error"] = f"{type(self.error).__name__}: {self.error}"
            d["traceback"] = self.traceback
        d["inputs"] = encode_inputs(spec, self.inputs)
        d["replay"] = reproducer_snippet(self.case)
        return d


def _finite(v):
    v = float(v)
    return v if np.isfinite(v) else None


# =================================================================================================
# Reproducers
# =================================================================================================
def _encode(v):
    if isinstance(v, np.ndarray):
        return {"array": v.tolist(), "dtype": str(v.dtype), "shape": list(v.shape)}
    if isinstance(v, (np.floating, np.integer)):
        return {"scalar": v.item(), "dtype": str(v.dtype)}
    return {"value": v}


def _decode(d):
    if "array" in d:
        return np.array(d["array"], dtype=d["dtype"]).reshape(d["shape"])
    if "scalar" in d:
        return np.dtype(d["dtype"]).type(d["scalar"])
    return d["value"]


def encode_inputs(spec, inputs):
    if spec.kind == "layer":
        return {"args": [_encode(a) for a in inputs]}
    params, data = inputs
    return {"params": {k: _encode(v) for k, v in params.items()},
            "data": {k: _encode(v) for k, v in data.items()}}


def decode_inputs(spec, enc):
    if spec.kind == "layer":
        return [_decode(a) for a in enc["args"]]
    return ({k: _decode(v) for k, v in enc["params"].items()},
            {k: _decode(v) for k, v in enc["data"].items()})


def replay(record):
    """Rerun a stored case from its exact inputs; returns the Outcome (report in .report)."""
    case = Case(record["spec"], record["variant"], record["regime"], record["seed"])
    spec = SPECS[case.spec]
    inputs = decode_inputs(spec, record["inputs"])
    recorder = None if case.correct else (Recorder(1e-9) if spec.precision == "float64"
                                          else Recorder(1e-3, 2.0 ** -24))
    report = error = None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            report = run_check(case, copy.deepcopy(inputs), recorder)
        except Exception as e:  # noqa: BLE001
            error = e
    category, why = classify(case, report, error, recorder)
    return Outcome(case, category, why, report, error, None, 0.0, inputs)


def reproducer_snippet(case):
    return ("import json; from tests.harness.layers import replay\n"
            "cases = json.load(open(FILE))['cases']\n"
            f"o = replay(next(c for c in cases if (c['spec'], c['variant'], c['regime'], c['seed']) == "
            f"{(case.spec, case.variant, case.regime, case.seed)!r}))\n"
            "print(o.category, o.why); print(o.report if o.report is not None else o.error)")


# =================================================================================================
# The command
# =================================================================================================
def _table(title, counts, rows):
    cols = [c for c in CATEGORIES if any(counts[r][c] for r in rows)]
    width = max([len(title)] + [len(r) for r in rows])
    lines = [f"{title:<{width}}  {'checks':>6}  " + "  ".join(f"{c:>11}" for c in cols)]
    for r in rows:
        total = sum(counts[r].values())
        lines.append(f"{r:<{width}}  {total:>6}  " + "  ".join(
            f"{counts[r][c] if counts[r][c] else '.':>11}" for c in cols))
    return "\n".join(lines)


def summary(outcomes):
    by_spec, by_regime, by_cell = defaultdict(Counter), defaultdict(Counter), defaultdict(Counter)
    for o in outcomes:
        kind = "correct" if o.case.correct else "bug"
        by_spec[f"{o.case.spec} ({kind})"][o.category] += 1
        by_regime[o.case.regime][o.category] += 1
        by_cell[(o.case.spec, o.case.regime)][o.category] += 1
    total = Counter(o.category for o in outcomes)
    out = [f"{len(outcomes)} checks: " + ", ".join(f"{c} {total[c]}" for c in CATEGORIES if total[c]),
           "", _table("layer (variant kind)", by_spec, sorted(by_spec)), "",
           _table("regime", by_regime, sorted(by_regime, key=_regime_order)), "",
           "cells (layer x regime) with anything but ok:"]
    for (s, r), c in sorted(by_cell.items()):
        bad = {k: v for k, v in c.items() if k != "ok"}
        if bad:
            out.append(f"  {s:<22} {r:<16} " + ", ".join(f"{k} {v}" for k, v in sorted(bad.items()))
                       + f"  (of {sum(c.values())})")
    return "\n".join(out), by_cell, total


def _regime_order(name):
    keys = list(REGIMES)
    return keys.index(name) if name in keys else len(keys)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tests.harness layers",
                                 description="Adversarial harness for check_layer / check_function")
    ap.add_argument("--seconds", type=float, default=60.0, help="time budget for drawing checks")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cap", type=float, default=30.0, help="time cap per check, seconds")
    ap.add_argument("--max-checks", type=int, default=None)
    ap.add_argument("--only", default=None, help="comma-separated spec names to draw from")
    ap.add_argument("--out", default=None, help="JSON file (default results/harness/layers-seed<SEED>.json)")
    ap.add_argument("--replay", default=None, help="a layers-*.json file: rerun its cases")
    ap.add_argument("--index", type=int, default=None, help="with --replay: only this case")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)

    if args.replay:
        cases = json.loads(Path(args.replay).read_text())["cases"]
        chosen = [cases[args.index]] if args.index is not None else cases
        for rec in chosen:
            o = replay(rec)
            print(f"== {rec['spec']} / {rec['variant']} / {rec['regime']} / seed {rec['seed']}: "
                  f"{o.category} (was {rec['category']})  {o.why}")
            print(o.report if o.report is not None else f"raised {o.error!r}")
        return 0

    names = sorted(SPECS) if not args.only else args.only.split(",")
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        print(f"unknown specs: {unknown}; have {sorted(SPECS)}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    outcomes = []
    started = time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        if args.max_checks is not None and len(outcomes) >= args.max_checks:
            break
        case = draw_case(rng, names)
        o = run_case(case, args.cap)
        outcomes.append(o)
        if args.verbose or o.category != "ok":
            print(f"[{len(outcomes):4d} {time.perf_counter() - started:6.1f}s] {o.category:<11} "
                  f"{case.spec} / {case.variant} / {case.regime} / {case.seed}  "
                  f"({o.seconds:.2f}s) {o.why[:160]}", flush=True)
    text, by_cell, total = summary(outcomes)
    print()
    print(text)
    out = Path(args.out) if args.out else Path("results/harness") / f"layers-seed{args.seed}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "seed": args.seed, "seconds": args.seconds, "checks": len(outcomes),
        "totals": dict(total),
        "cells": [{"spec": s, "regime": r, **dict(c)} for (s, r), c in sorted(by_cell.items())],
        "cases": [o.to_dict() for o in outcomes if o.category != "ok"],
        "ok_cases": [[o.case.spec, o.case.variant, o.case.regime, o.case.seed] for o in outcomes
                     if o.category == "ok"],
    }
    out.write_text(json.dumps(record, indent=1, allow_nan=False, default=str))
    print(f"\n{len(record['cases'])} non-ok cases written to {out} "
          f"(replay: python -m tests.harness layers --replay {out} --index K)")
    return 0


def _count_arrays(case):
    spec = SPECS[case.spec]
    inputs = build(Case(case.spec, "correct", case.regime, case.seed))
    if spec.kind == "layer":
        return sum(1 for a in inputs if _floats(a))
    return len(inputs[0])


if __name__ == "__main__":
    sys.exit(main())
