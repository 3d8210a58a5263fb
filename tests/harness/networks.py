"""An adversarial harness for ``gradcheck(net, x, y, impl=...)`` on whole networks.

It draws a *style* (hand-written backpropagation written the way users write it: correct, or
with one planted mistake) and a *regime* (the numbers the network is checked on) at random, runs
gradcheck on them and classifies the outcome:

    correct & passed   ok                      wrong & failed     ok
    correct & failed   FALSE_ALARM             wrong & passed     MISS
    correct & raised   REFUSAL                 wrong & raised     REFUSAL_OF_WRONG
    correct & raised where the gradient is genuinely undefined     UNDEFINED_REFUSAL
                       (a ReLU unit exactly at its kink, a loss that is not finite)

The user code below is written on purpose *independently* of ``backprop`` (its own sigmoid,
softmax, deltas and sums), the way it appears in tutorials: Nielsen's loops and classes, x @ W
scripts, einsum, step functions, CS231n's ``loss(X, y)``, nnfs layer objects, deeplearning.ai
dicts, float32 code, and cross-entropy deltas written in several correct ways.  Nothing here
imports ``backprop.variants`` or ``backprop.activations``; ``backprop.Network`` is only built
(it is the API under test), and a long-double reference gradient (``reference``) judges both
the user code and gradcheck when something is reported.

Every case is a pure function of ``(seed, index)`` (and of the optional style / regime forced by
the fast test), so ``python -m tests.harness replay --seed S --index I`` rebuilds it exactly.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

# =================================================================================================
# 1. User code: the helpers people paste at the top of their file (written from scratch here)
# =================================================================================================


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def tanh(z):
    return np.tanh(z)


def relu(z):
    return np.maximum(z, 0)


def leaky_relu(z):
    return np.where(z > 0, z, 0.01 * z)


def softplus(z):
    return np.logaddexp(0, z)          # log(1 + e^z) without overflow


def elu(z):
    return np.where(z > 0, z, np.exp(np.minimum(z, 0)) - 1)


def identity(z):
    return z


def softmax(z, axis=0):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ACTS = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu,
        "softplus": softplus, "elu": elu, "identity": identity}


def tanh_formula(z):
    e = np.exp(2 * z)
    return (e - 1) / (e + 1)                # tanh as the textbook writes it


def softplus_naive(z):
    return np.log(1 + np.exp(z))


NAIVE = {"tanh": tanh_formula, "softplus": softplus_naive}


def act(name, z, axis=0, naive=False):
    if name == "softmax":
        return softmax(z, axis)
    if naive and name in NAIVE:
        return NAIVE[name](z)
    return ACTS[name](z)


def prime(name, z, a, from_what="a"):
    """sigma'(z): from the output a (``a * (1 - a)``, the usual hand-written form) or from z."""
    one = z.dtype.type(1)
    if name == "sigmoid":
        if from_what == "a":
            return a * (1 - a)
        s = sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - a ** 2 if from_what == "a" else 1 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "leaky_relu":
        return np.where(z > 0, one, z.dtype.type(0.01))
    if name == "softplus":
        return 1 - np.exp(-a) if from_what == "a" else sigmoid(z)
    if name == "elu":
        return np.where(z > 0, one, a + 1) if from_what == "a" else np.where(
            z > 0, one, np.exp(np.minimum(z, 0)))
    if name == "identity":
        return np.ones_like(z)
    raise ValueError(name)


def softmax_jacobian_product(a, g, axis=0):
    """dC/dz = J^T g with J = diag(a) - a a^T, one explicit Jacobian per example."""
    cols, gc = (a, g) if axis == 0 else (a.T, g.T)
    out = np.empty_like(cols)
    for k in range(cols.shape[1]):
        s = cols[:, k]
        J = np.diag(s) - np.outer(s, s)
        out[:, k] = J.T @ gc[:, k]
    return out if axis == 0 else out.T


def output_delta(loss, out, z, a, y, form="direct", from_what="a", axis=0):
    """delta^L = dC_x/dz^L, per example, written one of the ways users write it.

    form "direct": a - y where it simplifies (BCE + sigmoid, CCE + softmax), -y (1 - a) for
    CCE on sigmoid outputs; "chain": dC/da (-y/a, (a - y)/(a (1 - a))) times sigma' or the
    softmax Jacobian; "jacobian": the explicit per-example softmax Jacobian."""
    if loss in ("half_squared_error", "squared_error"):
        dA = (a - y) if loss == "half_squared_error" else 2 * (a - y)
        if out == "softmax":
            if form == "jacobian":
                return softmax_jacobian_product(a, dA, axis)
            return a * (dA - (a * dA).sum(axis=axis, keepdims=True))
        return dA * prime(out, z, a, from_what)
    if loss == "binary_cross_entropy":               # sigmoid output
        if form == "chain":
            dA = (a - y) / (a * (1 - a))
            return dA * prime(out, z, a, from_what)
        return a - y
    if loss == "categorical_cross_entropy":
        if out == "softmax":
            if form == "chain":
                dA = -y / a
                return a * (dA - (a * dA).sum(axis=axis, keepdims=True))
            if form == "jacobian":
                return softmax_jacobian_product(a, -y / a, axis)
            return a - y                              # one-hot targets: sum(y) = 1
        # C = -sum y log a on sigmoid outputs (a single unit included)
        if form == "chain":
            return (-y / a) * prime(out, z, a, from_what)
        return -y * (1 - a)
    raise ValueError(loss)


def reduce_factor(reduction, m, n_out):
    return {"sum": 1.0, "batch_mean": 1.0 / m, "mean": 1.0 / (m * n_out)}[reduction]


@dataclass(frozen=True)
class Cfg:
    """What the user's code hard-codes about its network (it has to: it is their network)."""

    sizes: tuple
    acts: tuple               # one per weight layer, output last
    loss: str
    bias: bool
    layout: str               # the config's layout (function styles are written for it)
    reduction: str
    l2: float
    dtype: str = "float64"    # "float64", "float32" (returns float32), "float32_as_64"
    form: str = "direct"      # output delta form
    prime_from: str = "a"     # sigma' from the output a or from z
    naive: bool = False       # tanh and softplus by their textbook formulas

    @property
    def L(self):
        return len(self.sizes) - 1

    @property
    def dt(self):
        return np.float64 if self.dtype == "float64" else np.float32

    def out(self, arrays):
        """The gradient as the code hands it back: float32 code casts back to float64 when
        dtype is ``float32_as_64``."""
        if arrays is None:
            return None
        return [g.astype(np.float64) if self.dtype == "float32_as_64" else g for g in arrays]


# -------------------------------------------------------------------------------------------------
# (a) batched BP1-BP4, columns: f(weights, biases, x, y) -> (nabla_w, nabla_b)
# -------------------------------------------------------------------------------------------------
def make_batched(cfg):
    dt = cfg.dt

    def backprop(weights, biases, x, y):
        W = [np.asarray(w, dtype=dt) for w in weights]
        b = [np.asarray(v, dtype=dt) for v in biases] if cfg.bias else None
        activations = [np.asarray(x, dtype=dt)]
        y = np.asarray(y, dtype=dt)
        zs = []
        for l in range(cfg.L):
            z = W[l] @ activations[-1]
            if b is not None:
                z = z + b[l]
            zs.append(z)
            activations.append(act(cfg.acts[l], z, naive=cfg.naive))
        m = activations[0].shape[1]
        delta = output_delta(cfg.loss, cfg.acts[-1], zs[-1], activations[-1], y, cfg.form,
                             cfg.prime_from)
        nabla_w, nabla_b = [None] * cfg.L, [None] * cfg.L
        for l in reversed(range(cfg.L)):
            nabla_w[l] = delta @ activations[l].T
            nabla_b[l] = delta.sum(axis=1, keepdims=True)
            if l > 0:
                delta = (W[l].T @ delta) * prime(cfg.acts[l - 1], zs[l - 1], activations[l],
                                                 cfg.prime_from)
        r = reduce_factor(cfg.reduction, m, cfg.sizes[-1])
        nabla_w = [r * g + 2 * cfg.l2 * w for g, w in zip(nabla_w, W)]
        nabla_b = [r * g for g in nabla_b] if cfg.bias else None
        return cfg.out(nabla_w), cfg.out(nabla_b)
    return backprop


