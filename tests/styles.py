"""Correct backward passes written the ways people write them, each summing in its own order.

Every function here has the plug-in signature ``style(net)(weights, biases, x, y) -> (nabla_w,
nabla_b)`` in the network's layout, follows the network's loss, reduction and L2 term, and is
right: only the order of the arithmetic (and, for the float32 styles, the precision) differs from
``backprop.variants``.  The tests hold the check to never calling any of them wrong.
"""

import numpy as np


def _cols(net, arrays):
    return [None] + [a.T if net.layout == "rows" else a for a in arrays]


def _out(net, g):
    return g.T if net.layout == "rows" else g


def _finish(net, W, nabla_w, nabla_b, m, dtype=None):
    r = net.scale(m)
    nw = [_out(net, r * g + (2 * net.l2 * w if net.l2 else 0)) for g, w in zip(nabla_w, W[1:])]
    nb = [_out(net, r * g) for g in nabla_b] if net.bias else None
    if dtype is not None:
        nw = [g.astype(dtype) for g in nw]
        nb = None if nb is None else [g.astype(dtype) for g in nb]
    return nw, nb


def batched(net, dtype=np.float64, back_to=None):
    """The textbook matrix form, BP1-BP4 on the whole batch (in ``dtype``)."""
    def grad(weights, biases, x, y):
        W = _cols(net, [w.astype(dtype) for w in weights])
        b = _cols(net, [bb.astype(dtype) for bb in biases]) if net.bias else [None] + [0] * net.L
        x = (x.T if net.layout == "rows" else x).astype(dtype)
        y = (y.T if net.layout == "rows" else y).astype(dtype)
        a, z = [x], [None]
        for l in range(1, net.L + 1):
            z.append(W[l] @ a[-1] + b[l])
            a.append(net.sigmas[l - 1](z[-1]).astype(dtype))
        delta = net.loss.delta(z[-1], a[-1], y, net.sigmas[-1]).astype(dtype)
        nabla_w, nabla_b = [None] * net.L, [None] * net.L
        for l in range(net.L, 0, -1):
            nabla_w[l - 1] = delta @ a[l - 1].T
            nabla_b[l - 1] = delta.sum(axis=1, keepdims=True)
            if l > 1:
                delta = (W[l].T @ delta) * net.sigmas[l - 2].prime(z[l - 1]).astype(dtype)
        out = _finish(net, W, nabla_w, nabla_b, x.shape[1], dtype)
        if back_to is not None:
            out = ([g.astype(back_to) for g in out[0]],
                   None if out[1] is None else [g.astype(back_to) for g in out[1]])
        return out
    return grad


def per_example(net, reverse=False):
    """Nielsen's loop: one example at a time, its gradient added to the running sums (in
    reverse order of the examples with ``reverse``)."""
    def grad(weights, biases, x, y):
        cols_x = x.T if net.layout == "rows" else x
        cols_y = y.T if net.layout == "rows" else y
        m = cols_x.shape[1]
        order = range(m - 1, -1, -1) if reverse else range(m)
        total_w = total_b = None
        single = _single(net)
        for k in order:
            nw, nb = single(weights, biases, cols_x[:, [k]], cols_y[:, [k]])
            total_w = nw if total_w is None else [t + g for t, g in zip(total_w, nw)]
            if net.bias:
                total_b = nb if total_b is None else [t + g for t, g in zip(total_b, nb)]
        W = _cols(net, weights)
        r = net.scale(m)
        nw = [_out(net, r * g + (2 * net.l2 * w if net.l2 else 0)) for g, w in zip(total_w, W[1:])]
        nb = [_out(net, r * g) for g in total_b] if net.bias else None
        return nw, nb
    return grad


def _single(net):
    """The unreduced gradient of one example's loss, columns layout, no L2 term."""
    def grad(weights, biases, x, y):
        W = _cols(net, weights)
        b = _cols(net, biases) if net.bias else [None] + [0] * net.L
        a, z = [x], [None]
        for l in range(1, net.L + 1):
            z.append(W[l] @ a[-1] + b[l])
            a.append(net.sigmas[l - 1](z[-1]))
        delta = net.loss.delta(z[-1], a[-1], y, net.sigmas[-1])
        nw, nb = [None] * net.L, [None] * net.L
        for l in range(net.L, 0, -1):
            nw[l - 1] = np.outer(delta[:, 0], a[l - 1][:, 0])
            nb[l - 1] = delta.copy()
            if l > 1:
                delta = np.dot(W[l].T, delta) * net.sigmas[l - 2].prime(z[l - 1])
        return nw, nb
    return grad