# -------------------------------------------------------------------------------------------------
# (b) Nielsen's per-example loop, as a function of the batch
# -------------------------------------------------------------------------------------------------
def make_loop(cfg):
    dt = cfg.dt

    def backprop(weights, biases, x, y):
        weights = [w.astype(dt) for w in weights]
        biases = [v.astype(dt) for v in biases] if cfg.bias else None
        x, y = x.astype(dt), y.astype(dt)
        nabla_w = [np.zeros(w.shape, dtype=dt) for w in weights]
        nabla_b = [np.zeros((w.shape[0], 1), dtype=dt) for w in weights]
        for k in range(x.shape[1]):
            activation = x[:, [k]]
            activations, zs = [activation], []
            for l, w in enumerate(weights):
                z = np.dot(w, activation)
                if biases is not None:
                    z = z + biases[l]
                zs.append(z)
                activation = act(cfg.acts[l], z)
                activations.append(activation)
            delta = output_delta(cfg.loss, cfg.acts[-1], zs[-1], activations[-1], y[:, [k]],
                                 cfg.form, cfg.prime_from)
            nabla_b[-1] += delta
            nabla_w[-1] += np.dot(delta, activations[-2].transpose())
            for l in range(2, cfg.L + 1):
                sp = prime(cfg.acts[-l], zs[-l], activations[-l], cfg.prime_from)
                delta = np.dot(weights[-l + 1].transpose(), delta) * sp
                nabla_b[-l] += delta
                nabla_w[-l] += np.dot(delta, activations[-l - 1].transpose())
        m = x.shape[1]
        if cfg.reduction == "batch_mean":
            nabla_w, nabla_b = [g / m for g in nabla_w], [g / m for g in nabla_b]
        elif cfg.reduction == "mean":
            n = m * cfg.sizes[-1]
            nabla_w, nabla_b = [g / n for g in nabla_w], [g / n for g in nabla_b]
        nabla_w = [g + cfg.l2 * 2 * w for g, w in zip(nabla_w, weights)]
        return cfg.out(nabla_w), (cfg.out(nabla_b) if cfg.bias else None)
    return backprop


# -------------------------------------------------------------------------------------------------
# (c) rows layout: one example per row, X @ W + b
# -------------------------------------------------------------------------------------------------
def make_rows(cfg):
    dt = cfg.dt

    def gradients(weights, biases, X, Y):
        W = [w.astype(dt) for w in weights]
        b = [v.astype(dt) for v in biases] if cfg.bias else None
        A, Z = [X.astype(dt)], []
        Y = Y.astype(dt)
        for l in range(cfg.L):
            Zl = A[-1] @ W[l]
            if b is not None:
                Zl = Zl + b[l]
            Z.append(Zl)
            A.append(act(cfg.acts[l], Zl, axis=1))
        m = X.shape[0]
        dZ = output_delta(cfg.loss, cfg.acts[-1], Z[-1], A[-1], Y, cfg.form, cfg.prime_from,
                          axis=1)
        if cfg.reduction == "batch_mean":
            dZ = dZ / m
        elif cfg.reduction == "mean":
            dZ = dZ / (m * cfg.sizes[-1])
        dW, db = [None] * cfg.L, [None] * cfg.L
        for l in reversed(range(cfg.L)):
            dW[l] = A[l].T @ dZ + 2 * cfg.l2 * W[l]
            db[l] = np.sum(dZ, axis=0, keepdims=True)
            if l > 0:
                dZ = (dZ @ W[l].T) * prime(cfg.acts[l - 1], Z[l - 1], A[l], cfg.prime_from)
        return cfg.out(dW), (cfg.out(db) if cfg.bias else None)
    return gradients


# -------------------------------------------------------------------------------------------------
# (d) einsum, columns
# -------------------------------------------------------------------------------------------------
def make_einsum(cfg):
    def grad(weights, biases, x, y):
        a, zs = [x], []
        for l, W in enumerate(weights):
            z = np.einsum("ij,jk->ik", W, a[-1])
            if cfg.bias:
                z = z + biases[l]
            zs.append(z)
            a.append(act(cfg.acts[l], z))
        m = x.shape[1]
        r = reduce_factor(cfg.reduction, m, cfg.sizes[-1])
        d = output_delta(cfg.loss, cfg.acts[-1], zs[-1], a[-1], y, cfg.form, cfg.prime_from)
        gw, gb = [None] * cfg.L, [None] * cfg.L
        for l in range(cfg.L - 1, -1, -1):
            gw[l] = r * np.einsum("ik,jk->ij", d, a[l]) + 2 * cfg.l2 * weights[l]
            gb[l] = r * np.einsum("ik->i", d)[:, None]
            if l:
                d = np.einsum("ji,jk->ik", weights[l], d) * prime(cfg.acts[l - 1], zs[l - 1],
                                                                  a[l], cfg.prime_from)
        return gw, (gb if cfg.bias else None)
    return grad


# -------------------------------------------------------------------------------------------------
# (e) a step function updating in place, (f) one returning NEW parameters
# -------------------------------------------------------------------------------------------------
def make_step_inplace(cfg):
    backprop = make_batched(cfg)

    def train_step(weights, biases, x, y, lr):
        nabla_w, nabla_b = backprop(weights, biases, x, y)
        for w, nw in zip(weights, nabla_w):
            w -= lr * nw
        if cfg.bias:
            for b, nb in zip(biases, nabla_b):
                b -= lr * nb
    return train_step


def make_step_new(cfg):
    backprop = make_batched(cfg)

    def sgd_step(weights, biases, x, y, lr):
        nabla_w, nabla_b = backprop(weights, biases, x, y)
        new_weights = [w - lr * nw for w, nw in zip(weights, nabla_w)]
        new_biases = [b - lr * nb for b, nb in zip(biases, nabla_b)] if cfg.bias else None
        return new_weights, new_biases
    return sgd_step


# -------------------------------------------------------------------------------------------------
# (g) Nielsen's class: backprop(x, y) -> (nabla_b, nabla_w) for one example; update_mini_batch
# -------------------------------------------------------------------------------------------------
class NielsenNetwork:
    def __init__(self, sizes, cfg):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.cfg = cfg
        rng = np.random.default_rng(1)
        self.biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
        self.weights = [rng.standard_normal((y, x)) for x, y in zip(sizes[:-1], sizes[1:])]

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self._backprop_data(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        n = len(mini_batch) * (self.sizes[-1] if self.cfg.reduction == "mean" else 1)
        if self.cfg.reduction == "sum":
            n = 1
        self.weights = [(1 - eta * 2 * self.cfg.l2) * w - (eta / n) * nw
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / n) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        """The gradient of C for this one example: its loss term (1/n_L of it for "mean") and
        the L2 term."""
        nabla_b, nabla_w = self._backprop_data(x, y)
        if self.cfg.reduction == "mean":
            nabla_b = [nb / self.sizes[-1] for nb in nabla_b]
            nabla_w = [nw / self.sizes[-1] for nw in nabla_w]
        nabla_w = [nw + 2 * self.cfg.l2 * w for nw, w in zip(nabla_w, self.weights)]
        return (nabla_b, nabla_w)

    def _backprop_data(self, x, y):
        cfg = self.cfg
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = act(cfg.acts[l], z)
            activations.append(activation)
        delta = output_delta(cfg.loss, cfg.acts[-1], zs[-1], activations[-1], y, cfg.form,
                             cfg.prime_from)
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = prime(cfg.acts[-l], z, activations[-l], cfg.prime_from)
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return (nabla_b, nabla_w)


# -------------------------------------------------------------------------------------------------
# (h) a class whose train(inputs, targets) steps with self.lr: named attributes W1, b1, ...
#     (h2) python-course.eu: one example per call, np.array(v, ndmin=2).T, self.learning_rate
# -------------------------------------------------------------------------------------------------
class MLP:
    def __init__(self, cfg, lr=0.1):
        self.cfg = cfg
        self.lr = lr
        rng = np.random.default_rng(2)
        for l in range(1, cfg.L + 1):
            setattr(self, f"W{l}", rng.standard_normal((cfg.sizes[l], cfg.sizes[l - 1]))
                    .astype(cfg.dt))
            if cfg.bias:
                setattr(self, f"b{l}", np.zeros((cfg.sizes[l], 1), dtype=cfg.dt))

    def train(self, inputs, targets):
        cfg = self.cfg
        L = cfg.L
        dt = cfg.dt
        a = [np.asarray(inputs, dtype=dt)]
        targets = np.asarray(targets, dtype=dt)
        z = [None]
        for l in range(1, L + 1):
            zl = getattr(self, f"W{l}") @ a[-1]
            if cfg.bias:
                zl = zl + getattr(self, f"b{l}")
            z.append(zl)
            a.append(act(cfg.acts[l - 1], zl))
        m = a[0].shape[1]
        r = dt(reduce_factor(cfg.reduction, m, cfg.sizes[-1]))
        delta = output_delta(cfg.loss, cfg.acts[-1], z[-1], a[-1], targets, cfg.form,
                             cfg.prime_from)
        grads = {}
        for l in range(L, 0, -1):
            grads[f"W{l}"] = r * (delta @ a[l - 1].T) + dt(2 * cfg.l2) * getattr(self, f"W{l}")
            grads[f"b{l}"] = r * delta.sum(axis=1, keepdims=True)
            if l > 1:
                delta = (getattr(self, f"W{l}").T @ delta) * prime(cfg.acts[l - 2], z[l - 1],
                                                                  a[l - 1], cfg.prime_from)
        lr = dt(self.lr)
        for l in range(1, L + 1):
            W = getattr(self, f"W{l}")
            W -= lr * grads[f"W{l}"]
            if cfg.bias:
                b = getattr(self, f"b{l}")
                b -= lr * grads[f"b{l}"]


class PythonCourseNet:
    def __init__(self, cfg, learning_rate=0.1):
        self.cfg = cfg
        self.learning_rate = learning_rate
        rng = np.random.default_rng(3)
        self.weights = [rng.normal(0, n_in ** -0.5, (n_out, n_in))
                        for n_in, n_out in zip(cfg.sizes[:-1], cfg.sizes[1:])]
        self.biases = [np.zeros((n, 1)) for n in cfg.sizes[1:]] if cfg.bias else []

    def train(self, input_vector, target_vector):
        cfg = self.cfg
        input_vector = np.array(input_vector, ndmin=2).T
        target_vector = np.array(target_vector, ndmin=2).T
        outs, zs = [input_vector], []
        for l, w in enumerate(self.weights):
            z = np.dot(w, outs[-1])
            if cfg.bias:
                z = z + self.biases[l]
            zs.append(z)
            outs.append(act(cfg.acts[l], z))
        # written target - output, with += (the sign convention gradcheck must not mind)
        tmp = -output_delta(cfg.loss, cfg.acts[-1], zs[-1], outs[-1], target_vector, cfg.form,
                            cfg.prime_from)
        if cfg.reduction == "mean":
            tmp = tmp / cfg.sizes[-1]
        updates = []
        for l in range(cfg.L - 1, -1, -1):
            updates.append((l, np.dot(tmp, outs[l].T) - 2 * cfg.l2 * self.weights[l], tmp))
            if l > 0:
                tmp = np.dot(self.weights[l].T, tmp) * prime(cfg.acts[l - 1], zs[l - 1], outs[l],
                                                            cfg.prime_from)
        for l, gw, gb in updates:
            self.weights[l] += self.learning_rate * gw
            if cfg.bias:
                self.biases[l] += self.learning_rate * gb


# -------------------------------------------------------------------------------------------------
# (i) CS231n: loss(X, y=None, reg=0.0) -> (loss, grads), self.params dict, integer labels
# -------------------------------------------------------------------------------------------------
class CS231nNet:
    def __init__(self, cfg, std=1e-4):
        self.cfg = cfg
        self.params = {}
        rng = np.random.default_rng(4)
        for l in range(1, cfg.L + 1):
            self.params[f"W{l}"] = std * rng.standard_normal((cfg.sizes[l - 1], cfg.sizes[l]))
            if cfg.bias:
                self.params[f"b{l}"] = np.zeros(cfg.sizes[l])

    def loss(self, X, y=None, reg=0.0):
        cfg, p = self.cfg, self.params
        N = X.shape[0]
        hs, zs = [X], []
        for l in range(1, cfg.L + 1):
            z = hs[-1].dot(p[f"W{l}"])
            if cfg.bias:
                z = z + p[f"b{l}"]
            zs.append(z)
            hs.append(act(cfg.acts[l - 1], z, axis=1))
        scores = zs[-1]
        if y is None:
            return scores
        integer_labels = cfg.loss == "categorical_cross_entropy"
        if integer_labels:
            Y = np.zeros_like(scores)
            Y[np.arange(N), y] = 1
        else:
            Y = y
        a = hs[-1]
        if cfg.loss == "categorical_cross_entropy" and cfg.acts[-1] == "softmax":
            shifted = scores - scores.max(axis=1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            data = -(Y * log_probs).sum()
        elif cfg.loss == "categorical_cross_entropy":
            data = (Y * np.logaddexp(0, -scores)).sum()
        elif cfg.loss == "binary_cross_entropy":
            data = (Y * np.logaddexp(0, -scores) + (1 - Y) * np.logaddexp(0, scores)).sum()
        elif cfg.loss == "half_squared_error":
            data = 0.5 * np.sum((a - Y) ** 2)
        else:
            data = np.sum((a - Y) ** 2)
        r = reduce_factor(cfg.reduction, N, cfg.sizes[-1])
        loss = r * data + reg * sum(np.sum(p[f"W{l}"] * p[f"W{l}"]) for l in range(1, cfg.L + 1))
        grads = {}
        dscores = output_delta(cfg.loss, cfg.acts[-1], scores, a, Y, cfg.form, cfg.prime_from,
                               axis=1) * r
        for l in range(cfg.L, 0, -1):
            grads[f"W{l}"] = hs[l - 1].T.dot(dscores) + 2 * reg * p[f"W{l}"]
            if cfg.bias:
                grads[f"b{l}"] = np.sum(dscores, axis=0)
            if l > 1:
                dh = dscores.dot(p[f"W{l}"].T)
                dscores = dh * prime(cfg.acts[l - 2], zs[l - 2], hs[l - 1], cfg.prime_from)
        return loss, grads


# -------------------------------------------------------------------------------------------------
# (j) nnfs.io: Layer_Dense objects leave dweights / dbiases behind
# -------------------------------------------------------------------------------------------------
class Layer_Dense:
    def __init__(self, n_inputs, n_neurons, dtype, bias=True):
        self.weights = (0.01 * np.random.default_rng(5).standard_normal((n_inputs, n_neurons))
                        ).astype(dtype)
        if bias:
            self.biases = np.zeros((1, n_neurons), dtype=dtype)
        self.has_bias = bias

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights)
        if self.has_bias:
            self.output = self.output + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        if self.has_bias:
            self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)


class Activation:
    def __init__(self, name, cfg):
        self.name, self.cfg = name, cfg

    def forward(self, inputs):
        self.inputs = inputs
        self.output = act(self.name, inputs, axis=1)

    def backward(self, dvalues):
        self.dinputs = dvalues * prime(self.name, self.inputs, self.output, self.cfg.prime_from)


class NNFSModel:
    def __init__(self, cfg):
        self.cfg = cfg
        dt = cfg.dt
        self.dense_layers = [Layer_Dense(i, o, dt, cfg.bias) for i, o in
                             zip(cfg.sizes[:-1], cfg.sizes[1:])]
        self.activations = [Activation(n, cfg) for n in cfg.acts]

    def forward(self, X, y):
        inputs = np.asarray(X, dtype=self.cfg.dt)
        for dense, activation in zip(self.dense_layers, self.activations):
            dense.forward(inputs)
            activation.forward(dense.output)
            inputs = activation.output
        return inputs

    def backward(self, output, y):
        cfg = self.cfg
        samples = len(output)
        dense = self.dense_layers[-1]
        if cfg.loss == "categorical_cross_entropy" and cfg.acts[-1] == "softmax" \
                and cfg.form == "direct":
            dinputs = output.copy()
            dinputs[range(samples), y] -= 1        # integer labels
        else:
            Y = y
            if cfg.loss == "categorical_cross_entropy":
                Y = np.eye(cfg.sizes[-1], dtype=cfg.dt)[y]
            dinputs = output_delta(cfg.loss, cfg.acts[-1], dense.output, output,
                                   np.asarray(Y, dtype=cfg.dt), cfg.form, cfg.prime_from, axis=1)
        if cfg.reduction == "batch_mean":
            dinputs = dinputs / samples
        elif cfg.reduction == "mean":
            dinputs = dinputs / (samples * cfg.sizes[-1])
        for l in range(cfg.L - 1, -1, -1):
            layer = self.dense_layers[l]
            layer.backward(dinputs)
            if cfg.l2:
                layer.dweights = layer.dweights + cfg.dt(2 * cfg.l2) * layer.weights
            if l > 0:
                self.activations[l - 1].backward(layer.dinputs)
                dinputs = self.activations[l - 1].dinputs


# -------------------------------------------------------------------------------------------------
# (m) deeplearning.ai: a parameters dict in, a grads dict keyed dW1, db1 out
# -------------------------------------------------------------------------------------------------
def make_dlai(cfg):
    def L_model_backward(parameters, X, Y):
        caches, A = [], X
        for l in range(1, cfg.L + 1):
            Z = np.dot(parameters["W" + str(l)], A)
            if cfg.bias:
                Z = Z + parameters["b" + str(l)]
            caches.append((A, Z))
            A = act(cfg.acts[l - 1], Z)
        m = X.shape[1]
        grads = {}
        dZ = output_delta(cfg.loss, cfg.acts[-1], caches[-1][1], A, Y, cfg.form, cfg.prime_from)
        if cfg.reduction == "batch_mean":
            dZ = dZ / m
        elif cfg.reduction == "mean":
            dZ = dZ / (m * cfg.sizes[-1])
        for l in reversed(range(1, cfg.L + 1)):
            A_prev, _ = caches[l - 1]
            grads["dW" + str(l)] = np.dot(dZ, A_prev.T) + 2 * cfg.l2 * parameters["W" + str(l)]
            if cfg.bias:
                grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True)
            if l > 1:
                dA_prev = np.dot(parameters["W" + str(l)].T, dZ)
                grads["dA" + str(l - 1)] = dA_prev
                dZ = dA_prev * prime(cfg.acts[l - 2], caches[l - 2][1], A_prev, cfg.prime_from)
        return grads
    return L_model_backward


# =================================================================================================
# 2. The styles: how each is built and handed to gradcheck
# =================================================================================================
@dataclass(frozen=True)
class Style:
    name: str
    build: object             # cfg, case -> (impl, impl_kind, impl_spec)
    layouts: tuple = ("columns", "rows")
    dtypes: tuple = ("float64",)
    needs_bias: bool = False
    forms: tuple = ("direct",)
    prime_from: tuple = ("a",)
    pairing: object = None    # (loss, out) -> bool, None for any
    note: str = ""
    code_layout: str | None = None   # a class holding its own arrays: their orientation
    lists: bool = False       # keeps W and b in lists (found by shape and position)
    flat_bias: bool = False   # biases of shape (n,)