def einsum(net):
    """Every contraction an einsum (numpy's own loops, another summation order than BLAS)."""
    def grad(weights, biases, x, y):
        W = _cols(net, weights)
        b = _cols(net, biases) if net.bias else [None] + [0] * net.L
        x = x.T if net.layout == "rows" else x
        y = y.T if net.layout == "rows" else y
        a, z = [x], [None]
        for l in range(1, net.L + 1):
            z.append(np.einsum("ij,jx->ix", W[l], a[-1], optimize=False) + b[l])
            a.append(net.sigmas[l - 1](z[-1]))
        delta = net.loss.delta(z[-1], a[-1], y, net.sigmas[-1])
        nabla_w, nabla_b = [None] * net.L, [None] * net.L
        for l in range(net.L, 0, -1):
            nabla_w[l - 1] = np.einsum("ix,jx->ij", delta, a[l - 1], optimize=False)
            nabla_b[l - 1] = np.einsum("ix->i", delta)[:, None]
            if l > 1:
                delta = np.einsum("ji,jx->ix", W[l], delta) * net.sigmas[l - 2].prime(z[l - 1])
        return _finish(net, W, nabla_w, nabla_b, x.shape[1])
    return grad


def rows(net):
    """One example per row, x @ W, whatever the network's layout (transposed memory order)."""
    def grad(weights, biases, x, y):
        W = _cols(net, weights)
        Wr = [None] + [np.ascontiguousarray(w.T) for w in W[1:]]
        br = [None] + ([np.ascontiguousarray((bb).T) for bb in _cols(net, biases)[1:]] if net.bias
                       else [0] * net.L)
        X = x if net.layout == "rows" else x.T
        Y = y if net.layout == "rows" else y.T
        a, z = [X], [None]
        for l in range(1, net.L + 1):
            z.append(a[-1] @ Wr[l] + br[l])
            a.append(net.sigmas[l - 1](z[-1].T).T)
        delta = net.loss.delta(z[-1].T, a[-1].T, Y.T, net.sigmas[-1]).T
        nabla_w, nabla_b = [None] * net.L, [None] * net.L
        for l in range(net.L, 0, -1):
            nabla_w[l - 1] = (a[l - 1].T @ delta).T
            nabla_b[l - 1] = delta.sum(axis=0)[:, None]
            if l > 1:
                delta = (delta @ Wr[l].T) * net.sigmas[l - 2].prime(z[l - 1])
        return _finish(net, W, nabla_w, nabla_b, X.shape[0])
    return grad


def largest_first(net):
    """Per-example gradients added in order of decreasing size: a legal, unlucky order."""
    single = _single(net)

    def grad(weights, biases, x, y):
        cols_x = x.T if net.layout == "rows" else x
        cols_y = y.T if net.layout == "rows" else y
        m = cols_x.shape[1]
        parts = [single(weights, biases, cols_x[:, [k]], cols_y[:, [k]]) for k in range(m)]
        W = _cols(net, weights)
        nabla_w, nabla_b = [], []
        for l in range(net.L):
            stack = np.stack([p[0][l] for p in parts])
            order = np.argsort(-np.abs(stack), axis=0)
            nabla_w.append(np.take_along_axis(stack, order, axis=0).cumsum(axis=0)[-1])
            bstack = np.stack([p[1][l] for p in parts])
            border = np.argsort(-np.abs(bstack), axis=0)
            nabla_b.append(np.take_along_axis(bstack, border, axis=0).cumsum(axis=0)[-1])
        return _finish(net, W, nabla_w, nabla_b, m)
    return grad


#: name -> style factory; the float32 ones compute in float32 (returning float32, or float64)
STYLES = {
    "batched": batched,
    "per_example": per_example,
    "per_example_reversed": lambda net: per_example(net, reverse=True),
    "einsum": einsum,
    "rows": rows,
    "largest_first": largest_first,
    "float32": lambda net: batched(net, np.float32),
    "float32_as_float64": lambda net: batched(net, np.float32, back_to=np.float64),
}