def _labels_spec(cfg):
    return {"labels": "integers"} if cfg.loss == "categorical_cross_entropy" else None


def _dlai(cfg):
    return make_dlai(cfg), None, None


def _cs231n(cfg):
    net = CS231nNet(cfg)
    return functools.partial(net.loss, reg=cfg.l2), None, _labels_spec(cfg)


def _nnfs(cfg):
    model = NNFSModel(cfg)
    impl = lambda X, y, model=model: model.backward(model.forward(X, y), y)  # noqa: E731
    return impl, None, _labels_spec(cfg)


_CE = lambda loss, out: loss in ("binary_cross_entropy", "categorical_cross_entropy")  # noqa
_SOFTMAX = lambda loss, out: out == "softmax"  # noqa

STYLES = {s.name: s for s in [
    Style("a_batched", lambda c: (make_batched(c), None, None), layouts=("columns",),
          dtypes=("float64", "float32", "float32_as_64"), prime_from=("a", "z")),
    Style("b_nielsen_loop", lambda c: (make_loop(c), None, None), layouts=("columns",),
          dtypes=("float64", "float32_as_64")),
    Style("c_rows_xW", lambda c: (make_rows(c), None, None), layouts=("rows",),
          dtypes=("float64", "float32", "float32_as_64")),
    Style("d_einsum", lambda c: (make_einsum(c), None, None), layouts=("columns",)),
    Style("e_step_inplace", lambda c: (make_step_inplace(c), None, None), layouts=("columns",)),
    Style("f_step_return_new", lambda c: (make_step_new(c), None, None), layouts=("columns",),
          note="impl_kind left out: the signature's lr shows it is a step (README)"),
    Style("f2_step_return_new_kind", lambda c: (make_step_new(c), "step", None),
          layouts=("columns",)),
    Style("g_nielsen_backprop", lambda c: (NielsenNetwork(list(c.sizes), c).backprop, None, None),
          needs_bias=True, code_layout="columns", lists=True),
    Style("g2_nielsen_update_mini_batch",
          lambda c: (NielsenNetwork(list(c.sizes), c).update_mini_batch, None, None),
          needs_bias=True, code_layout="columns", lists=True),
    Style("h_class_train_lr", lambda c: (MLP(c).train, None, None), dtypes=("float64", "float32"),
          code_layout="columns"),
    Style("h2_python_course_train",
          lambda c: (PythonCourseNet(c).train, None, None), code_layout="columns", lists=True),
    Style("i_cs231n_loss", _cs231n, code_layout="rows", flat_bias=True),
    Style("j_nnfs_layers", _nnfs, dtypes=("float64", "float32"), code_layout="rows"),
    Style("m_dlai_dict", _dlai, layouts=("columns",)),
    Style("l_xent_chain_rule", lambda c: (make_batched(c), None, None), layouts=("columns",),
          forms=("chain",), prime_from=("a", "z"), pairing=_CE,
          dtypes=("float64", "float32")),
    Style("l_softmax_jacobian", lambda c: (make_batched(c), None, None), layouts=("columns",),
          forms=("jacobian",), pairing=_SOFTMAX),
    Style("n_naive_formulas", lambda c: (make_batched(c), None, None), layouts=("columns",),
          dtypes=("float64", "float32"),
          note="tanh = (e^2z - 1)/(e^2z + 1), softplus = log(1 + e^z), elu = e^z - 1"),
    Style("l_rows_chain_rule", lambda c: (make_rows(c), None, None), layouts=("rows",),
          forms=("chain", "jacobian"), prime_from=("z",), pairing=_CE),
]}

# =================================================================================================
# 3. Wrong implementations: each must fail
# =================================================================================================


def make_buggy(cfg, bug):
    """Columns BP1-BP4 with one mistake (float64)."""
    def backprop(weights, biases, x, y):
        W = list(weights)
        a, zs = [x], []
        for l in range(cfg.L):
            z = W[l] @ a[-1] + (biases[l] if cfg.bias else 0)
            zs.append(z)
            a.append(act(cfg.acts[l], z))
        m = x.shape[1]
        r = reduce_factor(cfg.reduction, m, cfg.sizes[-1])
        if bug == "missing_1_over_m":
            r = r * m
        nabla_w, nabla_b = [None] * cfg.L, [None] * cfg.L
        if bug == "code2_sigma_prime_dropped":
            # the seeds' code (2): dC/da carried through W^T without sigma'
            g = (a[-1] - y) if cfg.loss == "half_squared_error" else 2 * (a[-1] - y)
            for l in reversed(range(cfg.L)):
                tmp = g * prime(cfg.acts[l], zs[l], a[l + 1])
                nabla_w[l], nabla_b[l] = tmp @ a[l].T, tmp.sum(axis=1, keepdims=True)
                g = W[l].T @ g                       # should be W[l].T @ tmp
        else:
            delta = output_delta(cfg.loss, cfg.acts[-1], zs[-1], a[-1], y)
            if bug == "factor2":
                delta = 2 * delta
            for l in reversed(range(cfg.L)):
                nabla_w[l] = delta @ a[l].T
                nabla_b[l] = (delta[:, [0]] if bug == "bias_one_example"     # one example's
                              else delta.sum(axis=1, keepdims=True))
                if l > 0:
                    back = W[l] @ delta if bug == "transposed_W" else W[l].T @ delta
                    delta = back * prime(cfg.acts[l - 1], zs[l - 1], a[l])
        l2 = 0.0 if bug == "missing_l2" else cfg.l2
        nabla_w = [r * g + 2 * l2 * w for g, w in zip(nabla_w, W)]
        return nabla_w, ([r * g for g in nabla_b] if cfg.bias else None)
    return backprop


def _for_layout(cfg, columns_fn):
    """A columns gradient function as rows-layout user code would return it."""
    if cfg.layout == "columns":
        return columns_fn

    def rows_fn(weights, biases, X, Y):
        nw, nb = columns_fn([w.T for w in weights], [b.T for b in biases] if cfg.bias else None,
                            X.T, Y.T)
        return [g.T for g in nw], ([g.T for g in nb] if nb is not None else None)
    return rows_fn


def make_planted(cfg, plant):
    """A correct style with one entry (or one array) off: plant = {base, name, index, factor}."""
    base = STYLES[plant["base"]].build(cfg)[0]
    name, factor = plant["name"], plant["factor"]
    layer, kind = int(name[1:]) - 1, name[0]

    def planted(weights, biases, x, y):
        nw, nb = base(weights, biases, x, y)
        nw, nb = list(nw), (list(nb) if nb is not None else None)
        target = nw if kind == "W" else nb
        g = target[layer].copy()
        if plant.get("index") is None:
            g = g * g.dtype.type(factor)
        else:
            g.flat[plant["index"]] *= factor
        target[layer] = g
        return nw, nb
    return planted


def make_step_wrong(cfg, bug):
    backprop = make_batched(replace(cfg, dtype="float64"))

    def train_step(weights, biases, x, y, lr):
        nabla_w, nabla_b = backprop(weights, biases, x, y)
        for w, nw in zip(weights, nabla_w):
            w -= 2 * lr * nw                         # the slip: the learning rate doubled
        if cfg.bias:
            for b, nb in zip(biases, nabla_b):
                b -= 2 * lr * nb

    def sgd_step_slip(weights, biases, x, y, lr):
        # returns new parameters, but W^l is stepped before delta^{l-1} is computed from it
        W = [w.copy() for w in weights]
        a, zs = [x], []
        for l in range(cfg.L):
            zs.append(W[l] @ a[-1] + (biases[l] if cfg.bias else 0))
            a.append(act(cfg.acts[l], zs[-1]))
        r = reduce_factor(cfg.reduction, x.shape[1], cfg.sizes[-1])
        delta = output_delta(cfg.loss, cfg.acts[-1], zs[-1], a[-1], y)
        new_b = [None] * cfg.L
        for l in reversed(range(cfg.L)):
            gw = r * (delta @ a[l].T) + 2 * cfg.l2 * W[l]
            if cfg.bias:
                new_b[l] = biases[l] - lr * r * delta.sum(axis=1, keepdims=True)
            W[l] = W[l] - lr * gw
            if l > 0:
                delta = (W[l].T @ delta) * prime(cfg.acts[l - 1], zs[l - 1], a[l])
        return W, (new_b if cfg.bias else None)

    return train_step if bug == "step_lr_doubled" else sgd_step_slip


@dataclass(frozen=True)
class Wrong:
    name: str
    kind: str                 # "gradient" or "step" (how it is built)
    needs: object             # cfg dict -> bool (drawn until true)
    coarse: bool = True       # a gross mistake (the gate asks for >= 1e-3 relative)


WRONGS = {w.name: w for w in [
    Wrong("w_planted_1e-6", "gradient", lambda d: d["m"] >= 1, coarse=False),
    Wrong("w_float32_10pct", "gradient", lambda d: True),
    Wrong("w_code2_sigma_prime_dropped", "gradient",
          lambda d: d["L"] >= 2 and d["loss"] in ("half_squared_error", "squared_error")
          and d["acts"][-1] != "softmax"),
    Wrong("w_transposed_W", "gradient", lambda d: d["L"] >= 2),
    Wrong("w_bias_one_example", "gradient", lambda d: d["bias"] and d["m"] >= 2),
    Wrong("w_factor2", "gradient", lambda d: True),
    Wrong("w_missing_1_over_m", "gradient", lambda d: d["reduction"] != "sum" and d["m"] >= 2),
    Wrong("w_missing_l2", "gradient", lambda d: d["l2"] > 0),
    Wrong("w_step_lr_doubled", "step", lambda d: True),
    Wrong("w_step_new_slip", "step", lambda d: d["L"] >= 2),
]}

# =================================================================================================
# 4. Regimes and cases
# =================================================================================================
HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "elu", "identity")
SMOOTH_HIDDEN = ("sigmoid", "tanh", "softplus")
OUT_ANY = ("sigmoid", "tanh", "identity", "relu", "leaky_relu", "softplus", "elu", "softmax")
PAIRINGS = ([("half_squared_error", o) for o in OUT_ANY] + [("squared_error", o) for o in OUT_ANY]
            + [("binary_cross_entropy", "sigmoid")] * 4
            + [("categorical_cross_entropy", "softmax")] * 4
            + [("categorical_cross_entropy", "sigmoid")] * 4)

#: regimes for correct code (primary tags); secondary tags are drawn from COMBINE
REGIMES = ("normal", "small_output_z", "overflow_loss", "saturated", "extreme_logits",
           "dead_relu", "relu_ties", "tiny_weights",
           "huge_inputs", "scaled", "zero_grad", "identical", "batch1", "width1", "deep", "l2",
           "float32", "cce_sigmoid1", "softmax_out")
COMBINE = ("identical", "batch1", "l2", "float32", "width1", "deep", "huge_inputs",
           "tiny_weights", "saturated")
#: regimes in which every wrong implementation must still fail
WRONG_REGIMES = ("generic", "l2", "batch1", "identical", "deep", "width1")

UNDEFINED = "undefined"


@dataclass
class Case:
    seed: int
    index: int
    style: str
    kind: str                 # "correct" or "wrong"
    tags: list
    cfg: Cfg
    W: list                   # columns layout
    b: list                   # columns layout, or None
    x: np.ndarray             # columns (n_0, m)
    y: np.ndarray             # columns (n_L, m)
    impl_kind: str | None = None
    impl_spec: dict | None = None
    plant: dict | None = None
    forced_style: str | None = None
    forced_tag: str | None = None
    undefined: list = field(default_factory=list)   # why the gradient may be undefined

    # -- in the network's layout ----------------------------------------------------------------
    def network(self):
        from gradcheck import Network
        c = self.cfg
        lay = (lambda a: a) if c.layout == "columns" else (lambda a: a.T)
        return Network(list(c.sizes), list(c.acts), c.loss, bias=c.bias, layout=c.layout,
                       reduction=c.reduction, l2=c.l2, weights=[lay(w) for w in self.W],
                       biases=[lay(v) for v in self.b] if c.bias else None)

    def batch(self):
        lay = (lambda a: a) if self.cfg.layout == "columns" else (lambda a: a.T)
        return np.ascontiguousarray(lay(self.x)), np.ascontiguousarray(lay(self.y))

    def impl(self):
        """(impl, impl_kind, impl_spec): built afresh (class styles hold state)."""
        if self.kind == "correct":
            impl, kind, spec = STYLES[self.style].build(self.cfg)
            return impl, kind, spec
        return build_wrong(self.style, self.cfg, self.plant), self.impl_kind, self.impl_spec

    @property
    def key(self):
        extra = ""
        if self.forced_style:
            extra += f" --style {self.forced_style}"
        if self.forced_tag:
            extra += f" --tag {self.forced_tag}"
        return f"--seed {self.seed} --index {self.index}{extra}"

    def describe(self):
        c = self.cfg
        return (f"{self.style} [{', '.join(self.tags)}] {list(c.sizes)} {'/'.join(c.acts)} "
                f"{c.loss} bias={c.bias} {c.layout} {c.reduction} l2={c.l2:g} m={self.x.shape[1]}"
                f" {c.dtype}" + (f" form={c.form}" if c.form != "direct" else "")
                + (f" prime_from={c.prime_from}" if c.prime_from != "a" else ""))


def build_wrong(name, cfg, plant):
    w = WRONGS[name]
    if name in ("w_planted_1e-6", "w_float32_10pct"):
        return make_planted(cfg, plant)
    if w.kind == "step":
        return make_step_wrong(cfg, name[2:])
    return _for_layout(cfg, make_buggy(cfg, name[2:]))


def _signed(rng, shape, lo, hi):
    return rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def forward64(cfg, W, b, x, dtype=np.float64):
    """The user's own forward pass (columns), in dtype: (zs, activations)."""
    with np.errstate(all="ignore"):
        a, zs = [x.astype(dtype)], []
        for l in range(cfg.L):
            z = W[l].astype(dtype) @ a[-1]
            if cfg.bias:
                z = z + b[l].astype(dtype)
            zs.append(z)
            a.append(act(cfg.acts[l], z, naive=cfg.naive))
    return zs, a


def _pairing_ok(loss, out, tags, style, wrong):
    if "extreme_logits" in tags and out not in ("softmax", "sigmoid"):
        return False
    if ("zero_grad" in tags or "overflow_loss" in tags) and not (
            loss in ("half_squared_error", "squared_error") and out == "identity"):
        return False
    if "cce_sigmoid1" in tags and (loss, out) != ("categorical_cross_entropy", "sigmoid"):
        return False
    if "softmax_out" in tags and out != "softmax":
        return False
    if "width1" in tags and out == "softmax":
        return False
    if "generic" in tags and out not in ("sigmoid", "tanh", "identity", "softmax"):
        return False
    if style is not None and style.pairing is not None and not style.pairing(loss, out):
        return False
    if style is not None and "jacobian" in style.forms and style.forms == ("jacobian",) \
            and out != "softmax":
        return False
    if wrong is not None and wrong.name == "w_code2_sigma_prime_dropped" and (
            loss not in ("half_squared_error", "squared_error") or out == "softmax"):
        return False
    return True


def _draw_tags(rng, kind, forced_tag):
    if kind == "wrong":
        tags = ["generic"]
        extra = forced_tag if forced_tag in WRONG_REGIMES and forced_tag != "generic" else None
        if extra is None and forced_tag is None and rng.random() < 0.5:
            extra = str(rng.choice(WRONG_REGIMES[1:]))
        if extra:
            tags.append(extra)
        return tags
    primary = forced_tag if forced_tag in REGIMES else str(rng.choice(REGIMES))
    tags = [primary]
    if rng.random() < 0.35:
        for t in rng.choice(COMBINE, size=int(rng.integers(1, 3)), replace=False):
            tags.append(str(t))
    tags = list(dict.fromkeys(tags))
    # incompatible combinations: keep the primary
    drop = set()
    if "batch1" in tags and "identical" in tags:
        drop.add("identical" if primary != "identical" else "batch1")
    if "zero_grad" in tags:
        drop |= {"l2", "saturated"}
    if "overflow_loss" in tags:
        drop |= {"float32", "scaled", "tiny_weights", "zero_grad"}
    if "width1" in tags and ("cce_sigmoid1" in tags or "softmax_out" in tags or
                             "dead_relu" in tags or "relu_ties" in tags):
        drop.add("width1")
    if "deep" in tags and "width1" in tags and primary not in ("deep", "width1"):
        drop.add("deep")
    if "saturated" in tags and primary in ("dead_relu", "relu_ties", "tiny_weights", "scaled"):
        drop.add("saturated")
    return [t for t in tags if t not in drop or t == primary]


def build_case(seed, index, style=None, tag=None):
    """The case (seed, index), optionally with its style and primary regime forced."""
    import zlib
    forced = zlib.crc32(f"{style or ''}/{tag or ''}".encode()) if (style or tag) else 0
    rng = np.random.default_rng([int(seed), int(index), forced, 7])
    names = list(STYLES) + list(WRONGS)
    forced_style = style
    if style is None:
        kind = "wrong" if rng.random() < 0.3 else "correct"
        style = str(rng.choice(list(WRONGS) if kind == "wrong" else list(STYLES)))
    elif style not in names:
        raise ValueError(f"unknown style {style!r}; one of {', '.join(names)}")
    kind = "wrong" if style in WRONGS else "correct"
    for attempt in range(300):
        # a forced regime that the style cannot meet is given up after a while
        case = _attempt(rng, seed, index, style, kind, tag if attempt < 150 else None)
        if case is not None:
            case.forced_style, case.forced_tag = forced_style, tag
            return case
    raise RuntimeError(f"could not draw a case for {style} / {tag}")


def _attempt(rng, seed, index, style_name, kind, forced_tag):
    style = STYLES.get(style_name)
    wrong = WRONGS.get(style_name)
    tags = _draw_tags(rng, kind, forced_tag)
    if style is not None and "float32" in tags and style.dtypes == ("float64",):
        tags.remove("float32")
        if not tags:
            tags = ["normal"]
    if wrong is not None and wrong.name == "w_float32_10pct":
        tags.append("float32")

    # -- structure ----------------------------------------------------------------------------
    if "deep" in tags:
        L = int(rng.integers(5, 9))
    elif "dead_relu" in tags or "relu_ties" in tags:
        L = int(rng.integers(2, 5))
    else:
        L = int(rng.integers(1, 5))
    if wrong is not None and wrong.name in ("w_transposed_W", "w_code2_sigma_prime_dropped",
                                            "w_step_new_slip"):
        L = max(L, 2)
    if "width1" in tags:
        sizes = [1] * (L + 1)
    elif "deep" in tags:
        sizes = [int(v) for v in rng.integers(1, 4, size=L + 1)]
    else:
        sizes = [int(v) for v in rng.integers(1, 7, size=L + 1)]
    if wrong is not None and wrong.name == "w_transposed_W":
        k = int(rng.integers(2, 6))
        sizes = [sizes[0]] + [k] * L
    pairs = [p for p in PAIRINGS if _pairing_ok(*p, tags, style, wrong)]
    if not pairs:
        return None
    loss, out = pairs[int(rng.integers(len(pairs)))]
    if out == "softmax" and sizes[-1] < 2:
        if "width1" in tags or (wrong is not None and wrong.name == "w_transposed_W"):
            return None
        sizes[-1] = int(rng.integers(2, 7))
    if "cce_sigmoid1" in tags:
        sizes[-1] = 1
    if "generic" in tags:
        hidden_pool = SMOOTH_HIDDEN
    elif "saturated" in tags:
        hidden_pool = ("sigmoid", "tanh")
    elif "relu_ties" in tags:
        hidden_pool = ("relu", "leaky_relu")
    else:
        hidden_pool = HIDDEN
    if rng.random() < 0.5:
        hidden = [str(rng.choice(hidden_pool))] * (L - 1)
    else:
        hidden = [str(rng.choice(hidden_pool)) for _ in range(L - 1)]
    if "dead_relu" in tags:
        hidden[0] = "relu"
    acts = tuple(hidden + [out])
    bias = bool(rng.random() < 0.75) or "dead_relu" in tags or (
        style is not None and style.needs_bias) or (
        wrong is not None and wrong.name == "w_bias_one_example")
    if style is not None and len(style.layouts) == 1:
        layout = style.layouts[0]
    elif wrong is not None and wrong.kind == "step":
        layout = "columns"                   # the step code is written for columns
    else:
        layout = str(rng.choice(["columns", "rows"]))
    if style is not None and style.code_layout is not None and layout != style.code_layout:
        if len(set(sizes)) == 1 and sizes[0] > 1 and (not bias or style.flat_bias):
            # every array square and no bias shape to tell: the code's orientation cannot be
            # known from its arrays, so a config in the other layout describes other code
            layout = style.code_layout
        else:
            tags.append("layout_mismatch")
            if any(sizes[l] == sizes[l + 1] > 1 for l in range(L)):
                tags.append("square_W_mismatch")
    if style is not None and style.lists:
        # two arrays of a list-holding class whose shapes agree up to a transpose
        shapes = [frozenset([(sizes[l + 1], sizes[l]), (sizes[l], sizes[l + 1])])
                  for l in range(L)] + ([frozenset([(sizes[l + 1], 1), (1, sizes[l + 1])])
                                         for l in range(L)] if bias else [])
        if len(set(shapes)) < len(shapes):
            tags.append("shape_collision")
    if style_name == "h2_python_course_train" and m_hint_fits(sizes, layout):
        tags.append("one_example_code_fits_batch")
    reduction = str(rng.choice(["sum", "batch_mean", "mean"]))
    l2 = float(10 ** rng.uniform(-3, 0)) if ("l2" in tags or (
        wrong is not None and wrong.name == "w_missing_l2")) else 0.0
    if "zero_grad" in tags:
        l2 = 0.0
    if "batch1" in tags:
        m = 1
    elif kind == "wrong":
        m = int(rng.integers(2, 7))
    else:
        m = int(rng.integers(1, 9))
    if wrong is not None and wrong.name == "w_missing_1_over_m" and reduction == "sum":
        reduction = str(rng.choice(["batch_mean", "mean"]))
    dtype = "float64"
    if style is not None and "float32" in tags:
        dtype = str(rng.choice([d for d in style.dtypes if d != "float64"]))
    if wrong is not None and wrong.name == "w_float32_10pct":
        dtype = str(rng.choice(["float32", "float32_as_64"]))
    form = str(rng.choice(style.forms)) if style is not None else "direct"
    prime_from = str(rng.choice(style.prime_from)) if style is not None else "a"
    if form == "jacobian" and out != "softmax":
        form = "chain"
    if form != "direct" and loss in ("half_squared_error", "squared_error") and out != "softmax":
        form = "direct"
    cfg = Cfg(tuple(sizes), acts, loss, bias, layout, reduction, l2, dtype, form, prime_from,
              naive=style_name == "n_naive_formulas")
    if wrong is not None and not wrong.needs({"L": L, "loss": loss, "acts": acts, "bias": bias,
                                               "m": m, "reduction": reduction, "l2": l2}):
        return None

    # -- numbers --------------------------------------------------------------------------------
    n = sizes
    if "generic" in tags:
        W = [_signed(rng, (n[l + 1], n[l]), 0.25, 1.5) for l in range(L)]
        b = [_signed(rng, (n[l + 1], 1), 0.25, 1.5) for l in range(L)]
        x = _signed(rng, (n[0], m), 0.25, 1.5)
    elif "relu_ties" in tags:
        W = [rng.integers(-2, 3, size=(n[l + 1], n[l])).astype(float) for l in range(L)]
        b = [rng.integers(-2, 3, size=(n[l + 1], 1)).astype(float) for l in range(L)]
        x = rng.integers(-2, 3, size=(n[0], m)).astype(float)
    else:
        W = [rng.standard_normal((n[l + 1], n[l])) / np.sqrt(n[l]) for l in range(L)]
        b = [rng.standard_normal((n[l + 1], 1)) for l in range(L)]
        x = rng.standard_normal((n[0], m))
    if "saturated" in tags:
        W = [w * rng.uniform(10, 50) for w in W]
    if "tiny_weights" in tags:
        W = [w * 1e-3 for w in W]
    if "huge_inputs" in tags:
        x = x * 1e3
    scale = 1.0
    if "scaled" in tags:
        scale = float(10 ** rng.uniform(-3, 3))
        W, b, x = [w * scale for w in W], [v * scale for v in b], x * scale
    if "identical" in tags:
        x = np.repeat(x[:, :1], m, axis=1)
    if "dead_relu" in tags:
        # layer 1 dead for every example: b1 below -(|W1| |x|) by a wide margin
        b[0] = -(np.abs(W[0]) @ np.abs(x)).max(axis=1, keepdims=True) - rng.uniform(
            1, 1000, size=(n[1], 1))
    if "extreme_logits" in tags:
        zs, _ = forward64(replace(cfg, bias=True), W, b, x)
        top = float(np.max(np.abs(zs[-1])))
        if top > 0:
            T = float(10 ** rng.uniform(np.log10(50), np.log10(700)))
            W[-1], b[-1] = W[-1] * (T / top), b[-1] * (T / top)
    if "overflow_loss" in tags:
        # outputs near 1e155..1e300: (a - y)^2 overflows, the configured C is not finite
        zs, _ = forward64(replace(cfg, bias=True), W, b, x)
        top = float(np.max(np.abs(zs[-1])))
        if top > 0:
            T = float(10 ** rng.uniform(155, 300))
            W[-1], b[-1] = W[-1] * (T / top), b[-1] * (T / top)
    if "small_output_z" in tags:
        zs, _ = forward64(replace(cfg, bias=True), W, b, x)
        top = float(np.max(np.abs(zs[-1])))
        if top > 0:
            T = float(10 ** rng.uniform(-8, -2))
            W[-1], b[-1] = W[-1] * (T / top), b[-1] * (T / top)
    if not bias:
        b = None
    # targets
    if "zero_grad" in tags:
        _, a = forward64(cfg, W, b, x)
        y = a[-1].copy()
        if not np.all(np.isfinite(y)):
            return None                      # the targets themselves overflowed: draw again
    elif loss in ("half_squared_error", "squared_error"):
        y = rng.standard_normal((n[-1], m)) * (scale if "scaled" in tags else 1.0)
        if "relu_ties" in tags:
            y = np.round(y)
    elif loss == "binary_cross_entropy":
        y = rng.uniform(0, 1, size=(n[-1], m))
    else:
        y = np.eye(n[-1])[:, rng.integers(0, n[-1], size=m)]
    if "identical" in tags:
        y = np.repeat(y[:, :1], m, axis=1)

    case = Case(int(seed), int(index), style_name, kind, tags, cfg, W, b, x, y)
    if wrong is not None:
        case.impl_kind = "step" if wrong.kind == "step" else None
        if wrong.name == "w_planted_1e-6":
            base = str(rng.choice(["a_batched", "b_nielsen_loop", "d_einsum"]
                                  if layout == "columns" else ["c_rows_xW"]))
            case.plant = {"base": base, "factor": 1 + 1e-6}
        elif wrong.name == "w_float32_10pct":
            case.plant = {"base": "a_batched" if layout == "columns" else "c_rows_xW",
                          "factor": 1.1, "index": None}
        if case.plant is not None:
            ref = reference(case)
            names = [k for k in ref if np.any(ref[k] != 0)]
            if not names:
                return None
            name = str(rng.choice(names))
            case.plant["name"] = name
            if wrong.name == "w_planted_1e-6":
                case.plant["index"] = int(np.argmax(np.abs(ref[name])))   # layout shape
    if not _applicable(case):
        return None
    case.undefined = _undefined(case)
    return case


def m_hint_fits(sizes, layout):
    """python-course's ``np.array(v, ndmin=2).T`` takes a whole batch without an error when the
    batch arrives as rows (gradcheck passes rows when every weight is square and the config is
    rows): a one-example code then silently computes a batch sum."""
    return layout == "rows" and len(set(sizes)) == 1


def _applicable(case):
    """Whether the style's arithmetic is valid on this case (else it is our bug, not
    gradcheck's): the chain-rule deltas divide by a and 1 - a, and float32 code must be able to
    hold the numbers at all."""
    cfg = case.cfg
    dt = cfg.dt
    zs, a = forward64(cfg, case.W, case.b, case.x, dt)
    out = a[-1]
    if not all(np.all(np.isfinite(v)) for v in a):
        # the user's forward overflows: kept only where the configured loss is not finite either
        # (an undefined regime); code that overflows where the true C is finite is our bug
        with np.errstate(all="ignore"):
            x, y = case.batch()
            return dt == np.float64 and not np.isfinite(case.network().cost(x, y))
    if cfg.form in ("chain", "jacobian") and cfg.loss in ("binary_cross_entropy",
                                                          "categorical_cross_entropy"):
        # -y / a, (a - y) / (a (1 - a)): NaN where the computed output is exactly 0 or 1
        # (1 / a must be finite too: a subnormal a overflows -y / a)
        if np.any(out < 4 / np.finfo(dt).max) or (cfg.loss == "binary_cross_entropy"
                                                   and np.any(out == 1)):
            return False
    if dt == np.float32:
        ref = reference(case)
        top = max(float(np.max(np.abs(g), initial=0)) for g in ref.values())
        zmax = max(float(np.max(np.abs(z))) for z in zs)
        if not np.isfinite(top) or top > 1e30 or zmax > 1e30:
            return False
    return True


def _undefined(case):
    """Why the gradient may be genuinely undefined on this batch: a unit of a kinked activation
    at (or within rounding of) z = 0, or a loss that is not finite."""
    cfg = case.cfg
    why = []
    dt = cfg.dt
    for dtype in {np.float64, dt}:
        u = np.finfo(dtype).eps
        zs, a = forward64(cfg, case.W, case.b, case.x, dtype)
        for l in range(cfg.L):
            if cfg.acts[l] in ("relu", "leaky_relu"):
                size = np.abs(case.W[l]) @ np.abs(a[l]) + (np.abs(case.b[l]) if cfg.bias else 0)
                near = np.abs(zs[l]) <= 4 * (cfg.sizes[l] + 2) * u * size
                if np.any(near):
                    why.append(f"kink: layer {l + 1}, {int(near.sum())} unit-example(s) at z = 0"
                               f" ({np.dtype(dtype).name})")
    try:
        with np.errstate(all="ignore"):
            net = case.network()
            x, y = case.batch()
            cost = net.cost(x, y)
        if not np.isfinite(cost):
            why.append(f"loss not finite ({cost})")
    except Exception as e:  # noqa: BLE001
        why.append(f"network not buildable: {e}")
    return sorted(set(why))


# =================================================================================================
# 5. The long-double reference gradient (stable formulas), columns in, layout out
# =================================================================================================
def _ld_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)), np.where(z >= 0, e / (1 + e), 1 / (1 + e))


def _ld_act(name, z):
    if name == "sigmoid":
        return _ld_sigmoid(z)[0]
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0)
    if name == "leaky_relu":
        return np.where(z > 0, z, z * np.longdouble("0.01"))
    if name == "softplus":
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
    if name == "identity":
        return z
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _ld_prime(name, z):
    if name == "sigmoid":
        e = np.exp(-np.abs(z))
        return e / (1 + e) ** 2
    if name == "tanh":
        e = np.exp(-2 * np.abs(z))
        return 4 * e / (1 + e) ** 2
    if name == "relu":
        return (z > 0).astype(np.longdouble)
    if name == "leaky_relu":
        return np.where(z > 0, np.longdouble(1), np.longdouble("0.01"))
    if name == "softplus":
        return _ld_sigmoid(z)[0]
    if name == "elu":
        return np.where(z > 0, np.longdouble(1), np.exp(np.minimum(z, 0)))
    return np.ones_like(z)


def reference(case, dtype=np.longdouble):
    """{name: exact-ish gradient} in the network's layout (float64 values of a long-double
    computation with stable formulas, relu'(0) = 0)."""
    cfg = case.cfg
    ld = dtype
    with np.errstate(all="ignore"):
        W = [w.astype(ld) for w in case.W]
        b = [v.astype(ld) for v in case.b] if cfg.bias else None
        y = case.y.astype(ld)
        a, zs = [case.x.astype(ld)], []
        for l in range(cfg.L):
            z = W[l] @ a[-1] + (b[l] if cfg.bias else 0)
            zs.append(z)
            a.append(_ld_act(cfg.acts[l], z))
        z, out, name = zs[-1], a[-1], cfg.acts[-1]
        if cfg.loss in ("half_squared_error", "squared_error"):
            g = (out - y) * (1 if cfg.loss == "half_squared_error" else 2)
            delta = out * (g - (out * g).sum(axis=0, keepdims=True)) if name == "softmax" \
                else g * _ld_prime(name, z)
        elif cfg.loss == "binary_cross_entropy":
            delta = out - y
        elif name == "softmax":
            delta = out * y.sum(axis=0, keepdims=True) - y
        else:
            delta = -y * _ld_sigmoid(z)[1]
        m = case.x.shape[1]
        r = ld(1) / {"sum": 1, "batch_mean": m, "mean": m * cfg.sizes[-1]}[cfg.reduction]
        grads = {}
        for l in reversed(range(cfg.L)):
            grads[f"W{l + 1}"] = r * (delta @ a[l].T) + 2 * ld(cfg.l2) * W[l]
            if cfg.bias:
                grads[f"b{l + 1}"] = r * delta.sum(axis=1, keepdims=True)
            if l:
                delta = (W[l].T @ delta) * _ld_prime(cfg.acts[l - 1], zs[l - 1])
        lay = (lambda g: g) if cfg.layout == "columns" else (lambda g: g.T)
        return {k: lay(v).astype(np.float64) for k, v in grads.items()}


# =================================================================================================
# 6. Running and classifying
# =================================================================================================
OK, FALSE_ALARM, REFUSAL, UNDEFINED_REFUSAL, MISS, REFUSAL_OF_WRONG, INDISTINGUISHABLE, \
    TIMEOUT, HARNESS_ERROR = ("ok", "FALSE_ALARM", "REFUSAL", "UNDEFINED_REFUSAL", "MISS",
                              "REFUSAL_OF_WRONG", "INDISTINGUISHABLE", "TIMEOUT", "HARNESS_ERROR")
CATEGORIES = (OK, FALSE_ALARM, REFUSAL, UNDEFINED_REFUSAL, MISS, REFUSAL_OF_WRONG,
              INDISTINGUISHABLE, TIMEOUT, HARNESS_ERROR)
BAD = (FALSE_ALARM, REFUSAL, MISS, TIMEOUT, HARNESS_ERROR)


class _Timeout(KeyboardInterrupt):
    """Raised by the per-check alarm.  A KeyboardInterrupt so that gradcheck, which turns every
    other exception from user code into a PluginError, lets it through."""


@contextlib.contextmanager
def _time_cap(seconds):
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def handler(signum, frame):
        raise _Timeout()
    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    category: str
    seconds: float
    passed: bool | None = None
    failing: list = field(default_factory=list)
    error: str = ""
    report: str = ""
    notes: list = field(default_factory=list)
    evidence: dict = field(default_factory=dict)


def _gate(case):
    """For a wrong gradient function: how far it is from the truth, relative per array (the
    largest over arrays).  None for steps."""
    if case.kind != "wrong" or WRONGS[case.style].kind == "step":
        return None
    impl, _, _ = case.impl()
    net = case.network()
    x, y = case.batch()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        nw, nb = impl([w.copy() for w in net.weights],
                      [v.copy() for v in net.biases] if case.cfg.bias else None, x, y)
    got = net.named([np.asarray(g, dtype=float) for g in nw],
                    [np.asarray(g, dtype=float) for g in nb] if nb is not None else None)
    ref = reference(case)
    worst = 0.0
    for k, r in ref.items():
        top = float(np.max(np.abs(r)))
        if top > 0:
            worst = max(worst, float(np.max(np.abs(got[k] - r))) / top)
    if case.plant is not None and case.cfg.dtype != "float64":
        # float32 code: the planted error counts only where it stands out from what the correct
        # float32 code itself gets wrong in that array (lossy forms such as softplus' 1 - e^-a)
        base = STYLES[case.plant["base"]].build(case.cfg)[0]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            bw, bb = base([w.copy() for w in net.weights],
                          [v.copy() for v in net.biases] if case.cfg.bias else None, x, y)
        right = net.named([np.asarray(g, dtype=float) for g in bw],
                          [np.asarray(g, dtype=float) for g in bb] if bb is not None else None)
        k = case.plant["name"]
        top = float(np.max(np.abs(ref[k])))
        own = float(np.max(np.abs(right[k] - ref[k]))) / top
        if worst < 10 * own:
            return 0.0
    return worst


def run_case(case, timeout=20.0):
    from gradcheck import gradcheck
    t0 = time.perf_counter()
    try:
        net = case.network()
        x, y = case.batch()
        impl, kind, spec = case.impl()
        gate = _gate(case)
    except Exception:  # noqa: BLE001
        return Outcome(HARNESS_ERROR, time.perf_counter() - t0, error=traceback.format_exc())
    out = Outcome(OK, 0.0)
    try:
        with _time_cap(timeout), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = gradcheck(net, x, y, impl=impl, impl_kind=kind, impl_spec=spec)
    except _Timeout:
        out.category, out.error = TIMEOUT, f"no verdict within {timeout:g} s"
        out.seconds = time.perf_counter() - t0
        return out
    except Exception as e:  # noqa: BLE001
        out.error = f"{type(e).__name__}: {e}"
        try:
            ref = reference(case)
            out.evidence["true_gradient_max"] = max(float(np.max(np.abs(g))) for g in ref.values())
            out.evidence["param_max"] = float(np.max(np.abs(net.theta)))
        except Exception:  # noqa: BLE001
            pass
        if case.kind == "correct":
            # undefined-regime refusal: the gradient is undefined here (a unit at its kink, a loss
            # that is not finite) *and* the refusal is about that (or about a step that did not
            # move, which a unit held at its kink may cause); a refusal for another reason (the
            # code's parameters not found, a shape error) stays a plain REFUSAL
            about = any(k in out.error for k in ("loss", "kink", "not defined", "decided",
                                                  "did not change the parameters"))
            out.category = UNDEFINED_REFUSAL if (case.undefined and about) or _swamped(
                case, out) else REFUSAL
        else:
            out.category = REFUSAL_OF_WRONG
        out.seconds = time.perf_counter() - t0
        return out
    out.seconds = time.perf_counter() - t0
    out.passed = bool(report.passed)
    out.failing = list(report.failing)
    out.notes = list(report.notes)
    if case.kind == "correct":
        out.category = OK if report.passed else FALSE_ALARM
    else:
        threshold = 1e-7 if not WRONGS[case.style].coarse else 1e-3
        if gate is not None and gate < threshold:
            out.category = INDISTINGUISHABLE
        else:
            out.category = MISS if report.passed else OK
        out.evidence["wrong_vs_truth_relative"] = gate
    if out.category != OK:
        out.report = str(report)
        out.evidence.update(_evidence(case, report))
    return out


def _swamped(case, out):
    """Nothing could be decided because the true gradient (long double) is below the code's own
    rounding: every entry smaller than the unit roundoff of the code's precision times the
    largest parameter.  No difference of losses computed at that precision resolves it, so the
    contract's exit 2 ("nothing can be decided") is the honest answer, not a refusal."""
    g, w = out.evidence.get("true_gradient_max"), out.evidence.get("param_max")
    u = float(np.finfo(np.float32 if case.cfg.dtype != "float64" else np.float64).eps)
    return ("nothing could be decided" in (out.error or "") and g is not None and w is not None
            and g <= u * max(w, 1.0))


def _evidence(case, report):
    """At the worst entries: the code's value, gradcheck's numeric value and tolerance, and the
    long-double truth: tells a tolerance too tight from a numeric side that is off."""
    if not report.arrays:
        return {}
    ref = reference(case)
    rows = []
    nan_tol = sum(int(np.isnan(t).sum()) for _, _, t in report.arrays.values())
    for name, (an, num, tol) in report.arrays.items():
        if name not in ref:
            continue
        with np.errstate(all="ignore"):
            err = np.abs(an - num)
            ratio = np.where(tol > 0, err / tol, np.where(err > 0, np.inf, 0))
        k = int(np.nanargmax(ratio)) if ratio.size and not np.all(np.isnan(ratio)) else 0
        truth = ref[name]
        if truth.shape != an.shape:
            continue
        rows.append({"array": name, "entry": [int(i) for i in np.unravel_index(k, an.shape)],
                     "code": float(an.flat[k]), "numeric": float(num.flat[k]),
                     "truth": float(truth.flat[k]), "tolerance": float(tol.flat[k]),
                     "|code-numeric|/tol": float(ratio.flat[k]),
                     "|code-truth|": float(abs(an.flat[k] - truth.flat[k])),
                     "|numeric-truth|": float(abs(num.flat[k] - truth.flat[k]))})
    rows.sort(key=lambda r: -r["|code-numeric|/tol"])
    return {"worst_entries": rows[:4], "nan_tolerance_entries": nan_tol}


# -- reproducers ----------------------------------------------------------------------------------
def _arr(a):
    return f"np.array({np.asarray(a).tolist()!r})"


def snippet(case):
    """A Python snippet rebuilding the case from its numbers, with the style from this module."""
    c = case.cfg
    net_w = [w if c.layout == "columns" else w.T for w in case.W]
    net_b = [v if c.layout == "columns" else v.T for v in case.b] if c.bias else None
    x, y = case.batch()
    lines = [
        "import sys; sys.path.insert(0, %r)" % str(ROOT),
        "import numpy as np",
        "from backprop import Network",
        "from checks import gradcheck",
        "from tests.harness.networks import Cfg, STYLES, build_wrong",
        f"cfg = Cfg(**{asdict(c)!r})",
        f"net = Network({list(c.sizes)!r}, {list(c.acts)!r}, {c.loss!r}, bias={c.bias}, "
        f"layout={c.layout!r}, reduction={c.reduction!r}, l2={c.l2!r},",
        f"              weights=[{', '.join(_arr(w) for w in net_w)}],",
        "              biases=" + ("[" + ", ".join(_arr(v) for v in net_b) + "]" if c.bias
                                   else "None") + ")",
        f"x = {_arr(x)}",
        f"y = {_arr(y)}",
    ]
    if case.kind == "correct":
        lines.append(f"impl, kind, spec = STYLES[{case.style!r}].build(cfg)")
    else:
        lines.append(f"impl, kind, spec = build_wrong({case.style!r}, cfg, {case.plant!r}), "
                     f"{case.impl_kind!r}, {case.impl_spec!r}")
    lines.append("print(gradcheck(net, x, y, impl=impl, impl_kind=kind, impl_spec=spec))")
    return "\n".join(lines)


def record(case, outcome):
    return {
        "category": outcome.category,
        "style": case.style,
        "kind": case.kind,
        "tags": case.tags,
        "case": case.describe(),
        "undefined": case.undefined,
        "replay": f"python -m tests.harness replay {case.key}",
        "error": outcome.error,
        "failing": outcome.failing,
        "notes": outcome.notes,
        "report": outcome.report,
        "evidence": outcome.evidence,
        "seconds": round(outcome.seconds, 4),
        "snippet": snippet(case),
    }


def signature(case, outcome):
    """A short key grouping outcomes of the same cause."""
    import re
    marks = [t for t in ("shape_collision", "square_W_mismatch", "one_example_code_fits_batch",
                         "layout_mismatch") if t in case.tags]
    where = f" [{marks[0]}]" if marks else ""
    if outcome.evidence.get("nan_tolerance_entries"):
        where += " [tolerance NaN]"
    elif outcome.category == FALSE_ALARM and not marks and case.style != "f_step_return_new" and (
            case.cfg.acts[-1] == "elu" or (case.cfg.naive and case.cfg.acts[-1] in NAIVE)):
        where += " [output activation with absolute rounding (elu = e^z - 1, tanh formula)]"
    if outcome.category == MISS:
        hide = [re.search(r"error below about (\S+) of", n) for n in outcome.notes]
        hide = [h.group(1) for h in hide if h]
        if hide:
            where += f" [gradcheck's note: errors below {hide[0]} of the largest entry may hide]"
    return _signature(case, outcome) + where


def _signature(case, outcome):
    import re
    if outcome.error:
        text = re.sub(r"[-+]?\d[\d.e+-]*", "N", outcome.error.splitlines()[0])
        text = re.sub(r"\S+ returned no gradient", "returned no gradient", text)[:100]
        if outcome.category in (REFUSAL, UNDEFINED_REFUSAL):
            g, w = outcome.evidence.get("true_gradient_max"), outcome.evidence.get("param_max")
            if g is not None:
                text += (" [true gradient = 0]" if g == 0 else
                         " [true gradient < 1e-15 |w|]" if g < 1e-15 * w else
                         " [true gradient nonzero]")
        return f"{outcome.category} | {case.style} | {text}"
    return f"{outcome.category} | {case.style}"


def main(argv=None):
    """``python -m tests.harness networks ...`` (and ``replay``, ``list``): see network_runs."""
    from .network_runs import main as run
    return run(["networks", *(argv or [])])
